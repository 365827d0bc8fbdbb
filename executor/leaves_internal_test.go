package executor

import (
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/fedgate/gateway/internal/jsonvalue"
	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2"
)

func parseLeaf(t *testing.T, p *jsonvalue.Parser, raw string) *jsonvalue.Value {
	t.Helper()
	v, err := p.Parse([]byte(raw))
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return v
}

// TestAppendJSNumber: numbers are written as JavaScript's
// Number.prototype.toString writes them (what graphql-js's ID serializer
// and JSON.stringify write), in plain notation for exponents from -7 to
// 20 and as d.ddde+x beyond.
func TestAppendJSNumber(t *testing.T) {
	cases := []struct {
		f    float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "0"}, {5, "5"}, {-5, "-5"}, {1000, "1000"}, {1.5, "1.5"},
		{123.456, "123.456"}, {1e20, "100000000000000000000"}, {1e21, "1e+21"}, {1.5e21, "1.5e+21"},
		{12345678901234567890, "12345678901234567000"}, {0.000001, "0.000001"}, {1e-7, "1e-7"},
		{1.25e-7, "1.25e-7"}, {-1.5e300, "-1.5e+300"}, {math.MaxFloat64, "1.7976931348623157e+308"},
		{2147483648, "2147483648"}, {0.1, "0.1"}, {123456789012345680000, "123456789012345680000"},
	}
	for _, c := range cases {
		if got := string(appendJSNumber(nil, c.f)); got != c.want {
			t.Errorf("%v: got %s, want %s", c.f, got, c.want)
		}
	}
}

// TestInspect: values in messages as graphql-js's inspect writes them.
func TestInspect(t *testing.T) {
	var p jsonvalue.Parser
	cases := []struct{ raw, want string }{
		{`"a\"b"`, `"a\"b"`}, {`12.50`, `12.50`}, {`true`, `true`}, {`null`, `null`},
		{`{}`, `{}`}, {`[]`, `[]`}, {`{"a":1,"b":[true,null]}`, `{ a: 1, b: [true, null] }`},
		{`[[[1]],[]]`, `[[[Array]], []]`}, {`{"a":{"b":{"c":1},"d":{}}}`, `{ a: { b: [Object], d: {} } }`},
		{`[{"a":[1]}]`, `[{ a: [Array] }]`},
		{`[1,2,3,4,5,6,7,8,9,10,11,12,13]`, `[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, ... 3 more items]`},
	}
	for _, c := range cases {
		if got := inspect(parseLeaf(t, &p, c.raw)); got != c.want {
			t.Errorf("%s: got %s, want %s", c.raw, got, c.want)
		}
	}
}

// TestInspectIsBounded: inspect looks at a bounded number of values and
// writes a bounded text, however wide, deep or long the value: a
// subgraph's answer where a scalar is due may be any of these.
func TestInspectIsBounded(t *testing.T) {
	var wide strings.Builder
	wide.WriteString(`{`)
	for i := 0; i < 100000; i++ {
		if i > 0 {
			wide.WriteByte(',')
		}
		wide.WriteString(`"k` + strconv.Itoa(i) + `":{"x":[1,2,3]}`)
	}
	wide.WriteString(`}`)
	values := map[string]string{
		"wide object": wide.String(),
		"long array":  `[` + strings.Repeat(`{"a":"b"},`, 100000) + `0]`,
		"deep arrays": strings.Repeat(`[`, jsonvalue.MaxDepth) + strings.Repeat(`]`, jsonvalue.MaxDepth),
		"long string": `"` + strings.Repeat("é", 1<<20) + `"`,
		"long number": strings.Repeat("1", 1<<20),
		"long key":    `{"` + strings.Repeat("k", 1<<20) + `":1}`,
	}
	for name, raw := range values {
		var p jsonvalue.Parser
		v := parseLeaf(t, &p, raw)
		msg, steps := inspectSteps(v)
		if len(msg) > maxInspect+3 || steps > maxInspect {
			t.Errorf("%s: %d values looked at, %d bytes written: %.80s", name, steps, len(msg), msg)
		}
		if allocs := testing.AllocsPerRun(5, func() { inspect(v) }); allocs > 4 {
			t.Errorf("%s: %v allocations", name, allocs)
		}
	}
}

