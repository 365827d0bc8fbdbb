// Package mutate generates operations for differential testing by
// rewriting real ones the way clients write them, instead of walking the
// schema at random (internal/opgen): seed operations come from the
// repository's tests, golden files and docs (Collect, ForSchema), and
// each generated operation is one seed with a few transformations stacked
// (aliases, a field twice, selections split into overlapping named and
// inline fragments, fragments spread again, @skip/@include, literals moved
// to variables, __typename, several operations, shuffled fields, entity
// chains, fragments spread inline, @defer). Every step keeps the document
// valid for the gateway's rules (Validate); the differential test checks
// the result with graphql-js too before sending it. Equivalent stacks only
// the rewrites that keep the answer, to compare a gateway with itself.
package mutate

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	validatorrules "github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/fedgate/gateway/internal/opgen"
	"github.com/fedgate/gateway/limits"
)

// Options bound the rewriting. Zero fields take defaults.
type Options struct {
	// MaxSteps bounds the transformations stacked on one seed (default 5).
	MaxSteps int
	// Defer allows the transformation that wraps selections of a query in
	// an inline fragment with @defer.
	Defer bool
	// Only, when not empty, names the transformations to draw from
	// (TransformNames); the others are not used.
	Only []string
}

// Generator rewrites the seed operations of one schema.
type Generator struct {
	schema *ast.Schema
	hints  opgen.Hints
	seeds  []opgen.Operation
	opts   Options
	pool   []transform
}

// New returns a generator rewriting seeds, operations valid against schema
// (ForSchema).
func New(schema *ast.Schema, hints opgen.Hints, seeds []opgen.Operation, opts Options) *Generator {
	if opts.MaxSteps <= 0 {
		opts.MaxSteps = 5
	}
	g := &Generator{schema: schema, hints: hints, seeds: seeds, opts: opts}
	for _, t := range transforms {
		if t.name == "defer" && !opts.Defer || len(opts.Only) > 0 && !slices.Contains(opts.Only, t.name) {
			continue
		}
		g.pool = append(g.pool, t)
	}
	return g
}

// Seeds returns the operations the generator rewrites.
func (g *Generator) Seeds() []opgen.Operation { return g.seeds }

// attemptsPerStep bounds the transformations tried for one step: a
// transformation may find nothing to do or make a document that does not
// validate (a field merge conflict, say).
const attemptsPerStep = 12

// Generate returns the rewritten operation for seed: the same seed gives
// the same operation. Its document starts with a comment naming the seed
// operation and the transformations applied, in order.
func (g *Generator) Generate(seed uint64) (opgen.Operation, error) {
	_, op, err := g.generate(seed, false)
	return op, err
}

// Equivalent returns a seed operation and a rewrite of it that must get
// the same answer, response key order aside: only rewrites that change
// how the operation is written, not what it asks, are stacked (fields
// shuffled; selections moved or copied into fragments that apply to the
// same objects; a field selected once more under its response key with
// its arguments; named fragments spread inline; literals moved to variables sent or defaulted to the
// same value, or one item for a one-item list; @skip/@include that keep
// the selection; other operations next to the one that runs). It needs
// no reference: the gateway is compared with itself.
func (g *Generator) Equivalent(seed uint64) (base, op opgen.Operation, err error) {
	return g.generate(seed, true)
}

