// Package opgen generates random valid GraphQL operations from an API
// schema, for differential testing of gateways.
//
// A Generator is deterministic: Generate(seed) returns the same operation
// for the same schema, hints, options and seed. Every operation it returns
// validates against the schema (gqlparser's rules) together with its
// variables. Operations mix what gateways get wrong: aliases (also named like
// the key and @requires fields a gateway adds for itself, or like
// __typename), one field twice with different arguments, inline and named
// fragments on abstract types (nested too), @skip/@include with literals and
// variables, variables with defaults, several operations per document,
// deep selections that follow entity fields, and __schema/__type next to
// the data fields of a query; and the shapes real clients send that a
// random walk rarely makes (clients.go): @requires inputs and @provides
// paths selected next to their fields, a field twice with one occurrence
// conditional, __typename-only selections, long entity chains (some
// aliased at every level), named fragments nested several levels deep,
// nullable variables with defaults in non-null positions, explicit nulls
// over defaults (also for a @skip/@include condition: a field error),
// several mutations, odd scalar values; fragments on abstract types an
// object belongs to in some subgraphs only; one response key for
// different composite fields on different object types; introspection
// with aliases, __typename, @skip/@include and fragments inside
// (introspection.go); non-null variables in nullable positions, and one
// variable name declared with other types by several operations; with
// Options.Defer, @defer on fragments of queries (defer.go); and, with
// Options.Wide, Float, ID and custom scalar literals written as integers
// beyond 64 bits (wide.go). Documents validate with the gateway's rules
// (Rules), not gqlparser's alone.
package opgen

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/fedgate/gateway/internal/wideint"
)

// Hints tells the generator about names that matter to a federation
// gateway but are not visible in the API schema.
type Hints struct {
	// AliasNames maps a type name to field names worth using as aliases in
	// selection sets on that type: its key fields and @requires inputs,
	// which a gateway may add to subgraph queries for itself.
	AliasNames map[string][]string
	// Entities lists the types that have a key in some subgraph; fields
	// returning them are followed more often, so operations chain entity
	// fetches across subgraphs.
	Entities map[string]bool
	// Requires maps a type name and a field name to the field's @requires
	// selection (in some subgraph): clients select those inputs too, under
	// their names or aliases, next to the field.
	Requires map[string]map[string]ast.SelectionSet
	// Provides maps a type name and a field name to the field's @provides
	// selection (on the field's type): clients select what is provided and
	// what is not below it.
	Provides map[string]map[string]ast.SelectionSet
	// Partial maps an interface or union to the object types that
	// implement it (or are its members) in some of the subgraphs that
	// define it and not in others: a fragment on it reaches those objects
	// through one subgraph and not through another, so fragments take it
	// as their type condition more often.
	Partial map[string]map[string]bool
	// InterfaceObjects lists the interfaces some subgraph defines with
	// @interfaceObject: fragments take them as their type condition more
	// often, also at the positions of object types that implement them.
	InterfaceObjects map[string]bool
	// Hidden lists, sorted, the names of types of the supergraph that the
	// API schema lacks (@inaccessible types, federation and join
	// machinery): __type(name:) asks for them sometimes (the answer is
	// null).
	Hidden []string
}

// Options bound the generated operations. Zero fields take defaults.
type Options struct {
	// MaxDepth bounds the field nesting (default 6).
	MaxDepth int
	// MaxSelections bounds the selections generated per selection set
	// (default 4).
	MaxSelections int
	// MaxFields bounds the fields of one operation (default 40).
	MaxFields int
	// MaxOperations bounds the operations per document (default 3).
	MaxOperations int
	// MaxAliases bounds the aliases written per operation (default 20,
	// below gateways' usual alias limits; fragments spread twice count
	// twice there).
	MaxAliases int
	// Mutations allows mutation operations when the schema has a mutation
	// type.
	Mutations bool
	// Defer puts @defer on some fragments of query operations (defer.go).
	// Off, the generator draws no random number for it, so the operations
	// of a seed stay those generated before @defer was added.
	Defer bool
	// Wide writes some Float, ID and custom scalar literals as integers
	// beyond 64 bits (wide.go). Off, it draws nothing, like Defer.
	Wide bool
	// Optional puts nullable variables without a default in non-null
	// positions that have a default of their own, arguments and input
	// object fields (optional.go, spec 5.8.5), sent a value, null or
	// nothing. Off, it draws nothing, like Defer.
	Optional bool
	// Shapes writes the shapes of shapes.go: fragments with variables
	// spread by several operations (each declaring the variables with its
	// own values), variable conditions on key, @requires and
	// entity-crossing fields and on __typename, one field under three or
	// four keys with other arguments. Off, it draws nothing, like Defer.
	Shapes bool
	// Merge repeats composite fields inside fragments next to them, with
	// sub-selections of their own, and writes documents of more
	// operations, the running one between others (merge.go). Off, it
	// draws nothing, like Defer.
	Merge bool
}

func (o Options) withDefaults() Options {
	if o.MaxDepth <= 0 {
		o.MaxDepth = 6
	}
	if o.MaxSelections <= 0 {
		o.MaxSelections = 4
	}
	if o.MaxFields <= 0 {
		o.MaxFields = 40
	}
	if o.MaxOperations <= 0 {
		o.MaxOperations = 3
	}
	if o.MaxAliases <= 0 {
		o.MaxAliases = 20
	}
	return o
}

