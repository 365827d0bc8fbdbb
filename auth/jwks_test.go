package auth

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwksServer serves a key set that a test can rotate, and counts fetches.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	jwks    []string
	fetches atomic.Int32
	// delay, in nanoseconds, is how long each answer waits.
	delay atomic.Int64
}

func newJWKSServer(t *testing.T, jwks ...string) *jwksServer {
	s := &jwksServer{jwks: jwks}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(s.delay.Load()))
		s.fetches.Add(1)
		s.mu.Lock()
		body := `{"keys":[` + strings.Join(s.jwks, ",") + `]}`
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/jwk-set+json")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) rotate(jwks ...string) {
	s.mu.Lock()
	s.jwks = jwks
	s.mu.Unlock()
}

func jwksVerifier(t *testing.T, url string, refresh, minRefresh time.Duration) (*Verifier, context.CancelFunc) {
	t.Helper()
	cfg := DefaultConfig().JWT
	cfg.CacheSize = 0
	cfg.JWKS = []JWKSConfig{{URL: url, RefreshInterval: refresh, MinRefreshInterval: minRefresh, Timeout: 2 * time.Second}}
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	v.Start(ctx)
	return v, cancel
}

func TestJWKSUnknownKidRefreshesRateLimited(t *testing.T) {
	srv := newJWKSServer(t, jwkOf("k1", &keys.rsa.PublicKey))
	v, _ := jwksVerifier(t, srv.URL, time.Hour, time.Second)
	ctx := context.Background()
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches at start, want 1", n)
	}
	if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, keys.rsa, "k1", validClaims())); err != nil {
		t.Fatalf("k1: %v", err)
	}
	// The issuer rotates to k2: the first token with k2 makes the gateway
	// fetch the set again (the last fetch is older than the minimum).
	time.Sleep(1100 * time.Millisecond)
	srv.rotate(jwkOf("k2", &keys.p256.PublicKey), jwkOf("oldish", &keys.rsa.PublicKey))
	if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodES256, keys.p256, "k2", validClaims())); err != nil {
		t.Fatalf("k2 after rotation: %v", err)
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches after an unknown kid, want 2", n)
	}
	// k1 is gone from the set: refused.
	if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, keys.rsa, "k1", validClaims())); err != errUnknownKey {
		t.Fatalf("k1 after rotation: %v, want %v", err, errUnknownKey)
	}
	// A flood of made-up kids within the minimum interval causes at most
	// one more fetch (the k1 attempt above may have used it).
	before := srv.fetches.Load()
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, keys.rsa, fmt.Sprintf("made-up-%d", i), validClaims()))
			if err != errUnknownKey {
				t.Errorf("made-up kid: %v", err)
			}
		}(i)
	}
	wg.Wait()
	if n := srv.fetches.Load() - before; n > 1 {
		t.Errorf("%d fetches for 50 unknown kids within the minimum interval, want at most 1", n)
	}
}

func TestJWKSBackgroundRefresh(t *testing.T) {
	srv := newJWKSServer(t, jwkOf("k1", keys.ed.Public()))
	v, cancel := jwksVerifier(t, srv.URL, 50*time.Millisecond, time.Hour)
	srv.rotate(jwkOf("k1", keys.ed.Public()), jwkOf("k3", &keys.p384.PublicKey))
	// No unknown-kid refresh is allowed (1h); only the schedule brings k3.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodES384, keys.p384, "k3", validClaims()))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("k3 never became valid: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// After cancel no more fetches happen.
	cancel()
	time.Sleep(30 * time.Millisecond)
	n := srv.fetches.Load()
	time.Sleep(200 * time.Millisecond)
	if m := srv.fetches.Load(); m != n {
		t.Errorf("%d fetches after the refresher was stopped", m-n)
	}
}

func TestJWKSFailureKeepsKeys(t *testing.T) {
	var fail atomic.Bool
	good := `{"keys":[` + jwkOf("k1", &keys.rsa.PublicKey) + `]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		fmt.Fprint(w, good)
	}))
	defer srv.Close()
	v, _ := jwksVerifier(t, srv.URL, 30*time.Millisecond, time.Hour)
	fail.Store(true)
	time.Sleep(150 * time.Millisecond)
	if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, keys.rsa, "k1", validClaims())); err != nil {
		t.Fatalf("a failing key server dropped the keys held: %v", err)
	}
}

func TestParseJWKSSkipsUnusableKeys(t *testing.T) {
	set := `{"keys":[` +
		jwkOf("sym", keys.hmac) + `,` +
		`{"kty":"RSA","kid":"enc","use":"enc","n":"` + b64u(keys.rsa.N.Bytes()) + `","e":"AQAB"},` +
		`{"kty":"RSA","kid":"small","n":"AQAB","e":"AQAB"},` +
		strings.Replace(jwkOf("es", &keys.p256.PublicKey), `"kid"`, `"alg":"ES256","kid"`, 1) + `]}`
	got, err := parseJWKS([]byte(set), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].id != "es" || !got[0].allows("ES256") || got[0].allows("HS256") {
		var ids []string
		for _, k := range got {
			ids = append(ids, k.id)
		}
		t.Errorf("kept %v, want only es (ES256)", ids)
	}
	if _, err := parseJWKS([]byte(`{"keys":[`+jwkOf("sym", keys.hmac)+`]}`), nil); err == nil {
		t.Error("a set of only a symmetric key was accepted without HS* allowed")
	}
}

// TestJWKSRefreshOutlivesTheCallerThatAsked: a token with a made-up key
// id makes the gateway fetch the key set; the fetch belongs to everyone
// (it spends the minimum interval), so the request that started it
// leaving must not abort it. Before, it ran under that request's context:
// an attacker sending a made-up kid and hanging up at once (every
// min_refresh_interval) cancelled each fetch, and the issuer's new key
// stayed unknown until the background refresh (refresh_interval, 5m by
// default): every token signed with it was refused meanwhile.
func TestJWKSRefreshOutlivesTheCallerThatAsked(t *testing.T) {
	srv := newJWKSServer(t, jwkOf("k1", &keys.rsa.PublicKey))
	v, _ := jwksVerifier(t, srv.URL, time.Hour, time.Hour)
	// The issuer rotates to k2; its set now takes a while to answer.
	srv.rotate(jwkOf("k2", &keys.p256.PublicKey))
	srv.delay.Store(int64(300 * time.Millisecond))
	// The minimum interval since the fetch at start has passed.
	src := v.sources[0]
	src.mu.Lock()
	src.lastAttempt = time.Time{}
	src.mu.Unlock()
	// The attacker's request gives up after 20ms.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, keys.rsa, "made-up", validClaims())); err == nil {
		t.Fatal("a made-up kid verified")
	}
	// A caller with a token of the new key, once that fetch had time to
	// end, is verified.
	time.Sleep(600 * time.Millisecond)
	if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodES256, keys.p256, "k2", validClaims())); err != nil {
		t.Fatalf("k2 after the rotation and an abandoned fetch: %v (%d fetches)", err, srv.fetches.Load())
	}
}
