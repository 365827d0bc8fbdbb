package mutate

import (
	"slices"
	"strconv"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/fedgate/gateway/internal/opgen"
)

// transform is one rewrite a client might make. fn edits the rewrite's
// document in place and reports whether it changed anything; the caller
// validates the result and drops it when invalid.
type transform struct {
	name string
	fn   func(*rewrite) bool
}

// transforms lists every transformation; Generate draws from it.
var transforms = []transform{
	{"alias", aliasField},
	{"twice", fieldTwice},
	{"fragment", splitFragment},
	{"spread-again", spreadAgain},
	{"condition", addCondition},
	{"variable", toVariable},
	{"typename", addTypename},
	{"operations", moreOperations},
	{"shuffle", shuffle},
	{"chain", entityChain},
	{"defer", deferSome},
	{"inline-spread", inlineSpread},
	{"complement", complement},
}

// TransformNames lists the transformations' names, as Generate writes them
// in the comment that starts a generated document.
func TransformNames() []string {
	var out []string
	for _, t := range transforms {
		out = append(out, t.name)
	}
	return out
}

// insert puts sel at a random position of set.
func (m *rewrite) insert(set *ast.SelectionSet, sel ast.Selection) {
	i := m.r.IntN(len(*set) + 1)
	*set = slices.Insert(*set, i, sel)
}

// aliasField gives a field an alias: a fresh name, the name of another
// field of its type, a key or @requires field's name, or a name near
// __typename.
func aliasField(m *rewrite) bool {
	fs, ok := m.pickField(nil)
	if !ok {
		return false
	}
	names := []string{m.fresh("a"), "__typename", "typename", "_typename", "__typename_", "id", "__typenam"}
	if fs.in.typ != nil {
		for _, f := range fs.in.typ.Fields {
			if f.Name != fs.field.Name {
				names = append(names, f.Name)
			}
		}
		names = append(names, m.g.hints.AliasNames[fs.in.typ.Name]...)
	}
	fs.field.Alias = names[m.r.IntN(len(names))]
	return true
}

// fieldTwice selects a field once more next to itself: under another
// alias (its arguments changed or not, its sub-selection cut or not), or
// under its own response key with another sub-selection (fields merged).
func fieldTwice(m *rewrite) bool {
	fs, ok := m.pickField(nil)
	if !ok {
		return false
	}
	c := copySelection(fs.field).(*ast.Field)
	if m.r.IntN(4) > 0 && !m.preserve {
		c.Alias = m.fresh("t")
		if len(c.Arguments) > 0 && fs.field.Definition != nil && m.r.IntN(3) > 0 {
			a := c.Arguments[m.r.IntN(len(c.Arguments))]
			if def := fs.field.Definition.Arguments.ForName(a.Name); def != nil {
				changeValue(m, def.Type, a.Value)
			}
		}
	}
	if len(c.SelectionSet) > 1 && m.r.IntN(2) == 0 {
		i := m.r.IntN(len(c.SelectionSet))
		c.SelectionSet = slices.Delete(c.SelectionSet, i, i+1)
	}
	m.insert(fs.in.set, c)
	return true
}

// changeValue edits a literal in place to another value of typ.
func changeValue(m *rewrite, typ *ast.Type, v *ast.Value) {
	switch v.Kind {
	case ast.IntValue:
		if n, err := strconv.ParseInt(v.Raw, 10, 32); err == nil {
			v.Raw = strconv.FormatInt(n+1, 10)
		}
	case ast.FloatValue:
		v.Raw += "5"
	case ast.StringValue:
		if v.Raw == "1" || v.Raw == "" {
			v.Raw = "2"
		} else {
			v.Raw = "1"
		}
	case ast.BooleanValue:
		if v.Raw == "true" {
			v.Raw = "false"
		} else {
			v.Raw = "true"
		}
	case ast.EnumValue:
		if def := m.g.schema.Types[typ.Name()]; def != nil && len(def.EnumValues) > 0 {
			v.Raw = def.EnumValues[m.r.IntN(len(def.EnumValues))].Name
		}
	case ast.ListValue:
		if len(v.Children) > 0 {
			v.Children = v.Children[:len(v.Children)-1]
		} else if typ.Elem != nil {
			v.Children = append(v.Children, &ast.ChildValue{Value: Literal(m.g.schema, typ.Elem)})
		}
	case ast.ObjectValue:
		def := m.g.schema.Types[typ.Name()]
		if len(v.Children) > 0 && def != nil {
			c := v.Children[m.r.IntN(len(v.Children))]
			if fd := def.Fields.ForName(c.Name); fd != nil {
				changeValue(m, fd.Type, c.Value)
			}
		}
	}
}