// Operation is one generated GraphQL request.
type Operation struct {
	// Query is the document text.
	Query string
	// OperationName names the operation to run; empty for a document with
	// one anonymous operation.
	OperationName string
	// Variables are the variable values sent with the request (JSON
	// values: string, float64-compatible numbers, bool, nil, []any,
	// map[string]any).
	Variables map[string]any
}

// Generator generates operations for one schema.
type Generator struct {
	schema *ast.Schema
	hints  Hints
	opts   Options
}

// New returns a generator for schema.
func New(schema *ast.Schema, hints Hints, opts Options) *Generator {
	return &Generator{schema: schema, hints: hints, opts: opts.withDefaults()}
}

// maxAttempts bounds the retries when a generated document happens not to
// validate (rare conflicts the generator does not track).
const maxAttempts = 50

// Generate returns the operation for seed. When every attempt spreads more
// aliases than MaxExpandedAliases (big bounds on a graph whose client
// shapes alias much: seed 16014 of requires_chain), it tries again with half
// the alias budget, down to one; seeds that gave an operation before give
// the same one.
func (g *Generator) Generate(seed uint64) (Operation, error) {
	op, err := g.generateSeed(seed)
	for h := *g; errors.Is(err, errTooManyAliases) && h.opts.MaxAliases > 1; {
		h.opts.MaxAliases /= 2
		op, err = h.generateSeed(seed)
	}
	return op, err
}

// errTooManyAliases: a document whose operation has more aliases with
// fragments expanded than MaxExpandedAliases.
var errTooManyAliases = errors.New("aliases with fragments expanded")

func (g *Generator) generateSeed(seed uint64) (Operation, error) {
	var lastErr error
	for attempt := uint64(0); attempt < maxAttempts; attempt++ {
		r := rand.New(rand.NewPCG(seed, attempt))
		op := g.generate(r)
		if err := Validate(g.schema, op); err != nil {
			lastErr = err
			continue
		}
		if n := ExpandedAliases(op.Query); n > MaxExpandedAliases {
			// The budget counts fragments as they are spread; a rare
			// document of nested named fragments still has more.
			lastErr = fmt.Errorf("%d %w", n, errTooManyAliases)
			continue
		}
		return op, nil
	}
	return Operation{}, fmt.Errorf("opgen: no valid operation for seed %d after %d attempts: %w", seed, maxAttempts, lastErr)
}

// Rejection is a document a generation attempt made and Generate threw
// away, with the reason.
type Rejection struct {
	Op  Operation
	Err error
}

// Rejected returns the documents Generate(seed) made and threw away, in
// order, before the one it returns (or all of them when it returns none).
// Generate keeps only what Validate accepts: a document valid for another
// implementation (graphql-js, which the reference gateways run) that the
// gateway's rules refuse is never sent, so tests compare these with it.
func (g *Generator) Rejected(seed uint64) []Rejection {
	var out []Rejection
	for attempt := uint64(0); attempt < maxAttempts; attempt++ {
		op := g.generate(rand.New(rand.NewPCG(seed, attempt)))
		err := Validate(g.schema, op)
		if err == nil {
			if n := ExpandedAliases(op.Query); n > MaxExpandedAliases {
				err = fmt.Errorf("%d aliases with fragments expanded", n)
			}
		}
		if err == nil {
			return out
		}
		out = append(out, Rejection{Op: op, Err: err})
	}
	return out
}

// MaxExpandedAliases bounds the aliased fields of each operation of a
// generated document, fragments expanded where they are spread: gateways'
// alias limits (fedgate's default limits.max_aliases is 30) count so.
const MaxExpandedAliases = 30

// ExpandedAliases is the most aliased fields of one operation of query,
// fragments expanded where they are spread (a fragment spread twice counts
// twice), or 0 when query does not parse.
func ExpandedAliases(query string) int {
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		return 0
	}
	var count func(set ast.SelectionSet, depth int) int
	count = func(set ast.SelectionSet, depth int) int {
		if depth > 64 {
			return 0
		}
		n := 0
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if s.Alias != "" && s.Alias != s.Name {
					n++
				}
				n += count(s.SelectionSet, depth+1)
			case *ast.InlineFragment:
				n += count(s.SelectionSet, depth+1)
			case *ast.FragmentSpread:
				if f := doc.Fragments.ForName(s.Name); f != nil {
					n += count(f.SelectionSet, depth+1)
				}
			}
		}
		return n
	}
	most := 0
	for _, op := range doc.Operations {
		most = max(most, count(op.SelectionSet, 0))
	}
	return most
}

// Validate checks op's document and variables against schema.
func Validate(schema *ast.Schema, op Operation) error {
	doc, errs := LoadQuery(schema, op.Query)
	if len(errs) > 0 {
		return fmt.Errorf("invalid document: %w", errs)
	}
	var target *ast.OperationDefinition
	if op.OperationName == "" {
		if len(doc.Operations) != 1 {
			return fmt.Errorf("no operation name for a document of %d operations", len(doc.Operations))
		}
		target = doc.Operations[0]
	} else if target = doc.Operations.ForName(op.OperationName); target == nil {
		return fmt.Errorf("no operation named %q", op.OperationName)
	}
	vars := make(map[string]any, len(op.Variables))
	for k, v := range op.Variables {
		vars[k] = v
	}
	// As the gateway coerces them (defaults with integers beyond 64 bits).
	wideint.Defaults(schema, target, vars)
	if _, err := validator.VariableValues(schema, target, vars); err != nil {
		return fmt.Errorf("invalid variables: %w", err)
	}
	return nil
}

