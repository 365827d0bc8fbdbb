package server_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/respheaders"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs/demo"
)

// withHeaders wraps a demo subgraph so that its answers carry h.
func withHeaders(name string, h http.Header) gatewaytest.Option {
	next := demo.Handlers()[name]
	return gatewaytest.WithHandler(name, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range h {
			w.Header()[k] = v
		}
		next.ServeHTTP(w, r)
	}))
}

func startWithResponseHeaders(t *testing.T, cfg respheaders.Config, opts ...gatewaytest.Option) *gatewaytest.Gateway {
	o := server.DefaultOptions()
	o.Cache.Dedupe = false
	o.ResponseHeaders = cfg
	return gatewaytest.Start(t, append(opts, gatewaytest.WithServerOptions(o))...)
}

// TestResponseHeadersMerge: products answers before reviews (the plan is
// a sequence), so first-wins and last-wins are decided.
func TestResponseHeadersMerge(t *testing.T) {
	g := startWithResponseHeaders(t, respheaders.Config{
		All:       respheaders.Rules{Propagate: []respheaders.Rule{{Name: "set-cookie"}, {Name: "x-version"}, {Name: "x-served-by", Merge: "last"}}},
		Subgraphs: map[string]respheaders.Rules{"reviews": {Propagate: []respheaders.Rule{{Name: "x-review-trace", Rename: "x-upstream-trace"}}}},
	},
		withHeaders("products", http.Header{"Set-Cookie": {"p=1; HttpOnly"}, "X-Version": {"products"}, "X-Served-By": {"products"}, "X-Review-Trace": {"not-reviews"}}),
		withHeaders("reviews", http.Header{"Set-Cookie": {"r=2; HttpOnly", "r2=3"}, "X-Version": {"reviews"}, "X-Served-By": {"reviews"}, "X-Review-Trace": {"abc"}}),
	)
	resp, a := post(t, g, `{"query":"{ topProducts { name reviews { body } } }"}`, nil)
	if resp.Status != 200 || len(a.Errors) > 0 {
		t.Fatalf("status %d, errors %v", resp.Status, a.Errors)
	}
	for k, want := range map[string][]string{
		"Set-Cookie":       {"p=1; HttpOnly", "r=2; HttpOnly", "r2=3"},
		"X-Version":        {"products"},
		"X-Served-By":      {"reviews"},
		"X-Upstream-Trace": {"abc"},
		"X-Review-Trace":   nil,
	} {
		if got := resp.Header.Values(k); !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/graphql-response+json") {
		t.Errorf("Content-Type = %q", ct)
	}
}

// TestResponseHeadersHostileSubgraph: a subgraph under "*" cannot set
// cookies, CORS, HSTS, CSP, challenges, redirects, rate-limit or body
// headers, nor the Cache-Control the gateway aggregates.
func TestResponseHeadersHostileSubgraph(t *testing.T) {
	o := server.DefaultOptions()
	o.Cache.Dedupe = false
	o.ResponseHeaders = respheaders.Config{All: respheaders.Rules{Propagate: []respheaders.Rule{{Name: "*"}}}}
	o.Cache.Response.Enabled = true
	hostile := http.Header{
		"Set-Cookie": {"session=attacker"}, "Access-Control-Allow-Origin": {"*"}, "Access-Control-Allow-Credentials": {"true"},
		"Strict-Transport-Security": {"max-age=0"}, "Content-Security-Policy": {"default-src *"}, "Www-Authenticate": {"Basic"},
		"Location": {"https://evil.example"}, "Ratelimit-Remaining": {"1000000"}, "X-Frame-Options": {"ALLOWALL"},
		"Cache-Control": {"public, max-age=31536000"}, "Content-Disposition": {"attachment"},
		"X-Benign": {"yes"},
	}
	g := gatewaytest.Start(t, withHeaders("products", hostile), gatewaytest.WithServerOptions(o))
	resp, a := post(t, g, `{"query":"{ topProducts { name } }"}`, nil)
	if resp.Status != 200 || len(a.Errors) > 0 {
		t.Fatalf("status %d, errors %v", resp.Status, a.Errors)
	}
	if got := resp.Header.Get("X-Benign"); got != "yes" {
		t.Errorf("X-Benign = %q: \"*\" should propagate a plain header", got)
	}
	for k := range hostile {
		if k == "X-Benign" || k == "Cache-Control" {
			continue
		}
		if got := resp.Header.Values(k); len(got) > 0 {
			t.Errorf("subgraph set %s: %q", k, got)
		}
	}
	if cc := resp.Header.Get("Cache-Control"); cc == "public, max-age=31536000" {
		t.Errorf("Cache-Control copied from the subgraph: %q", cc)
	}
}

func TestResponseHeadersBadConfig(t *testing.T) {
	o := server.DefaultOptions()
	o.ResponseHeaders = respheaders.Config{All: respheaders.Rules{Propagate: []respheaders.Rule{{Name: "connection"}}}}
	if _, err := server.New(nil, nil, o); err == nil {
		t.Fatal("a rule naming Connection was accepted")
	}
}
