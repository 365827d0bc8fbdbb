package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway/coprocessor"
	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/server"
)

// apolloStyleCoprocessor is a coprocessor written the way Apollo's
// coprocessor documentation shows one: it decodes the stage's JSON, edits
// headers and context entries in place, and answers the same object, or a
// control {"break": 401} with a GraphQL error body. It answers after
// delay, or not at all when the caller gives up first.
func apolloStyleCoprocessor(delay time.Duration, answer func(payload map[string]any) any) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The body read to its end, the server notices the caller
		// hanging up and ends r's context.
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		var payload map[string]any
		if err := json.Unmarshal(raw, &payload); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(answer(payload))
	}))
}

func tenantCoprocessor(p map[string]any) any {
	headers, _ := p["headers"].(map[string]any)
	if headers == nil { // a stage may send no headers: answer with the ones set here
		headers = map[string]any{}
		p["headers"] = headers
	}
	ctx, _ := p["context"].(map[string]any)
	entries, _ := ctx["entries"].(map[string]any)
	if entries == nil {
		entries = map[string]any{}
	}
	switch p["stage"] {
	case "RouterRequest":
		if _, ok := headers["x-api-key"]; !ok {
			p["control"] = map[string]any{"break": 401}
			p["body"] = map[string]any{"errors": []any{map[string]any{"message": "Not authenticated", "extensions": map[string]any{"code": "ERR_UNAUTHENTICATED"}}}}
			return p
		}
		headers["x-tenant"] = []string{"acme"}
		entries["accepted"] = "at " + p["path"].(string)
	case "SubgraphRequest":
		headers["x-from-coprocessor"] = []string{p["serviceName"].(string)}
	case "RouterResponse":
		headers["x-coprocessor-context"] = []string{fmt.Sprint(entries["accepted"])}
		headers["x-status-seen"] = []string{fmt.Sprint(p["statusCode"])}
	}
	return p
}

func coprocessorOptions(url string, timeout time.Duration, failOpen bool) server.Options {
	o := server.DefaultOptions()
	o.Cache.Dedupe = false
	o.Auth.Headers.All.Forward = []string{"x-tenant"}
	all := &coprocessor.Selection{Headers: true, Context: true, Path: true, Method: true, ServiceName: true, StatusCode: true}
	o.Coprocessor = coprocessor.Config{URL: url, Timeout: timeout, FailOpen: failOpen,
		Router:   coprocessor.Stages{Request: all, Response: all},
		Subgraph: coprocessor.SubgraphStages{All: coprocessor.Stages{Request: all}}}
	return o
}

func TestCoprocessorApolloStyle(t *testing.T) {
	cp := apolloStyleCoprocessor(0, tenantCoprocessor)
	defer cp.Close()
	var seen seenHeaders
	g := gatewaytest.Start(t, seen.option("products"), gatewaytest.WithServerOptions(coprocessorOptions(cp.URL, time.Second, false)))

	resp, a := post(t, g, `{"query":"{ topProducts { name } }"}`, map[string]string{"X-Api-Key": "k1"})
	if resp.Status != 200 || len(a.Errors) > 0 {
		t.Fatalf("status %d: %s", resp.Status, resp.Body)
	}
	if len(seen.got) != 1 || seen.got[0].Get("X-Tenant") != "acme" || seen.got[0].Get("X-From-Coprocessor") != "products" {
		t.Fatalf("subgraph saw %v", seen.got)
	}
	if got := resp.Header.Get("X-Coprocessor-Context"); got != "at /graphql" {
		t.Fatalf("X-Coprocessor-Context = %q: context entries did not travel between stages", got)
	}
	if got := resp.Header.Get("X-Status-Seen"); got != "200" {
		t.Fatalf("X-Status-Seen = %q", got)
	}

	resp, a = post(t, g, `{"query":"{ topProducts { name } }"}`, nil)
	if resp.Status != 401 || len(a.Errors) != 1 || a.Errors[0].Extensions["code"] != "ERR_UNAUTHENTICATED" || a.Errors[0].Message != "Not authenticated" {
		t.Fatalf("break: status %d: %s", resp.Status, resp.Body)
	}
	if len(seen.got) != 1 {
		t.Fatal("a broken request reached the subgraph")
	}
}

// TestCoprocessorFailure: a slow or hostile coprocessor fails the request
// closed (500, nothing of its answer shown), or open when configured.
func TestCoprocessorFailure(t *testing.T) {
	// slow answers long after any bound below, so that the request
	// ends only if the stage timeout (150 ms) holds, however slowly a
	// loaded machine serves the rest of it (the bound was 1.5 s for a 2 s
	// coprocessor).
	slow := apolloStyleCoprocessor(20*time.Second, tenantCoprocessor)
	defer slow.Close()
	wrongVersion := apolloStyleCoprocessor(0, func(p map[string]any) any { p["version"] = 2; return p })
	defer wrongVersion.Close()
	otherID := apolloStyleCoprocessor(0, func(p map[string]any) any { p["id"] = "someone-else"; return p })
	defer otherID.Close()
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("{", 100000)))
	}))
	defer garbage.Close()
	for _, tc := range []struct {
		name     string
		url      string
		failOpen bool
		status   int
	}{
		{"timeout closed", slow.URL, false, 500},
		{"timeout open", slow.URL, true, 200},
		{"wrong version", wrongVersion.URL, false, 500},
		{"another request's id", otherID.URL, false, 500},
		{"garbage", garbage.URL, false, 500},
		{"garbage open", garbage.URL, true, 200},
		{"refused", "http://127.0.0.1:1", false, 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := gatewaytest.Start(t, gatewaytest.WithServerOptions(coprocessorOptions(tc.url, 150*time.Millisecond, tc.failOpen)))
			start := time.Now()
			resp, _ := post(t, g, `{"query":"{ topProducts { name } }"}`, map[string]string{"X-Api-Key": "k1"})
			if resp.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.Status, tc.status, resp.Body)
			}
			if el := time.Since(start); el > 10*time.Second {
				t.Fatalf("took %v: the stage timeout did not hold", el)
			}
			if tc.status == 500 && !strings.Contains(string(resp.Body), "INTERNAL_SERVER_ERROR") {
				t.Fatalf("body %s", resp.Body)
			}
		})
	}
}

