package server

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/internal/reqerr"
	"github.com/fedgate/gateway/limits"
	"github.com/fedgate/gateway/pkg/hooks"
	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
	"github.com/fedgate/gateway/server/request"
	"github.com/fedgate/gateway/subscriptions"
	"github.com/vektah/gqlparser/v2/ast"
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

// reloaded tells the stream handler that sg is now served.
func (h *streamsHolder) reloaded(sg *schema.Supergraph) {
	if p := h.h.Load(); p != nil {
		(*p).Reload(sg.API)
	}
}

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
			return nil, id, &subscriptions.RequestError{Status: reqerr.Status(err), Body: reqerr.Body(err)}
		}
	}
	caller, err := s.sec.authn.Authenticate(r)
	if err != nil {
		return nil, id, &subscriptions.RequestError{Status: reqerr.Status(err), Body: reqerr.Body(err)}
	}
	if exp, ok := caller.Claims["exp"].(float64); ok && exp > 0 && exp < math.MaxInt32*4 {
		id.Expires = time.Unix(int64(exp), 0)
	}
	r = r.WithContext(auth.WithCaller(r.Context(), caller))
	// The hooks' RouterRequest (hooks.go): the stream's HTTP request.
	if r, err = s.ext.routerRequest(r); err != nil {
		return nil, id, &subscriptions.RequestError{Status: reqerr.Status(err), Body: reqerr.Body(err)}
	}
	// The per-client limits of subscriptions count clients as the rate
	// limits do (limits.clients: JWT claim, API key, address behind the
	// address_header of a trusted proxy); without a policy, as the default
	// limits.clients would (subject, then address, IPv6 by /64).
	if s.opts.Policy != nil {
		id.Client = s.opts.Policy.Identify(r).ID
	} else {
		id.Client = defaultClients.Identify(r).ID
	}
	return r, id, nil
}

// ClientOf is the key of the per-client limits of streams for r before
// it is authenticated: its API key or address, as the rate limits
// identify an anonymous caller.
func (s *Server) ClientOf(r *http.Request) string {
	if s.opts.Policy != nil {
		return s.opts.Policy.Identify(r).ID
	}
	return defaultClients.Identify(r).ID
}

// defaultClients identifies subscription clients when no limits policy
// is configured.
var defaultClients = limits.NewIdentifier(limits.DefaultConfig().Clients)

