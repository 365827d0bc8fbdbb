package planner

import (
	"fmt"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/fedgate/gateway/schema"
)

// The planner: Options, errors, the planning budget and the order of
// the passes (Plan). See doc.go for where each pass lives.

// Planner builds query plans for one supergraph. It is safe for concurrent
// use and holds no per-request state.
type Planner struct {
	sg *schema.Supergraph
	// fieldSets caches the supergraph's normalized field sets.
	fieldSets *fieldSets
}

// New returns a planner for the supergraph.
func New(sg *schema.Supergraph) *Planner { return &Planner{sg: sg, fieldSets: &fieldSets{}} }

// Options are the per-request inputs that change a plan besides the
// operation itself; they are part of the plan cache key.
type Options struct {
	// Labels are the progressive @override labels in force.
	Labels map[string]bool
	// NoMerge keeps one entity fetch per response path instead of joining
	// same-subgraph fetches of one level.
	NoMerge bool
	// Authorized, when set, is the operation to plan in place of op: op
	// without the fields the caller may not see (auth.Result.Plan). The
	// plan still answers op, with Denied.
	Authorized *Operation
	// Denied are the fields of op the caller may not see; the response has
	// null and an UNAUTHORIZED_FIELD_OR_TYPE error wherever they are.
	Denied map[*Field]bool
	// Budget bounds the options planning evaluates (fields placed and
	// subgraph choices estimated); 0 means DefaultBudget.
	Budget int
}

// DefaultBudget is the planning budget when Options.Budget is 0: some
// hundred times what the largest operations of the tests need.
const DefaultBudget = 2_000_000

// Error is a planning failure with its reason.
type Error struct {
	Message string
	// OverBudget is true when the operation needed more planning work
	// than the budget allows: the client's document is the cause (HTTP
	// 400), not the supergraph.
	OverBudget bool
}

func (e *Error) Error() string { return e.Message }

// spend counts one evaluated option; false once the budget is exhausted,
// which fails the plan.
func (b *builder) spend() bool {
	b.spent++
	if b.spent <= b.budget {
		return true
	}
	if b.err == nil || !b.err.OverBudget {
		b.err = &Error{Message: fmt.Sprintf("query planning needs more than its budget of %d evaluated options: split the operation or select less", b.budget), OverBudget: true}
	}
	return false
}

const inf = 1 << 20

// Plan builds the query plan for a normalized operation.
func (p *Planner) Plan(op *Operation, opts Options) (*Plan, error) {
	render := op
	if opts.Authorized != nil {
		op = opts.Authorized
	}
	b := p.newBuilder(op, opts)
	b.planRoot()
	if b.err != nil {
		return nil, b.err
	}
	if !opts.NoMerge {
		b.mergeLevels()
	}
	root, fetches := b.nodes()
	shape, err := BuildShape(render, opts.Denied)
	if err != nil {
		return nil, err
	}
	plan := &Plan{Root: root, Operation: render, Shape: shape, Fetches: fetches}
	if len(render.Defers) > 0 && render.Kind == ast.Query {
		// The split is planned again with the deferred fragments apart:
		// Root stays the plan of a client that takes one response.
		d := p.newBuilder(op, opts)
		d.deferAware = true
		d.planRoot()
		if d.err == nil && !opts.NoMerge {
			d.mergeLevels()
		}
		if d.err == nil {
			droot, _ := d.nodes()
			d.splitDefer(plan, render.Defers, droot)
		} else {
			b.splitDefer(plan, render.Defers, root)
		}
	}
	internKeys(plan)
	return plan, nil
}

func (p *Planner) newBuilder(op *Operation, opts Options) *builder {
	b := &builder{sg: p.sg, op: op, opts: opts, memo: map[costKey]int{}, fieldMemo: map[fieldKey]int{}, keyCache: map[*schema.Key][]*Field{}, keyProv: map[[2]string]*provided{}, keys: newDataKeys(op), keyMemo: map[keyCostKey]int{}, qg: p.sg.QueryGraph(), fieldSetCache: p.fieldSets}
	b.budget = opts.Budget
	if b.budget <= 0 {
		b.budget = DefaultBudget
	}
	return b
}

type builder struct {
	sg        *schema.Supergraph
	op        *Operation
	opts      Options
	groups    []*group
	memo      map[costKey]int
	fieldMemo map[fieldKey]int
	keyCache  map[*schema.Key][]*Field
	keyProv   map[[2]string]*provided // keysProvided by graph and type
	err       *Error
	// keys gives the planner's own fields their data keys.
	keys *dataKeys
	// avoidSets memoizes avoiding.
	avoidSets map[avoidStep]*avoidSet
	// provNarrowed memoizes provFor.
	provNarrowed map[provNarrowing]*provided
	// keyMemo holds keyCost results.
	keyMemo map[keyCostKey]int
	// chainMemo holds the key-chain searches' distances (chainCost; a nil
	// entry while one is in progress), made on the first search.
	chainMemo map[chainKey]map[string]int
	// qg is the supergraph's query graph.
	qg *schema.QueryGraph
	// fieldSetCache holds the supergraph's normalized field sets (nil in
	// unit tests: normalized on every call).
	fieldSetCache *fieldSets
	// fetchOf is the Fetch emitted for each group (tree.go).
	fetchOf map[*group]*Fetch
	// spent counts evaluated options against budget.
	spent, budget int
	// deferAware plans the fields of each @defer part in fetches of
	// that part (group.part), so that no fetch of the primary part waits
	// for a deferred field.
	deferAware bool
}

// dataKey is the key under which fetches of this plan write f.
func (b *builder) dataKey(f *Field) string {
	if f.internal {
		return b.keys.key(f.ParentType, f.Name, argsString(f.Arguments))
	}
	return f.DataKey()
}

func (b *builder) fail(format string, args ...any) {
	if b.err == nil {
		b.err = &Error{Message: fmt.Sprintf(format, args...)}
	}
}
