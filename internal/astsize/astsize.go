// Package astsize estimates the bytes of memory a parsed GraphQL document
// holds, for caches that charge their entries by the memory they keep
// alive: every node of the tree (operations, fragments, selections,
// arguments, values, directives, variable definitions, types) by the size
// of its struct, its position and the slice slot that points to it.
// Strings cut from the query text are not counted: the text is the
// caller's to count.
package astsize

import (
	"unsafe"

	"github.com/vektah/gqlparser/v2/ast"
)

// Document estimates the bytes doc holds beyond its query text.
func Document(doc *ast.QueryDocument) int64 {
	if doc == nil {
		return 0
	}
	n := int64(unsafe.Sizeof(*doc))
	for _, op := range doc.Operations {
		n += slot + int64(unsafe.Sizeof(*op)) + position
		n += Variables(op.VariableDefinitions)
		n += directivesSize(op.Directives)
		n += selectionSize(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		n += slot + int64(unsafe.Sizeof(*f)) + position
		n += Variables(f.VariableDefinition)
		n += directivesSize(f.Directives)
		n += selectionSize(f.SelectionSet)
	}
	return n
}

const (
	// slot is a pointer in a slice (the slice grows by doubling, so a
	// little more on average).
	slot = 12
	// position is a node's *ast.Position, a separate allocation.
	position = int64(unsafe.Sizeof(ast.Position{})) + 8
)

func selectionSize(set ast.SelectionSet) int64 {
	var n int64
	for _, sel := range set {
		n += 2 * slot // an interface value
		switch s := sel.(type) {
		case *ast.Field:
			n += int64(unsafe.Sizeof(*s)) + position
			n += Arguments(s.Arguments) + directivesSize(s.Directives) + selectionSize(s.SelectionSet)
		case *ast.FragmentSpread:
			n += int64(unsafe.Sizeof(*s)) + position + directivesSize(s.Directives)
		case *ast.InlineFragment:
			n += int64(unsafe.Sizeof(*s)) + position + directivesSize(s.Directives) + selectionSize(s.SelectionSet)
		}
	}
	return n
}

// Variables estimates the bytes of variable definitions.
func Variables(vars ast.VariableDefinitionList) int64 {
	var n int64
	for _, v := range vars {
		n += slot + int64(unsafe.Sizeof(*v)) + position
		n += typeSize(v.Type) + valueSize(v.DefaultValue) + directivesSize(v.Directives)
	}
	return n
}

func directivesSize(ds ast.DirectiveList) int64 {
	var n int64
	for _, d := range ds {
		n += slot + int64(unsafe.Sizeof(*d)) + position + Arguments(d.Arguments)
	}
	return n
}

// Arguments estimates the bytes of arguments and their values.
func Arguments(args ast.ArgumentList) int64 {
	var n int64
	for _, a := range args {
		n += slot + int64(unsafe.Sizeof(*a)) + position + valueSize(a.Value)
	}
	return n
}

func valueSize(v *ast.Value) int64 {
	if v == nil {
		return 0
	}
	n := int64(unsafe.Sizeof(*v)) + position
	for _, c := range v.Children {
		n += slot + int64(unsafe.Sizeof(*c)) + position + valueSize(c.Value)
	}
	return n
}

func typeSize(t *ast.Type) int64 {
	var n int64
	for ; t != nil; t = t.Elem {
		n += int64(unsafe.Sizeof(*t)) + position
	}
	return n
}
