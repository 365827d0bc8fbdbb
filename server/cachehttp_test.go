package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway/cache"
	"github.com/fedgate/gateway/internal/redistest"
	"github.com/fedgate/gateway/schema"
	"github.com/fedgate/gateway/server"
)

const productsQuery = `{ products { upc name } }`

func TestResponseCacheHeaders(t *testing.T) {
	env := newCacheEnv(t)
	g := env.gateway(t, cacheOptions(false, nil))
	first := g.query(t, "", productsQuery, nil)
	if cc := first.Header.Get("Cache-Control"); cc != "max-age=60, public" {
		t.Fatalf("first answer Cache-Control %q", cc)
	}
	if age := first.Header.Get("Age"); age != "" {
		t.Fatalf("a computed answer has Age %q", age)
	}
	second := g.query(t, "", productsQuery, nil)
	if cc, age := second.Header.Get("Cache-Control"), second.Header.Get("Age"); cc != "max-age=60, public" || age != "0" {
		t.Fatalf("cached answer: Cache-Control %q, Age %q", cc, age)
	}
	if !bytes.Equal(first.Body, second.Body) {
		t.Fatalf("cached body differs:\n%s\n%s", first.Body, second.Body)
	}
	// Spacing and comments do not change the key.
	g.query(t, "", "# the same\n{\n  products {\n    upc\n    name\n  }\n}\n", nil)
	if n := env.catalog.calls.Load(); n != 1 {
		t.Fatalf("catalog called %d times, want 1", n)
	}
	// Variables, operation names and callers of PRIVATE answers do.
	g.query(t, "", `query A($upc: ID!) { product(upc: $upc) { name } }`, map[string]any{"upc": "1"})
	g.query(t, "", `query A($upc: ID!) { product(upc: $upc) { name } }`, map[string]any{"upc": "2"})
	g.query(t, "", `query A($upc: ID!) { product(upc: $upc) { name } }`, map[string]any{"upc": "1"})
	if n := env.catalog.calls.Load(); n != 3 {
		t.Fatalf("catalog called %d times, want 3", n)
	}
	if cc := g.query(t, "", `{ uncached }`, nil).Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("uncacheable answer Cache-Control %q", cc)
	}
	if cc := g.query(t, "alice", `{ myNote }`, nil).Header.Get("Cache-Control"); cc != "max-age=60, private" {
		t.Fatalf("private answer Cache-Control %q", cc)
	}
}

func TestMutationsNeverCached(t *testing.T) {
	env := newCacheEnv(t)
	g := env.gateway(t, cacheOptions(true, nil))
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := g.post(t, "", map[string]any{"query": `mutation { rate(upc: "1") }`})
			if err != nil || a.Status != 200 || len(a.Errors) > 0 || a.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("mutation: %v %+v", err, a)
			}
		}()
	}
	wg.Wait()
	g.query(t, "", `mutation { rate(upc: "1") }`, nil)
	if n := env.catalog.calls.Load(); n != 6 {
		t.Fatalf("6 mutations (5 at once) reached the subgraph %d times; want 6: never cached nor shared", n)
	}
}

func TestErrorsNeverCached(t *testing.T) {
	env := newCacheEnv(t)
	g := env.gateway(t, cacheOptions(true, nil))
	env.catalog.fail.Store(true)
	if a := g.query(t, "", productsQuery, nil); len(a.Errors) == 0 || a.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("want an error answer with no-store: %s %v", a.Body, a.Header)
	}
	env.catalog.fail.Store(false)
	if a := g.query(t, "", productsQuery, nil); len(a.Errors) != 0 {
		t.Fatalf("the error answer was cached: %s", a.Body)
	}
	g.query(t, "", productsQuery, nil)
	if n := env.catalog.calls.Load(); n != 2 {
		t.Fatalf("catalog called %d times, want 2", n)
	}
}

