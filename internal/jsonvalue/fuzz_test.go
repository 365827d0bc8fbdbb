package jsonvalue

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzKeys is a set of keys FuzzParse parses against too.
var fuzzKeys = NewKeys([]string{"a", "b", "c", "ab", "id", "__typename", "abcdefgh", "abcdefghijklmnop", "é"})

// FuzzParse: Parse never panics; what it accepts, it writes out as JSON
// that encoding/json reads back (when the input was valid UTF-8: invalid
// bytes pass through, as before); and it accepts every valid UTF-8
// document encoding/json accepts, up to MaxDepth of nesting. ParseKeys
// reads every document as Parse does.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"a":[1,2,{"b":null}],"c":"d\n\u00e9\ud83d\ude00"}`, `[]`, `"x"`, `-0.5e+10`, `{"a":1,"a":2}`,
		"\"\x01\"", `"\ud800"`, `[1,]`, `{"a"}`, `nul`, `1e`, `"\u12"`, `[[[[[[[[]]]]]]]]`,
		`[-123456789,1.5,` + strings.Repeat("9", 300) + `,1e400,-0]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var p Parser
		v, err := p.Parse(in)
		valid := json.Valid(in) && utf8.Valid(in) && depth(in) <= MaxDepth
		if err != nil {
			if valid {
				t.Fatalf("Parse(%q) failed on valid JSON: %v", in, err)
			}
			return
		}
		out := v.AppendJSON(nil)
		if utf8.Valid(in) && !json.Valid(out) {
			t.Fatalf("Parse(%q) wrote invalid JSON %q", in, out)
		}
		var q Parser
		kv, err := q.ParseKeys(in, fuzzKeys)
		if err != nil {
			t.Fatalf("ParseKeys(%q) failed where Parse did not: %v", in, err)
		}
		if got := kv.AppendJSON(nil); string(got) != string(out) {
			t.Fatalf("ParseKeys(%q) wrote %q, Parse %q", in, got, out)
		}
		checkKinds(t, v)
	})
}

// checkKinds fails t when a number's kind promises what its value does
// not keep: a KindSmallInt is a 32-bit integer, a KindNumber is finite
// (what the executor writes without a look, planner.ShapeField.Accepts).
func checkKinds(t *testing.T, v *Value) {
	switch v.Type() {
	case TypeArray:
		for _, x := range v.Array() {
			checkKinds(t, x)
		}
	case TypeObject:
		for _, m := range v.Members() {
			checkKinds(t, m.Value)
		}
	case TypeNumber:
		switch v.Kind() {
		case KindSmallInt:
			if _, err := strconv.ParseInt(v.Number(), 10, 32); err != nil {
				t.Fatalf("%s: KindSmallInt, not a 32-bit integer", v.Number())
			}
		case KindNumber:
			if f, err := strconv.ParseFloat(v.Number(), 64); err != nil || math.IsInf(f, 0) {
				t.Fatalf("%.40s: KindNumber, not a finite float64", v.Number())
			}
		case KindWideNumber:
		default:
			t.Fatalf("%s: a number of kind %d", v.Number(), v.Kind())
		}
	}
}

// depth is the deepest nesting of brackets in a valid document (brackets
// inside strings counted too: it only has to be at least the real one).
func depth(b []byte) int {
	d, most := 0, 0
	for _, c := range b {
		switch c {
		case '[', '{':
			d++
			most = max(most, d)
		case ']', '}':
			d--
		}
	}
	return most
}
