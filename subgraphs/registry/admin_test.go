package registry_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/freeport"
	"github.com/fedgate/gateway/subgraphs/registry"
)

// TestAdminAPIIsNoRequestOracle is issue 15 item 13: introspect fetches
// only http(s) URLs of registry.introspect_hosts, and the answer for any
// other host is the same whether something listens there or not; names
// and schemas are capped.
func TestAdminAPIIsNoRequestOracle(t *testing.T) {
	store, err := registry.NewDisk(t.TempDir(), 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	in := startInstance(t, store)
	var hits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer target.Close()
	// A port where nothing listens, held for the test (internal/freeport):
	// no other process can start listening there meanwhile.
	closed := freeport.Reserve(t).Addr()
	type errOut struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	var messages []string
	for _, u := range []string{
		"file:///etc/passwd",
		"gopher://127.0.0.1:6379/_INFO",
		strings.Replace(target.URL, "127.0.0.1", "localhost", 1),
		"http://" + strings.Replace(closed, "127.0.0.1", "localhost", 1),
	} {
		var out errOut
		code := call(t, "POST", in.admin+"/subgraphs/probe/check", map[string]any{"url": u, "introspect": true}, &out)
		if code != 400 {
			t.Errorf("introspect %s: %d %+v, want 400", u, code, out)
		}
		messages = append(messages, strings.ReplaceAll(out.Error.Message, strings.TrimPrefix(u, "http://"), "HOST"))
	}
	if hits.Load() != 0 {
		t.Errorf("the admin API fetched a host not in registry.introspect_hosts (%d requests)", hits.Load())
	}
	if messages[2] != messages[3] {
		t.Errorf("a listening and a closed port answer differently: %q vs %q", messages[2], messages[3])
	}
	var out errOut
	long := strings.Repeat("n", 65)
	if code := call(t, "POST", in.admin+"/subgraphs/"+long+"/check", map[string]any{"url": "http://a", "sdl": "type Query { a: Int }"}, &out); code != 400 {
		t.Errorf("a 65-byte subgraph name: %d %+v", code, out)
	}
	var b strings.Builder
	b.WriteString("type Query { e: E } enum E {")
	for i := 0; b.Len() < registry.DefaultMaxSDLBytes; i++ {
		fmt.Fprintf(&b, " V%d", i)
	}
	b.WriteString(" }")
	start := time.Now()
	if code := call(t, "POST", in.admin+"/subgraphs/big/check", map[string]any{"url": "http://a", "sdl": b.String()}, &out); code != 400 {
		t.Errorf("a schema over registry.max_sdl_bytes: %d %+v", code, out)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusing an oversized schema took %v", d)
	}
	// 40,000 enum values (270 KB) took 20 s of validation: refused by
	// the member cap, at once.
	b.Reset()
	b.WriteString("type Query { e: E } enum E {")
	for i := range 40000 {
		fmt.Fprintf(&b, " V%d", i)
	}
	b.WriteString(" }")
	start = time.Now()
	if code := call(t, "POST", in.admin+"/subgraphs/big/check", map[string]any{"url": "http://a", "sdl": b.String()}, &out); code != 400 || !strings.Contains(out.Error.Message, "members") {
		t.Errorf("40,000 enum values: %d %+v", code, out)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusing 40,000 enum values took %v", d)
	}
}

// TestRemovedAuthorizationIsBreaking is issue 15 item 7: publishing a
// subgraph with @requiresScopes removed from a field (or @inaccessible
// removed) is a breaking change, refused unless forced.
func TestRemovedAuthorizationIsBreaking(t *testing.T) {
	store, err := registry.NewDisk(t.TempDir(), 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	in := startInstance(t, store)
	const link = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@authenticated", "@requiresScopes", "@policy", "@inaccessible"])
`
	protected := link + `type Query { me: User @authenticated }
type User @key(fields: "id") { id: ID! email: String @requiresScopes(scopes: [["read:email"]]) secret: String @inaccessible name: String }`
	var out registry.Outcome
	if code := call(t, "POST", in.admin+"/subgraphs/users?force=true", map[string]any{"url": "http://users", "sdl": protected}, &out); code != 200 || !out.Published {
		t.Fatalf("first publish: %d %+v", code, out)
	}
	for _, tc := range []struct{ name, sdl, kind string }{
		{"requiresScopes removed", strings.Replace(protected, ` @requiresScopes(scopes: [["read:email"]])`, "", 1), "AUTHORIZATION_REMOVED"},
		{"scopes changed", strings.Replace(protected, `[["read:email"]]`, `[["read:email"], ["guest"]]`, 1), "AUTHORIZATION_REMOVED"},
		{"authenticated removed", strings.Replace(protected, `me: User @authenticated`, `me: User`, 1), "AUTHORIZATION_REMOVED"},
		{"inaccessible removed", strings.Replace(protected, `secret: String @inaccessible`, `secret: String`, 1), "INACCESSIBLE_REMOVED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out registry.Outcome
			code := call(t, "POST", in.admin+"/subgraphs/users", map[string]any{"url": "http://users", "sdl": tc.sdl}, &out)
			if code != 409 || out.Published {
				t.Fatalf("unforced publish: %d %+v; want 409", code, out)
			}
			found := false
			for _, c := range out.Changes {
				found = found || c.Kind == tc.kind && c.Severity == "BREAKING"
			}
			if !found {
				t.Errorf("no BREAKING %s among %+v", tc.kind, out.Changes)
			}
		})
	}
}

// TestRefusalSaysHowToForce: the message of a change refused for its
// breaking changes names the request to send again with force: a delete
// is told to delete with force, not to publish (what every refusal said
// before), a check that a publish would need it.
func TestRefusalSaysHowToForce(t *testing.T) {
	store, err := registry.NewDisk(t.TempDir(), 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	in := startInstance(t, store)
	const link = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
`
	users := link + `type Query { me: User } type User @key(fields: "id") { id: ID! name: String }`
	reviews := link + `type Query { reviews: [String] }`
	for name, sdl := range map[string]string{"users": users, "reviews": reviews} {
		var out registry.Outcome
		if code := call(t, "POST", in.admin+"/subgraphs/"+name+"?force=true", map[string]any{"url": "http://" + name, "sdl": sdl}, &out); code != 200 || !out.Published {
			t.Fatalf("publish %s: %d %+v", name, code, out)
		}
	}
	without := map[string]any{"url": "http://users", "sdl": strings.Replace(users, " name: String", "", 1)}
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		want               string
	}{
		{"publish", "POST", "/subgraphs/users", without, 409, "1 breaking change(s); publish again with force (?force=true) to accept them"},
		{"check", "POST", "/subgraphs/users/check", without, 200, "1 breaking change(s); a publish needs force (?force=true) to accept them"},
		{"delete", "DELETE", "/subgraphs/reviews", nil, 409, "1 breaking change(s); delete again with force (?force=true) to accept them"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out registry.Outcome
			code := call(t, tc.method, in.admin+tc.path, tc.body, &out)
			if code != tc.status || out.OK || out.Message != tc.want {
				t.Errorf("%d ok=%v %q, want %d %q", code, out.OK, out.Message, tc.status, tc.want)
			}
		})
	}
}
