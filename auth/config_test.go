package auth

import (
	"strings"
	"testing"
)

func TestDefaultConfigIsValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	if !c.CSRF.Enabled || c.CORS.Enabled || c.RequireAuthentication {
		t.Errorf("defaults: csrf %v cors %v require %v", c.CSRF.Enabled, c.CORS.Enabled, c.RequireAuthentication)
	}
}

func TestValidateNamesTheKey(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"two key sources", func(c *Config) { c.JWT.Keys = []KeyConfig{{PEM: "x", Secret: strings.Repeat("s", 32)}} }, "auth.jwt.keys[0]: exactly one"},
		{"no key source", func(c *Config) { c.JWT.Keys = []KeyConfig{{KID: "a"}} }, "auth.jwt.keys[0]: exactly one"},
		{"short secret", func(c *Config) { c.JWT.Keys = []KeyConfig{{Secret: "short"}} }, "auth.jwt.keys[0].secret"},
		{"RS256 on a secret", func(c *Config) {
			c.JWT.Keys = []KeyConfig{{Secret: strings.Repeat("s", 32), Algorithms: []string{"RS256"}}}
		}, "auth.jwt.keys[0].algorithms[0]"},
		{"HS256 on a PEM", func(c *Config) { c.JWT.Keys = []KeyConfig{{PEM: "x", Algorithms: []string{"HS256"}}} }, "auth.jwt.keys[0].algorithms[0]"},
		{"unknown algorithm", func(c *Config) { c.JWT.Keys = []KeyConfig{{PEM: "x", Algorithms: []string{"none"}}} }, "auth.jwt.keys[0].algorithms[0]: unknown algorithm"},
		{"jwks url", func(c *Config) { c.JWT.JWKS = []JWKSConfig{{URL: "file:///etc/keys"}} }, "auth.jwt.jwks[0].url"},
		{"require without keys", func(c *Config) { c.RequireAuthentication = true }, "auth.require_authentication"},
		{"policy without rule", func(c *Config) {
			c.Authorization.Policies = map[string]PolicyConfig{"p": {Claim: "role"}}
		}, "auth.authorization.policies.p"},
		{"forward hop-by-hop", func(c *Config) { c.Headers.All.Forward = []string{"Connection"} }, "auth.headers.all.forward[0]"},
		{"bad subgraph header", func(c *Config) {
			c.Headers.Subgraphs = map[string]HeaderRules{"users": {Insert: []HeaderInsert{{Name: "bad name"}}}}
		}, "auth.headers.subgraphs.users.insert[0].name"},
		{"wildcard origin with credentials", func(c *Config) {
			c.CORS.AllowOrigins = []string{"*"}
			c.CORS.AllowCredentials = true
		}, "auth.cors.allow_origins[0]"},
		{"origin with a path", func(c *Config) { c.CORS.AllowOrigins = []string{"https://a.example/app"} }, "auth.cors.allow_origins[0]"},
		{"leeway", func(c *Config) { c.JWT.Leeway = -1 }, "auth.jwt.leeway"},
		{"key bound to an empty issuer", func(c *Config) {
			c.JWT.Keys = []KeyConfig{{Secret: strings.Repeat("s", 32), Issuers: []string{""}}}
		}, "auth.jwt.keys[0].issuers[0]: must not be empty"},
		{"key set bound to an issuer refused", func(c *Config) {
			c.JWT.Issuers = []string{"https://a.example"}
			c.JWT.JWKS = []JWKSConfig{{URL: "https://keys.example/jwks", Issuers: []string{"https://b.example"}}}
		}, "auth.jwt.jwks[0].issuers[0]: \"https://b.example\" is not in auth.jwt.issuers"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			c.mod(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one naming %q", err, c.want)
			}
		})
	}
}