// Added reports whether a response key is one of the __typename fields
// Equivalent adds (their values are no part of the seed's answer).
func Added(key string) bool {
	rest, ok := strings.CutPrefix(key, addedPrefix)
	if !ok || rest == "" {
		return false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// preserving lists the transformations Equivalent stacks; each has a
// mode that keeps the answer (rewrite.preserve).
var preserving = []string{"shuffle", "fragment", "variable", "condition", "operations", "twice", "inline-spread", "typename", "complement"}

func (g *Generator) generate(seed uint64, preserve bool) (opgen.Operation, opgen.Operation, error) {
	if len(g.seeds) == 0 {
		return opgen.Operation{}, opgen.Operation{}, fmt.Errorf("mutate: no seed operation for this schema")
	}
	pool := g.pool
	if preserve {
		pool = nil
		for _, t := range transforms {
			// @defer changes when data arrives, not what it is: the
			// merged payloads are the answer (Options.Defer).
			if slices.Contains(preserving, t.name) || t.name == "defer" && g.opts.Defer {
				pool = append(pool, t)
			}
		}
	}
	if len(pool) == 0 {
		return opgen.Operation{}, opgen.Operation{}, fmt.Errorf("mutate: no transformation among %v", g.opts.Only)
	}
	r := rand.New(rand.NewPCG(seed, 0x6d757461))
	base := r.IntN(len(g.seeds))
	op := cloneOp(g.seeds[base])
	var applied []string
	steps := 1 + r.IntN(g.opts.MaxSteps)
	for step := 0; step < steps; step++ {
		for attempt := 0; attempt < attemptsPerStep; attempt++ {
			t := pool[r.IntN(len(pool))]
			next, ok := g.apply(t, r, op, preserve)
			if !ok || next.Query == op.Query && mapsEqual(next.Variables, op.Variables) && next.OperationName == op.OperationName {
				continue
			}
			if Validate(g.schema, next) != nil || opgen.ExpandedAliases(next.Query) > opgen.MaxExpandedAliases {
				continue
			}
			op = next
			applied = append(applied, t.name)
			break
		}
	}
	op.Query = fmt.Sprintf("# mutate: seed %d: %s\n", base, strings.Join(applied, ", ")) + op.Query
	return cloneOp(g.seeds[base]), op, nil
}

// apply runs one transformation on a freshly parsed and validated copy of
// op's document.
func (g *Generator) apply(t transform, r *rand.Rand, op opgen.Operation, preserve bool) (opgen.Operation, bool) {
	doc, errs := opgen.LoadQuery(g.schema, op.Query)
	if len(errs) > 0 {
		return op, false
	}
	target := doc.Operations.ForName(op.OperationName)
	if op.OperationName == "" {
		target = doc.Operations[0]
	}
	if target == nil {
		return op, false
	}
	m := &rewrite{g: g, r: r, doc: doc, op: target, vars: cloneVars(op.Variables), name: op.OperationName, preserve: preserve}
	m.collect()
	if !t.fn(m) {
		return op, false
	}
	return opgen.Operation{Query: opgen.Print(m.doc), OperationName: m.name, Variables: m.vars}, true
}

// site is a selection set of the running operation or of a fragment it
// spreads, with the type its selections are on.
type site struct {
	set   *ast.SelectionSet
	typ   *ast.Definition
	depth int
	// frag is the fragment definition the set belongs to, if any.
	frag *ast.FragmentDefinition
}

// fieldSite is a field with the site it is selected in.
type fieldSite struct {
	field *ast.Field
	in    *site
}

// rewrite is one transformation's view of a document.
type rewrite struct {
	g    *Generator
	r    *rand.Rand
	doc  *ast.QueryDocument
	op   *ast.OperationDefinition
	vars map[string]any
	name string
	// preserve asks for rewrites that keep the answer (Equivalent).
	preserve bool
	sites    []*site
	// fields lists the fields of sites; args the field arguments.
	fields []fieldSite
}

// collect lists the sites and fields of the running operation, fragments
// it spreads included (each once).
func (m *rewrite) collect() {
	seenFrag := map[string]bool{}
	var walk func(set *ast.SelectionSet, typ *ast.Definition, depth int, frag *ast.FragmentDefinition)
	walk = func(set *ast.SelectionSet, typ *ast.Definition, depth int, frag *ast.FragmentDefinition) {
		if typ == nil || depth > 40 {
			return
		}
		s := &site{set: set, typ: typ, depth: depth, frag: frag}
		m.sites = append(m.sites, s)
		for _, sel := range *set {
			switch x := sel.(type) {
			case *ast.Field:
				m.fields = append(m.fields, fieldSite{field: x, in: s})
				if len(x.SelectionSet) > 0 && x.Definition != nil {
					walk(&x.SelectionSet, m.g.schema.Types[x.Definition.Type.Name()], depth+1, frag)
				}
			case *ast.InlineFragment:
				t := typ
				if x.TypeCondition != "" {
					t = m.g.schema.Types[x.TypeCondition]
				}
				walk(&x.SelectionSet, t, depth, frag)
			case *ast.FragmentSpread:
				if seenFrag[x.Name] {
					continue
				}
				seenFrag[x.Name] = true
				if f := m.doc.Fragments.ForName(x.Name); f != nil {
					walk(&f.SelectionSet, m.g.schema.Types[f.TypeCondition], depth, f)
				}
			}
		}
	}
	root := m.g.schema.Query
	if m.op.Operation == ast.Mutation {
		root = m.g.schema.Mutation
	}
	walk(&m.op.SelectionSet, root, 0, nil)
}

// pickSite returns a random site, or nil.
func (m *rewrite) pickSite(ok func(*site) bool) *site {
	var cands []*site
	for _, s := range m.sites {
		if ok == nil || ok(s) {
			cands = append(cands, s)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	return cands[m.r.IntN(len(cands))]
}

// pickField returns a random field, or a zero fieldSite.
func (m *rewrite) pickField(ok func(fieldSite) bool) (fieldSite, bool) {
	var cands []fieldSite
	for _, f := range m.fields {
		if ok == nil || ok(f) {
			cands = append(cands, f)
		}
	}
	if len(cands) == 0 {
		return fieldSite{}, false
	}
	return cands[m.r.IntN(len(cands))], true
}

// fresh returns a name with prefix that the document does not use yet.
func (m *rewrite) fresh(prefix string) string {
	text := opgen.Print(m.doc)
	for i := 1; ; i++ {
		name := fmt.Sprintf("%s%d", prefix, i)
		if !strings.Contains(text, name) {
			if _, taken := m.vars[name]; !taken {
				return name
			}
		}
	}
}

func cloneOp(op opgen.Operation) opgen.Operation {
	op.Variables = cloneVars(op.Variables)
	return op
}

func cloneVars(v map[string]any) map[string]any {
	out := make(map[string]any, len(v))
	for k, x := range v {
		out[k] = x
	}
	return out
}

func mapsEqual(a, b map[string]any) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// rules are the gateway's validation rules: opgen.Rules (with the @defer
// label rule: a rewrite that copies a labelled @defer, as operations,
// twice, complement and fragment may, is drawn again) and the Int range
// the server checks (limits.IntRangeRule), which opgen leaves out.
var rules = sync.OnceValue(func() *validatorrules.Rules {
	r := opgen.Rules()
	r.AddRule(limits.IntRangeRule.Name, limits.IntRangeRule.RuleFunc)
	return r
})

// Validate checks op's document and variables against schema with the
// gateway's rules (opgen.Validate, and Int literals within 32 bits).
func Validate(schema *ast.Schema, op opgen.Operation) error {
	if err := opgen.Validate(schema, op); err != nil {
		return err
	}
	if _, errs := gqlparser.LoadQueryWithRules(schema, op.Query, rules()); len(errs) > 0 {
		return fmt.Errorf("invalid document: %w", errs)
	}
	return nil
}
