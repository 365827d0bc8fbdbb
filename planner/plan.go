package planner

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/fedgate/gateway/internal/jsonvalue"
)

// Plan is an immutable query plan. The executor only reads it, so one
// cached plan serves any number of concurrent requests.
type Plan struct {
	// Root is nil when the operation needs no subgraph (only __typename or
	// introspection).
	Root Node
	// Operation is the normalized client operation the plan answers, for
	// what analyses it (cost limits, the operation name on spans, checks
	// on reload); it is never changed. The executor does not read it:
	// responses are rendered from Shape.
	Operation *Operation
	// Shape is the render shape: what the response is written from
	// (response keys, data keys, nullability, enum and possible types,
	// the fields authorization denied). See shape.go.
	Shape *Shape
	// Fetches is the number of Fetch nodes in Root.
	Fetches int
	// Defer is the split of a query with @defer into its primary and
	// deferred parts (defer.go); nil without @defer. Root stays the
	// unsplit plan.
	Defer *DeferPlan
	// Keys is the set of keys the executor looks up in the plan's subgraph
	// answers, which it parses against it (keys.go); the plan's own keys
	// are its strings. Nil for a plan made otherwise, which only makes
	// lookups compare texts.
	Keys *jsonvalue.Keys
}

// Node is a query plan node: *Sequence, *Parallel, *Flatten or *Fetch.
type Node interface{ isNode() }

// Sequence runs its nodes one after the other.
type Sequence struct{ Nodes []Node }

// Parallel runs its nodes concurrently.
type Parallel struct{ Nodes []Node }

// Flatten runs Node on every object found at Path in the response; "@"
// in a path steps into every element of a list.
type Flatten struct {
	Path []string
	// Paths, when set, lists several paths (Path first) served by one
	// fetch: the objects of all of them share the representations.
	Paths [][]string
	Node  *Fetch
}

// Fetch is one request to one subgraph.
type Fetch struct {
	ID int
	// Subgraph is the subgraph name.
	Subgraph string
	// Operation is the GraphQL document sent to the subgraph.
	Operation     string
	OperationName string
	OperationKind string
	// VariableUsages lists the client variables the operation uses.
	VariableUsages []string
	// Requires describes the entity representations, one entry per type,
	// for an _entities fetch; it is nil for a root fetch. They are the
	// fetch's input rewrites: RequiredField.Key says where each value is in
	// the response data, RequiredField.Name where it goes.
	Requires []*Requirement
	// Contexts lists the contextual arguments (Federation 2.8 @fromContext)
	// the operation passes as variables: for each object of the fetch,
	// their values are read from its nearest ancestor that sets the
	// context. Objects whose values differ are asked in aliased _entities
	// fields of one request (ContextTemplate).
	Contexts []*ContextInput
	// ContextTemplate, set with Contexts, rebuilds the operation to ask
	// for several sets of context values in one request. It is not part
	// of the plan's JSON form.
	ContextTemplate *ContextTemplate
	// OutputRewrites rename fields the operation had to alias back to
	// their data keys, in the answer before it is merged.
	OutputRewrites []*OutputRewrite
	// RootFields lists, for a root fetch, the data keys of the client's
	// root fields it answers, in order (nil for an entity fetch): a
	// mutation stops before the next root fetch once one of them has
	// nulled data. It is not part of the plan's JSON form.
	RootFields []string
}

// OutputRewrite renames the key From to To in every object found at Path
// (keys, lists stepped into) of a root fetch's data or of each entity an
// entity fetch returns.
type OutputRewrite struct {
	Path     []string `json:"path"`
	From, To string
}

// Requirement is the representation sent for entities of one type.
type Requirement struct {
	// TypeName is the runtime type of the objects this applies to.
	TypeName string
	// RepresentationType is the __typename put into the representation
	// (the interface name when the target is an @interfaceObject).
	RepresentationType string
	Fields             []*RequiredField
}

// RequiredField is one field copied from the response into a
// representation.
type RequiredField struct {
	// Name is the key in the representation.
	Name string
	// Key is where the value is found in the response data.
	Key string
	// TypeCondition restricts the field to objects of that runtime type.
	TypeCondition string
	Fields        []*RequiredField

	args string
}

// ContextInput is one variable of an entity fetch filled from a context:
// Apollo's contextRewrites, as data.
type ContextInput struct {
	// Variable is the operation's variable (without "$") and Type its
	// GraphQL type.
	Variable, Type string
	// TypeName is the runtime type of the objects whose field reads it,
	// or, with Self, of the objects the fetch is for, below which the field
	// is selected.
	TypeName string
	// Self says that the object the fetch is for counts as the nearest
	// ancestor (the field is selected below it); without Self the object's
	// own type setting the context does not count.
	Self bool
	// Types are the object types that set the context. An object whose
	// nearest ancestor of one of them has no source here is left to
	// another fetch at the same path (one planned below another object
	// type of an abstract position).
	Types []string
	// Sources say, per runtime type of the ancestor that sets the context
	// (the object itself included), what is read there: one field (its
	// RequiredField.Key is where the value is in the response data), with
	// a sub-selection down to one leaf for an object-typed field.
	Sources []*ContextSource
}

