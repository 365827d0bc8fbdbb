package executor

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// integerText is graphql-js's test for an ID that prints as an Int, and
// for a number whose JavaScript text is an integer.
var integerText = regexp.MustCompile(`^-?(?:0|[1-9][0-9]*)$`)

// defaultPrinter prints a schema default value (an SDL literal) as
// graphql-js 16's __InputValue.defaultValue does, that is
// print(astFromValue(valueFromAST(literal, type), type)): input object
// fields in definition order with missing defaults filled in, a single
// item given to a list wrapped, numbers as JavaScript prints them, IDs
// that are integers unquoted. A literal of a custom scalar prints as
// written. A literal a built-in scalar does not accept (an Int beyond 32
// bits, a string for a Boolean) makes valueFromAST's value undefined, and
// the defaultValue null; an input field's own default that does not fit
// is left out where it would be filled in, as graphql-js leaves its
// undefined default out.
type defaultPrinter struct {
	schema *ast.Schema
	// filling holds the input fields whose own default is being filled in,
	// so that a default referring to its own type cannot recurse forever.
	filling map[*ast.FieldDefinition]bool
	// over is set once the text passes maxPrintedDefault: the printer
	// stops, and printDefault prints the literal as written.
	over *bool
	// invalid is set when a literal does not fit its built-in scalar.
	invalid *bool
}

// printDefault returns the text of default value v of an argument or
// input field of type t, and false where graphql-js's is null (a literal
// its type does not accept).
// Filled-in defaults can grow exponentially with the schema (input
// types whose defaulted fields are input objects with defaults of their
// own: 2^depth for a binary tree of them, n! for one type with n fields
// defaulting to {} of itself); a text that would pass maxPrintedDefault
// bytes is left as the schema writes it (its meaning is the same: the
// defaults are filled in when it is coerced).
func printDefault(schema *ast.Schema, v *ast.Value, t *ast.Type) (string, bool) {
	over, invalid := false, false
	p := defaultPrinter{schema: schema, filling: map[*ast.FieldDefinition]bool{}, over: &over, invalid: &invalid}
	var b bytes.Buffer
	p.value(&b, v, t)
	switch {
	case invalid:
		return "", false
	case over:
		return literal(v), true
	}
	return b.String(), true
}

func (p defaultPrinter) value(b *bytes.Buffer, v *ast.Value, t *ast.Type) {
	if *p.over || b.Len() > maxPrintedDefault {
		*p.over = true
		return
	}
	switch {
	case v.Kind == ast.NullValue:
		b.WriteString("null")
	case t.Elem != nil && v.Kind == ast.ListValue:
		b.WriteByte('[')
		for i, c := range v.Children {
			if i > 0 {
				b.WriteString(", ")
			}
			p.value(b, c.Value, t.Elem)
		}
		b.WriteByte(']')
	case t.Elem != nil:
		// Input coercion makes a list of one item given alone.
		b.WriteByte('[')
		p.value(b, v, t.Elem)
		b.WriteByte(']')
	default:
		p.named(b, v, p.schema.Types[t.NamedType])
	}
}

