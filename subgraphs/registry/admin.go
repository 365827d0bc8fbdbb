package registry

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxAdminBody caps an admin request body (a subgraph SDL), maxSetBody
// one that publishes several subgraphs.
const (
	maxAdminBody = 8 << 20
	maxSetBody   = 32 << 20
)

// Handler returns the admin API (docs/registry.md): plain JSON over HTTP,
// every request authenticated with "Authorization: Bearer TOKEN". Serve it
// on its own listener, never the public one.
func (r *Registry) Handler(token string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /subgraphs", r.listSubgraphs)
	mux.HandleFunc("GET /subgraphs/{name}", r.getSubgraph)
	mux.HandleFunc("POST /subgraphs/{name}", r.publishOrCheck(false))
	mux.HandleFunc("POST /subgraphs/{name}/check", r.publishOrCheck(true))
	mux.HandleFunc("DELETE /subgraphs/{name}", r.deleteSubgraph)
	mux.HandleFunc("GET /supergraph", r.supergraph)
	mux.HandleFunc("GET /supergraph/history", r.history)
	mux.HandleFunc("POST /supergraph/rollback", r.rollback)
	mux.HandleFunc("POST /supergraph/publish", r.publishSet(false))
	mux.HandleFunc("POST /supergraph/check", r.publishSet(true))
	return RequireToken(token, mux)
}

