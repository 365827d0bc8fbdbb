// Package fixturesub serves every subgraph of a supergraph with generated,
// deterministic data, so that any composed fixture can be run end to end
// behind any gateway.
//
// A subgraph's schema is read from the supergraph's join directives (which
// types and fields each subgraph defines, keys, @requires, possible types).
// Data is a pure function of the request: an entity has an identity, a
// small number n, that every key field encodes (an Int or Float key is n,
// an ID or String key is "n"), so any subgraph receiving a representation
// recovers n and generates the same values for the same entity; every
// other value is a hash of the parent's identity, the field name, its
// arguments and, for a field with @requires, the required values the
// representation carried. Two gateways that plan differently but
// correctly therefore get the same answers, and a gateway that sends
// wrong keys or @requires inputs gets visibly different ones.
//
// A request for a field the subgraph does not define is rejected the way a
// real subgraph rejects it (a GraphQL error, no data).
package fixturesub

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/fedgate/gateway/internal/wideint"
	"github.com/fedgate/gateway/schema"
)

// Option configures Handlers.
type Option func(*subgraph)

// WithErrors makes about one nullable non-key field value in 23 an error:
// null with a GraphQL error at its path, so gateways' error paths and
// null handling get compared too.
func WithErrors() Option { return func(s *subgraph) { s.errors = true } }

// WithNonNullErrors also makes about one non-null non-key field value in
// 29 (below the root) an error, which the subgraph propagates as GraphQL
// does (spec 6.4.4): the nearest nullable position above it is null (an
// entity of _entities, a list item, a field), the error at the failing
// field's path; gateways must carry that null on through the client's
// selection, across entity fetches.
func WithNonNullErrors() Option { return func(s *subgraph) { s.errors, s.nonNullErrors = true, true } }

// Planted gives the raw JSON a subgraph answers for field of type typ
// with the argument values args (their canonical JSON, defaults applied:
// {"shape":"float"}); false leaves the field to the generated data.
type Planted func(typ, field, args string) (raw string, ok bool)

// WithAnswers plants answers: a field for which plant says so is answered
// with its raw JSON, as it is, whatever the field's type (a number where
// a String is due, an object where an Int is): what a gateway does with a
// subgraph's answer of the wrong shape can then be compared.
func WithAnswers(plant Planted) Option { return func(s *subgraph) { s.plant = plant } }

// WithRouting makes the leaf values of fields that several subgraphs
// resolve (@shareable fields, fields of value types defined in several
// subgraphs, @provides targets; not key fields) differ per subgraph: each
// subgraph mixes its name into the value. Federation wants such copies to
// answer alike, and by default they do, so which subgraph a plan asks is
// invisible; with this option an answer shows it, and two gateways that
// route a shared field differently differ (a plan choice, not a wrong
// answer unless one route cannot be right).
func WithRouting() Option { return func(s *subgraph) { s.routing = true } }

// WithMissingEntities makes every subgraph answer null, without an error,
// for the _entities representations of about one entity in seven (by its
// key), as a subgraph answers a reference to an entity it does not know
// (a reference resolver returning null). Root fields still return those
// entities, so gateways must complete the fields such an entity fetch
// would have given: null for a nullable field, the null propagated with
// an error for a non-null one.
func WithMissingEntities() Option { return func(s *subgraph) { s.missing = true } }

// Handlers returns one HTTP handler per subgraph of sg, by subgraph name.
// Each serves GraphQL POST requests on any path.
func Handlers(sg *schema.Supergraph, opts ...Option) map[string]http.Handler {
	keyLeaves := map[string]map[string]bool{}
	keyObjects := map[string]map[string]bool{}
	for name, t := range sg.Types {
		for _, tg := range t.Graphs {
			for _, k := range tg.Keys {
				addKeyLeaves(sg, keyLeaves, name, k.Selection)
				for _, sel := range k.Selection {
					if f, ok := sel.(*ast.Field); ok && len(f.SelectionSet) > 0 {
						if keyObjects[name] == nil {
							keyObjects[name] = map[string]bool{}
						}
						keyObjects[name][f.Name] = true
					}
				}
			}
		}
	}
	out := map[string]http.Handler{}
	for _, g := range sg.Graphs {
		sub := &subgraph{sg: sg, graph: g.ID, keyLeaves: keyLeaves, keyObjects: keyObjects}
		for _, o := range opts {
			o(sub)
		}
		out[g.Name] = sub
	}
	return out
}

