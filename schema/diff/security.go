package diff

import (
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// authDirectives decide who may read an element; inaccessible hides it
// from the API; costDirectives feed cost analysis.
var (
	authDirectives = []string{"authenticated", "requiresScopes", "policy"}
	costDirectives = []string{"cost", "listSize"}
)

// Security lists the security-relevant changes from oldFull to newFull,
// two supergraph schemas with their directives (schema.Supergraph.Full):
// authorization removed or changed on a type, field, argument or enum
// value is BREAKING (AUTHORIZATION_REMOVED: clients of fewer grants would
// read what was protected, so an unforced publish is refused), added is
// DANGEROUS (AUTHORIZATION_ADDED); @inaccessible removed is BREAKING
// (INACCESSIBLE_REMOVED: a hidden element becomes public); a changed
// @cost or @listSize is DANGEROUS (COST_CHANGED). Elements present in only
// one schema are Schemas' business.
func Security(oldFull, newFull *ast.Schema) []Change {
	d := &differ{}
	oldTypes, newTypes := types(oldFull), types(newFull)
	for name, o := range oldTypes {
		n, ok := newTypes[name]
		if !ok {
			continue
		}
		d.directives(name, o.Directives, n.Directives)
		for _, of := range o.Fields {
			nf := n.Fields.ForName(of.Name)
			if nf == nil {
				continue
			}
			coord := name + "." + of.Name
			d.directives(coord, of.Directives, nf.Directives)
			for _, oa := range of.Arguments {
				if na := nf.Arguments.ForName(oa.Name); na != nil {
					d.directives(coord+"("+oa.Name+":)", oa.Directives, na.Directives)
				}
			}
		}
		for _, ov := range o.EnumValues {
			if nv := n.EnumValues.ForName(ov.Name); nv != nil {
				d.directives(name+"."+ov.Name, ov.Directives, nv.Directives)
			}
		}
	}
	sort.SliceStable(d.changes, func(i, j int) bool { return d.changes[i].Coordinate < d.changes[j].Coordinate })
	return d.changes
}

// directives compares the security-relevant directives of one element.
func (d *differ) directives(coord string, o, n ast.DirectiveList) {
	oa, na := applied(o, authDirectives), applied(n, authDirectives)
	for _, r := range oa {
		if !contains(na, r) {
			d.add(Breaking, "AUTHORIZATION_REMOVED", coord, "%s no longer requires %s; callers without it would read it", coord, r)
		}
	}
	for _, r := range na {
		if !contains(oa, r) {
			d.add(Dangerous, "AUTHORIZATION_ADDED", coord, "%s now requires %s; callers without it get null and an error", coord, r)
		}
	}
	if len(applied(o, []string{"inaccessible"})) > 0 && len(applied(n, []string{"inaccessible"})) == 0 {
		d.add(Breaking, "INACCESSIBLE_REMOVED", coord, "%s is no longer @inaccessible: it becomes part of the API", coord)
	}
	if oc, nc := applied(o, costDirectives), applied(n, costDirectives); strings.Join(oc, " ") != strings.Join(nc, " ") {
		d.add(Dangerous, "COST_CHANGED", coord, "the cost directives of %s changed from [%s] to [%s]", coord, strings.Join(oc, " "), strings.Join(nc, " "))
	}
}

// applied returns the directives of list named one of names (also under a
// namespace, as "x__name"), printed with their arguments, sorted.
func applied(list ast.DirectiveList, names []string) []string {
	var out []string
	for _, dir := range list {
		for _, name := range names {
			if dir.Name == name || strings.HasSuffix(dir.Name, "__"+name) {
				s := "@" + name
				if len(dir.Arguments) > 0 {
					var args []string
					for _, a := range dir.Arguments {
						args = append(args, a.Name+": "+a.Value.String())
					}
					sort.Strings(args)
					s += "(" + strings.Join(args, ", ") + ")"
				}
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return out
}
