package executor

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/fedgate/gateway/internal/jsonvalue"
	"github.com/fedgate/gateway/planner"
)

// renderer writes the client response from the merged data, following
// the plan's shape: field order, aliases, __typename, authorization
// denials and null propagation.
type renderer struct {
	e          *execution
	introspect IntrospectFunc
	// base is the response path of the object rendered first (a deferred
	// fragment's position), path the steps below it. Steps stay unboxed:
	// a response path as []any is built only for an error.
	base       []any
	path       []pathStep
	nullErrors []*Error
	// completion lists the values of subgraph answers the API schema cannot
	// represent (invalidValue), when they go to the response's
	// extensions.valueCompletion; invalidCount counts every one, also
	// those past maxInvalidValues, which are not listed.
	completion   []*Error
	invalidCount int
	// untracked renderers keep no path: the first step that needs one (an
	// error to record) sets redo instead, and the response is rendered
	// again with a renderer that keeps it. Most responses have no error
	// of the renderer's own, and keeping the path cost a push and a pop
	// per field and list element.
	untracked, redo bool
	// at holds, per field of the shape (ShapeField.Slot), the index of
	// the member it was last found at: the objects at one position of the
	// data mostly hold their members in one order, which merging entity
	// answers makes differ from the selection's. Empty when the shape has
	// no numbered fields; then each object's fields are looked up from
	// where the one before was found.
	at []uint32
}

// pathStep is one step of a response path: a response key, or a list
// index when key is empty.
type pathStep struct {
	key   string
	index int
}

// responsePath returns the current response path as an error path.
func (r *renderer) responsePath() []any {
	if r.untracked {
		r.redo = true
		return nil
	}
	out := make([]any, 0, len(r.base)+len(r.path)+1)
	out = append(out, r.base...)
	for _, s := range r.path {
		if s.key != "" {
			out = append(out, s.key)
		} else {
			out = append(out, s.index)
		}
	}
	return out
}

// relatedTo reports whether an error path is a prefix of the current
// path or the other way round (related, without building the path).
func (r *renderer) relatedTo(a []any) bool {
	if a == nil {
		return true
	}
	n := len(r.base) + len(r.path)
	if len(a) < n {
		n = len(a)
	}
	for i := 0; i < n; i++ {
		if i < len(r.base) {
			if a[i] != r.base[i] {
				return false
			}
			continue
		}
		s := r.path[i-len(r.base)]
		if s.key != "" {
			if k, ok := a[i].(string); !ok || k != s.key {
				return false
			}
		} else if k, ok := a[i].(int); !ok || k != s.index {
			return false
		}
	}
	return true
}

// siblingOf reports whether an error path lies below another field of
// the object that holds the current field (the current path ends with
// that field's response key).
func (r *renderer) siblingOf(a []any) bool {
	if len(r.path) == 0 || r.path[len(r.path)-1].key == "" {
		return false
	}
	n := len(r.base) + len(r.path)
	if len(a) < n {
		return false
	}
	last := r.path[len(r.path)-1]
	r.path = r.path[:len(r.path)-1]
	ok := r.relatedTo(a[:n-1])
	r.path = append(r.path, last)
	return ok
}

// render writes the response for shape: data, errors and, for values
// the API schema cannot represent (unless they are errors), extensions.
// It returns the number of errors written; e.invalidValues holds the
// number of invalid values found.
func (e *execution) render(buf []byte, shape *planner.Shape, introspect IntrospectFunc) ([]byte, int) {
	// The notes are made apart from the renderer, which then stays on
	// the stack (a slice into a renderer of its own put it on the heap).
	r := &renderer{e: e, introspect: introspect, untracked: true, at: make([]uint32, shape.Slots)}
	open := len(buf)
	buf = append(buf, `{"data":`...)
	start := len(buf)
	var ok bool
	buf, ok = r.object(buf, e.data, shape.Root, shape.RootType)
	if r.redo {
		r = &renderer{e: e, introspect: introspect, at: make([]uint32, shape.Slots)}
		buf, ok = r.object(buf[:start], e.data, shape.Root, shape.RootType)
	}
	if !ok {
		buf = append(buf[:start], "null"...)
	}
	r.closeInvalid()
	e.invalidValues = r.invalidCount
	errs := distinctErrors(append(e.errors, r.nullErrors...))
	if len(errs) > 0 {
		buf = append(buf, `,"errors":`...)
		b, _ := json.Marshal(errs)
		buf = append(buf, b...)
	}
	buf = append(buf, '}')
	if len(r.completion) > 0 {
		// First, as Apollo Gateway writes it: a body that starts with
		// ExtensionsPrefix is one the server adds extensions of its own
		// to (cost, the plan) without parsing it.
		b, _ := json.Marshal(r.completion)
		ext := make([]byte, 0, len(ExtensionsPrefix)+len(b)+20)
		ext = append(ext, ExtensionsPrefix[1:]...)
		ext = append(ext, `"valueCompletion":`...)
		ext = append(append(ext, b...), "},"...)
		buf = slices.Insert(buf, open+1, ext...)
	}
	return buf, len(errs)
}