// abstractsOf lists the interfaces an object type implements and the
// unions it belongs to.
func abstractsOf(schema *ast.Schema, t *ast.Definition) []string {
	if t.Kind != ast.Object {
		return nil
	}
	out := slices.Clone(t.Interfaces)
	for _, d := range schema.Types {
		if d.Kind == ast.Union && slices.Contains(d.Types, t.Name) {
			out = append(out, d.Name)
		}
	}
	slices.Sort(out)
	return out
}

// splitFragment moves or copies some selections of a set into a fragment:
// inline on the set's type, inline without a type condition, on an
// interface or union the type belongs to (nested inline fragments where
// needed), on each possible type of an abstract type, or a new named
// fragment spread where the selections were.
func splitFragment(m *rewrite) bool {
	s := m.pickSite(func(s *site) bool { return len(*s.set) > 0 })
	if s == nil {
		return false
	}
	var idx []int
	for i := range *s.set {
		if m.r.IntN(2) == 0 {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		idx = []int{m.r.IntN(len(*s.set))}
	}
	var sels ast.SelectionSet
	for _, i := range idx {
		sels = append(sels, copySelection((*s.set)[i]))
	}
	var frag ast.Selection
	switch k := m.r.IntN(5); {
	case k == 0:
		frag = &ast.InlineFragment{TypeCondition: s.typ.Name, SelectionSet: sels}
	case k == 1:
		frag = &ast.InlineFragment{SelectionSet: sels}
	case k == 2 && s.typ.Kind == ast.Object:
		abs := abstractsOf(m.g.schema, s.typ)
		if len(abs) == 0 {
			return false
		}
		a := abs[m.r.IntN(len(abs))]
		if m.r.IntN(2) == 0 {
			sels = ast.SelectionSet{&ast.InlineFragment{TypeCondition: s.typ.Name, SelectionSet: sels}}
		}
		frag = &ast.InlineFragment{TypeCondition: a, SelectionSet: sels}
	case k == 2:
		var each ast.SelectionSet
		for _, p := range m.g.schema.GetPossibleTypes(s.typ) {
			each = append(each, &ast.InlineFragment{TypeCondition: p.Name, SelectionSet: copySet(sels)})
		}
		if len(each) == 0 {
			return false
		}
		frag = &ast.InlineFragment{SelectionSet: each}
	default:
		cond := s.typ.Name
		if abs := abstractsOf(m.g.schema, s.typ); len(abs) > 0 && m.r.IntN(3) == 0 {
			cond = abs[m.r.IntN(len(abs))]
			sels = ast.SelectionSet{&ast.InlineFragment{TypeCondition: s.typ.Name, SelectionSet: sels}}
		}
		name := m.fresh("F")
		m.doc.Fragments = append(m.doc.Fragments, &ast.FragmentDefinition{Name: name, TypeCondition: cond, SelectionSet: sels})
		frag = &ast.FragmentSpread{Name: name}
	}
	if m.r.IntN(2) == 0 {
		// Moved: the selections now come through the fragment only.
		at := idx[0]
		for i := len(idx) - 1; i >= 0; i-- {
			*s.set = slices.Delete(*s.set, idx[i], idx[i]+1)
		}
		*s.set = slices.Insert(*s.set, at, frag)
		return true
	}
	m.insert(s.set, frag) // copied: the fragment overlaps the set
	return true
}

// spreadAgain spreads a named fragment once more, at a position whose
// type it can apply to (the same set or another depth); with no named
// fragment in the document (or sometimes anyway), it makes one of some
// selections of a set first, spread there and elsewhere.
func spreadAgain(m *rewrite) bool {
	if len(m.doc.Fragments) == 0 || m.r.IntN(3) == 0 {
		s := m.pickSite(func(s *site) bool { return len(*s.set) > 0 })
		if s == nil {
			return false
		}
		var sels ast.SelectionSet
		for _, sel := range *s.set {
			if m.r.IntN(2) == 0 {
				sels = append(sels, copySelection(sel))
			}
		}
		if len(sels) == 0 {
			sels = ast.SelectionSet{copySelection((*s.set)[0])}
		}
		f := &ast.FragmentDefinition{Name: m.fresh("S"), TypeCondition: s.typ.Name, SelectionSet: sels}
		m.doc.Fragments = append(m.doc.Fragments, f)
		m.insert(s.set, &ast.FragmentSpread{Name: f.Name})
		if other := m.pickSite(func(o *site) bool { return o != s && overlap(m.g.schema, o.typ, s.typ) }); other != nil {
			m.insert(other.set, &ast.FragmentSpread{Name: f.Name})
		}
		return true
	}
	f := m.doc.Fragments[m.r.IntN(len(m.doc.Fragments))]
	cond := m.g.schema.Types[f.TypeCondition]
	s := m.pickSite(func(s *site) bool { return cond != nil && overlap(m.g.schema, s.typ, cond) && s.frag != f })
	if s == nil {
		return false
	}
	m.insert(s.set, &ast.FragmentSpread{Name: f.Name})
	return true
}

// overlap reports whether some object type is possible for both a and b.
func overlap(schema *ast.Schema, a, b *ast.Definition) bool {
	for _, x := range schema.GetPossibleTypes(a) {
		for _, y := range schema.GetPossibleTypes(b) {
			if x.Name == y.Name {
				return true
			}
		}
	}
	return false
}

// addCondition puts @skip or @include (sometimes both) on a selection,
// with a literal or a variable: Boolean! sent true or false, or Boolean
// with a default, not sent, sent a value or (one in 40) sent null, a
// field error whose reference answers docs/differential.md lists.
func addCondition(m *rewrite) bool {
	s := m.pickSite(func(s *site) bool { return len(*s.set) > 0 })
	if s == nil {
		return false
	}
	sel := (*s.set)[m.r.IntN(len(*s.set))]
	var dirs *ast.DirectiveList
	switch x := sel.(type) {
	case *ast.Field:
		dirs = &x.Directives
	case *ast.InlineFragment:
		dirs = &x.Directives
	case *ast.FragmentSpread:
		dirs = &x.Directives
	}
	n := 1 + m.r.IntN(2)
	for i := 0; i < n; i++ {
		name := "include"
		if m.r.IntN(2) == 0 {
			name = "skip"
		}
		*dirs = append(*dirs, &ast.Directive{Name: name, Arguments: ast.ArgumentList{{Name: "if", Value: m.condition(name == "include")}}})
	}
	return true
}

// condition returns a Boolean literal or a new variable for an if:
// argument; with preserve, one whose value is keep.
func (m *rewrite) condition(keep bool) *ast.Value {
	b := m.r.IntN(2) == 0
	if m.preserve {
		b = keep
	}
	lit := &ast.Value{Kind: ast.BooleanValue, Raw: strconv.FormatBool(b)}
	if m.r.IntN(3) == 0 {
		return lit
	}
	name := m.fresh("c")
	def := &ast.VariableDefinition{Variable: name, Type: ast.NonNullNamedType("Boolean", nil)}
	k := m.r.IntN(40)
	if m.preserve {
		k %= 20
	}
	switch {
	case k < 12:
		m.vars[name] = b
	case k < 20:
		def.Type = ast.NamedType("Boolean", nil)
		def.DefaultValue = lit
	case k < 39:
		def.Type = ast.NamedType("Boolean", nil)
		def.DefaultValue = &ast.Value{Kind: ast.BooleanValue, Raw: strconv.FormatBool(!b)}
		m.vars[name] = b
	default:
		// An explicit null over the default: a field error where the
		// condition is evaluated (spec 6.4.1).
		def.Type = ast.NamedType("Boolean", nil)
		def.DefaultValue = lit
		m.vars[name] = nil
	}
	m.op.VariableDefinitions = append(m.op.VariableDefinitions, def)
	return &ast.Value{Kind: ast.Variable, Raw: name}
}

// literalSite is a literal in an argument of a field: the value, its
// type and where to put a variable in its place.
type literalSite struct {
	value *ast.Value
	typ   *ast.Type
	set   func(*ast.Value)
	// defaulted: the position (an argument or input object field) has a
	// default of its own, so a nullable variable may stand in it even
	// when its type is non-null (spec 5.8.5).
	defaulted bool
}

// toVariable moves a literal argument (or a value inside a list or input
// object literal) to a new variable: declared with the position's type or
// another allowed one (non-null for a nullable position, nullable with a
// default for a non-null one), with or without the literal as its
// default, sent the value, not sent, sent one item for a list, or
// (rarely) sent null over a default. A non-null position with a default
// of its own sometimes takes a nullable variable without a default
// (spec 5.8.5): sent the value, or, unless the rewrite must keep the
// answer, left out (the position's default) or sent null (a field error).
func toVariable(m *rewrite) bool {
	var cands []literalSite
	for _, fs := range m.fields {
		if fs.field.Definition == nil {
			continue
		}
		for _, a := range fs.field.Arguments {
			def := fs.field.Definition.Arguments.ForName(a.Name)
			if def == nil {
				continue
			}
			a := a
			n := len(cands)
			cands = m.literals(cands, a.Value, def.Type, func(v *ast.Value) { a.Value = v })
			if n < len(cands) && def.DefaultValue != nil {
				cands[n].defaulted = true
			}
		}
	}
	if len(cands) == 0 {
		return false
	}
	c := cands[m.r.IntN(len(cands))]
	val, ok := toJSON(c.value)
	if !ok {
		return false
	}
	name := m.fresh("v")
	typ := copyType(c.typ)
	def := &ast.VariableDefinition{Variable: name, Type: typ}
	if c.defaulted && typ.NonNull && m.r.IntN(3) == 0 {
		// Drawn only at such positions, so rewrites elsewhere stay
		// those of a seed before this case was added.
		typ.NonNull = false
		switch k := m.r.IntN(3); {
		case k == 0 || m.preserve:
			m.vars[name] = val
		case k == 1:
			m.vars[name] = nil
		}
		m.op.VariableDefinitions = append(m.op.VariableDefinitions, def)
		c.set(&ast.Value{Kind: ast.Variable, Raw: name})
		return true
	}
	k := m.r.IntN(12)
	if m.preserve && k == 11 {
		k = 0 // no null over the default
	}
	switch {
	case k < 3:
		m.vars[name] = val
	case k < 5:
		def.DefaultValue = copyValue(c.value)
	case k < 7:
		def.DefaultValue = copyValue(c.value)
		m.vars[name] = val
	case k < 9 && !typ.NonNull:
		typ.NonNull = true
		m.vars[name] = val
	case k < 9 && c.value.Kind != ast.NullValue:
		typ.NonNull = false
		def.DefaultValue = copyValue(c.value)
		if m.r.IntN(2) == 0 {
			m.vars[name] = val
		}
	case k < 11:
		list, isList := val.([]any)
		if typ.Elem == nil || !isList || len(list) != 1 {
			m.vars[name] = val
			break
		}
		m.vars[name] = list[0] // one item where a list is expected
	default:
		if typ.NonNull {
			m.vars[name] = val
			break
		}
		def.DefaultValue = copyValue(c.value)
		m.vars[name] = nil
	}
	m.op.VariableDefinitions = append(m.op.VariableDefinitions, def)
	c.set(&ast.Value{Kind: ast.Variable, Raw: name})
	return true
}

// literals adds v and the values inside it (list items, input object
// fields) that hold no variable to cands.
func (m *rewrite) literals(cands []literalSite, v *ast.Value, typ *ast.Type, set func(*ast.Value)) []literalSite {
	if v == nil || typ == nil {
		return cands
	}
	if _, ok := toJSON(v); ok {
		cands = append(cands, literalSite{value: v, typ: typ, set: set})
	}
	switch v.Kind {
	case ast.ListValue:
		if typ.Elem == nil {
			return cands
		}
		for _, c := range v.Children {
			c := c
			cands = m.literals(cands, c.Value, typ.Elem, func(x *ast.Value) { c.Value = x })
		}
	case ast.ObjectValue:
		def := m.g.schema.Types[typ.Name()]
		if def == nil {
			return cands
		}
		for _, c := range v.Children {
			if fd := def.Fields.ForName(c.Name); fd != nil {
				c := c
				n := len(cands)
				cands = m.literals(cands, c.Value, fd.Type, func(x *ast.Value) { c.Value = x })
				if n < len(cands) && fd.DefaultValue != nil {
					cands[n].defaulted = true
				}
			}
		}
	}
	return cands
}

func copyType(t *ast.Type) *ast.Type {
	if t == nil {
		return nil
	}
	return &ast.Type{NamedType: t.NamedType, Elem: copyType(t.Elem), NonNull: t.NonNull}
}

// addedPrefix starts the aliases of the __typename fields Equivalent
// adds: fresh names followed by a number.
const addedPrefix = "added__typename"

// addTypename selects __typename in a set, aliased or not; with preserve,
// under a fresh alias starting with addedPrefix.
func addTypename(m *rewrite) bool {
	s := m.pickSite(nil)
	if s == nil {
		return false
	}
	f := &ast.Field{Name: "__typename", Alias: "__typename"}
	if m.preserve {
		// A key of its own, which the comparison leaves out (Added).
		f.Alias = m.fresh(addedPrefix)
		m.insert(s.set, f)
		return true
	}
	switch m.r.IntN(5) {
	case 0:
		f.Alias = m.fresh("tn")
	case 1:
		f.Alias = "typename"
	case 2:
		if len(s.typ.Fields) > 0 {
			f.Alias = s.typ.Fields[m.r.IntN(len(s.typ.Fields))].Name
		}
	}
	m.insert(s.set, f)
	return true
}

// moreOperations makes the document hold several operations: a copy of
// the running one (its fields shuffled, one dropped sometimes; it spreads
// the same fragments), or another seed operation with its fragments
// renamed. operationName picks the running one or its copy.
func moreOperations(m *rewrite) bool {
	if len(m.doc.Operations) >= 4 {
		return false
	}
	if m.op.Name == "" {
		m.op.Name = m.fresh("Op")
		m.name = m.op.Name
	}
	if m.r.IntN(3) == 0 && len(m.g.seeds) > 1 {
		return m.otherSeed()
	}
	c := &ast.OperationDefinition{Operation: m.op.Operation, Name: m.fresh("Op"), SelectionSet: copySet(m.op.SelectionSet)}
	for _, v := range m.op.VariableDefinitions {
		c.VariableDefinitions = append(c.VariableDefinitions, &ast.VariableDefinition{Variable: v.Variable, Type: copyType(v.Type), DefaultValue: copyValue(v.DefaultValue)})
	}
	m.r.Shuffle(len(c.SelectionSet), func(i, j int) { c.SelectionSet[i], c.SelectionSet[j] = c.SelectionSet[j], c.SelectionSet[i] })
	if len(c.SelectionSet) > 1 && m.r.IntN(2) == 0 {
		c.SelectionSet = c.SelectionSet[1:]
	}
	at := m.r.IntN(len(m.doc.Operations) + 1)
	m.doc.Operations = slices.Insert(m.doc.Operations, at, c)
	if m.r.IntN(2) == 0 && !m.preserve {
		m.name = c.Name
	}
	return true
}

// otherSeed adds another seed operation, renamed, with its fragments
// renamed; the running operation stays the one that runs.
func (m *rewrite) otherSeed() bool {
	seed := m.g.seeds[m.r.IntN(len(m.g.seeds))]
	doc, err := parser.ParseQuery(&ast.Source{Input: seed.Query})
	if err != nil || len(doc.Operations) != 1 {
		return false
	}
	rename := map[string]string{}
	for _, f := range doc.Fragments {
		rename[f.Name] = m.fresh("G")
		f.Name = rename[f.Name]
		m.doc.Fragments = append(m.doc.Fragments, f)
	}
	renameSpreads(doc, rename)
	op := doc.Operations[0]
	op.Name = m.fresh("Op")
	m.doc.Operations = slices.Insert(m.doc.Operations, m.r.IntN(len(m.doc.Operations)+1), op)
	return true
}

func renameSpreads(doc *ast.QueryDocument, rename map[string]string) {
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				if n, ok := rename[s.Name]; ok {
					s.Name = n
				}
			}
		}
	}
	for _, o := range doc.Operations {
		walk(o.SelectionSet)
	}
	for _, f := range doc.Fragments {
		walk(f.SelectionSet)
	}
}

