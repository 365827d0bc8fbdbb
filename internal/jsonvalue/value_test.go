package jsonvalue

import (
	"strings"
	"testing"
)

func mustParse(t *testing.T, s string) *Value {
	t.Helper()
	v, err := new(Parser).Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestLookups: Get, Field, FieldAt (from any hint, also past the end) and
// Lookup find the same member; nil and non-objects find nothing.
func TestLookups(t *testing.T) {
	v := mustParse(t, `{"a":1,"b":2,"c":3}`)
	for _, key := range []string{"a", "b", "c", "x"} {
		want := v.Get(key)
		for hint := -1; hint <= 4; hint++ {
			h := hint
			if hint < 0 {
				h = 0
			}
			if got := v.Field(key, &h); got != want {
				t.Errorf("Field(%q, %d) = %v, want %v", key, hint, got, want)
			}
			if i := v.Lookup(key, hint); (i < 0) != (want == nil) || i >= 0 && v.Members()[i].Value != want {
				t.Errorf("Lookup(%q, %d) = %d", key, hint, i)
			}
		}
		for _, at := range []uint32{0, 1, 2, 3, 4, 1 << 31, ^uint32(0)} {
			a := at
			if got := v.FieldAt(key, &a); got != want {
				t.Errorf("FieldAt(%q, %d) = %v, want %v", key, at, got, want)
			}
			if want != nil && v.Members()[a].Value != want {
				t.Errorf("FieldAt(%q, %d) left the note at %d, not at the member found", key, at, a)
			}
			if want == nil && a != at {
				t.Errorf("FieldAt(%q, %d) moved the note to %d without finding the key", key, at, a)
			}
		}
	}
	var absent *Value
	h := 0
	for _, x := range []*Value{absent, mustParse(t, `[1]`), mustParse(t, `"a"`)} {
		var at uint32
		if x.Get("a") != nil || x.Field("a", &h) != nil || x.FieldAt("a", &at) != nil || x.Lookup("a", 0) != -1 || x.Members() != nil {
			t.Errorf("%v: found a member", x)
		}
	}
	if absent.Type() != TypeNull || absent.Array() != nil || absent.Str() != "" || absent.String() != "null" {
		t.Error("a nil value is not absent")
	}
}

// TestChanges: Set replaces in place or appends, Del keeps the order,
// SetItem stays in range, and nothing changes a non-object.
func TestChanges(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		change   func(v, x *Value)
		want     string
	}{
		{"set existing", `{"a":1,"b":2}`, func(v, x *Value) { v.Set("a", x) }, `{"a":"x","b":2}`},
		{"set new", `{"a":1}`, func(v, x *Value) { v.Set("c", x) }, `{"a":1,"c":"x"}`},
		{"set nil", `{"a":1}`, func(v, _ *Value) { v.Set("a", nil) }, `{"a":1}`},
		{"append", `{"a":1}`, func(v, x *Value) { v.Append("b", x) }, `{"a":1,"b":"x"}`},
		{"set at", `{"a":1,"b":2}`, func(v, x *Value) { v.SetAt(v.Lookup("b", 0), x) }, `{"a":1,"b":"x"}`},
		{"del middle", `{"a":1,"b":2,"c":3}`, func(v, _ *Value) { v.Del("b") }, `{"a":1,"c":3}`},
		{"del absent", `{"a":1}`, func(v, _ *Value) { v.Del("z") }, `{"a":1}`},
		{"set item", `[1,2]`, func(v, x *Value) { v.SetItem(1, x) }, `[1,"x"]`},
		{"set item out of range", `[1,2]`, func(v, x *Value) { v.SetItem(2, x); v.SetItem(-1, x) }, `[1,2]`},
		{"set on an array", `[1]`, func(v, x *Value) { v.Set("a", x); v.Append("a", x); v.Del("a") }, `[1]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := mustParse(t, tc.in)
			tc.change(v, mustParse(t, `"x"`))
			if got := v.String(); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// TestArenaCopy: a copy shares no object or array with the original, so
// changing one leaves the other alone; a reset arena makes fresh values.
func TestArenaCopy(t *testing.T) {
	var a Arena
	orig := mustParse(t, `{"o":{"k":1},"l":[{"m":2}],"s":"t"}`)
	c := a.Copy(orig)
	c.Get("o").Set("k", mustParse(t, `9`))
	c.Get("l").Array()[0].Set("n", mustParse(t, `3`))
	if got := orig.String(); got != `{"o":{"k":1},"l":[{"m":2}],"s":"t"}` {
		t.Fatalf("the original changed: %s", got)
	}
	if got := c.String(); got != `{"o":{"k":9},"l":[{"m":2,"n":3}],"s":"t"}` {
		t.Fatalf("copy: %s", got)
	}
	a.Reset()
	o := a.NewObject()
	o.Set("x", a.Copy(mustParse(t, `[1,{}]`)))
	if got := o.String(); got != `{"x":[1,{}]}` || a.Len() != 3 {
		t.Fatalf("after reset: %s, %d values", got, a.Len())
	}
}

func TestNumbers(t *testing.T) {
	for _, tc := range []struct {
		in    string
		n     int
		isInt bool
		f     float64
	}{
		{`3`, 3, true, 3},
		{`-12`, -12, true, -12},
		{`2.0`, 2, true, 2},
		{`2.5`, 0, false, 2.5},
		{`1e400`, 0, false, 0}, // ±Inf: no int
		{`99999999999999999999999`, 0, false, 1e23},
	} {
		v := mustParse(t, tc.in)
		n, ok := v.Int()
		if ok != tc.isInt || ok && n != tc.n {
			t.Errorf("%s: Int() = %d, %v", tc.in, n, ok)
		}
		if f := v.Float64(); tc.f != 0 && f != tc.f {
			t.Errorf("%s: Float64() = %v", tc.in, f)
		}
		if v.Number() != tc.in {
			t.Errorf("%s: Number() = %q", tc.in, v.Number())
		}
	}
	if _, ok := mustParse(t, `"1"`).Int(); ok {
		t.Error("a string is an int")
	}
}

// TestSameLeaf: two leaves are the same when they are written alike; an
// absent value, an object or an array is never the same as anything.
func TestSameLeaf(t *testing.T) {
	doc := mustParse(t, `{"s":"7","t":"7","n":7,"m":7,"f":7.0,"e":"\u0037","x":"8","null":null,"nil":null,`+
		`"true":true,"yes":true,"false":false,"o":{},"p":{},"a":[],"b":[],"q":"a\"b","r":"a\u0022b","empty":""}`)
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"s", "t", true},
		{"s", "e", true}, // escaped or not, the same text
		{"q", "r", true},
		{"n", "m", true},
		{"null", "nil", true},
		{"true", "yes", true},
		{"s", "n", false}, // "7" and 7
		{"n", "f", false}, // 7 and 7.0 are written differently
		{"s", "x", false}, // other text
		{"true", "false", false},
		{"null", "empty", false},
		{"o", "p", false},
		{"a", "b", false},
		{"o", "o", false},
		{"a", "a", false},
		{"s", "s", true}, // one value: no texts compared
		{"n", "n", true},
		{"null", "null", true},
		{"s", "absent", false},
		{"absent", "absent", false},
	} {
		a, b := doc.Get(tc.a), doc.Get(tc.b)
		if got := a.SameLeaf(b); got != tc.want {
			t.Errorf("%s.SameLeaf(%s) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
		if got := b.SameLeaf(a); got != tc.want {
			t.Errorf("%s.SameLeaf(%s) = %v, want %v", tc.b, tc.a, got, tc.want)
		}
	}
}

// TestKind: the parser's kinds: a type each, numbers split into the
// 9-character integers (always 32-bit), those that may be beyond float64
// (an exponent, or more than 300 characters) and the others.
func TestKind(t *testing.T) {
	for _, c := range []struct {
		json string
		want Kind
	}{
		{`null`, KindNull}, {`false`, KindFalse}, {`true`, KindTrue}, {`"1"`, KindString}, {`"a\n"`, KindString},
		{`[]`, KindArray}, {`{}`, KindObject},
		{`0`, KindSmallInt}, {`-0`, KindSmallInt}, {`123456789`, KindSmallInt}, {`-12345678`, KindSmallInt},
		{`-123456789`, KindNumber}, {`2147483648`, KindNumber}, {`1.5`, KindNumber}, {`-0.0`, KindNumber},
		{strings.Repeat("9", 300), KindNumber}, {"0." + strings.Repeat("1", 298), KindNumber},
		{strings.Repeat("9", 301), KindWideNumber}, {`1e1`, KindWideNumber}, {`2E-3`, KindWideNumber}, {`1.5e+300`, KindWideNumber},
	} {
		v, err := new(Parser).Parse([]byte(c.json))
		if err != nil {
			t.Fatalf("%.20s: %v", c.json, err)
		}
		if got := v.Kind(); got != c.want {
			t.Errorf("%.20s: kind %d, want %d", c.json, got, c.want)
		}
		// A member of an object and an element of an array (parsed on
		// other paths) have the same kind.
		for _, doc := range []string{`{"k":` + c.json + `}`, `[` + c.json + `]`} {
			d, err := new(Parser).Parse([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			x := d.Get("k")
			if d.Type() == TypeArray {
				x = d.Array()[0]
			}
			if got := x.Kind(); got != c.want {
				t.Errorf("%.20s in %.3s: kind %d, want %d", c.json, doc, got, c.want)
			}
		}
	}
	if got := (*Value)(nil).Kind(); got != KindNull {
		t.Errorf("absent value: kind %d", got)
	}
	a := new(Arena)
	if got := a.NewObject().Kind(); got != KindObject {
		t.Errorf("an arena's object: kind %d", got)
	}
}