// ExtensionsPrefix starts a response whose first member is its
// extensions object: the executor writes extensions.valueCompletion so.
const ExtensionsPrefix = `{"extensions":{`

// maxInvalidValues bounds the invalid values a response lists (in
// extensions.valueCompletion, or in errors): a subgraph answering a list
// of 100,000 values of the wrong shape would otherwise make 100,000
// entries of about 100 bytes each. Past it, one more entry counts the
// values not listed.
const maxInvalidValues = 100

// invalidValue records a value of a subgraph's answer that the API schema
// cannot represent at the current path (a leaf of the wrong shape, an
// enum value the API schema lacks, an object of a runtime type it does
// not have), which the response has null in its place: in
// extensions.valueCompletion, as both reference gateways leave "errors"
// alone (Apollo Gateway writes its message there, Hive Gateway nothing),
// or, with Input.InvalidValuesAsErrors, as a field error (the spec's
// "must raise a field error"). Either way code INVALID_SUBGRAPH_RESPONSE.
// An untracked renderer sets redo instead: the entry needs the path.
func (r *renderer) invalidValue(msg string) {
	if r.untracked {
		r.redo = true
		return
	}
	r.invalidCount++
	if r.invalidCount > maxInvalidValues {
		return
	}
	r.listInvalid(&Error{Message: msg, Path: r.responsePath(), Extensions: map[string]any{"code": "INVALID_SUBGRAPH_RESPONSE"}})
}

// closeInvalid adds, when more invalid values were found than listed, an
// entry that counts those left out.
func (r *renderer) closeInvalid() {
	if r.invalidCount <= maxInvalidValues {
		return
	}
	r.listInvalid(&Error{Message: strconv.Itoa(r.invalidCount-maxInvalidValues) + " more values the API schema cannot represent are not listed",
		Extensions: map[string]any{"code": "INVALID_SUBGRAPH_RESPONSE"}})
}

// listInvalid adds entry to where invalid values go: the response's
// errors with Input.InvalidValuesAsErrors, extensions.valueCompletion
// otherwise.
func (r *renderer) listInvalid(entry *Error) {
	if r.e.invalidAsErrors {
		r.nullErrors = append(r.nullErrors, entry)
	} else {
		r.completion = append(r.completion, entry)
	}
}

// distinctErrors drops errors equal to an earlier one (message, path and
// extensions): one subgraph error can reach a response path twice when
// the plan selects a field twice (the client's selection and a field
// the planner added under its own data key), and the client asked once.
func distinctErrors(errs []*Error) []*Error {
	if len(errs) < 2 {
		return errs
	}
	seen := make(map[string]bool, len(errs))
	out := errs[:0:0]
	for _, e := range errs {
		b, err := json.Marshal(e)
		if err == nil {
			if seen[string(b)] {
				continue
			}
			seen[string(b)] = true
		}
		out = append(out, e)
	}
	return out
}

