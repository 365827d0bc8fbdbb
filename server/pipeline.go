package server

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"runtime/debug"
	rtrace "runtime/trace"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/cache"
	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/internal/reqerr"
	"github.com/fedgate/gateway/internal/varerrors"
	"github.com/fedgate/gateway/internal/wideint"
	"github.com/fedgate/gateway/limits"
	"github.com/fedgate/gateway/pkg/hooks"
	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/server/joinwrite"
	"github.com/fedgate/gateway/server/request"
	"github.com/fedgate/gateway/telemetry"
	"github.com/fedgate/gateway/uploads"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator"
)

// The request pipeline, in the order its stages run: cheap refusals first,
// so that nothing a refused request sends costs a parse.
//
// Per HTTP request (serveGraphQL):
//
//  1. playground        a browser's GET of a GraphQL path gets the page
//  2. CORS              a preflight is answered here
//  3. CSRF              every method but GET (headers only)
//  4. authenticate      JWT -> caller (headers only)
//  5. read and decode   body deadline, size cap, read budget; a multipart
//     upload reads operations and map only (uploads.go)
//  6. admission         max_inflight_requests, once the body is read
//
// Per operation (operation), each stage a value or a *reqerr.Error:
//
//  7. persisted         trusted documents, APQ lookup (nothing stored yet)
//  8. parse             nesting prescan, token limit
//  9. GET checks        a GET mutation is 405; then CSRF for GET
//  10. static limits     depth, aliases, fields, field-merge work
//  11. validate          against the API schema; documents cached by hash
//  12. variables         coercion
//  13. authorize, plan   opaque: grants decide what the plan holds
//  14. cost and rate     the client's budget (limits.Policy)
//  15. APQ registration  only documents that got this far
//  16. answer            inbound dedupe, response cache, execute
//
// Compiled-in hooks and the coprocessor (pkg/hooks, hooks.go) run at
// RouterRequest after authenticate, SupergraphRequest before persisted,
// ExecutionRequest before answer, the Subgraph stages around each fetch, then ExecutionResponse, SupergraphResponse and
// RouterResponse before the answer is written.
//
// Every error is a *reqerr.Error, and reqerr.Body writes every error body.
func (s *Server) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	if s.servePlayground(w, r) {
		return
	}
	defer rtrace.StartRegion(r.Context(), regionRequest).End()
	contentType := responseType(r.Header.Get("Accept"))
	defer func() {
		// A bug must cost one request, not the process or the connection:
		// answer 500 with a plain GraphQL error and log the panic.
		if p := recover(); p != nil {
			slog.Error("panic serving request", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			reqerr.Write(w, contentType, reqerr.Internal)
		}
	}()
	if s.sec.cors.Handle(w, r) {
		return
	}
	if r.Method != http.MethodGet {
		// A GET is checked once its operation is known (GET checks): a
		// GET mutation is answered 405 whatever its headers.
		if err := auth.CheckCSRF(r, s.opts.Auth.CSRF); err != nil {
			reqerr.Write(w, contentType, err)
			return
		}
	}
	caller, err := s.sec.authn.Authenticate(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		reqerr.Write(w, contentType, err)
		return
	}
	r = r.WithContext(auth.WithCaller(r.Context(), caller))
	r, err = s.ext.routerRequest(r)
	// The hooks' labels, as the request's stages leave their Context
	// (a RouterRequest Break included).
	defer s.ext.recordLabels(r.Context())
	if err != nil {
		reqerr.Write(w, contentType, err)
		return
	}
	var client string // who the rate limits and max_inflight_per_client count
	if s.opts.Policy != nil || s.slots != nil {
		client = s.ClientOf(r)
	}
	if err := s.admitClient(w.Header(), client); err != nil {
		reqerr.Write(w, contentType, err)
		return
	}
	if client != "" && s.budgetHeld != nil {
		telemetry.RequestInfoFrom(r.Context()).SetLimitsClient(client)
	}
	var reqs []request.Request
	var batched bool
	if boundary, ok := s.isUpload(r); ok {
		// A multipart request of the GraphQL multipart request spec
		// (uploads.go): its files stay in the body for the fetches.
		u, req, err := s.decodeUpload(w, r, boundary, client)
		if err != nil {
			reqerr.Write(w, contentType, err)
			return
		}
		defer u.Close()
		reqs = []request.Request{req}
		r = r.WithContext(uploads.NewContext(r.Context(), u))
	} else if reqs, batched, err = s.decode(w, r); err != nil {
		reqerr.Write(w, contentType, err)
		return
	}
	// Only now, with the body read, does the request count against
	// max_inflight_per_client and max_inflight_requests: a slow client
	// holds no admission slot.
	held := false // a client slot taken for this request (or its batch's running operation)
	if s.slots != nil {
		if !s.slots.take(client, s.busy()) {
			s.refuseClient(w, r)
			return
		}
		held = true
		defer func() {
			if held {
				s.slots.release(client)
			}
		}()
	}
	release, ok := s.admitInflight(w, r)
	if !ok {
		return
	}
	defer release()
	rt := s.rt.Load()
	if batched {
		// The operations of a batch run one after another, each under
		// a slot of the caller (max_inflight_per_client) taken when it
		// starts, and each reserving from the execution memory budget
		// the answers of those before it too (batchAnswers): a batch
		// holds no more of either than its operations one by one would.
		ctx := r.Context()
		var answers *batchAnswers
		if s.budget != nil {
			answers = &batchAnswers{}
			ctx = context.WithValue(ctx, batchAnswersKey{}, answers)
		}
		out := []byte{'['}
		// The entries added to out take from the writing budget until
		// the answer is written (unread.go).
		entries := &batchAnswer{s: s, client: client}
		defer entries.release()
		for i := range reqs {
			if i > 0 {
				out = append(out, ',')
				if s.slots != nil {
					if held {
						s.slots.release(client)
					}
					if held = s.slots.take(client, s.busy()); !held {
						out = s.refuseBatched(w, r, out)
						continue
					}
				}
			}
			var meta responseMeta
			body, _, _ := s.operation(ctx, rt, r, w.Header(), &reqs[i], &meta)
			applyHeaders(w.Header(), &meta)
			body = entries.add(r, w.Header(), body, meta.mutation)
			out = append(out, body...)
			if answers != nil {
				answers.bytes.Add(int64(len(body)))
			}
		}
		out = append(out, ']')
		out, status := s.ext.routerResponse(r.Context(), w.Header(), out, http.StatusOK)
		w.Header().Set("Content-Type", contentType)
		s.writeAnswer(w, r, status, out)
		return
	}
	meta := responseMeta{incremental: acceptsIncremental(r.Header.Get("Accept"))}
	body, status, httpLevel := s.operation(r.Context(), rt, r, w.Header(), &reqs[0], &meta)
	if meta.stream != nil {
		writeMultipart(r.Context(), w, meta.stream) // defer.go
		return
	}
	if !httpLevel {
		status = legacyStatus(contentType, status)
	}
	if status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", "POST")
	}
	applyHeaders(w.Header(), &meta)
	out, status := s.ext.routerResponse(r.Context(), w.Header(), body, status)
	if !sameSlice(out, body) {
		// The hooks' body (or their error's) is not a response buffer
		// of the server: recycled, a body a hook keeps and returns
		// again would take the next response. The buffer it replaces
		// may be what it is made of, so neither goes back.
		body, meta.shared = out, true
	}
	// An answer waiting for its client to read it takes from the writing
	// budget until it is written (unread.go).
	holder, ok := s.holdAnswer(w, r, client, body, meta.shared, meta.mutation)
	if !ok {
		if !meta.shared {
			putBuffer(body)
		}
		return
	}
	defer s.releaseAnswer(holder, body, meta.shared)
	// Canonical names set directly, the usual values shared: each Set
	// made a one-element slice per answer. net/http copies the values
	// when it writes the head, and a value slice's length is its capacity,
	// so an Add to one of these names makes its own.
	h := w.Header()
	h["Content-Type"] = headerValue(contentType)
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	if meta.cacheControl != "" {
		h["Cache-Control"] = headerValue(withCookies(meta.cacheControl, h))
		if vary := s.varyHeader(); vary != "" && meta.cacheControl != "no-store" {
			w.Header().Add("Vary", vary)
		}
	}
	if meta.age != "" {
		w.Header().Set("Age", meta.age)
	}
	s.writeAnswer(w, r, status, body)
	if !meta.shared {
		putBuffer(body)
	}
}

