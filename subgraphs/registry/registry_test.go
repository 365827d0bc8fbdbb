package registry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/schema"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs"
	"github.com/fedgate/gateway/subgraphs/demo"
	"github.com/fedgate/gateway/subgraphs/registry"
)

const token = "test-admin-token-0123456789"

// instance is one gateway serving a registry's supergraph on loopback,
// with the admin API on its own listener.
type instance struct {
	reg   *registry.Registry
	srv   *server.Server
	gql   string
	admin string
	stop  func()
}

func listen(t *testing.T, h http.Handler) (string, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = hs.Close() }
}

func clientFor(sg *schema.Supergraph) *subgraphs.Client {
	urls := map[string]string{}
	for _, g := range sg.Graphs {
		urls[g.Name] = g.URL
	}
	return subgraphs.NewClient(urls, subgraphs.Options{})
}

// startInstance starts a gateway on store, serving the embedded demo
// supergraph while the registry is empty (as `gateway serve` does).
func startInstance(t *testing.T, store registry.Store) *instance {
	t.Helper()
	baseline, err := schema.Load(gateway.DemoSupergraph)
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.New(registry.Options{Store: store, Baseline: baseline, IntrospectHosts: []string{"127.0.0.1"}})
	ctx, cancel := context.WithCancel(context.Background())
	sg, err := reg.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sg == nil {
		sg = baseline
	}
	opts := server.DefaultOptions()
	opts.Introspection = true // typeFields reads the served schema
	srv, err := server.New(sg, clientFor(sg), opts)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		reg.Run(ctx, func(sg *schema.Supergraph) error { return srv.Swap(sg, clientFor(sg)) })
	}()
	gql, stopGQL := listen(t, srv)
	admin, stopAdmin := listen(t, reg.Handler(token))
	in := &instance{reg: reg, srv: srv, gql: gql + "/graphql", admin: admin}
	var stopped bool
	in.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		<-done
		stopAdmin()
		stopGQL()
		srv.Close()
	}
	t.Cleanup(in.stop)
	return in
}

// call sends a JSON admin request and decodes the answer into out.
func call(t *testing.T, method, url string, body any, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, r)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, url, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