// shuffle reorders one selection set.
func shuffle(m *rewrite) bool {
	s := m.pickSite(func(s *site) bool { return len(*s.set) > 1 })
	if s == nil {
		return false
	}
	m.r.Shuffle(len(*s.set), func(i, j int) { (*s.set)[i], (*s.set)[j] = (*s.set)[j], (*s.set)[i] })
	return true
}

// entityChain selects a chain of composite fields (entity types first,
// going back and forth between types) 2 to 6 deep from a set, with a leaf
// field and __typename at each level.
func entityChain(m *rewrite) bool {
	s := m.pickSite(func(s *site) bool { return s.typ.Kind == ast.Object || s.typ.Kind == ast.Interface })
	if s == nil {
		return false
	}
	f := m.chain(s.typ, 2+m.r.IntN(5))
	if f == nil {
		return false
	}
	if m.r.IntN(3) == 0 {
		f.Alias = m.fresh("ch")
	}
	m.insert(s.set, f)
	return true
}

// chain returns a field of t leading left levels deep, or nil.
func (m *rewrite) chain(t *ast.Definition, left int) *ast.Field {
	if left == 0 || t == nil {
		return nil
	}
	var entities, others []*ast.FieldDefinition
	for _, fd := range t.Fields {
		ft := m.g.schema.Types[fd.Type.Name()]
		if ft == nil || !ft.IsCompositeType() || len(fd.Name) > 1 && fd.Name[:2] == "__" {
			continue
		}
		if m.g.hints.Entities[ft.Name] {
			entities = append(entities, fd)
		} else {
			others = append(others, fd)
		}
	}
	pool := entities
	if len(pool) == 0 || len(others) > 0 && m.r.IntN(4) == 0 {
		pool = others
	}
	if len(pool) == 0 {
		return nil
	}
	fd := pool[m.r.IntN(len(pool))]
	f := &ast.Field{Name: fd.Name, Alias: fd.Name}
	for _, a := range fd.Arguments {
		if a.Type.NonNull && a.DefaultValue == nil {
			f.Arguments = append(f.Arguments, &ast.Argument{Name: a.Name, Value: Literal(m.g.schema, a.Type)})
		}
	}
	ft := m.g.schema.Types[fd.Type.Name()]
	f.SelectionSet = ast.SelectionSet{&ast.Field{Name: "__typename", Alias: "__typename"}}
	next := ft
	if ft.Kind != ast.Object {
		possible := m.g.schema.GetPossibleTypes(ft)
		if len(possible) == 0 {
			return f
		}
		next = possible[m.r.IntN(len(possible))]
	}
	var leaves ast.SelectionSet
	for _, x := range next.Fields {
		xt := m.g.schema.Types[x.Type.Name()]
		if xt != nil && !xt.IsCompositeType() && !hasRequiredArgs(x) && x.Name[0] != '_' {
			leaves = append(leaves, &ast.Field{Name: x.Name, Alias: x.Name})
		}
	}
	if len(leaves) > 0 {
		f.SelectionSet = append(f.SelectionSet, leaves[m.r.IntN(len(leaves))])
	}
	if deeper := m.chain(next, left-1); deeper != nil {
		if next != ft {
			f.SelectionSet = append(f.SelectionSet, &ast.InlineFragment{TypeCondition: next.Name, SelectionSet: ast.SelectionSet{deeper}})
		} else {
			f.SelectionSet = append(f.SelectionSet, deeper)
		}
	}
	if next != ft && len(leaves) > 0 {
		// The leaf belongs to the possible type: move it into a fragment.
		leaf := f.SelectionSet[1]
		f.SelectionSet = slices.Delete(f.SelectionSet, 1, 2)
		f.SelectionSet = append(f.SelectionSet, &ast.InlineFragment{TypeCondition: next.Name, SelectionSet: ast.SelectionSet{leaf}})
	}
	return f
}

