package limits

import (
	"math"
	"strconv"

	"github.com/vektah/gqlparser/v2/ast"
)

// Check walks a parsed document once, before validation, and enforces
// MaxDepth, MaxAliases, MaxFields, MaxRootFields and MaxDirectivesPerField
// on every operation, and rejects Int literals outside the 32-bit range.
//
// Fragment spreads are expanded by memoisation: each fragment's counts are
// computed once, in dependency order, and added (saturating) wherever it
// is spread, so a document whose fragments spread each other twice per
// level costs a walk of its text, not of its 2^n expansion. A spread of an
// unknown fragment, or one that closes a cycle, counts as empty: validation
// reports those later.
//
// An Int literal is rejected (GRAPHQL_VALIDATION_FAILED) when it does not
// fit in 32 bits and the document has not been validated yet, or when
// validation found that the literal is expected to be an Int. Before
// validation the expected type is unknown, so an integer literal written
// for a Float or a custom scalar is held to the same range.
func (s Static) Check(doc *ast.QueryDocument) error {
	_, err := s.check(doc, false)
	return err
}

// CheckOperations is Check for a document whose operations run one at a
// time, as a request runs the one operationName selects: the limits that
// measure what an operation makes the gateway execute, MaxAliases and
// MaxRootFields, hold for each operation apart and come back per
// operation in ops (only those over a limit), so an operation the
// request does not run cannot refuse it (Apollo Router measures only the
// operation it runs too). The limits that protect parsing and validation,
// which see the whole document, come back as err, as from Check.
func (s Static) CheckOperations(doc *ast.QueryDocument) (ops map[*ast.OperationDefinition]error, err error) {
	return s.check(doc, true)
}

func (s Static) check(doc *ast.QueryDocument, perOperation bool) (map[*ast.OperationDefinition]error, error) {
	if doc == nil {
		return nil, nil
	}
	ops, pending, err := s.walk(doc, perOperation)
	if err != nil {
		return nil, err
	}
	if err := s.checkMerges(doc); err != nil {
		return nil, err
	}
	// The merged counts of the operations whose upper bounds pass a
	// limit on running them, once the document's merge work is known to
	// be within MaxFieldMerges: each merged walk stops at that many steps
	// of its own. Before, a document of 900 operations, each over
	// MaxAliases before merging, made 900 merged walks and was then
	// refused by checkMerges (operations sharing a fragment: 15 ms of
	// CPU for 48 KiB); within the bound, the walks together cost about
	// what checkMerges counted.
	for _, p := range pending {
		c := p.c
		s.merged(doc, p.op, &c)
		if err := s.compareRun(c); err != nil {
			if ops == nil {
				ops = map[*ast.OperationDefinition]error{}
			}
			ops[p.op] = err
		}
	}
	return ops, nil
}

// pendingRun is an operation whose limits on running it are checked once
// the document's merge work is (check).
type pendingRun struct {
	op *ast.OperationDefinition
	c  counts
}

// needsMerge reports whether c's upper bounds pass a limit that the
// merged counts (merged) may still meet.
func (s Static) needsMerge(c counts) bool {
	return s.MaxAliases > 0 && (c.aliases > int64(s.MaxAliases) || c.typenames > int64(s.MaxAliases)) ||
		s.MaxRootFields > 0 && c.root > int64(s.MaxRootFields)
}

// merged replaces c's upper bounds of aliases, aliases of __typename and
// root fields by op's merged counts where they pass their limits.
func (s Static) merged(doc *ast.QueryDocument, op *ast.OperationDefinition, c *counts) {
	if s.MaxAliases > 0 && c.aliases > int64(s.MaxAliases) {
		if n, ok := s.mergedAliases(doc, op); ok {
			c.aliases, c.merged = n, true
		}
	}
	if s.MaxAliases > 0 && c.typenames > int64(s.MaxAliases) {
		if n, ok := s.mergedTypenames(doc, op); ok {
			c.typenames, c.typenamesMerged = n, true
		}
	}
	if s.MaxRootFields > 0 && c.root > int64(s.MaxRootFields) {
		c.root = rootKeys(doc, op, int64(s.MaxRootFields))
	}
}

