package auth

import (
	"net/http"
	"testing"
)

// TestTokenFromRefusesRepeats: the header and the cookie the token comes
// in are read once; a request that carries either more than once is
// refused, since a rule forwarding them would send the subgraphs a value
// the gateway did not verify (TestUnverifiedCredentialsNeverForwarded in
// server shows it end to end).
func TestTokenFromRefusesRepeats(t *testing.T) {
	cfg := JWTConfig{Header: "Authorization", Prefix: "Bearer", Cookie: "session"}
	cases := []struct {
		name    string
		headers []string
		cookies []string
		token   string
		found   bool
		err     error
	}{
		{name: "nothing"},
		{name: "one header", headers: []string{"Bearer a"}, token: "a", found: true},
		{name: "empty header, no cookie", headers: []string{""}},
		{name: "empty header, then a cookie", headers: []string{""}, cookies: []string{"session=c"}, token: "c", found: true},
		{name: "header twice", headers: []string{"Bearer a", "Bearer b"}, found: true, err: errRepeatedToken},
		{name: "empty header, then one", headers: []string{"", "Bearer b"}, found: true, err: errRepeatedToken},
		{name: "same header twice", headers: []string{"Bearer a", "Bearer a"}, found: true, err: errRepeatedToken},
		{name: "one cookie", cookies: []string{"session=c"}, token: "c", found: true},
		{name: "cookie twice in one header", cookies: []string{"session=c; session=d"}, found: true, err: errRepeatedToken},
		{name: "cookie in two headers", cookies: []string{"session=c", "other=x; session=d"}, found: true, err: errRepeatedToken},
		{name: "empty cookie, then one", cookies: []string{"session=; session=d"}, found: true, err: errRepeatedToken},
		// A browser sends a cookie set for two paths (or domains) twice.
		{name: "same cookie twice", cookies: []string{"session=c; other=x; session=c"}, token: "c", found: true},
		{name: "same cookie in two headers", cookies: []string{"session=c", "session=c"}, token: "c", found: true},
		{name: "same cookie, then another", cookies: []string{"session=c; session=c; session=d"}, found: true, err: errRepeatedToken},
		// net/http drops a copy it finds malformed; a lenient parser behind
		// a rule forwarding Cookie would still read it.
		{name: "valid, then malformed value", cookies: []string{`session=c; session=forged\`}, found: true, err: errRepeatedToken},
		{name: "valid, then spaced name", cookies: []string{"session=c; session =forged"}, found: true, err: errRepeatedToken},
		{name: "malformed value alone", cookies: []string{"session=forg\xe9d"}, found: true, err: errBadCookie},
		{name: "empty cookie twice", cookies: []string{"session=; session="}},
		{name: "other cookies", cookies: []string{"a=1; b=2", "session=c"}, token: "c", found: true},
		// A rule forwarding Cookie would send the cookie's token on,
		// unverified, beside the header's verified one.
		{name: "a header and another token cookie", headers: []string{"Bearer a"}, cookies: []string{"session=c"}, found: true, err: errRepeatedToken},
		{name: "a header and the same token cookie", headers: []string{"Bearer a"}, cookies: []string{"other=x; session=a"}, token: "a", found: true},
		{name: "a header and an empty token cookie", headers: []string{"Bearer a"}, cookies: []string{"session="}, token: "a", found: true},
		{name: "a header and a malformed token cookie", headers: []string{"Bearer a"}, cookies: []string{`session=forged\`}, found: true, err: errRepeatedToken},
		{name: "a header and other cookies", headers: []string{"Bearer a"}, cookies: []string{"a=1; b=2"}, token: "a", found: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodPost, "http://gw.test/graphql", nil)
			if c.headers != nil {
				r.Header["Authorization"] = c.headers
			}
			if c.cookies != nil {
				r.Header["Cookie"] = c.cookies
			}
			token, found, err := TokenFrom(r, cfg)
			if token != c.token || found != c.found || err != c.err {
				t.Errorf("TokenFrom = %q, %t, %v; want %q, %t, %v", token, found, err, c.token, c.found, c.err)
			}
		})
	}
}
