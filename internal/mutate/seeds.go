package mutate

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/fedgate/gateway/internal/opgen"
)

// maxSeedLen bounds the documents taken as seeds: tests also hold huge or
// pathological documents built to be refused, which are no client's.
const maxSeedLen = 4000

// Collect returns the executable GraphQL documents found in the files
// under the given roots (files or directories), sorted and without
// duplicates: .graphql files that parse as executable documents, graphql
// code blocks of Markdown files, and string literals of Go, TypeScript and
// JavaScript files (raw, quoted and template strings) that do. Directories
// named node_modules, vendor or starting with a dot are not entered.
func Collect(roots ...string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(text string) {
		text = strings.TrimSpace(text)
		if text == "" || len(text) > maxSeedLen || seen[text] || !executable(text) {
			return
		}
		seen[text] = true
		out = append(out, text)
	}
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				name := d.Name()
				if path != root && (name == "node_modules" || name == "vendor" || strings.HasPrefix(name, ".")) {
					return filepath.SkipDir
				}
				return nil
			}
			ext := filepath.Ext(path)
			switch ext {
			case ".graphql", ".gql", ".md", ".go", ".ts", ".js", ".mjs":
			default:
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, text := range candidates(ext, string(b)) {
				add(text)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

var (
	mdBlock   = regexp.MustCompile("(?s)```graphql\\s*\n(.*?)```")
	backticks = regexp.MustCompile("(?s)`([^`]*)`")
	quoted    = regexp.MustCompile(`"((?:[^"\\\n]|\\.)*)"`)
)

// candidates returns the texts of a file that may be GraphQL documents.
func candidates(ext, text string) []string {
	switch ext {
	case ".graphql", ".gql":
		return []string{text}
	case ".md":
		var out []string
		for _, m := range mdBlock.FindAllStringSubmatch(text, -1) {
			out = append(out, m[1])
		}
		return out
	}
	var out []string
	for _, m := range backticks.FindAllStringSubmatch(text, -1) {
		if !strings.Contains(m[1], "${") {
			out = append(out, m[1])
		}
	}
	for _, m := range quoted.FindAllStringSubmatch(text, -1) {
		if s, err := strconv.Unquote(`"` + m[1] + `"`); err == nil {
			out = append(out, s)
		}
	}
	return out
}

// executable reports whether text looks like and parses as a GraphQL
// document with at least one operation.
func executable(text string) bool {
	t := strings.TrimLeft(text, " \t\r\n")
	for strings.HasPrefix(t, "#") {
		_, t, _ = strings.Cut(t, "\n")
		t = strings.TrimLeft(t, " \t\r\n")
	}
	if !(strings.HasPrefix(t, "{") || strings.HasPrefix(t, "query") || strings.HasPrefix(t, "mutation") || strings.HasPrefix(t, "fragment")) {
		return false
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: text})
	return err == nil && len(doc.Operations) > 0
}

// ForSchema returns the operations of docs that are valid against schema
// (with the gateway's rules, Validate), one operation per seed with
// the fragments it uses: queries, and mutations when mutations is true.
// Variables without a default that the operation needs get a value of
// their type (Value); the others are not sent. Seeds come back in a fixed
// order without duplicates.
func ForSchema(schema *ast.Schema, docs []string, mutations bool) []opgen.Operation {
	seen := map[string]bool{}
	var out []opgen.Operation
	for _, text := range docs {
		doc, err := parser.ParseQuery(&ast.Source{Input: text})
		if err != nil {
			continue
		}
		for _, op := range doc.Operations {
			root := schema.Query
			switch op.Operation {
			case ast.Mutation:
				if !mutations {
					continue
				}
				root = schema.Mutation
			case ast.Subscription:
				continue
			}
			if root == nil || !rootFieldsExist(root, doc, op.SelectionSet, 0) || introspects(doc, op) {
				continue
			}
			single := &ast.QueryDocument{Operations: ast.OperationList{op}, Fragments: opgen.UsedFragments(doc, op.SelectionSet)}
			cand := opgen.Operation{Query: opgen.Print(single), OperationName: op.Name, Variables: map[string]any{}}
			for _, v := range op.VariableDefinitions {
				if v.DefaultValue == nil && v.Type.NonNull {
					cand.Variables[v.Variable] = Value(schema, v.Type, 0)
				}
			}
			if seen[cand.Query] || Validate(schema, cand) != nil {
				continue
			}
			seen[cand.Query] = true
			out = append(out, cand)
		}
	}
	return out
}

// rootFieldsExist is a quick filter before validation: every field of the
// root selection (fragments followed) is a field of root.
func rootFieldsExist(root *ast.Definition, doc *ast.QueryDocument, set ast.SelectionSet, depth int) bool {
	if depth > 8 {
		return false
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if !strings.HasPrefix(s.Name, "__") && root.Fields.ForName(s.Name) == nil {
				return false
			}
		case *ast.InlineFragment:
			if !rootFieldsExist(root, doc, s.SelectionSet, depth+1) {
				return false
			}
		case *ast.FragmentSpread:
			f := doc.Fragments.ForName(s.Name)
			if f == nil || !rootFieldsExist(root, doc, f.SelectionSet, depth+1) {
				return false
			}
		}
	}
	return true
}

