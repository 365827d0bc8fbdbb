package compose

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// Subgraph is one subgraph schema to compose.
type Subgraph struct {
	// Name is the subgraph name, for example "accounts".
	Name string
	// URL is the routing URL written into @join__graph(url:).
	URL string
	// SDL is the subgraph schema text as served by `_service { sdl }`.
	SDL string
}

const (
	federationURLPrefix = "https://specs.apollo.dev/federation/v"
	// maxFederationMinor is the highest Federation 2 minor version known.
	maxFederationMinor = 14
)

// federationDirectives are the directives of the federation spec, by
// their canonical names.
// The order is the federation spec's, which decides the order in which
// the supergraph links the specs of carried directives.
var federationDirectives = []string{
	"key", "requires", "provides", "external", "tag", "extends", "shareable", "inaccessible",
	"override", "composeDirective", "interfaceObject", "authenticated", "requiresScopes", "policy",
	"context", "fromContext", "cost", "listSize",
}

// carriedSpecs are the federation directives that the supergraph keeps on
// the elements they are applied to, in the order Apollo links their specs.
var carriedSpecs = []struct{ name, url, purpose string }{
	{"tag", "https://specs.apollo.dev/tag/v0.3", ""},
	{"inaccessible", "https://specs.apollo.dev/inaccessible/v0.2", "SECURITY"},
	{"authenticated", "https://specs.apollo.dev/authenticated/v0.1", "SECURITY"},
	{"requiresScopes", "https://specs.apollo.dev/requiresScopes/v0.1", "SECURITY"},
	{"policy", "https://specs.apollo.dev/policy/v0.1", "SECURITY"},
	{"context", "https://specs.apollo.dev/context/v0.1", "SECURITY"},
	{"cost", "https://specs.apollo.dev/cost/v0.1", ""},
}

// accessControl lists the access-control directives, merged after the
// other applied directives of an element.
var accessControl = map[string]bool{"authenticated": true, "requiresScopes": true, "policy": true}

// subgraph is one parsed and normalized subgraph: federation directives
// under their canonical names, type extensions folded into their types,
// root types under their default names.
type subgraph struct {
	name, url, id string
	index         int
	fed1          bool
	minor         int // Federation 2 minor version; 0 for Federation 1
	types         map[string]*sType
	order         []string
	// roots maps an operation ("query") to the normalized root type name.
	roots map[string]string
	// description is the schema definition's description.
	description string
	// dirDefs are non-federation directive definitions, by canonical name.
	dirDefs map[string]*ast.DirectiveDefinition
	// composed maps a directive named by @composeDirective to its link.
	composed map[string]*customLink
	// fedNames maps a local directive name to its federation name.
	fedNames map[string]string
	// linkNames maps a local directive name to {url, name} for other links.
	linkNames map[string]*customLink

	// importedAs maps an imported federation directive to its local name.
	importedAs map[string]string
	// importIndex is the position of a federation directive in the import list.
	importIndex map[string]int
	// appliedFed records the carried federation directives the subgraph
	// applies, localNames the names it applies them under.
	appliedFed map[string]bool
	localNames map[string]string

	// Lazily computed field-set facts (see fieldsets.go).
	used, providedSet, keyFields map[string]bool
}

type customLink struct {
	url, name string
}

type sType struct {
	name        string
	kind        ast.DefinitionKind
	description string
	extension   bool // every definition of the type is an extension
	// extendsDirective is set when the type carries @extends.
	extendsDirective bool
	keys             []*sKey
	interfaceObject  bool
	inaccessible     bool
	// contexts are the names of the @context directives on the type.
	contexts []string
	// order lists the supergraph names of the directives applied to the
	// type as written ("context" too), to print them in that order.
	order      []string
	applied    ast.DirectiveList
	fields     []*sField
	fieldMap   map[string]*sField
	interfaces []string
	members    []string
	values     []*sValue
	valueMap   map[string]*sValue
	pos        *ast.Position
}

type sKey struct {
	fields     string
	resolvable bool
	// resolvableSet records an explicit resolvable argument (printed back).
	resolvableSet bool
	sel           ast.SelectionSet
	// extension is set for a key declared on a type extension or a type
	// marked @extends.
	extension bool
}

