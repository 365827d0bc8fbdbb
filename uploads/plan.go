package uploads

import (
	"strconv"

	"github.com/fedgate/gateway/planner"
	"github.com/vektah/gqlparser/v2/ast"
)

// builtinScalars can not take a file.
var builtinScalars = map[string]bool{"String": true, "Int": true, "Float": true, "Boolean": true, "ID": true}

// CheckTypes refuses map paths of op that do not lead to a custom scalar
// (the Upload scalar of the spec) through op's variable types in api.
func (u *Upload) CheckTypes(api *ast.Schema, op *ast.OperationDefinition) error {
	for _, f := range u.files {
		for _, path := range f.paths {
			segs, err := splitPath(path)
			if err != nil {
				return err
			}
			def := op.VariableDefinitions.ForName(segs[0])
			if def == nil {
				return badMap("map path %q of file %q names a variable the operation does not declare", clip(path, 128), clip(f.name, 64))
			}
			t := def.Type
			for _, seg := range segs[1:] {
				if t.Elem != nil {
					if _, err := strconv.Atoi(seg); err != nil {
						return badMap("map path %q of file %q does not fit the variable's type", clip(path, 128), clip(f.name, 64))
					}
					t = t.Elem
					continue
				}
				d := api.Types[t.NamedType]
				var field *ast.FieldDefinition
				if d != nil && d.Kind == ast.InputObject {
					field = d.Fields.ForName(seg)
				}
				if field == nil {
					return badMap("map path %q of file %q does not fit the variable's type", clip(path, 128), clip(f.name, 64))
				}
				t = field.Type
			}
			d := api.Types[t.NamedType]
			if t.Elem != nil || d == nil || d.Kind != ast.Scalar || builtinScalars[d.Name] {
				return badMap("map path %q of file %q must lead to an Upload scalar", clip(path, 128), clip(f.name, 64))
			}
		}
	}
	return nil
}

// Expect counts, for every file, the fetches of the plan rooted at root
// that will send it: those whose variables include the variable of one
// of its paths. A file no fetch sends is read and dropped.
func (u *Upload) Expect(root planner.Node) {
	planner.EachFetch(root, func(fetch *planner.Fetch) {
		for _, f := range u.files {
			if usesFile(fetch.VariableUsages, f) {
				f.refs.Add(1)
			}
		}
	})
}

func usesFile(usages []string, f *file) bool {
	for _, path := range f.paths {
		segs, err := splitPath(path)
		if err != nil {
			continue
		}
		for _, v := range usages {
			if v == segs[0] {
				return true
			}
		}
	}
	return false
}
