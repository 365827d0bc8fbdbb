//go:build attack

package attack

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

// redisLookups is the keyspace hits and misses Redis counted.
func (g *gateway) redisLookups(t *testing.T) int64 {
	t.Helper()
	info, err := g.redis.Client().Info(context.Background(), "stats").Result()
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, l := range strings.Split(info, "\r\n") {
		for _, f := range []string{"keyspace_hits:", "keyspace_misses:"} {
			if v, ok := strings.CutPrefix(l, f); ok {
				k, _ := strconv.ParseInt(v, 10, 64)
				n += k
			}
		}
	}
	return n
}

// TestAPQHashAbuse: a client sends persisted queries by hash only, with
// hashes of 1.9 MB (as large as the body allows). Each was looked up as
// it came, a Redis key of 1.9 MB, before any rate limit counted the
// request; a hash that is not 64 hexadecimal digits is now refused (400
// BAD_REQUEST) without a lookup.
func TestAPQHashAbuse(t *testing.T) {
	g := start(t, "", false)
	const n = 40
	body := `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + strings.Repeat("a", 1900<<10) + `"}}}`
	lookups, cpu0, t0 := g.redisLookups(t), g.cpu(), time.Now()
	codes := map[int]int{}
	for range n {
		st, b := g.post(t, body, "Accept", "application/graphql-response+json")
		if !strings.Contains(b, `"BAD_REQUEST"`) {
			st = -st
		}
		codes[st]++
	}
	cpu, wall, looked := (g.cpu()-cpu0)/n, time.Since(t0)/n, g.redisLookups(t)-lookups
	t.Logf("FIGURE APQ hashes of 1.9 MB, hash only, %d requests: statuses %v (negative: not BAD_REQUEST), %v CPU and %v wall per request, %d Redis lookups", n, codes, cpu, wall, looked)
	if codes[400] != n || looked != 0 {
		t.Errorf("statuses %v, %d Redis lookups: want %d refused 400 and no lookup", codes, looked, n)
	}
}