type sField struct {
	name, description string
	typ               *ast.Type
	args              []*sArg
	defaultValue      *ast.Value
	external          bool
	shareable         bool
	inaccessible      bool
	requires          string
	provides          string
	hasOverride       bool
	override          string
	overrideLabel     string
	applied           ast.DirectiveList
	parent            *sType
	pos               *ast.Position
}

type sArg struct {
	name, description string
	typ               *ast.Type
	defaultValue      *ast.Value
	inaccessible      bool
	applied           ast.DirectiveList
	// contextual is set by @fromContext; fromContext is its field
	// argument ("$name { selection }").
	contextual  bool
	fromContext string
	pos         *ast.Position
}

type sValue struct {
	name, description string
	inaccessible      bool
	applied           ast.DirectiveList
}

func (t *sType) field(name string) *sField {
	if t == nil {
		return nil
	}
	return t.fieldMap[name]
}

// graphID turns a subgraph name into its join__Graph enum value.
func graphID(name string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(name) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	id := b.String()
	if id == "" || (id[0] >= '0' && id[0] <= '9') {
		id = "_" + id
	}
	return id
}

var machineryTypes = map[string]bool{
	"_Service": true, "_Any": true, "_Entity": true, "_FieldSet": true, "FieldSet": true,
	"link__Import": true, "link__Purpose": true, "link__FieldSet": true,
}

// parseSubgraph parses and normalizes one subgraph.
func parseSubgraph(in Subgraph, index int, errs *errorList) *subgraph {
	if strings.TrimSpace(in.Name) == "" || in.Name == "_" {
		errs.add("INVALID_SUBGRAPH_NAME", in.Name, "", "Invalid subgraph name %q: a subgraph needs a name, and \"_\" is reserved", in.Name)
		return nil
	}
	doc, err := parser.ParseSchema(&ast.Source{Name: in.Name, Input: in.SDL})
	if err != nil {
		errs.add("INVALID_GRAPHQL", in.Name, "", "%s", gqlMessage(err))
		return nil
	}
	if len(doc.Definitions)+len(doc.Extensions)+len(doc.Schema)+len(doc.SchemaExtension)+len(doc.Directives) == 0 {
		errs.add("INVALID_GRAPHQL", in.Name, "", "Syntax Error: the schema is empty")
		return nil
	}
	sg := &subgraph{
		name: in.Name, url: in.URL, id: graphID(in.Name), index: index,
		types: map[string]*sType{}, roots: map[string]string{},
		dirDefs: map[string]*ast.DirectiveDefinition{}, composed: map[string]*customLink{},
		fedNames: map[string]string{}, linkNames: map[string]*customLink{},
	}
	if !sg.readLinks(doc, errs) {
		return nil
	}
	if !sg.checkDirectives(doc, errs) || !sg.checkUniqueDirectives(doc, errs) || !sg.checkRedefinitions(doc, errs) {
		return nil
	}
	for _, sd := range doc.Schema {
		if sd.Description != "" {
			sg.description = sd.Description
		}
	}
	renames := sg.readRoots(doc, errs)
	for _, dd := range doc.Directives {
		if _, fed := sg.fedNames[dd.Name]; fed || dd.Name == "link" || machineryTypes[dd.Name] {
			continue
		}
		if dd.Name == "deprecated" || dd.Name == "specifiedBy" || dd.Name == "skip" || dd.Name == "include" || dd.Name == "oneOf" || dd.Name == "defer" || dd.Name == "stream" {
			continue
		}
		name := dd.Name
		if l := sg.linkNames[dd.Name]; l != nil {
			name = l.name
		}
		sg.dirDefs[name] = dd
	}
	sg.readComposeDirectives(doc, errs)
	for i, defs := range []ast.DefinitionList{doc.Definitions, doc.Extensions} {
		for _, def := range defs {
			if machineryTypes[def.Name] || strings.HasPrefix(def.Name, "federation__") || strings.HasPrefix(def.Name, "link__") {
				continue
			}
			name := def.Name
			if r, ok := renames[name]; ok {
				name = r
			}
			sg.addDefinition(def, name, i == 1, renames, errs)
		}
	}
	if !sg.checkReferences(errs) {
		return nil
	}
	sg.finish(errs)
	return sg
}

var builtinScalars = map[string]bool{"String": true, "Int": true, "Float": true, "Boolean": true, "ID": true}

