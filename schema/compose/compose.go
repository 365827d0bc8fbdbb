package compose

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// Result is a successful composition.
type Result struct {
	// SDL is the supergraph schema text.
	SDL string
	// Supergraph is SDL loaded by schema.Load; its API field is the
	// client-facing API schema.
	Supergraph *schema.Supergraph
	// Hints are warnings: elements left out of the supergraph because not
	// every subgraph defines them, @override migrations, and the like.
	Hints []Hint
}

// Options tunes a composition.
type Options struct {
	// SkipSatisfiability skips the check that every field of the API schema
	// can be reached through the subgraphs.
	SkipSatisfiability bool
}

// Compose composes subgraph schemas into a supergraph. On failure the
// error is an Errors value listing every problem found.
func Compose(subgraphs []Subgraph) (*Result, error) {
	return ComposeWith(subgraphs, Options{})
}

// ComposeWith is Compose with options.
func ComposeWith(subgraphs []Subgraph, opts Options) (*Result, error) {
	errs := &errorList{}
	if len(subgraphs) == 0 {
		errs.add("NO_QUERIES", "", "", "No subgraphs to compose.")
		return nil, errs.err()
	}
	// Subgraphs in name order: the supergraph does not depend on the order
	// they are given in.
	subgraphs = append([]Subgraph{}, subgraphs...)
	sort.SliceStable(subgraphs, func(i, j int) bool { return subgraphs[i].Name < subgraphs[j].Name })
	var parsed []*subgraph
	names := map[string]bool{}
	for _, in := range subgraphs {
		if names[in.Name] {
			errs.add("INVALID_SUBGRAPH_NAME", in.Name, "", "Subgraph name %q is used twice", in.Name)
			continue
		}
		names[in.Name] = true
		if sg := parseSubgraph(in, len(parsed), errs); sg != nil {
			parsed = append(parsed, sg)
		}
	}
	uniqueGraphIDs(parsed)
	// Federation 1 schemas are upgraded first; an extension nothing
	// defines stops composition there, as it does in Apollo's.
	if errs.empty() {
		fed1ExtensionsWithoutBase(parsed, errs)
	}
	if errs.empty() {
		for _, sg := range parsed {
			sg.validateFieldSets(errs)
			sg.validateContexts(errs)
			sg.validatePlacement(errs)
		}
	}
	checkImportNames(parsed, errs)
	if !errs.empty() {
		return nil, errs.err()
	}
	s := merge(parsed, errs)
	if errs.empty() {
		s.validateInterfaces(errs)
		s.validateInterfaceObjects(errs)
		s.validateInaccessible(errs)
		s.validateTransitiveAuth(errs)
	}
	if !errs.empty() {
		return nil, errs.err()
	}
	sdl := s.print()
	sg, err := schema.Load(sdl)
	if err != nil {
		errs.add("INVALID_FEDERATION_SUPERGRAPH", "", "", "the composed supergraph does not load: %v", err)
		return nil, errs.err()
	}
	if !opts.SkipSatisfiability {
		checkContextReach(sg, errs)
		checkSatisfiability(sg, errs)
		if !errs.empty() {
			return nil, errs.err()
		}
	}
	return &Result{SDL: sdl, Supergraph: sg, Hints: s.hints}, nil
}

// uniqueGraphIDs numbers the join__Graph values of subgraphs whose names
// give the same one (Subgraph1 and subgraph1: SUBGRAPH1_1, SUBGRAPH1_2).
func uniqueGraphIDs(subgraphs []*subgraph) {
	count := map[string]int{}
	for _, sg := range subgraphs {
		count[sg.id]++
	}
	next := map[string]int{}
	for _, sg := range subgraphs {
		if count[sg.id] > 1 {
			next[sg.id]++
			sg.id = fmt.Sprintf("%s_%d", sg.id, next[sg.id])
		}
	}
}