// writeAnswer writes an answer's status and body within
// HTTPOptions.WriteTimeout: a client that does not read is cut at the
// deadline, so it holds the handler, the body and its admission slot no
// longer than that. net/http flushes what is left under the same
// deadline when the handler returns, then lifts it for the connection's
// next request.
//
// On a plain HTTP/1.1 connection of the gateway's listener a body larger
// than net/http's buffer goes out with the status line and headers in one
// system call instead of two (package joinwrite).
func (s *Server) writeAnswer(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	defer rtrace.StartRegion(r.Context(), regionWrite).End()
	if t := s.opts.HTTP.WriteTimeout; t > 0 {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(t))
	}
	w.WriteHeader(status)
	_ = joinwrite.WriteBody(w, r, body)
}

// operation runs one GraphQL request of an HTTP request (stages 8-17) and
// returns its body and status. h receives the rate limit headers.
// httpLevel reports a refusal of the HTTP request itself (CSRF, a
// multipart upload), whose
// status no media type changes.
func (s *Server) operation(ctx context.Context, rt *runtime, hr *http.Request, h http.Header, req *request.Request, meta *responseMeta) (body []byte, status int, httpLevel bool) {
	body, status, err := s.runOperation(ctx, rt, hr, h, req, meta)
	if err == nil && meta.stream == nil { // a stream runs the stage per part (deferParts)
		var out []byte
		out, err = s.ext.stageBody(ctx, hooks.SupergraphResponse, h, req.OperationName, status, func() []byte { return body })
		if out != nil && !sameSlice(out, body) {
			body, meta.shared = out, true // not a pooled buffer
		}
	}
	if err != nil {
		e := reqerr.From(err)
		if e == reqerr.Internal {
			slog.Error("request failed", "err", limits.Clip(err.Error(), 512))
		}
		return reqerr.Body(e), e.Status, e.Code == auth.CSRFError.Code || uploads.IsUploadError(e)
	}
	return body, status, false
}

