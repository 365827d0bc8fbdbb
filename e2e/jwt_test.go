package e2e

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/golang-jwt/jwt/v5"
)

// jwtAttack is one line of testdata/auth/jwt_attacks.jsonl: how to build
// a token and what the gateway must answer.
type jwtAttack struct {
	Name   string         `json:"name"`
	Phase  string         `json:"phase"` // "before" or "after" the key rotation
	Sign   string         `json:"sign"`  // which key signs (see signingKey)
	Alg    string         `json:"alg"`
	KID    string         `json:"kid"`
	Header map[string]any `json:"header"`
	Claims map[string]any `json:"claims"`
	Drop   []string       `json:"drop"`
	ExpIn  *int64         `json:"exp_in"`
	NbfIn  *int64         `json:"nbf_in"`
	IatIn  *int64         `json:"iat_in"`
	Mutate string         `json:"mutate"`
	Status int            `json:"status"`
	Reason string         `json:"reason"`
}

type attackKeys struct {
	rsa1, rsa2 *rsa.PrivateKey
	ec         *ecdsa.PrivateKey
	ec384      *ecdsa.PrivateKey
}

func newAttackKeys(t *testing.T) *attackKeys {
	k := &attackKeys{}
	var err error
	if k.rsa1, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if k.rsa2, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if k.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	if k.ec384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	return k
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func rsaJWK(kid string, k *rsa.PublicKey) map[string]any {
	return map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "n": b64url(k.N.Bytes()), "e": b64url(big.NewInt(int64(k.E)).Bytes())}
}

func ecJWK(kid string, k *ecdsa.PublicKey) map[string]any {
	raw, _ := k.Bytes()
	size := (k.Curve.Params().BitSize + 7) / 8
	return map[string]any{"kty": "EC", "kid": kid, "crv": k.Curve.Params().Name, "x": b64url(raw[1 : 1+size]), "y": b64url(raw[1+size:])}
}

// build makes the token of a corpus line.
func (a *jwtAttack) build(t *testing.T, k *attackKeys) string {
	t.Helper()
	now := time.Now()
	claims := jwt.MapClaims{"sub": "attacker", "iss": "https://issuer.test", "aud": "fedgate",
		"exp": now.Add(time.Hour).Unix(), "iat": now.Add(-time.Minute).Unix(), "scope": "read:email"}
	rel := func(name string, in *int64) {
		if in != nil {
			claims[name] = now.Add(time.Duration(*in) * time.Second).Unix()
		}
	}
	rel("exp", a.ExpIn)
	rel("nbf", a.NbfIn)
	rel("iat", a.IatIn)
	for key, v := range a.Claims {
		claims[key] = v
	}
	for _, key := range a.Drop {
		delete(claims, key)
	}
	var method jwt.SigningMethod
	var key any
	switch a.Sign {
	case "rsa1":
		method, key = jwt.GetSigningMethod(a.Alg), k.rsa1
	case "rsa2":
		method, key = jwt.GetSigningMethod(a.Alg), k.rsa2
	case "ec":
		method, key = jwt.GetSigningMethod(a.Alg), k.ec
	case "ec384":
		method, key = jwt.GetSigningMethod(a.Alg), k.ec384
	case "hmac_rsa1_pem":
		der, _ := x509.MarshalPKIXPublicKey(&k.rsa1.PublicKey)
		method, key = jwt.SigningMethodHS256, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	case "hmac_rsa1_n":
		method, key = jwt.SigningMethodHS256, k.rsa1.N.Bytes()
	case "hmac_zero":
		method, key = jwt.SigningMethodHS256, make([]byte, 32)
	case "none":
		method, key = jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType
	default:
		t.Fatalf("%s: unknown signing key %q", a.Name, a.Sign)
	}
	tok := jwt.NewWithClaims(method, claims)
	if a.KID != "" {
		tok.Header["kid"] = a.KID
	}
	for h, v := range a.Header {
		if h == "jwk" && v == "rsa2" {
			v = rsaJWK("attacker", &k.rsa2.PublicKey)
		}
		tok.Header[h] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("%s: signing: %v", a.Name, err)
	}
	if a.Alg != "" && a.Alg != method.Alg() {
		// An alg the library will not sign with ("NONE"): rewrite the
		// header of the unsigned token.
		parts := strings.SplitN(s, ".", 3)
		hdr, _ := json.Marshal(map[string]any{"alg": a.Alg, "typ": "JWT", "kid": a.KID})
		s = b64url(hdr) + "." + parts[1] + "." + parts[2]
	}
	parts := strings.SplitN(s, ".", 3)
	switch a.Mutate {
	case "":
	case "tamper_payload":
		claims["scope"] = "admin read:email a b c vault"
		body, _ := json.Marshal(claims)
		s = parts[0] + "." + b64url(body) + "." + parts[2]
	case "tamper_signature":
		sig := []byte(parts[2])
		if sig[5] == 'A' {
			sig[5] = 'B'
		} else {
			sig[5] = 'A'
		}
		s = parts[0] + "." + parts[1] + "." + string(sig)
	case "strip_signature":
		s = parts[0] + "." + parts[1] + "."
	case "oversize":
		s = parts[0] + "." + parts[1] + strings.Repeat("QUFB", 4096) + "." + parts[2]
	case "bad_base64":
		s = parts[0] + ".!!!*not*base64***." + parts[2]
	case "garbage":
		s = "not-a-jwt-at-all"
	default:
		t.Fatalf("%s: unknown mutation %q", a.Name, a.Mutate)
	}
	return s
}

