package jsonvalue

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// sameBytes reports whether a and b are one string (not only equal texts).
func sameBytes(a, b string) bool {
	return len(a) == len(b) && unsafe.StringData(a) == unsafe.StringData(b)
}

// keyTexts are keys of every length around the word boundaries the parser
// reads (8 and 16 bytes), and bytes a key may hold.
var keyTexts = []string{
	"a", "id", "upc", "body", "price", "weight", "reviews", "username", "_entities", "__typename",
	"abcdefghijklmno", "abcdefghijklmnop", "bcdefghijklmnopqr", "shippingEstimate", "topProducts",
	"é", "clé-ü", "\xff\xfe", "a\"b", "a\\b", "tab\there", "nul\x00", "🙂🙂🙂🙂", "with space",
}

// TestKeysIntern: the set's string of each text is the first one given;
// texts not in the set, and "", are returned as they are.
func TestKeysIntern(t *testing.T) {
	first := make([]string, len(keyTexts))
	var in []string
	for i, s := range keyTexts {
		first[i] = strings.Clone(s)
		in = append(in, first[i], "", strings.Clone(s))
	}
	k := NewKeys(in)
	if k.Len() != len(keyTexts) {
		t.Fatalf("Len = %d, want %d", k.Len(), len(keyTexts))
	}
	for i, s := range keyTexts {
		if got := k.Intern(strings.Clone(s)); !sameBytes(got, first[i]) {
			t.Errorf("Intern(%q) is not the first string given", s)
		}
	}
	for _, s := range []string{"b", "ids", "__typenam", "__typenamf", "abcdefghijklmnoP", "abcdefghijklmnopr", ""} {
		c := strings.Clone(s)
		if got := k.Intern(c); !sameBytes(got, c) {
			t.Errorf("Intern(%q) = %q from the set, want the string given", s, got)
		}
	}
	var none *Keys
	if none.Intern("a") != "a" || none.Len() != 0 || NewKeys(nil).Intern("a") != "a" {
		t.Error("an empty set interns something")
	}
}

// TestKeysLongSharedStart: keys longer than 16 bytes that share their first
// 16 share a slot: the first is held, the others are left out, and every
// one interns to its own text.
func TestKeysLongSharedStart(t *testing.T) {
	a, b := "abcdefghijklmnop-one", "abcdefghijklmnop-two"
	k := NewKeys([]string{a, b})
	if k.Len() != 1 {
		t.Fatalf("Len = %d, want 1", k.Len())
	}
	if got := k.Intern(strings.Clone(a)); !sameBytes(got, a) {
		t.Errorf("Intern(%q) is not the set's string", a)
	}
	if c := strings.Clone(b); !sameBytes(k.Intern(c), c) {
		t.Errorf("Intern(%q) is not the string given", b)
	}
	var p Parser
	v, err := p.ParseKeys([]byte(`{"`+b+`":2,"`+a+`":1,"pad":"................"}`), k)
	if err != nil {
		t.Fatal(err)
	}
	if m := v.Members(); m[0].Key != b || m[1].Key != a || !sameBytes(m[1].Key, a) {
		t.Errorf("parsed keys %q, %q", m[0].Key, m[1].Key)
	}
}

// TestKeysCrowded: a set too large for every key to get a slot of its own
// leaves some out; Intern still returns the right text for every key, the
// set's string for those it holds.
func TestKeysCrowded(t *testing.T) {
	var in []string
	for i := range 3 * maxSlots {
		in = append(in, "k"+strconv.Itoa(i))
	}
	k := NewKeys(in)
	if k.Len() == 0 || k.Len() >= len(in) {
		t.Fatalf("Len = %d of %d keys, want some left out", k.Len(), len(in))
	}
	held := 0
	for _, s := range in {
		got := k.Intern(strings.Clone(s))
		if got != s {
			t.Fatalf("Intern(%q) = %q", s, got)
		}
		if sameBytes(got, s) {
			held++
		}
	}
	if held != k.Len() {
		t.Fatalf("%d keys interned, Len says %d", held, k.Len())
	}
}

