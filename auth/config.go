package auth

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Config is the "auth" section of the gateway configuration.
type Config struct {
	// RequireAuthentication answers 401 to a request without a valid
	// token; otherwise a request without a token is anonymous.
	RequireAuthentication bool `yaml:"require_authentication"`
	// JWT configures token verification.
	JWT JWTConfig `yaml:"jwt"`
	// Authorization configures @authenticated, @requiresScopes and
	// @policy.
	Authorization AuthorizationConfig `yaml:"authorization"`
	// Headers says which headers subgraphs receive.
	Headers HeadersConfig `yaml:"headers"`
	// CSRF configures the cross-site request forgery check.
	CSRF CSRFConfig `yaml:"csrf"`
	// CORS configures cross-origin requests from browsers.
	CORS CORSConfig `yaml:"cors"`
}

// JWTConfig configures how tokens are found and verified.
type JWTConfig struct {
	// Header is the request header carrying the token.
	Header string `yaml:"header"`
	// Prefix is the scheme before the token in Header ("Bearer"); empty
	// means the header holds the bare token.
	Prefix string `yaml:"prefix"`
	// Cookie, when set, is a cookie read when Header is absent.
	Cookie string `yaml:"cookie"`
	// Keys are keys given in the configuration.
	Keys []KeyConfig `yaml:"keys"`
	// JWKS are key sets fetched over HTTP(S).
	JWKS []JWKSConfig `yaml:"jwks"`
	// Issuers, when not empty, lists the accepted "iss" values.
	Issuers []string `yaml:"issuers"`
	// Audiences, when not empty, lists accepted "aud" values; a token
	// must name at least one.
	Audiences []string `yaml:"audiences"`
	// Leeway is the clock skew allowed on exp, nbf and iat.
	Leeway time.Duration `yaml:"leeway"`
	// RequireExpiration rejects tokens without "exp".
	RequireExpiration bool `yaml:"require_expiration"`
	// MaxTokenBytes rejects longer tokens before parsing them.
	MaxTokenBytes int `yaml:"max_token_bytes"`
	// ScopeClaim is the claim holding the scopes: a space-separated
	// string or an array of strings.
	ScopeClaim string `yaml:"scope_claim"`
	// CacheSize is the number of verified tokens remembered until they
	// expire; 0 disables the cache.
	CacheSize int `yaml:"cache_size"`
}

// TrustedIssuers lists the issuers whose tokens the gateway may verify:
// Issuers, or, without them, the issuers every key and key set is bound
// to. It is nil when a token of any issuer may be verified (no Issuers
// and a key bound to none), and when no key is configured.
func (j JWTConfig) TrustedIssuers() []string {
	if len(j.Issuers) > 0 {
		return slices.Compact(slices.Sorted(slices.Values(j.Issuers)))
	}
	var out []string
	for _, k := range j.Keys {
		if len(k.Issuers) == 0 {
			return nil
		}
		out = append(out, k.Issuers...)
	}
	for _, s := range j.JWKS {
		if len(s.Issuers) == 0 {
			return nil
		}
		out = append(out, s.Issuers...)
	}
	return slices.Compact(slices.Sorted(slices.Values(out)))
}

// KeyConfig is one verification key given in the configuration. Exactly
// one of PEM, PEMFile, JWK, JWKFile and Secret is set.
type KeyConfig struct {
	// KID is the key id matched against the token's "kid" header; a key
	// without one is tried for tokens without "kid".
	KID string `yaml:"kid"`
	// Algorithms is the allowlist of signing algorithms for this key;
	// empty allows every algorithm of the key's type.
	Algorithms []string `yaml:"algorithms"`
	// PEM is a PEM public key (PKIX or PKCS#1) or certificate.
	PEM string `yaml:"pem"`
	// PEMFile is a file holding PEM.
	PEMFile string `yaml:"pem_file"`
	// JWK is one JSON Web Key (JSON text).
	JWK string `yaml:"jwk"`
	// JWKFile is a file holding JWK.
	JWKFile string `yaml:"jwk_file"`
	// Secret is an HMAC secret (HS256/384/512 only).
	Secret string `yaml:"secret"`
	// Issuers binds the key to the issuers it signs for: a token whose
	// "iss" is not one of them is never verified with it. Empty: any
	// issuer (within JWTConfig.Issuers).
	Issuers []string `yaml:"issuers"`
}