func (s *Server) runOperation(ctx context.Context, rt *runtime, hr *http.Request, h http.Header, req *request.Request, meta *responseMeta) ([]byte, int, error) {
	if ctx.Value(supergraphRequestRan{}) == nil {
		if err := s.supergraphRequest(ctx, hr, req); err != nil {
			return nil, 0, err
		}
	}
	// 8. persisted queries and trusted documents.
	resolved, err := s.caches.persisted.Resolve(ctx, req.Query, req.Extensions)
	if err != nil {
		return nil, 0, err
	}
	query := resolved.Query
	hash := s.hashes.hash(query)
	// 9-12. parse, GET checks, static limits, validation.
	d, err := s.document(ctx, rt, query, hash, func(doc *ast.QueryDocument) error { return s.getChecks(hr, doc, req.OperationName) })
	if err != nil {
		return nil, 0, s.chargeInvalid(ctx, hr, h, err)
	}
	if d.err != nil {
		return nil, 0, s.chargeInvalid(ctx, hr, h, d.err)
	}
	op := selectOperation(d.doc, req.OperationName)
	if op != nil {
		telemetry.RequestInfoFrom(ctx).SetOperation(limits.Clip(op.Name, maxLoggedName), hash)
	}
	if len(d.errs) > 0 {
		return nil, 0, s.chargeInvalid(ctx, hr, h, validationError(d.errs, !s.introspectable(ctx, rt)))
	}
	if op == nil {
		msg := "operationName is required when the document has several operations"
		if req.OperationName != "" {
			msg = "unknown operation named \"" + limits.Clip(req.OperationName, 64) + "\""
		}
		return nil, 0, s.chargeInvalid(ctx, hr, h, &reqerr.Error{Code: "GRAPHQL_VALIDATION_FAILED", Message: msg, Status: 400})
	}
	if err := d.opErrs[op]; err != nil {
		return nil, 0, s.chargeInvalid(ctx, hr, h, err)
	}
	if d.introspects[op] {
		return nil, 0, s.chargeInvalid(ctx, hr, h, errIntrospectionDisabled)
	}
	// A mutation's answer is never refused once it ran (unread.go).
	meta.mutation = op.Operation == ast.Mutation
	if op.Operation == ast.Subscription {
		return nil, 0, &reqerr.Error{Code: "SUBSCRIPTIONS_NOT_SUPPORTED", Message: "subscriptions are not supported over this transport", Status: 400}
	}
	if err := uploadChecks(ctx, rt.sg.API, op); err != nil {
		return nil, 0, err
	}
	// 13. variables.
	coerced, forwarded, err := coerceVariables(rt, op, req.Variables, !s.introspectable(ctx, rt))
	if err != nil {
		return nil, 0, s.chargeInvalid(ctx, hr, h, err)
	}
	// 14. authorization and planning (opaque).
	_, planSpan := s.startSpan(ctx, telemetry.SpanPlan)
	grants := rt.authz.Grants(auth.CallerFrom(ctx))
	labels := activeLabels(rt.sg.OverrideLabels)
	entry, err := s.plan(rt, hash, d, op, coerced, grants, labels)
	planSpan.End()
	if err != nil {
		return nil, 0, err
	}
	if entry.reject != nil {
		return nil, 0, rejection(entry.reject)
	}
	expectUploads(ctx, entry.plan)
	// 15. cost and rate admission.
	adm, err := s.admit(ctx, hr, h, rt, entry, coerced)
	if err != nil {
		return nil, 0, err
	}
	// 16. APQ registration, only of what got this far.
	s.caches.persisted.Register(ctx, resolved)
	// The body is sent, not taken back: the operation is planned.
	if _, err := s.ext.stageBody(ctx, hooks.ExecutionRequest, hr.Header, op.Name, 0, func() []byte { return requestJSON(req, query) }); err != nil {
		return nil, 0, err
	}
	// 17. the answer.
	includePlan := s.opts.ExposePlan && hr.Header.Get("Fedgate-Include-Plan") == "true"
	a := answerInput{rt: rt, hr: hr, d: d, op: op, hash: hash, coerced: coerced, forwarded: forwarded,
		entry: entry, grants: grants, labels: labels, includePlan: includePlan}
	if meta.incremental && entry.plan.Defer != nil {
		meta.stream = s.incrementalRun(ctx, &a) // defer.go
		return nil, http.StatusOK, nil
	}
	out, status := s.answer(ctx, &a, meta)
	if err := uploadError(ctx); err != nil {
		// A file over a limit or a stalled body: no subgraph got the
		// file whole, and the client hears why, at once. The rest of the
		// body is not read: net/http would first wait for up to 256 KiB
		// more of it (a client that stalls: until the body's deadline),
		// so the body ends with the answer (closeUnreadBody).
		if hr.ProtoMajor < 2 {
			h.Set("Connection", "close")
		}
		switch reqerr.Status(err) {
		case http.StatusServiceUnavailable, http.StatusTooManyRequests: // the spool budget, or the client's share, is spent
			h.Set("Retry-After", s.retryAfter())
		}
		return nil, 0, err
	}
	if rewritten, err := s.ext.stageBody(ctx, hooks.ExecutionResponse, h, op.Name, status, func() []byte { return out }); err != nil {
		return nil, 0, err
	} else if rewritten != nil && !sameSlice(rewritten, out) {
		out, meta.shared = rewritten, true // not a pooled buffer
	}
	if status != http.StatusOK {
		return out, status, nil
	}
	var ext []extension
	if includePlan {
		if pj, err := json.Marshal(entry.plan); err == nil {
			ext = append(ext, extension{"queryPlan", pj})
		}
	}
	if c := s.finishCost(ctx, adm, rt, entry.plan.Operation, coerced, out); c != nil {
		ext = append(ext, extension{"cost", c})
	}
	if len(ext) > 0 && meta.shared {
		// The body belongs to a cache or to other requests: extend a copy.
		out = append(getBuffer(), out...)
		meta.shared = false
	}
	return appendExtensions(out, ext), http.StatusOK, nil
}

