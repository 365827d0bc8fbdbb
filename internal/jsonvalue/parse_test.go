package jsonvalue

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// TestParse parses documents and writes them out again: the output is
// the compact JSON of the value, escapes decoded and written again as
// AppendString writes them, or the parse fails with a SyntaxError.
func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string // want "" : a SyntaxError
	}{
		{"object", `{"a":1,"b":[true,false,null],"c":{"d":"e"}}`, `{"a":1,"b":[true,false,null],"c":{"d":"e"}}`},
		{"whitespace", " \t\r\n{ \"a\" :\n[ 1 , 2 ] , \"b\" : { } , \"c\" : [ ] }\n", `{"a":[1,2],"b":{},"c":[]}`},
		{"scalars at the top", `"x"`, `"x"`},
		{"empty string and key", `{"":""}`, `{"":""}`},
		{"huge integer kept as written", `[123456789012345678901234567890123456789,-0,0.5,1E+400,-1.25e-7]`, `[123456789012345678901234567890123456789,-0,0.5,1E+400,-1.25e-7]`},
		{"escapes", `"q\" b\\ s\/ \b\f\n\r\t"`, `"q\" b\\ s/ \u0008\u000c\n\r\t"`},
		{"unicode escapes", `"\u00e9\u20AC\ud83d\ude00"`, `"é€😀"`},
		{"lone surrogates become U+FFFD", `["\ud800","\udc00x","\ud800\u0041"]`, `["` + "\uFFFD" + `","` + "\uFFFDx" + `","` + "\uFFFD" + `A"]`},
		{"escaped key", `{"a\u0062":1}`, `{"ab":1}`},
		{"invalid UTF-8 passes through", "\"a\xffb\"", "\"a\xffb\""},
		{"raw control characters are escaped on the way out", "\"a\x01b\tc\"", `"a\u0001b\tc"`},
		{"repeated key keeps the first value", `{"a":1,"b":2,"a":3}`, `{"a":1,"b":2}`},
		// Keys of one length and first byte, and "a" and "*x", share
		// their bit in keyBit: compared, not taken for repeats.
		{"keys sharing a bit", `{"ab":1,"ac":2,"a":3,"*x":4,"":5}`, `{"ab":1,"ac":2,"a":3,"*x":4,"":5}`},
		{"repeated keys sharing a bit", `{"a":1,"*x":2,"*x":3,"a":4,"":5,"":6,"ac":7,"ab":8,"ac":9}`, `{"a":1,"*x":2,"":5,"ac":7,"ab":8}`},
		{"repeated key in a large object", `{` + manyMembers(40) + `,"k7":"again","k39":"again"}`, `{` + manyMembers(40) + `}`},
		{"long plain string", `"` + strings.Repeat("abcdefgh", 40) + `"`, `"` + strings.Repeat("abcdefgh", 40) + `"`},
		{"long string with a quote at the end", `"` + strings.Repeat("abcdefgh", 40) + `\""`, `"` + strings.Repeat("abcdefgh", 40) + `\""`},
		{"deepest nesting allowed", strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth), strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)},
		// Objects as members and elements are parsed by member, not
		// value: the same depth counts.
		{"deepest objects allowed", strings.Repeat(`{"a":`, MaxDepth-1) + `{}` + strings.Repeat("}", MaxDepth-1), strings.Repeat(`{"a":`, MaxDepth-1) + `{}` + strings.Repeat("}", MaxDepth-1)},
		{"deepest objects in lists allowed", strings.Repeat(`[{"a":`, MaxDepth/2-1) + `[{}]` + strings.Repeat("}]", MaxDepth/2-1), strings.Repeat(`[{"a":`, MaxDepth/2-1) + `[{}]` + strings.Repeat("}]", MaxDepth/2-1)},

		{"empty", ``, ""},
		{"only whitespace", "  \n", ""},
		{"too deep", strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), ""},
		{"objects too deep", strings.Repeat(`{"a":`, MaxDepth) + `{}` + strings.Repeat("}", MaxDepth), ""},
		{"objects in lists too deep", strings.Repeat(`[{"a":`, MaxDepth/2) + `[{}]` + strings.Repeat("}]", MaxDepth/2), ""},
		{"hostile depth", strings.Repeat(`{"a":[`, 100000), ""},
		{"trailing data", `{} x`, ""},
		{"two values", `1 2`, ""},
		{"unterminated string", `"abc`, ""},
		{"unterminated long string", `"` + strings.Repeat("x", 100), ""},
		{"unterminated escape", `"abc\`, ""},
		{"invalid escape", `"\x41"`, ""},
		{"short unicode escape", `"\u12"`, ""},
		{"bad hex", `"\u12G4"`, ""},
		{"unterminated object", `{"a":1`, ""},
		{"missing colon", `{"a" 1}`, ""},
		{"trailing comma in object", `{"a":1,}`, ""},
		{"trailing comma in array", `[1,]`, ""},
		{"unquoted key", `{a:1}`, ""},
		{"single quotes", `['a']`, ""},
		{"leading zero", `01`, ""},
		{"bare minus", `-`, ""},
		{"plus sign", `+1`, ""},
		{"dot without digits", `1.`, ""},
		{"leading dot", `.5`, ""},
		{"exponent without digits", `1e+`, ""},
		{"NaN", `NaN`, ""},
		{"Infinity", `[Infinity]`, ""},
		{"truncated literal", `tru`, ""},
		{"wrong literal", `nulL`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p Parser
			v, err := p.Parse([]byte(tc.in))
			if tc.want == "" {
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("Parse(%.60q) = %v, %v; want a SyntaxError", tc.in, v, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%.60q): %v", tc.in, err)
			}
			if got := string(v.AppendJSON(nil)); got != tc.want {
				t.Fatalf("Parse(%.60q) wrote %.200q, want %.200q", tc.in, got, tc.want)
			}
		})
	}
}

func manyMembers(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"k` + strconv.Itoa(i) + `":` + strconv.Itoa(i))
	}
	return b.String()
}