func fed1ExtensionsWithoutBase(subgraphs []*subgraph, errs *errorList) {
	for _, sg := range subgraphs {
		if !sg.fed1 {
			continue
		}
		for _, name := range sg.order {
			t := sg.types[name]
			if !t.extension || name == "Query" || name == "Mutation" || name == "Subscription" {
				continue
			}
			base := false
			for _, other := range subgraphs {
				if ot := other.types[name]; ot != nil && !ot.extension {
					base = true
				}
			}
			if !base {
				errs.add("EXTENSION_WITH_NO_BASE", sg.name, name, "Type \"%s\" is an extension type, but there is no type definition for \"%s\" in any subgraph.", name, name)
			}
		}
	}
}

// checkImportNames reports a carried federation directive (@tag,
// @inaccessible, ...) applied under different names by different
// subgraphs. The supergraph uses the name the subgraphs share.
func checkImportNames(subgraphs []*subgraph, errs *errorList) {
	for _, name := range []string{"tag", "inaccessible", "authenticated", "requiresScopes", "policy", "cost", "listSize"} {
		first, firstIn := "", ""
		for _, sg := range subgraphs {
			local, ok := sg.localNames[name]
			if !ok {
				continue
			}
			if first == "" {
				first, firstIn = local, sg.name
				continue
			}
			if local != first {
				errs.add("LINK_IMPORT_NAME_MISMATCH", "", "@"+name, "The \"@%s\" directive (from https://specs.apollo.dev/federation) is imported with mismatched name between subgraphs: it is imported as \"@%s\" in subgraph \"%s\" but \"@%s\" in subgraph \"%s\"", name, local, sg.name, first, firstIn)
				break
			}
		}
	}
}

// latestComposed picks the definition of the composed directive name
// and the link the supergraph names for it, as @apollo/composition does:
// the latest minor version of the directive's feature among the
// subgraphs linking it (one composing the directive before one that only
// links it), and of the subgraphs linking that version the last one that
// defines the directive. Taking the first subgraph's definition wrote
// another definition than Apollo's where two subgraphs define the
// directive differently.
func (s *supergraph) latestComposed(name string, composed *customLink) (*ast.DirectiveDefinition, *customLink) {
	identity := featureIdentity(composed.url)
	type use struct {
		sg           *subgraph
		link         *customLink
		composes     bool
		major, minor int
	}
	var uses []use
	for _, sg := range s.subgraphs {
		for _, l := range sg.linkNames {
			if l.name != name || featureIdentity(l.url) != identity {
				continue
			}
			major, minor := linkVersion(l.url)
			uses = append(uses, use{sg: sg, link: l, composes: sg.composed[name] != nil, major: major, minor: minor})
			break
		}
	}
	var latest *use
	for i := range uses {
		u := &uses[i]
		switch {
		case latest == nil:
			latest = u
		case latest.composes != u.composes:
			if u.composes {
				latest = u
			}
		case latest.major == u.major && latest.minor <= u.minor:
			latest = u
		}
	}
	for i := len(uses) - 1; latest != nil && i >= 0; i-- {
		u := uses[i]
		if u.major == latest.major && u.minor == latest.minor && u.sg.dirDefs[name] != nil {
			return u.sg.dirDefs[name], u.link
		}
	}
	for _, sg := range s.subgraphs {
		if sg.dirDefs[name] != nil {
			return sg.dirDefs[name], composed
		}
	}
	return nil, composed
}

// featureIdentity is a spec URL without its version.
func featureIdentity(url string) string {
	url = strings.TrimSuffix(url, "/")
	if i := strings.LastIndex(url, "/"); i >= 0 {
		return url[:i]
	}
	return url
}

// linkVersion reads the major and minor version of a spec URL (v1.2);
// zero where it has none.
func linkVersion(url string) (major, minor int) {
	_, v := splitURL(url)
	maj, mnr, _ := strings.Cut(v, ".")
	major, _ = strconv.Atoi(maj)
	minor, _ = strconv.Atoi(mnr)
	return major, minor
}

