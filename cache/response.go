package cache

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"

	"github.com/fedgate/gateway/internal/flight"
)

// ResponseKey is what a cached response depends on.
type ResponseKey struct {
	// Version is the supergraph version.
	Version string
	// Document identifies the normalized operation document.
	Document [32]byte
	// OperationName selects the operation.
	OperationName string
	// Variables are the coerced variables as canonical JSON (sorted keys).
	Variables []byte
	// Vary are the values of the configured vary headers, in order.
	Vary []string
	// Grants is the caller's authorization outcome (auth.Grants.Key):
	// callers allowed to see different fields never share an entry.
	Grants string
	// Identity is the caller's identity, "" for anonymous callers. Only
	// PRIVATE entries are keyed by it.
	Identity string
	// Fetch is what may change the subgraph requests, besides the
	// operation, its variables and the vary headers, in ways known only
	// once they are made: with hooks (or a coprocessor) at a Subgraph
	// stage, everything they may read of the request. "" when nothing
	// does. Every entry is keyed by it.
	Fetch string
	// Caller distinguishes callers whose answers may differ although
	// their identity does not: credentials, the headers sent to the
	// subgraphs, labels (the server's callerKey). Only flights are keyed
	// by it: a computation whose answer may turn out private is never
	// shared between callers.
	Caller string
}