func hasRequiredArgs(fd *ast.FieldDefinition) bool {
	for _, a := range fd.Arguments {
		if a.Type.NonNull && a.DefaultValue == nil {
			return true
		}
	}
	return false
}

// deferSome moves some selections of a query's set into an inline
// fragment with @defer (with a label sometimes, on the set's type or
// without a type condition).
func deferSome(m *rewrite) bool {
	if m.op.Operation != ast.Query {
		return false
	}
	s := m.pickSite(func(s *site) bool { return len(*s.set) > 0 && s.frag == nil })
	if s == nil {
		return false
	}
	i := m.r.IntN(len(*s.set))
	j := i + 1 + m.r.IntN(len(*s.set)-i)
	moved := slices.Clone((*s.set)[i:j])
	d := &ast.Directive{Name: "defer"}
	if m.r.IntN(3) == 0 {
		d.Arguments = ast.ArgumentList{{Name: "label", Value: &ast.Value{Kind: ast.StringValue, Raw: m.fresh("d")}}}
	}
	frag := &ast.InlineFragment{Directives: ast.DirectiveList{d}, SelectionSet: moved}
	if m.r.IntN(2) == 0 {
		frag.TypeCondition = s.typ.Name
	}
	*s.set = slices.Replace(*s.set, i, j, ast.Selection(frag))
	return true
}