// checkReferences reports references to types the subgraph does not
// define, and types used where their kind is not allowed.
func (sg *subgraph) checkReferences(errs *errorList) bool {
	ok := true
	kindOf := func(name string) (ast.DefinitionKind, bool) {
		if builtinScalars[name] {
			return ast.Scalar, true
		}
		t := sg.types[name]
		if t == nil {
			return "", false
		}
		return t.kind, true
	}
	bad := func(coord, format string, args ...any) {
		ok = false
		errs.add("INVALID_GRAPHQL", sg.name, coord, format, args...)
	}
	for _, name := range sg.order {
		t := sg.types[name]
		for _, f := range t.fields {
			coord := name + "." + f.name
			k, found := kindOf(f.typ.Name())
			switch {
			case !found:
				bad(coord, "Unknown type \"%s\".", f.typ.Name())
			case t.kind == ast.InputObject && k != ast.Scalar && k != ast.Enum && k != ast.InputObject:
				bad(coord, "The type of \"%s\" must be Input Type but got: %s.", coord, f.typ.String())
			case t.kind != ast.InputObject && k == ast.InputObject:
				bad(coord, "The type of \"%s\" must be Output Type but got: %s.", coord, f.typ.String())
			}
			for _, a := range f.args {
				k, found := kindOf(a.typ.Name())
				switch {
				case !found:
					bad(coord, "Unknown type \"%s\".", a.typ.Name())
				case k != ast.Scalar && k != ast.Enum && k != ast.InputObject:
					bad(coord, "The type of \"%s(%s:)\" must be Input Type but got: %s.", coord, a.name, a.typ.String())
				}
			}
		}
		for _, i := range t.interfaces {
			if k, found := kindOf(i); !found || k != ast.Interface {
				bad(name, "Type \"%s\" must only implement Interface types, it cannot implement \"%s\".", name, i)
			}
		}
		for _, m := range t.members {
			if k, found := kindOf(m); !found || k != ast.Object {
				bad(name, "Union type \"%s\" can only include Object types, it cannot include \"%s\".", name, m)
			}
		}
		if (t.kind == ast.Object || t.kind == ast.Interface || t.kind == ast.InputObject) && len(t.fields) == 0 && name != "Query" {
			bad(name, "Type \"%s\" must define one or more fields.", name)
		}
	}
	return ok
}

func gqlMessage(err error) string {
	if list, ok := err.(gqlerror.List); ok && len(list) > 0 {
		err = list[0]
	}
	if e, ok := err.(*gqlerror.Error); ok {
		if len(e.Locations) > 0 {
			return fmt.Sprintf("line %d: %s", e.Locations[0].Line, e.Message)
		}
		return e.Message
	}
	return err.Error()
}

func (sg *subgraph) schemaDirectives(doc *ast.SchemaDocument) ast.DirectiveList {
	var out ast.DirectiveList
	for _, s := range doc.Schema {
		out = append(out, s.Directives...)
	}
	for _, s := range doc.SchemaExtension {
		out = append(out, s.Directives...)
	}
	return out
}

