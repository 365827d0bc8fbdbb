package executor

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/fedgate/gateway/internal/jsonvalue"
	"github.com/fedgate/gateway/planner"
	"go.opentelemetry.io/otel/trace"
)

// Input is everything Execute needs besides the plan.
type Input struct {
	// Variables is the client's variables object (raw JSON), or nil.
	Variables []byte
	// Header is sent with every subgraph request (the server decides what
	// is forwarded); the transport may add to a copy, never to this one.
	Header http.Header
	// HeaderFor, when set, returns the headers for requests to one
	// subgraph, in place of Header (per-subgraph header rules).
	HeaderFor func(subgraph string) http.Header
	// Introspect renders __schema and __type fields; nil answers null.
	Introspect IntrospectFunc
	// Stats, when not nil, receives figures about the run.
	Stats *Stats
	// Entities, when not nil, caches _entities results of queries: a
	// fetch asks the subgraph only for the representations it misses.
	Entities EntityCache
	// Tracer, when not nil, traces the final merge as a span.
	Tracer trace.Tracer
	// RedactErrors, when not nil, reports whether the errors a subgraph
	// writes are redacted before they reach the client: the message
	// becomes RedactedMessage and only extensions.code (and the gateway's
	// serviceName) are kept, with the path. Nil keeps them as written.
	RedactErrors func(subgraph string) bool
	// InvalidValuesAsErrors makes each value of a subgraph answer that
	// the API schema cannot represent (a leaf of the wrong shape, an
	// enum value it lacks, an object of a runtime type it hides or does
	// not have), which the response has null in its place, a field
	// error in "errors" (the spec's result coercion). Off, as both
	// reference gateways answer, errors stay as they are and the values
	// are listed in extensions.valueCompletion (subgraphs.invalid_values).
	InvalidValuesAsErrors bool
}

// RedactedMessage replaces the message of a redacted subgraph error.
const RedactedMessage = "Subgraph errors redacted"

// Stats are figures about one plan run.
type Stats struct {
	// SubgraphBytes is the size of every subgraph answer read.
	SubgraphBytes int64
	// Errors is the number of errors in the response.
	Errors int
	// InvalidValues is the number of values of subgraph answers the API
	// schema cannot represent, null in the response (in Errors too with
	// Input.InvalidValuesAsErrors).
	InvalidValues int
	// CacheControl holds the Cache-Control header of every subgraph
	// answer ("" when it had none) and of every entity cache hit, so that
	// the response cache policy can honour them.
	CacheControl []string
}

// Error is one GraphQL error of the response.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
	// fetch is the fetch whose answer (or failure) the error comes
	// from, nil for the gateway's own errors: incremental delivery sends
	// it with the part that ran the fetch.
	fetch *planner.Fetch
	// nullData: the error came with a root fetch's answer whose data was
	// null, so every field that fetch answers is missing because of it.
	nullData bool
}

// execution is the per-request state of one plan run.
type execution struct {
	ctx       context.Context
	transport Transport
	vars      *jsonvalue.Value
	header    http.Header
	headerFor func(subgraph string) http.Header
	entities  EntityCache
	mutation  bool

	bytes atomic.Int64

	// keys is the plan's set of keys (planner.Plan.Keys), which answers
	// are parsed against.
	keys *jsonvalue.Keys

	mu   sync.Mutex
	data *jsonvalue.Value
	// pos remembers where entity fetch paths led in data.
	pos     positions
	parsers []pooledParser
	// parserSlots holds parsers until there are more than a plan usually
	// runs (one per fetch and one for the variables).
	parserSlots [8]pooledParser
	// copies holds the copies copyOf makes (from copyArenas).
	copies *jsonvalue.Arena
	errors []*Error
	// cacheControl collects Stats.CacheControl when Stats is set.
	cacheControl []string
	stats        bool
	// redact is Input.RedactErrors.
	redact func(subgraph string) bool
	// invalidAsErrors is Input.InvalidValuesAsErrors; invalidValues
	// counts the invalid values render found (Stats.InvalidValues).
	invalidAsErrors bool
	invalidValues   int
	// fetchCtx holds, for the fetches of a deferred part, the context
	// they run with (the part's span): *planner.Fetch -> context.Context.
	fetchCtx sync.Map
	// hasFetchCtx is set before the first fetchCtx entry is stored: a
	// sync.Map makes its root node at its first Load, a fetch's worth of
	// memory in every run without deferred parts.
	hasFetchCtx atomic.Bool
}