// TestReloadNeverServesOldAnswers swaps in another supergraph version:
// cached answers, in process and in Redis, belong to the old one.
func TestReloadNeverServesOldAnswers(t *testing.T) {
	env := newCacheEnv(t)
	srv := redistest.Start(t)
	g := env.gateway(t, cacheOptions(true, newRedis(t, srv.URL())))
	g.query(t, "", productsQuery, nil)
	g.query(t, "", productsQuery, nil)
	if n := env.catalog.calls.Load(); n != 1 {
		t.Fatalf("catalog called %d times before the reload, want 1", n)
	}
	next, err := schema.Load(env.sg.SDL + "\n# version 2\n")
	if err != nil {
		t.Fatal(err)
	}
	if next.Version == env.sg.Version {
		t.Fatal("the test needs another supergraph version")
	}
	if err := g.Server.Swap(next, g.transport); err != nil {
		t.Fatal(err)
	}
	g.query(t, "", productsQuery, nil)
	if n := env.catalog.calls.Load(); n != 2 {
		t.Fatalf("catalog called %d times after the reload, want 2 (the old answer was served)", n)
	}
}

func TestAPQOverHTTP(t *testing.T) {
	env := newCacheEnv(t)
	g := env.gateway(t, cacheOptions(false, nil))
	ext := fmt.Sprintf(`{"persistedQuery":{"version":1,"sha256Hash":%q}}`, sha256Hex(productsQuery))
	get := func(params url.Values) *answer {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, g.URL+"?"+params.Encode(), nil)
		a, err := g.do(req)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := get(url.Values{"extensions": {ext}})
	if a.Status != 200 || len(a.Errors) != 1 || a.Errors[0].Extensions["code"] != cache.CodePersistedQueryNotFound {
		t.Fatalf("unknown hash over GET: %d %s", a.Status, a.Body)
	}
	a = get(url.Values{"extensions": {ext}, "query": {productsQuery}})
	if a.Status != 200 || len(a.Errors) != 0 || a.Data["products"] == nil {
		t.Fatalf("registration over GET: %d %s", a.Status, a.Body)
	}
	a = get(url.Values{"extensions": {ext}})
	if a.Status != 200 || len(a.Errors) != 0 || a.Data["products"] == nil {
		t.Fatalf("by hash over GET: %d %s", a.Status, a.Body)
	}
	p, err := g.post(t, "", map[string]any{"query": "{ uncached }", "extensions": json.RawMessage(ext)})
	if err != nil || p.Status != 400 || len(p.Errors) != 1 || p.Errors[0].Extensions["code"] != cache.CodePersistedQueryHashMismatch {
		t.Fatalf("hash mismatch: %v %+v", err, p)
	}

	off := server.DefaultOptions()
	off.Cache = cache.Config{}
	g2 := env.gateway(t, off)
	p, err = g2.post(t, "", map[string]any{"extensions": json.RawMessage(ext)})
	if err != nil || p.Status != 400 || len(p.Errors) != 1 || p.Errors[0].Extensions["code"] != cache.CodePersistedQueryNotSupported {
		t.Fatalf("APQ off: %v %+v", err, p)
	}
}