// readLinks reads the @link directives: the federation version and the
// local names of the federation directives.
func (sg *subgraph) readLinks(doc *ast.SchemaDocument, errs *errorList) bool {
	fedFound := false
	for _, d := range sg.schemaDirectives(doc) {
		if d.Name != "link" {
			continue
		}
		url := argString(d, "url")
		as := strings.TrimPrefix(argString(d, "as"), "@")
		imports := readImports(d)
		if strings.HasPrefix(url, federationURLPrefix) {
			version := strings.TrimPrefix(url, federationURLPrefix)
			major, minor, ok := strings.Cut(version, ".")
			m, err := strconv.Atoi(minor)
			if !ok || major != "2" || err != nil || m > maxFederationMinor {
				errs.add("UNKNOWN_FEDERATION_LINK_VERSION", sg.name, "", "Invalid version v%s for the federation feature in @link directive on schema", version)
				return false
			}
			fedFound = true
			sg.minor = m
			prefix := "federation"
			if as != "" {
				prefix = as
			}
			for _, name := range federationDirectives {
				sg.fedNames[prefix+"__"+name] = name
			}
			sg.importIndex = importPositions(d)
			for local, name := range imports {
				if !isFederationDirective(name) {
					if name == "FieldSet" || name == "Scope" || name == "Policy" || name == "ContextFieldValue" {
						continue
					}
					errs.add("INVALID_LINK_IDENTIFIER", sg.name, "", "Cannot import unknown element \"@%s\".", name)
					continue
				}
				sg.fedNames[local] = name
				if sg.importedAs == nil {
					sg.importedAs = map[string]string{}
				}
				sg.importedAs[name] = local
			}
			continue
		}
		if url == "" {
			errs.add("INVALID_LINK_DIRECTIVE_USAGE", sg.name, "", "@link is missing its url argument")
			continue
		}
		spec, _ := splitURL(url)
		prefix := spec
		if as != "" {
			prefix = as
		}
		apolloSpec := strings.HasPrefix(url, "https://specs.apollo.dev/") && isCarried(spec)
		if apolloSpec {
			sg.fedNames[prefix] = spec
		}
		for local, name := range imports {
			if apolloSpec {
				sg.fedNames[local] = name
			} else {
				sg.linkNames[local] = &customLink{url: url, name: name}
			}
		}
	}
	if !fedFound {
		// Federation 1: its directives under their own names, and the
		// Federation 2 ones the schema defines itself.
		sg.fed1 = true
		defined := map[string]bool{}
		for _, dd := range doc.Directives {
			defined[dd.Name] = true
		}
		for _, name := range federationDirectives {
			if _, taken := sg.fedNames[name]; taken {
				continue
			}
			if fed1Directives[name] || defined[name] {
				sg.fedNames[name] = name
			}
		}
	}
	return true
}

// requiredArgs are the required arguments of federation directives: a
// subgraph that defines one of them itself must declare them.
var requiredArgs = map[string]string{
	"key": "fields", "requires": "fields", "provides": "fields", "override": "from", "tag": "name",
	"composeDirective": "name", "requiresScopes": "scopes", "policy": "policies", "cost": "weight",
}

// checkRedefinitions reports definitions of federation directives that
// lack a required argument (DIRECTIVE_DEFINITION_INVALID).
func (sg *subgraph) checkRedefinitions(doc *ast.SchemaDocument, errs *errorList) bool {
	ok := true
	for _, dd := range doc.Directives {
		fed, isFed := sg.fedNames[dd.Name]
		if !isFed {
			continue
		}
		if arg := requiredArgs[fed]; arg != "" && dd.Arguments.ForName(arg) == nil {
			ok = false
			errs.add("DIRECTIVE_DEFINITION_INVALID", sg.name, "@"+dd.Name, "Invalid definition for directive \"@%s\": missing required argument \"%s\"", dd.Name, arg)
		}
	}
	return ok
}

// fed1Directives are the directives a Federation 1 subgraph may use
// without defining them.
var fed1Directives = map[string]bool{"key": true, "requires": true, "provides": true, "external": true, "extends": true, "tag": true}

var builtinDirectives = map[string]bool{"deprecated": true, "specifiedBy": true, "oneOf": true, "skip": true, "include": true, "defer": true, "stream": true}

// checkDirectives reports applied directives the subgraph neither imports
// nor defines (INVALID_GRAPHQL, as GraphQL validation does).
func (sg *subgraph) checkDirectives(doc *ast.SchemaDocument, errs *errorList) bool {
	defined := map[string]bool{"link": true}
	for _, dd := range doc.Directives {
		defined[dd.Name] = true
	}
	ok := true
	check := func(list ast.DirectiveList, where string) {
		for _, d := range list {
			if _, fed := sg.fedNames[d.Name]; fed || defined[d.Name] || builtinDirectives[d.Name] {
				continue
			}
			ok = false
			hint := ""
			if isFederationDirective(d.Name) {
				if sg.fed1 {
					hint = fmt.Sprintf(" If you meant the \"@%s\" federation 2 directive, note that this schema is a federation 1 schema. To be a federation 2 schema, it needs to @link to the federation specification v2.", d.Name)
				} else {
					hint = fmt.Sprintf(" If you meant the \"@%s\" federation directive, you should use fully-qualified name \"@federation__%s\" or add \"@%s\" to the `import` argument of the @link to the federation specification.", d.Name, d.Name, d.Name)
				}
			}
			errs.add("INVALID_GRAPHQL", sg.name, where, "Unknown directive \"@%s\".%s", d.Name, hint)
		}
	}
	check(sg.schemaDirectives(doc), "schema")
	for _, defs := range []ast.DefinitionList{doc.Definitions, doc.Extensions} {
		for _, def := range defs {
			check(def.Directives, def.Name)
			for _, f := range def.Fields {
				check(f.Directives, def.Name+"."+f.Name)
				for _, a := range f.Arguments {
					check(a.Directives, def.Name+"."+f.Name+"("+a.Name+":)")
				}
			}
			for _, v := range def.EnumValues {
				check(v.Directives, def.Name+"."+v.Name)
			}
		}
	}
	return ok
}