// addKeyLeaves records, per type, the leaf fields that appear in a key
// selection at that type (nested key objects included).
func addKeyLeaves(sg *schema.Supergraph, into map[string]map[string]bool, typ string, set ast.SelectionSet) {
	def := sg.Full.Types[typ]
	if def == nil {
		return
	}
	for _, sel := range set {
		f, ok := sel.(*ast.Field)
		if !ok {
			continue
		}
		fd := def.Fields.ForName(f.Name)
		if fd == nil {
			continue
		}
		if len(f.SelectionSet) == 0 {
			if into[typ] == nil {
				into[typ] = map[string]bool{}
			}
			into[typ][f.Name] = true
			continue
		}
		addKeyLeaves(sg, into, fd.Type.Name(), f.SelectionSet)
	}
}

type subgraph struct {
	sg        *schema.Supergraph
	graph     string
	keyLeaves map[string]map[string]bool
	// keyObjects: per type, the fields with a selection its keys select.
	keyObjects map[string]map[string]bool
	errors     bool
	// nonNullErrors: errors at non-null positions too (WithNonNullErrors).
	nonNullErrors bool
	// plant: WithAnswers.
	plant Planted
	// routing: WithRouting.
	routing bool
	// missing: WithMissingEntities.
	missing bool
}

// nonNullError unwinds a failed non-null value to the nearest nullable
// position, which writes null in its place (nullable).
type nonNullError struct{}

// nullable makes the value written since start null when a non-null value
// below it failed, and takes the path back to its length depth; deferred
// by each nullable position.
func (e *execution) nullable(start, depth int) {
	r := recover()
	if r == nil {
		return
	}
	if _, ok := r.(nonNullError); !ok {
		panic(r)
	}
	e.out = append(e.out[:start], "null"...)
	e.path = e.path[:depth]
}

type request struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
}

// maxBody bounds a request body.
const maxBody = 8 << 20

func (s *subgraph) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		writeError(w, "fixturesub: POST only")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		writeError(w, "fixturesub: reading the body: "+err.Error())
		return
	}
	var req request
	if err := json.Unmarshal(body, &req); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		writeError(w, "fixturesub: body is not JSON: "+err.Error())
		return
	}
	out, err := s.execute(req)
	if err != nil {
		writeError(w, err.Error())
		return
	}
	_, _ = w.Write(out)
}

func writeError(w io.Writer, msg string) {
	b, _ := json.Marshal(map[string]any{"data": nil, "errors": []any{map[string]any{"message": msg}}})
	_, _ = w.Write(b)
}

// execution is the state of one request.
type execution struct {
	*subgraph
	doc  *ast.QueryDocument
	vars map[string]any
	out  []byte
	// path is the response path being written; errs the field errors.
	path []any
	errs []map[string]any
}

// requestError rejects the whole request, as validation would.
type requestError string

func (e requestError) Error() string { return string(e) }

func (s *subgraph) execute(req request) (out []byte, err error) {
	doc, perr := parser.ParseQuery(&ast.Source{Input: req.Query})
	if perr != nil {
		return nil, fmt.Errorf("fixturesub: %v", perr)
	}
	var op *ast.OperationDefinition
	if req.OperationName != "" {
		op = doc.Operations.ForName(req.OperationName)
	} else if len(doc.Operations) == 1 {
		op = doc.Operations[0]
	}
	if op == nil {
		return nil, fmt.Errorf("fixturesub: no operation %q", req.OperationName)
	}
	vars := map[string]any{}
	for k, v := range req.Variables {
		vars[k] = v
	}
	for _, vd := range op.VariableDefinitions {
		if _, ok := vars[vd.Variable]; !ok && vd.DefaultValue != nil {
			if v, err := wideint.LiteralValue(vd.DefaultValue, vd.Type, s.sg.Full, nil); err == nil {
				vars[vd.Variable] = v
			}
		}
	}
	root := s.sg.Full.Query
	if op.Operation == ast.Mutation {
		root = s.sg.Full.Mutation
	}
	if root == nil {
		return nil, fmt.Errorf("fixturesub: no root type for %s", op.Operation)
	}
	e := &execution{subgraph: s, doc: doc, vars: vars}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(nonNullError); ok {
				// A non-null root field failed: data is null.
				b, _ := json.Marshal(map[string]any{"data": nil, "errors": e.errs})
				out, err = b, nil
				return
			}
			re, ok := r.(requestError)
			if !ok {
				panic(r)
			}
			out, err = nil, re
		}
	}()
	e.out = append(e.out, `{"data":`...)
	e.object(&object{typ: root.Name, id: hashOf(root.Name)}, op.SelectionSet)
	if len(e.errs) > 0 {
		b, _ := json.Marshal(e.errs)
		e.out = append(e.out, `,"errors":`...)
		e.out = append(e.out, b...)
	}
	e.out = append(e.out, '}')
	return e.out, nil
}