// Print formats doc as the generator prints documents.
func Print(doc *ast.QueryDocument) string {
	var b bytes.Buffer
	formatter.NewFormatter(&b, formatter.WithIndent("  ")).FormatQueryDocument(doc)
	return b.String()
}

// gen is the state of one generation attempt.
type gen struct {
	*Generator
	r       *rand.Rand
	fields  int
	nAlias  int
	frags   []*ast.FragmentDefinition
	opVars  ast.VariableDefinitionList
	values  map[string]any
	nVar    int
	boolVar []string
	// op is the index of the operation being generated; varUses counts
	// variable uses, so a fragment that uses none can be reused by other
	// operations of the document.
	op       int
	aliases  int
	varUses  int
	reusable []reusableFragment
	// constant: the value being generated is a variable's default, where
	// no variable may occur.
	constant bool
	// typenames: every selection set of the operation ends with
	// __typename, as clients that normalize their cache (Apollo Client,
	// urql) send.
	typenames bool
	// chain: levels past MaxDepth this operation may follow, one field
	// per level (a long entity chain); 0 for most operations.
	chain int
	// aliasChain: every field of the operation's long chain levels (and
	// the two levels above them) gets an alias while the budget lasts.
	aliasChain bool
	// fragNesting bounds the fragments nested in one another in this
	// operation (maxFragmentNesting for most operations); named: the
	// operation's fragments are named fragments, so they spread one
	// another several levels deep.
	fragNesting int
	named       bool
	// want: fields the next selection set selects first (a @provides or
	// @requires selection), consumed by selectionSet.
	want ast.SelectionSet
	// blocks: the texts of block strings, printed in place of their
	// placeholders (blockString).
	blocks []string
	// kind is the kind of the operation being generated; labels counts
	// the @defer labels of the document (each is unique).
	kind   ast.Operation
	labels int
	// defers counts the @defer directives written, so that a fragment
	// holding one is not spread in a mutation.
	defers int
	// forceAlias: the response key of the next field fieldOf selects
	// (exclusive), consumed there.
	forceAlias string
}

type reusableFragment struct {
	def *ast.FragmentDefinition
	op  int
	// vars: the fragment uses variables (of operation op).
	vars bool
	// aliases counts the aliases of the fragment, its spreads expanded.
	aliases int
	// defers: the fragment holds @defer (so is for queries only).
	defers bool
	// varDefs (with Shapes): the definitions of the variables the
	// fragment uses, in the operation that made it; shareable: all were
	// found, so another operation may declare them and spread it.
	varDefs   ast.VariableDefinitionList
	shareable bool
}

func (g *Generator) generate(r *rand.Rand) Operation {
	s := &gen{Generator: g, r: r}
	doc := &ast.QueryDocument{}
	n := g.mergeOperations(r, 1+r.IntN(g.opts.MaxOperations))
	values := make([]map[string]any, n)
	for i := 0; i < n; i++ {
		s.fields, s.opVars, s.boolVar, s.op, s.aliases = 0, nil, nil, i, 0
		if i > 0 && r.IntN(3) == 0 {
			// Variable names again from $v1: operations of one document
			// declare variables of one name with other types and values
			// (a variable belongs to its operation, spec 5.8).
			s.nVar = 0
		}
		s.typenames = r.IntN(6) == 0
		s.chain, s.aliasChain = 0, false
		if r.IntN(6) == 0 {
			s.chain = 4 + r.IntN(5)
			s.aliasChain = r.IntN(2) == 0
		}
		s.fragNesting, s.named = maxFragmentNesting, false
		if r.IntN(8) == 0 {
			s.fragNesting, s.named = deepFragmentNesting, true
		}
		s.values = map[string]any{}
		values[i] = s.values
		kind, root := ast.Query, g.schema.Query
		if g.opts.Mutations && g.schema.Mutation != nil && r.IntN(8) == 0 {
			kind, root = ast.Mutation, g.schema.Mutation
		}
		s.kind = kind
		op := &ast.OperationDefinition{Operation: kind, Name: fmt.Sprintf("Op%d", i+1)}
		sc := newScope()
		op.SelectionSet = s.selectionSet(root, 1, sc, 0)
		if kind == ast.Mutation {
			op.SelectionSet = s.moreMutations(op.SelectionSet, root, sc)
		}
		op.VariableDefinitions = s.opVars
		doc.Operations = append(doc.Operations, op)
	}
	doc.Fragments = s.frags
	pick := g.mergePick(r, n, r.IntN(n))
	name := doc.Operations[pick].Name
	if n == 1 && r.IntN(6) == 0 {
		doc.Operations[0].Name, name = "", ""
	}
	return Operation{Query: s.printBlocks(Print(doc)), OperationName: name, Variables: values[pick]}
}

// scope tracks the response keys of one selection set (its fragments
// included), so that two selections under one key always merge: the same
// field with the same arguments, or (spec 5.3.2) leaf fields of one type
// whose parents are different object types.
type scope struct {
	keys  map[string][]*entry
	order []string
}

type entry struct {
	sig    string
	parent string // the object type the field was selected on; "" for an abstract type
	leaf   string // the field's type when it is a leaf; "" for a composite
	// composite: the shape of the field's type when it is a composite
	// (compositeOf; "" for a leaf or an introspection field).
	composite string
	child     *scope
}

// compositeOf is the shape of the type of a field signature
// NAME(ARGS):TYPE, its list and non-null wrappers ("_" for the named type:
// "[_!]!"), or "" for a signature without a type.
func compositeOf(sig string) string {
	i := strings.LastIndex(sig, "):")
	if i < 0 {
		return ""
	}
	return shapeOf(sig[i+2:])
}