func isFederationDirective(name string) bool {
	for _, n := range federationDirectives {
		if n == name {
			return true
		}
	}
	return false
}

func isCarried(spec string) bool {
	for _, s := range carriedSpecs {
		if s.name == spec {
			return true
		}
	}
	return false
}

// splitURL turns https://specs.apollo.dev/tag/v0.3 into ("tag", "0.3").
func splitURL(url string) (string, string) {
	url = strings.TrimSuffix(url, "/")
	i := strings.LastIndex(url, "/")
	if i < 0 {
		return url, ""
	}
	rest := url[:i]
	j := strings.LastIndex(rest, "/")
	return rest[j+1:], strings.TrimPrefix(url[i+1:], "v")
}

// importPositions maps imported names (without "@") to their position
// in the import list of a @link.
func importPositions(d *ast.Directive) map[string]int {
	out := map[string]int{}
	a := d.Arguments.ForName("import")
	if a == nil || a.Value == nil {
		return out
	}
	for i, item := range a.Value.Children {
		v := item.Value
		switch v.Kind {
		case ast.StringValue:
			out[strings.TrimPrefix(v.Raw, "@")] = i
		case ast.ObjectValue:
			for _, f := range v.Children {
				if f.Name == "name" {
					out[strings.TrimPrefix(f.Value.Raw, "@")] = i
				}
			}
		}
	}
	return out
}

// readImports maps local names to imported names for one @link, without
// the leading "@" of directives.
func readImports(d *ast.Directive) map[string]string {
	out := map[string]string{}
	a := d.Arguments.ForName("import")
	if a == nil || a.Value == nil {
		return out
	}
	for _, item := range a.Value.Children {
		v := item.Value
		switch v.Kind {
		case ast.StringValue:
			n := strings.TrimPrefix(v.Raw, "@")
			out[n] = n
		case ast.ObjectValue:
			var name, as string
			for _, f := range v.Children {
				switch f.Name {
				case "name":
					name = strings.TrimPrefix(f.Value.Raw, "@")
				case "as":
					as = strings.TrimPrefix(f.Value.Raw, "@")
				}
			}
			if as == "" {
				as = name
			}
			out[as] = name
		}
	}
	return out
}

func (sg *subgraph) readComposeDirectives(doc *ast.SchemaDocument, errs *errorList) {
	for _, d := range sg.schemaDirectives(doc) {
		if sg.fedNames[d.Name] != "composeDirective" {
			continue
		}
		name := strings.TrimPrefix(argString(d, "name"), "@")
		if !strings.HasPrefix(argString(d, "name"), "@") {
			errs.add("DIRECTIVE_COMPOSITION_ERROR", sg.name, "", "Argument to @composeDirective \"%s\" in subgraph \"%s\" must have a leading \"@\".", name, sg.name)
			continue
		}
		l := sg.linkNames[name]
		if l == nil {
			if fed, isFed := sg.fedNames[name]; isFed && isCarriedDirective(fed) {
				continue // composed anyway
			} else if isFed {
				errs.add("DIRECTIVE_COMPOSITION_ERROR", sg.name, "", "Composing federation directive \"@%s\" in subgraph \"%s\" is not supported", name, sg.name)
			} else {
				errs.add("DIRECTIVE_COMPOSITION_ERROR", sg.name, "", "Directive \"@%s\" in subgraph \"%s\" cannot be composed because it is not a member of a core feature", name, sg.name)
			}
			continue
		}
		if isCarriedDirective(l.name) {
			errs.add("UNSUPPORTED_FEATURE", sg.name, "", "Composing the custom directive \"@%s\" (from %s) is not supported: its name is the name of a federation directive", name, l.url)
			continue
		}
		if sg.dirDefs[l.name] == nil {
			errs.add("DIRECTIVE_COMPOSITION_ERROR", sg.name, "", "Could not find matching directive definition for argument to @composeDirective \"@%s\" in subgraph \"%s\".", name, sg.name)
			continue
		}
		sg.composed[l.name] = l
	}
}