// TestPlain: a string is plain exactly when its text has nothing JSON
// escapes, wherever the byte is (the byte-wise start and the word-wise
// rest of the scan).
func TestPlain(t *testing.T) {
	for n := 1; n <= 70; n++ {
		for pos := 0; pos < n; pos++ {
			for _, c := range []byte{'a', 0, 0x1f, '\n', 0x7f, 0x80, 0xff, '\\', '"'} {
				text := []byte(strings.Repeat("x", n))
				text[pos] = c
				// Escapes what JSON must escape, passes other bytes
				// (also invalid UTF-8) through as a subgraph may send them.
				in := string(AppendString(nil, text))
				var p Parser
				v, err := p.Parse([]byte(in))
				if err != nil {
					t.Fatalf("%q: %v", in, err)
				}
				want := c != 0 && c != 0x1f && c != '\n' && c != '\\' && c != '"'
				if v.Plain() != want || v.Str() != string(text) {
					t.Fatalf("%q: plain %v text %q, want %v %q", in, v.Plain(), v.Str(), want, text)
				}
			}
		}
	}
	// Raw control characters (not JSON, but accepted as before) are not
	// plain either.
	for _, in := range []string{"\"\x01\"", "\"" + strings.Repeat("y", 40) + "\x1f\""} {
		var p Parser
		if v, err := p.Parse([]byte(in)); err != nil || v.Plain() {
			t.Fatalf("%q: %v, plain %v", in, err, v.Plain())
		}
	}
}