// walk checks every operation against the limits on the document (and,
// unless perOperation, on running it). With perOperation, the operations
// whose limits on running them need merged counts come back in pending
// (their limits checked by check), the others' errors in ops.
func (s Static) walk(doc *ast.QueryDocument, perOperation bool) (ops map[*ast.OperationDefinition]error, pending []pendingRun, err error) {
	w := walker{s: s}
	if err := w.fragments(doc.Fragments); err != nil {
		return nil, nil, err
	}
	// The argument values validation walks: every fragment once on its
	// own, every operation with its fragments expanded.
	var values int64
	for _, f := range w.memo {
		values = satAdd(values, f.counts.values)
	}
	for _, f := range doc.Fragments {
		// Every fragment is validated, used or not: its expansion is held
		// to the operation's field limit.
		if st := w.memo[f.Name]; st != nil && st.def == f && s.MaxFields > 0 && st.counts.fields > int64(s.MaxFields) {
			return nil, nil, badRequest(CodeMaxFieldsExceeded, "fragment %s has %s fields after fragment expansion; the limit is %d", Clip(f.Name, maxEcho), show(st.counts.fields), s.MaxFields)
		}
	}
	for _, op := range doc.Operations {
		if err := w.directives(op.Directives, "operation"); err != nil {
			return nil, nil, err
		}
		if err := w.variableDefinitions(op.VariableDefinitions); err != nil {
			return nil, nil, err
		}
		c, err := w.selectionSet(op.SelectionSet)
		if err != nil {
			return nil, nil, err
		}
		later := perOperation && s.needsMerge(c)
		if !later {
			s.merged(doc, op, &c)
		}
		if s.MaxDepth > 0 && c.depth > int64(s.MaxDepth) {
			return nil, nil, badRequest(CodeMaxDepthExceeded, "the operation nests selections %s levels deep; the limit is %d", show(c.depth), s.MaxDepth)
		}
		if later {
			pending = append(pending, pendingRun{op, c})
		} else if err := s.compareRun(c); err != nil {
			if !perOperation {
				return nil, nil, err
			}
			if ops == nil {
				ops = map[*ast.OperationDefinition]error{}
			}
			ops[op] = err
		}
		if err := s.compare(c); err != nil {
			return nil, nil, err
		}
		values = satAdd(values, c.values)
		if limit := s.maxValues(); limit > 0 && values > limit {
			return nil, nil, badRequest(CodeMaxTokensExceeded, "the document's operations hold more than %d argument values after fragment expansion (%d times the token limit)", limit, valuesPerToken)
		}
	}
	return ops, pending, nil
}

// valuesPerToken is how many argument values, fragments expanded in every
// operation, a document may hold per token it may have (MaxTokens).
//
// Validation walks every operation with its fragments expanded, and the
// other limits count fields, not the values in their arguments: 1,400
// operations spreading a fragment whose one field takes a list of 3,000
// variables (30 KB, 11,000 tokens) made validation walk 4.2 million
// values, 2.2 s of CPU. Four values a token is far above what documents
// write (a value is at least one token, and fragments are spread a few
// times), and bounds that walk to about 60,000 values at the default
// MaxTokens (tens of milliseconds).
const valuesPerToken = 4

// maxValues is the bound on a document's argument values after fragment
// expansion, 0 when MaxTokens is off.
func (s Static) maxValues() int64 {
	if s.MaxTokens <= 0 {
		return 0
	}
	return int64(s.MaxTokens) * valuesPerToken
}

// argumentValues counts the values of args, nested ones included.
func argumentValues(args ast.ArgumentList) int64 {
	var n int64
	for _, a := range args {
		n = satAdd(n, valueNodes(a.Value))
	}
	return n
}

// directiveValues counts the argument values of ds.
func directiveValues(ds ast.DirectiveList) int64 {
	var n int64
	for _, d := range ds {
		n = satAdd(n, argumentValues(d.Arguments))
	}
	return n
}

// valueNodes counts v and the values inside it (the parser bounds their
// nesting).
func valueNodes(v *ast.Value) int64 {
	if v == nil {
		return 0
	}
	n := int64(1)
	for _, c := range v.Children {
		n = satAdd(n, valueNodes(c.Value))
	}
	return n
}

// counts is what a selection set amounts to once fragments are expanded.
// Every counter saturates at math.MaxInt64.
type counts struct {
	fields  int64 // field selections at any depth
	aliases int64 // aliased fields at any depth
	root    int64 // fields at the top level of the selection set (an upper bound of rootKeys)
	depth   int64 // nesting of selection sets, 1 for a set of leaves
	spreads int64 // the longest chain of fragment spreads
	// merged: aliases is the count of aliased response keys after field
	// merging (mergedAliases), not the count of aliased fields.
	merged bool
	// typenames counts aliases of __typename at any depth (an upper
	// bound of mergedTypenames); typenamesMerged: it is the most at one
	// position after merging.
	typenames       int64
	typenamesMerged bool
	// values counts the argument values (every literal, variable, list
	// and object, nested ones included) of fields and directives at any
	// depth: what validation walks, once per spread of a fragment.
	values int64
}

