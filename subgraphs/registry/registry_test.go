package registry_test

import (
	"bytes"
	"context"
	"encoding/json"
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
	srv, err := server.New(sg, clientFor(sg), server.DefaultOptions())
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

// publishAll publishes the four demo subgraphs by introspection; the
// first needs force, as it removes the rest of the embedded supergraph.
func publishAll(t *testing.T, in *instance, d demoGraph) {
	t.Helper()
	for i, name := range []string{"accounts", "products", "inventory", "reviews"} {
		var out registry.Outcome
		url := in.admin + "/subgraphs/" + name
		if i == 0 {
			url += "?force=true"
		}
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

	// The first publish against the embedded supergraph removes most of
	// it: breaking, refused without force, nothing stored.
	var out registry.Outcome
	code := call(t, "POST", in.admin+"/subgraphs/accounts", map[string]any{"url": d.urls["accounts"], "sdl": d.sdls["accounts"]}, &out)
	if code != http.StatusConflict || out.OK || out.Published || out.Breaking == 0 {
		t.Fatalf("unforced breaking publish: %d %+v", code, out)
	}
	var list struct {
		Version   int64
		Subgraphs []registry.Subgraph
	}
	if call(t, "GET", in.admin+"/subgraphs", nil, &list); list.Version != 0 || len(list.Subgraphs) != 0 {
		t.Fatalf("refused publish stored something: %+v", list)
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