// JWKSConfig is a JSON Web Key Set fetched over HTTP(S).
type JWKSConfig struct {
	// URL of the key set.
	URL string `yaml:"url"`
	// Algorithms is the allowlist of signing algorithms for keys of this
	// set; empty allows every asymmetric algorithm of each key's type.
	Algorithms []string `yaml:"algorithms"`
	// RefreshInterval is how often the set is fetched again.
	RefreshInterval time.Duration `yaml:"refresh_interval"`
	// MinRefreshInterval bounds refreshes caused by tokens with an
	// unknown "kid": at most one per interval.
	MinRefreshInterval time.Duration `yaml:"min_refresh_interval"`
	// Timeout bounds one fetch.
	Timeout time.Duration `yaml:"timeout"`
	// Issuers binds the set's keys to the issuers they sign for: a token
	// whose "iss" is not one of them is never verified with them, so one
	// identity provider cannot sign tokens in another's name. Empty: any
	// issuer (within JWTConfig.Issuers).
	Issuers []string `yaml:"issuers"`
}

// AuthorizationConfig configures field-level authorization.
type AuthorizationConfig struct {
	// RejectUnauthorized answers 403 to an operation that selects any
	// field the caller may not see, instead of answering null there.
	RejectUnauthorized bool `yaml:"reject_unauthorized"`
	// Policies defines the policies named by @policy, by name.
	Policies map[string]PolicyConfig `yaml:"policies"`
	// IntrospectionScope, when set, restricts __schema and __type to
	// callers granted this scope.
	IntrospectionScope string `yaml:"introspection_scope"`
}

// PolicyConfig is a rule on one claim: the policy is granted when the
// claim (a string, or an array of strings) holds Equals or one of OneOf.
type PolicyConfig struct {
	// Claim is the claim name; dots reach into objects
	// ("realm_access.roles").
	Claim string `yaml:"claim"`
	// Equals is the value required.
	Equals string `yaml:"equals"`
	// OneOf lists accepted values.
	OneOf []string `yaml:"one_of"`
}

// HeadersConfig says which headers subgraph requests carry.
type HeadersConfig struct {
	// All applies to every subgraph.
	All HeaderRules `yaml:"all"`
	// Subgraphs adds rules for one subgraph, by name, after All.
	Subgraphs map[string]HeaderRules `yaml:"subgraphs"`
}

// HeaderRules are applied in order: Forward, Rename, Insert, Claims.
type HeaderRules struct {
	// Forward lists client headers copied to subgraphs; "*" copies every
	// header except hop-by-hop ones and Authorization, Cookie and
	// Proxy-Authorization, which are forwarded only when named.
	Forward []string `yaml:"forward"`
	// Rename copies a client header under another name.
	Rename []HeaderRename `yaml:"rename"`
	// Insert sets fixed headers.
	Insert []HeaderInsert `yaml:"insert"`
	// Claims sends verified token claims as headers; the header is
	// removed when the caller has no such claim, so a client cannot
	// forge it.
	Claims []ClaimHeader `yaml:"claims"`
}

// HeaderRename copies the client header From as To.
type HeaderRename struct {
	From string `yaml:"from"`
	To   string `yaml:"to"`
}

// HeaderInsert sets Name to Value.
type HeaderInsert struct {
	Name  string `yaml:"name"`
	Value string `yaml:"value"`
}

// ClaimHeader sends the claim Claim as the header Header.
type ClaimHeader struct {
	Claim  string `yaml:"claim"`
	Header string `yaml:"header"`
}

// CSRFConfig configures the CSRF check (Apollo Router's): a request is
// refused unless it has a Content-Type that browsers do not send without
// a preflight, or one of RequiredHeaders.
type CSRFConfig struct {
	Enabled         bool     `yaml:"enabled"`
	RequiredHeaders []string `yaml:"required_headers"`
}