// keys returns the public key and, when the caller has an identity, the
// private one.
func (k *ResponseKey) keys() (public, private string) {
	h := sha256.New()
	field := func(b []byte) {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	field(k.Document[:])
	field([]byte(k.OperationName))
	field(k.Variables)
	field([]byte(k.Grants))
	for _, v := range k.Vary {
		field([]byte(v))
	}
	if k.Fetch != "" {
		field([]byte(k.Fetch))
	}
	public = KeyPrefix + "r:" + k.Version + ":" + hex.EncodeToString(h.Sum(nil))
	if k.Identity != "" {
		private = public + ":p:" + identityHash(k.Identity)
	}
	return public, private
}

func identityHash(id string) string {
	sum := sha256.Sum256([]byte("fedgate identity\x00" + id))
	return hex.EncodeToString(sum[:16])
}

// Response is a cached response.
type Response struct {
	Body   []byte
	Policy Policy
	Stored time.Time
}

// Age is how long the response has been cached.
func (r *Response) Age(now time.Time) time.Duration {
	if now.Before(r.Stored) {
		return 0
	}
	return now.Sub(r.Stored)
}

// ResponseCache is the whole-response cache: ristretto in process, and
// Redis when one is given. Concurrent misses of the same key compute the
// response once (Do).
type ResponseCache struct {
	l1    *lazyL1[*Response]
	redis *Redis
	group flight.Group[Result]
	stats *Stats
}

// NewResponseCache returns a cache of at most cfg.MaxBytes in process,
// backed by r when r is not nil.
func NewResponseCache(cfg ResponseConfig, r *Redis, stats *Stats) (*ResponseCache, error) {
	maxBytes := cfg.MaxBytes
	if maxBytes <= 0 {
		maxBytes = 64 << 20
	}
	if !cfg.Redis {
		r = nil
	}
	return &ResponseCache{l1: newLazyL1[*Response](maxBytes), redis: r, stats: stats}, nil
}

// Close stops the in-process cache.
func (c *ResponseCache) Close() { c.l1.Close() }

// Get looks k up: the public entry, then the caller's private one. With
// privateOnly the public entry is not looked at (the operation is PRIVATE
// by its schema).
func (c *ResponseCache) Get(ctx context.Context, k *ResponseKey, privateOnly bool) (*Response, bool) {
	r, ok := c.get(ctx, k, privateOnly)
	if ok {
		c.stats.ResponseHits.Add(1)
	} else {
		c.stats.ResponseMisses.Add(1)
	}
	return r, ok
}

// Recheck is Get without counting: the second look of a computation that
// Do started, for a store that landed meanwhile.
func (c *ResponseCache) Recheck(ctx context.Context, k *ResponseKey, privateOnly bool) (*Response, bool) {
	return c.get(ctx, k, privateOnly)
}

func (c *ResponseCache) get(ctx context.Context, k *ResponseKey, privateOnly bool) (*Response, bool) {
	public, private := k.keys()
	keys := make([]string, 0, 2)
	if !privateOnly {
		keys = append(keys, public)
	}
	if private != "" {
		keys = append(keys, private)
	}
	if len(keys) == 0 {
		return nil, false
	}
	now := time.Now()
	for _, key := range keys {
		if r, ok := c.l1.Get(key); ok && r.Age(now) < r.Policy.MaxAge {
			return r, true
		}
	}
	if c.redis != nil {
		for i, v := range c.redis.mget(ctx, keys...) {
			r, ok := decodeResponse(v)
			if !ok || r.Age(now) >= r.Policy.MaxAge {
				continue
			}
			if keys[i] == private && r.Policy.Scope != Private || keys[i] == public && r.Policy.Scope != Public {
				continue // never serve an entry under a key its scope does not match
			}
			c.l1.Set(keys[i], r, int64(len(r.Body))+128, r.Policy.MaxAge-r.Age(now))
			return r, true
		}
	}
	return nil, false
}

// Set stores body under k if p allows it: a PRIVATE response only for a
// caller with an identity, under its private key. It reports whether it
// stored. The in-process store is applied before Set returns, so a
// request that arrives next finds it.
func (c *ResponseCache) Set(ctx context.Context, k *ResponseKey, body []byte, p Policy) bool {
	if !p.Cacheable() {
		return false
	}
	public, private := k.keys()
	key := public
	if p.Scope == Private {
		if private == "" {
			return false
		}
		key = private
	}
	r := &Response{Body: body, Policy: p, Stored: time.Now()}
	c.l1.Set(key, r, int64(len(body))+128, p.MaxAge)
	c.l1.Wait()
	if c.redis != nil {
		c.redis.set(ctx, []string{key}, [][]byte{encodeResponse(r)}, []time.Duration{p.MaxAge})
	}
	c.stats.ResponseStores.Add(1)
	return true
}

// Result is what Do's computation returns.
type Result struct {
	Body []byte
	// Status is the HTTP status.
	Status int
	// Policy is the policy the response was served under.
	Policy Policy
	// Cached is the cached response served instead of computing, if any.
	Cached *Response
}

// Do runs compute once for every concurrent caller with the same flight
// key; the others wait for its result (or their own context's end). The
// computation keeps the first caller's deadline but not its cancellation,
// so that a client going away does not fail the others; it is cancelled
// once every caller waiting for it has left, so abandoned computations do
// not pile up under overload. A panic in compute is an error for every
// caller, not a crash.
func (c *ResponseCache) Do(ctx context.Context, flight string, compute func(ctx context.Context) Result) (Result, error) {
	res, _, err := c.group.Do(ctx, flight, func(ctx context.Context) (Result, error) { return compute(ctx), nil })
	return res, err
}

// FlightKey is the key Do shares computations under: the public key, the
// caller's identity and the caller key, so that callers whose requests
// differ in credentials or forwarded headers never share a computation
// whose answer may turn out private (a subgraph's Cache-Control: private
// is known only once it answered).
func (k *ResponseKey) FlightKey() string {
	public, _ := k.keys()
	return public + "\x00" + k.Identity + "\x00" + k.Caller
}

// encodeResponse writes stored time (unix ms), maxAge (ms), scope, body.
func encodeResponse(r *Response) []byte {
	b := make([]byte, 17, 17+len(r.Body))
	binary.LittleEndian.PutUint64(b[0:], uint64(r.Stored.UnixMilli()))
	binary.LittleEndian.PutUint64(b[8:], uint64(r.Policy.MaxAge.Milliseconds()))
	b[16] = byte(r.Policy.Scope)
	return append(b, r.Body...)
}

func decodeResponse(b []byte) (*Response, bool) {
	if len(b) < 17 || b[16] > byte(Private) {
		return nil, false
	}
	return &Response{
		Stored: time.UnixMilli(int64(binary.LittleEndian.Uint64(b[0:]))),
		Policy: Policy{MaxAge: time.Duration(binary.LittleEndian.Uint64(b[8:])) * time.Millisecond, Scope: Scope(b[16])},
		Body:   b[17:],
	}, true
}
