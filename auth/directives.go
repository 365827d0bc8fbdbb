package auth

import (
	"sort"
	"strings"

	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// Spec names of the authorization directives, as linked by a supergraph
// (https://specs.apollo.dev/<name>/v0.1).
const (
	specAuthenticated  = "authenticated"
	specRequiresScopes = "requiresScopes"
	specPolicy         = "policy"
)

// requirement is what one schema element asks of a caller: all of its
// parts must hold. Scopes and policies are an OR of ANDs: the outer list
// is alternatives, each inner list must be granted whole.
type requirement struct {
	authenticated bool
	scopes        [][]string
	policies      [][]string
}

func (r *requirement) satisfiedBy(g *Grants) bool {
	if r == nil {
		return true
	}
	if r.authenticated && !g.Authenticated {
		return false
	}
	if r.scopes != nil && !anyAll(r.scopes, g.Scopes) {
		return false
	}
	if r.policies != nil && !anyAll(r.policies, g.Policies) {
		return false
	}
	return true
}

// anyAll reports whether some inner list is wholly in granted.
func anyAll(alternatives [][]string, granted map[string]bool) bool {
	for _, all := range alternatives {
		ok := true
		for _, s := range all {
			if !granted[s] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// Rules are the authorization requirements of a supergraph, read from
// its @authenticated, @requiresScopes and @policy directives (under the
// names the supergraph's @link imports give them).
type Rules struct {
	types  map[string]*requirement
	fields map[string]*requirement // "Type.field"
	// requires holds, for a field with @requires, the requirements of
	// everything its @requires selections read (transitively): a caller
	// must meet them all to see the field, whatever the field's own
	// directives say. Composition refuses a field that does not carry
	// them (MISSING_TRANSITIVE_AUTH_REQUIREMENTS); a supergraph from other
	// tooling may not have been checked.
	requires map[string][]*requirement // "Type.field"
	// scopes and policies are every name the schema mentions, sorted.
	scopes   []string
	policies []string
}

// directiveNames are the local names of the three directives.
type directiveNames struct {
	authenticated, requiresScopes, policy string
}

// linkedNames reads the supergraph's @link directives: a spec linked
// with `as: "x"` is used as @x, an import `{name: "@requiresScopes", as:
// "@scopes"}` as @scopes. A spec not linked keeps its default name.
func linkedNames(full *ast.Schema) directiveNames {
	names := directiveNames{specAuthenticated, specRequiresScopes, specPolicy}
	for _, d := range full.SchemaDirectives {
		if d.Name != "link" && d.Name != "core" {
			continue
		}
		url := directiveString(d, "url")
		if url == "" {
			url = directiveString(d, "feature")
		}
		spec := specOf(url)
		var target *string
		switch spec {
		case specAuthenticated:
			target = &names.authenticated
		case specRequiresScopes:
			target = &names.requiresScopes
		case specPolicy:
			target = &names.policy
		default:
			continue
		}
		if as := directiveString(d, "as"); as != "" {
			*target = as
		}
		imp := d.Arguments.ForName("import")
		if imp == nil || imp.Value == nil {
			continue
		}
		for _, item := range imp.Value.Children {
			v := item.Value
			switch v.Kind {
			case ast.StringValue:
				if strings.TrimPrefix(v.Raw, "@") == spec {
					*target = spec
				}
			case ast.ObjectValue:
				var name, as string
				for _, f := range v.Children {
					switch f.Name {
					case "name":
						name = f.Value.Raw
					case "as":
						as = f.Value.Raw
					}
				}
				if strings.TrimPrefix(name, "@") == spec && as != "" {
					*target = strings.TrimPrefix(as, "@")
				}
			}
		}
	}
	return names
}

// specOf turns https://specs.apollo.dev/requiresScopes/v0.1 into
// "requiresScopes".
func specOf(url string) string {
	parts := strings.Split(strings.TrimSuffix(url, "/"), "/")
	if len(parts) < 2 {
		return ""
	}
	return parts[len(parts)-2]
}

func directiveString(d *ast.Directive, name string) string {
	a := d.Arguments.ForName(name)
	if a == nil || a.Value == nil || a.Value.Kind != ast.StringValue {
		return ""
	}
	return a.Value.Raw
}

// NewRules reads the requirements of sg.
func NewRules(sg *schema.Supergraph) *Rules {
	names := linkedNames(sg.Full)
	r := &Rules{types: map[string]*requirement{}, fields: map[string]*requirement{}}
	scopes, policies := map[string]bool{}, map[string]bool{}
	read := func(dirs ast.DirectiveList) *requirement {
		var req *requirement
		get := func() *requirement {
			if req == nil {
				req = &requirement{}
			}
			return req
		}
		for _, d := range dirs {
			switch d.Name {
			case names.authenticated:
				get().authenticated = true
			case names.requiresScopes:
				lists := nestedStrings(d, "scopes")
				// Never nil once the directive is there: a malformed
				// argument is satisfied by no one, not by everyone.
				get().scopes = append(append([][]string{}, get().scopes...), lists...)
				for _, l := range lists {
					for _, s := range l {
						scopes[s] = true
					}
				}
			case names.policy:
				lists := nestedStrings(d, "policies")
				get().policies = append(append([][]string{}, get().policies...), lists...)
				for _, l := range lists {
					for _, p := range l {
						policies[p] = true
					}
				}
			}
		}
		return req
	}
	for _, def := range sg.Full.Types {
		if strings.HasPrefix(def.Name, "__") {
			continue
		}
		if req := read(def.Directives); req != nil {
			r.types[def.Name] = req
		}
		for _, f := range def.Fields {
			if req := read(f.Directives); req != nil {
				r.fields[def.Name+"."+f.Name] = req
			}
		}
	}
	r.requires = readRequires(sg, r)
	for s := range scopes {
		r.scopes = append(r.scopes, s)
	}
	for p := range policies {
		r.policies = append(r.policies, p)
	}
	sort.Strings(r.scopes)
	sort.Strings(r.policies)
	return r
}

// readRequires collects, for every field with @requires in some
// subgraph, the requirements of what those selections read.
func readRequires(sg *schema.Supergraph, r *Rules) map[string][]*requirement {
	out := map[string][]*requirement{}
	if len(r.types) == 0 && len(r.fields) == 0 {
		return out
	}
	for tname, t := range sg.Types {
		for fname, f := range t.Fields {
			var reqs []*requirement
			seen := map[string]bool{tname + "." + fname: true}
			for _, fg := range f.Graphs {
				r.readSelection(sg, tname, fg.Requires, &reqs, seen)
			}
			if len(reqs) > 0 {
				out[tname+"."+fname] = reqs
			}
		}
	}
	return out
}

// readSelection appends to reqs the requirements of the fields, returned
// types and type conditions sel reads on typeName, and those of the
// @requires of each field read (seen stops cycles).
func (r *Rules) readSelection(sg *schema.Supergraph, typeName string, sel ast.SelectionSet, reqs *[]*requirement, seen map[string]bool) {
	add := func(req *requirement) {
		if req != nil {
			*reqs = append(*reqs, req)
		}
	}
	for _, s := range sel {
		switch x := s.(type) {
		case *ast.Field:
			if x.Name == "__typename" {
				continue
			}
			coord := typeName + "." + x.Name
			add(r.fields[coord])
			def := sg.Full.Types[typeName]
			if def == nil {
				continue
			}
			fd := def.Fields.ForName(x.Name)
			if fd == nil {
				continue
			}
			ret := fd.Type.Name()
			add(r.types[ret])
			if !seen[coord] {
				seen[coord] = true
				if t := sg.Types[typeName]; t != nil && t.Fields[x.Name] != nil {
					for _, fg := range t.Fields[x.Name].Graphs {
						r.readSelection(sg, typeName, fg.Requires, reqs, seen)
					}
				}
			}
			r.readSelection(sg, ret, x.SelectionSet, reqs, seen)
		case *ast.InlineFragment:
			cond := x.TypeCondition
			if cond == "" {
				cond = typeName
			}
			add(r.types[cond])
			r.readSelection(sg, cond, x.SelectionSet, reqs, seen)
		}
	}
}

// Empty reports whether the schema has no authorization directive.
func (r *Rules) Empty() bool { return len(r.types) == 0 && len(r.fields) == 0 }

// Scopes lists every scope the schema names.
func (r *Rules) Scopes() []string { return r.scopes }

// Policies lists every policy the schema names.
func (r *Rules) Policies() []string { return r.policies }

// nestedStrings reads a [[String!]!]! argument; a malformed value gives
// an empty list, which no caller satisfies.
func nestedStrings(d *ast.Directive, arg string) [][]string {
	a := d.Arguments.ForName(arg)
	out := [][]string{}
	if a == nil || a.Value == nil || a.Value.Kind != ast.ListValue {
		return out
	}
	for _, outer := range a.Value.Children {
		if outer.Value == nil || outer.Value.Kind != ast.ListValue {
			continue
		}
		inner := []string{}
		for _, v := range outer.Value.Children {
			if v.Value != nil && v.Value.Kind == ast.StringValue {
				inner = append(inner, v.Value.Raw)
			}
		}
		out = append(out, inner)
	}
	return out
}