// mergeDirectiveDefinitions keeps executable directives every subgraph
// defines (with the locations they share) and the composed directives.
func (s *supergraph) mergeDirectiveDefinitions() {
	names := []string{}
	for _, sg := range s.subgraphs {
		for name := range sg.dirDefs {
			if !containsString(names, name) {
				names = append(names, name)
			}
		}
	}
	sort.Strings(names)
	for _, name := range names {
		var composed *customLink
		var first *ast.DirectiveDefinition
		inAll := true
		for _, sg := range s.subgraphs {
			dd := sg.dirDefs[name]
			if dd == nil {
				inAll = false
				continue
			}
			if first == nil {
				first = dd
			}
			if l := sg.composed[name]; l != nil && composed == nil {
				composed = l
			}
		}
		if composed != nil {
			def, link := s.latestComposed(name, composed)
			c := *def
			c.Name = name
			s.directives = append(s.directives, &c)
			s.composed = append(s.composed, link)
			continue
		}
		if !inAll {
			continue
		}
		var locs []ast.DirectiveLocation
		for _, loc := range first.Locations {
			if !executableLocation(loc) {
				continue
			}
			shared := true
			for _, sg := range s.subgraphs {
				if !hasLocation(sg.dirDefs[name], loc) {
					shared = false
				}
			}
			if shared {
				locs = append(locs, loc)
			}
		}
		if len(locs) == 0 {
			continue
		}
		c := *first
		c.Locations = locs
		c.IsRepeatable = true
		for _, sg := range s.subgraphs {
			c.IsRepeatable = c.IsRepeatable && sg.dirDefs[name].IsRepeatable
		}
		s.directives = append(s.directives, &c)
	}
}

func hasLocation(dd *ast.DirectiveDefinition, loc ast.DirectiveLocation) bool {
	for _, l := range dd.Locations {
		if l == loc {
			return true
		}
	}
	return false
}

func executableLocation(loc ast.DirectiveLocation) bool {
	switch loc {
	case ast.LocationQuery, ast.LocationMutation, ast.LocationSubscription, ast.LocationField,
		ast.LocationFragmentDefinition, ast.LocationFragmentSpread, ast.LocationInlineFragment,
		ast.LocationVariableDefinition:
		return true
	}
	return false
}

// validateInterfaces checks that every implementation of an interface in
// the supergraph has the interface's fields, and the rules of @key on
// interfaces.
func (s *supergraph) validateInterfaces(errs *errorList) {
	for _, name := range s.order {
		o := s.types[name]
		if o.kind != ast.Object && o.kind != ast.Interface {
			continue
		}
		for _, iname := range o.interfaces {
			itf := s.types[iname]
			if itf == nil {
				continue
			}
			for _, f := range itf.fields {
				if o.fieldMap[f.name] != nil {
					continue
				}
				declared, implementsIn := "", ""
				for i, sf := range f.sources {
					if sf != nil && declared == "" {
						declared = s.subgraphs[i].name
					}
				}
				for i, st := range o.sources {
					if st != nil && containsString(st.interfaces, iname) && implementsIn == "" {
						implementsIn = s.subgraphs[i].name
					}
				}
				errs.add("INTERFACE_FIELD_NO_IMPLEM", "", name+"."+f.name, "Interface field \"%s.%s\" is declared in subgraph \"%s\" but type \"%s\", which implements \"%s\" only in subgraph \"%s\" does not have field \"%s\".", iname, f.name, declared, name, iname, implementsIn, f.name)
			}
		}
	}
	// @key on an interface: every implementation in that subgraph has the
	// key, and the subgraph knows every implementation.
	for _, name := range s.order {
		itf := s.types[name]
		if itf.kind != ast.Interface {
			continue
		}
		impls := s.implementations(name)
		for i, st := range itf.sources {
			if st == nil || st.interfaceObject || len(st.keys) == 0 {
				continue
			}
			sg := s.subgraphs[i]
			for _, k := range st.keys {
				for _, impl := range impls {
					ot := sg.types[impl]
					if ot == nil {
						if k.resolvable {
							errs.add("INTERFACE_KEY_MISSING_IMPLEMENTATION_TYPE", sg.name, name, "Interface type \"%s\" has a resolvable key (@key(fields: \"%s\")) in subgraph \"%s\" but that subgraph is missing some of the supergraph implementation types of \"%s\". Subgraph \"%s\" should define type \"%s\" (and have it implement \"%s\").", name, k.fields, sg.name, name, sg.name, impl, name)
						}
						continue
					}
					found := false
					for _, ok := range ot.keys {
						if normalizeFieldSet(ok.fields) == normalizeFieldSet(k.fields) {
							found = true
						}
					}
					if !found {
						errs.add("INTERFACE_KEY_NOT_ON_IMPLEMENTATION", sg.name, impl, "Key @key(fields: \"%s\") on interface type \"%s\" is missing on implementation type \"%s\".", k.fields, name, impl)
					}
				}
			}
		}
	}
}