// readRoots finds the root operation types and returns the renames that
// give them their default names.
func (sg *subgraph) readRoots(doc *ast.SchemaDocument, errs *errorList) map[string]string {
	renames := map[string]string{}
	declared := false
	for _, list := range [][]*ast.SchemaDefinition{doc.Schema, doc.SchemaExtension} {
		for _, s := range list {
			for _, op := range s.OperationTypes {
				declared = true
				def := rootDefault(op.Operation)
				if op.Type != def {
					renames[op.Type] = def
				}
			}
		}
	}
	if declared {
		for from, to := range renames {
			for _, def := range append(append(ast.DefinitionList{}, doc.Definitions...), doc.Extensions...) {
				if def.Name == to && renames[to] == "" {
					code := "ROOT_" + strings.ToUpper(strings.TrimSuffix(to, "")) + "_USED"
					errs.add(code, sg.name, to, "The schema has a type named \"%s\" but it is not set as the %s root type (\"%s\" is instead): this is not supported by federation. If a root type does not use its default name, there should be no other type with that default name.", to, strings.ToLower(to), from)
					break
				}
			}
		}
	}
	return renames
}

func rootDefault(op ast.Operation) string {
	switch op {
	case ast.Mutation:
		return "Mutation"
	case ast.Subscription:
		return "Subscription"
	}
	return "Query"
}

func renameType(t *ast.Type, renames map[string]string) *ast.Type {
	if t == nil {
		return nil
	}
	c := *t
	if c.Elem != nil {
		c.Elem = renameType(c.Elem, renames)
	} else if r, ok := renames[c.NamedType]; ok {
		c.NamedType = r
	}
	return &c
}