// TestParseKeys: a document parsed against a set is the document Parse
// gives, and each of its keys in the set is the set's string, wherever
// the key is (at the end of the document, escaped, of any length).
func TestParseKeys(t *testing.T) {
	k := NewKeys(keyTexts)
	var docs []string
	for _, s := range append(keyTexts, "not in the set", "") {
		q, _ := json.Marshal(s)
		docs = append(docs,
			`{`+string(q)+`:1}`,
			`{"x":[{`+string(q)+`:{"y":`+string(q)+`}}],"pad":"`+strings.Repeat("p", 40)+`"}`,
			`[{"z":0,`+string(q)+`:"v"}]`)
	}
	docs = append(docs,
		`{"a\u0062":1,"\u0069d":2,"__type\u006eame":3,"_\u005fty\u0070ename":4}`, // escaped keys
		`{ "id" : 1 , "upc" :2}`,
		"{\"ab\":1,\"id\":2,\"id\":3}") // a repeated key keeps its first value
	var p, q Parser
	for _, doc := range docs {
		want, err := p.Parse([]byte(doc))
		if err != nil {
			t.Fatalf("Parse(%q): %v", doc, err)
		}
		got, err := q.ParseKeys([]byte(doc), k)
		if err != nil {
			t.Fatalf("ParseKeys(%q): %v", doc, err)
		}
		if w, g := want.String(), got.String(); w != g {
			t.Fatalf("ParseKeys(%q) = %s, Parse gives %s", doc, g, w)
		}
		checkInterned(t, doc, got, k)
	}
}

// checkInterned fails t unless every key of v that k holds is k's string.
func checkInterned(t *testing.T, doc string, v *Value, k *Keys) {
	t.Helper()
	for _, m := range v.Members() {
		c := strings.Clone(m.Key)
		if in := k.Intern(c); !sameBytes(in, c) && !sameBytes(in, m.Key) {
			t.Fatalf("ParseKeys(%q): key %q is not the set's string", doc, m.Key)
		}
		checkInterned(t, doc, m.Value, k)
	}
	for _, x := range v.Array() {
		checkInterned(t, doc, x, k)
	}
}

// TestParseKeysRandom: random documents parsed against a set of some of
// their keys read as Parse reads them.
func TestParseKeysRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	var set []string
	for c := 'a'; c <= 'z'; c += 2 {
		set = append(set, string(c), string(c)+`"`)
	}
	k := NewKeys(set)
	var p, q Parser
	for range 2000 {
		in, err := json.Marshal(randomValue(r, 0))
		if err != nil {
			t.Fatal(err)
		}
		want, err := p.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := q.ParseKeys(in, k)
		if err != nil {
			t.Fatalf("ParseKeys(%s): %v", in, err)
		}
		if w, g := want.String(), got.String(); w != g {
			t.Fatalf("ParseKeys(%s) = %s, Parse gives %s", in, g, w)
		}
		checkInterned(t, string(in), got, k)
	}
}

// TestLookupsByOtherStrings: Field, FieldAt and Lookup find a member by a
// string of the key's text that is not the member's own, whatever the
// hint says, as by the member's own string.
func TestLookupsByOtherStrings(t *testing.T) {
	k := NewKeys([]string{"id", "name", "__typename"})
	var p Parser
	v, err := p.ParseKeys([]byte(`{"__typename":"U","id":"1","name":"n","other":2}`), k)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"id", "name", "__typename", "other"} {
		for _, s := range []string{k.Intern(key), strings.Clone(key)} {
			want := v.Get(key)
			for hint := range 5 {
				h := hint
				at := uint32(hint)
				if got := v.Field(s, &h); got != want {
					t.Errorf("Field(%q, hint %d) = %v, want %v", key, hint, got, want)
				}
				if got := v.FieldAt(s, &at); got != want {
					t.Errorf("FieldAt(%q, at %d) = %v, want %v", key, hint, got, want)
				}
				if i := v.Lookup(s, hint); i < 0 || v.Members()[i].Value != want {
					t.Errorf("Lookup(%q, hint %d) = %d", key, hint, i)
				}
			}
		}
	}
	if v.Get("missing") != nil || v.Lookup("idx", 1) != -1 {
		t.Error("found a key the object does not have")
	}
}

// TestSameString: only a string's own bytes are the same string; an
// equal text elsewhere is not, and a parsed key of the set is the set's.
func TestSameString(t *testing.T) {
	text := []byte(`{"price":1,"name":"price"}`)
	keys := NewKeys([]string{"price"})
	var p Parser
	v, err := p.ParseKeys(text, keys)
	if err != nil {
		t.Fatal(err)
	}
	key, set := v.Members()[0].Key, keys.Intern("price")
	other := v.Get("name").Str() // "price", parsed as a value: not interned
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{key, set, true},
		{set, set, true},
		{other, set, false},
		{other, key, false},
		{set, set[:3], false},
		{"", "", true},
	} {
		if got := SameString(c.a, c.b); got != c.want {
			t.Errorf("SameString(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
