package executor

import (
	"context"
	"encoding/json"

	"github.com/fedgate/gateway/planner"
	"github.com/valyala/fastjson"
)

// ExecuteIncremental runs a plan with a @defer split (plan.Defer) for
// incremental delivery: the primary part runs and emit receives the
// initial payload ({"data","errors","hasNext":true}); then the deferred
// part runs on the primary's data and emit receives the subsequent
// payload ({"incremental":[{"data","path","label","errors"}],
// "hasNext":false}), one incremental entry per deferred fragment and
// object it applies to. Errors of the deferred fetches go to the entry
// whose path they concern; a non-null violation nulls the entry's data,
// never the primary's. emit returning false (the client went away) stops
// the run. Each payload is emitted in a fresh buffer.
func ExecuteIncremental(ctx context.Context, plan *planner.Plan, in Input, transport Transport, emit func(payload []byte) bool) {
	dp := plan.Defer
	e := &execution{ctx: ctx, transport: transport, header: in.Header, headerFor: in.HeaderFor, entities: in.Entities, stats: in.Stats != nil}
	defer e.release()
	e.redact = in.RedactErrors
	if len(in.Variables) > 0 {
		if v, err := e.parse(in.Variables); err == nil {
			e.vars = v
		}
	}
	if dp.Primary != nil {
		e.run(dp.Primary)
	}
	primary := &planner.Plan{Operation: dp.PrimaryOperation, Denied: dp.Denied}
	buf, nerrs := e.render(nil, primary, in.Introspect)
	buf = append(buf[:len(buf)-1], `,"hasNext":true}`...)
	if !emit(buf) {
		return
	}
	seen := len(e.errors)
	if dp.Deferred != nil {
		e.run(dp.Deferred)
	}
	// What the client holds: a deferred fragment under an object the
	// primary part nulled (null propagation) is not delivered.
	var shown *fastjson.Value
	if v, err := e.parse(buf); err == nil {
		shown = v.Get("data")
	}
	out, n := e.renderIncremental(dp, plan.Operation, shown, e.errors[seen:], in.Introspect)
	nerrs += n
	emit(out)
	if in.Stats != nil {
		in.Stats.SubgraphBytes = e.bytes.Load()
		in.Stats.Errors = nerrs
		in.Stats.CacheControl = e.cacheControl
	}
}

// incremental is one entry of a subsequent payload.
type incremental struct {
	path   []any
	label  string
	data   []byte
	errors []*Error
}

// renderIncremental writes the subsequent payload: the deferred
// fragments' data at each object of their paths. fetchErrs are the errors
// of the deferred fetches.
func (e *execution) renderIncremental(dp *planner.DeferPlan, op *planner.Operation, shown *fastjson.Value, fetchErrs []*Error, introspect func([]byte, *planner.Field) []byte) ([]byte, int) {
	var items []*incremental
	root := e.data
	if root == nil {
		// No fetch ran (a deferred __typename at the root, say): the root
		// object is still there to render from.
		var a fastjson.Arena
		root = a.NewObject()
	}
	for _, d := range dp.Defers {
		at(root, shown, op.Selection, d.Path, nil, func(v *fastjson.Value, sel *planner.SelectionSet, path []any) {
			vs := dp.View(d, sel)
			if vs == nil {
				return
			}
			r := &renderer{e: e, introspect: introspect, denied: dp.Denied, base: append([]any(nil), path...)}
			typename := sel.Type
			if sel.Abstract {
				typename = string(v.GetStringBytes("__typename"))
				if len(vs.FieldsFor(typename)) == 0 {
					return
				}
			}
			data, ok := r.object(nil, v, vs, typename)
			if !ok {
				data = []byte("null")
			}
			items = append(items, &incremental{path: path, label: d.Label, data: data, errors: r.nullErrors})
		})
	}
	// Each error of a deferred fetch goes to the first entry it concerns.
	var loose []*Error
	for _, fe := range fetchErrs {
		placed := false
		for _, it := range items {
			if related(fe.Path, it.path) {
				it.errors = append([]*Error{fe}, it.errors...)
				placed = true
				break
			}
		}
		if !placed {
			loose = append(loose, fe)
		}
	}
	nerrs := len(loose)
	buf := []byte(`{"hasNext":false,"incremental":[`)
	for i, it := range items {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"data":`...)
		buf = append(buf, it.data...)
		p, _ := json.Marshal(it.path)
		if it.path == nil {
			p = []byte("[]")
		}
		buf = append(append(buf, `,"path":`...), p...)
		if it.label != "" {
			l, _ := json.Marshal(it.label)
			buf = append(append(buf, `,"label":`...), l...)
		}
		if len(it.errors) > 0 {
			b, _ := json.Marshal(it.errors)
			buf = append(append(buf, `,"errors":`...), b...)
			nerrs += len(it.errors)
		}
		buf = append(buf, '}')
	}
	buf = append(buf, ']')
	if len(loose) > 0 {
		b, _ := json.Marshal(loose)
		buf = append(append(buf, `,"errors":`...), b...)
	}
	return append(buf, '}'), nerrs
}

// at calls visit for every object found at path (response keys, lists
// stepped into) from v, with the selection set there and its response
// path. shown is the same position in the response data the client has
// (nil where the client has nothing yet): where it is null, nothing is
// visited.
func at(v, shown *fastjson.Value, sel *planner.SelectionSet, path []planner.PathKey, out []any, visit func(*fastjson.Value, *planner.SelectionSet, []any)) {
	if v == nil || v.Type() != fastjson.TypeObject {
		return
	}
	if shown != nil && shown.Type() != fastjson.TypeObject {
		return
	}
	if len(path) == 0 {
		visit(v, sel, out)
		return
	}
	typename := sel.Type
	if sel.Abstract {
		typename = string(v.GetStringBytes("__typename"))
	}
	for _, f := range sel.FieldsFor(typename) {
		if f.ResponseKey != path[0].ResponseKey || f.Selection == nil {
			continue
		}
		var step func(c, sc *fastjson.Value, out []any)
		step = func(c, sc *fastjson.Value, out []any) {
			if c == nil {
				return
			}
			if sc != nil && sc.Type() == fastjson.TypeNull {
				return
			}
			switch c.Type() {
			case fastjson.TypeArray:
				var shownEls []*fastjson.Value
				if sc != nil {
					shownEls, _ = sc.Array()
				}
				for i, el := range c.GetArray() {
					var sel *fastjson.Value
					if sc != nil {
						if i >= len(shownEls) {
							return
						}
						sel = shownEls[i]
					}
					step(el, sel, append(out[:len(out):len(out)], i))
				}
			case fastjson.TypeObject:
				at(c, sc, f.Selection, path[1:], out, visit)
			}
		}
		var sc *fastjson.Value
		if shown != nil {
			sc = shown.Get(f.ResponseKey)
		}
		step(v.Get(f.DataKey()), sc, append(out[:len(out):len(out)], f.ResponseKey))
		return
	}
}
