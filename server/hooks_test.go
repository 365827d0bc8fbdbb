package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/pkg/hooks"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs/demo"
	"github.com/golang-jwt/jwt/v5"
)

const hookSecret = "hooks-test-secret-of-at-least-32-bytes"

func hookToken(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	claims["exp"] = time.Now().Add(time.Hour).Unix()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["kid"] = "test"
	s, err := tok.SignedString([]byte(hookSecret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// seenHeaders wraps a demo subgraph and keeps the headers of its requests.
type seenHeaders struct {
	mu  sync.Mutex
	got []http.Header
}

func (s *seenHeaders) option(name string) gatewaytest.Option {
	next := demo.Handlers()[name]
	return gatewaytest.WithHandler(name, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.got = append(s.got, r.Header.Clone())
		s.mu.Unlock()
		next.ServeHTTP(w, r)
	}))
}

func startWithHooks(t *testing.T, h hooks.Hooks, opts ...gatewaytest.Option) *gatewaytest.Gateway {
	o := server.DefaultOptions()
	o.Cache.Dedupe = false
	o.Auth.JWT.Keys = []auth.KeyConfig{{KID: "test", Algorithms: []string{"HS256"}, Secret: hookSecret}}
	o.Auth.Headers.All.Forward = []string{"x-tenant"}
	o.Hooks = []hooks.Hooks{h}
	return gatewaytest.Start(t, append(opts, gatewaytest.WithServerOptions(o))...)
}

func TestHooksStages(t *testing.T) {
	var mu sync.Mutex
	var stages []string
	record := func(ctx context.Context, c *hooks.Call) error {
		mu.Lock()
		defer mu.Unlock()
		s := string(c.Stage)
		if c.Subgraph != "" {
			s += "(" + c.Subgraph + ")"
		}
		if c.Status != 0 {
			s += fmt.Sprint(" ", c.Status)
		}
		stages = append(stages, s)
		return nil
	}
	h := hooks.Hooks{
		RouterRequest: func(ctx context.Context, c *hooks.Call) error {
			_ = record(ctx, c)
			c.Header.Del("X-Tenant") // only the claim decides
			if tenant, ok := c.Claims["tenant"].(string); ok {
				c.Header.Set("X-Tenant", tenant)
			}
			c.Context["started"] = "yes"
			return nil
		},
		SupergraphRequest: record, ExecutionRequest: record, ExecutionResponse: record, SupergraphResponse: record, SubgraphResponse: record,
		SubgraphRequest: func(ctx context.Context, c *hooks.Call) error {
			_ = record(ctx, c)
			c.Header.Set("X-Fetch-For", c.Subgraph)
			return nil
		},
		RouterResponse: func(ctx context.Context, c *hooks.Call) error {
			_ = record(ctx, c)
			c.Header.Set("X-Context", fmt.Sprint(c.Context["started"]))
			return nil
		},
	}
	var seen seenHeaders
	g := startWithHooks(t, h, seen.option("products"))
	resp, a := post(t, g, `{"query":"{ topProducts { name } }"}`, map[string]string{
		"Authorization": "Bearer " + hookToken(t, jwt.MapClaims{"sub": "u1", "tenant": "acme"}),
		"X-Tenant":      "forged",
	})
	if resp.Status != 200 || len(a.Errors) > 0 {
		t.Fatalf("status %d, errors %v, body %s", resp.Status, a.Errors, resp.Body)
	}
	want := []string{"RouterRequest", "SupergraphRequest", "ExecutionRequest", "SubgraphRequest(products)",
		"SubgraphResponse(products) 200", "ExecutionResponse 200", "SupergraphResponse 200", "RouterResponse 200"}
	if !reflect.DeepEqual(stages, want) {
		t.Fatalf("stages\n%q\nwant\n%q", stages, want)
	}
	if len(seen.got) != 1 || seen.got[0].Get("X-Tenant") != "acme" || seen.got[0].Get("X-Fetch-For") != "products" {
		t.Fatalf("subgraph saw %v", seen.got)
	}
	if got := resp.Header.Get("X-Context"); got != "yes" {
		t.Fatalf("X-Context = %q: the Context is not shared by the stages", got)
	}
}

func TestHooksBreak(t *testing.T) {
	deny := func(ctx context.Context, c *hooks.Call) error {
		return &hooks.Break{Status: http.StatusUnauthorized, Code: "TENANT_DENIED", Message: "tenant denied at " + string(c.Stage)}
	}
	for _, tc := range []struct {
		stage      hooks.Stage
		status     int
		code       string
		subgraphed bool // the subgraph was called
	}{
		{hooks.RouterRequest, 401, "TENANT_DENIED", false},
		{hooks.SupergraphRequest, 401, "TENANT_DENIED", false},
		{hooks.ExecutionRequest, 401, "TENANT_DENIED", false},
		{hooks.SubgraphRequest, 200, "TENANT_DENIED", false}, // the fetch fails; its fields get the error
		{hooks.SubgraphResponse, 200, "TENANT_DENIED", true},
		{hooks.ExecutionResponse, 401, "TENANT_DENIED", true},
		{hooks.SupergraphResponse, 401, "TENANT_DENIED", true},
		{hooks.RouterResponse, 401, "TENANT_DENIED", true},
	} {
		t.Run(string(tc.stage), func(t *testing.T) {
			var h hooks.Hooks
			setStage(&h, tc.stage, deny)
			var seen seenHeaders
			g := startWithHooks(t, h, seen.option("products"))
			resp, a := post(t, g, `{"query":"{ topProducts { name } }"}`, nil)
			if resp.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.Status, tc.status, resp.Body)
			}
			if len(a.Errors) != 1 || a.Errors[0].Extensions["code"] != tc.code || !strings.Contains(string(resp.Body), "tenant denied") {
				t.Fatalf("errors %v, want one %s", a.Errors, tc.code)
			}
			if called := len(seen.got) > 0; called != tc.subgraphed {
				t.Fatalf("subgraph called: %v, want %v", called, tc.subgraphed)
			}
		})
	}
}