// Execute runs plan and appends the JSON response to buf.
func Execute(ctx context.Context, plan *planner.Plan, in Input, transport Transport, buf []byte) []byte {
	e := &execution{ctx: ctx, transport: transport, header: in.Header, headerFor: in.HeaderFor, entities: in.Entities,
		stats: in.Stats != nil, mutation: plan.Shape.Mutation(), keys: plan.Keys}
	defer e.release()
	e.redact = in.RedactErrors
	e.invalidAsErrors = in.InvalidValuesAsErrors
	if len(in.Variables) > 0 {
		if v, err := e.parse(in.Variables); err == nil {
			e.vars = v
		}
	}
	if plan.Root != nil {
		if e.mutation {
			e.runMutation(plan)
		} else {
			e.run(plan.Root)
		}
	}
	if in.Tracer != nil && trace.SpanFromContext(ctx).IsRecording() {
		_, span := in.Tracer.Start(ctx, "merge") // telemetry.SpanMerge
		defer span.End()
	}
	var nerrs int
	buf, nerrs = e.render(buf, plan.Shape, in.Introspect)
	if in.Stats != nil {
		in.Stats.SubgraphBytes = e.bytes.Load()
		in.Stats.Errors = nerrs
		in.Stats.InvalidValues = e.invalidValues
		in.Stats.CacheControl = e.cacheControl
	}
	return buf
}

func (e *execution) run(n planner.Node) {
	switch n := n.(type) {
	case *planner.Sequence:
		for _, c := range n.Nodes {
			e.run(c)
		}
	case *planner.Parallel:
		var wg sync.WaitGroup
		for _, c := range n.Nodes[1:] {
			wg.Add(1)
			branchWorkers.Go(func() {
				defer wg.Done()
				defer func() {
					// A panic here would end the process: keep it to
					// this request, as an error of the response.
					if p := recover(); p != nil {
						e.addError(&Error{Message: "internal error executing the plan", Extensions: map[string]any{"code": "INTERNAL_SERVER_ERROR"}})
					}
				}()
				e.run(c)
			})
		}
		e.run(n.Nodes[0])
		wg.Wait()
	case *planner.Fetch:
		e.rootFetch(n)
	case *planner.Flatten:
		e.entityFetch(n)
	}
}

// runMutation runs a mutation's plan, whose root is a Sequence of root
// fetches each followed by the fetches below it. Like the spec's serial
// execution of a selection set, it stops before the next root fetch once
// a root field already executed has become null where its type is
// non-null: data is null, so the remaining mutations must not run (no side
// effects, no further errors). A nullable field that fails does not stop
// the ones after it.
func (e *execution) runMutation(plan *planner.Plan) {
	seq, ok := plan.Root.(*planner.Sequence)
	if !ok {
		e.run(plan.Root)
		return
	}
	done := map[string]bool{}
	for _, n := range seq.Nodes {
		if f, ok := n.(*planner.Fetch); ok && f.Requires == nil {
			if len(done) > 0 && e.dataNulled(plan, done) {
				return
			}
			for _, k := range f.RootFields {
				done[k] = true
			}
		}
		e.run(n)
	}
}

