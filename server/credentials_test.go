package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/limits"
	"github.com/fedgate/gateway/server"
)

// TestUnverifiedCredentialsNeverForwarded: the gateway verifies one value
// of the token header (the first), while a rule that forwards that header
// sends every value on. A client that repeats the header (an empty or
// valid first value, a forged second one) made the subgraph receive a
// credential the gateway never verified, beside or instead of the
// verified one. A request carrying the token header more than once is now
// refused (401 UNAUTHENTICATED) before any subgraph is asked; one value,
// valid, is forwarded as it came.
func TestUnverifiedCredentialsNeverForwarded(t *testing.T) {
	env := newCacheEnv(t)
	auths := recordRatingsHeader(t, env, "Authorization")
	opts := server.DefaultOptions()
	opts.Cache.Response.Enabled = false
	opts.Auth.JWT.Keys = []auth.KeyConfig{{KID: "test", Algorithms: []string{"HS256"}, Secret: testSecret}}
	opts.Auth.Headers.All = auth.HeaderRules{Forward: []string{"Authorization"}}
	g := env.rawGateway(t, opts)

	valid := "Bearer " + tokenFor(t, "bob")
	forged := "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9."
	cases := []struct {
		name   string
		values []string
		status int
	}{
		{"one valid token", []string{valid}, http.StatusOK},
		{"empty, then forged", []string{"", forged}, http.StatusUnauthorized},
		{"valid, then forged", []string{valid, forged}, http.StatusUnauthorized},
		{"forged, then valid", []string{forged, valid}, http.StatusUnauthorized},
		{"valid twice", []string{valid, valid}, http.StatusUnauthorized},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			auths.reset()
			b, _ := json.Marshal(map[string]any{"query": "{ myNote }"})
			req, _ := http.NewRequest(http.MethodPost, g.URL, bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			req.Header["Authorization"] = c.values
			a, err := g.do(req)
			if err != nil {
				t.Fatal(err)
			}
			if a.Status != c.status {
				t.Fatalf("status %d, want %d: %s", a.Status, c.status, a.Body)
			}
			if c.status != http.StatusOK {
				if len(a.Errors) != 1 || a.Errors[0].Extensions["code"] != "UNAUTHENTICATED" {
					t.Errorf("errors %s, want one UNAUTHENTICATED", a.Body)
				}
			}
			seen := auths.values()
			for _, got := range seen {
				if len(got) != 1 || got[0] != valid {
					t.Errorf("the subgraph received Authorization %q; only the verified %q may reach it", got, valid)
				}
			}
			if c.status == http.StatusOK && len(seen) != 1 {
				t.Errorf("%d subgraph requests, want 1 (the test must see the forwarded header)", len(seen))
			}
		})
	}
}

// TestAPIKeysNotForwardedByWildcard: the API key header of
// limits.clients is a client's credential for the gateway's tiers; like
// Authorization, "*" does not send it to the subgraphs (before, every
// subgraph received the key), while a rule that names it does.
func TestAPIKeysNotForwardedByWildcard(t *testing.T) {
	for _, c := range []struct {
		name    string
		forward []string
		want    []string
	}{
		{"wildcard", []string{"*"}, nil},
		{"named", []string{"*", "x-api-key"}, []string{"k-123"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := newCacheEnv(t)
			keys := recordRatingsHeader(t, env, "X-Api-Key")
			cfg := limits.DefaultConfig()
			cfg.Clients.APIKeys = map[string]limits.APIKey{"partner": {Key: "k-123"}}
			opts := server.DefaultOptions()
			opts.Cache.Response.Enabled = false
			opts.Policy = limits.NewPolicy(cfg, limits.PolicyOptions{})
			opts.Auth.Headers.All = auth.HeaderRules{Forward: c.forward}
			g := env.rawGateway(t, opts)
			a := g.postWith(t, `{ myNote }`, nil, map[string]string{"X-Api-Key": "k-123", "X-Request-Id": "r1"})
			if a.Status != http.StatusOK {
				t.Fatalf("%d %s", a.Status, a.Body)
			}
			seen := keys.values()
			if len(seen) != 1 {
				t.Fatalf("%d subgraph requests, want 1", len(seen))
			}
			if !slices.Equal(seen[0], c.want) {
				t.Errorf("the subgraph received X-Api-Key %q, want %q", seen[0], c.want)
			}
		})
	}
}