// maxLoggedName is the most bytes of a client's operation name that reach
// the request log, metrics and traces.
const maxLoggedName = 128

// selectOperation returns the operation req names, nil when there is
// none (or no name was given and there are several).
func selectOperation(doc *ast.QueryDocument, name string) *ast.OperationDefinition {
	if doc == nil || name == "" && len(doc.Operations) > 1 {
		return nil
	}
	return doc.Operations.ForName(name)
}

// getChecks are the checks of a GET, between parsing and validation: a
// mutation (or subscription) is answered 405 whatever else is wrong with
// the document, then CSRF prevention applies. doc is nil when the
// document did not parse.
func (s *Server) getChecks(hr *http.Request, doc *ast.QueryDocument, name string) error {
	if hr.Method != http.MethodGet {
		return nil
	}
	if op := selectOperation(doc, name); op != nil && op.Operation != ast.Query {
		return &reqerr.Error{Code: "METHOD_NOT_ALLOWED", Message: "only queries may be sent with GET", Status: http.StatusMethodNotAllowed}
	}
	return auth.CheckCSRF(hr, s.opts.Auth.CSRF)
}

// validationError is one error per validation failure.
func validationError(errs gqlerror.List, hideSuggestions bool) *reqerr.Error {
	var out *reqerr.Error
	for _, e := range errs {
		msg := e.Message
		if hideSuggestions {
			msg = withoutSuggestion(msg)
		}
		re := &reqerr.Error{Code: "GRAPHQL_VALIDATION_FAILED", Message: limits.Clip(msg, 512), Status: http.StatusBadRequest}
		for _, l := range e.Locations {
			re.Locations = append(re.Locations, reqerr.Location{Line: l.Line, Column: l.Column})
		}
		if out == nil {
			out = re
		} else {
			out.More = append(out.More, re)
		}
	}
	return out
}