func loadJWTAttacks(t *testing.T) []*jwtAttack {
	f, err := os.Open("../testdata/auth/jwt_attacks.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*jwtAttack
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		a := &jwtAttack{}
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(a); err != nil {
			t.Fatalf("jwt_attacks.jsonl: %v: %s", err, sc.Text())
		}
		out = append(out, a)
	}
	return out
}

// TestJWTAttackCorpus sends every token of testdata/auth/jwt_attacks.jsonl
// to a gateway over real HTTP whose keys come from a JWKS server on
// loopback. Halfway, the key server rotates its keys: the new key is
// picked up on its first unknown kid, the old one is refused. Every
// refused token is a 401 UNAUTHENTICATED with its reason, reaches no
// subgraph and leaks neither the token nor key material.
func TestJWTAttackCorpus(t *testing.T) {
	k := newAttackKeys(t)
	var mu sync.Mutex
	set := []map[string]any{rsaJWK("k1", &k.rsa1.PublicKey)}
	fetches := 0
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		fetches++
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": set})
	}))
	defer jwks.Close()

	opts := authOptions(func(c *auth.Config) {
		c.JWT.Keys = nil
		c.JWT.JWKS = []auth.JWKSConfig{{URL: jwks.URL, RefreshInterval: time.Hour, MinRefreshInterval: 100 * time.Millisecond}}
		c.JWT.Issuers = []string{"https://issuer.test"}
		c.JWT.Audiences = []string{"fedgate"}
	})
	users, reviews := authGraphs()
	g := gatewaytest.Start(t, gatewaytest.WithSupergraph(authSupergraph(t)),
		gatewaytest.WithHandler("users", users), gatewaytest.WithHandler("reviews", reviews),
		gatewaytest.WithServerOptions(opts))

	attacks := loadJWTAttacks(t)
	if len(attacks) < 25 {
		t.Fatalf("only %d corpus lines", len(attacks))
	}
	run := func(phase string) {
		for _, a := range attacks {
			if a.Phase != phase {
				continue
			}
			t.Run(phase+"/"+a.Name, func(t *testing.T) {
				tok := a.build(t, k)
				before := g.Requests()
				resp := post(t, g, `{ users { name email } }`, tok, nil)
				if resp.Status != a.Status {
					t.Fatalf("status %d, want %d: %s", resp.Status, a.Status, resp.Body)
				}
				if a.Status == 200 {
					if strings.Contains(string(resp.Body), `"errors"`) {
						t.Errorf("accepted token, but errors: %s", resp.Body)
					}
					return
				}
				if codes := errorCodes(t, resp.Body); len(codes) != 1 || codes[0] != "UNAUTHENTICATED" {
					t.Errorf("codes %v, want [UNAUTHENTICATED]", codes)
				}
				if !strings.Contains(string(resp.Body), a.Reason) {
					t.Errorf("body %s does not give the reason %q", resp.Body, a.Reason)
				}
				body := string(resp.Body)
				parts := strings.Split(tok, ".")
				for _, leak := range []string{tok, parts[len(parts)-1], b64url(k.rsa1.N.Bytes())[:40], "BEGIN"} {
					if len(leak) > 8 && strings.Contains(body, leak) {
						t.Errorf("the answer leaks %q", leak[:8])
					}
				}
				if g.Requests() != before {
					t.Error("a refused token reached a subgraph")
				}
			})
		}
	}
	run("before")
	// Rotate: k1 is retired, k2 (P-256) is introduced.
	mu.Lock()
	set = []map[string]any{ecJWK("k2", &k.ec.PublicKey)}
	before := fetches
	mu.Unlock()
	time.Sleep(150 * time.Millisecond)
	run("after")
	mu.Lock()
	defer mu.Unlock()
	if fetches-before < 1 || fetches-before > 3 {
		t.Errorf("%d key set fetches after the rotation, want 1 to 3 (rate limited)", fetches-before)
	}
	_ = fmt.Sprint
}