// CORSConfig configures cross-origin resource sharing.
type CORSConfig struct {
	// Enabled answers preflights and adds CORS headers for allowed
	// origins.
	Enabled bool `yaml:"enabled"`
	// AllowOrigins lists exact origins ("https://app.example.com"); "*"
	// allows any origin (not together with AllowCredentials).
	AllowOrigins []string `yaml:"allow_origins"`
	// AllowCredentials lets browsers send cookies and Authorization.
	AllowCredentials bool `yaml:"allow_credentials"`
	// AllowHeaders are the request headers allowed; empty echoes the
	// preflight's Access-Control-Request-Headers.
	AllowHeaders []string `yaml:"allow_headers"`
	// ExposeHeaders are response headers readable by the page.
	ExposeHeaders []string `yaml:"expose_headers"`
	// MaxAge is how long browsers may cache a preflight answer.
	MaxAge time.Duration `yaml:"max_age"`
}

// DefaultConfig returns the defaults of the section: tokens from
// "Authorization: Bearer", no keys (every request anonymous), CSRF on,
// CORS off, nothing forwarded to subgraphs.
func DefaultConfig() Config {
	return Config{
		JWT: JWTConfig{
			Header:            "Authorization",
			Prefix:            "Bearer",
			Leeway:            30 * time.Second,
			RequireExpiration: true,
			MaxTokenBytes:     8 << 10,
			ScopeClaim:        "scope",
			CacheSize:         10000,
		},
		CSRF: CSRFConfig{Enabled: true, RequiredHeaders: []string{"x-apollo-operation-name", "apollo-require-preflight"}},
		CORS: CORSConfig{MaxAge: 10 * time.Minute},
	}
}

// Default JWKS timings, used where a JWKS entry leaves them zero.
const (
	defaultJWKSRefresh    = 5 * time.Minute
	defaultJWKSMinRefresh = 30 * time.Second
	defaultJWKSTimeout    = 5 * time.Second
)

// knownAlgorithms are the signing algorithms the gateway verifies.
var knownAlgorithms = map[string]bool{
	"HS256": true, "HS384": true, "HS512": true,
	"RS256": true, "RS384": true, "RS512": true,
	"PS256": true, "PS384": true, "PS512": true,
	"ES256": true, "ES384": true, "EdDSA": true,
}