// add adds the counts of a fragment or inline fragment spread into c at
// the same level.
func (c *counts) add(o counts) {
	c.fields = satAdd(c.fields, o.fields)
	c.aliases = satAdd(c.aliases, o.aliases)
	c.typenames = satAdd(c.typenames, o.typenames)
	c.root = satAdd(c.root, o.root)
	c.values = satAdd(c.values, o.values)
	c.depth = max(c.depth, o.depth)
	c.spreads = max(c.spreads, o.spreads)
}

func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// compare checks the counts of one operation against the limits that
// hold for every operation of a document, after its depth (checked first).
func (s Static) compare(c counts) error {
	switch {
	case s.MaxFields > 0 && c.fields > int64(s.MaxFields):
		return badRequest(CodeMaxFieldsExceeded, "the operation has %s fields after fragment expansion; the limit is %d", show(c.fields), s.MaxFields)
	case s.MaxFragmentDepth > 0 && c.spreads > int64(s.MaxFragmentDepth):
		return badRequest(CodeMaxFragmentDepth, "fragments spread fragments %d deep; the limit is %d", c.spreads, s.MaxFragmentDepth)
	}
	return nil
}

// compareRun checks the counts of one operation against the limits on
// what running it executes.
func (s Static) compareRun(c counts) error {
	switch {
	case s.MaxAliases > 0 && c.aliases > int64(s.MaxAliases) && c.merged:
		return badRequest(CodeMaxAliasesExceeded, "the operation has more than %d aliased response keys after merging fields; the limit is %d", s.MaxAliases, s.MaxAliases)
	case s.MaxAliases > 0 && c.aliases > int64(s.MaxAliases):
		return badRequest(CodeMaxAliasesExceeded, "the operation has %s aliases after fragment expansion, too many fields to merge; the limit is %d", show(c.aliases), s.MaxAliases)
	case s.MaxRootFields > 0 && c.root > int64(s.MaxRootFields):
		return badRequest(CodeMaxRootFieldsExceeded, "the operation selects more than %d root fields (response keys at the top level); the limit is %d", s.MaxRootFields, s.MaxRootFields)
	case s.MaxAliases > 0 && c.typenames > int64(s.MaxAliases) && c.typenamesMerged:
		return badRequest(CodeMaxAliasesExceeded, "a response position has more than %d aliases of __typename; the limit is %d", s.MaxAliases, s.MaxAliases)
	case s.MaxAliases > 0 && c.typenames > int64(s.MaxAliases):
		return badRequest(CodeMaxAliasesExceeded, "the operation has %s aliases of __typename after fragment expansion, too many fields to merge; the limit is %d at one position", show(c.typenames), s.MaxAliases)
	}
	return nil
}

// show formats a saturating count.
func show(n int64) string {
	if n == math.MaxInt64 {
		return "more than 2^63"
	}
	return strconv.FormatInt(n, 10)
}

// walker holds the state of one Check.
type walker struct {
	s    Static
	memo map[string]*fragmentState
}

// fragmentState is a fragment definition and how far its counts are known.
type fragmentState struct {
	def    *ast.FragmentDefinition
	state  uint8 // unvisited, visiting or done
	counts counts
}

const (
	unvisited uint8 = iota
	visiting
	done
)

// fragments computes the counts of every fragment definition in dependency
// order, without recursion over spreads: an explicit stack of definitions
// whose spreads are being resolved. A spread that reaches a definition
// still on the stack closes a cycle and counts as empty.
func (w *walker) fragments(defs ast.FragmentDefinitionList) error {
	if len(defs) == 0 {
		return nil
	}
	w.memo = make(map[string]*fragmentState, len(defs))
	for _, d := range defs {
		if _, dup := w.memo[d.Name]; !dup { // duplicates: validation reports them
			w.memo[d.Name] = &fragmentState{def: d}
		}
	}
	type frame struct {
		f       *fragmentState
		spreads []string
		next    int
	}
	var stack []frame
	for _, d := range defs {
		root := w.memo[d.Name]
		if root.def != d || root.state != unvisited {
			continue
		}
		root.state = visiting
		stack = append(stack[:0], frame{f: root, spreads: spreadNames(d.SelectionSet, nil)})
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			if top.next < len(top.spreads) {
				name := top.spreads[top.next]
				top.next++
				if dep, ok := w.memo[name]; ok && dep.state == unvisited {
					dep.state = visiting
					stack = append(stack, frame{f: dep, spreads: spreadNames(dep.def.SelectionSet, nil)})
				}
				continue
			}
			f := top.f
			stack = stack[:len(stack)-1]
			if err := w.fragmentDefinition(f.def); err != nil {
				return err
			}
			c, err := w.selectionSet(f.def.SelectionSet)
			if err != nil {
				return err
			}
			if n := w.s.MaxFragmentDepth; n > 0 && c.spreads >= int64(n) {
				return badRequest(CodeMaxFragmentDepth, "fragment %s starts a chain of fragment spreads more than %d deep", Clip(f.def.Name, maxEcho), n)
			}
			f.counts, f.state = c, done
		}
	}
	return nil
}

