package server

import (
	"encoding/json"
	"testing"
)

// TestAppendExtensions: the cost and plan extensions join the object a
// body starts with (the executor's valueCompletion), or a new one at its
// end; the body stays one JSON object in every case. An empty leading
// object (a hook may answer one) made `{"cost":1,}` before.
func TestAppendExtensions(t *testing.T) {
	ext := []extension{{key: "cost", value: []byte(`1`)}}
	tests := []struct {
		name, body, want string
	}{
		{"none", `{"data":{}}`, `{"data":{},"extensions":{"cost":1}}`},
		{"leading", `{"extensions":{"valueCompletion":[]},"data":{}}`, `{"extensions":{"cost":1,"valueCompletion":[]},"data":{}}`},
		{"leading empty", `{"extensions":{},"data":{}}`, `{"extensions":{"cost":1},"data":{}}`},
		{"not an object", `[1]`, `[1]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(appendExtensions([]byte(tt.body), ext))
			if got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Fatalf("not JSON: %s", got)
			}
		})
	}
}