// TestCoprocessorBodies: an Apollo-style coprocessor reads and rewrites
// bodies at each stage that has one (a string at the Router stages, JSON
// elsewhere), gets sdl, uri, serviceName and subgraphRequestId where
// selected, and per-subgraph selection sends the products subgraph's
// bodies but not the reviews subgraph's.
func TestCoprocessorBodies(t *testing.T) {
	var mu sync.Mutex
	seen := map[string][]map[string]any{} // by stage and service
	cp := apolloStyleCoprocessor(0, func(p map[string]any) any {
		stage, _ := p["stage"].(string)
		key := stage
		if name, ok := p["serviceName"].(string); ok {
			key += "/" + name
		}
		mu.Lock()
		seen[key] = append(seen[key], p)
		mu.Unlock()
		switch stage {
		case "RouterRequest":
			p["body"] = strings.Replace(p["body"].(string), "first: 1", "first: 2", 1)
		case "SupergraphRequest":
			body := p["body"].(map[string]any)
			body["query"] = strings.Replace(body["query"].(string), "{ name", "{ upc name", 1)
		case "SubgraphResponse":
			body := p["body"].(map[string]any)
			if data, ok := body["data"].(map[string]any); ok {
				if top, ok := data["topProducts"].([]any); ok && len(top) > 0 {
					top[0].(map[string]any)["name"] = "Renamed by the coprocessor"
				}
			}
		case "RouterResponse":
			p["body"] = strings.Replace(p["body"].(string), "Renamed by the coprocessor", "Renamed twice", 1)
		}
		return p
	})
	defer cp.Close()
	o := server.DefaultOptions()
	o.Cache.Dedupe = false
	body := &coprocessor.Selection{Body: true}
	o.Coprocessor = coprocessor.Config{URL: cp.URL, Timeout: time.Second,
		Router:     coprocessor.Stages{Request: body, Response: &coprocessor.Selection{Body: true, StatusCode: true}},
		Supergraph: coprocessor.Stages{Request: &coprocessor.Selection{Body: true, SDL: true}},
		Subgraph: coprocessor.SubgraphStages{
			All: coprocessor.Stages{Request: &coprocessor.Selection{Headers: true, ServiceName: true}},
			Subgraphs: map[string]coprocessor.Stages{"products": {
				Request:  &coprocessor.Selection{Body: true, URI: true, ServiceName: true, SubgraphRequestID: true},
				Response: &coprocessor.Selection{Body: true, ServiceName: true, SubgraphRequestID: true}}}}}
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(o))
	resp, a := post(t, g, `{"query":"{ topProducts(first: 1) { name reviews { rating } } }"}`, nil)
	if resp.Status != 200 || len(a.Errors) > 0 {
		t.Fatalf("status %d: %s", resp.Status, resp.Body)
	}
	var got struct {
		Data struct {
			TopProducts []struct {
				Upc, Name string
			}
		}
	}
	if err := json.Unmarshal(resp.Body, &got); err != nil {
		t.Fatal(err)
	}
	top := got.Data.TopProducts
	// first: 2 (RouterRequest), upc (SupergraphRequest), the name
	// (SubgraphResponse, then RouterResponse).
	if len(top) != 2 || top[0].Upc == "" || top[0].Name != "Renamed twice" {
		t.Fatalf("rewrites not applied: %s", resp.Body)
	}
	mu.Lock()
	defer mu.Unlock()
	if sdl, _ := seen["SupergraphRequest"][0]["sdl"].(string); !strings.Contains(sdl, "type Product") {
		t.Fatalf("SupergraphRequest sdl: %.80q", sdl)
	}
	req, res := seen["SubgraphRequest/products"], seen["SubgraphResponse/products"]
	if len(req) != 1 || len(res) != 1 {
		t.Fatalf("products stages: %d requests, %d responses", len(req), len(res))
	}
	if uri, _ := req[0]["uri"].(string); uri != g.Subgraphs["products"].URL {
		t.Fatalf("uri %q, want %q", uri, g.Subgraphs["products"].URL)
	}
	if q, _ := req[0]["body"].(map[string]any)["query"].(string); !strings.Contains(q, "topProducts") {
		t.Fatalf("SubgraphRequest body: %v", req[0]["body"])
	}
	id, _ := req[0]["subgraphRequestId"].(string)
	if id == "" || res[0]["subgraphRequestId"] != id {
		t.Fatalf("subgraphRequestId %q, then %v", id, res[0]["subgraphRequestId"])
	}
	reviews := seen["SubgraphRequest/reviews"]
	if len(reviews) != 1 || reviews[0]["body"] != nil || reviews[0]["headers"] == nil || seen["SubgraphResponse/reviews"] != nil {
		t.Fatalf("reviews, selected by subgraph.all: %v", reviews)
	}
	if seen["RouterResponse"][0]["statusCode"] != float64(200) {
		t.Fatalf("RouterResponse: %v", seen["RouterResponse"][0])
	}
}