// shapeOf is the type typ with its named type written "_".
func shapeOf(typ string) string {
	return strings.Map(func(r rune) rune {
		if r == '[' || r == ']' || r == '!' || r == '_' {
			return r
		}
		return -1
	}, strings.Replace(typ, strings.Trim(typ, "[]!"), "_", 1))
}

func newScope() *scope { return &scope{keys: map[string][]*entry{}} }

// claim reserves key for a field of signature sig selected on parent (an
// object type name, or "" on an abstract type) with leaf type leaf (""
// for a composite), and returns the scope of its sub-selection, or nil
// when the key is taken by a field it cannot merge with.
func (sc *scope) claim(key, sig, parent, leaf string) *scope {
	var same, exclusive *entry
	composite := ""
	if leaf == "" {
		composite = compositeOf(sig)
	}
	for _, e := range sc.keys[key] {
		switch {
		case e.sig == sig:
			same = e
		case parent != "" && e.parent != "" && parent != e.parent && leaf != "" && leaf == e.leaf:
		case parent != "" && e.parent != "" && parent != e.parent && leaf == "" && e.leaf == "" && composite != "" && composite == e.composite:
			// Composite fields of one shape on different object types
			// (spec 5.3.2: mutually exclusive parents need only the same
			// response shape, SameResponseShape): their sub-selections
			// share one scope, so their keys keep one shape.
			if exclusive == nil {
				exclusive = e
			}
		default:
			return nil
		}
	}
	if same != nil {
		return same.child
	}
	if exclusive != nil {
		e := &entry{sig: sig, parent: parent, composite: composite, child: exclusive.child}
		sc.keys[key] = append(sc.keys[key], e)
		return e.child
	}
	if len(sc.keys[key]) == 0 {
		sc.order = append(sc.order, key)
	}
	e := &entry{sig: sig, parent: parent, leaf: leaf, composite: composite, child: newScope()}
	sc.keys[key] = append(sc.keys[key], e)
	return e.child
}

// objectName is t's name when t is an object type, else "".
func objectName(t *ast.Definition) string {
	if t != nil && t.Kind == ast.Object {
		return t.Name
	}
	return ""
}

// maxFragmentNesting bounds fragments nested in one another in most
// operations; deepFragmentNesting in some, whose fragments are named
// (clients build documents from fragments that spread fragments).
const (
	maxFragmentNesting  = 3
	deepFragmentNesting = 6
)

func (s *gen) selectionSet(t *ast.Definition, depth int, sc *scope, fragDepth int) ast.SelectionSet {
	want := s.want
	s.want = nil
	abstract := t.IsAbstractType()
	if abstract && want == nil && s.r.IntN(10) == 0 {
		return s.typenameOnly(t, sc, fragDepth)
	}
	set := s.wanted(t, depth, sc, want)
	n := 1 + s.r.IntN(s.opts.MaxSelections)
	if depth > s.opts.MaxDepth {
		// Past the usual depth, on a long chain: one field a level.
		n = 1
	}
	for i := 0; i < n; i++ {
		roll := s.r.IntN(100)
		switch {
		case roll < 7:
			if sel := s.typename(t, sc, false); sel != nil {
				set = append(set, sel)
			}
		case fragDepth < s.fragNesting && abstract && roll < 45, fragDepth < s.fragNesting && !abstract && roll < 15:
			if sel := s.narrowed(t, depth, sc, fragDepth); sel != nil {
				set = append(set, sel)
			} else if sel := s.fragment(t, depth, sc, fragDepth); sel != nil {
				set = append(set, sel)
			}
		case roll >= 96 && depth == 1 && t == s.schema.Query:
			// Also inside fragments on the query type.
			if sel := s.introspection(sc); sel != nil {
				set = append(set, sel)
			}
		default:
			set = append(set, s.field(t, depth, sc)...)
		}
	}
	if len(set) == 0 {
		set = append(set, s.typename(t, sc, true))
	} else if s.typenames && fragDepth == 0 && sc.claim("__typename", "__typename", objectName(t), "String!") != nil {
		set = append(set, &ast.Field{Name: "__typename", Alias: "__typename"})
	}
	if odds := skippedOdds(depth, fragDepth); s.r.IntN(odds) == 0 {
		// Every selection left out by @skip/@include (skipped.go).
		s.allSkipped(set)
	}
	return set
}

// skippedOdds is one in how many selection sets allSkipped leaves empty:
// more often an operation's root (data {}) than a set below it.
func skippedOdds(depth, fragDepth int) int {
	if depth == 1 && fragDepth == 0 {
		return 30
	}
	return 60
}

// typename selects __typename, sometimes under an alias. When the key
// __typename is taken by another field (an alias) and the alias budget is
// spent, it returns nil unless must.
func (s *gen) typename(t *ast.Definition, sc *scope, must bool) ast.Selection {
	f := &ast.Field{Name: "__typename", Alias: "__typename"}
	if s.r.IntN(4) == 0 && s.aliases < s.opts.MaxAliases {
		f.Alias = s.alias(t, sc)
	}
	if sc.claim(f.Alias, "__typename", objectName(t), "String!") == nil {
		if !must && s.aliases >= s.opts.MaxAliases {
			return nil
		}
		f.Alias = s.freshAlias()
		for sc.claim(f.Alias, "__typename", objectName(t), "String!") == nil {
			f.Alias = s.freshAlias()
		}
	}
	s.directives(&f.Directives)
	s.conditionTypename(f)
	return f
}

