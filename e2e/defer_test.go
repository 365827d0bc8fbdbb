package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	goldenfile "github.com/fedgate/gateway/internal/golden"
	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs/demo"
)

// deferAccept is what Apollo Client sends.
const deferAccept = "multipart/mixed;deferSpec=20220824,application/json"

// postDefer posts query with accept and returns the answer.
func postDefer(t *testing.T, g *gatewaytest.Gateway, query, accept string, vars map[string]any) *gatewaytest.Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	resp, err := g.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// parts splits a multipart/mixed answer into its JSON payloads.
func parts(t *testing.T, resp *gatewaytest.Response) []map[string]any {
	t.Helper()
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" || params["deferspec"] != "20220824" {
		t.Fatalf("content type %q, want multipart/mixed with deferSpec=20220824 (%v); body %s", resp.Header.Get("Content-Type"), err, clip(resp.Body))
	}
	mr := multipart.NewReader(bytes.NewReader(resp.Body), params["boundary"])
	var out []map[string]any
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		var m map[string]any
		if err := json.NewDecoder(p).Decode(&m); err != nil {
			t.Fatalf("part %d is not JSON: %v", len(out), err)
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		t.Fatalf("no parts in %q", resp.Body)
	}
	return out
}

// mergeParts applies the incremental payloads to the initial one's data,
// as a client does, and collects every error.
func mergeParts(t *testing.T, ps []map[string]any) (data any, errs []any) {
	t.Helper()
	data = ps[0]["data"]
	if e, ok := ps[0]["errors"].([]any); ok {
		errs = append(errs, e...)
	}
	for i, p := range ps {
		want := i < len(ps)-1
		if p["hasNext"] != want {
			t.Fatalf("part %d: hasNext %v, want %v", i, p["hasNext"], want)
		}
		if i == 0 {
			continue
		}
		incs, _ := p["incremental"].([]any)
		for _, inc := range incs {
			inc := inc.(map[string]any)
			if e, ok := inc["errors"].([]any); ok {
				errs = append(errs, e...)
			}
			target := data
			for _, step := range inc["path"].([]any) {
				switch s := step.(type) {
				case string:
					m, _ := target.(map[string]any)
					target = m[s]
				case float64:
					l, _ := target.([]any)
					if int(s) >= len(l) {
						target = nil
						break
					}
					target = l[int(s)]
				}
			}
			obj, ok := target.(map[string]any)
			if !ok {
				pd, _ := json.Marshal(ps[0])
				t.Fatalf("part %d: incremental path %v is not an object of the data sent before\nprimary: %s", i, inc["path"], pd)
			}
			if d, ok := inc["data"].(map[string]any); ok {
				deepMerge(obj, d)
			}
		}
		if e, ok := p["errors"].([]any); ok {
			errs = append(errs, e...)
		}
	}
	return data, errs
}

func deepMerge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				deepMerge(dm, sm)
				continue
			}
		}
		if sl, ok := v.([]any); ok {
			if dl, ok := dst[k].([]any); ok && len(dl) == len(sl) {
				for i := range sl {
					sm, ok1 := sl[i].(map[string]any)
					dm, ok2 := dl[i].(map[string]any)
					if ok1 && ok2 {
						deepMerge(dm, sm)
					}
				}
				continue
			}
		}
		dst[k] = v
	}
}

