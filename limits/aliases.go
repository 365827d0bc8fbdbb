package limits

import "github.com/vektah/gqlparser/v2/ast"

// mergedAliasWork bounds the merged walk of mergedAliases when
// MaxFieldMerges is disabled: the walk never costs more than this many
// steps of merging, whatever the limits.
const mergedAliasWork = 30000

// mergedAliases counts what MaxAliases limits in op: the aliased response
// keys of its merged response tree. An alias amplifies work when it makes
// one object resolve a field one more time; after field merging (spec
// 6.3.2 CollectFields, 5.3.2 field merging) every response key of a
// selection set runs once per object, however many selections of the
// document name it. So the same alias written again at one position (a
// fragment spread twice, or in a fragment and next to it, or two identical
// aliased fields) counts once, while one alias under two different parent
// keys counts twice: those are two resolutions. A selection that never
// runs (@skip(if: true), @include(if: false)) counts nothing.
//
// Check calls it only for an operation whose aliased fields, fragments
// expanded, already pass the limit (the cheap upper bound): the merged
// count is never larger. The walk merges at most MaxFieldMerges steps
// (mergedAliasWork when that limit is disabled) and stops once the count
// passes MaxAliases (n is then MaxAliases+1). ok is false when it ran out
// of steps: the caller keeps the upper bound, so a document too large to
// merge stays refused.
func (s Static) mergedAliases(doc *ast.QueryDocument, op *ast.OperationDefinition) (n int64, ok bool) {
	m := s.mergeWalk(doc, op, func(m *merger) { m.aliasCap = int64(s.MaxAliases) })
	if m.aliases <= m.aliasCap && m.work > m.limit {
		return 0, false
	}
	return m.aliases, true
}

// mergedTypenames is the most distinct response keys that are aliases of
// __typename at one position of op's merged response tree, stopping once
// it passes MaxAliases. Aliases of __typename do not count as aliases
// (they cost no resolver, and clients alias __typename freely), but each
// is a key the gateway renders in every object of its position: 1,400 of
// them, inside every other limit, made a 24 KB request of the demo answer
// 454 KB, 17 times what 30 aliases of a field make, and more with longer
// lists; the cost analysis counts __typename as nothing. ok is false when
// the walk ran out of merging steps (the caller keeps the upper bound).
func (s Static) mergedTypenames(doc *ast.QueryDocument, op *ast.OperationDefinition) (n int64, ok bool) {
	m := s.mergeWalk(doc, op, func(m *merger) { m.typenameCap = int64(s.MaxAliases) })
	if m.typenames <= m.typenameCap && m.work > m.limit {
		return 0, false
	}
	return m.typenames, true
}

// mergeWalk merges op's response tree, selections that never run left
// out, within MaxFieldMerges steps (mergedAliasWork when that limit is
// disabled), with the merger's caps set by caps.
func (s Static) mergeWalk(doc *ast.QueryDocument, op *ast.OperationDefinition, caps func(*merger)) *merger {
	limit := int64(s.MaxFieldMerges)
	if limit <= 0 {
		limit = mergedAliasWork
	}
	m := newMerger(doc, limit)
	caps(m)
	m.runs = true
	m.add(m.root(), op.SelectionSet, 0)
	return m
}

// rootKeys counts the distinct response keys at the top level of op,
// fragments expanded (each fragment once: a second spread of it at the
// top level adds no key), stopping once the count passes cap. Fields
// under one response key at the top level merge into one root field
// (CollectFields), so { a a a } runs one root field. The walk is linear
// in the document: the top level holds the operation's own selections
// and those of the fragments spread there, each visited once.
func rootKeys(doc *ast.QueryDocument, op *ast.OperationDefinition, cap int64) int64 {
	frags := make(map[string]*ast.FragmentDefinition, len(doc.Fragments))
	for _, f := range doc.Fragments {
		if _, dup := frags[f.Name]; !dup {
			frags[f.Name] = f
		}
	}
	keys := map[string]bool{}
	seen := map[string]bool{}
	stack := []ast.SelectionSet{op.SelectionSet}
	for len(stack) > 0 && int64(len(keys)) <= cap {
		ss := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, sel := range ss {
			switch sel := sel.(type) {
			case *ast.Field:
				key := sel.Alias
				if key == "" {
					key = sel.Name
				}
				keys[key] = true
			case *ast.InlineFragment:
				stack = append(stack, sel.SelectionSet)
			case *ast.FragmentSpread:
				if f := frags[sel.Name]; f != nil && !seen[sel.Name] {
					seen[sel.Name] = true
					stack = append(stack, f.SelectionSet)
				}
			}
		}
	}
	return int64(len(keys))
}
