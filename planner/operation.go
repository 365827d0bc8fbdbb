package planner

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// Operation is a validated client operation after normalization: fragments
// are inlined, @skip/@include are applied and the fields of every selection
// set are collected per possible concrete type, in the order the GraphQL
// spec's CollectFields gives them.
type Operation struct {
	Kind      ast.Operation
	Name      string
	RootType  string
	Selection *SelectionSet
	// Variables are the operation's variable definitions.
	Variables ast.VariableDefinitionList
	// Defers are the @defer fragments in force, parents before their
	// children; empty when the operation defers nothing.
	Defers []*Defer
}

// SelectionSet is the selection at one composite-typed position.
type SelectionSet struct {
	// Type is the static type of the position; it may be abstract.
	Type string
	// Abstract is true when Type is an interface or a union.
	Abstract bool
	// ByType holds the collected fields for each possible concrete type,
	// sorted by type name. An object-typed position has exactly one entry.
	ByType []*TypeFields

	// conditional names, at an interface no object type implements, the
	// fields of the document that @skip or @include left out there (see
	// emptyabstract.go); nil elsewhere.
	conditional []string
}

// TypeFields are the fields collected for one concrete type.
type TypeFields struct {
	Type   string
	Fields []*Field
	// NullCondition is set when collecting the fields for this type met
	// @skip or @include whose if: is a variable given an explicit null (a
	// nullable variable with a default, in the non-null position): the
	// spec's CoerceArgumentValues raises a field error there, so an object
	// of this type is null with that error at its path (at the root: data
	// null). Fields then holds __typename alone.
	NullCondition bool
}

// NullConditionMessage is the error of an object whose selection met a
// @skip or @include with a null condition (graphql-js's wording).
const NullConditionMessage = `Argument "if" of non-null type "Boolean!" must not be null.`

// Field is one collected field: every field of the document with the same
// response key at this position is merged into it.
type Field struct {
	ResponseKey string
	Name        string
	Arguments   ast.ArgumentList
	// ParentType is the concrete type the field is selected on.
	ParentType string
	// Type is the field's declared type.
	Type *ast.Type
	// Selection is nil for leaf fields.
	Selection *SelectionSet
	// Enum is the enum type of a leaf field, so that values outside the
	// client schema can be nulled; nil otherwise.
	Enum *ast.Definition

	// jsonKey is the response key as JSON, with the colon: "key":
	jsonKey string

	// dataKey is where the merged subgraph answers hold the value (see
	// DataKey); set once by Normalize and never changed.
	dataKey string

	// onInterface marks a field selected on an interface (not only in a
	// fragment on the concrete type): see interfaceFieldBroken.
	onInterface bool

	// onObject marks a field selected (too) in an inline fragment on its
	// concrete type that is not inside a named fragment: see typedAgain.
	onObject bool

	// internal marks a field of a federation field set (a key, @requires
	// or @provides): the planner adds it for itself, and it gets a data
	// key no client response key can take.
	internal bool

	// Defer is the @defer fragment the field is delivered with, nil when
	// it belongs to the primary response (see defer.go).
	Defer *Defer
	// selectedIn holds every @defer the field is selected under (its
	// fragment's payload repeats it when the fragment delivers nothing
	// new, see echo in defer.go).
	selectedIn []*Defer
}

// answeredByGateway reports whether the gateway answers f itself
// (__typename, and __schema and __type at the root), so no subgraph is
// asked for it.
func (f *Field) answeredByGateway() bool {
	return f.Name == "__typename" || f.Name == "__schema" || f.Name == "__type"
}

// JSONKey is the response key written as a JSON object key, colon
// included, computed once per plan.
func (f *Field) JSONKey() string {
	if f.jsonKey == "" {
		return strconv.Quote(f.ResponseKey) + ":"
	}
	return f.jsonKey
}

// DataKey is the key under which the merged subgraph data holds the
// field: its response key, unless that key lies in the namespace the
// gateway reserves for the fields it adds for itself (see ReservedPrefix).
// It depends on the field alone, so every fetch of a plan writes the field
// under the same key, and it never changes after normalization.
func (f *Field) DataKey() string {
	if f.dataKey == "" {
		return clientDataKey(f.ResponseKey, f.Name)
	}
	return f.dataKey
}