// named prints v as a value of the named type def.
func (p defaultPrinter) named(b *bytes.Buffer, v *ast.Value, def *ast.Definition) {
	switch {
	case def == nil:
	case def.Kind == ast.InputObject && v.Kind == ast.ObjectValue:
		p.object(b, v, def)
		return
	case def.Kind == ast.InputObject,
		def.Kind == ast.Enum && (v.Kind != ast.EnumValue || def.EnumValues.ForName(v.Raw) == nil):
		*p.invalid = true // not an object, not one of the enum's values
		return
	case def.Kind != ast.Scalar:
	case def.Name == "Float" && (v.Kind == ast.IntValue || v.Kind == ast.FloatValue):
		if f, err := strconv.ParseFloat(v.Raw, 64); err == nil {
			b.WriteString(jsNumber(f))
			return
		}
	case def.Name == "Int":
		n, err := strconv.ParseInt(v.Raw, 10, 32)
		if v.Kind != ast.IntValue || err != nil {
			// graphql-js's Int accepts 32-bit integers only.
			*p.invalid = true
			return
		}
		b.WriteString(strconv.FormatInt(n, 10)) // -0 prints as 0
		return
	case def.Name == "Float":
		*p.invalid = true // not a number
		return
	case def.Name == "ID" && (v.Kind == ast.StringValue || v.Kind == ast.BlockValue || v.Kind == ast.IntValue):
		if integerText.MatchString(v.Raw) {
			b.WriteString(v.Raw)
			return
		}
	case def.Name == "ID":
		*p.invalid = true
		return
	case def.Name == "String" && v.Kind != ast.StringValue && v.Kind != ast.BlockValue,
		def.Name == "Boolean" && v.Kind != ast.BooleanValue:
		*p.invalid = true
		return
	case def.Name == "String" || def.Name == "Boolean":
	default:
		// A custom scalar's printed value depends on its implementation
		// in graphql-js; print the literal.
		b.WriteString(literal(v))
		return
	}
	if v.Kind == ast.ObjectValue || v.Kind == ast.ListValue {
		b.WriteString(literal(v))
		return
	}
	// Strings print quoted and escaped as graphql-js's printString does
	// (a block string as a quoted one); enums, Booleans as written.
	b.WriteString(v.String())
}

// object prints input object literal v of type def: the type's fields in
// their definition order, a field the literal leaves out given its
// default if it has one and left out otherwise.
func (p defaultPrinter) object(b *bytes.Buffer, v *ast.Value, def *ast.Definition) {
	b.WriteByte('{')
	n := 0
	for _, f := range def.Fields {
		val := v.Children.ForName(f.Name)
		if val == nil {
			if f.DefaultValue == nil || p.filling[f] {
				continue
			}
			// The field's own default, printed apart: one its type does
			// not accept is no default (left out), not a bad literal.
			p.filling[f] = true
			fieldInvalid := false
			fp := p
			fp.invalid = &fieldInvalid
			mark := b.Len()
			if n > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f.Name)
			b.WriteString(": ")
			fp.value(b, f.DefaultValue, f.Type)
			delete(p.filling, f)
			if fieldInvalid {
				b.Truncate(mark)
				continue
			}
			n++
			continue
		}
		if n > 0 {
			b.WriteString(", ")
		}
		n++
		b.WriteString(f.Name)
		b.WriteString(": ")
		p.value(b, val, f.Type)
	}
	b.WriteByte('}')
}

// jsNumber formats a finite f as JavaScript's String(f) does: integers
// below 1e21 in full, other numbers in the shortest decimal that reads
// back as f, in exponent form below 1e-6 and from 1e21 on.
func jsNumber(f float64) string {
	if f == 0 {
		return "0"
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	mant, exp, _ := strings.Cut(strconv.FormatFloat(f, 'e', -1, 64), "e")
	digits := strings.Replace(mant, ".", "", 1)
	e, _ := strconv.Atoi(exp)
	k, n := len(digits), e+1 // f = 0.digits × 10^n
	switch {
	case k <= n && n <= 21:
		return sign + digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		return sign + digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		return sign + "0." + strings.Repeat("0", -n) + digits
	}
	out := digits[:1]
	if k > 1 {
		out += "." + digits[1:]
	}
	if e >= 0 {
		return sign + out + "e+" + strconv.Itoa(e)
	}
	return sign + out + "e" + strconv.Itoa(e)
}

// literal prints v as written, spaced as graphql-js prints values.
func literal(v *ast.Value) string {
	s := v.String()
	return *printValue(&s)
}

// maxPrintedDefault bounds the printed text of one default value
// (printDefault).
const maxPrintedDefault = 16 << 10
