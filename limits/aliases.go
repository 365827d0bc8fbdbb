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
// keys counts twice: those are two resolutions.
//
// Check calls it only for an operation whose aliased fields, fragments
// expanded, already pass the limit (the cheap upper bound): the merged
// count is never larger. The walk merges at most MaxFieldMerges steps
// (mergedAliasWork when that limit is disabled) and stops once the count
// passes MaxAliases (n is then MaxAliases+1). ok is false when it ran out
// of steps: the caller keeps the upper bound, so a document too large to
// merge stays refused.
func (s Static) mergedAliases(doc *ast.QueryDocument, op *ast.OperationDefinition) (n int64, ok bool) {
	limit := int64(s.MaxFieldMerges)
	if limit <= 0 {
		limit = mergedAliasWork
	}
	m := newMerger(doc, limit)
	m.aliasCap = int64(s.MaxAliases)
	m.add(&position{}, op.SelectionSet, 0)
	if m.aliases <= m.aliasCap && m.work > m.limit {
		return 0, false
	}
	return m.aliases, true
}
