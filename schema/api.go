package schema

import (
	"bytes"
	"fmt"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
)

// keptDirectives are the directive uses that survive into the API schema.
var keptDirectives = map[string]bool{"deprecated": true, "specifiedBy": true, "oneOf": true}

// preludeDirectives are defined by gqlparser's prelude and must not be
// defined twice.
var preludeDirectives = map[string]bool{
	"skip": true, "include": true, "deprecated": true, "specifiedBy": true, "oneOf": true, "defer": true,
}

// buildAPISchema derives the client-facing schema from the supergraph
// document: federation machinery and @inaccessible elements are removed.
func buildAPISchema(doc *ast.SchemaDocument, names specNames) (*ast.Schema, error) {
	hidden := map[string]bool{}
	isHidden := func(dirs ast.DirectiveList) bool {
		return names.inaccessible != "" && dirs.ForName(names.inaccessible) != nil
	}
	for _, def := range append(append(ast.DefinitionList{}, doc.Definitions...), doc.Extensions...) {
		if isMachinery(def.Name, names) || isHidden(def.Directives) {
			hidden[def.Name] = true
		}
	}
	out := &ast.SchemaDocument{}
	for _, sd := range doc.Schema {
		c := *sd
		c.Directives = nil
		out.Schema = append(out.Schema, &c)
	}
	for _, sd := range doc.SchemaExtension {
		c := *sd
		c.Directives = nil
		out.SchemaExtension = append(out.SchemaExtension, &c)
	}
	for _, dd := range doc.Directives {
		if preludeDirectives[dd.Name] || isMachinery(dd.Name, names) || !isExecutable(dd) {
			continue
		}
		out.Directives = append(out.Directives, dd)
	}
	filter := func(defs ast.DefinitionList) ast.DefinitionList {
		var kept ast.DefinitionList
		for _, def := range defs {
			if hidden[def.Name] {
				continue
			}
			kept = append(kept, apiDefinition(def, hidden, isHidden))
		}
		return kept
	}
	out.Definitions = filter(doc.Definitions)
	out.Extensions = filter(doc.Extensions)

	var buf bytes.Buffer
	formatter.NewFormatter(&buf).FormatSchemaDocument(out)
	api, err := gqlparser.LoadSchema(&ast.Source{Name: "api.graphql", Input: buf.String()})
	if err != nil {
		return nil, fmt.Errorf("supergraph: API schema: %s", describe(err))
	}
	return api, nil
}

func apiDefinition(def *ast.Definition, hidden map[string]bool, isHidden func(ast.DirectiveList) bool) *ast.Definition {
	c := *def
	c.Directives = keepDirectives(def.Directives)
	c.Fields = nil
	for _, f := range def.Fields {
		if isHidden(f.Directives) || hidden[f.Type.Name()] {
			continue
		}
		fc := *f
		fc.Directives = keepDirectives(f.Directives)
		fc.Arguments = nil
		for _, a := range f.Arguments {
			if isHidden(a.Directives) || hidden[a.Type.Name()] {
				continue
			}
			ac := *a
			ac.Directives = keepDirectives(a.Directives)
			fc.Arguments = append(fc.Arguments, &ac)
		}
		c.Fields = append(c.Fields, &fc)
	}
	c.EnumValues = nil
	for _, v := range def.EnumValues {
		if isHidden(v.Directives) {
			continue
		}
		vc := *v
		vc.Directives = keepDirectives(v.Directives)
		c.EnumValues = append(c.EnumValues, &vc)
	}
	c.Types = nil
	for _, m := range def.Types {
		if !hidden[m] {
			c.Types = append(c.Types, m)
		}
	}
	c.Interfaces = nil
	for _, i := range def.Interfaces {
		if !hidden[i] {
			c.Interfaces = append(c.Interfaces, i)
		}
	}
	return &c
}

// keepDirectives returns the directives of dirs the API schema keeps,
// without a @deprecated whose reason is null: graphql-js (Apollo Gateway,
// Hive) reads its deprecationReason as null, so the element is not
// deprecated (isDeprecated is deprecationReason != null), is listed
// without includeDeprecated, and printSchema leaves the directive out.
func keepDirectives(dirs ast.DirectiveList) ast.DirectiveList {
	var kept ast.DirectiveList
	for _, d := range dirs {
		if !keptDirectives[d.Name] {
			continue
		}
		if r := d.Arguments.ForName("reason"); d.Name == "deprecated" && r != nil && r.Value != nil && r.Value.Kind == ast.NullValue {
			continue
		}
		kept = append(kept, d)
	}
	return kept
}

func isExecutable(dd *ast.DirectiveDefinition) bool {
	for _, loc := range dd.Locations {
		switch loc {
		case ast.LocationQuery, ast.LocationMutation, ast.LocationSubscription, ast.LocationField,
			ast.LocationFragmentDefinition, ast.LocationFragmentSpread, ast.LocationInlineFragment,
			ast.LocationVariableDefinition:
			return true
		}
	}
	return false
}
