package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestKeysSignOnlyForTheirIssuers: a gateway trusting two identity
// providers, each key set bound to its issuer. A token one provider signs
// in the other's name (its "iss", a user of the other's "sub") is refused,
// with or without a key id; each provider's own tokens verify. Before,
// any configured key verified a token of any allowed issuer, so the
// weaker provider could sign itself the other's users, their grants and
// their private cached answers.
func TestKeysSignOnlyForTheirIssuers(t *testing.T) {
	const corp, partner = "https://login.corp.test", "https://idp.partner.test"
	corpKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	partnerKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	corpSet, partnerSet := newJWKSServer(t, jwkOf("corp-1", &corpKey.PublicKey)), newJWKSServer(t, jwkOf("partner-1", &partnerKey.PublicKey))
	hmacSecret := []byte("a shared secret of at least 32 bytes!")
	cfg := DefaultConfig().JWT
	cfg.CacheSize = 0
	cfg.Issuers = []string{corp, partner}
	cfg.JWKS = []JWKSConfig{
		{URL: corpSet.URL, Issuers: []string{corp}, Timeout: 2 * time.Second},
		{URL: partnerSet.URL, Issuers: []string{partner}, Timeout: 2 * time.Second},
	}
	cfg.Keys = []KeyConfig{{KID: "svc", Secret: string(hmacSecret), Issuers: []string{partner}}}
	v := startVerifier(t, cfg)
	claims := func(iss, sub string) jwt.MapClaims { return with(with(validClaims(), "iss", iss), "sub", sub) }
	checkVerdicts(t, v, []verdict{
		{"corp's own", sign(t, jwt.SigningMethodRS256, corpKey, "corp-1", claims(corp, "ceo")), nil},
		{"partner's own", sign(t, jwt.SigningMethodRS256, partnerKey, "partner-1", claims(partner, "p1")), nil},
		{"partner in corp's name", sign(t, jwt.SigningMethodRS256, partnerKey, "partner-1", claims(corp, "ceo")), errIssuer},
		{"partner in corp's name, no kid", sign(t, jwt.SigningMethodRS256, partnerKey, "", claims(corp, "ceo")), errSignature},
		{"partner without an issuer", sign(t, jwt.SigningMethodRS256, partnerKey, "partner-1", with(validClaims(), "iss", nil)), errIssuer},
		{"static key in its issuer's name", sign(t, jwt.SigningMethodHS256, hmacSecret, "svc", claims(partner, "svc")), nil},
		{"static key in corp's name", sign(t, jwt.SigningMethodHS256, hmacSecret, "svc", claims(corp, "ceo")), errIssuer},
	})
}

// TestBoundIssuersAreReservedToTheirKeys: once a key set is bound to an
// issuer, a key that is bound to nothing (another provider's set, a
// static key) does not verify tokens in that issuer's name either.
// Before, binding one provider's set kept it from signing for others but
// left the other, unbound, provider free to sign the bound provider's
// users (its "iss", any "sub"), with or without a key id.
func TestBoundIssuersAreReservedToTheirKeys(t *testing.T) {
	const corp, partner = "https://login.corp.test", "https://idp.partner.test"
	corpKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	partnerKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	corpSet, partnerSet := newJWKSServer(t, jwkOf("corp-1", &corpKey.PublicKey)), newJWKSServer(t, jwkOf("partner-1", &partnerKey.PublicKey))
	hmacSecret := []byte("a shared secret of at least 32 bytes!")
	cfg := DefaultConfig().JWT
	cfg.CacheSize = 0
	cfg.JWKS = []JWKSConfig{
		{URL: corpSet.URL, Issuers: []string{corp}, Timeout: 2 * time.Second},
		{URL: partnerSet.URL, Timeout: 2 * time.Second}, // bound to nothing
	}
	cfg.Keys = []KeyConfig{{KID: "svc", Secret: string(hmacSecret)}} // bound to nothing
	v := startVerifier(t, cfg)
	claims := func(iss, sub string) jwt.MapClaims { return with(with(validClaims(), "iss", iss), "sub", sub) }
	checkVerdicts(t, v, []verdict{
		{"corp's own", sign(t, jwt.SigningMethodRS256, corpKey, "corp-1", claims(corp, "ceo")), nil},
		{"partner's own", sign(t, jwt.SigningMethodRS256, partnerKey, "partner-1", claims(partner, "p1")), nil},
		{"partner without an issuer", sign(t, jwt.SigningMethodRS256, partnerKey, "partner-1", with(validClaims(), "iss", nil)), nil},
		{"static key for another issuer", sign(t, jwt.SigningMethodHS256, hmacSecret, "svc", claims("https://svc.test", "svc")), nil},
		{"unbound set in corp's name", sign(t, jwt.SigningMethodRS256, partnerKey, "partner-1", claims(corp, "ceo")), errIssuer},
		{"unbound set in corp's name, no kid", sign(t, jwt.SigningMethodRS256, partnerKey, "", claims(corp, "ceo")), errSignature},
		{"unbound static key in corp's name", sign(t, jwt.SigningMethodHS256, hmacSecret, "svc", claims(corp, "ceo")), errIssuer},
		{"unbound static key in corp's name, no kid", sign(t, jwt.SigningMethodHS256, hmacSecret, "", claims(corp, "ceo")), errIssuer},
		{"corp's name with a trailing slash", sign(t, jwt.SigningMethodRS256, partnerKey, "partner-1", claims(corp+"/", "ceo")), nil},
	})
}

// TestIssuerBindingOutlivesRefreshes: a key set's binding holds for the
// keys a refresh brings (a kid unknown until then fetches the set again):
// the new key verifies its issuer's tokens and no other's.
func TestIssuerBindingOutlivesRefreshes(t *testing.T) {
	const corp, partner = "https://login.corp.test", "https://idp.partner.test"
	oldKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	newKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	set := newJWKSServer(t, jwkOf("corp-1", &oldKey.PublicKey))
	cfg := DefaultConfig().JWT
	cfg.CacheSize = 0
	cfg.JWKS = []JWKSConfig{{URL: set.URL, Issuers: []string{corp}, Timeout: 2 * time.Second, MinRefreshInterval: time.Nanosecond}}
	v := startVerifier(t, cfg)
	set.rotate(jwkOf("corp-2", &newKey.PublicKey))
	claims := func(iss string) jwt.MapClaims { return with(validClaims(), "iss", iss) }
	if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, newKey, "corp-2", claims(partner))); err != errIssuer {
		t.Fatalf("the refreshed key in another issuer's name: %v, want %v", err, errIssuer)
	}
	if set.fetches.Load() < 2 {
		t.Fatalf("%d fetches: the new kid did not refresh the set", set.fetches.Load())
	}
	if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, newKey, "corp-2", claims(corp))); err != nil {
		t.Fatalf("the refreshed key in its issuer's name: %v", err)
	}
}

// startVerifier makes a Verifier of cfg and starts it for the test.
func startVerifier(t *testing.T, cfg JWTConfig) *Verifier {
	t.Helper()
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	v.Start(ctx)
	return v
}

// verdict is a token and what verifying it must give (nil: verified).
type verdict struct {
	name  string
	token string
	want  error
}

// checkVerdicts verifies each token with v and compares the outcome.
func checkVerdicts(t *testing.T, v *Verifier, cases []verdict) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			caller, err := v.Verify(context.Background(), c.token)
			switch {
			case c.want == nil && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want != nil && err != c.want:
				t.Fatalf("got %v (caller %+v), want %v", err, caller, c.want)
			}
		})
	}
}
