package redistest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/fedgate/gateway/internal/serial"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fedgate/gateway/cache"
	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/internal/redistest"
	"github.com/fedgate/gateway/limits"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs/registry"
)

// The rate limit of the failover tests: limit requests per second for
// the one client (127.0.0.1), shared by two gateway instances, each sent
// offered requests per second.
// The load is kept small so that the test holds on a busy machine and
// under the race detector.
const (
	limit   = 20
	offered = 62
	// settle is how long after a failover starts the limits must be
	// within tolerance again; measure is the window they are measured
	// over.
	settle    = 5 * time.Second
	measure   = 5 * time.Second
	tolerance = 0.05
	// redisTimeout bounds one Redis command of the gateways: long enough
	// that a slow machine is not taken for a failed Redis (a dead node
	// refuses connections at once; a paused one is what is tested).
	redisTimeout = 5 * time.Second
)

// TestGatewayRedisFailover runs two gateway instances on a Redis Cluster
// (a coordinated CLUSTER FAILOVER, then a killed master) and on a master
// behind Sentinel (SENTINEL FAILOVER), under steady load from one client
// whose shared rate limit the load exceeds six times. The master failed
// over is the one holding the client's rate limit counter. Every request
// must be answered with data (200) or a rate limit refusal (429
// RATE_LIMITED), never an error; and from 5 s after each failover on the
// number admitted in 5 s (counted when the limiters decide) must be
// within 5% of the limit again. (With the limits falling back to each
// instance's own counters, twice the limit would pass: the check sees
// that shared counting resumed.)
func TestGatewayRedisFailover(t *testing.T) {
	serial.Timing(t)
	// The two run at once: most of their time is waiting.
	t.Run("cluster", func(t *testing.T) {
		t.Parallel()
		c := redistest.StartCluster(t)
		checkRegistry(t, c.URL())
		runFailovers(t, c.URL(), func(key string) []failover {
			return []failover{
				{"CLUSTER FAILOVER", func() { c.Failover(key) }},
				{"killed master", func() { c.KillMaster(key) }},
			}
		})
	})
	t.Run("sentinel", func(t *testing.T) {
		t.Parallel()
		s := redistest.StartSentinel(t)
		checkRegistry(t, s.URL())
		runFailovers(t, s.URL(), func(string) []failover {
			return []failover{{"SENTINEL FAILOVER", func() { s.Failover() }}}
		})
	})
}

// checkRegistry commits registry versions from two instances (the commit
// script runs on the cluster: its keys share a slot) and sees each
// announced to the other.
func checkRegistry(t *testing.T, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var stores []*registry.Redis
	for range 2 {
		client, err := cache.OpenRedisClient(url, cache.ClientOptions{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = client.Close() })
		stores = append(stores, registry.NewRedis(client, "fedgate:registry:", time.Hour))
	}
	seen := make(chan int64, 10)
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	go stores[1].Watch(wctx, func(n int64) { seen <- n })
	// Watch subscribes in the background: commit new versions until one
	// is announced (the poll is an hour away). A repeated commit
	// conflicts.
	announced := false
	n := int64(0)
	for !announced && n < 20 {
		n++
		v := &registry.Version{Number: n, Reason: "test", Supergraph: "sdl"}
		if err := stores[0].Commit(ctx, n-1, v); err != nil {
			t.Fatalf("commit %d: %v", n, err)
		}
		if err := stores[0].Commit(ctx, n-1, v); !errors.Is(err, registry.ErrConflict) {
			t.Fatalf("second commit %d: %v, want a conflict", n, err)
		}
		wait := time.After(300 * time.Millisecond)
	read:
		for {
			select {
			case got := <-seen:
				if got == n {
					announced = true
					break read
				}
			case <-wait:
				break read
			}
		}
	}
	if !announced {
		t.Fatalf("none of %d commits was announced", n)
	}
	hist, err := stores[1].History(ctx)
	if err != nil || int64(len(hist)) != n {
		t.Fatalf("history: %d versions, %v", len(hist), err)
	}
}

type failover struct {
	name string
	run  func()
}

// answer is one request's outcome.
type answer struct {
	at      time.Duration // since the load started, when the answer came
	allowed bool
	failure string // "" for data or RATE_LIMITED
}

// decisions records when the limiters of both gateways admitted or
// refused a request: the windows are counted by decision time, which the
// latency of the answers (seconds on a starved machine) does not blur.
type decisions struct {
	start time.Time
	mu    sync.Mutex
	list  []answer // at and allowed only
}

