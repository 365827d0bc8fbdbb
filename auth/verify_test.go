package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// testKeys are keys generated once per test binary.
type testKeys struct {
	rsa     *rsa.PrivateKey
	rsa2    *rsa.PrivateKey
	p256    *ecdsa.PrivateKey
	p384    *ecdsa.PrivateKey
	ed      ed25519.PrivateKey
	hmac    []byte
	rsaPEM  string
	p256PEM string
	edPEM   string
}

var keys = func() *testKeys {
	k := &testKeys{hmac: []byte("0123456789abcdef0123456789abcdef-hmac")}
	var err error
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	if k.rsa2, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	if k.p256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		panic(err)
	}
	if k.p384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader); err != nil {
		panic(err)
	}
	if _, k.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
		panic(err)
	}
	k.rsaPEM = pemOf(&k.rsa.PublicKey)
	k.p256PEM = pemOf(&k.p256.PublicKey)
	k.edPEM = pemOf(k.ed.Public())
	return k
}()

func pemOf(pub any) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jwkOf is the public JWK of a key, as a JSON string.
func jwkOf(kid string, pub any) string {
	m := map[string]string{"kid": kid}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", b64u(p.N.Bytes()), b64u(big.NewInt(int64(p.E)).Bytes())
	case *ecdsa.PublicKey:
		size := (p.Curve.Params().BitSize + 7) / 8
		raw, err := p.Bytes()
		if err != nil {
			panic(err)
		}
		m["kty"], m["crv"] = "EC", p.Curve.Params().Name
		m["x"], m["y"] = b64u(raw[1:1+size]), b64u(raw[1+size:])
	case ed25519.PublicKey:
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", b64u(p)
	case []byte:
		m["kty"], m["k"] = "oct", b64u(p)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// sign makes a token; kid "" leaves the header out.
func sign(t testing.TB, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("signing: %v", err)
	}
	return s
}

func validClaims() jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{"sub": "user-1", "iss": "https://issuer.test", "aud": "gateway",
		"exp": now.Add(time.Hour).Unix(), "iat": now.Add(-time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(),
		"scope": "read:email a"}
}