// object is a value being resolved: its concrete type in this subgraph,
// its identity, and the representation it came from (entities).
type object struct {
	typ string
	id  uint64
	rep map[string]any
}

func hashOf(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		_, _ = io.WriteString(h, p)
		_, _ = h.Write([]byte{0})
	}
	return h.Sum64()
}

// collected is one response key of a selection set, with the fields that
// share it.
type collected struct {
	key    string
	fields []*ast.Field
}

func (e *execution) collect(typ string, set ast.SelectionSet, into *[]*collected, index map[string]*collected, seen map[string]bool) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if !e.included(s.Directives) {
				continue
			}
			key := s.Alias
			if key == "" {
				key = s.Name
			}
			c := index[key]
			if c == nil {
				c = &collected{key: key}
				index[key] = c
				*into = append(*into, c)
			}
			c.fields = append(c.fields, s)
		case *ast.InlineFragment:
			if !e.included(s.Directives) || !e.matches(typ, s.TypeCondition) {
				continue
			}
			e.collect(typ, s.SelectionSet, into, index, seen)
		case *ast.FragmentSpread:
			if !e.included(s.Directives) || seen[s.Name] {
				continue
			}
			seen[s.Name] = true
			fd := e.doc.Fragments.ForName(s.Name)
			if fd == nil {
				panic(requestError(fmt.Sprintf("Unknown fragment %q.", s.Name)))
			}
			if e.matches(typ, fd.TypeCondition) {
				e.collect(typ, fd.SelectionSet, into, index, seen)
			}
		}
	}
}

func (e *execution) included(dirs ast.DirectiveList) bool {
	for _, d := range dirs {
		if d.Name != "skip" && d.Name != "include" {
			continue
		}
		a := d.Arguments.ForName("if")
		if a == nil {
			continue
		}
		v, err := a.Value.Value(e.vars)
		b, ok := v.(bool)
		if err != nil || !ok {
			panic(requestError(fmt.Sprintf("@%s(if:) is not a Boolean", d.Name)))
		}
		if (d.Name == "skip") == b {
			return false
		}
	}
	return true
}

// matches reports whether a fragment with type condition cond applies to
// an object of concrete type typ.
func (e *execution) matches(typ, cond string) bool {
	if cond == "" || cond == typ {
		return true
	}
	def := e.sg.Full.Types[cond]
	if def == nil {
		panic(requestError(fmt.Sprintf("Unknown type %q.", cond)))
	}
	for _, p := range e.sg.Full.GetPossibleTypes(def) {
		if p.Name == typ {
			return true
		}
	}
	return false
}

func (e *execution) object(o *object, set ast.SelectionSet) {
	var fields []*collected
	e.collect(o.typ, set, &fields, map[string]*collected{}, map[string]bool{})
	e.out = append(e.out, '{')
	for i, c := range fields {
		if i > 0 {
			e.out = append(e.out, ',')
		}
		e.out = strconv.AppendQuote(e.out, c.key)
		e.out = append(e.out, ':')
		e.path = append(e.path, c.key)
		e.field(o, c)
		e.path = e.path[:len(e.path)-1]
	}
	e.out = append(e.out, '}')
}

