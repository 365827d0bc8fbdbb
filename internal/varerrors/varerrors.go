// Package varerrors describes why a request's variable values cannot be
// coerced to the operation's variable types (spec 6.1.2,
// CoerceVariableValues) in the words and locations graphql-js uses, which
// both reference gateways (Apollo Gateway, Hive Gateway) answer with. The
// gateway's coercion (gqlparser's, and its own checks) decides whether the
// values are refused; this package only words the refusal.
package varerrors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/core"
)

// Error is one coercion error: its message and the location of the
// variable's definition.
type Error struct {
	Message      string
	Line, Column int
}

// maxErrors bounds the errors listed, as graphql-js's execute does (50);
// one more ends the list with tooMany, and the values are read no
// further (a list of a million wrong items costs fifty messages).
const maxErrors = 50

// tooMany is graphql-js's last error when the variables have more than
// maxErrors problems.
const tooMany = "Too many errors processing variables, error limit reached. Execution aborted."

// Explain returns the coercion errors of vars (decoded JSON: float64,
// string, bool, nil, []any, map[string]any) for op's variable
// definitions, in definition order; none when graphql-js would accept
// them (then the caller keeps its own message). With hideSuggestions the
// messages end without graphql-js's "Did you mean ...?" (names of the
// schema close to what the client sent).
func Explain(schema *ast.Schema, op *ast.OperationDefinition, vars map[string]any, hideSuggestions bool) []Error {
	var out []Error
	overflow := false
	for _, def := range op.VariableDefinitions {
		if overflow {
			break
		}
		at := func(msg string) {
			if len(out) >= maxErrors {
				overflow = true
				return
			}
			e := Error{Message: msg}
			if def.Position != nil {
				e.Line, e.Column = def.Position.Line, def.Position.Column
			}
			out = append(out, e)
		}
		v, given := vars[def.Variable]
		typ := def.Type.String()
		switch {
		case !given:
			if def.DefaultValue == nil && def.Type.NonNull {
				at(fmt.Sprintf("Variable \"$%s\" of required type \"%s\" was not provided.", def.Variable, typ))
			}
			continue
		case v == nil:
			if def.Type.NonNull {
				at(fmt.Sprintf("Variable \"$%s\" of non-null type \"%s\" must not be null.", def.Variable, typ))
			}
			continue
		}
		c := coercer{schema: schema, hideSuggestions: hideSuggestions, room: maxErrors - len(out)}
		c.value(def.Type, v, nil)
		overflow = c.room < 0
		for _, p := range c.problems {
			prefix := fmt.Sprintf("Variable \"$%s\" got invalid value %s", def.Variable, p.shown)
			if len(p.path) > 0 {
				prefix += fmt.Sprintf(" at \"%s%s\"", def.Variable, printPath(p.path))
			}
			at(prefix + "; " + p.message)
		}
	}
	if overflow {
		out = append(out, Error{Message: tooMany})
	}
	return out
}

// problem is one value inside a variable that does not coerce.
type problem struct {
	path    []any  // field names and list indices below the variable
	shown   string // the value as graphql-js's inspect prints it, at most maxShown bytes
	message string
}

// maxShown bounds the printed value in one message. graphql-js prints the
// whole value; an input object of a 2 MiB body with 50 unknown fields
// printed whole in each of its 50 errors made 90 MB of messages.
const maxShown = 1024

