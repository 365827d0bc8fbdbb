package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/executor"
)

// security is what the server builds from Options.Auth: the
// authenticator, the header rules and CORS. The authorizer belongs to a
// supergraph version and lives in the runtime.
type security struct {
	authn  *auth.Authenticator
	prop   *auth.Propagation
	cors   *auth.CORS
	cancel context.CancelFunc
}

// newSecurity builds the security stages of cfg and fetches the key sets
// once (their refresh runs until Close).
func newSecurity(cfg auth.Config) (*security, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	authn, err := auth.NewAuthenticator(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	authn.Start(ctx)
	return &security{authn: authn, prop: auth.NewPropagation(cfg.Headers), cors: auth.NewCORS(cfg.CORS), cancel: cancel}, nil
}

// Close stops the background work of the server: key set refreshes, the
// caches and the entity invalidation listener. Requests still running are
// served uncached.
func (s *Server) Close() {
	if s.sec != nil && s.sec.cancel != nil {
		s.sec.cancel()
	}
	s.closeCaches()
}

// admitCaller runs the checks that come before a request is decoded: CORS (a
// preflight is answered here), CSRF (for a GET, in execute), and
// authentication. It returns the
// request with the caller in its context, or false when it has answered.
func (s *Server) admitCaller(w http.ResponseWriter, r *http.Request, contentType string) (*http.Request, bool) {
	if s.sec.cors.Handle(w, r) {
		return nil, false
	}
	// A GET is checked once its operation is known (execute): a GET
	// mutation is answered 405 whatever its headers, and executes nothing.
	if r.Method != http.MethodGet {
		if err := auth.CheckCSRF(r, s.opts.Auth.CSRF); err != nil {
			writeError(w, contentType, err)
			return nil, false
		}
	}
	caller, err := s.sec.authn.Authenticate(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeError(w, contentType, err)
		return nil, false
	}
	return r.WithContext(auth.WithCaller(r.Context(), caller)), true
}

// subgraphHeaders sets the headers subgraph requests carry, following the
// header rules: one set for every subgraph, or one per subgraph (built
// when first needed) when some subgraph has rules of its own.
func (s *Server) subgraphHeaders(in *executor.Input, r *http.Request) {
	p := s.sec.prop
	if p == nil {
		return
	}
	caller := auth.CallerFrom(r.Context())
	if !p.PerSubgraph() {
		in.Header = p.Header(r, caller, "")
		return
	}
	var mu sync.Mutex
	built := map[string]http.Header{}
	in.HeaderFor = func(subgraph string) http.Header {
		mu.Lock()
		defer mu.Unlock()
		h, ok := built[subgraph]
		if !ok {
			h = p.Header(r, caller, subgraph)
			built[subgraph] = h
		}
		return h
	}
}

// rejectionBody is the 403 answer of reject mode: one error per path the
// caller may not see, no data.
func rejectionBody(err error) []byte {
	var rej *auth.RejectionError
	if !errors.As(err, &rej) {
		return errorBody(err)
	}
	type pathError struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	}
	out := make([]pathError, 0, len(rej.Denied))
	for _, d := range rej.Denied {
		out = append(out, pathError{Message: auth.UnauthorizedMessage, Path: d.Path,
			Extensions: map[string]any{"code": auth.UnauthorizedCode}})
	}
	b, jerr := json.Marshal(struct {
		Errors []pathError `json:"errors"`
	}{out})
	if jerr != nil {
		return errorBody(fmt.Errorf("%s", auth.UnauthorizedMessage))
	}
	return b
}