// withoutSuggestion cuts the "Did you mean ...?" that gqlparser's rules
// end a message with: it names fields, arguments, types or enum values
// of the schema close to what the client wrote, enough to rebuild a
// schema by guessing when introspection is off.
func withoutSuggestion(msg string) string {
	if i := strings.Index(msg, " Did you mean "); i >= 0 {
		return msg[:i]
	}
	return msg
}

// introspectable reports whether the caller of ctx may introspect the
// schema: introspection is on (server.introspection) and, with
// auth.authorization.introspection_scope, the caller has the scope.
func (s *Server) introspectable(ctx context.Context, rt *runtime) bool {
	return s.opts.Introspection && rt.authz.Grants(auth.CallerFrom(ctx)).Introspection
}

// rejection is the 403 answer of reject mode (one error per path the
// caller may not see, no data) and of __schema without the introspection
// scope (auth.Authorizer.Rejection).
func rejection(err error) *reqerr.Error {
	var rej *auth.RejectionError
	if !errors.As(err, &rej) || len(rej.Denied) == 0 {
		return &reqerr.Error{Code: auth.UnauthorizedCode, Message: auth.UnauthorizedMessage, Status: http.StatusForbidden}
	}
	msg := auth.UnauthorizedMessage
	if rej.Introspection {
		msg = auth.IntrospectionDeniedMessage
	}
	var out *reqerr.Error
	for _, d := range rej.Denied {
		e := &reqerr.Error{Code: auth.UnauthorizedCode, Message: msg, Status: http.StatusForbidden, Path: d.Path}
		if out == nil {
			out = e
		} else {
			out.More = append(out.More, e)
		}
	}
	return out
}

