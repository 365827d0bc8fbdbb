package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/internal/reqerr"
	"github.com/fedgate/gateway/pkg/hooks"
)

// hookState is the per-request state of the compiled-in hooks.
type hookState struct {
	id, method, path string
	claims           map[string]any
	context          map[string]any
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
	return r, x.stage(r.Context(), hooks.RouterRequest, r.Header, "", "", 0)
}

// routerResponse runs the RouterResponse hooks on the response headers h;
// a break replaces the body and status.
func (x *extensions) routerResponse(ctx context.Context, h http.Header, body []byte, status int) ([]byte, int) {
	if err := x.stage(ctx, hooks.RouterResponse, h, "", "", status); err != nil {
		e := reqerr.From(err)
		h.Set("Content-Length", fmt.Sprint(len(reqerr.Body(e))))
		return reqerr.Body(e), e.Status
	}
	return body, status
}

// stage runs the hooks of st in order; the first error stops them and is
// returned as a *reqerr.Error (a *hooks.Break) or as an internal error.
func (x *extensions) stage(ctx context.Context, st hooks.Stage, h http.Header, op, subgraph string, status int) error {
	if x == nil || len(x.hooks) == 0 {
		return nil
	}
	s, _ := ctx.Value(hookStateKey{}).(*hookState)
	if s == nil {
		s = &hookState{id: newRequestID(), context: map[string]any{}}
	}
	var call *hooks.Call
	for i := range x.hooks {
		f := x.hooks[i].For(st)
		if f == nil {
			continue
		}
		if call == nil {
			call = &hooks.Call{Stage: st, ID: s.id, Header: h, Method: s.method, Path: s.path, OperationName: op,
				Subgraph: subgraph, Status: status, Claims: s.claims, Context: s.context}
		}
		if err := f(ctx, call); err != nil {
			return hookError(st, err)
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
}

// Fetch implements executor.Transport.
func (t hookTransport) Fetch(ctx context.Context, subgraph string, req *executor.Request) (*executor.Response, error) {
	if t.req {
		h := req.Header.Clone()
		if h == nil {
			h = http.Header{}
		}
		if err := t.x.stage(ctx, hooks.SubgraphRequest, h, "", subgraph, 0); err != nil {
			return nil, fetchError(err)
		}
		r := *req
		r.Header = h
		req = &r
	}
	resp, err := t.next.Fetch(ctx, subgraph, req)
	if err != nil || !t.resp {
		return resp, err
	}
	h := resp.Header
	if h == nil {
		h = http.Header{}
	}
	if err := t.x.stage(ctx, hooks.SubgraphResponse, h, "", subgraph, http.StatusOK); err != nil {
		if resp.Release != nil {
			resp.Release()
		}
		return nil, fetchError(err)
	}
	return resp, nil
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