// RequireToken serves h to requests carrying "Authorization: Bearer
// TOKEN", under the admin deadline of one minute; others get 401. The
// gateway mounts its other admin endpoints (entity cache invalidation)
// behind it on the admin listener.
func RequireToken(token string, h http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		got, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(got))
		if !ok || token == "" || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="fedgate-registry"`)
			writeError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "a valid admin token is required (Authorization: Bearer TOKEN)")
			return
		}
		ctx, cancel := context.WithTimeout(req.Context(), time.Minute)
		defer cancel()
		h.ServeHTTP(w, req.WithContext(ctx))
	})
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var b errorBody
	b.Error.Code, b.Error.Message = code, msg
	writeJSON(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// writeFailure maps a registry error to its status.
func writeFailure(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrInvalid):
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", err.Error())
	case errors.Is(err, ErrUnknownSubgraph):
		writeError(w, http.StatusNotFound, "NOT_FOUND", err.Error())
	case errors.Is(err, ErrConflict):
		writeError(w, http.StatusConflict, "CONFLICT", err.Error())
	default:
		writeError(w, http.StatusServiceUnavailable, "REGISTRY_UNAVAILABLE", err.Error())
	}
}

// writeOutcome answers 200 when the change is accepted (or, for a check,
// always: the body's ok says whether it passed), 422 for composition
// errors and 409 for unforced breaking changes.
func writeOutcome(w http.ResponseWriter, out *Outcome, check bool) {
	status := http.StatusOK
	switch {
	case check:
	case len(out.Errors) > 0:
		status = http.StatusUnprocessableEntity
	case !out.OK:
		status = http.StatusConflict
	}
	writeJSON(w, status, out)
}

type publishBody struct {
	URL        string `json:"url"`
	SDL        string `json:"sdl"`
	Introspect bool   `json:"introspect"`
}

func (r *Registry) publishOrCheck(check bool) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		var body publishBody
		dec := json.NewDecoder(io.LimitReader(req.Body, maxAdminBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil {
			writeError(w, http.StatusBadRequest, "BAD_REQUEST", "body: want JSON {url, sdl} or {url, introspect: true}: "+err.Error())
			return
		}
		pr := PublishRequest{Name: req.PathValue("name"), URL: body.URL, SDL: body.SDL, Introspect: body.Introspect,
			Force: isTrue(req.URL.Query().Get("force"))}
		var out *Outcome
		var err error
		if check {
			out, err = r.Check(req.Context(), pr)
		} else {
			out, err = r.Publish(req.Context(), pr)
		}
		if err != nil {
			writeFailure(w, err)
			return
		}
		writeOutcome(w, out, check)
	}
}

// setBody is the body of POST /supergraph/publish and /supergraph/check.
type setBody struct {
	Subgraphs []struct {
		Name string `json:"name"`
		publishBody
	} `json:"subgraphs"`
}

// publishSet publishes (or checks) several subgraphs as one version.
func (r *Registry) publishSet(check bool) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		var body setBody
		dec := json.NewDecoder(io.LimitReader(req.Body, maxSetBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil {
			writeError(w, http.StatusBadRequest, "BAD_REQUEST", "body: want JSON {subgraphs: [{name, url, sdl} or {name, url, introspect: true}, ...]}: "+err.Error())
			return
		}
		reqs := make([]PublishRequest, len(body.Subgraphs))
		for i, s := range body.Subgraphs {
			reqs[i] = PublishRequest{Name: s.Name, URL: s.URL, SDL: s.SDL, Introspect: s.Introspect}
		}
		var out *Outcome
		var err error
		if check {
			out, err = r.CheckSet(req.Context(), reqs)
		} else {
			out, err = r.PublishSet(req.Context(), reqs, isTrue(req.URL.Query().Get("force")))
		}
		if err != nil {
			writeFailure(w, err)
			return
		}
		writeOutcome(w, out, check)
	}
}

func isTrue(s string) bool { b, _ := strconv.ParseBool(s); return b }

func (r *Registry) deleteSubgraph(w http.ResponseWriter, req *http.Request) {
	out, err := r.Delete(req.Context(), req.PathValue("name"), isTrue(req.URL.Query().Get("force")))
	if err != nil {
		writeFailure(w, err)
		return
	}
	writeOutcome(w, out, false)
}

func (r *Registry) rollback(w http.ResponseWriter, req *http.Request) {
	var body struct {
		Version int64 `json:"version"`
	}
	if err := json.NewDecoder(io.LimitReader(req.Body, 1<<10)).Decode(&body); err != nil || body.Version < 1 {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", "body: want JSON {version: N}, N >= 1")
		return
	}
	out, err := r.Rollback(req.Context(), body.Version)
	if err != nil {
		writeFailure(w, err)
		return
	}
	writeOutcome(w, out, false)
}

// subgraphList is GET /subgraphs.
type subgraphList struct {
	Version   int64      `json:"version"`
	Subgraphs []Subgraph `json:"subgraphs"`
}

func (r *Registry) listSubgraphs(w http.ResponseWriter, req *http.Request) {
	v, err := r.Current(req.Context())
	if err != nil {
		writeFailure(w, err)
		return
	}
	out := subgraphList{Subgraphs: []Subgraph{}}
	if v != nil {
		out.Version = v.Number
		for _, s := range v.Subgraphs {
			s.SDL = ""
			out.Subgraphs = append(out.Subgraphs, s)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (r *Registry) getSubgraph(w http.ResponseWriter, req *http.Request) {
	v, err := r.Current(req.Context())
	if err != nil {
		writeFailure(w, err)
		return
	}
	if v != nil {
		for _, s := range v.Subgraphs {
			if s.Name == req.PathValue("name") {
				writeJSON(w, http.StatusOK, s)
				return
			}
		}
	}
	writeError(w, http.StatusNotFound, "NOT_FOUND", "no such subgraph: "+req.PathValue("name"))
}

func (r *Registry) supergraph(w http.ResponseWriter, req *http.Request) {
	v, err := r.Current(req.Context())
	if err != nil {
		writeFailure(w, err)
		return
	}
	if v == nil {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "nothing published yet")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"version": v.Number, "sdl": v.Supergraph})
}

// historyEntry is one version in GET /supergraph/history.
type historyEntry struct {
	Version   int64             `json:"version"`
	CreatedAt time.Time         `json:"created_at"`
	Reason    string            `json:"reason"`
	Subgraphs map[string]string `json:"subgraphs"` // name -> url
	Current   bool              `json:"current"`
}

func (r *Registry) history(w http.ResponseWriter, req *http.Request) {
	versions, err := r.History(req.Context())
	if err != nil {
		writeFailure(w, err)
		return
	}
	out := []historyEntry{}
	for i, v := range versions {
		e := historyEntry{Version: v.Number, CreatedAt: v.CreatedAt, Reason: v.Reason, Subgraphs: map[string]string{}, Current: i == len(versions)-1}
		for _, s := range v.Subgraphs {
			e.Subgraphs[s.Name] = s.URL
		}
		out = append(out, e)
	}
	writeJSON(w, http.StatusOK, map[string]any{"versions": out})
}
