package request

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"unicode/utf8"

	"github.com/fedgate/gateway/limits"
)

// FuzzDecode checks that Decode never panics, answers only with the
// documented statuses, never accepts a body that encoding/json considers
// invalid, and reads the same query, operation name, variables and
// extensions as a case-sensitive map decode by encoding/json.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"query":"{me{id}}"}`,
		`{"query":"{a}","Query":"{b}"}`,
		`{"query":"{a}","query":"{b}"}`,
		`{"query":"q","operationName":"Q","variables":{"n":2147483648,"s":"\u00e9\ud83d\ude00","a":[1,-2.5e+3,true,null]},"extensions":{"persistedQuery":{"version":1}}}`,
		`{"extensions":{"persistedQuery":{"sha256Hash":"x"}}}`,
		`[{"query":"{a}"},{"query":"{b}"}]`,
		`{"query":"\ud800"}`,
		"{\"query\":\"\xff\"}",
		`{"query":"{a}","variables":{"a":{"b":{"c":[[[{}]]]}}}}`,
		`{"query":"{a}",}`,
		`  {"query" : "{a}"}  `,
		`{"query":"{a}","variables":[1]}`,
		`{"query":"query Q {\n  users {\n    id\t\"name\"\\ \u00e9 ` + "é😀" + ` }\n}","operationName":"Q"}`,
		`{"query":"abcdefghijklmnopq\u0041rstuvwxyz0123456789abcdefg","operationName":"abcdefgh\/ijklmnop"}`,
	} {
		f.Add([]byte(s))
	}
	opt := Options{MaxBodyBytes: 1 << 16, AllowBatch: true, MaxBatch: 4}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		reqs, batched, err := Decode(r, opt)
		if err != nil {
			var e *limits.Error
			if !errors.As(err, &e) || (e.Status != 400 && e.Status != 413) || len(e.Message) > 200 {
				t.Fatalf("bad error %T %v", err, err)
			}
			return
		}
		if !json.Valid(body) || !utf8.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		var entries []map[string]json.RawMessage
		if batched {
			if err := json.Unmarshal(body, &entries); err != nil {
				t.Fatal(err)
			}
		} else {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			entries = append(entries, m)
		}
		if len(entries) != len(reqs) {
			t.Fatalf("%d requests, encoding/json sees %d", len(reqs), len(entries))
		}
		for i, m := range entries {
			var query, opName string
			json.Unmarshal(m["query"], &query)
			json.Unmarshal(m["operationName"], &opName)
			if reqs[i].Query != query || reqs[i].OperationName != opName {
				t.Fatalf("request %d: query %q / %q, encoding/json reads %q / %q", i, reqs[i].Query, reqs[i].OperationName, query, opName)
			}
			sameObject(t, "variables", reqs[i].Variables, m["variables"])
			sameObject(t, "extensions", reqs[i].Extensions, m["extensions"])
		}
	})
}

func sameObject(t *testing.T, name string, got []byte, want json.RawMessage) {
	t.Helper()
	if string(want) == "null" {
		want = nil
	}
	if (got == nil) != (want == nil) || !bytes.Equal(got, want) {
		t.Fatalf("%s %q, encoding/json reads %q", name, got, want)
	}
}
