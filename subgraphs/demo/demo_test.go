package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/golden"
	"github.com/fedgate/gateway/schema/compose"
	"github.com/fedgate/gateway/subgraphs/demo/accounts"
	"github.com/fedgate/gateway/subgraphs/demo/inventory"
	"github.com/fedgate/gateway/subgraphs/demo/products"
	"github.com/fedgate/gateway/subgraphs/demo/reviews"
)

// sdls are the embedded subgraph schemas, by name.
var sdls = map[string]string{
	"accounts":  accounts.SDL,
	"inventory": inventory.SDL,
	"products":  products.SDL,
	"reviews":   reviews.SDL,
}

// response is a GraphQL response as the subgraphs send it.
type response struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message string `json:"message"`
		Path    []any  `json:"path"`
	} `json:"errors"`
}

// serveHandlers serves Handlers() with httptest and returns their URLs by name.
func serveHandlers(t *testing.T) map[string]string {
	t.Helper()
	urls := map[string]string{}
	for name, h := range Handlers() {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		urls[name] = srv.URL + Path
	}
	return urls
}

// post sends query with variables to url and returns the raw body and the
// decoded response.
func post(t *testing.T, url, query string, variables map[string]any) ([]byte, response) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": variables})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

func decode(t *testing.T, resp *http.Response) ([]byte, response) {
	t.Helper()
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, raw)
	}
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return raw, r
}

// assertJSON fails unless got and want hold equal JSON values.
func assertJSON(t *testing.T, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got invalid JSON %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want invalid JSON %s: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		var compact bytes.Buffer
		_ = json.Compact(&compact, []byte(want))
		t.Errorf("data mismatch\n got: %s\nwant: %s", got, compact.String())
	}
}

func TestStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	subgraphs, err := Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var gotNames []string
	for _, sg := range subgraphs {
		gotNames = append(gotNames, sg.Name)
		u, err := url.Parse(sg.URL)
		if err != nil {
			t.Fatalf("%s: %v", sg.Name, err)
		}
		if u.Hostname() != "127.0.0.1" || u.Port() == "" || u.Path != Path {
			t.Errorf("%s: URL %q, want http://127.0.0.1:<port>%s", sg.Name, sg.URL, Path)
		}
		_, r := post(t, sg.URL, "{ _service { sdl } }", nil)
		if len(r.Errors) > 0 {
			t.Errorf("%s: errors %v", sg.Name, r.Errors)
		}
	}
	if want := []string{"accounts", "inventory", "products", "reviews"}; !reflect.DeepEqual(gotNames, want) {
		t.Fatalf("names %v, want %v", gotNames, want)
	}

	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for _, sg := range subgraphs {
		for {
			resp, err := http.Post(sg.URL, "application/json", strings.NewReader(`{"query":"{ __typename }"}`))
			if err != nil {
				break // shut down
			}
			resp.Body.Close()
			if time.Now().After(deadline) {
				t.Fatalf("%s still serving after cancel", sg.Name)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func TestServiceSDL(t *testing.T) {
	urls := serveHandlers(t)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			_, r := post(t, urls[name], "{ _service { sdl } }", nil)
			if len(r.Errors) > 0 {
				t.Fatalf("errors %v", r.Errors)
			}
			var data struct {
				Service struct {
					SDL string `json:"sdl"`
				} `json:"_service"`
			}
			if err := json.Unmarshal(r.Data, &data); err != nil {
				t.Fatal(err)
			}
			// gqlgen serves the schema file verbatim: the @link is kept and
			// none of the federation types it injects (_Any, _Entity, ...) appear.
			if data.Service.SDL != sdls[name] {
				t.Errorf("sdl differs from %s/schema.graphqls:\n%s", name, data.Service.SDL)
			}
			if !strings.Contains(data.Service.SDL, `@link(url: "https://specs.apollo.dev/federation/v2.3"`) {
				t.Errorf("sdl lacks the federation v2.3 @link")
			}
		})
	}
}

func TestGET(t *testing.T) {
	urls := serveHandlers(t)
	resp, err := http.Get(urls["accounts"] + "?query=" + url.QueryEscape("{ me { username } }"))
	if err != nil {
		t.Fatal(err)
	}
	_, r := decode(t, resp)
	if len(r.Errors) > 0 {
		t.Fatalf("errors %v", r.Errors)
	}
	assertJSON(t, r.Data, `{"me":{"username":"@ada"}}`)
}

// TestGatewayStale fails when a subgraph schema changed but gateway.graphql
// was not recomposed: it composes supergraph.yaml and compares.
func TestGatewayStale(t *testing.T) {
	for _, name := range names {
		sdl, err := os.ReadFile(filepath.Join(name, "schema.graphqls"))
		if err != nil {
			t.Fatal(err)
		}
		if string(sdl) != sdls[name] {
			t.Fatalf("%s: embedded SDL differs from schema.graphqls; rebuild", name)
		}
	}
	cfg, err := compose.ReadRoverConfig("supergraph.yaml")
	if err != nil {
		t.Fatal(err)
	}
	subgraphs, err := cfg.Load(context.Background(), ".", http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	res, err := compose.Compose(subgraphs)
	if err != nil {
		t.Fatalf("compose the demo subgraphs: %v", err)
	}
	current, err := os.ReadFile(filepath.Join("..", "..", "gateway.graphql"))
	if err != nil {
		t.Fatalf("%v: run `make compose`", err)
	}
	if string(current) != res.SDL {
		t.Fatalf("gateway.graphql is stale: run `make compose`\n%s", golden.Diff(string(current), res.SDL))
	}
}
