package compose

import (
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// joinVersion is the join spec version Apollo links for the highest
// Federation 2 minor version in use.
func joinVersion(maxMinor int) string {
	switch {
	case maxMinor >= 8:
		return "0.5"
	case maxMinor >= 7:
		return "0.4"
	}
	return "0.3"
}

var machineryDirectives = map[string]map[string]string{
	"0.3": {
		"join__enumValue":   "directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE",
		"join__field":       "directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION",
		"join__graph":       "directive @join__graph(name: String!, url: String!) on ENUM_VALUE",
		"join__implements":  "directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE",
		"join__type":        "directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR",
		"join__unionMember": "directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION",
		"link":              "directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA",
	},
}

func init() {
	v4 := map[string]string{}
	for k, v := range machineryDirectives["0.3"] {
		v4[k] = v
	}
	v4["join__directive"] = "directive @join__directive(graphs: [join__Graph!], name: String!, args: join__DirectiveArguments) repeatable on SCHEMA | OBJECT | INTERFACE | FIELD_DEFINITION"
	v4["join__field"] = "directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean, overrideLabel: String) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION"
	v5 := map[string]string{}
	for k, v := range v4 {
		v5[k] = v
	}
	v5["join__field"] = "directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean, overrideLabel: String, contextArguments: [join__ContextArgument!]) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION"
	machineryDirectives["0.4"] = v4
	machineryDirectives["0.5"] = v5
}

var carriedDefinitions = map[string]string{
	"authenticated":  "directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM",
	"context":        "directive @context(name: String!) repeatable on INTERFACE | OBJECT | UNION",
	"fromContext":    "directive @context__fromContext(field: context__ContextFieldValue) on ARGUMENT_DEFINITION",
	"cost":           "directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR",
	"listSize":       "directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION",
	"inaccessible":   "directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION",
	"policy":         "directive @policy(policies: [[policy__Policy!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM",
	"requiresScopes": "directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM",
	"tag":            "directive @tag(name: String!) repeatable on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION | SCHEMA",
}

const linkPurpose = `enum link__Purpose {
  """
  ` + "`SECURITY`" + ` features provide metadata necessary to securely resolve fields.
  """
  SECURITY

  """
  ` + "`EXECUTION`" + ` features provide metadata necessary for operation execution.
  """
  EXECUTION
}`

const joinContextArgument = `input join__ContextArgument {
  name: String!
  type: String!
  context: String!
  selection: join__FieldValue!
}`

// block is one top-level definition with its sort name.
type block struct{ name, text string }

// print renders the supergraph SDL.
func (s *supergraph) print() string {
	version := joinVersion(s.maxMinor)
	var b strings.Builder
	var descs []string
	for _, sg := range s.subgraphs {
		descs = append(descs, sg.description)
	}
	b.WriteString(printDescription(mergeDescriptions(descs), "", true))
	b.WriteString("schema\n")
	b.WriteString("  @link(url: \"https://specs.apollo.dev/link/v1.0\")\n")
	b.WriteString("  @link(url: \"https://specs.apollo.dev/join/v" + version + "\", for: EXECUTION)\n")
	linked := s.linkedSpecs()
	for _, name := range linked {
		spec := carriedSpec(name)
		line := "  @link(url: \"" + spec.url + "\""
		if spec.purpose != "" {
			line += ", for: " + spec.purpose
		}
		var imports []string
		directives := []string{spec.name}
		if spec.name == "cost" {
			directives = append(directives, "listSize")
		}
		for _, d := range directives {
			local := s.dirName(d)
			switch {
			case !s.applied(d):
			case local != d:
				imports = append(imports, "{name: \"@"+d+"\", as: \"@"+local+"\"}")
			case d != spec.name:
				imports = append(imports, quote("@"+d))
			}
		}
		if len(imports) > 0 {
			line += ", import: [" + strings.Join(imports, ", ") + "]"
		}
		b.WriteString(line + ")\n")
	}
	for _, l := range s.composedLinks() {
		b.WriteString("  " + l + "\n")
	}
	b.WriteString("{\n")
	for _, root := range s.roots {
		b.WriteString("  " + strings.ToLower(root) + ": " + root + "\n")
	}
	b.WriteString("}\n")

	var directives []block
	for name, text := range machineryDirectives[version] {
		directives = append(directives, block{name, text})
	}
	for name, text := range carriedDefinitions {
		spec := name
		if name == "fromContext" {
			spec, name = "context", "context__fromContext"
		}
		if name == "listSize" {
			spec = "cost"
			if !s.applied("listSize") {
				// Not imported: the spec's own namespaced name.
				name = "cost__listSize"
				text = strings.Replace(text, "@listSize", "@cost__listSize", 1)
			}
		}
		if containsString(linked, spec) {
			if local := s.dirName(name); local != name && s.applied(name) {
				text = strings.Replace(text, "@"+name, "@"+local, 1)
				name = local
			}
			directives = append(directives, block{name, text})
		}
	}
	for _, dd := range s.directives {
		directives = append(directives, block{dd.Name, printDirectiveDefinition(dd)})
	}
	sort.Slice(directives, func(i, j int) bool { return directives[i].name < directives[j].name })
	for _, d := range directives {
		b.WriteString("\n" + d.text + "\n")
	}

	types := []block{
		{"join__FieldSet", "scalar join__FieldSet"},
		{"join__Graph", s.printGraphEnum()},
		{"link__Import", "scalar link__Import"},
		{"link__Purpose", linkPurpose},
	}
	if version != "0.3" {
		types = append(types, block{"join__DirectiveArguments", "scalar join__DirectiveArguments"})
	}
	if version == "0.5" {
		types = append(types, block{"join__ContextArgument", joinContextArgument}, block{"join__FieldValue", "scalar join__FieldValue"})
	}
	if containsString(linked, "context") {
		types = append(types, block{"context__ContextFieldValue", "scalar context__ContextFieldValue"})
	}
	if containsString(linked, "policy") {
		types = append(types, block{"policy__Policy", "scalar policy__Policy"})
	}
	if containsString(linked, "requiresScopes") {
		types = append(types, block{"requiresScopes__Scope", "scalar requiresScopes__Scope"})
	}
	for _, name := range s.order {
		t := s.types[name]
		types = append(types, block{name, s.printType(t)})
	}
	sort.SliceStable(types, func(i, j int) bool {
		a, c := strings.ToLower(types[i].name), strings.ToLower(types[j].name)
		if a != c {
			return a < c
		}
		return types[i].name < types[j].name
	})
	for _, t := range types {
		b.WriteString("\n" + t.text + "\n")
	}
	return b.String()
}

func carriedSpec(name string) struct{ name, url, purpose string } {
	for _, spec := range carriedSpecs {
		if spec.name == name {
			return spec
		}
	}
	return carriedSpecs[0]
}

// applied reports whether any subgraph applies federation directive fed.
func (s *supergraph) applied(fed string) bool {
	for _, sg := range s.subgraphs {
		if sg.appliedFed[fed] {
			return true
		}
	}
	return false
}

// linkedSpecs lists the carried specs (tag, inaccessible, ...) some
// subgraph applies, in the order Apollo links them: by the first subgraph
// applying one of their directives, then by position in its import list.
func (s *supergraph) linkedSpecs() []string {
	var out []string
	for _, sg := range s.subgraphs {
		var names []string
		for fed := range sg.appliedFed {
			names = append(names, fed)
		}
		position := func(fed string) int {
			for i, n := range federationDirectives {
				if n == fed {
					return i
				}
			}
			return len(federationDirectives)
		}
		sort.Slice(names, func(i, j int) bool { return position(names[i]) < position(names[j]) })
		for _, fed := range names {
			spec := fed
			if fed == "listSize" {
				spec = "cost"
			}
			if !containsString(out, spec) {
				out = append(out, spec)
			}
		}
	}
	return out
}

// contextPosition returns a test for the merged directives of t that go
// after its @context applications: directives merge in order of first
// appearance over the subgraphs (each as written), @context among them;
// on an interface the access-control directives go first.
func (s *supergraph) contextPosition(t *mType) func(name string) bool {
	var order []string
	for _, st := range t.sources {
		if st == nil {
			continue
		}
		for _, n := range st.order {
			if !containsString(order, n) {
				order = append(order, n)
			}
		}
	}
	pos := func(name string) int {
		for i, n := range order {
			if n == name {
				return i
			}
		}
		return len(order)
	}
	return func(name string) bool {
		if t.kind == ast.Interface && accessControl[name] {
			return false
		}
		return pos(name) > pos("context")
	}
}

func (s *supergraph) composedLinks() []string {
	var urls []string
	imports := map[string][]string{}
	for _, l := range s.composed {
		if _, ok := imports[l.url]; !ok {
			urls = append(urls, l.url)
		}
		imports[l.url] = append(imports[l.url], quote("@"+l.name))
	}
	var out []string
	for _, u := range urls {
		out = append(out, "@link(url: "+quote(u)+", import: ["+strings.Join(imports[u], ", ")+"])")
	}
	return out
}

func (s *supergraph) printGraphEnum() string {
	var b strings.Builder
	b.WriteString("enum join__Graph {\n")
	for _, sg := range s.subgraphs {
		b.WriteString("  " + sg.id + " @join__graph(name: " + quote(sg.name) + ", url: " + quote(sg.url) + ")\n")
	}
	b.WriteString("}")
	return b.String()
}

func printDirectiveDefinition(dd *ast.DirectiveDefinition) string {
	var b strings.Builder
	if dd.Description != "" {
		b.WriteString(printDescription(dd.Description, "", true))
	}
	b.WriteString("directive @" + dd.Name)
	b.WriteString(printArgDefs(dd.Arguments, ""))
	if dd.IsRepeatable {
		b.WriteString(" repeatable")
	}
	locs := make([]string, len(dd.Locations))
	for i, l := range dd.Locations {
		locs[i] = string(l)
	}
	b.WriteString(" on " + strings.Join(locs, " | "))
	return b.String()
}

func printArgDefs(args ast.ArgumentDefinitionList, indent string) string {
	if len(args) == 0 {
		return ""
	}
	described := false
	for _, a := range args {
		if a.Description != "" {
			described = true
		}
	}
	parts := make([]string, len(args))
	for i, a := range args {
		p := a.Name + ": " + a.Type.String()
		if a.DefaultValue != nil {
			p += " = " + printValue(a.DefaultValue)
		}
		for _, d := range a.Directives {
			p += " " + printDirective(d)
		}
		if described {
			p = printDescription(a.Description, indent+"  ", i == 0) + indent + "  " + p
		}
		parts[i] = p
	}
	if described {
		return "(\n" + strings.Join(parts, "\n") + "\n" + indent + ")"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// printDescription prints a description as a block string the way
// graphql-js does, followed by a newline.
func printDescription(desc, indent string, first bool) string {
	if desc == "" {
		return ""
	}
	escaped := strings.ReplaceAll(desc, `"""`, `\"""`)
	lines := strings.Split(strings.ReplaceAll(desc, "\r\n", "\n"), "\n")
	single := len(lines) == 1
	forceLeading := false
	if len(lines) > 1 {
		forceLeading = true
		for _, l := range lines[1:] {
			if l != "" && l[0] != ' ' && l[0] != '\t' {
				forceLeading = false
				break
			}
		}
	}
	trailingTriple := strings.HasSuffix(escaped, `\"""`)
	trailingQuote := strings.HasSuffix(desc, `"`) && !trailingTriple
	trailingSlash := strings.HasSuffix(desc, `\`)
	forceTrailing := trailingQuote || trailingSlash
	multi := !single || len(desc) > 70 || forceTrailing || forceLeading || trailingTriple
	out := ""
	skipLeading := single && (desc[0] == ' ' || desc[0] == '\t')
	if (multi && !skipLeading) || forceLeading {
		out += "\n"
	}
	out += escaped
	if multi || forceTrailing {
		out += "\n"
	}
	text := `"""` + out + `"""`
	text = indent + strings.ReplaceAll(text, "\n", "\n"+indent)
	// Blank lines carry no indentation.
	if indent != "" {
		for strings.Contains(text, "\n"+indent+"\n") {
			text = strings.ReplaceAll(text, "\n"+indent+"\n", "\n\n")
		}
	}
	prefix := ""
	if indent != "" && !first {
		prefix = "\n"
	}
	return prefix + text + "\n"
}

func (s *supergraph) printDirectives(list ast.DirectiveList) string {
	var b strings.Builder
	for _, d := range list {
		b.WriteString(" " + printDirective(s.local(d)))
	}
	return b.String()
}

// dirName is the name the supergraph gives a carried federation
// directive: the one the subgraphs apply it under (they must agree).
func (s *supergraph) dirName(fed string) string {
	for _, sg := range s.subgraphs {
		if local, ok := sg.localNames[fed]; ok {
			return local
		}
	}
	return fed
}

// local returns d under its supergraph name.
func (s *supergraph) local(d *ast.Directive) *ast.Directive {
	if !isCarriedDirective(d.Name) {
		return d
	}
	if name := s.dirName(d.Name); name != d.Name {
		return renamed(d, name)
	}
	return d
}

func isCarriedDirective(name string) bool {
	switch name {
	case "tag", "inaccessible", "authenticated", "requiresScopes", "policy", "cost", "listSize":
		return true
	}
	return false
}

func (s *supergraph) printType(t *mType) string {
	var b strings.Builder
	b.WriteString(printDescription(t.description, "", true))
	var head []string
	var inaccessible []string
	if t.inaccessible {
		inaccessible = []string{"@" + s.dirName("inaccessible")}
	}
	switch t.kind {
	case ast.Object, ast.Interface:
		kw := "type"
		if t.kind == ast.Interface {
			kw = "interface"
		}
		b.WriteString(kw + " " + t.name)
		if len(t.interfaces) > 0 {
			b.WriteString(" implements " + strings.Join(t.interfaces, " & "))
		}
		head = append(append(s.joinImplements(t), s.joinTypes(t)...), inaccessible...)
	case ast.Union:
		b.WriteString("union " + t.name)
		head = append(append(s.joinTypes(t), inaccessible...), s.joinMembers(t)...)
	case ast.Enum:
		b.WriteString("enum " + t.name)
		head = append(s.joinTypes(t), inaccessible...)
	case ast.InputObject:
		b.WriteString("input " + t.name)
		head = append(s.joinTypes(t), inaccessible...)
	case ast.Scalar:
		b.WriteString("scalar " + t.name)
		head = append(s.joinTypes(t), inaccessible...)
	}
	contexts := s.typeContexts(t)
	at := s.contextPosition(t)
	for _, d := range t.applied {
		if len(contexts) > 0 && at(d.Name) {
			for _, c := range contexts {
				head = append(head, "@context(name: "+quote(c)+")")
			}
			contexts = nil
		}
		head = append(head, printDirective(s.local(d)))
	}
	for _, c := range contexts {
		head = append(head, "@context(name: "+quote(c)+")")
	}
	for _, h := range head {
		b.WriteString("\n  " + h)
	}
	switch t.kind {
	case ast.Scalar:
		return b.String()
	case ast.Union:
		if len(head) > 0 {
			b.WriteString("\n =")
		} else {
			b.WriteString(" =")
		}
		b.WriteString(" " + strings.Join(t.members, " | "))
		return b.String()
	}
	if len(head) > 0 {
		b.WriteString("\n{\n")
	} else {
		b.WriteString(" {\n")
	}
	switch t.kind {
	case ast.Enum:
		for i, v := range t.values {
			b.WriteString(printDescription(v.description, "  ", i == 0))
			b.WriteString("  " + v.name)
			if v.inaccessible {
				b.WriteString(" @" + s.dirName("inaccessible"))
			}
			for _, g := range v.graphs {
				b.WriteString(" @join__enumValue(graph: " + g + ")")
			}
			b.WriteString(s.printDirectives(v.applied) + "\n")
		}
	default:
		for i, f := range t.fields {
			b.WriteString(printDescription(f.description, "  ", i == 0))
			b.WriteString("  " + f.name + s.printArgs(f.args) + ": " + f.typ.String())
			if f.defaultValue != nil {
				b.WriteString(" = " + printValue(f.defaultValue))
			}
			if f.inaccessible {
				b.WriteString(" @" + s.dirName("inaccessible"))
			}
			if f.fromInterfaceObject {
				// Copied from the interface: its directives come first.
				b.WriteString(s.printDirectives(f.applied))
			}
			for _, j := range f.joins {
				b.WriteString(" " + j)
			}
			if !f.fromInterfaceObject {
				b.WriteString(s.printDirectives(f.applied))
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("}")
	return b.String()
}

func (s *supergraph) printArgs(args []*mArg) string {
	if len(args) == 0 {
		return ""
	}
	list := make(ast.ArgumentDefinitionList, len(args))
	for i, a := range args {
		dirs := ast.DirectiveList{}
		if a.inaccessible {
			dirs = append(dirs, &ast.Directive{Name: s.dirName("inaccessible")})
		}
		for _, d := range a.applied {
			dirs = append(dirs, s.local(d))
		}
		list[i] = &ast.ArgumentDefinition{Name: a.name, Description: a.description, Type: a.typ, DefaultValue: a.defaultValue, Directives: dirs}
	}
	return printArgDefs(list, "  ")
}
