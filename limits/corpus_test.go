package limits

import (
	"errors"
	"testing"

	"github.com/fedgate/gateway/internal/corpus"
)

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
	for _, l := range corpus.Load(t) {
		t.Run(l.Name, func(t *testing.T) {
			code, ok := want[l.Name]
			if !ok {
				t.Fatalf("corpus line %q has no expectation here; add one", l.Name)
			}
			q, ok := l.Query()
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