// shorten cuts s to at most maxShown bytes, at a character's start, and
// marks the cut.
func shorten(s string) string {
	if len(s) <= maxShown {
		return s
	}
	n := maxShown
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

type coercer struct {
	schema          *ast.Schema
	hideSuggestions bool
	problems        []problem
	// room is the problems still listed; below 0, one more was found and
	// the walk stops.
	room int
	// lastObject and lastShown keep the input object printed last: its
	// problems (unknown or missing fields) are added one after another,
	// and it is printed once for all of them.
	lastObject map[string]any
	lastShown  string
}

// show prints v for a problem's message, at most maxShown bytes.
func (c *coercer) show(v any) string {
	obj, ok := v.(map[string]any)
	if !ok {
		return shorten(Inspect(v))
	}
	if c.lastObject != nil && len(obj) == len(c.lastObject) && reflect.ValueOf(obj).UnsafePointer() == reflect.ValueOf(c.lastObject).UnsafePointer() {
		return c.lastShown
	}
	c.lastObject, c.lastShown = obj, shorten(Inspect(v))
	return c.lastShown
}

// didYouMean is graphql-js's suggestion for typed among options (gqlparser
// ports its suggestion list), "" for none or with hideSuggestions.
func (c *coercer) didYouMean(what, typed string, options []string) string {
	if c.hideSuggestions {
		return ""
	}
	// A name further in length from an option than graphql-js's
	// threshold cannot be within it, and graphql-js skips it so; the
	// distance costs the product of the lengths, and a hostile caller
	// controls the typed name's (a key of a megabyte).
	threshold := len(typed)*2/5 + 1
	near := make([]string, 0, len(options))
	for _, o := range options {
		if d := len(o) - len(typed); d <= threshold && -d <= threshold {
			near = append(near, o)
		}
	}
	s := core.SuggestionList(typed, near)
	if len(s) == 0 {
		return ""
	}
	if what != "" {
		what += " "
	}
	return " Did you mean " + what + core.QuotedOrList(s...) + "?"
}

func (c *coercer) add(path []any, v any, msg string) {
	c.room--
	if c.room < 0 {
		return
	}
	c.problems = append(c.problems, problem{path: append([]any(nil), path...), shown: c.show(v), message: msg})
}

// value follows graphql-js's coerceInputValue: it records every problem.
func (c *coercer) value(t *ast.Type, v any, path []any) {
	if len(path) > 64 || c.room < 0 {
		return
	}
	if t.NonNull && v == nil {
		c.add(path, v, fmt.Sprintf("Expected non-nullable type \"%s\" not to be null.", t.String()))
		return
	}
	if v == nil {
		return
	}
	if t.Elem != nil {
		list, ok := v.([]any)
		if !ok {
			c.value(t.Elem, v, path) // a single value stands for a list of one
			return
		}
		for i, item := range list {
			c.value(t.Elem, item, append(path, i))
		}
		return
	}
	def := c.schema.Types[t.NamedType]
	if def == nil {
		return
	}
	switch def.Kind {
	case ast.InputObject:
		obj, ok := v.(map[string]any)
		if !ok {
			c.add(path, v, fmt.Sprintf("Expected type \"%s\" to be an object.", def.Name))
			return
		}
		for _, f := range def.Fields {
			fv, given := obj[f.Name]
			if !given {
				if f.DefaultValue == nil && f.Type.NonNull {
					c.add(path, v, fmt.Sprintf("Field \"%s\" of required type \"%s\" was not provided.", f.Name, f.Type.String()))
				}
				continue
			}
			c.value(f.Type, fv, append(path, f.Name))
		}
		var unknown []string
		for name := range obj {
			if def.Fields.ForName(name) == nil {
				unknown = append(unknown, name)
			}
		}
		sort.Strings(unknown) // JSON member order is not kept by the decoding
		fields := make([]string, len(def.Fields))
		for i, f := range def.Fields {
			fields[i] = f.Name
		}
		for _, name := range unknown {
			c.add(path, v, fmt.Sprintf("Field \"%s\" is not defined by type \"%s\".", name, def.Name)+c.didYouMean("", name, fields))
		}
	case ast.Enum:
		s, ok := v.(string)
		if !ok {
			c.add(path, v, fmt.Sprintf("Enum \"%s\" cannot represent non-string value: %s.", def.Name, Inspect(v)))
			return
		}
		if def.EnumValues.ForName(s) == nil {
			values := make([]string, len(def.EnumValues))
			for i, e := range def.EnumValues {
				values[i] = e.Name
			}
			c.add(path, v, fmt.Sprintf("Value %s does not exist in \"%s\" enum.", Inspect(v), def.Name)+c.didYouMean("the enum value", s, values))
		}
	case ast.Scalar:
		if msg := scalar(def.Name, v); msg != "" {
			c.add(path, v, msg)
		}
	}
}

// scalar is graphql-js's parseValue error of a built-in scalar, "" when
// it accepts v (custom scalars accept any value).
func scalar(name string, v any) string {
	f, isNum := v.(float64)
	switch name {
	case "Int":
		if !isNum || f != math.Trunc(f) || math.IsInf(f, 0) {
			return "Int cannot represent non-integer value: " + Inspect(v)
		}
		if f > math.MaxInt32 || f < math.MinInt32 {
			return "Int cannot represent non 32-bit signed integer value: " + Inspect(v)
		}
	case "Float":
		if !isNum {
			return "Float cannot represent non numeric value: " + Inspect(v)
		}
	case "String":
		if _, ok := v.(string); !ok {
			return "String cannot represent a non string value: " + Inspect(v)
		}
	case "Boolean":
		if _, ok := v.(bool); !ok {
			return "Boolean cannot represent a non boolean value: " + Inspect(v)
		}
	case "ID":
		if _, ok := v.(string); ok {
			return ""
		}
		if !isNum || f != math.Trunc(f) {
			return "ID cannot represent value: " + Inspect(v)
		}
	}
	return ""
}

// printPath prints a path below a variable as graphql-js does: ".name"
// for a field, "[i]" for a list index.
func printPath(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch p := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", p)
		default:
			fmt.Fprintf(&b, ".%v", p)
		}
	}
	return b.String()
}

// Inspect prints a decoded JSON value as graphql-js's inspect does:
// strings JSON-quoted, numbers as JavaScript prints them, lists
// "[1, 2]", objects "{ a: 1 }", nested beyond two levels "[Array]" and
// "[Object]", lists of more than ten items cut with "... N more items".
func Inspect(v any) string { return inspect(v, 0) }

func inspect(v any, depth int) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return jsonString(v)
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return jsNumber(v)
	case []any:
		if len(v) == 0 {
			return "[]"
		}
		if depth >= 2 {
			return "[Array]"
		}
		n := min(len(v), 10)
		parts := make([]string, 0, n+1)
		for _, item := range v[:n] {
			parts = append(parts, inspect(item, depth+1))
		}
		if rest := len(v) - n; rest == 1 {
			parts = append(parts, "... 1 more item")
		} else if rest > 1 {
			parts = append(parts, fmt.Sprintf("... %d more items", rest))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		if len(v) == 0 {
			return "{}"
		}
		if depth >= 2 {
			return "[Object]"
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, k+": "+inspect(v[k], depth+1))
		}
		return "{ " + strings.Join(parts, ", ") + " }"
	}
	return fmt.Sprint(v)
}

// jsonString quotes s as JSON.stringify does (no HTML escapes).
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// jsNumber prints f as JavaScript's Number.prototype.toString does.
func jsNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	abs := math.Abs(f)
	if abs >= 1e21 || abs < 1e-6 {
		s := strconv.FormatFloat(f, 'e', -1, 64) // 1e+21, 1.5e-07
		mant, exp, _ := strings.Cut(s, "e")
		sign := exp[0]
		exp = strings.TrimLeft(exp[1:], "0")
		return mant + "e" + string(sign) + exp
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
