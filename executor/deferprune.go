package executor

import (
	"github.com/fedgate/gateway/internal/jsonvalue"
	"github.com/fedgate/gateway/planner"
)

// pruneNulled makes the merged data agree with the initial payload before
// the deferred parts run: an object (or list) the primary part's null
// propagation replaced with null in what the client holds (shown) is
// replaced with null (a list element) or removed (an object member) in
// e.data too. The deferred parts' entity fetches collect their
// representations from e.data, so none is sent for an object the client
// never gets: graphql-js delivers no deferred fragment under a nulled
// parent, and a client able to provoke the null (a non-null field it
// knows a subgraph leaves null) must not make the gateway fetch for
// objects the answer never contains. It returns whether it changed
// anything; the remembered fetch positions must then be forgotten.
//
// A member is removed only when every field of the selection that reads
// it (aliases of one data key) is null in shown, and nothing is pruned
// below an object that a deferred fragment is at or above (defers):
// graphql-js (17.0.0-alpha.2) executes such a fragment's fields anew from
// its parent and drops only the fragments under the nulled path, so a
// fragment at [] selecting product { inStock } is delivered with it
// though the primary part's product { price } nulled product. This is
// conservative: such a fragment may not select the nulled field at all.
func (e *execution) pruneNulled(sel *planner.ShapeSet, shown *jsonvalue.Value, defers []*planner.Defer) bool {
	if e.data == nil || shown == nil {
		return false
	}
	return pruneObject(e.data, shown, sel, nil, defers)
}

// deferAtOrAbove reports whether a deferred fragment is at the object at
// path (response keys) or at one of its ancestors.
func deferAtOrAbove(defers []*planner.Defer, path []string) bool {
	for _, d := range defers {
		if len(d.Path) > len(path) {
			continue
		}
		above := true
		for i, k := range d.Path {
			if k.ResponseKey != path[i] {
				above = false
				break
			}
		}
		if above {
			return true
		}
	}
	return false
}

func pruneObject(v, shown *jsonvalue.Value, sel *planner.ShapeSet, path []string, defers []*planner.Defer) bool {
	if v == nil || v.Type() != jsonvalue.TypeObject || shown == nil || shown.Type() != jsonvalue.TypeObject {
		return false
	}
	typename := sel.Type
	if sel.Abstract {
		typename = v.Get("__typename").Str()
	}
	fields := sel.FieldsFor(typename)
	if fields == nil && unresolved(sel, typename) {
		fields = sel.ByType[0].Fields
	}
	if deferAtOrAbove(defers, path) {
		return false // every object below may be delivered by the fragment
	}
	changed := false
	var gone, kept []string
	for i := range fields {
		f := &fields[i]
		if f.Selection == nil {
			continue
		}
		c, sc := v.Get(f.DataKey), shown.Get(f.ResponseKey)
		if c == nil || sc == nil || c.Type() == jsonvalue.TypeNull {
			kept = append(kept, f.DataKey)
			continue
		}
		if sc.Type() == jsonvalue.TypeNull {
			gone = append(gone, f.DataKey)
			continue
		}
		kept = append(kept, f.DataKey)
		if pruneValue(c, sc, f.Selection, append(path[:len(path):len(path)], f.ResponseKey), defers) {
			changed = true
		}
	}
	for _, k := range gone {
		if !contains(kept, k) {
			v.Del(k)
			changed = true
		}
	}
	return changed
}

// pruneValue prunes below the value c of a composite field, whose value
// in shown is sc (neither null).
func pruneValue(c, sc *jsonvalue.Value, sel *planner.ShapeSet, path []string, defers []*planner.Defer) bool {
	switch c.Type() {
	case jsonvalue.TypeObject:
		return pruneObject(c, sc, sel, path, defers)
	case jsonvalue.TypeArray:
		if sc.Type() != jsonvalue.TypeArray {
			return false
		}
		els, shownEls := c.Array(), sc.Array()
		changed := false
		for i, el := range els {
			if i >= len(shownEls) || el == nil || el.Type() == jsonvalue.TypeNull {
				continue
			}
			if shownEls[i].Type() == jsonvalue.TypeNull {
				c.SetItem(i, shownEls[i]) // a null of shown's parser, alive as long
				changed = true
				continue
			}
			if pruneValue(el, shownEls[i], sel, path, defers) {
				changed = true
			}
		}
		return changed
	}
	return false
}
