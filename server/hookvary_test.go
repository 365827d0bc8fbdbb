package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/pkg/hooks"
	"github.com/fedgate/gateway/schema"
)

// TestDeclaredVaryKeysByWhatIsDeclared: with hooks.Vary, the caches'
// fetch vary changes with the declared fetch headers, claims and Context
// entries, and with nothing else of the request.
func TestDeclaredVaryKeysByWhatIsDeclared(t *testing.T) {
	s := &Server{sec: &security{prop: auth.NewPropagation(auth.HeadersConfig{All: auth.HeaderRules{Forward: []string{"*"}}})}}
	sg := &schema.Supergraph{}
	v := declaredVary([]hooks.Hooks{{
		SubgraphRequest: func(context.Context, *hooks.Call) error { return nil },
		Vary:            &hooks.Vary{Headers: []string{"x-region"}, Claims: []string{"tenant"}, Context: []string{"plan"}},
	}})
	type req struct {
		region, other, tenant, sub, plan, seq string
	}
	key := func(q req) string {
		r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
		r.Header.Set("X-Region", q.region)
		r.Header.Set("X-Other", q.other)
		st := &hookState{method: http.MethodPost, path: "/graphql",
			claims:  map[string]any{"tenant": q.tenant, "sub": q.sub},
			context: map[string]any{"plan": q.plan, "seq": q.seq}}
		return s.declaredVary(r.WithContext(context.WithValue(r.Context(), hookStateKey{}, st)), sg, v)
	}
	base := req{"eu", "a", "t1", "alice", "gold", "1"}
	for _, tc := range []struct {
		name string
		q    req
		same bool
	}{
		{"another undeclared header", req{"eu", "b", "t1", "alice", "gold", "1"}, true},
		{"another undeclared claim", req{"eu", "a", "t1", "bob", "gold", "1"}, true},
		{"another undeclared Context entry", req{"eu", "a", "t1", "alice", "gold", "2"}, true},
		{"another declared header", req{"us", "a", "t1", "alice", "gold", "1"}, false},
		{"another declared claim", req{"eu", "a", "t2", "alice", "gold", "1"}, false},
		{"another declared Context entry", req{"eu", "a", "t1", "alice", "free", "1"}, false},
	} {
		if got := key(tc.q) == key(base); got != tc.same {
			t.Errorf("%s: same key %v, want %v", tc.name, got, tc.same)
		}
	}
	if declaredVary([]hooks.Hooks{{SubgraphResponse: func(context.Context, *hooks.Call) error { return nil }}}) != nil {
		t.Error("a Subgraph hook without Vary: declared")
	}
	if declaredVary([]hooks.Hooks{{RouterRequest: func(context.Context, *hooks.Call) error { return nil }}}) != nil {
		t.Error("no Subgraph hook: declared")
	}
}

// TestHookShareKeyWithDeclaredVary: with hooks.Vary, inbound dedupe and
// subscription events are shared by callers whose declared claims and
// Context entries are equal, whatever else differs; without it, by
// callers whose whole hook state is equal.
func TestHookShareKeyWithDeclaredVary(t *testing.T) {
	sub := func(context.Context, *hooks.Call) error { return nil }
	undeclared := []hooks.Hooks{{SubgraphRequest: sub}}
	declared := []hooks.Hooks{{SubgraphRequest: sub, Vary: &hooks.Vary{Claims: []string{"tenant"}, Context: []string{"plan"}}}}
	ctx := func(path, tenant, sub, plan, seq string) context.Context {
		return context.WithValue(context.Background(), hookStateKey{}, &hookState{method: http.MethodPost, path: path,
			claims: map[string]any{"tenant": tenant, "sub": sub}, context: map[string]any{"plan": plan, "seq": seq}})
	}
	base := []string{"/graphql", "t1", "alice", "gold", "1"}
	for _, tc := range []struct {
		name           string
		other          []string
		sameDeclared   bool
		sameUndeclared bool
	}{
		{"equal", base, true, true},
		{"another path", []string{"/other", "t1", "alice", "gold", "1"}, true, false},
		{"another subject", []string{"/graphql", "t1", "bob", "gold", "1"}, true, false},
		{"another undeclared Context entry", []string{"/graphql", "t1", "alice", "gold", "2"}, true, false},
		{"another declared claim", []string{"/graphql", "t2", "alice", "gold", "1"}, false, false},
		{"another declared Context entry", []string{"/graphql", "t1", "alice", "free", "1"}, false, false},
	} {
		for _, hs := range []struct {
			hooks []hooks.Hooks
			want  bool
		}{{declared, tc.sameDeclared}, {undeclared, tc.sameUndeclared}} {
			s := &Server{ext: &extensions{hooks: hs.hooks, vary: declaredVary(hs.hooks)}}
			a := s.hookShareKey(ctx(base[0], base[1], base[2], base[3], base[4]))
			b := s.hookShareKey(ctx(tc.other[0], tc.other[1], tc.other[2], tc.other[3], tc.other[4]))
			if (a == b) != hs.want {
				t.Errorf("%s (declared %v): same key %v, want %v", tc.name, hs.hooks[0].Vary != nil, a == b, hs.want)
			}
		}
	}
}