// TestIncrementalGolden runs every testdata/incremental case twice: with
// a multipart Accept (the sequence of payloads is compared with
// <case>.txt) and with a JSON Accept (one body, unsplit). The payloads
// merged as a client merges them must equal the unsplit answer's data,
// and carry the same number of errors.
func TestIncrementalGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot, "testdata", "incremental", "*.graphql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/incremental cases (%v)", err)
	}
	demo := gatewaytest.Start(t)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".graphql")
		t.Run(name, func(t *testing.T) {
			q, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			// Headers as in testdata/responses: # supergraph: and # fault:.
			c := &responseCase{}
			differs := false
			for _, line := range strings.Split(string(q), "\n") {
				key, value, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "#")), ":")
				if !strings.HasPrefix(line, "#") {
					break
				}
				switch value = strings.TrimSpace(value); {
				case ok && key == "supergraph":
					c.supergraph = value
				case ok && key == "fault":
					c.fault = value
				case ok && key == "merged-differs":
					// A non-null violation in a deferred part nulls that
					// part's data only, where the unsplit answer nulls
					// further up: the merged data then differs by design.
					differs = true
				}
			}
			g := demo
			if c.supergraph != "" {
				g = gatewayFor(t, c)
			}
			var vars map[string]any
			if v, err := os.ReadFile(strings.TrimSuffix(f, ".graphql") + ".vars.json"); err == nil {
				if err := json.Unmarshal(v, &vars); err != nil {
					t.Fatal(err)
				}
			}
			resp := postDefer(t, g, string(q), deferAccept, vars)
			if resp.Status != http.StatusOK {
				t.Fatalf("status %d: %s", resp.Status, resp.Body)
			}
			var got bytes.Buffer
			ct := resp.Header.Get("Content-Type")
			fmt.Fprintf(&got, "content-type: %s\n", ct)
			var merged any
			var mergedErrs []any
			if strings.HasPrefix(ct, "multipart/") {
				ps := parts(t, resp)
				writeParts(&got, ps)
				merged, mergedErrs = mergeParts(t, ps)
			} else {
				var m map[string]any
				if err := json.Unmarshal(resp.Body, &m); err != nil {
					t.Fatal(err)
				}
				b, _ := json.MarshalIndent(m, "", "  ")
				fmt.Fprintf(&got, "--- body\n%s\n", b)
				merged = m["data"]
				mergedErrs, _ = m["errors"].([]any)
			}
			goldenfile.Check(t, strings.TrimSuffix(f, ".graphql")+".txt", got.Bytes(), *update, nil)

			plain := postDefer(t, g, string(q), "application/json", vars)
			if ct := plain.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("without multipart Accept the answer is %q", ct)
			}
			var whole map[string]any
			if err := json.Unmarshal(plain.Body, &whole); err != nil {
				t.Fatal(err)
			}
			if !differs && !reflect.DeepEqual(merged, whole["data"]) {
				a, _ := json.Marshal(merged)
				b, _ := json.Marshal(whole["data"])
				t.Fatalf("merged payloads differ from the unsplit answer:\nmerged %s\nwhole  %s", a, b)
			}
			wholeErrs, _ := whole["errors"].([]any)
			if differs && len(mergedErrs) >= len(wholeErrs) {
				// Each nulled entry carries the error that nulled it,
				// where the unsplit answer reports it once.
				return
			}
			if len(wholeErrs) != len(mergedErrs) {
				t.Fatalf("%d errors in the payloads, %d in the unsplit answer", len(mergedErrs), len(wholeErrs))
			}
		})
	}
}

// writeParts prints an incremental answer for a golden: the initial
// payload, then every incremental entry sorted by label and path, then
// the subsequent payloads' own errors. Independent deferred parts arrive
// in the order their fetches finish, which varies from run to run; that
// the order is right (a nested part after its parent, each part when its
// fetches are done) is checked by mergeParts and by executor's
// TestIncrementalPartsArriveWhenReady.
func writeParts(w *bytes.Buffer, ps []map[string]any) {
	b, _ := json.MarshalIndent(ps[0], "", "  ")
	fmt.Fprintf(w, "--- initial payload\n%s\n", b)
	type entry struct {
		key string
		raw []byte
	}
	var entries []entry
	var loose []any
	for _, p := range ps[1:] {
		incs, _ := p["incremental"].([]any)
		for _, inc := range incs {
			m, _ := inc.(map[string]any)
			path, _ := json.Marshal(m["path"])
			label, _ := m["label"].(string)
			raw, _ := json.MarshalIndent(inc, "", "  ")
			entries = append(entries, entry{label + "\x00" + string(path), raw})
		}
		if e, ok := p["errors"].([]any); ok {
			loose = append(loose, e...)
		}
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].key < entries[j].key })
	for _, e := range entries {
		fmt.Fprintf(w, "--- incremental\n%s\n", e.raw)
	}
	if len(loose) > 0 {
		b, _ := json.MarshalIndent(loose, "", "  ")
		fmt.Fprintf(w, "--- payload errors\n%s\n", b)
	}
}