// addDefinition folds one type definition or extension into the subgraph.
func (sg *subgraph) addDefinition(def *ast.Definition, name string, extension bool, renames map[string]string, errs *errorList) {
	t := sg.types[name]
	if t == nil {
		t = &sType{name: name, kind: def.Kind, fieldMap: map[string]*sField{}, valueMap: map[string]*sValue{}, pos: def.Position, extension: true}
		sg.types[name] = t
		sg.order = append(sg.order, name)
	} else if t.kind != def.Kind {
		errs.add("TYPE_DEFINITION_INVALID", sg.name, name, "Type \"%s\" is defined as both %s and %s", name, kindName(t.kind), kindName(def.Kind))
		return
	}
	typeShareable, typeExternal := false, false
	for _, d := range def.Directives {
		if sg.fedNames[d.Name] == "extends" {
			extension = true
			t.extendsDirective = true
		}
	}
	if !extension {
		t.extension = false
	}
	if def.Description != "" {
		t.description = def.Description
	}
	for _, d := range def.Directives {
		fed, isFed := sg.fedNames[d.Name]
		switch {
		case isFed && fed == "key":
			fields := argString(d, "fields")
			t.keys = append(t.keys, &sKey{fields: fields, resolvable: argBoolDefault(d, "resolvable", true), extension: extension,
				resolvableSet: d.Arguments.ForName("resolvable") != nil})
		case isFed && fed == "shareable":
			typeShareable = true
		case isFed && fed == "external":
			typeExternal = true
		case isFed && fed == "interfaceObject":
			t.interfaceObject = true
		case isFed && fed == "inaccessible":
			t.inaccessible = true
			sg.markApplied("inaccessible", d.Name)
		case isFed && fed == "extends":
		case isFed && fed == "context" && (def.Kind == ast.Object || def.Kind == ast.Interface || def.Kind == ast.Union):
			t.contexts = append(t.contexts, argString(d, "name"))
			t.order = append(t.order, "context")
		case isFed && (fed == "tag" || accessControl[fed] || fed == "cost"):
			t.applied = append(t.applied, sg.carried(d, fed))
			t.order = append(t.order, fed)
		case isFed:
			errs.add("INVALID_GRAPHQL", sg.name, name, "Directive \"@%s\" may not be used on %s \"%s\".", d.Name, kindName(def.Kind), name)
		default:
			c := sg.customDirective(d)
			t.applied = append(t.applied, c)
			t.order = append(t.order, c.Name)
		}
	}
	for _, i := range def.Interfaces {
		if r, ok := renames[i]; ok {
			i = r
		}
		if !containsString(t.interfaces, i) {
			t.interfaces = append(t.interfaces, i)
		}
	}
	for _, m := range def.Types {
		if r, ok := renames[m]; ok {
			m = r
		}
		if !containsString(t.members, m) {
			t.members = append(t.members, m)
		}
	}
	for _, v := range def.EnumValues {
		sv := &sValue{name: v.Name, description: v.Description}
		for _, d := range v.Directives {
			switch fed := sg.fedNames[d.Name]; {
			case fed == "inaccessible":
				sv.inaccessible = true
				sg.markApplied("inaccessible", d.Name)
			case fed == "tag" || accessControl[fed] || fed == "cost":
				sv.applied = append(sv.applied, sg.carried(d, fed))
			case fed != "":
			default:
				sv.applied = append(sv.applied, sg.customDirective(d))
			}
		}
		if t.valueMap[v.Name] == nil {
			t.values = append(t.values, sv)
			t.valueMap[v.Name] = sv
		}
	}
	for _, f := range def.Fields {
		if (name == "Query" && (f.Name == "_service" || f.Name == "_entities")) || strings.HasPrefix(f.Name, "__") {
			continue
		}
		sf := &sField{name: f.Name, description: f.Description, typ: renameType(f.Type, renames), parent: t, pos: f.Position, defaultValue: f.DefaultValue}
		sf.shareable = typeShareable
		sf.external = typeExternal && !sg.fed1 // Federation 1 ignores @external on types
		for _, d := range f.Directives {
			fed, isFed := sg.fedNames[d.Name]
			switch {
			case !isFed:
				sf.applied = append(sf.applied, sg.customDirective(d))
			case fed == "external":
				sf.external = true
			case fed == "shareable":
				sf.shareable = true
			case fed == "inaccessible":
				sf.inaccessible = true
				sg.markApplied("inaccessible", d.Name)
			case fed == "requires":
				sf.requires = argString(d, "fields")
			case fed == "provides":
				sf.provides = argString(d, "fields")
			case fed == "override":
				sf.hasOverride = true
				sf.override = argString(d, "from")
				sf.overrideLabel = argString(d, "label")
			case fed == "tag" || accessControl[fed] || fed == "cost" || fed == "listSize":
				sf.applied = append(sf.applied, sg.carried(d, fed))
			case fed == "key":
				errs.add("INVALID_GRAPHQL", sg.name, name+"."+f.Name, "Directive \"@%s\" may not be used on FIELD_DEFINITION.", d.Name)
			case fed == "context" || fed == "fromContext":
				errs.add("INVALID_GRAPHQL", sg.name, name+"."+f.Name, "Directive \"@%s\" may not be used on FIELD_DEFINITION.", d.Name)
			}
		}
		for _, a := range f.Arguments {
			sa := &sArg{name: a.Name, description: a.Description, typ: renameType(a.Type, renames), defaultValue: a.DefaultValue, pos: a.Position}
			for _, d := range a.Directives {
				switch fed := sg.fedNames[d.Name]; {
				case fed == "inaccessible":
					sa.inaccessible = true
					sg.markApplied("inaccessible", d.Name)
				case fed == "tag" || fed == "cost":
					sa.applied = append(sa.applied, sg.carried(d, fed))
				case fed == "fromContext":
					sa.contextual = true
					sa.fromContext = argString(d, "field")
				case fed != "":
				default:
					sa.applied = append(sa.applied, sg.customDirective(d))
				}
			}
			sf.args = append(sf.args, sa)
		}
		if t.fieldMap[f.Name] != nil {
			errs.add("INVALID_GRAPHQL", sg.name, name+"."+f.Name, "Field \"%s.%s\" can only be defined once.", name, f.Name)
			continue
		}
		t.fields = append(t.fields, sf)
		t.fieldMap[f.Name] = sf
	}
}

func kindName(k ast.DefinitionKind) string {
	switch k {
	case ast.Object:
		return "ObjectType"
	case ast.Interface:
		return "InterfaceType"
	case ast.Union:
		return "UnionType"
	case ast.Enum:
		return "EnumType"
	case ast.InputObject:
		return "InputObjectType"
	case ast.Scalar:
		return "ScalarType"
	}
	return string(k)
}