func (e *execution) field(o *object, c *collected) {
	f := c.fields[0]
	if f.Name == "__typename" {
		e.out = strconv.AppendQuote(e.out, o.typ)
		return
	}
	def := e.sg.Full.Types[o.typ]
	t := e.sg.Types[o.typ]
	if f.Name == "_entities" && def == e.sg.Full.Query {
		e.entities(f, c)
		return
	}
	var fd *ast.FieldDefinition
	if def != nil {
		fd = def.Fields.ForName(f.Name)
	}
	if fd == nil || t == nil || !e.defines(t, f.Name) {
		panic(requestError(fmt.Sprintf("Cannot query field %q on type %q.", f.Name, o.typ)))
	}
	args, argErr := e.arguments(f, fd, t.Fields[f.Name].Graphs[e.graph])
	if argErr != "" {
		// A field error, as graphql-js raises it coercing the arguments:
		// the field is null, and a non-null one makes its parent null.
		e.errs = append(e.errs, map[string]any{"message": argErr, "path": append([]any{}, e.path...)})
		if fd.Type.NonNull {
			panic(nonNullError{})
		}
		e.out = append(e.out, "null"...)
		return
	}
	if e.plant != nil {
		if raw, ok := e.plant(o.typ, f.Name, args); ok {
			e.out = append(e.out, raw...)
			return
		}
	}
	id := hashOf(strconv.FormatUint(o.id, 10), f.Name, args)
	if e.routing && e.sharedLeaf(t, fd) {
		id = hashOf(strconv.FormatUint(id, 10), e.graph)
	}
	if fg := t.Fields[f.Name].Graphs[e.graph]; fg != nil && len(fg.Requires) > 0 {
		id = hashOf(strconv.FormatUint(id, 10), requiredInputs(o.rep, fg.Requires))
	}
	var sub ast.SelectionSet
	for _, x := range c.fields {
		sub = append(sub, x.SelectionSet...)
	}
	key := e.keyLeaves[o.typ][f.Name]
	if key && o.rep != nil {
		if v, ok := o.rep[f.Name]; ok && len(sub) == 0 {
			b, _ := json.Marshal(v)
			e.out = append(e.out, b...)
			return
		}
	}
	if o.rep != nil && len(sub) > 0 && e.keyObjects[o.typ][f.Name] {
		if v, ok := o.rep[f.Name]; ok {
			// A key field with a selection (a key like "books { isbn }"):
			// the entity's own objects, as the representation names them,
			// so an entity answered again through its key has the same.
			e.fromRep(v, fd.Type, sub)
			return
		}
	}
	// A key object asked where no representation names it (a root
	// field's entity, "id loc { code zone }"): it shares the entity's
	// identity, so its key leaves encode the entity as a representation
	// would carry them.
	e.value(o, f.Name, fd.Type, id, key || e.keyObjects[o.typ][f.Name], sub, 0)
}

// sharedLeaf reports whether fd of t is a leaf field (scalar or enum) that
// more than one subgraph resolves (not @external there), with WithRouting.
func (e *execution) sharedLeaf(t *schema.Type, fd *ast.FieldDefinition) bool {
	def := e.sg.Full.Types[fd.Type.Name()]
	if def == nil || (def.Kind != ast.Scalar && def.Kind != ast.Enum) {
		return false
	}
	f := t.Fields[fd.Name]
	if f == nil {
		return false
	}
	n := 0
	if f.Graphs == nil {
		for _, tg := range t.Graphs {
			if tg != nil {
				n++
			}
		}
		return n > 1
	}
	for _, fg := range f.Graphs {
		if fg.OverrideLabel != "" {
			// Progressive @override: each request draws its subgraph.
			return false
		}
		if !fg.External {
			n++
		}
	}
	// A field @external in this subgraph answered through @provides is
	// this subgraph's answer too.
	return n > 1 || (f.Graphs[e.graph] != nil && f.Graphs[e.graph].External)
}

// defines reports whether this subgraph defines field name of t.
func (e *execution) defines(t *schema.Type, name string) bool {
	tg := t.Graphs[e.graph]
	if tg == nil {
		return false
	}
	f := t.Fields[name]
	if f == nil {
		return false
	}
	if f.Graphs == nil {
		return true
	}
	_, ok := f.Graphs[e.graph]
	return ok
}