func TestTrustedDocumentsOverHTTP(t *testing.T) {
	env := newCacheEnv(t)
	manifest := filepath.Join(t.TempDir(), "manifest.json")
	body, _ := json.Marshal(map[string]any{"format": "apollo-persisted-query-manifest", "version": 1,
		"operations": []map[string]any{{"id": "products-v1", "name": "", "type": "query", "body": productsQuery}}})
	if err := os.WriteFile(manifest, body, 0o600); err != nil {
		t.Fatal(err)
	}
	opts := cacheOptions(false, nil)
	opts.Cache.TrustedDocuments = cache.TrustedDocumentsConfig{Mode: cache.TrustedIDsOnly, Manifest: manifest}
	if err := opts.Cache.Validate(); err != nil {
		t.Fatal(err)
	}
	g := env.gateway(t, opts)
	a, err := g.post(t, "", map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": "products-v1"}}})
	if err != nil || a.Status != 200 || len(a.Errors) != 0 || a.Data["products"] == nil {
		t.Fatalf("by id: %v %+v", err, a)
	}
	a = g.query(t, "", productsQuery, nil)
	if a.Status != 400 || len(a.Errors) != 1 || a.Errors[0].Extensions["code"] != cache.CodePersistedQueryIDRequired {
		t.Fatalf("query text in ids_only mode: %d %s", a.Status, a.Body)
	}
}

const averagesQuery = `{ a: product(upc: "1") { average } b: product(upc: "2") { average } }`

// TestEntityCacheFetchesOnlyMisses caches the entities of one request and
// checks that a later one asks the subgraph only for the others.
func TestEntityCacheFetchesOnlyMisses(t *testing.T) {
	env := newCacheEnv(t)
	opts := cacheOptions(true, nil)
	opts.Cache.Response.Enabled = false
	g := env.gateway(t, opts)
	g.query(t, "", `{ product(upc: "1") { average } }`, nil)
	if n := env.ratings.reps.Load(); n != 1 {
		t.Fatalf("%d representations asked, want 1", n)
	}
	g.Server.EntityCache().Wait()
	a := g.query(t, "", averagesQuery, nil)
	if got := fmt.Sprint(a.Data); got != "map[a:map[average:3.5] b:map[average:3.5]]" {
		t.Fatalf("data %s", a.Body)
	}
	if n := env.ratings.reps.Load(); n != 2 {
		t.Fatalf("%d representations asked in all, want 2 (product 1 was cached)", n)
	}
	g.Server.EntityCache().Wait()
	calls := env.ratings.calls.Load()
	g.query(t, "", averagesQuery, nil)
	if n := env.ratings.calls.Load(); n != calls {
		t.Fatalf("a request whose entities are all cached called the subgraph")
	}
}

// TestEntityInvalidation drops cached entities by type and key, by type
// and by subgraph, through the Go API and the HTTP handler, on two
// gateways sharing a Redis: the one that invalidates serves fresh data at
// once, the other as soon as the invalidation reaches it through Redis
// (its in-process entries would otherwise live for the TTL, a minute).
func TestEntityInvalidation(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		invalidate func(*testGateway, string) error
		// fresh says which products get the new average.
		fresh1, fresh2 bool
	}{
		{"entity", func(g *testGateway, _ string) error {
			_, err := g.Server.EntityCache().InvalidateEntity(ctx, "ratings", "Product", json.RawMessage(`{ "upc" : "1" }`))
			return err
		}, true, false},
		{"type", func(g *testGateway, _ string) error {
			_, err := g.Server.EntityCache().InvalidateType(ctx, "ratings", "Product")
			return err
		}, true, true},
		{"subgraph over HTTP", func(_ *testGateway, admin string) error {
			resp, err := http.Post(admin, "application/json", strings.NewReader(`[{"kind":"subgraph","subgraph":"ratings"}]`))
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			return nil
		}, true, true},
		{"another subgraph", func(g *testGateway, _ string) error {
			_, err := g.Server.EntityCache().InvalidateSubgraph(ctx, "catalog")
			return err
		}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newCacheEnv(t)
			srv := redistest.Start(t)
			opts := func() server.Options {
				o := cacheOptions(true, newRedis(t, srv.URL()))
				o.Cache.Response.Enabled = false
				return o
			}
			g1, g2 := env.gateway(t, opts()), env.gateway(t, opts())
			admin := httptest.NewServer(g1.Server.InvalidationHandler())
			t.Cleanup(admin.Close)
			averages := func(g *testGateway) string {
				t.Helper()
				a := g.query(t, "", averagesQuery, nil)
				return fmt.Sprint(a.Data["a"], a.Data["b"])
			}
			old := "map[average:3.5] map[average:3.5]"
			if a1, a2 := averages(g1), averages(g2); a1 != old || a2 != old {
				t.Fatalf("before: %s / %s", a1, a2)
			}
			g1.Server.EntityCache().Wait()
			g2.Server.EntityCache().Wait()
			env.average.Store(7.0)
			if a := averages(g2); a != old {
				t.Fatalf("the cache was not used: %s", a)
			}
			if err := tc.invalidate(g1, admin.URL); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprint(map[string]any{"average": pick(tc.fresh1, 7, 3.5)}, " ", map[string]any{"average": pick(tc.fresh2, 7, 3.5)})
			if a := averages(g1); a != want {
				t.Fatalf("the gateway that invalidated: %s, want %s", a, want)
			}
			var a string
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				if a = averages(g2); a == want {
					break
				}
			}
			if a != want {
				t.Fatalf("the other gateway: %s, want %s", a, want)
			}
		})
	}
	env := newCacheEnv(t)
	o := cacheOptions(true, nil)
	g := env.gateway(t, o)
	admin := httptest.NewServer(g.Server.InvalidationHandler())
	t.Cleanup(admin.Close)
	for _, body := range []string{
		`{"kind":"entity","subgraph":"ratings","type":"Product"}`,
		`{"kind":"type","subgraph":"ratings","type":"Pro*"}`,
		`{"kind":"everything","subgraph":"ratings"}`,
		`{"kind":"subgraph","subgraph":"*"}`,
		`[`,
	} {
		resp, err := http.Post(admin.URL, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s: status %d, want 400", body, resp.StatusCode)
		}
	}
}

