package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"unsafe"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/internal/reqerr"
	"github.com/fedgate/gateway/pkg/hooks"
	"github.com/fedgate/gateway/server/request"
)

// hookState is the per-request state of the compiled-in hooks.
type hookState struct {
	id, method, path string
	claims           map[string]any
	context          map[string]any
	// contextMu guards context between stages that run at once: the
	// Subgraph stages share it (they only read, or bring their own
	// locking), every other stage holds it alone. An incremental
	// (@defer) answer runs SupergraphResponse on each part while the
	// next parts' fetches run their Subgraph stages; without it, a
	// coprocessor's context rewrite (or a Go hook's write) beside their
	// reads ended the process: concurrent map iteration and map write.
	contextMu sync.RWMutex
}

type hookStateKey struct{}

// hooksAt reports whether some hook runs at stage st.
func (x *extensions) hooksAt(st hooks.Stage) bool {
	if x == nil {
		return false
	}
	for i := range x.hooks {
		if x.hooks[i].For(st) != nil {
			return true
		}
	}
	return false
}

// routerRequest starts the hooks' state of r and runs the RouterRequest
// hooks on its headers.
func (x *extensions) routerRequest(r *http.Request) (*http.Request, error) {
	if x == nil || len(x.hooks) == 0 {
		return r, nil
	}
	st := &hookState{id: newRequestID(), method: r.Method, path: r.URL.Path, context: map[string]any{}}
	if c := auth.CallerFrom(r.Context()); c != nil && c.Authenticated {
		st.claims = c.Claims
	}
	r = r.WithContext(context.WithValue(r.Context(), hookStateKey{}, st))
	call := &hooks.Call{Stage: hooks.RouterRequest, Header: r.Header}
	if x.bodies[hooks.RouterRequest] && r.Method == http.MethodPost && r.Body != nil && !isMultipart(r) {
		// The raw body, read here under the body cap and the budget of
		// the bodies being read, as the decoder reads one (it reads what
		// the hooks leave). Before, this read took nothing from
		// server.max_reading_bytes: with a RouterRequest body hook (a
		// coprocessor's router.request.body) any number of bodies were
		// read into memory at once.
		raw, err := request.ReadAll(r.Body, x.maxBody, x.reading)
		if err != nil {
			return r, err
		}
		call.Body = raw
	}
	if err := x.run(r.Context(), call); err != nil {
		return r, err
	}
	if call.Body != nil {
		r.Body = io.NopCloser(bytes.NewReader(call.Body))
		r.ContentLength = int64(len(call.Body))
	}
	return r, nil
}

// isMultipart reports a multipart/form-data request (an upload), whose
// body streams and is not given to the hooks.
func isMultipart(r *http.Request) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Type"))), "multipart/")
}

// routerResponse runs the RouterResponse hooks on the response headers h
// (and the body, when they read it); a break replaces the body and status.
func (x *extensions) routerResponse(ctx context.Context, h http.Header, body []byte, status int) ([]byte, int) {
	out, err := x.stageBody(ctx, hooks.RouterResponse, h, "", status, func() []byte { return body })
	if err != nil {
		e := reqerr.From(err)
		h.Set("Content-Length", fmt.Sprint(len(reqerr.Body(e))))
		return reqerr.Body(e), e.Status
	}
	if out != nil {
		body = out
	}
	return body, status
}

// stage runs the hooks of st in order; the first error stops them and is
// returned as a *reqerr.Error (a *hooks.Break) or as an internal error.
func (x *extensions) stage(ctx context.Context, st hooks.Stage, h http.Header, op, subgraph string, status int) error {
	if !x.hooksAt(st) {
		return nil
	}
	return x.run(ctx, &hooks.Call{Stage: st, Header: h, OperationName: op, Subgraph: subgraph, Status: status})
}

// stageBody is stage with a body, for the stages that have one: body()
// builds it when a hook asked for it (hooks.Hooks.Bodies), and the body
// a hook left is returned, nil when there was none to rewrite.
func (x *extensions) stageBody(ctx context.Context, st hooks.Stage, h http.Header, op string, status int, body func() []byte) ([]byte, error) {
	if !x.hooksAt(st) {
		return nil, nil
	}
	call := &hooks.Call{Stage: st, Header: h, OperationName: op, Status: status}
	if x.bodies[st] {
		call.Body = body()
	}
	err := x.run(ctx, call)
	return call.Body, err
}

// bodyAt reports whether a hook reads the body at st.
func (x *extensions) bodyAt(st hooks.Stage) bool { return x != nil && x.bodies[st] }

// run runs the hooks of call.Stage on call, completed with the request's
// hook state.
func (x *extensions) run(ctx context.Context, call *hooks.Call) error {
	s, _ := ctx.Value(hookStateKey{}).(*hookState)
	if s == nil {
		s = &hookState{id: newRequestID(), context: map[string]any{}}
	}
	call.ID, call.Method, call.Path, call.Claims, call.Context = s.id, s.method, s.path, s.claims, s.context
	if call.Stage == hooks.SubgraphRequest || call.Stage == hooks.SubgraphResponse {
		s.contextMu.RLock()
		defer s.contextMu.RUnlock()
	} else {
		s.contextMu.Lock()
		defer s.contextMu.Unlock()
	}
	if x.sdl != nil {
		call.SDL = x.sdl()
	}
	for i := range x.hooks {
		f := x.hooks[i].For(call.Stage)
		if f == nil {
			continue
		}
		if err := f(ctx, call); err != nil {
			return hookError(call.Stage, err)
		}
	}
	return nil
}

