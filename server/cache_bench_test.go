package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/fedgate/gateway/cache"
	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/internal/redistest"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs"
	"github.com/fedgate/gateway/subgraphs/demo"
)

// benchServe runs the demo bench query through the handler b.N times.
func benchServe(b *testing.B, opts server.Options) {
	g := gatewaytest.Start(b, gatewaytest.WithServerOptions(opts))
	body := demoBenchBody(b)
	serve := func() {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		g.Handler.ServeHTTP(rec, req)
		if rec.Code != 200 || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.Bytes())
		}
	}
	for i := 0; i < 3; i++ {
		serve()
	}
	time.Sleep(10 * time.Millisecond) // let ristretto apply the stores
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		serve()
	}
	b.StopTimer()
	b.ReportMetric(float64(g.Requests())/float64(b.N+3), "fetches/op")
}

// BenchmarkResponseCache is the 4-subgraph demo query through the handler
// without the response cache, and with it warm (every field cacheable for
// a minute by default_max_age).
func BenchmarkResponseCache(b *testing.B) {
	b.Run("uncached", func(b *testing.B) {
		opts := server.DefaultOptions()
		opts.Cache.Response.Enabled = false
		benchServe(b, opts)
	})
	b.Run("warm", func(b *testing.B) {
		opts := server.DefaultOptions()
		opts.Cache.Response.DefaultMaxAge = time.Minute
		benchServe(b, opts)
	})
}

// BenchmarkEntityCache is the demo query without the response cache: its
// entity fetches go to the subgraphs ("off"), or hit the entity cache in
// process ("l1") or in Redis ("redis", no L1): the difference from "off"
// is what a subgraph round trip costs against a hit.
func BenchmarkEntityCache(b *testing.B) {
	opts := func(entities, l1 bool, r *cache.Redis) server.Options {
		o := server.DefaultOptions()
		o.Cache.Response.Enabled = false
		o.Cache.Dedupe = false
		o.Cache.Entity.Enabled = entities
		o.Cache.Entity.L1 = l1
		o.Redis = r
		return o
	}
	b.Run("off", func(b *testing.B) { benchServe(b, opts(false, false, nil)) })
	b.Run("l1", func(b *testing.B) { benchServe(b, opts(true, true, nil)) })
	b.Run("redis", func(b *testing.B) {
		r, err := cache.NewRedis(cache.RedisOptions{URL: redistest.Start(b).URL()})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = r.Close() })
		benchServe(b, opts(true, false, r))
	})
}

// BenchmarkEntityHitVsRoundTrip compares one _entities fetch of five
// products from the demo products subgraph over loopback HTTP with five
// entity cache hits, in process and in Redis.
func BenchmarkEntityHitVsRoundTrip(b *testing.B) {
	const op = `query($representations:[_Any!]!){_entities(representations:$representations){...on Product{name price}}}`
	var reps [][]byte
	for i := 1; i <= 5; i++ {
		reps = append(reps, []byte(fmt.Sprintf(`{"__typename":"Product","upc":"%d"}`, i)))
	}
	body := []byte(`{"query":` + strconv.Quote(op) + `,"variables":{"representations":[` + string(bytes.Join(reps, []byte(","))) + `]}}`)
	ctx := context.Background()
	b.Run("subgraph", func(b *testing.B) {
		srv := httptest.NewServer(demo.Handlers()["products"])
		b.Cleanup(srv.Close)
		client := subgraphs.NewClient(map[string]string{"products": srv.URL}, subgraphs.Options{})
		b.Cleanup(client.Close)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			resp, err := client.Fetch(ctx, "products", &executor.Request{Body: body})
			if err != nil || !bytes.Contains(resp.Body, []byte("Desk")) {
				b.Fatalf("%v %s", err, resp.Body)
			}
			resp.Release()
		}
	})
	hits := func(b *testing.B, c *cache.EntityCache) {
		f := &cache.EntityFetch{Version: "v", Subgraph: "products", Selection: []byte(op),
			KeyFields: func(string) []string { return []string{"upc"} }}
		ents := make([][]byte, len(reps))
		for i := range ents {
			ents[i] = []byte(`{"__typename":"Product","name":"Desk","price":1499}`)
		}
		c.Put(ctx, f, reps, ents, "")
		c.Wait()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for j, e := range c.Get(ctx, f, reps) {
				if e.Body == nil {
					b.Fatalf("miss %d", j)
				}
			}
		}
	}
	cfg := cache.DefaultConfig().Entity
	cfg.Enabled = true
	b.Run("l1", func(b *testing.B) {
		c, err := cache.NewEntityCache(cfg, nil, &cache.Stats{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(c.Close)
		hits(b, c)
	})
	b.Run("redis", func(b *testing.B) {
		r, err := cache.NewRedis(cache.RedisOptions{URL: redistest.Start(b).URL()})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = r.Close() })
		cfg := cfg
		cfg.L1 = false
		c, err := cache.NewEntityCache(cfg, r, &cache.Stats{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(c.Close)
		hits(b, c)
	})
}