// inlineSpread replaces a named fragment spread by an inline fragment
// with the fragment's type condition, directives and a copy of its
// selections (a fragment no longer spread is dropped).
func inlineSpread(m *rewrite) bool {
	type spreadSite struct {
		set *ast.SelectionSet
		i   int
	}
	var cands []spreadSite
	for _, s := range m.sites {
		for i, sel := range *s.set {
			if _, ok := sel.(*ast.FragmentSpread); ok {
				cands = append(cands, spreadSite{s.set, i})
			}
		}
	}
	if len(cands) == 0 {
		return false
	}
	c := cands[m.r.IntN(len(cands))]
	spread := (*c.set)[c.i].(*ast.FragmentSpread)
	f := m.doc.Fragments.ForName(spread.Name)
	if f == nil {
		return false
	}
	(*c.set)[c.i] = &ast.InlineFragment{TypeCondition: f.TypeCondition, Directives: copyDirectives(spread.Directives), SelectionSet: copySet(f.SelectionSet)}
	used := map[string]bool{}
	for _, o := range m.doc.Operations {
		for _, u := range opgen.UsedFragments(m.doc, o.SelectionSet) {
			used[u.Name] = true
		}
	}
	m.doc.Fragments = slices.DeleteFunc(m.doc.Fragments, func(d *ast.FragmentDefinition) bool { return !used[d.Name] })
	return true
}

