package limits

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// hostileLine is one line of shared/corpus/hostile.jsonl (see its README).
type hostileLine struct {
	Name     string            `json:"name"`
	Method   string            `json:"method"`
	Headers  map[string]string `json:"headers"`
	URLQuery map[string]string `json:"url_query"`
	Body     json.RawMessage   `json:"body"`
	Raw      *string           `json:"raw"`
	RawB64   *string           `json:"raw_b64"`
	Gen      *struct {
		Target   string `json:"target"`
		Prefix   string `json:"prefix"`
		Unit     string `json:"unit"`
		Count    int    `json:"count"`
		Sep      string `json:"sep"`
		Middle   string `json:"middle"`
		TailUnit string `json:"tail_unit"`
		Suffix   string `json:"suffix"`
	} `json:"gen"`
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

// query returns the GraphQL document a corpus line carries, if any.
func (l hostileLine) query() (string, bool) {
	if q, ok := l.URLQuery["query"]; ok {
		return q, true
	}
	var body []byte
	switch {
	case l.Gen != nil:
		var b strings.Builder
		b.WriteString(l.Gen.Prefix)
		for i := range l.Gen.Count {
			if i > 0 {
				b.WriteString(l.Gen.Sep)
			}
			b.WriteString(strings.ReplaceAll(l.Gen.Unit, "{i}", strconv.Itoa(i)))
		}
		b.WriteString(l.Gen.Middle)
		b.WriteString(strings.Repeat(l.Gen.TailUnit, l.Gen.Count))
		b.WriteString(l.Gen.Suffix)
		if l.Gen.Target == "query" {
			return b.String(), true
		}
		body = []byte(b.String())
	case l.Body != nil:
		body = l.Body
	case l.Raw != nil:
		body = []byte(*l.Raw)
	case l.RawB64 != nil:
		b, err := base64.StdEncoding.DecodeString(*l.RawB64)
		if err != nil {
			return "", false
		}
		body = b
	}
	var env struct {
		Query string `json:"query"`
	}
	if json.Unmarshal(body, &env) != nil || env.Query == "" {
		return "", false
	}
	return env.Query, true
}

// run feeds a document through the three stages of this package.
func (s Static) run(query string) error {
	doc, err := s.Parse(query) // runs Prescan
	if err != nil {
		return err
	}
	return s.Check(doc)
}

func TestHostileCorpus(t *testing.T) {
	// want is the code these stages return for each line's document; ""
	// means the document passes them and a later stage answers the attack
	// (named in the comment).
	want := map[string]string{
		"alias_bomb_2000":              CodeMaxAliasesExceeded,
		"alias_cost_fanout_50":         CodeMaxAliasesExceeded,
		"shareable_alias_1024":         CodeMaxAliasesExceeded,
		"dup_field_3500":               CodeMaxFieldsExceeded,
		"dup_field_20000":              CodeMaxTokensExceeded,
		"deep_valid_200":               CodeMaxNestingExceeded, // raw nesting 402; MAX_DEPTH_EXCEEDED without Prescan, see TestCheck
		"deep_raw_600k_stack_overflow": CodeMaxNestingExceeded,
		"body_over_limit_3mb":          CodeMaxNestingExceeded, // the request body cap answers first
		"fragment_cycle":               "",                     // validation: NoFragmentCycles
		"fragment_fanout_2p30":         CodeMaxFieldsExceeded,
		"directive_repeat_2000":        CodeMaxDirectivesExceeded,
		"unknown_directives_3000":      CodeMaxDirectivesExceeded,
		"long_string_literal_1mb":      "", // validation, with clipped messages
		"invalid_utf8_bytes":           CodeParseFailed,
		"truncated_json":               "", // request decoding
		"variables_not_object":         "", // request decoding
		"json_case_variant_key":        "", // request decoding
		"variable_wrong_type":          "", // variable coercion
		"variable_int32_overflow":      "", // variable coercion
		"batch_10k":                    "", // request decoding
		"csrf_text_plain_post":         "", // request decoding
		"csrf_form_urlencoded":         "", // request decoding
		"get_mutation":                 "", // server: operation type vs method
		"post_missing_content_type":    "", // request decoding
		"introspection_depth":          "", // validation / introspection policy
		"entities_from_client":         "", // validation against the API schema
		"apq_hash_mismatch":            "", // persisted queries
		"jwt_alg_none":                 "", // auth
	}
	s := DefaultStatic()
	for _, l := range loadHostile(t) {
		t.Run(l.Name, func(t *testing.T) {
			code, ok := want[l.Name]
			if !ok {
				t.Fatalf("corpus line %q has no expectation here; add one", l.Name)
			}
			q, ok := l.query()
			if !ok {
				if code != "" {
					t.Fatalf("no query in line, want %s", code)
				}
				return
			}
			assertCode(t, s.run(q), code)
		})
	}
}

// assertCode checks that err is nil when code is "", else an *Error with
// that code, status 400 and a short message.
func assertCode(t *testing.T, err error, code string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("got %v, want no error", err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v (%T), want *Error %s", err, err, code)
	}
	if e.Code != code || e.ExtensionCode() != code {
		t.Fatalf("got code %s (%q), want %s", e.Code, e.Message, code)
	}
	if e.Status != 400 || e.HTTPStatus() != 400 {
		t.Fatalf("got status %d, want 400", e.Status)
	}
	if len(e.Message) > maxMessage+32 || e.Error() != e.Message {
		t.Fatalf("message too long or inconsistent (%d bytes)", len(e.Message))
	}
}
