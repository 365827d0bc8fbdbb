package executor

import (
	"encoding/json"
	"testing"

	"github.com/fedgate/gateway/planner"
)

// TestRequestBodyIsJSON: the operation text and name sent to a subgraph are
// quoted as JSON strings. Go's strconv quoting wrote \a, \v, \x.. and
// \U........ escapes, which are not JSON, for control characters and
// non-printable runes that a client's string literal can carry.
func TestRequestBodyIsJSON(t *testing.T) {
	for _, tc := range []struct {
		name, operation string
	}{
		{"plain", `{ me { name } }`},
		{"quote and backslash", `{ product(upc: "a\"b\\c") { name } }`},
		{"bell and vertical tab", "{ product(upc: \"\a\v\") { name } }"},
		{"non-printable beyond the BMP", "{ product(upc: \"\U000E0001\") { name } }"},
		{"line and paragraph separators", "{ product(upc: \"\u2028\u2029\") { name } }"},
		{"every control byte", func() string {
			b := []byte(`{ product(upc: "`)
			for c := byte(0); c < 0x20; c++ {
				b = append(b, c)
			}
			return string(append(b, `") { name } }`...))
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := requestBody(&planner.Fetch{Operation: tc.operation, OperationName: "Op\a"}, []byte(`{}`))
			var got struct {
				Query         string `json:"query"`
				OperationName string `json:"operationName"`
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("body is not JSON: %v\n%s", err, body)
			}
			if got.Query != tc.operation || got.OperationName != "Op\a" {
				t.Fatalf("round trip changed the text: %q / %q", got.Query, got.OperationName)
			}
		})
	}
}