// Validate checks the section; errors name the key.
func (c Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("auth.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	j := c.JWT
	if j.Header == "" && j.Cookie == "" {
		add("jwt.header", "a header or a cookie must carry the token")
	}
	if j.Leeway < 0 || j.Leeway > time.Hour {
		add("jwt.leeway", "must be between 0 and 1h")
	}
	if j.MaxTokenBytes <= 0 {
		add("jwt.max_token_bytes", "must be positive")
	}
	if j.CacheSize < 0 {
		add("jwt.cache_size", "must not be negative")
	}
	if j.ScopeClaim == "" {
		add("jwt.scope_claim", "must not be empty")
	}
	for i, k := range j.Keys {
		key := fmt.Sprintf("jwt.keys[%d]", i)
		set := 0
		for _, v := range []string{k.PEM, k.PEMFile, k.JWK, k.JWKFile, k.Secret} {
			if v != "" {
				set++
			}
		}
		if set != 1 {
			add(key, "exactly one of pem, pem_file, jwk, jwk_file and secret must be set")
		}
		for n, a := range k.Algorithms {
			if !knownAlgorithms[a] {
				add(fmt.Sprintf("%s.algorithms[%d]", key, n), "unknown algorithm %q", a)
			}
		}
		if k.Secret != "" {
			if len(k.Secret) < 32 {
				add(key+".secret", "an HMAC secret must be at least 32 bytes")
			}
			for n, a := range k.Algorithms {
				if !strings.HasPrefix(a, "HS") {
					add(fmt.Sprintf("%s.algorithms[%d]", key, n), "a secret only verifies HS256/HS384/HS512")
				}
			}
		} else if set == 1 {
			for n, a := range k.Algorithms {
				if strings.HasPrefix(a, "HS") && k.JWK == "" && k.JWKFile == "" {
					add(fmt.Sprintf("%s.algorithms[%d]", key, n), "%s needs a secret, not a public key", a)
				}
			}
		}
	}
	for i, s := range j.JWKS {
		key := fmt.Sprintf("jwt.jwks[%d]", i)
		u, err := url.Parse(s.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add(key+".url", "must be an http(s) URL")
		}
		for n, a := range s.Algorithms {
			if !knownAlgorithms[a] {
				add(fmt.Sprintf("%s.algorithms[%d]", key, n), "unknown algorithm %q", a)
			}
		}
		if s.RefreshInterval < 0 || s.MinRefreshInterval < 0 || s.Timeout < 0 {
			add(key, "intervals and timeout must not be negative")
		}
	}
	checkIssuers := func(key string, issuers []string) {
		for n, iss := range issuers {
			switch {
			case iss == "":
				add(fmt.Sprintf("%s.issuers[%d]", key, n), "must not be empty")
			case len(j.Issuers) > 0 && !slices.Contains(j.Issuers, iss):
				add(fmt.Sprintf("%s.issuers[%d]", key, n), "%q is not in auth.jwt.issuers: the key would verify no token", iss)
			}
		}
	}
	for i, k := range j.Keys {
		checkIssuers(fmt.Sprintf("jwt.keys[%d]", i), k.Issuers)
	}
	for i, s := range j.JWKS {
		checkIssuers(fmt.Sprintf("jwt.jwks[%d]", i), s.Issuers)
	}
	if c.RequireAuthentication && len(j.Keys) == 0 && len(j.JWKS) == 0 {
		add("require_authentication", "needs auth.jwt.keys or auth.jwt.jwks")
	}
	for name, p := range c.Authorization.Policies {
		key := "authorization.policies." + name
		if p.Claim == "" {
			add(key+".claim", "must not be empty")
		}
		if (p.Equals == "") == (len(p.OneOf) == 0) {
			add(key, "exactly one of equals and one_of must be set")
		}
	}
	checkRules := func(key string, r HeaderRules) {
		for i, n := range r.Forward {
			if n != "*" && !validHeaderName(n) {
				add(fmt.Sprintf("%s.forward[%d]", key, i), "%q is not a header name", n)
			} else if hopByHop[http.CanonicalHeaderKey(n)] {
				add(fmt.Sprintf("%s.forward[%d]", key, i), "%s is a hop-by-hop header and is never forwarded", n)
			}
		}
		for i, rn := range r.Rename {
			if !validHeaderName(rn.From) || !validHeaderName(rn.To) {
				add(fmt.Sprintf("%s.rename[%d]", key, i), "from and to must be header names")
			}
		}
		for i, in := range r.Insert {
			if !validHeaderName(in.Name) || hopByHop[http.CanonicalHeaderKey(in.Name)] {
				add(fmt.Sprintf("%s.insert[%d].name", key, i), "%q is not a header that may be set", in.Name)
			}
		}
		for i, cl := range r.Claims {
			if cl.Claim == "" || !validHeaderName(cl.Header) {
				add(fmt.Sprintf("%s.claims[%d]", key, i), "claim and header must be set")
			}
		}
	}
	checkRules("headers.all", c.Headers.All)
	for name, r := range c.Headers.Subgraphs {
		checkRules("headers.subgraphs."+name, r)
	}
	if c.CSRF.Enabled && len(c.CSRF.RequiredHeaders) == 0 {
		add("csrf.required_headers", "must not be empty when csrf is enabled")
	}
	for i, o := range c.CORS.AllowOrigins {
		if o == "*" {
			if c.CORS.AllowCredentials {
				add(fmt.Sprintf("cors.allow_origins[%d]", i), `"*" cannot be used with allow_credentials`)
			}
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			add(fmt.Sprintf("cors.allow_origins[%d]", i), "must be an origin such as https://app.example.com")
		}
	}
	if c.CORS.MaxAge < 0 {
		add("cors.max_age", "must not be negative")
	}
	return errors.Join(errs...)
}

// validHeaderName reports whether s is an HTTP header field name (RFC 9110
// token).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}