// arguments returns the canonical JSON of the field's argument values,
// defaults applied and nulls dropped, or the message of the field error
// coercing them raises: a variable sent null in a non-null position (an
// argument, an input object field or a list item) that a nullable
// variable may take because the position has a default (spec 5.8.5, 6.4.1
// CoerceArgumentValues, 3.10). A variable left out of an input object
// value leaves the field out, so that its default applies (3.10).
func (e *execution) arguments(f *ast.Field, fd *ast.FieldDefinition, fg *schema.FieldInGraph) (string, string) {
	vals := map[string]any{}
	defs := fd.Arguments
	if fg != nil {
		// Contextual arguments are the subgraph's, not the API schema's.
		for _, ca := range fg.ContextArguments {
			defs = append(defs[:len(defs):len(defs)], &ast.ArgumentDefinition{Name: ca.Name, Type: ca.ArgType})
		}
	}
	for _, ad := range defs {
		var v any
		if a := f.Arguments.ForName(ad.Name); a != nil {
			if e.nullInNonNull(a.Value, ad.Type) {
				return "", fmt.Sprintf("Argument %q of type %q has a null where a non-null value is due.", ad.Name, ad.Type.String())
			}
			var err error
			// Int literals beyond 64 bits are valid Float, ID and custom
			// scalar values (read as graphql-js reads them).
			if v, err = wideint.LiteralValue(e.withoutMissing(a.Value), ad.Type, e.sg.Full, e.vars); err != nil {
				panic(requestError(fmt.Sprintf("argument %q: %v", ad.Name, err)))
			}
			if a.Value.Kind == ast.Variable {
				if _, ok := e.vars[a.Value.Raw]; !ok && ad.DefaultValue != nil {
					v, _ = ad.DefaultValue.Value(nil)
				}
			}
		} else if ad.DefaultValue != nil {
			v, _ = ad.DefaultValue.Value(nil)
		}
		if v != nil {
			vals[ad.Name] = e.coerce(normalizeInput(v), ad.Type, 0)
		}
	}
	if len(vals) == 0 {
		return "", ""
	}
	b, _ := json.Marshal(vals)
	return string(b), ""
}

// nullInNonNull reports whether v, a value of type typ, holds a variable
// the request sent as null in a non-null position.
func (e *execution) nullInNonNull(v *ast.Value, typ *ast.Type) bool {
	if v == nil || typ == nil {
		return false
	}
	switch v.Kind {
	case ast.Variable:
		x, sent := e.vars[v.Raw]
		return sent && x == nil && typ.NonNull
	case ast.ListValue:
		for _, c := range v.Children {
			if typ.Elem != nil && e.nullInNonNull(c.Value, typ.Elem) {
				return true
			}
		}
	case ast.ObjectValue:
		def := e.sg.Full.Types[typ.NamedType]
		if def == nil || def.Kind != ast.InputObject {
			return false
		}
		for _, c := range v.Children {
			if fd := def.Fields.ForName(c.Name); fd != nil && e.nullInNonNull(c.Value, fd.Type) {
				return true
			}
		}
	}
	return false
}

// withoutMissing returns v without the input object fields whose value is
// a variable the request did not send (in a list, such a variable is an
// item null, as graphql-js coerces it).
func (e *execution) withoutMissing(v *ast.Value) *ast.Value {
	if v == nil || (v.Kind != ast.ObjectValue && v.Kind != ast.ListValue) {
		return v
	}
	out := *v
	out.Children = nil
	for _, c := range v.Children {
		if v.Kind == ast.ObjectValue && c.Value != nil && c.Value.Kind == ast.Variable {
			if _, sent := e.vars[c.Value.Raw]; !sent {
				continue
			}
		}
		out.Children = append(out.Children, &ast.ChildValue{Name: c.Name, Value: e.withoutMissing(c.Value), Position: c.Position})
	}
	return &out
}