// fragmentDefinition checks the parts of a fragment definition outside its
// selection set.
func (w *walker) fragmentDefinition(d *ast.FragmentDefinition) error {
	if err := w.directives(d.Directives, "fragment "+Clip(d.Name, maxEcho)); err != nil {
		return err
	}
	return w.variableDefinitions(d.VariableDefinition)
}

// spreadNames appends the names of the fragments spread anywhere in ss.
func spreadNames(ss ast.SelectionSet, names []string) []string {
	for _, sel := range ss {
		switch sel := sel.(type) {
		case *ast.Field:
			names = spreadNames(sel.SelectionSet, names)
		case *ast.InlineFragment:
			names = spreadNames(sel.SelectionSet, names)
		case *ast.FragmentSpread:
			names = append(names, sel.Name)
		}
	}
	return names
}

// selectionSet counts ss with fragment spreads resolved from the memo, and
// checks the directives of every selection in it. Recursion
// follows the syntactic nesting only, which the parser bounds.
func (w *walker) selectionSet(ss ast.SelectionSet) (counts, error) {
	var c counts
	for _, sel := range ss {
		switch sel := sel.(type) {
		case *ast.Field:
			if err := w.directives(sel.Directives, "field "+Clip(sel.Name, maxEcho)); err != nil {
				return c, err
			}
			c.fields = satAdd(c.fields, 1)
			c.root = satAdd(c.root, 1)
			c.values = satAdd(c.values, argumentValues(sel.Arguments)+directiveValues(sel.Directives))
			if aliased(sel) {
				c.aliases = satAdd(c.aliases, 1)
			}
			if typenameAlias(sel) {
				c.typenames = satAdd(c.typenames, 1)
			}
			if len(sel.SelectionSet) > 0 {
				sub, err := w.selectionSet(sel.SelectionSet)
				if err != nil {
					return c, err
				}
				c.fields = satAdd(c.fields, sub.fields)
				c.aliases = satAdd(c.aliases, sub.aliases)
				c.typenames = satAdd(c.typenames, sub.typenames)
				c.values = satAdd(c.values, sub.values)
				c.depth = max(c.depth, satAdd(sub.depth, 1))
				c.spreads = max(c.spreads, sub.spreads)
			}
		case *ast.InlineFragment:
			if err := w.directives(sel.Directives, "inline fragment"); err != nil {
				return c, err
			}
			sub, err := w.selectionSet(sel.SelectionSet)
			if err != nil {
				return c, err
			}
			c.add(sub)
			c.values = satAdd(c.values, directiveValues(sel.Directives))
		case *ast.FragmentSpread:
			if err := w.directives(sel.Directives, "fragment spread "+Clip(sel.Name, maxEcho)); err != nil {
				return c, err
			}
			c.values = satAdd(c.values, directiveValues(sel.Directives))
			if f, ok := w.memo[sel.Name]; ok && f.state == done {
				c.add(f.counts)
				c.spreads = max(c.spreads, f.counts.spreads+1)
			}
		}
	}
	c.depth = max(c.depth, 1)
	return c, nil
}

// directives checks the number of directives on one element and the
// literals in their arguments.
func (w *walker) directives(ds ast.DirectiveList, on string) error {
	if n := w.s.MaxDirectivesPerField; n > 0 && len(ds) > n {
		return badRequest(CodeMaxDirectivesExceeded, "%s has %d directives; the limit is %d", on, len(ds), n)
	}
	return nil
}

func (w *walker) variableDefinitions(vds ast.VariableDefinitionList) error {
	for _, vd := range vds {
		if err := w.directives(vd.Directives, "variable $"+Clip(vd.Variable, maxEcho)); err != nil {
			return err
		}
	}
	return nil
}