// dataNulled reports whether one of the root fields whose data keys are in
// done renders null where null is not allowed, so that data is null.
func (e *execution) dataNulled(plan *planner.Plan, done map[string]bool) bool {
	shape := plan.Shape
	r := &renderer{e: e}
	e.mu.Lock()
	defer e.mu.Unlock()
	fields := shape.Root.FieldsFor(shape.RootType)
	for i := range fields {
		f := &fields[i]
		if !done[f.DataKey] || f.Denied || f.Kind == planner.Typename {
			continue
		}
		var v *jsonvalue.Value
		if e.data != nil {
			v = e.data.Get(f.DataKey)
		}
		if _, ok := r.value(nil, v, 0, f); !ok {
			return true
		}
	}
	return false
}

// noteCacheControl records a Cache-Control value for Stats.
func (e *execution) noteCacheControl(cc string) {
	e.mu.Lock()
	if e.cacheControl == nil {
		e.cacheControl = make([]string, 0, 8) // a plan's fetches, mostly
	}
	e.cacheControl = append(e.cacheControl, cc)
	e.mu.Unlock()
}

func (e *execution) addError(err *Error) {
	e.mu.Lock()
	e.errors = append(e.errors, err)
	e.mu.Unlock()
}

// send posts one subgraph request and parses the answer. On failure it
// records an error at the fetch's path (nil for a root fetch) and returns
// nil.
//
// req, when not nil, is where the request is made (a pooled batch's);
// nil makes a new one.
func (e *execution) send(f *planner.Fetch, body []byte, flatten []string, req *Request) (*jsonvalue.Value, string) {
	header := e.header
	if e.headerFor != nil {
		header = e.headerFor(f.Subgraph)
	}
	ctx := e.ctx
	if e.hasFetchCtx.Load() {
		if c, ok := e.fetchCtx.Load(f); ok {
			ctx = c.(context.Context)
		}
	}
	if req == nil {
		req = new(Request)
	}
	*req = Request{Body: body, Header: header, Mutation: f.OperationKind == "mutation", FetchID: f.ID, Path: flatten}
	resp, err := e.transport.Fetch(ctx, f.Subgraph, req)
	if err != nil {
		code := "SUBREQUEST_HTTP_ERROR"
		var fe *FetchError
		if errors.As(err, &fe) {
			code = fe.Code
		} else if errors.Is(err, context.DeadlineExceeded) {
			code = "SUBREQUEST_TIMEOUT"
		}
		msg := "HTTP fetch failed from '" + f.Subgraph + "'"
		included := e.redact == nil || !e.redact(f.Subgraph)
		if fe != nil || included {
			// A FetchError's message is the gateway's own words; its
			// cause, and any other error, may name internal hosts and
			// addresses.
			msg += ": " + err.Error()
		}
		if fe != nil && fe.Cause != "" && included {
			msg += ": " + fe.Cause
		}
		e.addError(&Error{Message: msg, Path: errorPath(flatten),
			Extensions: map[string]any{"code": code, "serviceName": f.Subgraph}, fetch: f})
		return nil, ""
	}
	e.bytes.Add(int64(len(resp.Body)))
	if e.stats {
		e.noteCacheControl(resp.CacheControl)
	}
	v, perr := e.parse(resp.Body)
	if resp.Release != nil {
		resp.Release()
	}
	if perr != nil || v.Type() != jsonvalue.TypeObject {
		e.addError(&Error{Message: "invalid JSON response from subgraph '" + f.Subgraph + "'", Path: errorPath(flatten),
			Extensions: map[string]any{"code": "SUBREQUEST_MALFORMED_RESPONSE", "serviceName": f.Subgraph}, fetch: f})
		return nil, ""
	}
	return v, resp.CacheControl
}

// errorPath is the response path of a failed fetch: the part of its
// Flatten path before the first list, nil for a root fetch.
func errorPath(flatten []string) []any {
	if flatten == nil {
		return nil
	}
	return pathElems(flatten)
}

