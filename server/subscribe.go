package server

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"math"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/limits"
	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/server/request"
	"github.com/fedgate/gateway/subscriptions"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator"
)

// This file is the seam between the request pipeline and the streaming
// transports of package subscriptions: the Server is their
// subscriptions.Gateway, and ServeHTTP hands them the requests they claim.

// streams is the handler of the streaming transports, nil until
// HandleStreams.
type streamsHolder struct {
	h atomic.Pointer[subscriptions.Handler]
}

var _ subscriptions.Gateway = (*Server)(nil)

// HandleStreams routes the requests h claims (WebSocket upgrades, GraphQL
// over SSE, multipart subscriptions) to it, ahead of the request
// deadline and in-flight accounting of ordinary requests: a stream lives
// as long as its subscriptions.
func (s *Server) HandleStreams(h subscriptions.Handler) { s.streams.h.Store(&h) }

// serveStream serves r when a stream handler claims it.
func (s *Server) serveStream(w http.ResponseWriter, r *http.Request) bool {
	h := s.streams.h.Load()
	if h == nil || !(*h).Claims(r) {
		return false
	}
	(*h).ServeHTTP(w, r)
	return true
}

// Admit runs CORS, CSRF (when csrf is set: the HTTP transports) and
// authentication for a stream transport.
func (s *Server) Admit(w http.ResponseWriter, r *http.Request, csrf bool) (*http.Request, subscriptions.Identity, *subscriptions.RequestError) {
	var id subscriptions.Identity
	if w != nil && s.sec.cors.Handle(w, r) {
		return nil, id, &subscriptions.RequestError{Status: http.StatusNoContent}
	}
	if csrf {
		if err := auth.CheckCSRF(r, s.opts.Auth.CSRF); err != nil {
			return nil, id, &subscriptions.RequestError{Status: statusOf(err), Body: errorBody(err)}
		}
	}
	caller, err := s.sec.authn.Authenticate(r)
	if err != nil {
		return nil, id, &subscriptions.RequestError{Status: statusOf(err), Body: errorBody(err)}
	}
	id.Client = caller.Subject
	if !caller.Authenticated {
		id.Client = "ip:" + clientIP(r)
	}
	if exp, ok := caller.Claims["exp"].(float64); ok && exp > 0 && exp < math.MaxInt32*4 {
		id.Expires = time.Unix(int64(exp), 0)
	}
	return r.WithContext(auth.WithCaller(r.Context(), caller)), id, nil
}

// clientIP is the remote address without its port.
func clientIP(r *http.Request) string {
	a := r.RemoteAddr
	for i := len(a) - 1; i >= 0; i-- {
		if a[i] == ':' {
			return a[:i]
		}
	}
	return a
}

// Prepare runs the request pipeline for an operation a stream transport
// received from the caller of r (Admit put the caller in its context): a
// query or mutation is executed and its response returned; a
// subscription is validated, authorized, checked against the static
// limits, cost and rate limits, and planned.
func (s *Server) Prepare(ctx context.Context, r *http.Request, req request.Request) (*subscriptions.Prepared, *subscriptions.RequestError) {
	fail := func(body []byte, status int) (*subscriptions.Prepared, *subscriptions.RequestError) {
		return nil, &subscriptions.RequestError{Status: status, Body: body}
	}
	// Stream transports are never GETs as far as the pipeline goes: a
	// WebSocket upgrade is one, but its operations arrive as messages.
	if r.Method == http.MethodGet {
		r = r.Clone(ctx)
		r.Method = http.MethodPost
	}
	rt := s.rt.Load()
	query, err := s.resolveQuery(ctx, queryRequest{query: req.Query, extensions: req.Extensions})
	if err != nil {
		return fail(errorBody(err), statusOf(err))
	}
	hash := sha256.Sum256([]byte(query))
	d := s.document(ctx, rt, query, hash)
	if d.err != nil {
		return fail(errorBody(d.err), statusOf(d.err))
	}
	if len(d.errs) > 0 {
		return fail(validationBody(d.errs), http.StatusBadRequest)
	}
	op := d.doc.Operations.ForName(req.OperationName)
	if req.OperationName == "" && len(d.doc.Operations) > 1 {
		op = nil
	}
	if op == nil || op.Operation != ast.Subscription {
		h := http.Header{}
		body, status := s.execute(ctx, rt, r, h, &req, &responseMeta{})
		if status != http.StatusOK {
			return fail(body, status)
		}
		return &subscriptions.Prepared{Result: append([]byte(nil), body...)}, nil
	}
	vars := map[string]any{}
	if len(req.Variables) > 0 {
		if err := json.Unmarshal(req.Variables, &vars); err != nil {
			return fail(errorBody(&requestError{code: "BAD_USER_INPUT", msg: "variables must be a JSON object", status: 400}), 400)
		}
	}
	coerced, verr := validator.VariableValues(rt.sg.API, op, vars)
	if verr == nil {
		verr = checkVariables(rt.sg.API, op, coerced)
	}
	if verr != nil {
		return fail(errorBody(&requestError{code: "BAD_USER_INPUT", msg: limits.Clip(verr.Error(), 256), status: 400}), 400)
	}
	forwarded := req.Variables
	if len(coerced) > 0 {
		if b, err := json.Marshal(coerced); err == nil {
			forwarded = b
		}
	}
	grants := rt.authz.Grants(auth.CallerFrom(ctx))
	entry, err := s.plan(rt, hash, d, op, coerced, grants)
	if err != nil {
		return fail(errorBody(err), statusOf(err))
	}
	if entry.reject != nil {
		return fail(rejectionBody(entry.reject), statusOf(entry.reject))
	}
	// A subscription selects exactly one root field (the spec's Single
	// root field rule, which the validator leaves to the executor).
	if fields := entry.plan.Operation.Selection.FieldsFor(entry.plan.Operation.RootType); len(fields) != 1 {
		return fail(errorBody(&requestError{code: "GRAPHQL_VALIDATION_FAILED", msg: "a subscription must select exactly one top-level field", status: 400}), 400)
	}
	if _, refused, status := s.admit(ctx, r, http.Header{}, rt, entry.plan.Operation, coerced); refused != nil {
		return fail(refused, status)
	}
	sp, err := planner.SplitSubscription(entry.plan)
	if err != nil {
		return fail(errorBody(&requestError{code: "QUERY_PLANNING_FAILED", msg: err.Error(), status: 500}), 500)
	}
	in := executor.Input{Variables: forwarded}
	s.subgraphHeaders(&in, r)
	// What the events' completion depends on besides variables and
	// headers: the document, the operation, the caller's grants (the
	// render shape) and the plan itself (the @override labels drawn).
	pj, _ := json.Marshal(sp)
	key := string(hash[:]) + "\x00" + op.Name + "\x00" + grants.Key + "\x00" + string(pj)
	return &subscriptions.Prepared{Plan: sp, Input: in, Transport: rt.transport, OperationName: op.Name, Key: key}, nil
}
