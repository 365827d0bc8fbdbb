package compose

import (
	"github.com/vektah/gqlparser/v2/ast"
)

// repeatableFederation are the federation directives that may be applied
// more than once at one location (@shareable is checked apart).
var repeatableFederation = map[string]bool{"key": true, "tag": true, "composeDirective": true, "context": true}

// shareableDuplicate is the end of @apollo/composition's message for a
// @shareable applied twice on one declaration.
const shareableDuplicate = "@shareable is only repeatable on types so it can be used simultaneously on a type definition and its extensions, but it should not be duplicated on the same definition/extension declaration"

// checkUniqueDirectives reports a directive that is not repeatable
// applied twice at one location, as GraphQL validation does
// (UniqueDirectivesPerLocation: a type's definition and its extensions
// are one location; a directive definition's arguments are locations
// too): INVALID_GRAPHQL. @shareable, repeatable on types
// since Federation 2.2 so a definition and its extensions may each have
// it, is refused twice on one declaration (INVALID_SHAREABLE_USAGE).
func (sg *subgraph) checkUniqueDirectives(doc *ast.SchemaDocument, errs *errorList) bool {
	repeatable := map[string]bool{"link": true}
	for _, dd := range doc.Directives {
		repeatable[dd.Name] = dd.IsRepeatable
	}
	ok := true
	// once reports each non-repeatable directive of list applied a
	// second time; seen carries the names over the declarations of one
	// location (a type's definition and extensions).
	once := func(list ast.DirectiveList, seen map[string]bool, where string) {
		for _, d := range list {
			fed, isFed := sg.fedNames[d.Name]
			switch {
			case isFed && repeatableFederation[fed]:
				continue
			case isFed && fed == "shareable" && sg.minor >= 2:
				continue
			case !isFed:
				rep, defined := repeatable[d.Name]
				if rep || (!defined && !builtinDirectives[d.Name]) {
					continue
				}
			}
			if seen[d.Name] {
				ok = false
				errs.add("INVALID_GRAPHQL", sg.name, where, "The directive \"@%s\" can only be used once at this location.", d.Name)
			}
			seen[d.Name] = true
		}
	}
	// shareableOnce reports @shareable twice on one declaration.
	shareableOnce := func(list ast.DirectiveList, message string) {
		n := 0
		for _, d := range list {
			if sg.fedNames[d.Name] == "shareable" {
				n++
			}
		}
		if n > 1 && sg.minor >= 2 {
			ok = false
			errs.add("INVALID_SHAREABLE_USAGE", sg.name, "", "%s", message)
		}
	}
	once(sg.schemaDirectives(doc), map[string]bool{}, "schema")
	// A directive definition's arguments are locations too
	// (ARGUMENT_DEFINITION), as @apollo/composition checks them.
	for _, dd := range doc.Directives {
		for _, a := range dd.Arguments {
			once(a.Directives, map[string]bool{}, "@"+dd.Name+"("+a.Name+":)")
		}
	}
	typeSeen := map[string]map[string]bool{}
	for _, defs := range []ast.DefinitionList{doc.Definitions, doc.Extensions} {
		for _, def := range defs {
			if typeSeen[def.Name] == nil {
				typeSeen[def.Name] = map[string]bool{}
			}
			once(def.Directives, typeSeen[def.Name], def.Name)
			shareableOnce(def.Directives, "Invalid duplicate application of @shareable on the same type declaration of \""+def.Name+"\": "+shareableDuplicate)
			for _, f := range def.Fields {
				coord := def.Name + "." + f.Name
				once(f.Directives, map[string]bool{}, coord)
				shareableOnce(f.Directives, "Invalid duplicate application of @shareable on field \""+coord+"\": "+shareableDuplicate)
				for _, a := range f.Arguments {
					once(a.Directives, map[string]bool{}, coord+"("+a.Name+":)")
				}
			}
			for _, v := range def.EnumValues {
				once(v.Directives, map[string]bool{}, def.Name+"."+v.Name)
			}
		}
	}
	return ok
}