// colorEnum is the EnumSet of the leaf_coercion graph's Color (RED,
// GREEN; HIDDEN is @inaccessible), as a plan's shape has it.
func colorEnum(t *testing.T) *planner.EnumSet {
	t.Helper()
	sdl, err := os.ReadFile("../testdata/supergraphs/leaf_coercion.graphql")
	if err != nil {
		t.Fatal(err)
	}
	sg, err := schema.Load(string(sdl))
	if err != nil {
		t.Fatal(err)
	}
	doc, errs := gqlparser.LoadQuery(sg.API, `{ color(shape: "s") }`)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	op, err := planner.Normalize(sg.API, doc, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := planner.New(sg).Plan(op, planner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := p.Shape.Root.ByType[0].Fields[0]
	if f.Leaf() != planner.EnumLeaf || f.Enum == nil || f.Enum.Name() != "Color" {
		t.Fatalf("the shape's color field: leaf %d, enum %v", f.Leaf(), f.Enum)
	}
	return f.Enum
}

// TestCoerceLeaf: the core of result coercion, each leaf type and JSON
// shape: the text written, or the message of the field error (nothing
// written then).
func TestCoerceLeaf(t *testing.T) {
	color := colorEnum(t)
	cases := []struct {
		leaf      planner.LeafType
		raw, want string
		msg       string
	}{
		{planner.StringLeaf, `"x"`, `"x"`, ""},
		{planner.StringLeaf, `1`, "", "String cannot represent value: 1"},
		{planner.BooleanLeaf, `false`, `false`, ""},
		{planner.BooleanLeaf, `1`, "", "Boolean cannot represent a non boolean value: 1"},
		{planner.IntLeaf, `7`, `7`, ""},
		{planner.IntLeaf, `2147483647`, `2147483647`, ""},
		{planner.IntLeaf, `2.147483647e9`, `2147483647`, ""},
		{planner.IntLeaf, `-2147483649`, "", "Int cannot represent non 32-bit signed integer value: -2147483649"},
		{planner.IntLeaf, `0.5`, "", "Int cannot represent non-integer value: 0.5"},
		{planner.IntLeaf, `"7"`, "", `Int cannot represent non-integer value: "7"`},
		{planner.FloatLeaf, `1e308`, `1e308`, ""},
		{planner.FloatLeaf, `-1e309`, "", "Float cannot represent non numeric value: -1e309"},
		{planner.FloatLeaf, `null`, "", "Float cannot represent non numeric value: null"},
		{planner.IDLeaf, `"7"`, `"7"`, ""},
		{planner.IDLeaf, `7`, `"7"`, ""},
		{planner.IDLeaf, `-70`, `"-70"`, ""},
		{planner.IDLeaf, `7E2`, `"700"`, ""},
		{planner.IDLeaf, `7.25`, "", "ID cannot represent value: 7.25"},
		{planner.IDLeaf, `[7]`, "", "ID cannot represent value: [7]"},
		{planner.EnumLeaf, `"GREEN"`, `"GREEN"`, ""},
		{planner.EnumLeaf, `"BLUE"`, "", `Enum "Color" cannot represent a value that is not one of its values`},
		{planner.EnumLeaf, `false`, "", `Enum "Color" cannot represent value: false`},
		{planner.CustomLeaf, `{"a":[1e999]}`, `{"a":[1e999]}`, ""},
	}
	var p jsonvalue.Parser
	for _, c := range cases {
		out, msg := coerceLeaf([]byte("x"), parseLeaf(t, &p, c.raw), c.leaf, color)
		if got := string(out[1:]); got != c.want || msg != c.msg || out[0] != 'x' {
			t.Errorf("leaf %d, %s: wrote %q and %q, want %q and %q", c.leaf, c.raw, got, msg, c.want, c.msg)
		}
	}
}