// ContextTemplate is an entity fetch's operation in pieces, to ask for
// several sets of context values in one request, one aliased _entities
// field per set (Apollo Router's way): Head ("query Name"), then the
// variable definitions (representations and contextual variables per set,
// then Vars, the client variables' definitions, each after a comma), then
// per set the _entities selection: Parts with, between Parts[i] and
// Parts[i+1], the set's variable for Contexts[Uses[i]].
type ContextTemplate struct {
	Head, Vars string
	Parts      []string
	Uses       []int
}

// ContextSource is what a ContextInput reads from an ancestor of one type.
type ContextSource struct {
	TypeName string
	Fields   []*RequiredField
}

func (*Sequence) isNode() {}
func (*Parallel) isNode() {}
func (*Flatten) isNode()  {}
func (*Fetch) isNode()    {}

// MarshalJSON writes the node in the shape of Apollo Router's plans.
func (n *Sequence) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Kind  string `json:"kind"`
		Nodes []Node `json:"nodes"`
	}{"Sequence", n.Nodes})
}

// MarshalJSON writes the node in the shape of Apollo Router's plans.
func (n *Parallel) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Kind  string `json:"kind"`
		Nodes []Node `json:"nodes"`
	}{"Parallel", n.Nodes})
}

// MarshalJSON writes the node in the shape of Apollo Router's plans.
func (n *Flatten) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Kind  string     `json:"kind"`
		Path  []string   `json:"path"`
		Paths [][]string `json:"paths,omitempty"`
		Node  *Fetch     `json:"node"`
	}{"Flatten", n.Path, n.Paths, n.Node})
}

// MarshalJSON writes the node in the shape of Apollo Router's plans.
func (n *Fetch) MarshalJSON() ([]byte, error) {
	type selection struct {
		Kind          string      `json:"kind"`
		Name          string      `json:"name,omitempty"`
		TypeCondition string      `json:"typeCondition,omitempty"`
		Selections    []selection `json:"selections,omitempty"`
	}
	var fields func([]*RequiredField) []selection
	fields = func(rf []*RequiredField) []selection {
		var out []selection
		for _, f := range rf {
			s := selection{Kind: "Field", Name: f.Name, Selections: fields(f.Fields)}
			if f.TypeCondition != "" {
				s = selection{Kind: "InlineFragment", TypeCondition: f.TypeCondition, Selections: []selection{s}}
			}
			out = append(out, s)
		}
		return out
	}
	var requires []selection
	for _, r := range n.Requires {
		sel := append([]selection{{Kind: "Field", Name: "__typename"}}, fields(r.Fields)...)
		requires = append(requires, selection{Kind: "InlineFragment", TypeCondition: r.TypeName, Selections: sel})
	}
	usages := n.VariableUsages
	if usages == nil {
		usages = []string{}
	}
	return json.Marshal(struct {
		Kind           string      `json:"kind"`
		ServiceName    string      `json:"serviceName"`
		VariableUsages []string    `json:"variableUsages"`
		Requires       []selection `json:"requires,omitempty"`
		Operation      string      `json:"operation"`
		OperationName  string      `json:"operationName,omitempty"`
		OperationKind  string      `json:"operationKind"`
		OutputRewrites []rewrite   `json:"outputRewrites,omitempty"`
		Contexts       []context   `json:"contextRewrites,omitempty"`
	}{"Fetch", n.Subgraph, usages, requires, n.Operation, n.OperationName, n.OperationKind, rewrites(n.OutputRewrites), contexts(n.Contexts, fields)})
}

// context is a context input in the JSON form of a plan.
type context struct {
	Variable string          `json:"variable"`
	Type     string          `json:"type"`
	TypeName string          `json:"typeCondition"`
	Self     bool            `json:"fromEntity,omitempty"`
	Types    []string        `json:"contextTypes"`
	Sources  []contextSource `json:"sources"`
}

type contextSource struct {
	TypeName   string `json:"typeCondition"`
	Selections any    `json:"selections"`
}

func contexts[S any](cs []*ContextInput, fields func([]*RequiredField) []S) []context {
	var out []context
	for _, c := range cs {
		x := context{Variable: c.Variable, Type: c.Type, TypeName: c.TypeName, Self: c.Self, Types: c.Types}
		for _, s := range c.Sources {
			x.Sources = append(x.Sources, contextSource{TypeName: s.TypeName, Selections: fields(s.Fields)})
		}
		out = append(out, x)
	}
	return out
}