// coerceVariables coerces the request's variables for op and returns them
// with the JSON the subgraphs receive (the coerced values). A refusal is
// worded as graphql-js words it (coercionError), without suggestions of
// schema names with hideSuggestions.
func coerceVariables(rt *runtime, op *ast.OperationDefinition, raw []byte, hideSuggestions bool) (map[string]any, []byte, error) {
	vars, err := declaredVariables(op, raw)
	if err != nil {
		return nil, nil, &reqerr.Error{Code: "BAD_USER_INPUT", Message: "variables must be a JSON object", Status: 400}
	}
	exactIDs(rt.sg.API, op, vars, raw)
	wideint.Defaults(rt.sg.API, op, vars)
	coerced, verr := validator.VariableValues(rt.sg.API, op, vars)
	if verr == nil {
		for name, v := range coerced {
			coerced[name] = plainLists(v)
		}
		verr = checkVariables(rt.sg.API, op, coerced)
	}
	if verr != nil {
		msg := verr.Error()
		var gerr *gqlerror.Error
		if errors.As(verr, &gerr) {
			msg = gerr.Message
			if len(gerr.Path) > 1 {
				msg = fmt.Sprintf("variable $%v: %s", gerr.Path[1], msg)
			}
		}
		if explained := coercionError(rt.sg.API, op, vars, hideSuggestions); explained != nil {
			return nil, nil, explained
		}
		return nil, nil, &reqerr.Error{Code: "BAD_USER_INPUT", Message: limits.Clip(msg, 256), Status: 400}
	}
	var forwarded []byte
	if len(coerced) > 0 {
		b, err := json.Marshal(coerced)
		if err != nil {
			return nil, nil, &reqerr.Error{Code: "BAD_USER_INPUT", Message: "variables cannot be forwarded", Status: 400}
		}
		forwarded = b
	}
	return coerced, forwarded, nil
}

// coercionError words the refusal of vars in graphql-js's words, one
// error per problem located at the variable's definition, as both
// reference gateways answer (varerrors); nil when it finds no problem,
// and then the caller keeps gqlparser's message.
func coercionError(schema *ast.Schema, op *ast.OperationDefinition, vars map[string]any, hideSuggestions bool) *reqerr.Error {
	var out *reqerr.Error
	for _, e := range varerrors.Explain(schema, op, vars, hideSuggestions) {
		re := &reqerr.Error{Code: "BAD_USER_INPUT", Message: limits.Clip(e.Message, 512), Status: http.StatusBadRequest}
		if e.Line > 0 {
			re.Locations = []reqerr.Location{{Line: e.Line, Column: e.Column}}
		}
		if out == nil {
			out = re
		} else {
			out.More = append(out.More, re)
		}
	}
	return out
}

// declaredVariables decodes the members of the variables object raw that
// op declares; the others are skipped undecoded (the spec's coercion
// reads only declared variables, and a client may send a 2 MiB object of
// others: decoding them cost 160–200 ms of CPU per request).
func declaredVariables(op *ast.OperationDefinition, raw []byte) (map[string]any, error) {
	vars := map[string]any{}
	if len(raw) == 0 {
		return vars, nil
	}
	declared := make(map[string]bool, len(op.VariableDefinitions))
	for _, d := range op.VariableDefinitions {
		declared[d.Variable] = true
	}
	err := request.Members(raw, func(key, value []byte) error {
		if !declared[string(key)] {
			return nil
		}
		var v any
		if err := json.Unmarshal(value, &v); err != nil {
			return fmt.Errorf("variable %s: %w", key, err)
		}
		vars[string(key)] = v
		return nil
	})
	return vars, err
}

// plainLists returns v with every list a non-nil []any, the shape JSON
// decoding gives and what the later stages (Int checks, cost analysis,
// planning) read. gqlparser's coercion makes two other shapes:
//   - a single value given where a list is expected (spec 3.11 input
//     coercion, "4" for [Int] or [[Int]]) is wrapped in a typed slice
//     ([]float64, []int64, []map[string]any), which a []any type switch
//     misses;
//   - a default value written `[]` is a nil []any, which marshals as null:
//     a subgraph would then receive an explicit null (spec 6.4.1: an
//     explicit null overrides the argument's own default) where the
//     client's operation said [].
//
// A null the client sent is an untyped nil and stays null.
func plainLists(v any) any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		if t == nil {
			return []any{}
		}
		for i, e := range t {
			t[i] = plainLists(e)
		}
		return t
	case map[string]any:
		for k, e := range t {
			t[k] = plainLists(e)
		}
		return t
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice {
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = plainLists(rv.Index(i).Interface())
		}
		return out
	}
	return v
}

