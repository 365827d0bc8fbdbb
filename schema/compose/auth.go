package compose

import (
	"github.com/vektah/gqlparser/v2/ast"
)

// authReqs are the access-control requirements on an element of the
// supergraph: @authenticated, and @requiresScopes / @policy in
// disjunctive normal form (nil: none).
type authReqs struct {
	authenticated    bool
	scopes, policies [][]string
}

func authOf(list ast.DirectiveList) authReqs {
	var r authReqs
	for _, d := range list {
		switch d.Name {
		case "authenticated":
			r.authenticated = true
		case "requiresScopes":
			r.scopes = dnfOf(d.Arguments.ForName("scopes"))
		case "policy":
			r.policies = dnfOf(d.Arguments.ForName("policies"))
		}
	}
	return r
}

// and combines the requirements of a field with those of its type.
func (r authReqs) and(o authReqs) authReqs {
	out := authReqs{authenticated: r.authenticated || o.authenticated}
	out.scopes = andDNF(r.scopes, o.scopes)
	out.policies = andDNF(r.policies, o.policies)
	return out
}

func andDNF(a, b [][]string) [][]string {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return dnfConjunction([][][]string{a, b})
}

// satisfies reports whether meeting r always meets o.
func (r authReqs) satisfies(o authReqs) bool {
	return (r.authenticated || !o.authenticated) && implies(r.scopes, o.scopes) && implies(r.policies, o.policies)
}

// implies reports whether every alternative of a contains some
// alternative of b.
func implies(a, b [][]string) bool {
	if len(a) == 0 {
		a = [][]string{{}}
	}
	if len(b) == 0 {
		b = [][]string{{}}
	}
	for _, x := range a {
		found := false
		for _, y := range b {
			all := true
			for _, e := range y {
				if !containsString(x, e) {
					all = false
					break
				}
			}
			if all {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// validateTransitiveAuth checks that a field with @requires carries at
// least the access-control requirements of the data its @requires reads
// (MISSING_TRANSITIVE_AUTH_REQUIREMENTS): otherwise the gateway would
// fetch protected data for a caller who may not see it.
func (s *supergraph) validateTransitiveAuth(errs *errorList) {
	for _, name := range s.order {
		t := s.types[name]
		if t.kind != ast.Object && t.kind != ast.Interface {
			continue
		}
		for _, f := range t.fields {
			for i, sf := range f.sources {
				if sf != nil && hasContextual(sf) {
					s.validateContextAuth(t, f, i, sf, errs)
				}
				if sf == nil || sf.requires == "" {
					continue
				}
				sel, err := parseFieldSet(sf.requires)
				if err != nil {
					continue
				}
				own := authOf(t.applied).and(authOf(f.applied))
				if bad := s.firstUnmetAuth(own, name, sel); bad != "" {
					errs.add("MISSING_TRANSITIVE_AUTH_REQUIREMENTS", s.subgraphs[i].name, name+"."+f.name, "Field \"%s.%s\" does not specify necessary @authenticated, @requiresScopes and/or @policy auth requirements to access the transitive %s data from @requires selection set.", name, f.name, bad)
				}
			}
		}
	}
}

// firstUnmetAuth returns the first element a selection reads whose
// requirements own does not meet, described for a message, or "".
func (s *supergraph) firstUnmetAuth(own authReqs, typeName string, sel ast.SelectionSet) string {
	t := s.types[typeName]
	if t == nil {
		return ""
	}
	for _, x := range sel {
		switch x := x.(type) {
		case *ast.Field:
			f := t.field(x.Name)
			if f == nil {
				continue
			}
			need := authOf(f.applied)
			ret := s.types[f.typ.Name()]
			var retNeed authReqs
			if ret != nil {
				retNeed = authOf(ret.applied)
			}
			if !own.satisfies(need) || !own.satisfies(retNeed) {
				return "field \"" + typeName + "." + f.name + "\""
			}
			if len(x.SelectionSet) > 0 {
				if bad := s.firstUnmetAuth(own, f.typ.Name(), x.SelectionSet); bad != "" {
					return bad
				}
			}
		case *ast.InlineFragment:
			cond := x.TypeCondition
			if cond == "" {
				cond = typeName
			}
			if ct := s.types[cond]; ct != nil && !own.satisfies(authOf(ct.applied)) {
				return "data in inline fragment type condition \"" + cond + "\""
			}
			if bad := s.firstUnmetAuth(own, cond, x.SelectionSet); bad != "" {
				return bad
			}
		}
	}
	return ""
}
