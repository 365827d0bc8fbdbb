package request

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// hostileLine is one line of shared/corpus/hostile.jsonl (see its README).
type hostileLine struct {
	Name      string            `json:"name"`
	Method    string            `json:"method"`
	Headers   map[string]string `json:"headers"`
	URLQuery  map[string]string `json:"url_query"`
	Body      json.RawMessage   `json:"body"`
	Raw       *string           `json:"raw"`
	RawB64    *string           `json:"raw_b64"`
	Gen       *gen              `json:"gen"`
	HeaderGen map[string]struct {
		Prefix string `json:"prefix"`
		Unit   string `json:"unit"`
		Count  int    `json:"count"`
	} `json:"header_gen"`
}

type gen struct {
	Target   string `json:"target"`
	Prefix   string `json:"prefix"`
	Unit     string `json:"unit"`
	Count    int    `json:"count"`
	Sep      string `json:"sep"`
	Middle   string `json:"middle"`
	TailUnit string `json:"tail_unit"`
	Suffix   string `json:"suffix"`
}

func (g *gen) text() string {
	var b strings.Builder
	b.WriteString(g.Prefix)
	for i := range g.Count {
		if i > 0 {
			b.WriteString(g.Sep)
		}
		b.WriteString(strings.ReplaceAll(g.Unit, "{i}", strconv.Itoa(i)))
	}
	b.WriteString(g.Middle)
	b.WriteString(strings.Repeat(g.TailUnit, g.Count))
	b.WriteString(g.Suffix)
	return b.String()
}

// loadHostile reads the hostile corpus, looking for shared/corpus in the
// parent directories of the package; it skips the test if there is none.
func loadHostile(t testing.TB) []hostileLine {
	t.Helper()
	var path string
	for _, dir := range []string{"..", "../..", "../../.."} {
		p := filepath.Join(dir, "shared", "corpus", "hostile.jsonl")
		if _, err := os.Stat(p); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Skip("shared/corpus/hostile.jsonl not found")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []hostileLine
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var l hostileLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("corpus line %d: %v", len(lines)+1, err)
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// httpRequest builds the HTTP request a corpus line describes.
func (l hostileLine) httpRequest(t *testing.T) *http.Request {
	var body []byte
	switch {
	case l.Gen != nil && l.Gen.Target == "query":
		b, err := json.Marshal(map[string]string{"query": l.Gen.text()})
		if err != nil {
			t.Fatal(err)
		}
		body = b
	case l.Gen != nil:
		body = []byte(l.Gen.text())
	case l.Body != nil:
		body = l.Body
	case l.Raw != nil:
		body = []byte(*l.Raw)
	case l.RawB64 != nil:
		b, err := base64.StdEncoding.DecodeString(*l.RawB64)
		if err != nil {
			t.Fatal(err)
		}
		body = b
	}
	target := "/graphql"
	if len(l.URLQuery) > 0 {
		q := url.Values{}
		for k, v := range l.URLQuery {
			q.Set(k, v)
		}
		target += "?" + q.Encode()
	}
	r := httptest.NewRequest(l.Method, target, bytes.NewReader(body))
	r.Header.Set("Accept", "application/graphql-response+json, application/json")
	for k, v := range l.Headers {
		r.Header.Set(k, v)
	}
	for k, g := range l.HeaderGen {
		r.Header.Set(k, g.Prefix+strings.Repeat(g.Unit, g.Count))
	}
	return r
}

func TestHostileCorpus(t *testing.T) {
	type expect struct {
		code   string // "" when Decode accepts the line
		status int
		check  func(t *testing.T, reqs []Request)
	}
	ok := expect{} // Decode accepts it; a later stage answers the attack
	query := func(want string) expect {
		return expect{check: func(t *testing.T, reqs []Request) {
			if reqs[0].Query != want {
				t.Fatalf("runs %q, want %q", reqs[0].Query, want)
			}
		}}
	}
	want := map[string]expect{
		"alias_bomb_2000":              ok, // limits.Check
		"alias_cost_fanout_50":         ok, // limits.Check / cost
		"shareable_alias_1024":         ok, // limits.Check / planner
		"dup_field_3500":               ok, // limits.Check
		"dup_field_20000":              ok, // limits.Parse (tokens)
		"deep_valid_200":               ok, // limits.Prescan / Check
		"deep_raw_600k_stack_overflow": ok, // 1.8 MB fits the 2 MiB cap; limits.Prescan
		"body_over_limit_3mb":          {code: CodeRequestTooLarge, status: 413},
		"fragment_cycle":               ok, // validation
		"fragment_fanout_2p30":         ok, // limits.Check
		"directive_repeat_2000":        ok, // limits.Check
		"unknown_directives_3000":      ok, // limits.Check
		"long_string_literal_1mb":      ok, // validation, clipped messages
		"invalid_utf8_bytes":           {code: CodeBadRequest, status: 400},
		"truncated_json":               {code: CodeBadRequest, status: 400},
		"variables_not_object":         {code: CodeBadRequest, status: 400},
		"json_case_variant_key":        query("{me{id}}"),
		"variable_wrong_type":          ok, // variable coercion
		"variable_int32_overflow": {check: func(t *testing.T, reqs []Request) {
			if !bytes.Contains(reqs[0].Variables, []byte("2147483648")) {
				t.Fatalf("variables %s lost the number's text", reqs[0].Variables)
			}
		}}, // variable coercion
		"batch_10k":                 {code: CodeBatchLimitExceeded, status: 400},
		"csrf_text_plain_post":      {code: CodeUnsupportedMediaType, status: 415},
		"csrf_form_urlencoded":      {code: CodeUnsupportedMediaType, status: 415},
		"get_mutation":              query("mutation{__typename}"), // the server refuses mutations over GET
		"post_missing_content_type": {code: CodeUnsupportedMediaType, status: 415},
		"introspection_depth":       ok, // validation / introspection policy
		"entities_from_client":      ok, // validation against the API schema
		"apq_hash_mismatch": {check: func(t *testing.T, reqs []Request) {
			if reqs[0].Query == "" || !bytes.Contains(reqs[0].Extensions, []byte("sha256Hash")) {
				t.Fatalf("query or extensions lost: %q %s", reqs[0].Query, reqs[0].Extensions)
			}
		}}, // persisted queries
		"jwt_alg_none": ok, // auth
	}
	opt := Options{MaxBodyBytes: DefaultMaxBodyBytes, AllowBatch: true, MaxBatch: 100}
	for _, l := range loadHostile(t) {
		t.Run(l.Name, func(t *testing.T) {
			exp, found := want[l.Name]
			if !found {
				t.Fatalf("corpus line %q has no expectation here; add one", l.Name)
			}
			reqs, _, err := Decode(l.httpRequest(t), opt)
			if exp.code != "" {
				assertError(t, err, exp.code, exp.status)
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if len(reqs) != 1 {
				t.Fatalf("got %d requests", len(reqs))
			}
			if exp.check != nil {
				exp.check(t, reqs)
			}
		})
	}
}