func (s *gen) freshAlias() string {
	s.aliases++
	s.nAlias++
	return "a" + strconv.Itoa(s.nAlias)
}

// alias picks an alias for a selection on t: a hint name, a field's
// name, __typename, a response key the scope has already (on another
// object type it may name another field), or a fresh one.
func (s *gen) alias(t *ast.Definition, sc *scope) string {
	var cands []string
	if t != nil && t.Kind == ast.Object && len(sc.order) > 0 && s.r.IntN(4) == 0 {
		s.aliases++
		return sc.order[s.r.IntN(len(sc.order))]
	}
	if t != nil {
		cands = append(cands, s.hints.AliasNames[t.Name]...)
		for _, f := range t.Fields {
			if !strings.HasPrefix(f.Name, "__") {
				cands = append(cands, f.Name)
			}
		}
	}
	cands = append(cands, "__typename")
	switch roll := s.r.IntN(10); {
	case roll < 7:
		s.aliases++
		return cands[s.r.IntN(len(cands))]
	default:
		return s.freshAlias()
	}
}

// conditions lists the type conditions a fragment in a selection set on t
// may have, sorted.
func (s *gen) conditions(t *ast.Definition) []string {
	mine := map[string]bool{}
	for _, p := range s.schema.GetPossibleTypes(t) {
		mine[p.Name] = true
	}
	var out []string
	for name, def := range s.schema.Types {
		if def.BuiltIn || strings.HasPrefix(name, "__") {
			continue
		}
		switch def.Kind {
		case ast.Object, ast.Interface, ast.Union:
		default:
			continue
		}
		for _, p := range s.schema.GetPossibleTypes(def) {
			if mine[p.Name] {
				out = append(out, name)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

func (s *gen) fragment(t *ast.Definition, depth int, sc *scope, fragDepth int) ast.Selection {
	conds := s.conditions(t)
	if len(conds) == 0 {
		return nil
	}
	cond := conds[s.r.IntN(len(conds))]
	// On an abstract type, prefer its object types: every member gets a
	// fragment over many operations.
	if t.IsAbstractType() && s.r.IntN(3) > 0 {
		if pt := s.schema.GetPossibleTypes(t); len(pt) > 0 {
			cond = pt[s.r.IntN(len(pt))].Name
		}
	}
	if partial := s.partialFor(t, conds); len(partial) > 0 && s.r.IntN(3) == 0 {
		cond = partial[s.r.IntN(len(partial))]
	}
	if io := s.interfaceObjectsFor(conds); len(io) > 0 && s.r.IntN(3) == 0 {
		cond = io[s.r.IntN(len(io))]
	}
	def := s.schema.Types[cond]
	if reuse := s.reusableFor(conds); reuse != nil && s.r.IntN(3) == 0 && s.aliases+reuse.aliases <= s.opts.MaxAliases {
		// A fragment spread elsewhere too: in another operation of the
		// document, or in another place of this one. Its aliases count
		// again (gateways count aliases with fragments expanded).
		s.aliases += reuse.aliases
		if reuse.defers {
			// A fragment spreading it holds @defer too.
			s.defers++
		}
		if reuse.vars {
			// A fragment spreading it uses those variables too.
			s.varUses++
			if reuse.op != s.op {
				// Shapes: this operation declares them too.
				s.redeclare(reuse)
			}
		}
		spread := &ast.FragmentSpread{Name: reuse.def.Name}
		s.directives(&spread.Directives)
		s.deferDirective(&spread.Directives)
		return spread
	}
	if s.r.IntN(4) == 0 || (s.named && s.r.IntN(4) > 0) {
		name := fmt.Sprintf("F%d", len(s.frags)+1)
		fd := &ast.FragmentDefinition{Name: name, TypeCondition: cond}
		s.frags = append(s.frags, fd)
		uses, aliases, defers := s.varUses, s.aliases, s.defers
		fd.SelectionSet = s.selectionSet(def, depth, sc, fragDepth+1)
		rf := reusableFragment{def: fd, op: s.op, vars: s.varUses != uses,
			aliases: s.aliases - aliases, defers: s.defers != defers}
		if s.opts.Shapes {
			rf.varDefs, rf.shareable = s.fragmentVarDefs(fd)
		}
		s.reusable = append(s.reusable, rf)
		spread := &ast.FragmentSpread{Name: name}
		s.directives(&spread.Directives)
		s.deferDirective(&spread.Directives)
		return spread
	}
	in := &ast.InlineFragment{TypeCondition: cond}
	if s.r.IntN(8) == 0 {
		in.TypeCondition, def = "", t
	}
	in.SelectionSet = s.selectionSet(def, depth, sc, fragDepth+1)
	s.directives(&in.Directives)
	s.deferDirective(&in.Directives)
	return in
}

// partialFor lists the conditions of conds that are Partial for an object
// type that t may be (no random draw: a graph without such a type keeps
// the operations it had before Partial).
func (s *gen) partialFor(t *ast.Definition, conds []string) []string {
	if len(s.hints.Partial) == 0 {
		return nil
	}
	var out []string
	for _, c := range conds {
		for _, p := range s.schema.GetPossibleTypes(t) {
			if s.hints.Partial[c][p.Name] {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// reusableFor picks a finished fragment whose type condition is one of
// conds, or nil: one of this operation, or a variable-free one of an
// earlier operation.
func (s *gen) reusableFor(conds []string) *reusableFragment {
	var cands []*reusableFragment
	for i := range s.reusable {
		f := &s.reusable[i]
		if (f.op != s.op && f.vars && !s.canRedeclare(f)) || (f.defers && s.kind != ast.Query) {
			continue
		}
		for _, c := range conds {
			if c == f.def.TypeCondition {
				cands = append(cands, f)
				break
			}
		}
	}
	if len(cands) == 0 {
		return nil
	}
	return cands[s.r.IntN(len(cands))]
}

func (s *gen) pickField(t *ast.Definition, depth int) *ast.FieldDefinition {
	leafOnly := depth >= s.opts.MaxDepth+s.chain || s.fields >= s.opts.MaxFields
	deep := depth >= s.opts.MaxDepth
	var cands []*ast.FieldDefinition
	var weights []int
	total := 0
	for _, f := range t.Fields {
		if strings.HasPrefix(f.Name, "__") {
			continue
		}
		ft := s.schema.Types[f.Type.Name()]
		if ft == nil {
			continue
		}
		w := 2
		if ft.IsCompositeType() {
			if leafOnly {
				continue
			}
			w = 3
			if s.hints.Entities[ft.Name] || ft.IsAbstractType() {
				w = 5
			}
			if deep && s.hints.Entities[ft.Name] {
				// A long chain follows entities.
				w = 40
			}
		}
		cands = append(cands, f)
		weights = append(weights, w)
		total += w
	}
	if total == 0 {
		return nil
	}
	x := s.r.IntN(total)
	for i, w := range weights {
		if x < w {
			return cands[i]
		}
		x -= w
	}
	return cands[len(cands)-1]
}

// field returns one or two selections of a field of t (two: the same
// field with different arguments under different aliases).
func (s *gen) field(t *ast.Definition, depth int, sc *scope) ast.SelectionSet {
	if fd, key := s.exclusive(t, depth, sc); fd != nil && s.r.IntN(2) == 0 {
		s.forceAlias = key
		return s.fieldOf(t, fd, depth, sc, nil)
	}
	fd := s.pickField(t, depth)
	if fd == nil {
		return ast.SelectionSet{s.typename(t, sc, true)}
	}
	out := s.fieldOf(t, fd, depth, sc, nil)
	if req := s.hints.Requires[t.Name][fd.Name]; req != nil && len(out) > 0 && s.r.IntN(3) == 0 {
		// The client selects the @requires inputs too, under their names
		// or aliases.
		out = append(out, s.wanted(t, depth, sc, req)...)
	}
	return out
}

// exclusive picks, for a selection on the object type t, a composite
// field of t and a response key of the scope held by a composite field of
// the same shape (list and non-null wrappers) selected on another object
// type (in a fragment next to this one): one key for two fields that
// differ, valid because no object is of both types (spec 5.3.2,
// SameResponseShape); nil when there is none.
func (s *gen) exclusive(t *ast.Definition, depth int, sc *scope) (*ast.FieldDefinition, string) {
	if t.Kind != ast.Object || s.aliases >= s.opts.MaxAliases || depth >= s.opts.MaxDepth || s.fields >= s.opts.MaxFields {
		return nil, ""
	}
	type cand struct {
		fd  *ast.FieldDefinition
		key string
	}
	var cands []cand
	for _, key := range sc.order {
		for _, e := range sc.keys[key] {
			if e.parent == "" || e.parent == t.Name || e.composite == "" {
				continue
			}
			name := e.sig[:strings.Index(e.sig, "(")]
			for _, fd := range t.Fields {
				// Another field, or the same one with arguments (which
				// then differ, mostly).
				other := fd.Name != name || len(fd.Arguments) > 0
				ft := s.schema.Types[fd.Type.Name()]
				if ft != nil && ft.IsCompositeType() && shapeOf(fd.Type.String()) == e.composite && other && !strings.HasPrefix(fd.Name, "__") {
					cands = append(cands, cand{fd, key})
				}
			}
		}
	}
	if len(cands) == 0 {
		return nil, ""
	}
	c := cands[s.r.IntN(len(cands))]
	return c.fd, c.key
}

// fieldOf returns one or two selections of fd on t; want (nil for none)
// is selected first in the field's sub-selection.
func (s *gen) fieldOf(t *ast.Definition, fd *ast.FieldDefinition, depth int, sc *scope, want ast.SelectionSet) ast.SelectionSet {
	times := 1
	if len(fd.Arguments) > 0 && s.r.IntN(6) == 0 {
		times = 2
	}
	times = s.moreKeys(fd, times)
	var out ast.SelectionSet
	for i := 0; i < times; i++ {
		if i > 0 && s.aliases >= s.opts.MaxAliases {
			// The second selection needs an alias: none left.
			break
		}
		f := &ast.Field{Name: fd.Name, Alias: fd.Name}
		f.Arguments = s.arguments(fd.Arguments)
		chainLevel := s.aliasChain && depth >= s.opts.MaxDepth-2
		if i > 0 || ((chainLevel || s.r.IntN(4) == 0) && s.aliases < s.opts.MaxAliases) {
			f.Alias = s.alias(t, sc)
		}
		if s.forceAlias != "" {
			if f.Alias == fd.Name && s.forceAlias != fd.Name {
				s.aliases++
			}
			f.Alias, s.forceAlias = s.forceAlias, ""
		}
		sig := fd.Name + "(" + argsString(f.Arguments) + "):" + fd.Type.String()
		ft := s.schema.Types[fd.Type.Name()]
		leaf := ""
		if !ft.IsCompositeType() {
			leaf = fd.Type.String()
		}
		child := sc.claim(f.Alias, sig, objectName(t), leaf)
		if child == nil {
			if s.aliases >= s.opts.MaxAliases && len(out) > 0 {
				// The key is taken and no alias is left: one
				// selection of the field is enough.
				break
			}
			// A fresh alias may be a key a field of the schema holds
			// (a field named a1): the next one then.
			for child == nil {
				f.Alias = s.freshAlias()
				child = sc.claim(f.Alias, sig, objectName(t), leaf)
			}
		}
		s.fields++
		s.directives(&f.Directives)
		s.conditionSpecial(t, fd, f)
		if ft.IsCompositeType() {
			s.want = want
			if prov := s.hints.Provides[t.Name][fd.Name]; want == nil && prov != nil && s.r.IntN(2) == 0 {
				// What the @provides path provides, then (maybe) more.
				s.want = prov
			}
			f.SelectionSet = s.selectionSet(ft, depth+1, child, 0)
			if s.r.IntN(10) == 0 {
				// The same field again at this level, one of the two
				// conditional: their sub-selections merge when both run.
				out = append(out, f, s.again(f, ft, depth, child))
				continue
			}
			if s.opts.Merge && s.r.IntN(mergeOdds) == 0 {
				if m := s.mergeAgain(t, f, ft, depth, child); m != nil {
					out = append(out, f, m)
					continue
				}
			}
		}
		out = append(out, f)
	}
	return out
}

func argsString(args ast.ArgumentList) string {
	var parts []string
	for _, a := range args {
		parts = append(parts, a.Name+":"+a.Value.String())
	}
	return strings.Join(parts, ",")
}

// directives adds @skip or @include, sometimes, with a literal or a
// variable condition.
func (s *gen) directives(list *ast.DirectiveList) {
	if s.r.IntN(8) != 0 {
		return
	}
	name := "include"
	if s.r.IntN(2) == 0 {
		name = "skip"
	}
	var v *ast.Value
	if s.r.IntN(2) == 0 {
		v = &ast.Value{Kind: ast.BooleanValue, Raw: strconv.FormatBool(s.r.IntN(2) == 0)}
	} else {
		v = s.boolVariable()
	}
	*list = append(*list, &ast.Directive{Name: name, Arguments: ast.ArgumentList{{Name: "if", Value: v}}})
	if s.r.IntN(6) == 0 {
		// Both: the selection is included when skip is false and include
		// is true (spec 3.13).
		other := "skip"
		if name == "skip" {
			other = "include"
		}
		typ := ast.NonNullNamedType("Boolean", nil)
		*list = append(*list, &ast.Directive{Name: other, Arguments: ast.ArgumentList{{Name: "if", Value: s.variable(typ)}}})
	}
}

func (s *gen) arguments(defs ast.ArgumentDefinitionList) ast.ArgumentList {
	var out ast.ArgumentList
	for _, d := range defs {
		required := d.Type.NonNull && d.DefaultValue == nil
		if !required && s.r.IntN(5) >= 2 {
			continue
		}
		if v := s.optionalVariable(d.Type, d.DefaultValue); v != nil {
			out = append(out, &ast.Argument{Name: d.Name, Value: v})
			continue
		}
		var v *ast.Value
		switch roll := s.r.IntN(20); {
		case roll < 2 && required:
			// A nullable variable with a default for a non-null argument.
			v = s.defaultedVariable(d.Type)
		case roll < 3 && !d.Type.NonNull && d.DefaultValue != nil:
			// An explicit null overrides the argument's default (spec
			// 6.4.1, CoerceArgumentValues).
			v = &ast.Value{Kind: ast.NullValue, Raw: "null"}
		case roll < 8:
			v = s.variable(d.Type)
		default:
			v = s.literal(d.Type, 0)
		}
		out = append(out, &ast.Argument{Name: d.Name, Value: v})
	}
	return out
}

// variable defines a new variable of type typ in the current operation,
// sometimes with a default, and sometimes sends no value for it when that
// is allowed.
//
// Sometimes it reuses a variable of the operation with the same type, so
// one variable feeds several arguments.
func (s *gen) variable(typ *ast.Type) *ast.Value {
	s.varUses++
	if s.r.IntN(5) == 0 {
		var same []string
		for _, d := range s.opVars {
			if d.Type.String() == typ.String() {
				same = append(same, d.Variable)
			}
		}
		if len(same) > 0 {
			return &ast.Value{Kind: ast.Variable, Raw: same[s.r.IntN(len(same))]}
		}
	}
	s.nVar++
	name := "v" + strconv.Itoa(s.nVar)
	if !typ.NonNull && s.r.IntN(10) == 0 {
		// A non-null variable in a nullable position (spec 5.8.5).
		strict := *typ
		strict.NonNull = true
		typ = &strict
	}
	def := &ast.VariableDefinition{Variable: name, Type: typ}
	if s.r.IntN(5) < 2 {
		constant := s.constant
		s.constant = true
		def.DefaultValue = s.literal(typ, 0)
		s.constant = constant
	}
	s.opVars = append(s.opVars, def)
	omit := (def.DefaultValue != nil && s.r.IntN(2) == 0) || (!typ.NonNull && s.r.IntN(5) == 0)
	switch {
	case !omit && def.DefaultValue != nil && !typ.NonNull && s.r.IntN(4) == 0:
		// An explicit null, not the default (spec 6.1.2,
		// CoerceVariableValues).
		s.values[name] = nil
	case !omit:
		s.values[name] = s.jsonValue(typ, 0)
	}
	return &ast.Value{Kind: ast.Variable, Raw: name}
}

var (
	strPool = []string{"1", "2", "3", "4", "a", "e", ""}
	idPool  = []string{"1", "2", "3", "4", "5"}
)

const maxValueDepth = 3

func (s *gen) literal(typ *ast.Type, depth int) *ast.Value {
	if !typ.NonNull && s.r.IntN(12) == 0 {
		return &ast.Value{Kind: ast.NullValue, Raw: "null"}
	}
	if depth > 0 && !s.constant && s.r.IntN(8) == 0 {
		// A variable inside a list or input object value.
		return s.variable(typ)
	}
	if typ.Elem != nil && s.r.IntN(10) == 0 {
		// One item where a list is expected (input coercion, spec 3.11).
		if v := s.literal(typ.Elem, depth+1); v.Kind != ast.NullValue {
			return v
		}
	}
	if typ.Elem != nil {
		v := &ast.Value{Kind: ast.ListValue}
		if depth < maxValueDepth {
			for i, n := 0, s.r.IntN(3); i < n; i++ {
				v.Children = append(v.Children, &ast.ChildValue{Value: s.literal(typ.Elem, depth+1)})
			}
		}
		return v
	}
	def := s.schema.Types[typ.NamedType]
	switch {
	case def == nil:
		return &ast.Value{Kind: ast.NullValue, Raw: "null"}
	case def.Kind == ast.Enum:
		return &ast.Value{Kind: ast.EnumValue, Raw: def.EnumValues[s.r.IntN(len(def.EnumValues))].Name}
	case def.Kind == ast.InputObject:
		v := &ast.Value{Kind: ast.ObjectValue}
		for _, f := range def.Fields {
			required := f.Type.NonNull && f.DefaultValue == nil
			if !required && (depth >= maxValueDepth || s.r.IntN(2) == 0) {
				continue
			}
			fv := s.optionalVariable(f.Type, f.DefaultValue)
			if fv == nil {
				fv = s.literal(f.Type, depth+1)
			}
			v.Children = append(v.Children, &ast.ChildValue{Name: f.Name, Value: fv})
		}
		return v
	}
	if v := s.wideLiteral(def); v != nil {
		return v
	}
	if v := s.oddLiteral(def); v != nil {
		return v
	}
	switch typ.NamedType {
	case "Int":
		return &ast.Value{Kind: ast.IntValue, Raw: strconv.Itoa(s.r.IntN(5))}
	case "Float":
		if s.r.IntN(4) == 0 {
			// An Int literal where a Float is expected (spec 3.5.2).
			return &ast.Value{Kind: ast.IntValue, Raw: strconv.Itoa(s.r.IntN(5))}
		}
		return &ast.Value{Kind: ast.FloatValue, Raw: strconv.Itoa(s.r.IntN(5)) + ".5"}
	case "Boolean":
		return &ast.Value{Kind: ast.BooleanValue, Raw: strconv.FormatBool(s.r.IntN(2) == 0)}
	case "ID":
		if s.r.IntN(4) == 0 {
			// An Int literal where an ID is expected (spec 3.5.5).
			return &ast.Value{Kind: ast.IntValue, Raw: idPool[s.r.IntN(len(idPool))]}
		}
		return &ast.Value{Kind: ast.StringValue, Raw: idPool[s.r.IntN(len(idPool))]}
	default:
		return &ast.Value{Kind: ast.StringValue, Raw: strPool[s.r.IntN(len(strPool))]}
	}
}

func (s *gen) jsonValue(typ *ast.Type, depth int) any {
	if !typ.NonNull && s.r.IntN(12) == 0 {
		return nil
	}
	if typ.Elem != nil && s.r.IntN(10) == 0 {
		// One item where a list is expected (input coercion, spec 3.11).
		if v := s.jsonValue(typ.Elem, depth+1); v != nil {
			return v
		}
	}
	if typ.Elem != nil {
		out := []any{}
		if depth < maxValueDepth {
			for i, n := 0, s.r.IntN(3); i < n; i++ {
				out = append(out, s.jsonValue(typ.Elem, depth+1))
			}
		}
		return out
	}
	def := s.schema.Types[typ.NamedType]
	switch {
	case def == nil:
		return nil
	case def.Kind == ast.Enum:
		return def.EnumValues[s.r.IntN(len(def.EnumValues))].Name
	case def.Kind == ast.InputObject:
		out := map[string]any{}
		for _, f := range def.Fields {
			required := f.Type.NonNull && f.DefaultValue == nil
			if !required && (depth >= maxValueDepth || s.r.IntN(2) == 0) {
				continue
			}
			out[f.Name] = s.jsonValue(f.Type, depth+1)
		}
		return out
	}
	if v, ok := s.wideJSON(def); ok {
		return v
	}
	if v, ok := s.oddJSON(def); ok {
		return v
	}
	switch typ.NamedType {
	case "Int":
		return s.r.IntN(5)
	case "Float":
		if s.r.IntN(4) == 0 {
			return s.r.IntN(5)
		}
		return float64(s.r.IntN(5)) + 0.5
	case "Boolean":
		return s.r.IntN(2) == 0
	case "ID":
		if s.r.IntN(4) == 0 {
			// An ID variable sent as a JSON number (spec 3.5.5).
			n, _ := strconv.Atoi(idPool[s.r.IntN(len(idPool))])
			return n
		}
		return idPool[s.r.IntN(len(idPool))]
	default:
		return strPool[s.r.IntN(len(strPool))]
	}
}