// appendVariables writes the fetch's variables object body.
func (e *execution) appendVariables(buf []byte, f *planner.Fetch, reps, extra []byte) []byte {
	buf = append(buf, '{')
	n := 0
	if reps != nil {
		buf = append(buf, `"representations":`...)
		buf = append(buf, reps...)
		n++
	}
	if len(extra) > 0 {
		if n > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, extra...)
		n++
	}
	if e.vars != nil {
		for _, name := range f.VariableUsages {
			v := e.vars.Get(name)
			if v == nil {
				continue
			}
			if n > 0 {
				buf = append(buf, ',')
			}
			n++
			buf = strconv.AppendQuote(buf, name)
			buf = append(buf, ':')
			buf = v.AppendJSON(buf)
		}
	}
	return append(buf, '}')
}

func requestBody(f *planner.Fetch, vars []byte) []byte {
	buf := make([]byte, 0, len(f.Operation)+len(vars)+64)
	buf = appendRequestStart(buf, f)
	buf = append(buf, vars...)
	return append(buf, '}')
}

// appendRequestStart writes a subgraph request body up to its variables.
func appendRequestStart(buf []byte, f *planner.Fetch) []byte {
	buf = append(buf, `{"query":`...)
	buf = appendStringText(buf, f.Operation)
	if f.OperationName != "" {
		buf = append(buf, `,"operationName":`...)
		buf = appendStringText(buf, f.OperationName)
	}
	return append(buf, `,"variables":`...)
}

// fetchBody appends to buf (nil for a new buffer) the body of fetch f,
// with reps (nil for a root fetch) as its representations.
func (e *execution) fetchBody(buf []byte, f *planner.Fetch, reps, extra []byte) []byte {
	if n := len(f.Operation) + len(reps) + len(extra) + 128; cap(buf)-len(buf) < n {
		buf = append(make([]byte, 0, len(buf)+n), buf...)
	}
	buf = appendRequestStart(buf, f)
	buf = e.appendVariables(buf, f, reps, extra)
	return append(buf, '}')
}

// rootFetch runs a fetch on the root type and merges its data at the root.
func (e *execution) rootFetch(f *planner.Fetch) {
	body := e.fetchBody(nil, f, nil, nil)
	v, _ := e.send(f, body, nil, nil)
	if v == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	data := v.Get("data")
	if data.Type() == jsonvalue.TypeObject {
		applyRewrites(data, f.OutputRewrites)
		if e.data == nil {
			e.data = data
			e.pos.reset()
		} else {
			merge(e.data, data, &e.pos)
		}
	}
	for _, ev := range v.Get("errors").Array() {
		err := e.subgraphError(ev, f.Subgraph, func(p []*jsonvalue.Value) []any { return jsonPath(nil, p) })
		err.fetch = f
		err.nullData = data.Type() != jsonvalue.TypeObject
		e.errors = append(e.errors, err)
	}
}

// merge copies the fields of src into dst, recursing into objects and
// into lists of the same length. Every key under which it sets a value is
// reported to pos (which may be nil).
func merge(dst, src *jsonvalue.Value, pos *positions) {
	if dst.Type() != jsonvalue.TypeObject {
		return
	}
	// dst mostly holds src's keys in src's order, if at all: each is
	// looked up from where the last one was found.
	hint := 0
	for _, m := range src.Members() {
		// m.Key is src's own key: it lives as long as m.Value, which dst
		// takes over, so it is not copied.
		key, sv := m.Key, m.Value
		at := dst.Lookup(key, hint)
		if at < 0 {
			pos.changed(key)
			dst.Append(key, sv)
			continue
		}
		hint = at + 1
		dv := dst.Members()[at].Value
		dt, st := dv.Type(), sv.Type()
		switch {
		case dt == jsonvalue.TypeNull:
			pos.changed(key)
			dst.SetAt(at, sv)
		case dt == jsonvalue.TypeObject && st == jsonvalue.TypeObject:
			merge(dv, sv, pos)
		case dt == jsonvalue.TypeArray && st == jsonvalue.TypeArray:
			da, sa := dv.Array(), sv.Array()
			if len(da) != len(sa) {
				pos.changed(key)
				dst.SetAt(at, sv)
				continue
			}
			for i := range da {
				if da[i].Type() == jsonvalue.TypeObject && sa[i].Type() == jsonvalue.TypeObject {
					merge(da[i], sa[i], pos)
				} else if da[i].Type() == jsonvalue.TypeNull {
					pos.changed(key)
					dv.SetItem(i, sa[i])
				}
			}
		case st != jsonvalue.TypeNull:
			pos.changed(key)
			dst.SetAt(at, sv)
		}
	}
}

