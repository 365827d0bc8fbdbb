package subscriptions

import (
	"encoding/json"
	"testing"
)

// TestInitTokenRefusesTwoTokens: a connection_init payload naming its
// token more than once is refused unless every entry is the same string;
// what the gateway verifies must be what a subgraph given the payload
// reads, whatever entry it reads.
func TestInitTokenRefusesTwoTokens(t *testing.T) {
	for _, c := range []struct {
		name, payload, token string
		ok                   bool
	}{
		{"none", `{}`, "", true},
		{"no payload", ``, "", true},
		{"null", `null`, "", true},
		{"not an object", `["Bearer a"]`, "", true},
		{"top level", `{"Authorization":"Bearer a"}`, "Bearer a", true},
		{"lower case", `{"authorization":"Bearer a"}`, "Bearer a", true},
		{"in headers", `{"headers":{"Authorization":"Bearer a"}}`, "Bearer a", true},
		{"same twice", `{"Authorization":"Bearer a","headers":{"authorization":"Bearer a"}}`, "Bearer a", true},
		{"other entries", `{"Authorization":"Bearer a","headers":{"X-Tenant":"t"},"x":[1,{"Authorization":"b"}]}`, "Bearer a", true},
		{"two cases", `{"Authorization":"Bearer a","authorization":"Bearer b"}`, "", false},
		{"repeated key", `{"Authorization":"Bearer a","Authorization":"Bearer b"}`, "", false},
		{"top and headers", `{"Authorization":"Bearer a","headers":{"Authorization":"Bearer b"}}`, "", false},
		{"headers of another case", `{"Authorization":"Bearer a","Headers":{"Authorization":"Bearer b"}}`, "", false},
		{"repeated headers", `{"headers":{"Authorization":"Bearer a"},"headers":{"Authorization":"Bearer b"}}`, "", false},
		{"not a string", `{"Authorization":["Bearer b"]}`, "", false},
		{"string and not", `{"Authorization":"Bearer a","headers":{"Authorization":1}}`, "", false},
		// An empty entry names no token, for the gateway or any reader.
		{"null beside", `{"Authorization":null,"headers":{"Authorization":"Bearer a"}}`, "Bearer a", true},
		{"empty beside", `{"Authorization":"Bearer a","headers":{"authorization":""}}`, "Bearer a", true},
		{"empty and two", `{"Authorization":"","headers":{"Authorization":"Bearer a","authorization":"Bearer b"}}`, "", false},
		{"only empty", `{"Authorization":"","headers":{"Authorization":null}}`, "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			tok, ok := initToken(json.RawMessage(c.payload), "Authorization")
			if tok != c.token || ok != c.ok {
				t.Errorf("initToken(%s) = %q, %v; want %q, %v", c.payload, tok, ok, c.token, c.ok)
			}
		})
	}
}