// TestHooksFailure: a hook's own error (not a Break) is an internal error
// whose text the client never sees.
func TestHooksFailure(t *testing.T) {
	g := startWithHooks(t, hooks.Hooks{ExecutionRequest: func(context.Context, *hooks.Call) error {
		return errors.New("db password is hunter2")
	}})
	resp, a := post(t, g, `{"query":"{ topProducts { name } }"}`, nil)
	if resp.Status != 500 || len(a.Errors) != 1 || a.Errors[0].Extensions["code"] != "INTERNAL_SERVER_ERROR" || strings.Contains(string(resp.Body), "hunter2") {
		t.Fatalf("status %d body %s", resp.Status, resp.Body)
	}
}

func setStage(h *hooks.Hooks, st hooks.Stage, f hooks.Func) {
	switch st {
	case hooks.RouterRequest:
		h.RouterRequest = f
	case hooks.RouterResponse:
		h.RouterResponse = f
	case hooks.SupergraphRequest:
		h.SupergraphRequest = f
	case hooks.SupergraphResponse:
		h.SupergraphResponse = f
	case hooks.ExecutionRequest:
		h.ExecutionRequest = f
	case hooks.ExecutionResponse:
		h.ExecutionResponse = f
	case hooks.SubgraphRequest:
		h.SubgraphRequest = f
	case hooks.SubgraphResponse:
		h.SubgraphResponse = f
	}
}

// TestHookBodies: a hook gets a stage's body only where it lists the
// stage in Bodies, and its rewrite of a subgraph's answer is what the
// client gets; the Subgraph stages of one fetch share its id.
func TestHookBodies(t *testing.T) {
	var mu sync.Mutex
	ids := map[string]string{}
	var sawRequestBody, sawResponseBody bool
	h := hooks.Hooks{
		Bodies: []hooks.Stage{hooks.SubgraphResponse},
		SubgraphRequest: func(_ context.Context, c *hooks.Call) error {
			mu.Lock()
			defer mu.Unlock()
			ids[c.Subgraph] = c.SubgraphRequestID
			sawRequestBody = sawRequestBody || c.Body != nil
			if c.URI == "" || c.SDL == "" {
				return fmt.Errorf("URI %q, SDL %d bytes", c.URI, len(c.SDL))
			}
			return nil
		},
		SubgraphResponse: func(_ context.Context, c *hooks.Call) error {
			mu.Lock()
			defer mu.Unlock()
			if c.SubgraphRequestID != ids[c.Subgraph] {
				return fmt.Errorf("id %q, request had %q", c.SubgraphRequestID, ids[c.Subgraph])
			}
			sawResponseBody = c.Body != nil
			if c.Subgraph == "products" {
				c.Body = []byte(strings.Replace(string(c.Body), `"name":"Table"`, `"name":"Hooked"`, 1))
			}
			return nil
		},
	}
	g := startWithHooks(t, h)
	resp, a := post(t, g, `{"query":"{ topProducts(first: 1) { name } }"}`, nil)
	if resp.Status != 200 || len(a.Errors) > 0 || !strings.Contains(string(resp.Body), `"Hooked"`) {
		t.Fatalf("status %d: %s", resp.Status, resp.Body)
	}
	if sawRequestBody || !sawResponseBody {
		t.Fatalf("bodies: request %v (want none), response %v", sawRequestBody, sawResponseBody)
	}
}
