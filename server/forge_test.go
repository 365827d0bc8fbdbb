package server_test

import (
	"testing"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/server"
)

// TestClaimHeadersCannotBeForged is issue 15 item 3: a claims rule sends
// the verified "sub" as X-User; whatever other rule (in the same set or
// the other one: All and the subgraph's) copies, renames or inserts a
// header of that name, the subgraph sees only the verified claim, and
// nothing for an anonymous caller. The ratings subgraph answers myNote
// with "note of " + X-User.
func TestClaimHeadersCannotBeForged(t *testing.T) {
	claims := []auth.ClaimHeader{{Claim: "sub", Header: "X-User"}}
	cases := []struct {
		name     string
		all, sub auth.HeaderRules
	}{
		{"claims in all, forward in subgraph", auth.HeaderRules{Claims: claims}, auth.HeaderRules{Forward: []string{"x-user"}}},
		{"claims in all, forward * in subgraph", auth.HeaderRules{Claims: claims}, auth.HeaderRules{Forward: []string{"*"}}},
		{"claims in all, rename in subgraph", auth.HeaderRules{Claims: claims}, auth.HeaderRules{Rename: []auth.HeaderRename{{From: "X-Evil", To: "x-user"}}}},
		{"claims in all, insert in subgraph", auth.HeaderRules{Claims: claims}, auth.HeaderRules{Insert: []auth.HeaderInsert{{Name: "X-User", Value: "mallory"}}}},
		{"claims and forward in all", auth.HeaderRules{Claims: claims, Forward: []string{"X-User"}}, auth.HeaderRules{}},
		{"claims and rename in all", auth.HeaderRules{Claims: claims, Rename: []auth.HeaderRename{{From: "X-Evil", To: "X-User"}}}, auth.HeaderRules{}},
		{"claims in subgraph, forward * in all", auth.HeaderRules{Forward: []string{"*"}}, auth.HeaderRules{Claims: claims}},
		{"claims in subgraph, rename in all", auth.HeaderRules{Rename: []auth.HeaderRename{{From: "X-Evil", To: "X-User"}}}, auth.HeaderRules{Claims: claims}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := newCacheEnv(t)
			opts := server.DefaultOptions()
			opts.Cache.Response.Enabled = false
			opts.Auth.JWT.Keys = []auth.KeyConfig{{KID: "test", Algorithms: []string{"HS256"}, Secret: testSecret}}
			opts.Auth.Headers.All = c.all
			opts.Auth.Headers.Subgraphs = map[string]auth.HeaderRules{"ratings": c.sub}
			g := env.rawGateway(t, opts)
			forged := map[string]string{"X-User": "admin", "X-Evil": "admin"}
			for _, user := range []string{"", "bob"} {
				h := map[string]string{}
				for k, v := range forged {
					h[k] = v
				}
				if user != "" {
					h["Authorization"] = "Bearer " + tokenFor(t, user)
				}
				a := g.postWith(t, `{ myNote }`, nil, h)
				if a.Status != 200 {
					t.Fatalf("%d %s", a.Status, a.Body)
				}
				if got, want := a.Data["myNote"], "note of "+user; got != want {
					t.Errorf("caller %q with forged headers: myNote %q, want %q", user, got, want)
				}
			}
		})
	}
}

// TestConnectionHeadersNotForwarded is issue 15 item 11: a header the
// client names in its Connection header belongs to that connection and is
// not forwarded, not even by "*".
func TestConnectionHeadersNotForwarded(t *testing.T) {
	env := newCacheEnv(t)
	opts := server.DefaultOptions()
	opts.Cache.Response.Enabled = false
	opts.Auth.Headers.All = auth.HeaderRules{Forward: []string{"*"}, Rename: []auth.HeaderRename{{From: "X-Session", To: "X-Other"}}}
	g := env.rawGateway(t, opts)
	a := g.postWith(t, `{ myNote }`, nil, map[string]string{"X-User": "alice", "Connection": "X-User"})
	if a.Status != 200 {
		t.Fatalf("%d %s", a.Status, a.Body)
	}
	if got := a.Data["myNote"]; got != "note of " {
		t.Errorf("myNote %q: the subgraph received X-User, which the client's Connection header names", got)
	}
	a = g.postWith(t, `{ myNote }`, nil, map[string]string{"X-User": "alice"})
	if got := a.Data["myNote"]; got != "note of alice" {
		t.Errorf("without Connection: myNote %q, want note of alice (the test must be able to see the header)", got)
	}
}