// coerce applies input coercion (spec 3.5, 3.11) to an argument value of
// type t, so that every way of writing one value hashes alike: an ID
// written as an Int is its string, one item where a list is expected is
// a list of it, input object fields take their defaults.
func (e *execution) coerce(v any, t *ast.Type, depth int) any {
	if v == nil || t == nil || depth > 32 {
		return v
	}
	if t.Elem != nil {
		list, ok := v.([]any)
		if !ok {
			list = []any{v}
		}
		out := make([]any, len(list))
		for i := range list {
			out[i] = e.coerce(list[i], t.Elem, depth+1)
		}
		return out
	}
	if t.NamedType == "ID" {
		if f, ok := v.(float64); ok && f == float64(int64(f)) {
			return strconv.FormatInt(int64(f), 10)
		}
		return v
	}
	def := e.sg.Full.Types[t.NamedType]
	obj, ok := v.(map[string]any)
	if def == nil || def.Kind != ast.InputObject || !ok {
		return v
	}
	out := map[string]any{}
	for _, fd := range def.Fields {
		fv, ok := obj[fd.Name]
		if !ok && fd.DefaultValue != nil {
			fv, _ = fd.DefaultValue.Value(nil)
			fv, ok = normalizeInput(fv), true
		}
		if ok {
			// An explicit null is null, not the field's default
			// (spec 3.10, input coercion).
			out[fd.Name] = e.coerce(fv, fd.Type, depth+1)
		}
	}
	return out
}

// normalize turns literal numbers into float64, as JSON variables are, so
// a value hashes alike whether a gateway inlines it or sends a variable;
// -0 is 0 (a gateway that parses -0.0 and prints the number, as
// JavaScript does, forwards 0).
func normalize(v any) any {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case int:
		return float64(x)
	case float64:
		if x == 0 {
			return 0.0
		}
		return x
	case json.Number:
		f, _ := x.Float64()
		return normalize(f)
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = normalize(x[i])
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, y := range x {
			if y != nil {
				out[k] = normalize(y)
			}
		}
		return out
	}
	return v
}

// normalizeInput is normalize for an argument value: an input object
// field given null keeps it, apart from a field left out (which takes its
// default).
func normalizeInput(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = normalizeInput(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, y := range x {
			out[k] = normalizeInput(y)
		}
		return out
	}
	return normalize(v)
}

// requiredInputs is the canonical JSON of the representation's values for
// a @requires selection; "missing" when the gateway sent none.
func requiredInputs(rep map[string]any, set ast.SelectionSet) string {
	if rep == nil {
		return "missing"
	}
	b, _ := json.Marshal(project(rep, set))
	return string(b)
}

func project(v any, set ast.SelectionSet) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = project(x[i], set)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		projectInto(out, x, set)
		return out
	}
	return v
}

func projectInto(out, obj map[string]any, set ast.SelectionSet) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			v, ok := obj[s.Name]
			if !ok {
				out[s.Name] = "missing"
				continue
			}
			if len(s.SelectionSet) > 0 {
				v = project(v, s.SelectionSet)
			}
			out[s.Name] = normalize(v)
		case *ast.InlineFragment:
			if tn, _ := obj["__typename"].(string); s.TypeCondition == "" || tn == s.TypeCondition {
				projectInto(out, obj, s.SelectionSet)
			}
		}
	}
}

// value writes a generated value of type typ. id identifies the position
// (parent identity, field, arguments); key says whether the field is a
// key field of its parent, whose value encodes the parent's identity.
func (e *execution) value(parent *object, field string, typ *ast.Type, id uint64, key bool, sub ast.SelectionSet, index int) {
	if !typ.NonNull {
		defer e.nullable(len(e.out), len(e.path))
	} else if e.nonNullErrors && typ.Elem == nil && !key && id%29 == 0 && parent.typ != e.sg.Full.Query.Name {
		e.errs = append(e.errs, map[string]any{"message": "fixture error in non-null " + field, "path": append([]any{}, e.path...)})
		panic(nonNullError{})
	}
	if !typ.NonNull && index >= 0 && !key && id%9 == 0 {
		e.out = append(e.out, "null"...)
		return
	}
	if e.errors && !typ.NonNull && !key && id%23 == 0 && parent.typ != e.sg.Full.Query.Name {
		e.out = append(e.out, "null"...)
		e.errs = append(e.errs, map[string]any{"message": "fixture error in " + field, "path": append([]any{}, e.path...)})
		return
	}
	if typ.Elem != nil {
		n := int(hashOf(strconv.FormatUint(id, 10), "len") % 3)
		if parent.typ == e.sg.Full.Query.Name {
			n++
		}
		e.out = append(e.out, '[')
		for i := 0; i < n; i++ {
			if i > 0 {
				e.out = append(e.out, ',')
			}
			item := hashOf(strconv.FormatUint(id, 10), strconv.Itoa(i))
			e.path = append(e.path, i)
			e.value(parent, field, typ.Elem, item, key, sub, i)
			e.path = e.path[:len(e.path)-1]
		}
		e.out = append(e.out, ']')
		return
	}
	def := e.sg.Full.Types[typ.NamedType]
	if def == nil {
		panic(requestError(fmt.Sprintf("unknown type %q", typ.NamedType)))
	}
	switch def.Kind {
	case ast.Scalar:
		e.scalar(typ.NamedType, field, parent.id, id, key)
	case ast.Enum:
		vals := e.enumValues(def)
		if len(vals) == 0 {
			e.out = append(e.out, "null"...)
			return
		}
		e.out = strconv.AppendQuote(e.out, vals[id%uint64(len(vals))])
	default:
		child := e.child(parent, def, id, key)
		if child == nil {
			e.out = append(e.out, "null"...)
			return
		}
		e.object(child, sub)
	}
}