// hookError is the request error of a hook's error.
func hookError(st hooks.Stage, err error) error {
	var b *hooks.Break
	if !errors.As(err, &b) {
		return fmt.Errorf("hook at %s: %w", st, err)
	}
	e := &reqerr.Error{Code: b.Code, Message: b.Message, Status: b.Status}
	if e.Code == "" {
		e.Code = "REQUEST_REJECTED"
	}
	if e.Status < 400 || e.Status > 599 {
		e.Status = http.StatusForbidden
	}
	return e
}

// hookTransport runs the Subgraph stages around each fetch.
type hookTransport struct {
	x    *extensions
	next executor.Transport
	req  bool // some hook runs at SubgraphRequest
	resp bool // some hook runs at SubgraphResponse
	// urlOf returns a subgraph's URL (Call.URI), nil when the transport
	// does not say.
	urlOf func(string) string
}

// Fetch implements executor.Transport.
func (t hookTransport) Fetch(ctx context.Context, subgraph string, req *executor.Request) (*executor.Response, error) {
	id := newRequestID()
	if t.req {
		h := req.Header.Clone()
		if h == nil {
			h = http.Header{}
		}
		call := &hooks.Call{Stage: hooks.SubgraphRequest, Header: h, Subgraph: subgraph, SubgraphRequestID: id}
		if t.urlOf != nil {
			call.URI = t.urlOf(subgraph)
		}
		if t.x.bodies[hooks.SubgraphRequest] {
			call.Body = req.Body
		}
		if err := t.x.run(ctx, call); err != nil {
			return nil, fetchError(err)
		}
		r := *req
		r.Header = h
		if call.Body != nil {
			r.Body = call.Body
		}
		req = &r
	}
	resp, err := t.next.Fetch(ctx, subgraph, req)
	if err != nil || !t.resp {
		return resp, err
	}
	h := resp.Headers()
	if h == nil {
		h = http.Header{}
	}
	call := &hooks.Call{Stage: hooks.SubgraphResponse, Header: h, Subgraph: subgraph, Status: http.StatusOK, SubgraphRequestID: id}
	if t.x.bodies[hooks.SubgraphResponse] {
		call.Body = resp.Body
	}
	if err := t.x.run(ctx, call); err != nil {
		if resp.Release != nil {
			resp.Release()
		}
		return nil, fetchError(err)
	}
	if call.Body != nil && !sameSlice(call.Body, resp.Body) {
		// The hooks' body replaces the subgraph's answer.
		r := *resp
		r.Body = call.Body
		if !within(call.Body, resp.Body) {
			// A body of the hooks' own: the answer's buffer goes back
			// now. One made of the answer (trimmed, or appended to in
			// its spare capacity) keeps it until the response's
			// Release: given back, the buffer would take another
			// fetch's answer while this one is read.
			if resp.Release != nil {
				resp.Release()
			}
			r.Release = nil
		}
		resp = &r
	}
	return resp, nil
}

// within reports whether a starts inside the array of b (up to its
// capacity).
func within(a, b []byte) bool {
	if cap(a) == 0 || cap(b) == 0 {
		return false
	}
	pa := uintptr(unsafe.Pointer(unsafe.SliceData(a)))
	pb := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return pa >= pb && pa < pb+uintptr(cap(b))
}

