package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fedgate/gateway/auth"
	gwconfig "github.com/fedgate/gateway/config"
)

// The tokens loadgen signs for the unique-credential benchmark are
// accepted by the verifier the benchmark's gateway configuration builds,
// each names a different caller, and the pool runs out after the last.
func TestTokensVerifyWithBenchConfig(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(root) // the configuration names its key file relative to the repository
	cfg, err := gwconfig.Load("testdata/bench/auth/gateway.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Auth.RequireAuthentication {
		t.Fatal("the benchmark configuration does not require authentication")
	}
	v, err := auth.NewVerifier(cfg.Auth.JWT)
	if err != nil {
		t.Fatal(err)
	}
	base := tokenConfig{issuer: "fedgate-loadgen", audience: "fedgate", unique: 50}
	for _, tc := range []struct {
		name string
		cfg  tokenConfig
	}{
		{"HS256", tokenConfig{alg: "HS256", kid: "bench-hs", secret: "fedgate-benchmark-only-hs256-secret-not-for-production"}},
		{"RS256", tokenConfig{alg: "RS256", kid: "bench-rs", keyFile: "testdata/bench/auth/rs256.key.pem"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cfg
			c.issuer, c.audience, c.unique = base.issuer, base.audience, base.unique
			pool, err := signTokens(c, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			subjects := map[string]bool{}
			for range c.unique {
				h, err := pool.take()
				if err != nil {
					t.Fatal(err)
				}
				caller, err := v.Verify(context.Background(), h[len("Bearer "):])
				if err != nil {
					t.Fatalf("the gateway refuses a token: %v", err)
				}
				if subjects[caller.Subject] {
					t.Fatalf("subject %q twice", caller.Subject)
				}
				subjects[caller.Subject] = true
			}
			if _, err := pool.take(); err != errTokensUsed {
				t.Fatalf("take after the last token: %v", err)
			}
			if pool.used() != int64(c.unique) {
				t.Fatalf("used %d", pool.used())
			}
			// A token signed with another key is refused: the check above
			// could fail.
			c.secret, c.keyFile = "another-secret-another-secret-another-secret", writeKey(t)
			c.unique = 0
			other, err := signTokens(c, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			h, _ := other.take()
			if _, err := v.Verify(context.Background(), h[len("Bearer "):]); err == nil {
				t.Fatal("a token signed with another key was accepted")
			}
		})
	}
}

// writeKey writes a fresh RSA key the gateway does not know.
func writeKey(t *testing.T) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "other.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