// answerInput is what the answer stage needs of the earlier ones.
type answerInput struct {
	rt          *runtime
	hr          *http.Request
	d           *document
	op          *ast.OperationDefinition
	hash        [32]byte
	coerced     map[string]any
	forwarded   []byte
	entry       *planEntry
	grants      auth.Grants
	labels      map[string]bool
	includePlan bool
}

// sharedAnswer is the serialized answer identical requests share.
type sharedAnswer struct {
	body   []byte
	status int
	meta   responseMeta
}

// answer is stage 17: a query identical to one in flight shares its
// answer (inbound dedupe); otherwise the response cache or execution.
func (s *Server) answer(ctx context.Context, a *answerInput, meta *responseMeta) ([]byte, int) {
	if !s.opts.Cache.InboundDedupe || a.op.Operation != ast.Query {
		return s.compute(ctx, a, meta)
	}
	k := newKeyHash()
	k.field(a.rt.sg.Version)
	k.field(string(a.hash[:]))
	k.field(a.op.Name)
	k.field(string(a.forwarded))
	k.field(strconv.FormatBool(a.includePlan))
	k.field(s.callerKey(a.hr, a.rt.sg, a.grants.Key, a.labels))
	res, shared, err := s.inbound.Do(ctx, k.sum(), func(fctx context.Context) (sharedAnswer, error) {
		var m responseMeta
		body, status := s.compute(fctx, a, &m)
		return sharedAnswer{body: body, status: status, meta: m}, nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return reqerr.Body(errCancelled), errCancelled.Status
		}
		slog.Error("shared execution", "err", err)
		return reqerr.Body(reqerr.Internal), http.StatusInternalServerError
	}
	*meta = res.meta
	if shared {
		meta.headers = nil // a subgraph's cookies belong to the request that made the fetch
		meta.shared = true
		s.caches.stats.RequestsShared.Add(1)
	}
	return res.body, res.status
}

// errCancelled answers a request that ended while waiting for its answer.
var errCancelled = &reqerr.Error{Code: "REQUEST_CANCELLED", Message: "the request ended while waiting for its answer", Status: http.StatusServiceUnavailable}

// compute answers through the response cache, or executes.
func (s *Server) compute(ctx context.Context, a *answerInput, meta *responseMeta) ([]byte, int) {
	ctx, collected := s.ext.collectHeaders(ctx, meta)
	defer collected()
	in := executor.Input{Variables: a.forwarded, Tracer: s.obs.tracer, RedactErrors: s.opts.redactErrors,
		InvalidValuesAsErrors: s.opts.InvalidValuesAsErrors}
	s.subgraphHeaders(&in, a.hr)
	if s.opts.Introspection {
		rt, coerced := a.rt, a.coerced
		in.Introspect = func(buf []byte, f *planner.ShapeField) ([]byte, [][]any) { return rt.intro.Field(buf, f, coerced) }
	}
	if s.caches.responses != nil && !a.includePlan && a.op.Operation == ast.Query {
		return s.cachedQuery(ctx, a, in, meta)
	}
	if s.caches.responses != nil && a.op.Operation != ast.Query {
		meta.cacheControl = "no-store"
	}
	if a.op.Operation == ast.Query {
		in.Entities = s.entityCacheFor(ctx, a)
	}
	out, status, stats := s.run(ctx, a.rt, a.entry, in)
	if a.op.Operation == ast.Query && meta.cacheControl == "" && status == http.StatusOK {
		meta.cacheControl = s.httpCacheControl(a.entry.policy, &stats, a)
	}
	return out, status
}

// httpCacheControl is the Cache-Control of an answer the response cache
// did not handle (downstream).
func (s *Server) httpCacheControl(p cache.Policy, stats *executor.Stats, a *answerInput) string {
	if s.caches.responses == nil {
		return ""
	}
	return uncachedHeader(s.downstream(finalPolicy(p, stats), a), *stats)
}