// sameSlice reports whether a and b are the same bytes in memory.
func sameSlice(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// Unwrap returns the wrapped transport.
func (t hookTransport) Unwrap() executor.Transport { return t.next }

// fetchError is the fetch failure of a hook's error at a Subgraph stage.
func fetchError(err error) error {
	var e *reqerr.Error
	if errors.As(err, &e) {
		return &executor.FetchError{Code: e.Code, Message: e.Message}
	}
	return &executor.FetchError{Code: "INTERNAL_SERVER_ERROR", Message: "internal error in a hook"}
}

// newRequestID returns a random request id for the hooks.
func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// supergraphRequest runs the SupergraphRequest hooks; a body they
// rewrite replaces the GraphQL request.
func (s *Server) supergraphRequest(ctx context.Context, hr *http.Request, req *request.Request) error {
	out, err := s.ext.stageBody(ctx, hooks.SupergraphRequest, hr.Header, req.OperationName, 0, func() []byte { return requestJSON(req, req.Query) })
	if err != nil || out == nil || !s.ext.bodyAt(hooks.SupergraphRequest) {
		return err
	}
	reqs, batched, err := request.DecodeBody(out, request.Options{MaxBodyBytes: s.ext.maxBody})
	if err != nil || batched || len(reqs) != 1 {
		return fmt.Errorf("the SupergraphRequest hooks' body is not one GraphQL request: %w", err)
	}
	*req = reqs[0]
	return nil
}

// requestJSON is the GraphQL request req (with query as its document) as
// the hooks see it.
func requestJSON(req *request.Request, query string) []byte {
	m := map[string]any{"query": query}
	if req.OperationName != "" {
		m["operationName"] = req.OperationName
	}
	if len(req.Variables) > 0 {
		m["variables"] = json.RawMessage(req.Variables)
	}
	if len(req.Extensions) > 0 {
		m["extensions"] = json.RawMessage(req.Extensions)
	}
	b, _ := json.Marshal(m)
	return b
}

// supergraphRequestRan marks a context whose SupergraphRequest hooks have
// run (a subscription transport's operation, Prepare).
type supergraphRequestRan struct{}

// deferPartHook returns the hook of the parts of an incremental (@defer)
// answer: the ExecutionResponse, then the SupergraphResponse hooks run on
// each part before it is sent, as Apollo Router's coprocessor does for
// each chunk; a rewritten body replaces the part, and a break ends the
// stream with a last part carrying its error (the status is sent
// already). The second result reports that last part. Header is empty: a
// part has no headers of its own. nil when no hook runs there. Before,
// ExecutionResponse did not run for a stream at all: a hook that rewrites
// or scrubs answers there was passed by adding @defer to an operation.
func (s *Server) deferPartHook(ctx context.Context, op string) func([]byte) ([]byte, bool) {
	stages := s.responseStages()
	if len(stages) == 0 {
		return nil
	}
	return func(part []byte) ([]byte, bool) {
		out, err := s.runResponseStages(ctx, stages, op, part)
		if err != nil {
			last, _ := json.Marshal(map[string]any{"hasNext": false, "errors": hookErrorList(err)})
			return last, true
		}
		return out, false
	}
}

// eventHook returns the response hooks of a subscription's events
// (subscriptions.Prepared.Respond): ExecutionResponse, then
// SupergraphResponse run on each event before it is sent to this
// subscriber, with its hook state (ctx's), as on each part of a @defer
// answer; a rewritten body replaces the event, and a break ends the
// subscription with its error. Header is empty, as for a part. Each
// call's context has ctx's values and ends when stop does (the stream's
// events outlive Prepare's ctx). nil when no hook runs there. Before,
// the events passed no response hook: a hook or coprocessor scrubbing
// answers there was passed by subscribing.
func (s *Server) eventHook(ctx context.Context, op string) func(stop context.Context, event []byte) (out, errs []byte) {
	stages := s.responseStages()
	if len(stages) == 0 {
		return nil
	}
	values := context.WithoutCancel(ctx)
	return func(stop context.Context, event []byte) ([]byte, []byte) {
		ctx, cancel := context.WithCancel(values)
		defer cancel()
		defer context.AfterFunc(stop, cancel)()
		// The event is shared by the subscribers of a group: each
		// subscriber's hooks get a copy.
		out, err := s.runResponseStages(ctx, stages, op, append([]byte(nil), event...))
		if err != nil {
			errs, _ := json.Marshal(hookErrorList(err))
			return nil, errs
		}
		return out, nil
	}
}

// responseStages are the stages of a streamed answer's parts or events
// that some hook runs at, in the order they run.
func (s *Server) responseStages() []hooks.Stage {
	var stages []hooks.Stage
	for _, st := range []hooks.Stage{hooks.ExecutionResponse, hooks.SupergraphResponse} {
		if s.ext.hooksAt(st) {
			stages = append(stages, st)
		}
	}
	return stages
}

// runResponseStages runs the hooks of stages on body (a part or an event,
// status 200) and returns it as they left it, or their error.
func (s *Server) runResponseStages(ctx context.Context, stages []hooks.Stage, op string, body []byte) ([]byte, error) {
	for _, st := range stages {
		out, err := s.ext.stageBody(ctx, st, http.Header{}, op, http.StatusOK, func() []byte { return body })
		if err != nil {
			return nil, err
		}
		if out != nil {
			body = out
		}
	}
	return body, nil
}

// hookErrorList is a hook's error as a list of one GraphQL error.
func hookErrorList(err error) []any {
	e := reqerr.From(err)
	return []any{map[string]any{"message": e.Message, "extensions": map[string]any{"code": e.Code}}}
}

// withHookState returns ctx with hook state of its own for one operation
// of a stream, begun from the state of its request (ctx's, or r's): the
// same ID and a copy of the Context. The operations of one WebSocket run
// at once, so they must not share the connection's Context map (hooks
// writing to it from two operations ended the process: concurrent map
// writes).
func withHookState(ctx context.Context, r *http.Request) context.Context {
	st, _ := ctx.Value(hookStateKey{}).(*hookState)
	if st == nil && r != nil {
		st, _ = r.Context().Value(hookStateKey{}).(*hookState)
	}
	if st == nil {
		return ctx
	}
	st.contextMu.RLock()
	op := &hookState{id: st.id, method: st.method, path: st.path, claims: st.claims, context: maps.Clone(st.context)}
	st.contextMu.RUnlock()
	return context.WithValue(ctx, hookStateKey{}, op)
}