// rewrite is an output rewrite in the shape of Apollo's plans.
type rewrite struct {
	Kind      string   `json:"kind"`
	Path      []string `json:"path"`
	RenameKey string   `json:"renameKeyTo"`
}

func rewrites(rs []*OutputRewrite) []rewrite {
	var out []rewrite
	for _, r := range rs {
		out = append(out, rewrite{Kind: "KeyRenamer", Path: append(append([]string(nil), r.Path...), r.From), RenameKey: r.To})
	}
	return out
}

// MarshalJSON writes the plan as {"kind":"QueryPlan","node":...}.
func (p *Plan) MarshalJSON() ([]byte, error) {
	if p.Defer != nil {
		return p.marshalDefer()
	}
	return json.Marshal(struct {
		Kind string `json:"kind"`
		Node Node   `json:"node"`
	}{"QueryPlan", p.Root})
}

// String prints the plan in the text form Apollo's tools use.
func (p *Plan) String() string {
	var b strings.Builder
	b.WriteString("QueryPlan {\n")
	if p.Defer != nil {
		p.Defer.write(&b)
	} else if p.Root != nil {
		writeNode(&b, p.Root, 1)
	}
	b.WriteString("}\n")
	return b.String()
}

func writeNode(b *strings.Builder, n Node, depth int) {
	ind := strings.Repeat("  ", depth)
	switch n := n.(type) {
	case *Sequence:
		b.WriteString(ind + "Sequence {\n")
		for _, c := range n.Nodes {
			writeNode(b, c, depth+1)
		}
		b.WriteString(ind + "},\n")
	case *Parallel:
		b.WriteString(ind + "Parallel {\n")
		for _, c := range n.Nodes {
			writeNode(b, c, depth+1)
		}
		b.WriteString(ind + "},\n")
	case *Flatten:
		if len(n.Paths) > 1 {
			ps := make([]string, len(n.Paths))
			for i, p := range n.Paths {
				ps[i] = fmt.Sprintf("%q", strings.Join(p, "."))
			}
			fmt.Fprintf(b, "%sFlatten(paths: [%s]) {\n", ind, strings.Join(ps, ", "))
		} else {
			fmt.Fprintf(b, "%sFlatten(path: %q) {\n", ind, strings.Join(n.Path, "."))
		}
		writeNode(b, n.Node, depth+1)
		b.WriteString(ind + "},\n")
	case *Fetch:
		fmt.Fprintf(b, "%sFetch(service: %q) {\n", ind, n.Subgraph)
		if len(n.Requires) > 0 {
			b.WriteString(ind + "  {\n")
			for _, r := range n.Requires {
				fmt.Fprintf(b, "%s    ... on %s {\n%s      __typename\n", ind, r.TypeName, ind)
				writeRequired(b, r.Fields, depth+3)
				b.WriteString(ind + "    }\n")
			}
			b.WriteString(ind + "  } =>\n")
		}
		for _, c := range n.Contexts {
			of := "context of " + c.TypeName
			if c.Self {
				of = "context at " + c.TypeName + " or above"
			}
			fmt.Fprintf(b, "%s  $%s: %s <= %s {\n", ind, c.Variable, c.Type, of)
			for _, s := range c.Sources {
				fmt.Fprintf(b, "%s    ... on %s {\n", ind, s.TypeName)
				writeRequired(b, s.Fields, depth+3)
				b.WriteString(ind + "    }\n")
			}
			b.WriteString(ind + "  }\n")
		}
		for _, line := range strings.Split(n.Operation, "\n") {
			b.WriteString(ind + "  " + line + "\n")
		}
		b.WriteString(ind + "},\n")
	}
}

func writeRequired(b *strings.Builder, fields []*RequiredField, depth int) {
	ind := strings.Repeat("  ", depth)
	for _, f := range fields {
		if f.TypeCondition != "" {
			fmt.Fprintf(b, "%s... on %s {\n", ind, f.TypeCondition)
			writeRequired(b, []*RequiredField{{Name: f.Name, Key: f.Key, Fields: f.Fields}}, depth+1)
			b.WriteString(ind + "}\n")
			continue
		}
		if len(f.Fields) == 0 {
			b.WriteString(ind + f.Name + "\n")
			continue
		}
		b.WriteString(ind + f.Name + " {\n")
		writeRequired(b, f.Fields, depth+1)
		b.WriteString(ind + "}\n")
	}
}

// EachFetch calls fn for every fetch of the plan tree rooted at n, in plan
// order (a Flatten's fetch where the Flatten stands). A nil n has none.
func EachFetch(n Node, fn func(*Fetch)) {
	switch n := n.(type) {
	case *Sequence:
		for _, c := range n.Nodes {
			EachFetch(c, fn)
		}
	case *Parallel:
		for _, c := range n.Nodes {
			EachFetch(c, fn)
		}
	case *Flatten:
		fn(n.Node)
	case *Fetch:
		fn(n)
	}
}
