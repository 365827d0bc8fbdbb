package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/redistest"
)

func hashOf(q string) string {
	sum := sha256.Sum256([]byte(q))
	return hex.EncodeToString(sum[:])
}

func pqExt(hash string) []byte {
	return []byte(fmt.Sprintf(`{"persistedQuery":{"version":1,"sha256Hash":%q}}`, hash))
}

const (
	listed   = "query Listed { products { upc } }"
	unlisted = "{ me { id } }"
)

func testManifest(t *testing.T) *Manifest {
	t.Helper()
	m, err := ParseManifest([]byte(fmt.Sprintf(`{"format":"apollo-persisted-query-manifest","version":1,
		"operations":[{"id":%q,"name":"Listed","type":"query","body":%q},
		              {"id":"custom-id","name":"Other","type":"query","body":"{ other }"}]}`, hashOf(listed), listed)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func newPQ(t *testing.T, apq bool, mode string, r *Redis) *PersistedQueries {
	t.Helper()
	var m *Manifest
	if mode != TrustedOff {
		m = testManifest(t)
	}
	p, err := NewPersistedQueries(APQConfig{Enabled: apq, TTL: time.Hour, MaxBytes: 1 << 20},
		TrustedDocumentsConfig{Mode: mode}, m, r, &Stats{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// TestPersistedQueryProtocol checks every answer of Resolve: the query to
// run, or the error code and status Apollo clients expect.
func TestPersistedQueryProtocol(t *testing.T) {
	type step struct {
		query string
		ext   []byte
		want  string // query to run, when code is ""
		code  string
		state int
	}
	q := "{ products { upc } }"
	for _, tc := range []struct {
		name  string
		apq   bool
		mode  string
		steps []step
	}{
		{"apq: unknown hash, register, then by hash", true, TrustedOff, []step{
			{"", pqExt(hashOf(q)), "", CodePersistedQueryNotFound, 200},
			{q, pqExt(hashOf(q)), q, "", 0},
			{"", pqExt(hashOf(q)), q, "", 0},
			{"", pqExt(hashOf(q + " ")), "", CodePersistedQueryNotFound, 200},
		}},
		{"apq: uppercase hash", true, TrustedOff, []step{
			{q, pqExt(hashOf(q)), q, "", 0},
			{"", pqExt(toUpper(hashOf(q))), q, "", 0},
		}},
		{"apq: hash mismatch", true, TrustedOff, []step{
			{q, pqExt(hashOf("{ other }")), "", CodePersistedQueryHashMismatch, 400},
			{"", pqExt(hashOf("{ other }")), "", CodePersistedQueryNotFound, 200},
		}},
		{"apq: bad version and missing hash", true, TrustedOff, []step{
			{"", []byte(`{"persistedQuery":{"version":2,"sha256Hash":"ab"}}`), "", CodeBadRequest, 400},
			{"", []byte(`{"persistedQuery":{"version":1}}`), "", CodeBadRequest, 400},
			{"", []byte(`{"persistedQuery":"yes"}`), "", CodeBadRequest, 400},
		}},
		{"apq off", false, TrustedOff, []step{
			{"", pqExt(hashOf(q)), "", CodePersistedQueryNotSupported, 400},
			{q, pqExt(hashOf(q)), "", CodePersistedQueryNotSupported, 400},
			{q, nil, q, "", 0},
			{q, []byte(`{"other":1}`), q, "", 0},
		}},
		{"trusted allow: ids resolve, any text runs", false, TrustedAllow, []step{
			{"", pqExt(hashOf(listed)), listed, "", 0},
			{"", pqExt("custom-id"), "{ other }", "", 0},
			{unlisted, nil, unlisted, "", 0},
			{"", pqExt(hashOf(unlisted)), "", CodePersistedQueryNotFound, 200},
		}},
		{"trusted safelist: only listed operations", true, TrustedSafelist, []step{
			{listed, nil, listed, "", 0},
			{"", pqExt(hashOf(listed)), listed, "", 0},
			{unlisted, nil, "", CodePersistedQueryNotInList, 400},
			{unlisted, pqExt(hashOf(unlisted)), "", CodePersistedQueryNotInList, 400},
			// a refused registration is not stored either
			{"", pqExt(hashOf(unlisted)), "", CodePersistedQueryNotFound, 200},
		}},
		{"trusted safelist without apq", false, TrustedSafelist, []step{
			{"", pqExt(hashOf(unlisted)), "", CodePersistedQueryNotInList, 400},
		}},
		{"trusted ids only", true, TrustedIDsOnly, []step{
			{"", pqExt("custom-id"), "{ other }", "", 0},
			{"", pqExt(hashOf(listed)), listed, "", 0},
			{listed, nil, "", CodePersistedQueryIDRequired, 400},
			{listed, pqExt(hashOf(listed)), "", CodePersistedQueryIDRequired, 400},
			{"", pqExt(hashOf(unlisted)), "", CodePersistedQueryNotInList, 400},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPQ(t, tc.apq, tc.mode, nil)
			for i, s := range tc.steps {
				res, err := p.Resolve(context.Background(), s.query, s.ext)
				got := res.Query
				if err == nil {
					p.Register(context.Background(), res)
				}
				p.Wait()
				if s.code == "" {
					if err != nil || got != s.want {
						t.Fatalf("step %d: got %q, %v; want %q", i, got, err, s.want)
					}
					continue
				}
				var e *Error
				if !errors.As(err, &e) || e.Code != s.code || e.Status != s.state {
					t.Fatalf("step %d: got %q, %v; want %s (%d)", i, got, err, s.code, s.state)
				}
			}
		})
	}
}

func toUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

// TestPersistedQueriesShareRedis registers a query on one gateway and
// finds it on another through Redis; a value in Redis that does not hash
// to its key is never run.
func TestPersistedQueriesShareRedis(t *testing.T) {
	srv := redistest.Start(t)
	redisA, err := NewRedis(RedisOptions{URL: srv.URL(), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	redisB, _ := NewRedis(RedisOptions{URL: srv.URL(), Timeout: time.Second})
	a, b := newPQ(t, true, TrustedOff, redisA), newPQ(t, true, TrustedOff, redisB)
	ctx := context.Background()
	q := "{ products { upc } }"
	res, err := a.Resolve(ctx, q, pqExt(hashOf(q)))
	if err != nil {
		t.Fatal(err)
	}
	a.Register(ctx, res)
	got, err := b.Resolve(ctx, "", pqExt(hashOf(q)))
	if err != nil || got.Query != q {
		t.Fatalf("second gateway: %q, %v", got, err)
	}
	forged := hashOf("{ forged }")
	if err := srv.Client().Set(ctx, apqKey(forged), "{ me { id } }", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	var e *Error
	if _, err := b.Resolve(ctx, "", pqExt(forged)); !errors.As(err, &e) || e.Code != CodePersistedQueryNotFound || e.Status != http.StatusOK {
		t.Fatalf("forged entry: %v", err)
	}
}

func TestParseManifest(t *testing.T) {
	for _, tc := range []struct{ name, json string }{
		{"wrong format", `{"format":"other","version":1,"operations":[]}`},
		{"wrong version", `{"format":"apollo-persisted-query-manifest","version":2,"operations":[]}`},
		{"missing body", `{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"a"}]}`},
		{"duplicate id", `{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"a","body":"{a}"},{"id":"a","body":"{b}"}]}`},
		{"not json", `{`},
	} {
		if _, err := ParseManifest([]byte(tc.json)); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// TestRegistrationsBoundedInRedis: the documents registered in Redis in
// one TTL window take at most cache.apq.max_redis_bytes (what every
// gateway sharing the Redis registered, counted in Redis); past it a
// document runs and is kept in process but not stored in Redis (a client
// asking another gateway for it gets PERSISTED_QUERY_NOT_FOUND and sends
// it again). Registration is bounded per client by its rate limit, which
// is off by default: before, any client filled Redis with 64 KiB
// documents kept for the whole TTL (a day by default) as fast as it could
// send them.
func TestRegistrationsBoundedInRedis(t *testing.T) {
	srv := redistest.Start(t)
	r, err := NewRedis(RedisOptions{URL: srv.URL(), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPersistedQueries(APQConfig{Enabled: true, TTL: time.Hour, MaxBytes: 1 << 20, MaxRedisBytes: 10 << 10}, TrustedDocumentsConfig{}, nil, r, &Stats{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	ctx := context.Background()
	var stored int
	for i := range 40 {
		q := fmt.Sprintf("{ products { upc } } # %d %s", i, strings.Repeat("x", 1000))
		res, err := p.Resolve(ctx, q, pqExt(hashOf(q)))
		if err != nil {
			t.Fatal(err)
		}
		p.Register(ctx, res)
		p.Wait() // the in-process cache applies a store asynchronously
		if n, _ := srv.Client().Exists(ctx, apqKey(hashOf(q))).Result(); n == 1 {
			stored++
		}
		// Kept in process all the same.
		if got, err := p.Resolve(ctx, "", pqExt(hashOf(q))); err != nil || got.Query != q {
			t.Fatalf("document %d not found in process: %v", i, err)
		}
	}
	if stored < 9 || stored > 10 {
		t.Errorf("%d documents of about 1 KiB stored in Redis, want 10 KiB of them", stored)
	}
}

// TestMalformedHashIsNotLookedUp: a persisted query whose hash is not 64
// hexadecimal digits names no document, and is refused (400 BAD_REQUEST)
// without a lookup. Before, any string was asked of Redis as a key: a
// client sent 1 MiB hashes, each a 1 MiB MGET (29 ms a request in
// gateway demo), before any rate limit counted it.
func TestMalformedHashIsNotLookedUp(t *testing.T) {
	srv := redistest.Start(t)
	r, err := NewRedis(RedisOptions{URL: srv.URL(), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p := newPQ(t, true, TrustedOff, r)
	ctx := context.Background()
	lookups := func() int64 {
		info, _ := srv.Client().Info(ctx, "stats").Result()
		var n int64
		for _, l := range strings.Split(info, "\r\n") {
			for _, f := range []string{"keyspace_hits:", "keyspace_misses:"} {
				if v, ok := strings.CutPrefix(l, f); ok {
					var k int64
					fmt.Sscan(v, &k)
					n += k
				}
			}
		}
		return n
	}
	for _, tc := range []struct {
		name, hash string
		code       string
		status     int
		lookups    int64
	}{
		{"a hash", hashOf("{ unknown }"), CodePersistedQueryNotFound, http.StatusOK, 1},
		{"upper case", strings.ToUpper(hashOf("{ unknown2 }")), CodePersistedQueryNotFound, http.StatusOK, 1},
		{"1 MiB", strings.Repeat("a", 1<<20), CodeBadRequest, http.StatusBadRequest, 0},
		{"63 digits", hashOf("{ x }")[:63], CodeBadRequest, http.StatusBadRequest, 0},
		{"not hex", strings.Repeat("g", 64), CodeBadRequest, http.StatusBadRequest, 0},
		{"a key pattern", strings.Repeat("*", 64), CodeBadRequest, http.StatusBadRequest, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := lookups()
			_, err := p.Resolve(ctx, "", pqExt(tc.hash))
			var e *Error
			if !errors.As(err, &e) || e.Code != tc.code || e.Status != tc.status {
				t.Fatalf("got %v, want %s %d", err, tc.code, tc.status)
			}
			if n := lookups() - before; n != tc.lookups {
				t.Errorf("%d Redis lookups, want %d", n, tc.lookups)
			}
		})
	}
}