// recording is a limiter that reports its verdicts to decisions.
type recording struct {
	inner limits.Limiter
	log   *decisions
}

func (r recording) Take(ctx context.Context, key string, tier limits.Tier, cost int64) (limits.Verdict, error) {
	v, err := r.inner.Take(ctx, key, tier, cost)
	if err == nil {
		r.log.mu.Lock()
		r.log.list = append(r.log.list, answer{at: time.Since(r.log.start), allowed: v.Allowed})
		r.log.mu.Unlock()
	}
	return v, err
}

func startGateway(t *testing.T, url string, log *decisions) *gatewaytest.Gateway {
	t.Helper()
	r, err := cache.NewRedis(cache.RedisOptions{URL: url, Timeout: redisTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	cfg := limits.DefaultConfig()
	cfg.Tiers = map[string]limits.TierConfig{"default": {Requests: limit, Window: time.Second}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	opts := server.DefaultOptions()
	limiter := limits.NewRedisLimiter(r.Client(), limits.RedisLimiterOptions{Prefix: cfg.Redis.KeyPrefix, Timeout: redisTimeout})
	opts.Policy = limits.NewPolicy(cfg, limits.PolicyOptions{Limiter: recording{inner: limiter, log: log}})
	opts.Redis = r
	opts.Cache.Entity.Enabled = true
	opts.Cache.Entity.TTL = time.Minute
	return gatewaytest.Start(t, gatewaytest.WithServerOptions(opts))
}

func runFailovers(t *testing.T, url string, failovers func(rateKey string) []failover) {
	log := &decisions{}
	gateways := []*gatewaytest.Gateway{startGateway(t, url, log), startGateway(t, url, log)}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var mu sync.Mutex
	var answers []answer
	start := time.Now()
	log.mu.Lock()
	log.start, log.list = start, nil
	log.mu.Unlock()
	var wg sync.WaitGroup
	for _, g := range gateways {
		wg.Add(1)
		go func() {
			defer wg.Done()
			load(ctx, g, start, func(a answer) {
				mu.Lock()
				answers = append(answers, a)
				mu.Unlock()
			})
		}()
	}
	snapshot := func() []answer {
		mu.Lock()
		defer mu.Unlock()
		return append([]answer(nil), answers...)
	}
	decided := func() []answer {
		log.mu.Lock()
		defer log.mu.Unlock()
		return append([]answer(nil), log.list...)
	}
	// count returns the requests the limiters admitted and refused in
	// [from, to).
	count := func(from, to time.Duration) (admitted, refused int) {
		for _, a := range decided() {
			if a.at < from || a.at >= to {
				continue
			}
			if a.allowed {
				admitted++
			} else {
				refused++
			}
		}
		return admitted, refused
	}
	waitUntil := func(at time.Duration) {
		if d := time.Until(start.Add(at)); d > 0 {
			time.Sleep(d)
		}
	}
	// saturated reports whether the limit refused requests in every
	// 500ms of [from, to): only then must GCRA admit exactly the limit
	// (a busy machine may offer less for a while).
	saturated := func(from, to time.Duration) bool {
		for b := from; b < to; b += 500 * time.Millisecond {
			if _, refused := count(b, b+500*time.Millisecond); refused == 0 {
				return false
			}
		}
		return true
	}
	// check measures the window from `from`. GCRA admits exactly the
	// limit in a window when the load exceeded it throughout the window
	// and the second before (no unused burst left): then the number
	// admitted must be within 5%. A busy machine may offer less for a
	// while; then only GCRA's own bound is checked (the limit plus one
	// window's burst, which two instances counting alone exceed) and the
	// next window (up to two more) is measured.
	check := func(what string, from time.Duration) {
		want := float64(limit) * measure.Seconds()
		for try := 0; ; try++ {
			waitUntil(from + measure)
			got, refused := count(from, from+measure)
			t.Logf("%s: %d admitted, %d refused in %v from %v (limit %v)", what, got, refused, measure, from.Round(time.Millisecond), want)
			if saturated(from-time.Second, from+measure) {
				if d := float64(got) - want; d > tolerance*want || d < -tolerance*want {
					t.Errorf("%s: %d admitted in %v under load, want %v ± %.0f%%; per 500ms: %v", what, got, measure, want, tolerance*100, series(decided()))
				}
				return
			}
			if float64(got) > (1+tolerance)*want+limit {
				t.Errorf("%s: %d admitted in %v, more than GCRA allows (%v + %d burst + %.0f%%); per 500ms: %v", what, got, measure, want, limit, tolerance*100, series(decided()))
				return
			}
			if try == 2 {
				t.Logf("%s: the machine was too busy to keep the load over the limit in 3 windows; only the upper bound was checked", what)
				return
			}
			from += measure
		}
	}

	// Both instances share the counter before anything fails over.
	check("before", 1500*time.Millisecond)
	rateKey := findRateKey(t, url)
	for _, f := range failovers(rateKey) {
		t0 := time.Since(start)
		f.run()
		t.Logf("%s: done in %v", f.name, (time.Since(start) - t0).Round(time.Millisecond))
		check(f.name, max(t0+settle, time.Since(start)))
	}
	stop()
	wg.Wait()
	all := snapshot()
	failed := 0
	for _, a := range all {
		if a.failure != "" {
			if failed < 5 {
				t.Errorf("request answered at %v failed: %s", a.at.Round(time.Millisecond), a.failure)
			}
			failed++
		}
	}
	t.Logf("%d requests, %d failed", len(all), failed)
	if failed > 0 {
		t.Errorf("%d of %d requests failed", failed, len(all))
	}
}

// load sends offered requests per second to g until ctx ends, from eight
// workers; a tick finding every worker busy is dropped (the load is
// steady, not catching up).
func load(ctx context.Context, g *gatewaytest.Gateway, start time.Time, record func(answer)) {
	const query = `{"query":"{ topProducts { upc name reviews { body } } }"}`
	ticks := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range ticks {
				rctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				resp, err := g.Post(rctx, []byte(query))
				cancel()
				a := answer{at: time.Since(start)}
				switch {
				case err != nil:
					a.failure = err.Error()
				default:
					a.allowed, a.failure = judge(resp)
				}
				record(a)
			}
		}()
	}
	t := time.NewTicker(time.Second / offered)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			close(ticks)
			wg.Wait()
			return
		case <-t.C:
			select {
			case ticks <- struct{}{}:
			default:
			}
		}
	}
}