// carried records that the subgraph applies federation directive fed and
// returns d under its supergraph name.
func (sg *subgraph) carried(d *ast.Directive, fed string) *ast.Directive {
	sg.markApplied(fed, d.Name)
	return renamed(d, fed)
}

func (sg *subgraph) markApplied(fed, local string) {
	if sg.appliedFed == nil {
		sg.appliedFed = map[string]bool{}
		sg.localNames = map[string]string{}
	}
	sg.appliedFed[fed] = true
	if _, ok := sg.localNames[fed]; !ok {
		sg.localNames[fed] = local
	}
}

// renamed returns a copy of d under its supergraph name.
func renamed(d *ast.Directive, name string) *ast.Directive {
	c := *d
	c.Name = name
	return &c
}

func (sg *subgraph) customDirective(d *ast.Directive) *ast.Directive {
	if l := sg.linkNames[d.Name]; l != nil {
		return renamed(d, l.name)
	}
	return d
}

// finish applies the Federation 1 rules and parses key field sets.
func (sg *subgraph) finish(errs *errorList) {
	for _, name := range sg.order {
		t := sg.types[name]
		for _, k := range t.keys {
			sel, err := parseFieldSet(k.fields)
			if err != nil {
				errs.add("KEY_INVALID_FIELDS", sg.name, name, "On type \"%s\", for @key(fields: \"%s\"): %v", name, k.fields, err)
				continue
			}
			k.sel = sel
		}
	}
	if !sg.fed1 {
		// Key fields of type extensions marked @external are not external
		// (kept for backward compatibility, as Apollo does).
		for _, name := range sg.order {
			t := sg.types[name]
			for _, k := range t.keys {
				if !k.extension && !t.extendsDirective {
					continue
				}
				for _, x := range k.sel {
					if fd, ok := x.(*ast.Field); ok {
						if f := t.field(fd.Name); f != nil {
							f.external = false
						}
					}
				}
			}
		}
		return
	}
	for _, name := range sg.order {
		t := sg.types[name]
		// Fields of Federation 1 schemas are all shareable; key fields of
		// type extensions need no @external.
		for _, f := range t.fields {
			f.shareable = true
		}
		for _, k := range t.keys {
			if !k.extension && !t.extendsDirective {
				continue
			}
			for _, s := range k.sel {
				if fd, ok := s.(*ast.Field); ok {
					if f := t.field(fd.Name); f != nil && f.external {
						f.external = false
					}
				}
			}
		}
		// Federation 1 `extend type` becomes a definition; @extends stays.
		for _, k := range t.keys {
			k.extension = t.extendsDirective
		}
	}
	// Unused @external fields of Federation 1 schemas are dropped.
	used := sg.usedExternals()
	for _, name := range sg.order {
		t := sg.types[name]
		var kept []*sField
		for _, f := range t.fields {
			if f.external && !used[name+"."+f.name] {
				delete(t.fieldMap, f.name)
				continue
			}
			kept = append(kept, f)
		}
		t.fields = kept
	}
}

// parseFieldSet parses a federation FieldSet such as "id org { id }".
func parseFieldSet(fields string) (ast.SelectionSet, error) {
	if strings.TrimSpace(fields) == "" {
		return nil, fmt.Errorf("empty field set")
	}
	doc, err := parser.ParseQuery(&ast.Source{Name: "fieldset", Input: "{" + fields + "}"})
	if err != nil {
		return nil, fmt.Errorf("%s", gqlMessage(err))
	}
	if len(doc.Operations) != 1 || len(doc.Fragments) > 0 {
		return nil, fmt.Errorf("not a field set")
	}
	return doc.Operations[0].SelectionSet, nil
}

func argString(d *ast.Directive, name string) string {
	a := d.Arguments.ForName(name)
	if a == nil || a.Value == nil || a.Value.Kind == ast.NullValue {
		return ""
	}
	return a.Value.Raw
}

func argBoolDefault(d *ast.Directive, name string, def bool) bool {
	a := d.Arguments.ForName(name)
	if a == nil || a.Value == nil || a.Value.Kind != ast.BooleanValue {
		return def
	}
	return a.Value.Raw == "true"
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
