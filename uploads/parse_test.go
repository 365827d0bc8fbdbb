package uploads

import (
	"bytes"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/fedgate/gateway/internal/reqerr"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

func body(t testing.TB, fields ...string) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for i := 0; i+1 < len(fields); i += 2 {
		if err := mw.WriteField(fields[i], fields[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &b, mw.Boundary()
}

func testConfig() Config {
	c := DefaultConfig()
	c.Enabled = true
	return c
}

func code(err error) string {
	if err == nil {
		return ""
	}
	return reqerr.From(err).Code
}

func TestParseAndBind(t *testing.T) {
	cases := []struct {
		name      string
		ops, m    string
		parseCode string
		bindCode  string
		vars      string // the bound variables, with <n> for file n's placeholder
	}{
		{name: "one file", ops: `{"query":"q","variables":{"f":null}}`, m: `{"0":["variables.f"]}`, vars: `{"f":"<0>"}`},
		{name: "list and nested", ops: `{"query":"q","variables":{"l":[null,1],"i":{"f":null}}}`, m: `{"a":["variables.l.0"],"b":["variables.i.f"]}`,
			vars: `{"i":{"f":"<1>"},"l":["<0>",1]}`},
		{name: "one file at two paths", ops: `{"query":"q","variables":{"a":null,"b":null}}`, m: `{"0":["variables.a","variables.b"]}`, vars: `{"a":"<0>","b":"<0>"}`},
		{name: "path not null", ops: `{"query":"q","variables":{"f":"x"}}`, m: `{"0":["variables.f"]}`, bindCode: CodeBadMap},
		{name: "path twice", ops: `{"query":"q","variables":{"f":null}}`, m: `{"0":["variables.f"],"1":["variables.f"]}`, bindCode: CodeBadMap},
		{name: "missing variable", ops: `{"query":"q","variables":{}}`, m: `{"0":["variables.g"]}`, bindCode: CodeBadMap},
		{name: "no variables", ops: `{"query":"q"}`, m: `{"0":["variables.g"]}`, bindCode: CodeBadMap},
		{name: "index out of range", ops: `{"query":"q","variables":{"l":[null]}}`, m: `{"0":["variables.l.1"]}`, bindCode: CodeBadMap},
		{name: "negative index", ops: `{"query":"q","variables":{"l":[null]}}`, m: `{"0":["variables.l.-1"]}`, bindCode: CodeBadMap},
		{name: "not variables", ops: `{"query":"q","variables":{"f":null}}`, m: `{"0":["query"]}`, bindCode: CodeBadMap},
		{name: "too deep", ops: `{"query":"q","variables":{"f":null}}`, m: `{"0":["variables` + strings.Repeat(".a", 40) + `"]}`, bindCode: CodeBadMap},
		{name: "batch", ops: ` [{"query":"q"}]`, m: `{}`, parseCode: CodeBatch},
		{name: "map not an object", ops: `{"query":"q"}`, m: `["0"]`, parseCode: CodeMalformed},
		{name: "map paths not strings", ops: `{"query":"q"}`, m: `{"0":[1]}`, parseCode: CodeMalformed},
		{name: "map empty paths", ops: `{"query":"q"}`, m: `{"0":[]}`, parseCode: CodeBadMap},
		{name: "map with trailing data", ops: `{"query":"q"}`, m: `{"0":["variables.f"]} {}`, parseCode: CodeMalformed},
		{name: "map key twice", ops: `{"query":"q"}`, m: `{"0":["variables.f"],"0":["variables.g"]}`, parseCode: CodeMalformed},
		{name: "too many files", ops: `{"query":"q"}`, m: `{"0":["variables.a"],"1":["variables.a"],"2":["variables.a"],"3":["variables.a"],"4":["variables.a"],"5":["variables.a"]}`, parseCode: CodeTooManyFiles},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, boundary := body(t, "operations", c.ops, "map", c.m)
			u, err := Parse(b, boundary, testConfig(), ParseOptions{MaxOperations: 1 << 20})
			if code(err) != c.parseCode {
				t.Fatalf("Parse: %v, want code %q", err, c.parseCode)
			}
			if err != nil {
				return
			}
			vars := []byte(nil)
			if i := strings.Index(c.ops, `"variables":`); i >= 0 {
				vars = []byte(c.ops[i+len(`"variables":`) : len(c.ops)-1])
			}
			got, err := u.Bind(vars)
			if code(err) != c.bindCode {
				t.Fatalf("Bind: %v, want code %q", err, c.bindCode)
			}
			if err != nil {
				return
			}
			want := c.vars
			for _, f := range u.files {
				want = strings.ReplaceAll(want, "<"+itoa(f.index)+">", u.placeholder(f))
			}
			if string(got) != want {
				t.Fatalf("Bind = %s, want %s", got, want)
			}
		})
	}
}

func itoa(i int) string { return string(rune('0' + i)) }

func TestParseOrder(t *testing.T) {
	for _, fields := range [][]string{
		{"map", `{}`, "operations", `{}`},
		{"0", "file", "operations", `{}`, "map", `{}`},
		{"operations", `{}`},
	} {
		b, boundary := body(t, fields...)
		if _, err := Parse(b, boundary, testConfig(), ParseOptions{MaxOperations: 1 << 20}); code(err) != CodeMalformed {
			t.Errorf("%v: %v, want %s", fields[0], err, CodeMalformed)
		}
	}
	b, boundary := body(t, "operations", strings.Repeat(" ", 2000)+`{}`, "map", `{}`)
	if _, err := Parse(b, boundary, testConfig(), ParseOptions{MaxOperations: 1000}); code(err) != CodeTooLarge {
		t.Errorf("large operations: %v", err)
	}
}

func TestCheckTypes(t *testing.T) {
	api := gqlparser.MustLoadSchema(&ast.Source{Input: `
scalar Upload
input Doc { file: Upload, title: String, files: [Upload!] }
type Query { a: Int }
type Mutation { put(f: Upload, l: [Upload], d: Doc, s: String): Int }
`})
	cases := []struct {
		path, ok string
	}{
		{"variables.f", "yes"}, {"variables.l.0", "yes"}, {"variables.d.file", "yes"}, {"variables.d.files.2", "yes"},
		{"variables.s", ""}, {"variables.l", ""}, {"variables.d", ""}, {"variables.d.title", ""}, {"variables.d.nope", ""},
		{"variables.l.x", ""}, {"variables.undeclared", ""}, {"variables.f.0", ""},
	}
	doc, errs := gqlparser.LoadQuery(api, `mutation($f: Upload, $l: [Upload], $d: Doc, $s: String) { put(f: $f, l: $l, d: $d, s: $s) }`)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, c := range cases {
		u := &Upload{files: []*file{{name: "0", paths: []string{c.path}}}}
		err := u.CheckTypes(api, doc.Operations[0])
		if (err == nil) != (c.ok == "yes") {
			t.Errorf("%s: %v", c.path, err)
		}
	}
}

// FuzzParse: any body is a parsed upload or an error with a code, never
// a panic.
func FuzzParse(f *testing.F) {
	f.Add(`{"query":"q","variables":{"f":null}}`, `{"0":["variables.f"]}`)
	f.Add(`[]`, `{"0":["variables.l.0"]}`)
	f.Add(`{"variables":{"l":[null,{"a":[null]}]}}`, `{"0":["variables.l.1.a.0"],"1":["variables.l.0"]}`)
	f.Fuzz(func(t *testing.T, ops, m string) {
		b, boundary := body(t, "operations", ops, "map", m)
		u, err := Parse(b, boundary, testConfig(), ParseOptions{MaxOperations: 1 << 16})
		if err != nil {
			if code(err) == "" || code(err) == reqerr.Internal.Code {
				t.Fatalf("error without a code: %v", err)
			}
			return
		}
		if _, err := u.Bind([]byte(ops)); err != nil && code(err) != CodeBadMap {
			t.Fatalf("Bind: %v", err)
		}
	})
}
