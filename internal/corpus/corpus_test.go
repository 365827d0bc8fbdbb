package corpus

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
)

func TestGenText(t *testing.T) {
	cases := []struct {
		g    Gen
		want string
	}{
		{Gen{Prefix: "{", Suffix: "}"}, "{}"},
		{Gen{Prefix: "{", Unit: "a{i}:me{id} ", Count: 3, Suffix: "}"}, "{a0:me{id} a1:me{id} a2:me{id} }"},
		{Gen{Prefix: "[", Unit: `{"q":{i}}`, Count: 3, Sep: ",", Suffix: "]"}, `[{"q":0},{"q":1},{"q":2}]`},
		{Gen{Unit: "{a", Count: 3, Middle: "x", TailUnit: "}"}, "{a{a{ax}}}"},
		{Gen{Prefix: "{me{", Unit: "reviews{author{", Count: 2, Middle: "id", TailUnit: "}}", Suffix: "}}"}, "{me{reviews{author{reviews{author{id}}}}}}"},
		{Gen{Unit: "{i}{i}", Count: 12, Sep: "-"}, "00-11-22-33-44-55-66-77-88-99-1010-1111"},
	}
	for _, c := range cases {
		if got := c.g.Text(); got != c.want {
			t.Errorf("%+v: got %q, want %q", c.g, got, c.want)
		}
	}
	if got := (HeaderGen{Prefix: "Bearer ", Unit: "ab", Count: 3}).Text(); got != "Bearer ababab" {
		t.Errorf("HeaderGen.Text: got %q", got)
	}
}

const sample = `{"name":"gen_query","method":"POST","headers":{"Content-Type":"application/json"},"gen":{"target":"query","prefix":"{","unit":"a{i}:me{id} ","count":2,"suffix":"}"},"expect_status":[400],"expect_code":["X"]}

{"name":"gen_raw","gen":{"target":"raw","prefix":"[","unit":"1","count":3,"sep":","}}
{"name":"body","body":{"query":"{me{id}}","variables":{"n":2147483648}}}
{"name":"raw","raw":"{\"query\":\"{me{id}}\""}
{"name":"raw_b64","raw_b64":"eyJxdWVyeSI6InttZXtpZH19In0="}
{"name":"get","method":"GET","url_query":{"query":"mutation{__typename}"},"header_gen":{"Authorization":{"prefix":"Bearer ","unit":"x","count":4}},"headers":{"Accept":"application/json"}}
`

func TestLine(t *testing.T) {
	lines, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 6 {
		t.Fatalf("got %d lines, want 6 (blank lines passed over)", len(lines))
	}
	wantBody := map[string]string{
		"gen_query": `{"query":"{a0:me{id} a1:me{id} }"}`,
		"gen_raw":   "[1,1,1",
		"body":      `{"query":"{me{id}}","variables":{"n":2147483648}}`,
		"raw":       `{"query":"{me{id}}"`,
		"raw_b64":   `{"query":"{me{id}}"}`,
		"get":       "",
	}
	wantQuery := map[string]string{
		"gen_query": "{a0:me{id} a1:me{id} }",
		"body":      "{me{id}}",
		"raw_b64":   "{me{id}}",
		"get":       "mutation{__typename}",
	}
	for _, l := range lines {
		b, err := l.Body()
		if err != nil || string(b) != wantBody[l.Name] {
			t.Errorf("%s: Body() = %q, %v; want %q", l.Name, b, err, wantBody[l.Name])
		}
		q, ok := l.Query()
		if want, has := wantQuery[l.Name]; q != want || ok != has {
			t.Errorf("%s: Query() = %q, %v; want %q, %v", l.Name, q, ok, want, has)
		}
		req, err := l.NewRequest("http://example.com/graphql")
		if err != nil {
			t.Fatalf("%s: %v", l.Name, err)
		}
		var sent []byte
		if req.Body != nil {
			if sent, err = io.ReadAll(req.Body); err != nil {
				t.Fatal(err)
			}
		}
		if string(sent) != wantBody[l.Name] {
			t.Errorf("%s: request body %q, want %q", l.Name, sent, wantBody[l.Name])
		}
		switch l.Name {
		case "gen_query":
			if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" || req.Header.Get("Accept") != DefaultAccept {
				t.Errorf("%s: %s %v", l.Name, req.Method, req.Header)
			}
			if len(l.ExpectStatus) != 1 || l.ExpectStatus[0] != 400 || len(l.ExpectCode) != 1 {
				t.Errorf("%s: expectations not decoded: %v %v", l.Name, l.ExpectStatus, l.ExpectCode)
			}
		case "gen_raw":
			if req.Method != http.MethodPost {
				t.Errorf("%s: method %s, want POST by default", l.Name, req.Method)
			}
		case "get":
			if req.Method != http.MethodGet || req.URL.String() != "http://example.com/graphql?query=mutation%7B__typename%7D" {
				t.Errorf("%s: %s %s", l.Name, req.Method, req.URL)
			}
			if req.Header.Get("Authorization") != "Bearer xxxx" || req.Header.Get("Accept") != "application/json" {
				t.Errorf("%s: headers %v", l.Name, req.Header)
			}
		}
	}
	bad := Line{Name: "bad", RawB64: new("not base64!")}
	if _, err := bad.Body(); err == nil {
		t.Error("Body() of invalid raw_b64: no error")
	}
	if _, ok := bad.Query(); ok {
		t.Error("Query() of invalid raw_b64 reported a query")
	}
	if _, err := bad.NewRequest("http://example.com/graphql"); err == nil {
		t.Error("NewRequest of invalid raw_b64: no error")
	}
}

func TestLoad(t *testing.T) {
	lines := Load(t) // skips when the corpus is absent
	if len(lines) < 20 {
		t.Fatalf("got %d corpus lines, want at least 20", len(lines))
	}
	names := map[string]bool{}
	for _, l := range lines {
		if l.Name == "" || names[l.Name] {
			t.Errorf("line name %q is empty or repeated", l.Name)
		}
		names[l.Name] = true
		if len(l.ExpectStatus) == 0 {
			t.Errorf("%s: no expect_status", l.Name)
		}
		if _, err := l.NewRequest("http://example.com/graphql"); err != nil {
			t.Errorf("%s: %v", l.Name, err)
		}
	}
}

// TestCopyIsCurrent fails when the repository's copy of the corpus differs
// from the shared one (where the shared folder is present): refresh it with
// cp ../shared/corpus/hostile.jsonl testdata/corpus/.
func TestCopyIsCurrent(t *testing.T) {
	copyPath := repoCopy()
	if copyPath == "" {
		t.Fatal("testdata/corpus/hostile.jsonl is missing from the repository")
	}
	shared := find()
	if shared == "" {
		t.Skip("no shared folder beside the repository: only the copy is used")
	}
	a, err := os.ReadFile(shared)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatalf("%s differs from %s: copy the shared corpus into the repository", copyPath, shared)
	}
}