// object writes one object; false means it must become null.
func (r *renderer) object(buf []byte, v *jsonvalue.Value, sel *planner.ShapeSet, typename string) ([]byte, bool) {
	if sel.Abstract && v != nil {
		typename = v.Get("__typename").Str()
	}
	if null, report := sel.NullCondition(typename); null {
		// @skip/@include with a null condition in this object's
		// selection: a field error at the object's path (spec 6.4.1,
		// CoerceArgumentValues; graphql-js raises it while collecting
		// the object's fields), so the object is null. A @defer payload
		// repeating the object repeats the null, not the error.
		if report {
			r.nullErrors = append(r.nullErrors, &Error{Message: planner.NullConditionMessage,
				Path: r.responsePath(), Extensions: map[string]any{"code": "BAD_USER_INPUT"}})
		}
		return buf, false
	}
	fields := sel.FieldsFor(typename)
	if fields == nil && sel.Abstract {
		if typename != "" && typename != sel.Type {
			// A runtime type the client schema does not have at this
			// position (inaccessible, or not a member): null, an invalid
			// value (at a non-null position the null propagates). The
			// type is not named: it may be one the supergraph hides.
			r.invalidValue("Invalid __typename found for object of type " + sel.Type + ".")
			return buf, false
		}
		if len(sel.ByType) > 0 {
			// An @interfaceObject answer without a concrete type: the
			// plan only leaves it so when every implementation selects
			// alike.
			fields = sel.ByType[0].Fields
		}
	}
	// Without r.at, the fields are looked up from where the last one was
	// found: the merged data often holds them in the selection's order.
	hint := 0
	start := len(buf)
	if len(fields) == 0 {
		return append(buf, "{}"...), true
	}
	for i := range fields {
		f := &fields[i]
		// Every member is written with a comma before it; the first
		// one's becomes the object's brace at the end.
		buf = f.AppendMemberKey(buf)
		var fv *jsonvalue.Value
		if f.PlainLeaf() {
			// Most fields: a leaf whose value is of the shape its type
			// wants (f.Accepts) is written as the data has it. Anything
			// else, null included, goes to value.
			fv = r.lookup(v, f, &hint)
			if f.Accepts(fv.Kind()) {
				buf = fv.AppendJSON(buf)
				continue
			}
		} else {
			if f.Denied {
				// Authorization removed the field from the plan: null, and
				// one error at each path where it appears.
				r.nullErrors = append(r.nullErrors, &Error{Message: "Unauthorized field or type",
					Path: append(r.responsePath(), f.ResponseKey), Extensions: map[string]any{"code": "UNAUTHORIZED_FIELD_OR_TYPE"}})
				if f.NonNull(0) {
					return buf[:start], false
				}
				buf = append(buf, "null"...)
				continue
			}
			switch f.Kind {
			case planner.Typename:
				buf = appendStringText(buf, typename)
				continue
			case planner.Introspection:
				if r.introspect != nil {
					var ok bool
					if buf, ok = r.introspection(buf, f); !ok {
						return buf[:start], false
					}
					continue
				}
			}
			fv = r.lookup(v, f, &hint)
		}
		if r.redo {
			// The response is rendered again keeping the path: what
			// is left of this render is not needed. Tested here, where
			// it may have been set (by a field before or below this
			// one), not for each plain leaf, which never sets it.
			return buf[:start], false
		}
		var ok bool
		if r.untracked {
			buf, ok = r.value(buf, fv, 0, f)
		} else {
			r.path = append(r.path, pathStep{key: f.ResponseKey})
			buf, ok = r.value(buf, fv, 0, f)
			r.path = r.path[:len(r.path)-1]
		}
		if !ok {
			return buf[:start], false
		}
	}
	buf[start] = '{'
	return append(buf, '}'), true
}

// IntrospectFunc renders a root __schema or __type field; nullPaths are
// the paths, below the field, of objects a null @skip/@include condition
// made null (executor.Introspector.Field).
type IntrospectFunc func(buf []byte, f *planner.ShapeField) (out []byte, nullPaths [][]any)

// introspection writes the root introspection field f, with an error for
// each object a null condition made null; false means null must
// propagate (a null __schema, which is non-null).
func (r *renderer) introspection(buf []byte, f *planner.ShapeField) ([]byte, bool) {
	at := len(buf)
	buf, nullPaths := r.introspect(buf, f)
	if len(nullPaths) > 0 && r.untracked {
		// The errors need the response path: rendered again keeping it.
		r.redo = true
		return buf, false
	}
	for _, p := range nullPaths {
		path := append(append(r.responsePath(), f.ResponseKey), p...)
		r.nullErrors = append(r.nullErrors, &Error{Message: planner.NullConditionMessage, Path: path,
			Extensions: map[string]any{"code": "BAD_USER_INPUT"}})
	}
	if f.NonNull(0) && string(buf[at:]) == "null" {
		return buf, false
	}
	return buf, true
}

// lookup returns the member of v that f reads: at the member r.at notes
// for f, or from *hint on. The member at r.at's index, when its key is
// f.DataKey's own string (an answer's keys share the plan's), is taken
// here without a call; anything else goes to lookupBy. With its calls
// apart, the common case keeps nothing on the stack.
func (r *renderer) lookup(v *jsonvalue.Value, f *planner.ShapeField, hint *int) *jsonvalue.Value {
	if s := f.Slot(); s < len(r.at) {
		if i, ms := r.at[s], v.Members(); uint(i) < uint(len(ms)) && jsonvalue.SameString(ms[i].Key, f.DataKey) {
			return ms[i].Value
		}
	}
	return r.lookupBy(v, f, hint)
}

// lookupBy is lookup by FieldAt or Field.
func (r *renderer) lookupBy(v *jsonvalue.Value, f *planner.ShapeField, hint *int) *jsonvalue.Value {
	if s := f.Slot(); s < len(r.at) {
		return v.FieldAt(f.DataKey, &r.at[s])
	}
	return v.Field(f.DataKey, hint)
}