func with(c jwt.MapClaims, k string, v any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for key, val := range c {
		out[key] = val
	}
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

// testVerifier accepts keys of every family, each under its own kid.
func testVerifier(t testing.TB) *Verifier {
	t.Helper()
	cfg := DefaultConfig().JWT
	cfg.Issuers = []string{"https://issuer.test"}
	cfg.Audiences = []string{"gateway", "other"}
	cfg.Keys = []KeyConfig{
		{KID: "rsa", PEM: keys.rsaPEM},
		{KID: "rs256-only", PEM: pemOf(&keys.rsa2.PublicKey), Algorithms: []string{"RS256"}},
		{KID: "p256", JWK: jwkOf("p256", &keys.p256.PublicKey)},
		{KID: "p384", JWK: jwkOf("", &keys.p384.PublicKey)},
		{KID: "ed", PEM: keys.edPEM},
		{KID: "hmac", Secret: string(keys.hmac), Algorithms: []string{"HS256", "HS384", "HS512"}},
	}
	if err := (Config{JWT: cfg, CSRF: DefaultConfig().CSRF}).Validate(); err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVerifyAcceptsEveryAlgorithm(t *testing.T) {
	v := testVerifier(t)
	cases := []struct {
		name   string
		method jwt.SigningMethod
		key    any
		kid    string
	}{
		{"RS256", jwt.SigningMethodRS256, keys.rsa, "rsa"},
		{"RS384", jwt.SigningMethodRS384, keys.rsa, "rsa"},
		{"RS512", jwt.SigningMethodRS512, keys.rsa, "rsa"},
		{"PS256", jwt.SigningMethodPS256, keys.rsa, "rsa"},
		{"PS384", jwt.SigningMethodPS384, keys.rsa, "rsa"},
		{"PS512", jwt.SigningMethodPS512, keys.rsa, "rsa"},
		{"ES256", jwt.SigningMethodES256, keys.p256, "p256"},
		{"ES384", jwt.SigningMethodES384, keys.p384, "p384"},
		{"EdDSA", jwt.SigningMethodEdDSA, keys.ed, "ed"},
		{"HS256", jwt.SigningMethodHS256, keys.hmac, "hmac"},
		{"HS384", jwt.SigningMethodHS384, keys.hmac, "hmac"},
		{"HS512", jwt.SigningMethodHS512, keys.hmac, "hmac"},
		{"RS256 without kid", jwt.SigningMethodRS256, keys.rsa, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			caller, err := v.Verify(context.Background(), sign(t, c.method, c.key, c.kid, validClaims()))
			if err != nil {
				t.Fatalf("refused a valid token: %v", err)
			}
			if !caller.Authenticated || caller.Subject != "user-1" || !caller.HasScope("read:email") || !caller.HasScope("a") {
				t.Errorf("caller %+v", caller)
			}
		})
	}
}

// TestVerifyRefuses is the attack table: every token is refused with its
// reason, and no reason shows key material.
func TestVerifyRefuses(t *testing.T) {
	v := testVerifier(t)
	good := sign(t, jwt.SigningMethodRS256, keys.rsa, "rsa", validClaims())
	parts := strings.Split(good, ".")
	now := time.Now()
	// HS256 signed with the RSA public key's PEM as the secret: the
	// classic key confusion attack.
	confused := func(kid string) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, validClaims())
		if kid != "" {
			tok.Header["kid"] = kid
		}
		s, err := tok.SignedString([]byte(keys.rsaPEM))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	none := func(claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tamperedPayload, _ := json.Marshal(with(validClaims(), "scope", "admin"))
	cases := []struct {
		name  string
		token string
		want  *Error
	}{
		{"alg none", none(validClaims()), errAlgorithm},
		{"alg none with kid", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodNone, validClaims())
			tok.Header["kid"] = "rsa"
			s, _ := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
			return s
		}(), errAlgorithm},
		{"alg None (other case)", b64u([]byte(`{"alg":"None","typ":"JWT"}`)) + "." + parts[1] + ".", errAlgorithm},
		{"HS256 with the RSA public key, kid rsa", confused("rsa"), errAlgorithm},
		{"HS256 with the RSA public key, no kid", confused(""), errSignature},
		{"RS384 on an RS256-only key", sign(t, jwt.SigningMethodRS384, keys.rsa2, "rs256-only", validClaims()), errAlgorithm},
		{"ES256 under the P-384 key", sign(t, jwt.SigningMethodES256, keys.p256, "p384", validClaims()), errAlgorithm},
		{"signed by another key", sign(t, jwt.SigningMethodRS256, keys.rsa2, "rsa", validClaims()), errSignature},
		{"expired", sign(t, jwt.SigningMethodRS256, keys.rsa, "rsa", with(validClaims(), "exp", now.Add(-time.Hour).Unix())), errExpired},
		{"expired beyond leeway", sign(t, jwt.SigningMethodRS256, keys.rsa, "rsa", with(validClaims(), "exp", now.Add(-31*time.Second).Unix())), errExpired},
		{"not yet valid", sign(t, jwt.SigningMethodRS256, keys.rsa, "rsa", with(validClaims(), "nbf", now.Add(time.Hour).Unix())), errNotYetValid},
		{"issued in the future", sign(t, jwt.SigningMethodRS256, keys.rsa, "rsa", with(validClaims(), "iat", now.Add(time.Hour).Unix())), errIssuedFuture},
		{"no exp", sign(t, jwt.SigningMethodRS256, keys.rsa, "rsa", with(validClaims(), "exp", nil)), errNoExpiration},
		{"wrong issuer", sign(t, jwt.SigningMethodRS256, keys.rsa, "rsa", with(validClaims(), "iss", "https://evil.test")), errIssuer},
		{"no issuer", sign(t, jwt.SigningMethodRS256, keys.rsa, "rsa", with(validClaims(), "iss", nil)), errIssuer},
		{"wrong audience", sign(t, jwt.SigningMethodRS256, keys.rsa, "rsa", with(validClaims(), "aud", "someone-else")), errAudience},
		{"wrong audience list", sign(t, jwt.SigningMethodRS256, keys.rsa, "rsa", with(validClaims(), "aud", []string{"x", "y"})), errAudience},
		{"unknown kid", sign(t, jwt.SigningMethodRS256, keys.rsa, "nope", validClaims()), errUnknownKey},
		{"kid path traversal", sign(t, jwt.SigningMethodHS256, []byte("anything-at-all-but-long-enough-!!"), "../../../../dev/null", validClaims()), errUnknownKey},
		{"kid not a string", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodRS256, validClaims())
			tok.Header["kid"] = 42
			s, _ := tok.SignedString(keys.rsa)
			return s
		}(), errUnknownKey},
		{"tampered payload", parts[0] + "." + b64u(tamperedPayload) + "." + parts[2], errSignature},
		{"tampered signature", parts[0] + "." + parts[1] + "." + b64u([]byte("not the signature")), errSignature},
		{"oversized", parts[0] + "." + strings.Repeat("A", 9000) + "." + parts[2], errTooLarge},
		{"malformed base64", parts[0] + ".%%%not-base64%%%." + parts[2], errMalformed},
		{"two segments", parts[0] + "." + parts[1], errMalformed},
		{"garbage", "not-a-token", errMalformed},
		{"header not JSON", b64u([]byte("{oops")) + "." + parts[1] + "." + parts[2], errMalformed},
		{"unknown alg", b64u([]byte(`{"alg":"XS999","kid":"rsa"}`)) + "." + parts[1] + "." + parts[2], errAlgorithm},
		{"scope of the wrong type", sign(t, jwt.SigningMethodRS256, keys.rsa, "rsa", with(validClaims(), "scope", 7)), errBadClaims},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			caller, err := v.Verify(context.Background(), c.token)
			if err == nil {
				t.Fatalf("accepted: %+v", caller)
			}
			var e *Error
			if !errors.As(err, &e) || e.Status != 401 || e.Code != "UNAUTHENTICATED" {
				t.Fatalf("error %v, want a 401 UNAUTHENTICATED *Error", err)
			}
			if e != c.want {
				t.Errorf("reason %q, want %q", e.Message, c.want.Message)
			}
			for _, secret := range []string{string(keys.hmac), keys.rsaPEM[30:80], c.token} {
				if strings.Contains(e.Message, secret) {
					t.Errorf("the reason leaks key material or the token: %q", e.Message)
				}
			}
		})
	}
}