// TestUnverifiedCookiesNeverForwarded: with the token in a cookie and a
// rule forwarding Cookie, the subgraph receives the token cookie only as
// the gateway verified it. A second copy net/http cannot parse (a trailing
// backslash) was skipped by the gateway, which verified the first, and
// forwarded for a lenient parser behind it to read; now it is refused. The
// same value twice (a browser's cookie set for two paths) is one token.
func TestUnverifiedCookiesNeverForwarded(t *testing.T) {
	env := newCacheEnv(t)
	cookies := recordRatingsHeader(t, env, "Cookie")
	opts := server.DefaultOptions()
	opts.Cache.Response.Enabled = false
	opts.Auth.JWT.Cookie = "session"
	opts.Auth.JWT.Keys = []auth.KeyConfig{{KID: "test", Algorithms: []string{"HS256"}, Secret: testSecret}}
	opts.Auth.Headers.All = auth.HeaderRules{Forward: []string{"Cookie"}}
	g := env.rawGateway(t, opts)

	valid := "session=" + tokenFor(t, "bob")
	forged := `session=eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.\`
	cases := []struct {
		name, cookie string
		status       int
	}{
		{"one valid token", valid, http.StatusOK},
		{"the same token twice", valid + "; " + valid, http.StatusOK},
		{"valid, then a forged copy net/http skips", valid + "; " + forged, http.StatusUnauthorized},
		{"a forged copy alone", forged, http.StatusUnauthorized},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cookies.reset()
			a := g.postWith(t, `{ myNote }`, nil, map[string]string{"Cookie": c.cookie})
			if a.Status != c.status {
				t.Fatalf("status %d, want %d: %s", a.Status, c.status, a.Body)
			}
			seen := cookies.values()
			if c.status != http.StatusOK && len(seen) > 0 {
				t.Errorf("the subgraph received Cookie %q from a refused request", seen)
			}
			if c.status == http.StatusOK && (len(seen) != 1 || !slices.Equal(seen[0], []string{c.cookie})) {
				t.Errorf("the subgraph received Cookie %q, want [%q]", seen, c.cookie)
			}
		})
	}
}

// headerRecorder holds the values of one header in every request the
// ratings subgraph received, a request a row.
type headerRecorder struct {
	mu   sync.Mutex
	seen [][]string
}

// recordRatingsHeader points env's ratings subgraph at a server that
// records the values of header in each request and then serves it as the
// ratings subgraph does.
func recordRatingsHeader(t *testing.T, env *cacheEnv, header string) *headerRecorder {
	t.Helper()
	h := &headerRecorder{}
	recorder := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.seen = append(h.seen, r.Header.Values(header))
		h.mu.Unlock()
		env.ratings.ServeHTTP(w, r)
	}))
	t.Cleanup(recorder.Close)
	env.urls["ratings"] = recorder.URL
	return h
}

// reset forgets the requests recorded so far.
func (h *headerRecorder) reset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seen = nil
}

// values returns the header's values in each request recorded so far.
func (h *headerRecorder) values() [][]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.seen)
}

// TestTokenCookieBesideAHeaderToken: with tokens read from the header and
// from a cookie, a request carrying a valid token in the header and a
// forged one in the cookie is refused when a rule forwards Cookie: the
// subgraph would receive the cookie's token, which nobody verified, beside
// the verified caller. Before, the header won and the forged cookie
// reached the subgraph. The same token in both is served.
func TestTokenCookieBesideAHeaderToken(t *testing.T) {
	env := newCacheEnv(t)
	cookies := recordRatingsHeader(t, env, "Cookie")
	opts := server.DefaultOptions()
	opts.Cache.Response.Enabled = false
	opts.Auth.JWT.Keys = []auth.KeyConfig{{KID: "test", Algorithms: []string{"HS256"}, Secret: testSecret}}
	opts.Auth.JWT.Cookie = "session"
	opts.Auth.Headers.All = auth.HeaderRules{Forward: []string{"Cookie"}}
	g := env.rawGateway(t, opts)

	token := tokenFor(t, "bob")
	forged := "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9."
	for _, c := range []struct {
		name, cookie string
		status       int
	}{
		{"a forged token cookie", "session=" + forged, http.StatusUnauthorized},
		{"the same token", "session=" + token, http.StatusOK},
		{"other cookies", "theme=dark", http.StatusOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			cookies.reset()
			b, _ := json.Marshal(map[string]any{"query": "{ myNote }"})
			req, _ := http.NewRequest(http.MethodPost, g.URL, bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Cookie", c.cookie)
			a, err := g.do(req)
			if err != nil {
				t.Fatal(err)
			}
			if a.Status != c.status {
				t.Fatalf("status %d, want %d: %s", a.Status, c.status, a.Body)
			}
			for _, got := range cookies.values() {
				if strings.Contains(strings.Join(got, ";"), forged) {
					t.Errorf("the subgraph received the unverified token cookie: %q", got)
				}
			}
		})
	}
}