// value writes the value of f level list levels down (0: the field's own
// value); false means null must propagate.
func (r *renderer) value(buf []byte, v *jsonvalue.Value, level int, f *planner.ShapeField) ([]byte, bool) {
	nonNull := f.NonNull(level)
	t := v.Type()
	if t == jsonvalue.TypeNull {
		if nonNull {
			r.nullError(f)
			return buf, false
		}
		return append(buf, "null"...), true
	}
	start := len(buf)
	if level < f.Lists() {
		if t != jsonvalue.TypeArray {
			return r.invalid(buf, nonNull, f)
		}
		arr := v.Array()
		buf = append(buf, '[')
		for i, item := range arr {
			if i > 0 {
				buf = append(buf, ',')
			}
			var ok bool
			if r.untracked {
				buf, ok = r.value(buf, item, level+1, f)
			} else {
				r.path = append(r.path, pathStep{index: i})
				buf, ok = r.value(buf, item, level+1, f)
				r.path = r.path[:len(r.path)-1]
			}
			if !ok {
				buf = buf[:start]
				if nonNull {
					return buf, false
				}
				return append(buf, "null"...), true
			}
		}
		return append(buf, ']'), true
	}
	if f.Selection != nil {
		if t != jsonvalue.TypeObject {
			return r.invalid(buf, nonNull, f)
		}
		out, ok := r.object(buf, v, f.Selection, f.Selection.Type)
		if !ok {
			if nonNull {
				return buf[:start], false
			}
			return append(buf[:start], "null"...), true
		}
		return out, true
	}
	if f.Accepts(v.Kind()) {
		return v.AppendJSON(buf), true
	}
	return r.leaf(buf, v, nonNull, f)
}

// appendStringText is appendString for a Go string, read in place.
func appendStringText(buf []byte, s string) []byte {
	return jsonvalue.AppendStringText(buf, s)
}

// appendName writes a GraphQL name of the schema ([_A-Za-z][_0-9A-Za-z]*,
// which the schema's parser enforces) as a JSON string: it has nothing to
// escape.
func appendName(buf []byte, name string) []byte {
	buf = append(buf, '"')
	buf = append(buf, name...)
	return append(buf, '"')
}

// invalid writes null for the value of f whose JSON shape is not its
// type's: an object or a scalar where a list is due, a list or a scalar
// where an object is; false means null must propagate.
func (r *renderer) invalid(buf []byte, nonNull bool, f *planner.ShapeField) ([]byte, bool) {
	r.invalidValue("Invalid value for field " + f.ParentType + "." + f.Name)
	if nonNull || r.redo {
		return buf, false
	}
	return append(buf, "null"...), true
}

// nullError records a non-null violation unless an error already covers
// the path: the subgraph's own error, a failed fetch above it, or a
// subgraph error at another field of the same object. An entity fetch
// whose answer for an object is null (one of its non-null fields failed)
// leaves every field it fetched missing; the object is null because of
// that one error, which the spec reports once (only one error per field
// that caused the null, spec 6.4.4), not once more per missing sibling.
func (r *renderer) nullError(f *planner.ShapeField) {
	if r.untracked {
		r.redo = true
		return
	}
	for _, e := range r.e.errors {
		if r.relatedTo(e.Path) || r.siblingOf(e.Path) || r.missingWith(e) {
			return
		}
	}
	for _, list := range [2][]*Error{r.nullErrors, r.completion} {
		for _, e := range list {
			if r.relatedTo(e.Path) {
				return
			}
		}
	}
	r.nullErrors = append(r.nullErrors, &Error{Message: "Cannot return null for non-nullable field " + f.ParentType + "." + f.Name + ".",
		Path: r.responsePath()})
}

// missingWith reports whether the field being rendered is missing because
// of e: a root fetch that answered null data with e (a non-null field of
// one of its root fields failed, so the subgraph nulled them all) leaves
// every root field it answers without a value, and a field below one of
// them, null for the same failure, is not reported again (both Apollo
// Gateway and Hive Gateway report the subgraph's errors only).
func (r *renderer) missingWith(e *Error) bool {
	if !e.nullData || e.fetch == nil {
		return false
	}
	path := r.responsePath()
	if len(path) == 0 {
		return false
	}
	key, ok := path[0].(string)
	if !ok {
		return false
	}
	for _, k := range e.fetch.RootFields {
		if planner.ResponseKeyOf(k) == key {
			return true
		}
	}
	return false
}

// related reports whether one path is a prefix of the other; a nil error
// path (a failed fetch at the root) covers everything.
func related(a, b []any) bool {
	if a == nil {
		return true
	}
	n := len(a)
	if len(b) < n {
		n = len(b)
	}
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