// child creates the object a field of composite type def returns.
func (e *execution) child(parent *object, def *ast.Definition, id uint64, key bool) *object {
	typ := def.Name
	t := e.sg.Types[typ]
	entity := e.isEntity(typ)
	n := 1 + id%20
	if key {
		// A nested key object shares its parent's identity, so its own key
		// leaves encode it too.
		n = parent.id
	}
	if def.IsAbstractType() {
		if tg := t.Graphs[e.graph]; tg != nil && tg.InterfaceObject {
			return &object{typ: typ, id: n}
		}
		possible := e.possible(t)
		if len(possible) == 0 {
			return nil
		}
		pick := id
		if entity {
			pick = n
		}
		typ = possible[pick%uint64(len(possible))]
		entity = e.isEntity(typ) || entity
	}
	if entity || key {
		return &object{typ: typ, id: n}
	}
	return &object{typ: typ, id: id}
}

func (e *execution) isEntity(typ string) bool {
	t := e.sg.Types[typ]
	if t == nil {
		return false
	}
	for _, tg := range t.Graphs {
		if len(tg.Keys) > 0 {
			return true
		}
	}
	return false
}

// possible lists the object types this subgraph may return for the
// abstract type t, sorted.
func (e *execution) possible(t *schema.Type) []string {
	var out []string
	if tg := t.Graphs[e.graph]; tg != nil {
		for name := range tg.Possible {
			if ot := e.sg.Types[name]; ot != nil && ot.Graphs[e.graph] != nil {
				out = append(out, name)
			}
		}
	}
	sort.Strings(out)
	return out
}

// enumValues lists the values of an enum this subgraph knows.
func (e *execution) enumValues(def *ast.Definition) []string {
	var out []string
	for _, v := range def.EnumValues {
		if v.Directives.ForName("inaccessible") != nil {
			continue
		}
		ds := v.Directives.ForNames("join__enumValue")
		mine := len(ds) == 0
		for _, d := range ds {
			if a := d.Arguments.ForName("graph"); a != nil && a.Value.Raw == e.graph {
				mine = true
			}
		}
		if mine {
			out = append(out, v.Name)
		}
	}
	return out
}

func (e *execution) scalar(typ, field string, parentID, id uint64, key bool) {
	if key {
		switch typ {
		case "Int", "Float":
			e.out = strconv.AppendUint(e.out, parentID, 10)
		case "Boolean":
			e.out = strconv.AppendBool(e.out, parentID%2 == 0)
		default:
			e.out = strconv.AppendQuote(e.out, strconv.FormatUint(parentID, 10))
		}
		return
	}
	switch typ {
	case "Int":
		e.out = strconv.AppendUint(e.out, id%100, 10)
	case "Float":
		e.out = strconv.AppendFloat(e.out, float64(id%1000)/10, 'f', -1, 64)
	case "Boolean":
		e.out = strconv.AppendBool(e.out, id%2 == 0)
	default:
		e.out = strconv.AppendQuote(e.out, field+"-"+strconv.FormatUint(id%100, 10))
	}
}

