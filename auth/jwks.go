package auth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// maxJWKSBytes caps a key set document.
const maxJWKSBytes = 1 << 20

// jwksSource is a key set fetched over HTTP: once at start, then every
// refresh interval in the background, and again when a token names a key
// id the set lacks, at most once per minRefresh so that tokens with made-up
// key ids cannot make the gateway hammer the key server. A failed fetch
// keeps the keys held before.
type jwksSource struct {
	url  string
	algs []string
	// issuers are the issuers the set's keys sign for (JWKSConfig.Issuers).
	issuers    []string
	refresh    time.Duration
	minRefresh time.Duration
	// timeout bounds a fetch (JWKSConfig.Timeout).
	timeout time.Duration
	client  *http.Client

	mu          sync.Mutex
	keys        []*verificationKey
	lastAttempt time.Time
	// fetching is closed when the fetch under way ends.
	fetching chan struct{}
	fetches  int
	// digest identifies the content of the set held; gen counts its
	// changes.
	digest [32]byte
	gen    atomic.Uint64
}

func newJWKSSource(c JWKSConfig, client *http.Client) *jwksSource {
	s := &jwksSource{url: c.URL, algs: c.Algorithms, issuers: c.Issuers, refresh: c.RefreshInterval, minRefresh: c.MinRefreshInterval, client: client}
	if s.refresh <= 0 {
		s.refresh = defaultJWKSRefresh
	}
	if s.minRefresh <= 0 {
		s.minRefresh = defaultJWKSMinRefresh
	}
	s.timeout = c.Timeout
	if s.timeout <= 0 {
		s.timeout = defaultJWKSTimeout
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: s.timeout}
	}
	return s
}

// snapshot returns the keys held now.
func (s *jwksSource) snapshot() []*verificationKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys
}

// Fetches returns how many fetches were started.
func (s *jwksSource) Fetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}

// run refreshes the set every interval until ctx ends.
func (s *jwksSource) run(ctx context.Context) {
	t := time.NewTicker(s.refresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.update(ctx, true)
		}
	}
}

// update fetches the set, unless one was attempted less than minRefresh
// ago and force is false; a caller arriving while a fetch is under way
// waits for it. It reports whether a fetch ran (or was joined).
func (s *jwksSource) update(ctx context.Context, force bool) bool {
	s.mu.Lock()
	if ch := s.fetching; ch != nil {
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
		}
		return true
	}
	if !force && time.Since(s.lastAttempt) < s.minRefresh {
		s.mu.Unlock()
		return false
	}
	ch := make(chan struct{})
	s.fetching = ch
	s.lastAttempt = time.Now()
	s.fetches++
	s.mu.Unlock()

	if force {
		// At start and in the background: the process's context.
		s.store(s.fetch(ctx))
		close(ch)
		return true
	}
	// Asked for by a request, the fetch is everyone's (it spends
	// minRefresh): it runs to its own deadline whether or not that
	// request stays. Before, it ran under the request's context, and a
	// client sending a made-up kid and hanging up cancelled it: repeated
	// every minRefresh, the issuer's new key stayed unknown until the
	// background refresh.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	go func() {
		defer cancel()
		s.store(s.fetch(fctx))
		close(ch)
	}()
	select {
	case <-ch:
	case <-ctx.Done():
	}
	return true
}

// store keeps the keys of a fetch (or, when it failed, those held) and
// ends the fetch under way.
func (s *jwksSource) store(keys []*verificationKey, digest [32]byte, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		slog.Warn("jwks fetch failed; keeping the keys held", "url", s.url, "error", err)
	} else {
		s.keys = keys
		if digest != s.digest {
			s.digest = digest
			s.gen.Add(1)
		}
	}
	s.fetching = nil
}

func (s *jwksSource) fetch(ctx context.Context) ([]*verificationKey, [32]byte, error) {
	keys, body, err := s.get(ctx)
	return keys, sha256.Sum256(body), err
}

func (s *jwksSource) get(ctx context.Context) ([]*verificationKey, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("jwks %s: %w", s.url, err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("jwks %s: %w", s.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("jwks %s: HTTP %d", s.url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("jwks %s: %w", s.url, err)
	}
	if len(body) > maxJWKSBytes {
		return nil, nil, fmt.Errorf("jwks %s: larger than %d bytes", s.url, maxJWKSBytes)
	}
	keys, err := parseJWKS(body, s.algs)
	return keys, body, err
}

// parseJWKS reads a key set. Keys that cannot be used (encryption keys,
// unknown types, symmetric keys unless HS* is allowed) are skipped; a set
// with no usable key is an error.
func parseJWKS(body []byte, allow []string) ([]*verificationKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("not a JSON Web Key Set: %w", err)
	}
	allowOct := false
	for _, a := range allow {
		if len(a) > 2 && a[:2] == "HS" {
			allowOct = true
		}
	}
	var keys []*verificationKey
	for i, raw := range set.Keys {
		var j jwk
		if err := json.Unmarshal(raw, &j); err != nil {
			slog.Warn("jwks: skipping a malformed key", "index", i)
			continue
		}
		if j.Use != "" && j.Use != "sig" {
			continue
		}
		pub, err := j.publicKey(allowOct)
		if err != nil {
			slog.Warn("jwks: skipping a key", "index", i, "kid", j.Kid, "error", err)
			continue
		}
		k, err := newVerificationKey(j.Kid, pub, allow, j.Alg)
		if err != nil {
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("the key set has no usable signing key")
	}
	return keys, nil
}
