package request

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/fedgate/gateway/internal/corpus"
)

// httpRequest builds the HTTP request a corpus line describes.
func httpRequest(t *testing.T, l corpus.Line) *http.Request {
	t.Helper()
	r, err := l.NewRequest("http://example.com/graphql")
	if err != nil {
		t.Fatal(err)
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
	for _, l := range corpus.Load(t) {
		t.Run(l.Name, func(t *testing.T) {
			exp, found := want[l.Name]
			if !found {
				t.Fatalf("corpus line %q has no expectation here; add one", l.Name)
			}
			reqs, _, err := Decode(httpRequest(t, l), opt)
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
