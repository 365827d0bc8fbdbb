package executor

import (
	"encoding/json"
	"github.com/fedgate/gateway/internal/jsonvalue"
	"testing"
)

func TestAppendString(t *testing.T) {
	tests := []string{
		"plain",
		`quote " and backslash \`,
		"control \x01 \x1f tab\t newline\n return\r",
		"unicode é ✓ 😀",
		"",
	}
	for _, in := range tests {
		out := jsonvalue.AppendString(nil, []byte(in))
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Errorf("appendString(%q) = %s: not JSON: %v", in, out, err)
			continue
		}
		if back != in {
			t.Errorf("appendString(%q) round-trips to %q", in, back)
		}
	}
}