// downstream is the policy an answer's Cache-Control gives the shared
// caches in front of the gateway (a CDN, a caching proxy), which tell
// requests apart by their URL and the Vary header only. It is never
// public when the answer may depend on more than that and the
// vary_headers (varyHeader): on the caller's authorization grants, which
// the gateway's own cache keys entries by, or on anything a hook or the
// coprocessor at a Subgraph stage reads of the request, by which it keys
// them too then (fetchVary), or on what other hooks rewrite
// (rewritingHooks). Before, such answers were public, and a shared cache
// served one caller's answer to every other.
func (s *Server) downstream(p cache.Policy, a *answerInput) cache.Policy {
	if p.Scope == cache.Public && (a.grants.Key != "" || s.subgraphHooks() || s.rewritingHooks()) {
		p.Scope = cache.Private
	}
	return p
}

// rewritingHooks reports whether hooks (or the coprocessor) outside the
// Subgraph stages may make answers differ between requests that a cache
// in front of the gateway, keying by URL and Vary, cannot tell apart: one
// rewriting a body before the gateway's cache is asked (the query or
// variables, from a caller's claims, say: the gateway keys its entry by
// the rewritten request) or after (the answer, per caller: the gateway
// caches it before the rewrite), and one at RouterRequest when the
// gateway's cache varies by headers (it may set them, a tenant from the
// caller's claims: the gateway keys by the value set, a downstream cache
// by the one sent). A hook that only reads (logs, refuses) changes nothing.
func (s *Server) rewritingHooks() bool {
	x := s.ext
	if x == nil {
		return false
	}
	for _, st := range []hooks.Stage{hooks.RouterRequest, hooks.SupergraphRequest, hooks.ExecutionResponse, hooks.SupergraphResponse, hooks.RouterResponse} {
		if x.bodies[st] && x.hooksAt(st) {
			return true
		}
	}
	return x.hooksAt(hooks.RouterRequest) && len(s.caches.cfg.Response.VaryHeaders) > 0
}

// subgraphHooks reports whether hooks or the coprocessor run at a
// Subgraph stage, where they may set a fetch's headers or rewrite its
// answer from anything of the request.
func (s *Server) subgraphHooks() bool {
	return s.ext.hooksAt(hooks.SubgraphRequest) || s.ext.hooksAt(hooks.SubgraphResponse)
}

// withCookies is the Cache-Control cc of an answer with headers h: private
// instead of public when h sets a cookie (propagated from a subgraph or
// set by a hook), which a shared cache would hand to every caller with
// the answer.
func withCookies(cc string, h http.Header) string {
	if len(h["Set-Cookie"]) == 0 {
		return cc
	}
	if rest, ok := strings.CutSuffix(cc, ", public"); ok {
		return rest + ", private"
	}
	return cc
}

// Header values of nearly every answer, shared by them (read only; their
// length is their capacity).
var (
	jsonTypeValue    = []string{"application/json; charset=utf-8"}
	graphQLTypeValue = []string{"application/graphql-response+json; charset=utf-8"}
	noStoreValue     = []string{"no-store"}
)

// headerValue is v as a header's values: a shared slice for the usual
// values, a slice of its own otherwise.
func headerValue(v string) []string {
	switch v {
	case jsonTypeValue[0]:
		return jsonTypeValue
	case graphQLTypeValue[0]:
		return graphQLTypeValue
	case noStoreValue[0]:
		return noStoreValue
	}
	return []string{v}
}

// varyHeader is the Vary of a cacheable answer: Accept, by which its
// Content-Type is chosen (application/json or
// application/graphql-response+json: a cache in front of the gateway
// would hand one to a client that accepts only the other), and the
// configured vary headers, which the response and entity caches key by.
// "" without a response cache (answers then carry no Cache-Control).
func (s *Server) varyHeader() string {
	if s.caches.responses == nil {
		return ""
	}
	names := []string{"Accept"}
	for _, h := range s.caches.cfg.Response.VaryHeaders {
		if h = http.CanonicalHeaderKey(h); h != "Accept" {
			names = append(names, h)
		}
	}
	return strings.Join(names, ", ")
}

// queryHash is the SHA-256 of a query document, the key of the document
// and plan caches. It reads the string's bytes in place: converting the
// string to a []byte copied the document on every request.
func queryHash(query string) [32]byte {
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(query), len(query)))
}