// FieldsFor returns the fields selected when the runtime type is typeName.
func (s *SelectionSet) FieldsFor(typeName string) []*Field {
	if !s.Abstract && len(s.ByType) == 1 {
		return s.ByType[0].Fields
	}
	for _, tf := range s.ByType {
		if tf.Type == typeName {
			return tf.Fields
		}
	}
	return nil
}

// Normalize turns a validated document into an Operation. vars are the
// coerced variable values; they decide @skip and @include.
func Normalize(schema *ast.Schema, doc *ast.QueryDocument, operationName string, vars map[string]any) (*Operation, error) {
	op, err := selectOperation(doc, operationName)
	if err != nil {
		return nil, err
	}
	var root *ast.Definition
	switch op.Operation {
	case ast.Mutation:
		root = schema.Mutation
	case ast.Subscription:
		root = schema.Subscription
	default:
		root = schema.Query
	}
	if root == nil {
		return nil, fmt.Errorf("the schema has no %s type", op.Operation)
	}
	n := normalizer{schema: schema, fragments: doc.Fragments, vars: vars}
	if op.Operation == ast.Query {
		n.defers = &deferCollector{index: map[deferKey]*Defer{}}
	}
	sel := n.selectionSet(root, []ctxSet{{set: op.SelectionSet}}, nil)
	out := &Operation{Kind: op.Operation, Name: op.Name, RootType: root.Name, Selection: sel, Variables: op.VariableDefinitions}
	if n.defers != nil {
		out.Defers = n.defers.order
	}
	return out, nil
}

// NormalizeFieldSet converts a federation field set (a @key, @requires or
// @provides selection) on typeName into a SelectionSet.
func NormalizeFieldSet(schema *ast.Schema, typeName string, set ast.SelectionSet) *SelectionSet {
	def := schema.Types[typeName]
	if def == nil {
		return nil
	}
	n := normalizer{schema: schema, internal: true}
	// A key on an interface is read from objects of any implementation:
	// the field set is collected on the interface itself.
	return &SelectionSet{Type: def.Name, ByType: []*TypeFields{n.collect(def, []ctxSet{{set: set}}, nil)}}
}