// jsonPath converts a subgraph error path to response path elements.
func jsonPath(prefix []any, p []*jsonvalue.Value) []any {
	out := append([]any(nil), prefix...)
	for _, el := range p {
		switch el.Type() {
		case jsonvalue.TypeNumber:
			n, _ := el.Int()
			out = append(out, n)
		case jsonvalue.TypeString:
			out = append(out, planner.ResponseKeyOf(el.Str()))
		}
	}
	return out
}

// applyRewrites applies a fetch's output rewrites to one answer (a root
// fetch's data or one entity): aliases the subgraph operation needed are
// renamed back to the data keys the rest of the plan uses.
func applyRewrites(v *jsonvalue.Value, rewrites []*planner.OutputRewrite) {
	for _, r := range rewrites {
		renameAt(v, r.Path, r.From, r.To)
	}
}

// renameAt renames from to to in every object at path below v, stepping
// into lists at any level.
func renameAt(v *jsonvalue.Value, path []string, from, to string) {
	switch v.Type() {
	case jsonvalue.TypeArray:
		for _, x := range v.Array() {
			renameAt(x, path, from, to)
		}
	case jsonvalue.TypeObject:
		if len(path) > 0 {
			if c := v.Get(path[0]); c != nil {
				renameAt(c, path[1:], from, to)
			}
			return
		}
		if x := v.Get(from); x != nil {
			v.Del(from)
			v.Set(to, x)
		}
	}
}

// convertSubgraphError converts one subgraph error, re-pathing it with repath.
// and redacts it when e.redact says so for subgraph.
func (e *execution) subgraphError(ev *jsonvalue.Value, subgraph string, repath func([]*jsonvalue.Value) []any) *Error {
	return convertSubgraphError(ev, subgraph, e.redact != nil && e.redact(subgraph), repath)
}

// convertSubgraphError converts one subgraph error, re-pathing it with repath.
// Redacted, its message is RedactedMessage and of its extensions only a
// string code is kept: subgraphs write host names, stack traces and
// internal identifiers there.
func convertSubgraphError(ev *jsonvalue.Value, subgraph string, redact bool, repath func([]*jsonvalue.Value) []any) *Error {
	err := &Error{Message: ev.Get("message").Str()}
	if p := ev.Get("path").Array(); p != nil {
		err.Path = repath(p)
	}
	err.Extensions = map[string]any{}
	if redact {
		err.Message = RedactedMessage
		if code := ev.Get("extensions").Get("code"); code.Type() == jsonvalue.TypeString {
			err.Extensions["code"] = code.Str()
		}
	} else {
		for _, m := range ev.Get("extensions").Members() {
			err.Extensions[m.Key] = toAny(m.Value)
		}
	}
	if _, ok := err.Extensions["code"]; !ok {
		err.Extensions["code"] = "DOWNSTREAM_SERVICE_ERROR"
	}
	err.Extensions["serviceName"] = subgraph
	return err
}

func toAny(v *jsonvalue.Value) any {
	switch v.Type() {
	case jsonvalue.TypeString:
		return v.Str()
	case jsonvalue.TypeNumber:
		return v.Float64()
	case jsonvalue.TypeTrue:
		return true
	case jsonvalue.TypeFalse:
		return false
	case jsonvalue.TypeArray:
		var out []any
		for _, x := range v.Array() {
			out = append(out, toAny(x))
		}
		return out
	case jsonvalue.TypeObject:
		out := map[string]any{}
		for _, m := range v.Members() {
			out[m.Key] = toAny(m.Value)
		}
		return out
	}
	return nil
}