func TestVerifyLeewayAndCache(t *testing.T) {
	v := testVerifier(t)
	// Expired 10s ago: within the 30s leeway.
	tok := sign(t, jwt.SigningMethodES256, keys.p256, "p256", with(validClaims(), "exp", time.Now().Add(-10*time.Second).Unix()))
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("refused within leeway: %v", err)
	}
	// A verified token is cached until it expires: a repeated one is
	// answered from the cache (the same *Caller).
	good := sign(t, jwt.SigningMethodEdDSA, keys.ed, "ed", validClaims())
	first, err := v.Verify(context.Background(), good)
	if err != nil {
		t.Fatal(err)
	}
	v.cache.Wait()
	second, err := v.Verify(context.Background(), good)
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Error("a repeated token was verified again instead of read from the cache")
	}
	// Past its expiry the cached entry is not used.
	v.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if _, err := v.Verify(context.Background(), good); err == nil {
		t.Error("an expired token was served from the cache")
	}
}

func TestScopesFromArrayClaim(t *testing.T) {
	cfg := DefaultConfig().JWT
	cfg.ScopeClaim = "scp"
	cfg.Keys = []KeyConfig{{Secret: string(keys.hmac)}}
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodHS512, keys.hmac, "", with(validClaims(), "scp", []string{"x", "y z"})))
	if err != nil {
		t.Fatal(err)
	}
	if !c.HasScope("x") || !c.HasScope("y z") || c.HasScope("read:email") {
		t.Errorf("scopes %v", c.Scopes)
	}
}

func TestKeyConfigRefusesMismatches(t *testing.T) {
	cases := []struct {
		name string
		key  KeyConfig
	}{
		{"HS256 on an RSA key", KeyConfig{PEM: keys.rsaPEM, Algorithms: []string{"HS256"}}},
		{"ES384 on a P-256 key", KeyConfig{JWK: jwkOf("", &keys.p256.PublicKey), Algorithms: []string{"ES384"}}},
		{"RS256 on a secret", KeyConfig{Secret: string(keys.hmac), Algorithms: []string{"RS256"}}},
		{"private JWK", KeyConfig{JWK: `{"kty":"OKP","crv":"Ed25519","x":"` + b64u(keys.ed.Public().(ed25519.PublicKey)) + `","d":"` + b64u(keys.ed.Seed()) + `"}`}},
		{"private PEM", KeyConfig{PEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}))}},
		{"EC point off the curve", KeyConfig{JWK: `{"kty":"EC","crv":"P-256","x":"` + b64u(make([]byte, 32)) + `","y":"` + b64u(append(make([]byte, 31), 1)) + `"}`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig().JWT
			cfg.Keys = []KeyConfig{c.key}
			if _, err := NewVerifier(cfg); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	v := testVerifier(b)
	for _, c := range []struct {
		name   string
		method jwt.SigningMethod
		key    any
		kid    string
	}{
		{"RS256", jwt.SigningMethodRS256, keys.rsa, "rsa"},
		{"ES256", jwt.SigningMethodES256, keys.p256, "p256"},
		{"EdDSA", jwt.SigningMethodEdDSA, keys.ed, "ed"},
		{"HS256", jwt.SigningMethodHS256, keys.hmac, "hmac"},
	} {
		tok := sign(b, c.method, c.key, c.kid, validClaims())
		b.Run(c.name+"/uncached", func(b *testing.B) {
			cache := v.cache
			v.cache = nil
			defer func() { v.cache = cache }()
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := v.Verify(context.Background(), tok); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/cached", func(b *testing.B) {
			if _, err := v.Verify(context.Background(), tok); err != nil {
				b.Fatal(err)
			}
			v.cache.Wait()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := v.Verify(context.Background(), tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The token cache exists only when a token can verify: a key or a key set
// (JWKS) is configured. Without any, it would only hold memory.
func TestVerifierCacheOnlyWithKeys(t *testing.T) {
	withKeys := testVerifier(t).cfg
	cases := []struct {
		name      string
		cfg       func() JWTConfig
		wantCache bool
	}{
		{"no keys", func() JWTConfig { return DefaultConfig().JWT }, false},
		{"static keys", func() JWTConfig { return withKeys }, true},
		{"JWKS only", func() JWTConfig {
			c := DefaultConfig().JWT
			c.JWKS = []JWKSConfig{{URL: "http://127.0.0.1:1/jwks.json"}}
			return c
		}, true},
		{"keys but cache off", func() JWTConfig { c := withKeys; c.CacheSize = 0; return c }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := NewVerifier(c.cfg())
			if err != nil {
				t.Fatal(err)
			}
			if got := v.cache != nil; got != c.wantCache {
				t.Errorf("token cache made: %v, want %v", got, c.wantCache)
			}
		})
	}
}