// introspects reports whether op (with its fragments) asks __schema or
// __type: the references order introspection answers differently from
// each other (docs/differential.md), so such seeds tell little.
func introspects(doc *ast.QueryDocument, op *ast.OperationDefinition) bool {
	single := &ast.QueryDocument{Operations: ast.OperationList{op}, Fragments: opgen.UsedFragments(doc, op.SelectionSet)}
	text := opgen.Print(single)
	return strings.Contains(text, "__schema") || strings.Contains(text, "__type(") || strings.Contains(text, "__type (")
}

// RootSeeds returns one operation per root field of schema (mutation
// fields too when mutations is true), as a client first writes it: the
// field with its required arguments, __typename and up to three leaf
// fields (on each possible type of an abstract type). They stand in for
// real operations where a graph has few.
func RootSeeds(schema *ast.Schema, mutations bool) []opgen.Operation {
	var out []opgen.Operation
	roots := []*ast.Definition{schema.Query}
	if mutations && schema.Mutation != nil {
		roots = append(roots, schema.Mutation)
	}
	for i, root := range roots {
		if root == nil {
			continue
		}
		for _, fd := range root.Fields {
			if strings.HasPrefix(fd.Name, "__") {
				continue
			}
			f := &ast.Field{Name: fd.Name, Alias: fd.Name}
			for _, a := range fd.Arguments {
				if a.Type.NonNull && a.DefaultValue == nil {
					f.Arguments = append(f.Arguments, &ast.Argument{Name: a.Name, Value: Literal(schema, a.Type)})
				}
			}
			if t := schema.Types[fd.Type.Name()]; t != nil && t.IsCompositeType() {
				f.SelectionSet = ast.SelectionSet{&ast.Field{Name: "__typename", Alias: "__typename"}}
				if t.Kind == ast.Object {
					f.SelectionSet = append(f.SelectionSet, leaves(schema, t, 3)...)
				} else {
					for _, p := range schema.GetPossibleTypes(t) {
						if l := leaves(schema, p, 1); len(l) > 0 {
							f.SelectionSet = append(f.SelectionSet, &ast.InlineFragment{TypeCondition: p.Name, SelectionSet: l})
						}
					}
				}
			}
			kind := ast.Query
			if i == 1 {
				kind = ast.Mutation
			}
			doc := &ast.QueryDocument{Operations: ast.OperationList{{Operation: kind, SelectionSet: ast.SelectionSet{f}}}}
			op := opgen.Operation{Query: opgen.Print(doc), Variables: map[string]any{}}
			if Validate(schema, op) == nil {
				out = append(out, op)
			}
		}
	}
	return out
}

// leaves returns up to n leaf fields of t without required arguments.
func leaves(schema *ast.Schema, t *ast.Definition, n int) ast.SelectionSet {
	var out ast.SelectionSet
	for _, fd := range t.Fields {
		ft := schema.Types[fd.Type.Name()]
		if len(out) == n || ft == nil || ft.IsCompositeType() || hasRequiredArgs(fd) || strings.HasPrefix(fd.Name, "__") {
			continue
		}
		out = append(out, &ast.Field{Name: fd.Name, Alias: fd.Name})
	}
	return out
}