// TestStringInDocument: strings as keys, member values and elements, with
// the document going on after them, so that str's first-word test reads
// past their end: a quote, escape or raw control character at any place
// of the first words falls back to the full scan and decodes alike.
func TestStringInDocument(t *testing.T) {
	for n := 0; n <= 20; n++ {
		for pos := -1; pos < n; pos++ {
			for _, c := range []byte{0, 0x1f, '\n', 0x7f, 0xff, '\\', '"'} {
				text := []byte(strings.Repeat("k", n))
				if pos >= 0 {
					text[pos] = c
				}
				quoted := string(AppendString(nil, text))
				// A raw control character: not JSON, accepted and not plain.
				raw := `"` + string(text) + `"`
				for _, str := range []string{quoted, raw} {
					if pos >= 0 && (c == '\\' || c == '"') && str == raw {
						continue
					}
					in := `{` + str + `:` + str + `,"next":[` + str + `,"` + strings.Repeat("z", 20) + `"]}`
					var p Parser
					v, err := p.Parse([]byte(in))
					if err != nil {
						t.Fatalf("%q: %v", in, err)
					}
					m := v.Members()
					plain := pos < 0 || c == 0x7f || c == 0xff
					if len(m) != 2 || m[0].Key != string(text) || m[0].Value.Str() != string(text) || m[0].Value.Plain() != plain {
						t.Fatalf("%q: members %v, want key and value %q plain %v", in, v, text, plain)
					}
					if e := m[1].Value.Array(); len(e) != 2 || e[0].Str() != string(text) || e[0].Plain() != plain || e[1].Str() != strings.Repeat("z", 20) {
						t.Fatalf("%q: elements %v", in, m[1].Value)
					}
				}
			}
		}
	}
}

// TestRoundTripRandom compares with encoding/json on random documents:
// what Parse reads and AppendJSON writes decodes to the same Go value.
func TestRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	var p Parser // reused: every document starts from the last one's memory
	for range 3000 {
		doc := randomValue(r, 0)
		in, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		v, err := p.Parse(in)
		if err != nil {
			t.Fatalf("Parse(%s): %v", in, err)
		}
		out := v.AppendJSON(nil)
		var want, got any
		if err := json.Unmarshal(in, &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip of %s gave %s", in, out)
		}
	}
}

func randomValue(r *rand.Rand, depth int) any {
	k := r.IntN(8)
	if depth > 4 {
		k = r.IntN(4)
	}
	switch k {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return r.NormFloat64() * 1e6
	case 3:
		b := make([]rune, r.IntN(30))
		for i := range b {
			switch r.IntN(6) {
			case 0:
				b[i] = rune(r.IntN(0x20))
			case 1:
				b[i] = []rune{'"', '\\', '/', 'é', '😀', '\u2028'}[r.IntN(6)]
			default:
				b[i] = rune('a' + r.IntN(26))
			}
		}
		return string(b)
	case 4, 5:
		a := make([]any, r.IntN(5))
		for i := range a {
			a[i] = randomValue(r, depth+1)
		}
		return a
	default:
		m := map[string]any{}
		for range r.IntN(6) {
			m[string(rune('a'+r.IntN(26)))+"\""[:r.IntN(2)]] = randomValue(r, depth+1)
		}
		return m
	}
}