// typeFields returns the fields of a type as the gateway's API serves
// them (nil when the type is not there).
func typeFields(t *testing.T, gql, typ string) []string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": `{ __type(name: "` + typ + `") { fields { name } } }`})
	resp, err := http.Post(gql, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			Type *struct {
				Fields []struct{ Name string }
			} `json:"__type"`
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if out.Data.Type == nil {
		return nil
	}
	var names []string
	for _, f := range out.Data.Type.Fields {
		names = append(names, f.Name)
	}
	return names
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// query runs a client query and returns the raw response body.
func query(t *testing.T, gql, q string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": q})
	resp, err := http.Post(gql, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("query %s: %d %s", q, resp.StatusCode, data)
	}
	return string(data)
}

type demoGraph struct {
	urls map[string]string
	sdls map[string]string
}

func startDemo(t *testing.T) demoGraph {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	subs, err := demo.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d := demoGraph{urls: map[string]string{}, sdls: map[string]string{}}
	for _, s := range subs {
		d.urls[s.Name] = s.URL
		sdl, err := os.ReadFile(filepath.Join("..", "demo", s.Name, "schema.graphqls"))
		if err != nil {
			t.Fatal(err)
		}
		d.sdls[s.Name] = string(sdl)
	}
	return d
}

// publishAll publishes the four demo subgraphs by introspection, one by
// one, in an order where each composes with the ones before it.
func publishAll(t *testing.T, in *instance, d demoGraph) {
	t.Helper()
	for _, name := range []string{"accounts", "products", "inventory", "reviews"} {
		var out registry.Outcome
		url := in.admin + "/subgraphs/" + name
		if code := call(t, "POST", url, map[string]any{"url": d.urls[name], "introspect": true}, &out); code != 200 || !out.Published {
			t.Fatalf("publish %s: %d %+v", name, code, out)
		}
	}
}

func TestPublishCheckDeleteRollback(t *testing.T) {
	d := startDemo(t)
	store, err := registry.NewDisk(t.TempDir(), 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	in := startInstance(t, store)

	// Without a token, or with a wrong one: 401.
	for _, auth := range []string{"", "Bearer nope", "Basic " + token} {
		req, _ := http.NewRequest("GET", in.admin+"/subgraphs", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: status %d, want 401", auth, resp.StatusCode)
		}
	}

	var out registry.Outcome
	var code int
	var list struct {
		Version   int64
		Subgraphs []registry.Subgraph
	}
	publishAll(t, in, d)
	if call(t, "GET", in.admin+"/subgraphs", nil, &list); list.Version != 4 || len(list.Subgraphs) != 4 {
		t.Fatalf("after 4 publishes: %+v", list)
	}
	if got := query(t, in.gql, `{ user(id: "1") { name } }`); !strings.Contains(got, `"name"`) || strings.Contains(got, "errors") {
		t.Fatalf("query through the published supergraph: %s", got)
	}

	// Check, non-breaking: a new field is SAFE, nothing is published.
	withEmail := strings.Replace(d.sdls["accounts"], "birthYear: Int", "birthYear: Int\n  email: String", 1)
	out = registry.Outcome{}
	code = call(t, "POST", in.admin+"/subgraphs/accounts/check", map[string]any{"url": d.urls["accounts"], "sdl": withEmail}, &out)
	if code != 200 || !out.OK || out.Breaking != 0 || out.Published || !hasChange(out, "SAFE", "FIELD_ADDED", "User.email") {
		t.Fatalf("non-breaking check: %d %+v", code, out)
	}
	// Check, breaking: a removed field.
	noBirthYear := strings.Replace(d.sdls["accounts"], "birthYear: Int", "", 1)
	out = registry.Outcome{}
	code = call(t, "POST", in.admin+"/subgraphs/accounts/check", map[string]any{"url": d.urls["accounts"], "sdl": noBirthYear}, &out)
	if code != 200 || out.OK || out.Breaking != 1 || !hasChange(out, "BREAKING", "FIELD_REMOVED", "User.birthYear") {
		t.Fatalf("breaking check: %d %+v", code, out)
	}
	if f := typeFields(t, in.gql, "User"); has(f, "email") || !has(f, "birthYear") {
		t.Fatalf("checks changed the served schema: %v", f)
	}

	// Publish, breaking without force: 409 and nothing changes.
	out = registry.Outcome{}
	code = call(t, "POST", in.admin+"/subgraphs/accounts", map[string]any{"url": d.urls["accounts"], "sdl": noBirthYear}, &out)
	if code != http.StatusConflict || out.Published || out.Version != 4 {
		t.Fatalf("unforced breaking publish: %d %+v", code, out)
	}

	// Bad SDL: 422 with the composition error codes; nothing changes.
	out = registry.Outcome{}
	bad := strings.Replace(d.sdls["accounts"], "birthYear: Int", "birthYear: Year", 1)
	code = call(t, "POST", in.admin+"/subgraphs/accounts", map[string]any{"url": d.urls["accounts"], "sdl": bad}, &out)
	if code != http.StatusUnprocessableEntity || out.Published || len(out.Errors) == 0 || out.Errors[0].Code == "" || !strings.Contains(out.Errors[0].Message, "Year") {
		t.Fatalf("bad SDL: %d %+v", code, out)
	}
	out = registry.Outcome{}
	code = call(t, "POST", in.admin+"/subgraphs/accounts", map[string]any{"url": d.urls["accounts"], "sdl": "type Query {"}, &out)
	if code != http.StatusUnprocessableEntity || len(out.Errors) == 0 {
		t.Fatalf("unparsable SDL: %d %+v", code, out)
	}

	// Publish, non-breaking: served at once.
	out = registry.Outcome{}
	code = call(t, "POST", in.admin+"/subgraphs/accounts", map[string]any{"url": d.urls["accounts"], "sdl": withEmail}, &out)
	if code != 200 || !out.Published || out.Version != 5 {
		t.Fatalf("publish: %d %+v", code, out)
	}
	if f := typeFields(t, in.gql, "User"); !has(f, "email") {
		t.Fatalf("published field not served: %v", f)
	}
	// Publishing the same schema again is a no-op.
	out = registry.Outcome{}
	if code = call(t, "POST", in.admin+"/subgraphs/accounts", map[string]any{"url": d.urls["accounts"], "sdl": withEmail}, &out); code != 200 || out.Published || out.Version != 5 {
		t.Fatalf("republish: %d %+v", code, out)
	}

	// Delete: removing reviews is breaking; forced it is served.
	out = registry.Outcome{}
	if code = call(t, "DELETE", in.admin+"/subgraphs/reviews", nil, &out); code != http.StatusConflict || out.Published {
		t.Fatalf("unforced delete: %d %+v", code, out)
	}
	if code = call(t, "DELETE", in.admin+"/subgraphs/nope?force=true", nil, nil); code != http.StatusNotFound {
		t.Fatalf("delete of an unknown subgraph: %d", code)
	}
	out = registry.Outcome{}
	if code = call(t, "DELETE", in.admin+"/subgraphs/reviews?force=true", nil, &out); code != 200 || !out.Published || out.Version != 6 {
		t.Fatalf("forced delete: %d %+v", code, out)
	}
	if f := typeFields(t, in.gql, "Review"); f != nil {
		t.Fatalf("deleted subgraph's type still served: %v", f)
	}

	// History and rollback to version 4 (before email and the delete).
	var hist struct {
		Versions []struct {
			Version int64
			Reason  string
			Current bool
		}
	}
	if call(t, "GET", in.admin+"/supergraph/history", nil, &hist); len(hist.Versions) != 6 || !hist.Versions[5].Current || hist.Versions[5].Reason != "delete reviews" {
		t.Fatalf("history: %+v", hist)
	}
	out = registry.Outcome{}
	if code = call(t, "POST", in.admin+"/supergraph/rollback", map[string]any{"version": 4}, &out); code != 200 || !out.Published || out.Version != 7 {
		t.Fatalf("rollback: %d %+v", code, out)
	}
	if f := typeFields(t, in.gql, "Review"); f == nil {
		t.Fatal("rollback did not bring reviews back")
	}
	if f := typeFields(t, in.gql, "User"); has(f, "email") {
		t.Fatalf("rollback kept a later field: %v", f)
	}
	if code = call(t, "POST", in.admin+"/supergraph/rollback", map[string]any{"version": 99}, nil); code != http.StatusBadRequest {
		t.Fatalf("rollback to a missing version: %d", code)
	}
}

func hasChange(out registry.Outcome, sev, kind, coord string) bool {
	for _, c := range out.Changes {
		if string(c.Severity) == sev && c.Kind == kind && c.Coordinate == coord {
			return true
		}
	}
	return false
}

func TestDurableAcrossRestart(t *testing.T) {
	d := startDemo(t)
	dir := t.TempDir()
	store, err := registry.NewDisk(dir, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	first := startInstance(t, store)
	publishAll(t, first, d)
	withEmail := strings.Replace(d.sdls["accounts"], "birthYear: Int", "birthYear: Int\n  email: String", 1)
	if code := call(t, "POST", first.admin+"/subgraphs/accounts", map[string]any{"url": d.urls["accounts"], "sdl": withEmail}, nil); code != 200 {
		t.Fatalf("publish: %d", code)
	}
	first.stop()

	store2, err := registry.NewDisk(dir, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	second := startInstance(t, store2)
	if f := typeFields(t, second.gql, "User"); !has(f, "email") {
		t.Fatalf("after a restart the published version is not served: %v", f)
	}
	var list struct {
		Version   int64
		Subgraphs []registry.Subgraph
	}
	if call(t, "GET", second.admin+"/subgraphs", nil, &list); list.Version != 5 || len(list.Subgraphs) != 4 {
		t.Fatalf("after a restart: %+v", list)
	}
	for _, s := range list.Subgraphs {
		if s.Name == "accounts" && s.Revision != 2 {
			t.Errorf("accounts revision %d, want 2", s.Revision)
		}
	}
}

// TestSeeding: a first publish into an empty registry is not breaking;
// publishing the subgraphs together (a rover supergraph.yaml) seeds it in
// one version whatever their order.
func TestSeeding(t *testing.T) {
	d := startDemo(t)
	newInstance := func() *instance {
		store, err := registry.NewDisk(t.TempDir(), 100*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		return startInstance(t, store)
	}
	in := newInstance()
	var list struct {
		Version   int64
		Subgraphs []registry.Subgraph
	}

	// A first publish that does not compose alone (inventory extends
	// products' Product) changes nothing and points at publishing the
	// subgraphs together.
	var out registry.Outcome
	code := call(t, "POST", in.admin+"/subgraphs/inventory", map[string]any{"url": d.urls["inventory"], "sdl": d.sdls["inventory"]}, &out)
	if code != http.StatusUnprocessableEntity || out.Published || !strings.Contains(out.Message, "--config supergraph.yaml") {
		t.Fatalf("inventory alone into an empty registry: %d %+v", code, out)
	}
	if call(t, "GET", in.admin+"/subgraphs", nil, &list); list.Version != 0 || len(list.Subgraphs) != 0 {
		t.Fatalf("refused publish stored something: %+v", list)
	}

	// The first publish into an empty registry is not a breaking change,
	// although it replaces the embedded supergraph: its changes are the
	// new types, and the answer names the subgraphs it leaves out.
	out = registry.Outcome{}
	code = call(t, "POST", in.admin+"/subgraphs/accounts", map[string]any{"url": d.urls["accounts"], "sdl": d.sdls["accounts"]}, &out)
	if code != http.StatusOK || !out.OK || !out.Published || out.Version != 1 || out.Breaking != 0 ||
		!hasChange(out, "SAFE", "TYPE_ADDED", "User") || !strings.Contains(out.Message, "leaves out its subgraph(s) inventory, products, reviews") {
		t.Fatalf("first publish into an empty registry: %d %+v", code, out)
	}
	for _, c := range out.Changes {
		if c.Severity != "SAFE" {
			t.Fatalf("first publish reports %+v", c)
		}
	}
	if f := typeFields(t, in.gql, "Product"); f != nil {
		t.Fatalf("version 1 (accounts only) is not served: Product has %v", f)
	}
	// Once a version is served, publishes are checked against it.
	out = registry.Outcome{}
	code = call(t, "POST", in.admin+"/subgraphs/accounts", map[string]any{"url": d.urls["accounts"], "sdl": strings.Replace(d.sdls["accounts"], "birthYear: Int", "", 1)}, &out)
	if code != http.StatusConflict || out.Published || out.Breaking != 1 {
		t.Fatalf("breaking second publish: %d %+v", code, out)
	}

	// Seeding: the four subgraphs in one request, in any order, give one
	// version and the same supergraph.
	names := []string{"accounts", "inventory", "products", "reviews"}
	orders := [][]string{{"inventory", "reviews", "products", "accounts"}, {"accounts", "products", "inventory", "reviews"}, {"reviews", "inventory", "accounts", "products"}}
	var first string
	for i, order := range orders {
		in := newInstance()
		var set []map[string]any
		for _, name := range order {
			set = append(set, map[string]any{"name": name, "url": d.urls[name], "sdl": d.sdls[name]})
		}
		// A check publishes nothing.
		out = registry.Outcome{}
		if code := call(t, "POST", in.admin+"/supergraph/check", map[string]any{"subgraphs": set}, &out); code != 200 || !out.OK || out.Published || out.Breaking != 0 {
			t.Fatalf("order %v: check: %d %+v", order, code, out)
		}
		out = registry.Outcome{}
		if code := call(t, "POST", in.admin+"/supergraph/publish", map[string]any{"subgraphs": set}, &out); code != 200 || !out.Published || out.Version != 1 || out.Breaking != 0 {
			t.Fatalf("order %v: seed: %d %+v", order, code, out)
		}
		if call(t, "GET", in.admin+"/subgraphs", nil, &list); list.Version != 1 || len(list.Subgraphs) != 4 {
			t.Fatalf("order %v: after seeding: %+v", order, list)
		}
		for j, s := range list.Subgraphs {
			if s.Name != names[j] || s.URL != d.urls[s.Name] || s.Revision != 1 {
				t.Fatalf("order %v: subgraph %d: %+v", order, j, s)
			}
		}
		var sg struct{ SDL string }
		call(t, "GET", in.admin+"/supergraph", nil, &sg)
		if i == 0 {
			first = sg.SDL
		} else if sg.SDL != first {
			t.Fatalf("order %v composed another supergraph than order %v", order, orders[0])
		}
		if got := query(t, in.gql, `{ topProducts(first: 1) { name inStock reviews { author { name } } } }`); strings.Contains(got, `"errors"`) {
			t.Fatalf("order %v: query through the seeded supergraph: %s", order, got)
		}
		// Seeding again with the same schemas is unchanged.
		out = registry.Outcome{}
		if code := call(t, "POST", in.admin+"/supergraph/publish", map[string]any{"subgraphs": set}, &out); code != 200 || out.Published || out.Message != "unchanged" {
			t.Fatalf("order %v: seeding again: %d %+v", order, code, out)
		}
	}
}

// TestPublishSetRefusals: malformed and hostile set bodies are 400, a set
// that does not compose is 422, and none of them stores anything.
func TestPublishSetRefusals(t *testing.T) {
	d := startDemo(t)
	store, err := registry.NewDisk(t.TempDir(), 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	in := startInstance(t, store)
	sub := func(name string) map[string]any {
		return map[string]any{"name": name, "url": d.urls[name], "sdl": d.sdls[name]}
	}
	many := make([]map[string]any, 501)
	for i := range many {
		many[i] = map[string]any{"name": fmt.Sprintf("s%d", i), "url": "http://127.0.0.1:1/graphql", "sdl": "type Query { a: Int }"}
	}
	badSDL := sub("accounts")
	badSDL["sdl"] = "type Query {"
	for _, tc := range []struct {
		name string
		body any
		want int
	}{
		{"not JSON", "{", 400},
		{"no subgraphs", map[string]any{"subgraphs": []any{}}, 400},
		{"unknown key", map[string]any{"subgraphs": []any{sub("accounts")}, "force": true}, 400},
		{"a name twice", map[string]any{"subgraphs": []any{sub("accounts"), sub("accounts")}}, 400},
		{"bad name", map[string]any{"subgraphs": []any{map[string]any{"name": "../x", "url": "http://a", "sdl": "type Query { a: Int }"}}}, 400},
		{"no url", map[string]any{"subgraphs": []any{map[string]any{"name": "a", "sdl": "type Query { a: Int }"}}}, 400},
		{"too many", map[string]any{"subgraphs": many}, 400},
		{"bad SDL", map[string]any{"subgraphs": []any{sub("products"), badSDL}}, 422},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body any = tc.body
			if s, ok := tc.body.(string); ok {
				body = json.RawMessage(s)
			}
			code := callRaw(t, "POST", in.admin+"/supergraph/publish", body)
			if code != tc.want {
				t.Fatalf("status %d, want %d", code, tc.want)
			}
		})
	}
	var list struct{ Version int64 }
	if call(t, "GET", in.admin+"/subgraphs", nil, &list); list.Version != 0 {
		t.Fatalf("a refused set stored version %d", list.Version)
	}
}

// callRaw sends body (JSON, or raw bytes as given) and returns the status.
func callRaw(t *testing.T, method, url string, body any) int {
	t.Helper()
	var data []byte
	if raw, ok := body.(json.RawMessage); ok {
		data = raw
	} else {
		data, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, url, bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}
