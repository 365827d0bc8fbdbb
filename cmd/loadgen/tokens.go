package main

import (
	"crypto"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// tokenConfig says how requests authenticate: no token, one token for
// every request, or a distinct token per request.
type tokenConfig struct {
	// alg is "HS256" or "RS256"; empty sends no Authorization header.
	alg string
	// secret is the HS256 secret.
	secret string
	// keyFile holds the RS256 private key (PEM, PKCS#1 or PKCS#8).
	keyFile string
	// kid is the "kid" header; empty leaves it out.
	kid string
	// issuer and audience are the iss and aud claims; empty leaves them out.
	issuer, audience string
	// unique is the number of distinct tokens to sign before the run; each
	// request uses the next one and the run ends when they are used up.
	// 0 signs one token that every request sends.
	unique int
}

func (c tokenConfig) enabled() bool { return c.alg != "" }

// tokens is the pool of signed tokens a run sends.
type tokens struct {
	list   []string
	unique bool
	next   atomic.Int64
}

// errTokensUsed ends a phase when every distinct token was sent.
var errTokensUsed = errors.New("every distinct token was sent")

// take returns the Authorization header value of the next request.
func (t *tokens) take() (string, error) {
	if t == nil {
		return "", nil
	}
	if !t.unique {
		return "Bearer " + t.list[0], nil
	}
	i := t.next.Add(1) - 1
	if i >= int64(len(t.list)) {
		return "", errTokensUsed
	}
	return "Bearer " + t.list[i], nil
}

// used is the number of distinct tokens handed out so far.
func (t *tokens) used() int64 {
	if t == nil || !t.unique {
		return 0
	}
	return min(t.next.Load(), int64(len(t.list)))
}

// signTokens signs the pool before the run, on every core, so that the
// run measures the gateway, not the signing. Token i has subject
// "loadgen-<run>-<i>" and jti i, so no two are alike and no two callers
// are the same.
func signTokens(c tokenConfig, now time.Time) (*tokens, error) {
	var method jwt.SigningMethod
	var key any
	switch c.alg {
	case "HS256":
		if len(c.secret) < 32 {
			return nil, errors.New("-jwt-secret: HS256 needs a secret of at least 32 bytes")
		}
		method, key = jwt.SigningMethodHS256, []byte(c.secret)
	case "RS256":
		pem, err := os.ReadFile(c.keyFile)
		if err != nil {
			return nil, fmt.Errorf("-jwt-key: %w", err)
		}
		k, err := jwt.ParseRSAPrivateKeyFromPEM(pem)
		if err != nil {
			return nil, fmt.Errorf("-jwt-key %s: %w", c.keyFile, err)
		}
		method, key = jwt.SigningMethodRS256, crypto.Signer(k)
	default:
		return nil, fmt.Errorf("-jwt-alg: %q is not HS256 or RS256", c.alg)
	}
	n := max(c.unique, 1)
	run := strconv.FormatInt(now.UnixNano(), 36)
	t := &tokens{list: make([]string, n), unique: c.unique > 0}
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				claims := jwt.MapClaims{
					"sub": "loadgen-" + run + "-" + strconv.Itoa(i),
					"jti": strconv.Itoa(i),
					"iat": now.Unix(),
					"exp": now.Add(time.Hour).Unix(),
				}
				if c.issuer != "" {
					claims["iss"] = c.issuer
				}
				if c.audience != "" {
					claims["aud"] = c.audience
				}
				tok := jwt.NewWithClaims(method, claims)
				if c.kid != "" {
					tok.Header["kid"] = c.kid
				}
				s, err := tok.SignedString(key)
				if err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
					return
				}
				t.list[i] = s
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, fmt.Errorf("signing tokens: %w", firstErr)
	}
	return t, nil
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}