func pick(b bool, yes, no float64) float64 {
	if b {
		return yes
	}
	return no
}

// TestEntityCachePartialHitErrorPath caches product 1, then asks for
// products 1 and 3 while the subgraph fails product 3: the error points
// at product 3's place in the response, not at the cached product's, and
// the failed answer is not cached.
func TestEntityCachePartialHitErrorPath(t *testing.T) {
	env := newCacheEnv(t)
	opts := cacheOptions(true, nil)
	opts.Cache.Response.Enabled = false
	g := env.gateway(t, opts)
	g.query(t, "", `{ product(upc: "1") { average } }`, nil)
	g.Server.EntityCache().Wait()
	env.ratings.failUPC.Store("3")
	query := `{ a: product(upc: "1") { average } b: product(upc: "3") { average } }`
	a := g.query(t, "", query, nil)
	if len(a.Errors) != 1 {
		t.Fatalf("want one error: %s", a.Body)
	}
	var full struct {
		Errors []struct {
			Path []any `json:"path"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(a.Body, &full); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(full.Errors[0].Path); got != "[b average]" {
		t.Fatalf("error path %s, want [b average]: %s", got, a.Body)
	}
	if got := fmt.Sprint(a.Data["a"]); got != "map[average:3.5]" {
		t.Fatalf("cached product: %s", a.Body)
	}
	env.ratings.failUPC.Store("")
	before := env.ratings.reps.Load()
	a = g.query(t, "", query, nil)
	if len(a.Errors) != 0 || env.ratings.reps.Load()-before != 1 {
		t.Fatalf("after the failure: %d representations asked, want 1 (product 3 only): %s", env.ratings.reps.Load()-before, a.Body)
	}
}

// TestVaryHeaders keys responses by the configured headers.
func TestVaryHeaders(t *testing.T) {
	env := newCacheEnv(t)
	opts := cacheOptions(false, nil)
	opts.Cache.Response.VaryHeaders = []string{"Accept-Language"}
	g := env.gateway(t, opts)
	ask := func(lang string) {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"query": productsQuery})
		req, _ := http.NewRequest(http.MethodPost, g.URL, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if lang != "" {
			req.Header.Set("Accept-Language", lang)
		}
		if _, err := g.do(req); err != nil {
			t.Fatal(err)
		}
	}
	for _, lang := range []string{"en", "fr", "en", "", "fr", ""} {
		ask(lang)
	}
	if n := env.catalog.calls.Load(); n != 3 {
		t.Fatalf("catalog called %d times, want 3 (one per language)", n)
	}
}