// Prepare runs the request pipeline for an operation a stream transport
// received from the caller of r (Admit put the caller in its context): a
// query or mutation is executed and its response returned (a mutation in
// a GET is refused with 405, as over HTTP; the WebSocket transport passes
// a POST, its operations arrive as messages); a
// subscription is validated, authorized, checked against the static
// limits, cost and rate limits, and planned.
func (s *Server) Prepare(ctx context.Context, r *http.Request, req request.Request) (*subscriptions.Prepared, *subscriptions.RequestError) {
	// rh receives the rate limit's headers: a refusal's Retry-After is
	// the RequestError's.
	rh := http.Header{}
	fail := func(body []byte, status int) (*subscriptions.Prepared, *subscriptions.RequestError) {
		e := &subscriptions.RequestError{Status: status, Body: body}
		if secs, err := strconv.Atoi(rh.Get("Retry-After")); err == nil && secs > 0 && status == http.StatusTooManyRequests {
			e.RetryAfter = time.Duration(secs) * time.Second
		}
		return nil, e
	}
	rt := s.rt.Load()
	failErr := func(err error) (*subscriptions.Prepared, *subscriptions.RequestError) {
		e := reqerr.From(err)
		return fail(reqerr.Body(e), e.Status)
	}
	// A client the rate limit refused is refused again from its identity
	// alone until its window refills (rateWall), as an HTTP request is:
	// a flood of operations over a WebSocket costs a map lookup each.
	client := s.ClientOf(r)
	if err := s.admitClient(rh, client); err != nil {
		return failErr(err)
	}
	// An operation of a stream counts against max_inflight_per_client
	// and max_inflight_requests as an HTTP request does, from here until
	// it is planned (a subscription) or answered (a query or mutation;
	// with @defer, until its last payload or until ctx ends): a client's
	// WebSockets do not add up to more.
	if s.slots != nil && !s.slots.take(client, s.busy()) {
		rh.Set("Retry-After", s.retryAfter())
		return failErr(errClientInflight)
	}
	release, ok := s.admitStreamOperation(ctx)
	if !ok {
		if s.slots != nil {
			s.slots.release(client)
		}
		return failErr(errOverloaded)
	}
	if s.slots != nil {
		global := release
		release = func() { global(); s.slots.release(client) }
	}
	defer func() { release() }()
	// The hooks (hooks.go): the stream's state, and SupergraphRequest for
	// every operation, before anything reads it.
	ctx = withHookState(ctx, r)
	if err := s.supergraphRequest(ctx, r, &req); err != nil {
		return failErr(err)
	}
	ctx = context.WithValue(ctx, supergraphRequestRan{}, true)
	resolved, err := s.caches.persisted.Resolve(ctx, req.Query, req.Extensions)
	if err != nil {
		return failErr(err)
	}
	query := resolved.Query
	hash := s.hashes.hash(query)
	// A document refused before admission still counts one request
	// against the client's rate limit, as over HTTP (chargeInvalid).
	invalid := func(err error) (*subscriptions.Prepared, *subscriptions.RequestError) {
		return failErr(s.chargeInvalid(ctx, r, rh, err))
	}
	d, err := s.document(ctx, rt, query, hash, func(*ast.QueryDocument) error { return nil })
	if err != nil {
		return invalid(err)
	}
	if d.err != nil {
		return invalid(d.err)
	}
	if len(d.errs) > 0 {
		return invalid(validationError(d.errs, !s.introspectable(ctx, rt)))
	}
	op := selectOperation(d.doc, req.OperationName)
	if op == nil || op.Operation != ast.Subscription {
		// A query with @defer is delivered incrementally: each payload
		// is a next message of the stream.
		meta := &responseMeta{incremental: true}
		body, status, _ := s.operation(ctx, rt, r, rh, &req, meta)
		if meta.stream != nil {
			done, run := release, meta.stream
			release = func() {}
			stop := context.AfterFunc(ctx, done) // the transport may never run it
			return &subscriptions.Prepared{Incremental: func(emit func([]byte) bool) {
				defer func() {
					if stop() {
						done()
					}
				}()
				run(emit)
			}}, nil
		}
		if status != http.StatusOK {
			return fail(body, status)
		}
		return &subscriptions.Prepared{Result: append([]byte(nil), body...)}, nil
	}
	if err := d.opErrs[op]; err != nil {
		return invalid(err)
	}
	coerced, forwarded, err := coerceVariables(rt, op, req.Variables, !s.introspectable(ctx, rt))
	if err != nil {
		return invalid(err)
	}
	grants := rt.authz.Grants(auth.CallerFrom(ctx))
	entry, err := s.plan(rt, hash, d, op, coerced, grants, activeLabels(rt.sg.OverrideLabels))
	if err != nil {
		return failErr(err)
	}
	if entry.reject != nil {
		return failErr(rejection(entry.reject))
	}
	// A null @skip/@include condition among the root fields: they cannot
	// be collected (the field error a query answers with data null), so
	// there is nothing to subscribe to. The plan holds __typename alone
	// there, which the single root field rule below would let through.
	if sh := entry.plan.Shape; sh != nil {
		if null, _ := sh.Root.NullCondition(sh.RootType); null {
			return failErr(&reqerr.Error{Code: "BAD_USER_INPUT", Message: planner.NullConditionMessage, Status: 400})
		}
	}
	// A subscription selects exactly one root field (the spec's Single
	// root field rule, which the validator leaves to the executor).
	if fields := entry.plan.Operation.Selection.FieldsFor(entry.plan.Operation.RootType); len(fields) != 1 {
		return failErr(&reqerr.Error{Code: "GRAPHQL_VALIDATION_FAILED", Message: "a subscription must select exactly one top-level field", Status: 400})
	}
	if _, err := s.admit(ctx, r, rh, rt, entry, coerced); err != nil {
		return failErr(err)
	}
	s.caches.persisted.Register(ctx, resolved)
	// The subscription starts: the hooks' ExecutionRequest.
	if _, err := s.ext.stageBody(ctx, hooks.ExecutionRequest, r.Header, op.Name, 0, func() []byte { return requestJSON(&req, query) }); err != nil {
		return failErr(err)
	}
	sp, err := planner.SplitSubscription(entry.plan)
	if err != nil {
		return failErr(&reqerr.Error{Code: "QUERY_PLANNING_FAILED", Message: limits.Clip(err.Error(), 256), Status: 500})
	}
	in := executor.Input{Variables: forwarded, RedactErrors: s.opts.redactErrors,
		InvalidValuesAsErrors: s.opts.InvalidValuesAsErrors}
	s.subgraphHeaders(&in, r)
	// What the events' completion depends on besides variables and
	// headers: the document, the operation, the caller's grants (the
	// render shape) and the plan itself (the @override labels drawn).
	pj, _ := json.Marshal(sp)
	key := string(hash[:]) + "\x00" + op.Name + "\x00" + grants.Key + "\x00" + string(pj) + "\x00" + s.hookShareKey(ctx)
	// The events' fetches run the Subgraph hooks with the subscriber's
	// hook state (its Context and claims), as its requests' fetches do.
	var transport executor.Transport = rt.transport
	if st, _ := ctx.Value(hookStateKey{}).(*hookState); st != nil && s.hookShareKey(ctx) != "" {
		transport = stateTransport{next: transport, st: st}
	}
	return &subscriptions.Prepared{Plan: sp, Input: in, Transport: transport, OperationName: op.Name, API: rt.sg.API, Key: key,
		Respond: s.eventHook(ctx, op.Name)}, nil
}

// stateTransport runs the fetches of a subscription's events with the
// hook state of the request that subscribed.
type stateTransport struct {
	next executor.Transport
	st   *hookState
}

// Fetch implements executor.Transport.
func (t stateTransport) Fetch(ctx context.Context, subgraph string, req *executor.Request) (*executor.Response, error) {
	return t.next.Fetch(context.WithValue(ctx, hookStateKey{}, t.st), subgraph, req)
}

// Unwrap returns the wrapped transport.
func (t stateTransport) Unwrap() executor.Transport { return t.next }