// entities answers _entities: each representation's identity is read
// from its key values.
func (e *execution) entities(f *ast.Field, c *collected) {
	a := f.Arguments.ForName("representations")
	if a == nil {
		panic(requestError("_entities needs representations"))
	}
	v, err := a.Value.Value(e.vars)
	if err != nil {
		panic(requestError("representations: " + err.Error()))
	}
	reps, ok := v.([]any)
	if !ok {
		panic(requestError("representations is not a list"))
	}
	var sub ast.SelectionSet
	for _, x := range c.fields {
		sub = append(sub, x.SelectionSet...)
	}
	e.out = append(e.out, '[')
	for i, r := range reps {
		if i > 0 {
			e.out = append(e.out, ',')
		}
		rep, ok := r.(map[string]any)
		tn, _ := rep["__typename"].(string)
		t := e.sg.Types[tn]
		if !ok || t == nil || t.Graphs[e.graph] == nil {
			panic(requestError(fmt.Sprintf("representation %d: no entity type %q in this subgraph", i, tn)))
		}
		n := identity(e.keyPart(tn, rep))
		if e.missing && n%7 == 3 {
			e.out = append(e.out, "null"...)
			continue
		}
		typ := tn
		if tg := t.Graphs[e.graph]; t.Kind != ast.Object && !tg.InterfaceObject {
			possible := e.possible(t)
			if len(possible) == 0 {
				e.out = append(e.out, "null"...)
				continue
			}
			typ = possible[n%uint64(len(possible))]
		}
		e.path = append(e.path, i)
		e.entity(&object{typ: typ, id: n, rep: rep}, sub)
		e.path = e.path[:len(e.path)-1]
	}
	e.out = append(e.out, ']')
}

// fromRep writes the value of a composite key field from the
// representation's value v of type typ: lists item by item, each object
// resolved with its part of the representation (its key leaves come from
// there, its other fields from its identity).
func (e *execution) fromRep(v any, typ *ast.Type, sub ast.SelectionSet) {
	switch x := v.(type) {
	case []any:
		if typ.Elem == nil {
			break
		}
		e.out = append(e.out, '[')
		for i, item := range x {
			if i > 0 {
				e.out = append(e.out, ',')
			}
			e.path = append(e.path, i)
			e.fromRep(item, typ.Elem, sub)
			e.path = e.path[:len(e.path)-1]
		}
		e.out = append(e.out, ']')
		return
	case map[string]any:
		rep := make(map[string]any, len(x))
		for k, val := range x {
			rep[k] = val
		}
		typName := typ.Name()
		if tn, ok := rep["__typename"].(string); ok && e.sg.Types[tn] != nil {
			typName = tn
		}
		e.object(&object{typ: typName, id: identity(rep), rep: x}, sub)
		return
	}
	e.out = append(e.out, "null"...)
}

// entity writes one item of _entities, null when a non-null field of it
// failed (the items are nullable: [_Entity]!).
func (e *execution) entity(o *object, sub ast.SelectionSet) {
	defer e.nullable(len(e.out), len(e.path))
	e.object(o, sub)
}

// keyPart is the part of a representation of type typ that its keys
// select: the @requires inputs next to them (which may hold numbers too)
// must not change the entity's identity.
func (e *execution) keyPart(typ string, rep map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range rep {
		if e.keyLeaves[typ][k] || e.keyObjects[typ][k] {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return rep
	}
	return out
}

// identity recovers an entity's identity from a representation: the first
// key value (in name order) that is a number or a numeric string, else a
// hash of the representation.
func identity(rep map[string]any) uint64 {
	if n, ok := findNumber(rep); ok {
		return n
	}
	delete(rep, "__typename")
	b, _ := json.Marshal(rep)
	return 1 + hashOf(string(b))%20
}

func findNumber(v any) (uint64, bool) {
	switch x := v.(type) {
	case float64:
		if x >= 0 && x == float64(uint64(x)) {
			return uint64(x), true
		}
	case string:
		if n, err := strconv.ParseUint(x, 10, 64); err == nil {
			return n, true
		}
	case []any:
		for _, y := range x {
			if n, ok := findNumber(y); ok {
				return n, true
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			if !strings.HasPrefix(k, "__") {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			if n, ok := findNumber(x[k]); ok {
				return n, true
			}
		}
	}
	return 0, false
}