func selectOperation(doc *ast.QueryDocument, name string) (*ast.OperationDefinition, error) {
	if name == "" {
		if len(doc.Operations) != 1 {
			return nil, fmt.Errorf("the document has %d operations: operationName is required", len(doc.Operations))
		}
		return doc.Operations[0], nil
	}
	op := doc.Operations.ForName(name)
	if op == nil {
		return nil, fmt.Errorf("unknown operation named %q", truncate(name, 64))
	}
	return op, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

type normalizer struct {
	schema    *ast.Schema
	fragments ast.FragmentDefinitionList
	vars      map[string]any
	// internal marks the fields collected as the planner's own (field
	// sets of keys, @requires, @provides).
	internal bool
	// defers collects the @defer fragments of a query; nil when @defer
	// is not honoured (mutations, subscriptions, field sets).
	defers *deferCollector
}

// selectionSet collects the selections for every possible type of def.
func (n *normalizer) selectionSet(def *ast.Definition, sets []ctxSet, path []PathKey) *SelectionSet {
	out := &SelectionSet{Type: def.Name, Abstract: def.IsAbstractType()}
	if !out.Abstract {
		out.ByType = []*TypeFields{n.collect(def, sets, path)}
		return out
	}
	possible := objectTypes(n.schema, def.Name)
	if len(possible) == 0 {
		// An interface no object implements (in this schema): its own
		// fields are all there is to select.
		out.ByType = []*TypeFields{n.collect(def, sets, path)}
		for _, set := range sets {
			out.conditional = n.leftOut(set.set, false, out.conditional, map[string]bool{})
		}
		return out
	}
	names := make([]string, 0, len(possible))
	for _, p := range possible {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	for _, name := range names {
		out.ByType = append(out.ByType, n.collect(n.schema.Types[name], sets, path))
	}
	return out
}

type collected struct {
	key    string
	fields []*ast.Field
	// defers holds, per entry of fields, the @defer it was selected under.
	defers []*Defer
	// typed: one of the fields was selected in an inline fragment on the
	// object type, not inside a named fragment (see Field.onObject).
	typed bool
}

// How a selection was reached, for Field.onObject: through no fragment
// on an object type, through a named fragment first, or through an
// inline fragment on an object type first.
const (
	reachedPlain = iota
	reachedNamed
	reachedTyped
)

// collect runs CollectFields for the concrete type obj and builds the
// merged fields.
func (n *normalizer) collect(obj *ast.Definition, sets []ctxSet, path []PathKey) *TypeFields {
	var order []*collected
	index := map[string]*collected{}
	visited := map[string]bool{}
	// The gateway answers introspection itself, with the rest of its
	// parent: a @defer inside __schema or __type delivers nothing later
	// (the spec lets a server send deferred data early), so it is left out.
	deferOf := n.deferOf
	if strings.HasPrefix(obj.Name, "__") {
		deferOf = func(_ any, _ ast.DirectiveList, _ []PathKey, in *Defer) *Defer { return in }
	}
	nullCond := false
	var walk func(ast.SelectionSet, *Defer, int)
	walk = func(set ast.SelectionSet, in *Defer, how int) {
		for _, s := range set {
			switch s := s.(type) {
			case *ast.Field:
				if !n.included(s.Directives, &nullCond) {
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
					order = append(order, c)
				}
				c.fields = append(c.fields, s)
				c.defers = append(c.defers, in)
				c.typed = c.typed || how == reachedTyped
			case *ast.InlineFragment:
				if !n.included(s.Directives, &nullCond) || !n.applies(s.TypeCondition, obj) {
					continue
				}
				inner := how
				if how == reachedPlain && s.TypeCondition == obj.Name && obj.Kind == ast.Object {
					inner = reachedTyped
				}
				walk(s.SelectionSet, appliesTo(deferOf(s, s.Directives, path, in), in, obj), inner)
			case *ast.FragmentSpread:
				// The directives first, as the spec's CollectFields
				// (graphql-js looks at visited first): a null condition
				// on a second spread of a fragment is an error too, as
				// both references answer.
				if !n.included(s.Directives, &nullCond) || visited[s.Name] {
					continue
				}
				visited[s.Name] = true
				frag := n.fragments.ForName(s.Name)
				if frag == nil || !n.applies(frag.TypeCondition, obj) {
					continue
				}
				inner := how
				if how == reachedPlain {
					inner = reachedNamed
				}
				walk(frag.SelectionSet, appliesTo(deferOf(s, s.Directives, path, in), in, obj), inner)
			}
		}
	}
	for _, set := range sets {
		walk(set.set, set.in, reachedPlain)
	}
	if nullCond {
		return n.nullCondition(obj, sets)
	}
	out := make([]*Field, 0, len(order))
	for _, c := range order {
		first := c.fields[0]
		f := &Field{ResponseKey: c.key, Name: first.Name, Arguments: first.Arguments, ParentType: obj.Name,
			jsonKey: strconv.Quote(c.key) + ":", dataKey: clientDataKey(c.key, first.Name), internal: n.internal,
			Defer: firstDelivered(c.defers), selectedIn: selectedIn(c.defers), onObject: c.typed}
		for _, af := range c.fields {
			if af.ObjectDefinition != nil && af.ObjectDefinition.Kind == ast.Interface {
				f.onInterface = true
			}
		}
		if first.Name == "__typename" {
			f.Type = ast.NonNullNamedType("String", nil)
			out = append(out, f)
			continue
		}
		def := obj.Fields.ForName(first.Name)
		if def == nil {
			def = introspectionField(n.schema, obj, first.Name)
		}
		if def == nil {
			continue
		}
		f.Type = def.Type
		if target := n.schema.Types[def.Type.Name()]; target != nil && target.Kind == ast.Enum {
			f.Enum = target
		}
		if target := n.schema.Types[def.Type.Name()]; target != nil && target.IsCompositeType() {
			subs := make([]ctxSet, 0, len(c.fields))
			for i, af := range c.fields {
				subs = append(subs, ctxSet{set: af.SelectionSet, in: c.defers[i]})
			}
			var sub []PathKey
			if n.defers != nil {
				sub = append(append(make([]PathKey, 0, len(path)+1), path...), PathKey{ResponseKey: c.key, DataKey: f.dataKey, List: def.Type.Elem != nil, Type: obj.Name})
			}
			f.Selection = n.selectionSet(target, subs, sub)
		}
		out = append(out, f)
	}
	return &TypeFields{Type: obj.Name, Fields: out}
}

// nullCondition is the fields of obj when collecting them met a null
// @skip/@include condition: the object is null with an error, nothing
// below it runs, so only __typename (which picks the type when
// rendering) is asked. It is delivered with the position (a deferred
// field's object is null in that fragment's payload).
func (n *normalizer) nullCondition(obj *ast.Definition, sets []ctxSet) *TypeFields {
	ins := make([]*Defer, len(sets))
	for i, set := range sets {
		ins[i] = set.in
	}
	f := &Field{ResponseKey: "__typename", Name: "__typename", ParentType: obj.Name, Type: ast.NonNullNamedType("String", nil),
		jsonKey: `"__typename":`, dataKey: clientDataKey("__typename", "__typename"), internal: n.internal,
		Defer: firstDelivered(ins), selectedIn: selectedIn(ins)}
	return &TypeFields{Type: obj.Name, Fields: []*Field{f}, NullCondition: true}
}

func introspectionField(schema *ast.Schema, obj *ast.Definition, name string) *ast.FieldDefinition {
	if schema.Query == nil || obj.Name != schema.Query.Name {
		return nil
	}
	switch name {
	case "__schema":
		return &ast.FieldDefinition{Name: name, Type: ast.NonNullNamedType("__Schema", nil)}
	case "__type":
		return &ast.FieldDefinition{Name: name, Type: ast.NamedType("__Type", nil)}
	}
	return nil
}

// objectTypes lists the object types of the abstract type name. gqlparser's
// PossibleTypes also lists the interfaces that implement an interface
// (interface Named implements Node): no value has one as its runtime
// type, so no position selects fields or renders for it.
func objectTypes(schema *ast.Schema, name string) []*ast.Definition {
	all := schema.PossibleTypes[name]
	for _, p := range all {
		if p.Kind != ast.Object {
			out := make([]*ast.Definition, 0, len(all))
			for _, q := range all {
				if q.Kind == ast.Object {
					out = append(out, q)
				}
			}
			return out
		}
	}
	return all
}

// applies reports whether a fragment with the type condition cond applies
// to the concrete type obj.
func (n *normalizer) applies(cond string, obj *ast.Definition) bool {
	if cond == "" || cond == obj.Name {
		return true
	}
	for _, p := range n.schema.PossibleTypes[cond] {
		if p.Name == obj.Name {
			return true
		}
	}
	return false
}

// included evaluates @skip and @include, @skip first as graphql-js's
// shouldIncludeNode does. A condition that is null (a nullable variable
// with a default, given null) sets *null and leaves the selection out;
// one not evaluated (@skip(if: true) before it) does not.
func (n *normalizer) included(dirs ast.DirectiveList, null *bool) bool {
	if d := dirs.ForName("skip"); d != nil {
		v, ok := n.boolArg(d)
		if !ok {
			*null = true
			return false
		}
		if v {
			return false
		}
	}
	if d := dirs.ForName("include"); d != nil {
		v, ok := n.boolArg(d)
		if !ok {
			*null = true
			return false
		}
		if !v {
			return false
		}
	}
	return true
}

// boolArg is the value of d's if: argument; ok is false when it is null.
func (n *normalizer) boolArg(d *ast.Directive) (v, ok bool) {
	a := d.Arguments.ForName("if")
	if a == nil || a.Value == nil {
		return false, false
	}
	if a.Value.Kind == ast.Variable {
		x, given := n.vars[a.Value.Raw]
		if given && x == nil {
			return false, false
		}
		v, _ = x.(bool)
		return v, true
	}
	return a.Value.Raw == "true", true
}