// judge reads one answer: data without errors (admitted), or 429 with
// RATE_LIMITED; anything else is a failure.
func judge(resp *gatewaytest.Response) (allowed bool, failure string) {
	var body struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(resp.Body, &body); err != nil {
		return false, fmt.Sprintf("status %d, body %.200q", resp.Status, resp.Body)
	}
	switch {
	case resp.Status == http.StatusOK && len(body.Errors) == 0 && bytes.Contains(body.Data, []byte(`"topProducts"`)):
		return true, ""
	case resp.Status == http.StatusTooManyRequests && len(body.Errors) == 1 && body.Errors[0].Extensions["code"] == limits.CodeRateLimited:
		return false, ""
	}
	return false, fmt.Sprintf("status %d, body %.300s", resp.Status, resp.Body)
}

// findRateKey returns the Redis key of the client's rate limit counter,
// waiting (briefly) for it to be there.
func findRateKey(t *testing.T, url string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		keys, err := rateKeys(url)
		if err == nil && len(keys) == 1 {
			return keys[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("rate limit keys: %v %v", keys, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func rateKeys(url string) ([]string, error) {
	client, err := cache.OpenRedisClient(url, cache.ClientOptions{Timeout: time.Second})
	if err != nil {
		return nil, err
	}
	defer client.Close()
	ctx := context.Background()
	var mu sync.Mutex
	var keys []string
	find := func(ctx context.Context, c *redis.Client) error {
		ks, err := c.Keys(ctx, "fedgate:ratelimit:*").Result()
		mu.Lock()
		keys = append(keys, ks...)
		mu.Unlock()
		return err
	}
	switch c := client.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, find)
	case *redis.Client:
		err = find(ctx, c)
	}
	return keys, err
}

// series is the number admitted per 500ms, for failure messages.
func series(all []answer) string {
	counts := map[int]int{}
	last := 0
	for _, a := range all {
		if a.allowed {
			b := int(a.at / (500 * time.Millisecond))
			counts[b]++
			last = max(last, b)
		}
	}
	var sb strings.Builder
	for b := 0; b <= last; b++ {
		fmt.Fprintf(&sb, "%d ", counts[b])
	}
	return sb.String()
}