// TestParserReuse: a parser's second document owes nothing to its first,
// nor to a document that failed half way.
func TestParserReuse(t *testing.T) {
	var p Parser
	if _, err := p.Parse([]byte(`{"a":{"b":[1,2,3],"c":"x"},"d":[{"e":1}]}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Parse([]byte(`{"a":{"b":[1,2,3],"c":"x"},"d":[{"e":1},`)); err == nil {
		t.Fatal("a truncated document parsed")
	}
	v, err := p.Parse([]byte(`{"z":[{}],"y":{"w":"v"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := v.String(); got != `{"z":[{}],"y":{"w":"v"}}` {
		t.Fatalf("second document read %s", got)
	}
}

// TestParseCopiesInput: the values do not depend on the input buffer,
// which the transport reuses once Parse returns.
func TestParseCopiesInput(t *testing.T) {
	in := []byte(`{"k":"value","n":12}`)
	var p Parser
	v, err := p.Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = 'X'
	}
	if got := v.String(); got != `{"k":"value","n":12}` {
		t.Fatalf("after the input changed: %s", got)
	}
}

// TestHasControl compares hasControl and hasControlExact with a byte-wise
// test on random text: ASCII only (hasControl's first pass decides) and
// any bytes (it falls back), with a control character now and then, and
// every control character at every offset of ASCII text.
func TestHasControl(t *testing.T) {
	check := func(s []byte) {
		t.Helper()
		want := false
		for _, c := range s {
			want = want || c < 0x20
		}
		if got := hasControl(s); got != want {
			t.Fatalf("hasControl(%q) = %v", s, got)
		}
		if got := hasControlExact(s); got != want {
			t.Fatalf("hasControlExact(%q) = %v", s, got)
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, span := range []int{0x60, 0xe0} {
		for range 20000 {
			s := make([]byte, r.IntN(100))
			for i := range s {
				s[i] = byte(0x20 + r.IntN(span))
				if r.IntN(200) == 0 {
					s[i] = byte(r.IntN(0x20))
				}
			}
			check(s)
		}
	}
	text := []byte("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod")
	for i := range text {
		for c := range 0x21 {
			s := append([]byte(nil), text...)
			s[i] = byte(c)
			check(s)
		}
	}
}

// TestPlainEnd compares plainEnd with a byte-wise scan on random text
// with a few bytes that need escaping, from every start offset.
func TestPlainEnd(t *testing.T) {
	if got := plainEnd([]byte("abcdefghijklmnopqrstuvwxyz"), 3, 12); got != 12 {
		t.Fatalf("plainEnd stopped at %d, want its limit 12", got)
	}
	if got := plainEnd([]byte("abcdefghijklmnop\"q"), 3, 12); got != 12 {
		t.Fatalf("plainEnd stopped at %d, want its limit 12", got)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		s := make([]byte, r.IntN(100))
		for i := range s {
			s[i] = byte(0x20 + r.IntN(0xe0))
			if r.IntN(40) == 0 {
				s[i] = []byte{0, 0x1f, '"', '\\', '\n'}[r.IntN(5)]
			}
		}
		for from := 0; from <= len(s); from++ {
			want := from
			for want < len(s) && s[want] >= 0x20 && s[want] != '"' && s[want] != '\\' {
				want++
			}
			if got := plainEnd(s, from, len(s)); got != want {
				t.Fatalf("plainEnd(%q, %d) = %d, want %d", s, from, got, want)
			}
		}
	}
}

// TestParseInPlace: ParseInPlace reads a document as Parse does, in the
// caller's buffer: its strings point into it, and only escaped text
// changes it.
func TestParseInPlace(t *testing.T) {
	for _, doc := range []string{
		`{"a":"plain","b":[1,true,null]}`,
		`{"k\u0065y":"q\" \u00e9 \ud83d\ude00","x":"\\"}`,
		"{\"raw\":\"a\x01b\",\"bad utf8\":\"\xff\"}",
		`[{"a":1},{"a":2}]`,
		`{"a":1`, // not JSON
	} {
		var p, q Parser
		want, werr := p.Parse([]byte(doc))
		buf := []byte(doc)
		got, gerr := q.ParseInPlace(buf, nil)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("ParseInPlace(%q) error %v, Parse %v", doc, gerr, werr)
		}
		if werr != nil {
			continue
		}
		if w, g := want.String(), got.String(); w != g {
			t.Fatalf("ParseInPlace(%q) = %s, Parse gives %s", doc, g, w)
		}
		if !strings.Contains(doc, `\`) && string(buf) != doc {
			t.Fatalf("ParseInPlace changed %q to %q", doc, buf)
		}
		if s := got.Get("a").Str(); s != "" && !inside(s, buf) {
			t.Fatalf("ParseInPlace(%q): string %q is not in the buffer", doc, s)
		}
	}
}

// inside reports whether s's bytes are in b's array.
func inside(s string, b []byte) bool {
	p, start := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return p >= start && p+uintptr(len(s)) <= start+uintptr(len(b))
}