// implementations lists the object types implementing an interface in the
// supergraph.
func (s *supergraph) implementations(itf string) []string {
	var out []string
	for _, name := range s.order {
		t := s.types[name]
		if t.kind == ast.Object && containsString(t.interfaces, itf) {
			out = append(out, name)
		}
	}
	return out
}

func normalizeFieldSet(fields string) string {
	sel, err := parseFieldSet(fields)
	if err != nil {
		return fields
	}
	return printSelection(sel)
}

func printSelection(sel ast.SelectionSet) string {
	out := ""
	for i, s := range sel {
		if i > 0 {
			out += " "
		}
		switch s := s.(type) {
		case *ast.Field:
			out += s.Name
			if len(s.SelectionSet) > 0 {
				out += " { " + printSelection(s.SelectionSet) + " }"
			}
		case *ast.InlineFragment:
			out += "... on " + s.TypeCondition + " { " + printSelection(s.SelectionSet) + " }"
		}
	}
	return out
}

// validateInterfaceObjects checks the uses of @interfaceObject.
func (s *supergraph) validateInterfaceObjects(errs *errorList) {
	for _, name := range s.order {
		t := s.types[name]
		if !t.anyInterfaceObject() {
			continue
		}
		for i, st := range t.sources {
			if st != nil && st.interfaceObject && len(st.keys) == 0 {
				errs.add("INTERFACE_OBJECT_USAGE_ERROR", s.subgraphs[i].name, name, "The @interfaceObject directive can only be applied to entity types but type \"%s\" has no @key in this subgraph.", name)
			}
		}
		// A subgraph that abstracts the interface as an object cannot
		// also define its implementations: it could not say which of
		// them its objects are.
		var impls []string
		for _, other := range s.order {
			if o := s.types[other]; o.kind == ast.Object && slices.Contains(o.interfaces, name) {
				impls = append(impls, other)
			}
		}
		for i, st := range t.sources {
			if st == nil || !st.interfaceObject {
				continue
			}
			var defined []string
			for _, impl := range impls {
				if s.types[impl].sources[i] != nil {
					defined = append(defined, "\""+impl+"\"")
				}
			}
			if len(defined) > 0 {
				errs.add("INTERFACE_OBJECT_USAGE_ERROR", s.subgraphs[i].name, name, "Interface type \"%s\" is defined as an @interfaceObject in subgraph \"%s\" so that subgraph should not define any of the implementation types of \"%s\", but it defines %s", name, s.subgraphs[i].name, name, strings.Join(defined, ", "))
			}
		}
		hasInterface := false
		for _, st := range t.sources {
			if st != nil && st.kind == ast.Interface {
				hasInterface = true
			}
		}
		if !hasInterface {
			var names []string
			for i, st := range t.sources {
				if st != nil {
					names = append(names, "\""+s.subgraphs[i].name+"\"")
				}
			}
			errs.add("INTERFACE_OBJECT_USAGE_ERROR", "", name, "Type \"%s\" is declared with @interfaceObject in all the subgraphs in which is is defined (it is defined in %s but should be defined as an interface in at least one subgraph)", name, subgraphList(names))
		}
	}
}