// TestDeferHostileDocument sends documents with thousands of @defer
// fragments, flat and nested, with a multipart Accept: the static limits
// refuse them (400 with a code) or they are answered; never a 500, never a
// hang (the request has 20 s).
func TestDeferHostileDocument(t *testing.T) {
	g := gatewaytest.Start(t)
	var flat, nested strings.Builder
	flat.WriteString(`{ topProducts { upc `)
	for i := 0; i < 5000; i++ {
		flat.WriteString(`... @defer { name } `)
	}
	flat.WriteString(`} }`)
	nested.WriteString(`{ topProducts { upc `)
	for i := 0; i < 3000; i++ {
		nested.WriteString(`... @defer { `)
	}
	nested.WriteString(`name`)
	for i := 0; i < 3000; i++ {
		nested.WriteString(` }`)
	}
	nested.WriteString(`} }`)
	var within strings.Builder
	within.WriteString(`{ topProducts { upc `)
	for i := 0; i < 1500; i++ {
		within.WriteString(`... @defer { name } `)
	}
	within.WriteString(`} }`)
	for name, q := range map[string]string{"flat": flat.String(), "nested": nested.String(), "within limits": within.String()} {
		t.Run(name, func(t *testing.T) {
			resp := postDefer(t, g, q, deferAccept, nil)
			if resp.Status >= 500 {
				t.Fatalf("status %d: %s", resp.Status, clip(resp.Body))
			}
			if strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/") {
				if ps := parts(t, resp); len(ps) > 2 {
					t.Fatalf("%d parts, want at most 2", len(ps))
				}
				return
			}
			var body struct {
				Errors []struct {
					Extensions struct {
						Code string `json:"code"`
					} `json:"extensions"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(resp.Body, &body); err != nil || len(body.Errors) == 0 || body.Errors[0].Extensions.Code == "" {
				t.Fatalf("status %d without a coded GraphQL error: %s", resp.Status, clip(resp.Body))
			}
			t.Logf("refused: %s", body.Errors[0].Extensions.Code)
		})
	}
}

// TestDeferPrimaryFirst: the primary part reaches the client while the
// subgraph of the deferred part has not answered yet. The inventory
// subgraph holds every request until the test has read the first part, so
// the order is checked without timing; the time from the request to the
// first part is logged (the measured figure is BenchmarkDeferPrimaryLatency).
func TestDeferPrimaryFirst(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	defer open()
	inventory := demo.Handlers()["inventory"]
	g := gatewaytest.Start(t, gatewaytest.WithHandler("inventory", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		inventory.ServeHTTP(w, r)
	})))
	body, _ := json.Marshal(map[string]any{"query": `{ topProducts(first: 2) { upc name ... @defer(label: "stock") { inStock } } }`})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, g.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", deferAccept)
	start := time.Now()
	resp, err := g.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(resp.Body, params["boundary"])
	first, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	var p0 map[string]any
	if err := json.NewDecoder(first).Decode(&p0); err != nil {
		t.Fatal(err)
	}
	t.Logf("primary part after %v", time.Since(start))
	// inventory has answered nothing yet: it waits for open().
	if p0["hasNext"] != true || strings.Contains(fmt.Sprint(p0), "inStock") {
		t.Fatalf("first part %v", p0)
	}
	open()
	second, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	var p1 map[string]any
	if err := json.NewDecoder(second).Decode(&p1); err != nil {
		t.Fatal(err)
	}
	if p1["hasNext"] != false || len(p1["incremental"].([]any)) != 2 {
		t.Fatalf("second part %v", p1)
	}
}

// TestDeferBatchUnsplit: a batch is answered as one JSON array even when
// the Accept offers multipart: each operation runs unsplit.
func TestDeferBatchUnsplit(t *testing.T) {
	opts := server.DefaultOptions()
	opts.AllowBatch = true
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts))
	q := `{ product(upc: "1") { name ... @defer { inStock } } }`
	body, _ := json.Marshal([]map[string]any{{"query": q}, {"query": q}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, g.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", deferAccept)
	resp, err := g.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var answers []struct {
		Data struct {
			Product struct {
				Name    string `json:"name"`
				InStock *bool  `json:"inStock"`
			} `json:"product"`
		} `json:"data"`
	}
	if err := json.Unmarshal(resp.Body, &answers); err != nil {
		t.Fatalf("%v: %s", err, clip(resp.Body))
	}
	if len(answers) != 2 || answers[0].Data.Product.InStock == nil || answers[1].Data.Product.Name != "Table" {
		t.Fatalf("answers %s", resp.Body)
	}
}

// TestDeferIfVariablePlanCache: the value of @defer(if: $var) is part of
// the plan cache key: the same document with $d true is split, then with
// $d false is not (a key without it would serve the first plan).
func TestDeferIfVariablePlanCache(t *testing.T) {
	g := gatewaytest.Start(t)
	q := `query($d: Boolean!) { product(upc: "1") { name ... @defer(if: $d) { inStock } } }`
	for _, c := range []struct {
		d         bool
		multipart bool
	}{{true, true}, {false, false}, {true, true}} {
		resp := postDefer(t, g, q, deferAccept, map[string]any{"d": c.d})
		if got := strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/"); got != c.multipart {
			t.Fatalf("$d=%v: multipart %v, want %v: %s", c.d, got, c.multipart, clip(resp.Body))
		}
	}
}

// TestDeferEveryLabelDelivered: every @defer fragment in force gets its
// labelled entries, one per object it applies to, also when it delivers
// nothing new (all its fields were sent before, are keys, or are
// skipped); a nested fragment's entry comes after its parent's entry at
// the same object, in a later payload or later in the same one.
func TestDeferEveryLabelDelivered(t *testing.T) {
	g := gatewaytest.Start(t)
	cases := []struct {
		name, query string
		// entries is the number of entries per label.
		entries map[string]int
		// parent maps a nested fragment's label to its parent's.
		parent map[string]string
	}{
		{name: "all sent, nested", query: `{ topProducts(first: 3) { upc ... @defer(label: "a") { upc ... @defer(label: "b") { name } } } }`,
			entries: map[string]int{"a": 3, "b": 3}, parent: map[string]string{"b": "a"}},
		{name: "nested under an empty one", query: `{ topProducts(first: 2) { upc ... @defer(label: "a") { name @skip(if: true) ... @defer(label: "b") { inStock } } } }`,
			entries: map[string]int{"a": 2, "b": 2}, parent: map[string]string{"b": "a"}},
		{name: "three levels, middle sent", query: `{ product(upc: "1") { name ... @defer(label: "a") { reviews { body } ... @defer(label: "b") { name ... @defer(label: "c") { price } } } } }`,
			entries: map[string]int{"a": 1, "b": 1, "c": 1}, parent: map[string]string{"b": "a", "c": "b"}},
		{name: "keys only", query: `{ topProducts(first: 2) { name ... @defer(label: "k") { upc } } }`,
			entries: map[string]int{"k": 2}},
		{name: "type condition matches one item", query: `{ items { name ... on Bundle @defer(label: "b") { name @skip(if: true) } } }`,
			entries: map[string]int{"b": 1}},
		{name: "type condition matches no item", query: `{ search(term: "1") { __typename ... on Product @defer(label: "p") { __typename } } }`,
			entries: map[string]int{}},
		// A hostile document repeating a fragment that delivers nothing
		// new: only the planner.MaxDefers fragments in force have
		// entries, so the answer grows by at most 32 times the data.
		{name: "repeated past the limit", query: `{ topProducts(first: 2) { upc ` + strings.Repeat(`... @defer { upc } `, 40) + `} }`,
			entries: map[string]int{"": 2 * planner.MaxDefers}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := postDefer(t, g, c.query, deferAccept, nil)
			ps := parts(t, resp)
			mergeParts(t, ps) // hasNext and paths
			got := map[string]int{}
			// seen holds the label and path of every entry so far.
			seen := map[string]bool{}
			for i, p := range ps[1:] {
				incs, _ := p["incremental"].([]any)
				for _, inc := range incs {
					inc := inc.(map[string]any)
					label, _ := inc["label"].(string)
					path := fmt.Sprint(inc["path"])
					got[label]++
					if pl, ok := c.parent[label]; ok {
						found := false
						for k := range seen {
							l, ppath, _ := strings.Cut(k, "\x00")
							found = found || (l == pl && strings.HasPrefix(strings.TrimSuffix(path, "]"), strings.TrimSuffix(ppath, "]")))
						}
						if !found {
							t.Errorf("payload %d: entry %q at %s before its parent %q's", i+1, label, path, pl)
						}
					}
					seen[label+"\x00"+path] = true
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(c.entries) {
				t.Errorf("entries per label %v, want %v", got, c.entries)
			}
		})
	}
}

// TestDeferNoEmptyPayloads: a deferred fragment that applies to no object
// (an empty list, a type condition no item matches) sends no payload of
// its own and keeps no stream open, as graphql-js 17 sends them
// (deferSpec=20220824; it makes no record for such a fragment): the last
// payload with entries has hasNext false, or the initial payload when no
// fragment applies; never a payload with an empty "incremental" list.
func TestDeferNoEmptyPayloads(t *testing.T) {
	g := gatewaytest.Start(t)
	cases := []struct {
		name, query string
		// payloads is the payloads, in order.
		payloads []string
	}{
		{name: "empty list", query: `{ topProducts(first: 0) { upc ... @defer(label: "stock") { inStock } } }`,
			payloads: []string{`{"data":{"topProducts":[]},"hasNext":false}`}},
		{name: "type condition matches no item", query: `{ search(term: "1") { __typename ... on Product @defer(label: "p") { inStock } } }`,
			payloads: []string{`{"data":{"search":[{"__typename":"User"}]},"hasNext":false}`}},
		{name: "empty list next to a part with entries",
			query: `{ topProducts(first: 0) { upc ... @defer(label: "none") { inStock } } product(upc: "1") { upc ... @defer(label: "one") { inStock } } }`,
			payloads: []string{`{"data":{"product":{"upc":"1"},"topProducts":[]},"hasNext":true}`,
				`{"hasNext":false,"incremental":[{"data":{"inStock":true},"label":"one","path":["product"]}]}`}},
		{name: "nested under an empty list",
			query: `{ product(upc: "1") { upc ... @defer(label: "one") { inStock } } topProducts(first: 0) { upc ... @defer(label: "outer") { name ... @defer(label: "inner") { inStock } } } }`,
			payloads: []string{`{"data":{"product":{"upc":"1"},"topProducts":[]},"hasNext":true}`,
				`{"hasNext":false,"incremental":[{"data":{"inStock":true},"label":"one","path":["product"]}]}`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ps := parts(t, postDefer(t, g, c.query, deferAccept, nil))
			var got []string
			for _, p := range ps {
				b, _ := json.Marshal(p)
				got = append(got, string(b))
			}
			if strings.Join(got, "\n") != strings.Join(c.payloads, "\n") {
				t.Errorf("payloads\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.payloads, "\n"))
			}
			mergeParts(t, ps) // hasNext and paths
		})
	}
}