// complement selects a field once more under its response key and
// arguments in a fragment, and makes the two occurrences exclusive on one
// condition: @include(if: $c) on the field, @skip(if: $c) on the copy or
// on the fragment holding it (or the other way round), so which one runs
// follows the variable. The fragment is inline on the set's type, without
// a type condition, on an interface or union the type belongs to (the copy
// inside a fragment on the type) or a named fragment. With preserve the
// copy keeps the field's sub-selection, so exactly one of two equal
// selections runs and the answer is the seed's; without, the copy's
// sub-selection may lose a selection, so the variable decides which shape
// is answered, and its condition is sometimes a second variable, so both
// run (merged) or none.
func complement(m *rewrite) bool {
	fs, ok := m.pickField(func(f fieldSite) bool { return f.in.typ != nil && f.field.Name != "__typename" })
	if !ok {
		return false
	}
	c := copySelection(fs.field).(*ast.Field)
	if !m.preserve && len(c.SelectionSet) > 1 && m.r.IntN(2) == 0 {
		i := m.r.IntN(len(c.SelectionSet))
		c.SelectionSet = slices.Delete(c.SelectionSet, i, i+1)
	}
	// A variable: a literal pair (true and true) would leave one of them
	// out by a literal, which Equivalent's callers read as a rewrite
	// that drops a selection.
	v := m.condition(m.r.IntN(2) == 0)
	for v.Kind != ast.Variable {
		v = m.condition(v.Raw == "true")
	}
	other := &ast.Value{Kind: ast.Variable, Raw: v.Raw}
	if !m.preserve && m.r.IntN(4) == 0 {
		other = m.condition(m.r.IntN(2) == 0)
	}
	first, second := "include", "skip"
	if m.r.IntN(2) == 0 {
		first, second = second, first
	}
	fs.field.Directives = append(fs.field.Directives, &ast.Directive{Name: first, Arguments: ast.ArgumentList{{Name: "if", Value: v}}})
	cond := &ast.Directive{Name: second, Arguments: ast.ArgumentList{{Name: "if", Value: other}}}
	onCopy := m.r.IntN(2) == 0
	if onCopy {
		c.Directives = append(c.Directives, cond)
	}
	sels := ast.SelectionSet{c}
	var frag ast.Selection
	switch k := m.r.IntN(4); {
	case k == 0:
		frag = &ast.InlineFragment{TypeCondition: fs.in.typ.Name, SelectionSet: sels}
	case k == 1:
		frag = &ast.InlineFragment{SelectionSet: sels}
	case k == 2 && fs.in.typ.Kind == ast.Object && len(abstractsOf(m.g.schema, fs.in.typ)) > 0:
		abs := abstractsOf(m.g.schema, fs.in.typ)
		inner := &ast.InlineFragment{TypeCondition: fs.in.typ.Name, SelectionSet: sels}
		frag = &ast.InlineFragment{TypeCondition: abs[m.r.IntN(len(abs))], SelectionSet: ast.SelectionSet{inner}}
	default:
		name := m.fresh("X")
		m.doc.Fragments = append(m.doc.Fragments, &ast.FragmentDefinition{Name: name, TypeCondition: fs.in.typ.Name, SelectionSet: sels})
		frag = &ast.FragmentSpread{Name: name}
	}
	if !onCopy {
		switch f := frag.(type) {
		case *ast.InlineFragment:
			f.Directives = append(f.Directives, cond)
		case *ast.FragmentSpread:
			f.Directives = append(f.Directives, cond)
		}
	}
	m.insert(fs.in.set, frag)
	return true
}
