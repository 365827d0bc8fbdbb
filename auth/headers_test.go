package auth

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
)

func TestPropagationRules(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	for k, v := range map[string]string{"Authorization": "Bearer t", "Cookie": "c=1", "Connection": "keep-alive",
		"Content-Type": "application/json", "X-Request-Id": "r1", "X-Team": "blue", "Accept-Language": "fr"} {
		r.Header.Set(k, v)
	}
	caller := &Caller{Authenticated: true, Claims: map[string]any{"sub": "u1", "roles": []any{"a", "b"},
		"org": map[string]any{"id": "acme"}, "n": float64(42), "evil": "x\r\nInjected: 1"}}
	cases := []struct {
		name     string
		cfg      HeadersConfig
		subgraph string
		caller   *Caller
		want     http.Header
	}{
		{"nothing configured", HeadersConfig{}, "users", caller, nil},
		{"wildcard skips credentials and hop-by-hop", HeadersConfig{All: HeaderRules{Forward: []string{"*"}}}, "users", caller,
			http.Header{"X-Request-Id": {"r1"}, "X-Team": {"blue"}, "Accept-Language": {"fr"}}},
		{"named credentials are forwarded", HeadersConfig{All: HeaderRules{Forward: []string{"authorization", "cookie"}}}, "users", caller,
			http.Header{"Authorization": {"Bearer t"}, "Cookie": {"c=1"}}},
		{"per subgraph rules add to all", HeadersConfig{All: HeaderRules{Forward: []string{"X-Request-Id"}},
			Subgraphs: map[string]HeaderRules{"users": {Rename: []HeaderRename{{From: "X-Team", To: "X-Users-Team"}}}}}, "users", caller,
			http.Header{"X-Request-Id": {"r1"}, "X-Users-Team": {"blue"}}},
		{"other subgraph gets all only", HeadersConfig{All: HeaderRules{Forward: []string{"X-Request-Id"}},
			Subgraphs: map[string]HeaderRules{"users": {Rename: []HeaderRename{{From: "X-Team", To: "X-Users-Team"}}}}}, "reviews", caller,
			http.Header{"X-Request-Id": {"r1"}}},
		{"claims", HeadersConfig{All: HeaderRules{Claims: []ClaimHeader{{Claim: "sub", Header: "X-Sub"}, {Claim: "roles", Header: "X-Roles"},
			{Claim: "org.id", Header: "X-Org"}, {Claim: "n", Header: "X-N"}, {Claim: "evil", Header: "X-Evil"}, {Claim: "missing", Header: "X-Missing"}}}}, "users", caller,
			http.Header{"X-Sub": {"u1"}, "X-Roles": {"a,b"}, "X-Org": {"acme"}, "X-N": {"42"}}},
		{"claim headers cannot be forged", HeadersConfig{All: HeaderRules{Forward: []string{"X-Team"}, Claims: []ClaimHeader{{Claim: "sub", Header: "X-Team"}}}}, "users", &Caller{},
			nil},
		{"insert", HeadersConfig{All: HeaderRules{Insert: []HeaderInsert{{Name: "x-gw", Value: "1"}}}}, "users", nil,
			http.Header{"X-Gw": {"1"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := NewPropagation(c.cfg).Header(r, c.caller, c.subgraph)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestPolicyGranted(t *testing.T) {
	claims := map[string]any{"role": "finance", "groups": []any{"a", 3, "admin"}, "realm": map[string]any{"roles": []any{"x"}}}
	cases := []struct {
		p    PolicyConfig
		want bool
	}{
		{PolicyConfig{Claim: "role", Equals: "finance"}, true},
		{PolicyConfig{Claim: "role", Equals: "Finance"}, false},
		{PolicyConfig{Claim: "role", OneOf: []string{"hr", "finance"}}, true},
		{PolicyConfig{Claim: "groups", Equals: "admin"}, true},
		{PolicyConfig{Claim: "groups", Equals: "3"}, false},
		{PolicyConfig{Claim: "realm.roles", OneOf: []string{"x"}}, true},
		{PolicyConfig{Claim: "missing", Equals: "x"}, false},
	}
	for _, c := range cases {
		if got := policyGranted(c.p, claims); got != c.want {
			t.Errorf("%+v: %v, want %v", c.p, got, c.want)
		}
	}
}

// TestWildcardSkipsTokenHeaders: the header the gateway reads tokens from
// (JWTConfig.Header, when not Authorization) carries credentials as
// Authorization does: "*" does not send it to the subgraphs, only a rule
// that names it. Before, "*" forwarded a token sent in X-Token to every
// subgraph.
func TestWildcardSkipsTokenHeaders(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	r.Header.Set("X-Token", "a.b.c")
	r.Header.Set("X-Request-Id", "r1")
	for _, c := range []struct {
		name    string
		forward []string
		want    http.Header
	}{
		{"wildcard", []string{"*"}, http.Header{"X-Request-Id": {"r1"}}},
		{"named", []string{"*", "x-token"}, http.Header{"X-Request-Id": {"r1"}, "X-Token": {"a.b.c"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := NewPropagation(HeadersConfig{All: HeaderRules{Forward: c.forward}}, "x-token").Header(r, nil, "users")
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

// TestWildcardSkipsProxyHeaders: Forwarded, every X-Forwarded-*,
// X-Real-Ip, X-Client-Ip and True-Client-Ip say what a proxy saw; the
// gateway does not write them, so "*" passed on what the client wrote
// there, and a subgraph that trusts the gateway as its proxy took a forged
// address (or host) for the gateway's word. A rule that names them still
// forwards them.
func TestWildcardSkipsProxyHeaders(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	forged := http.Header{"X-Forwarded-For": {"10.0.0.1"}, "Forwarded": {"for=10.0.0.1"}, "X-Real-Ip": {"10.0.0.1"},
		"X-Forwarded-Host": {"admin.internal"}, "X-Forwarded-Proto": {"https"},
		// Links a subgraph builds from these would point elsewhere.
		"X-Forwarded-Port": {"8443"}, "X-Forwarded-Prefix": {"/admin"}, "X-Forwarded-Server": {"internal"},
		"X-Forwarded-Ssl": {"on"}, "True-Client-Ip": {"10.0.0.1"}, "X-Client-Ip": {"10.0.0.1"},
		// The client's address as CDNs and proxies name it.
		"Client-Ip": {"10.0.0.1"}, "X-Cluster-Client-Ip": {"10.0.0.1"}, "Cf-Connecting-Ip": {"10.0.0.1"},
		"Cf-Connecting-Ipv6": {"fd00::1"}, "Fastly-Client-Ip": {"10.0.0.1"},
		"X-Original-Forwarded-For": {"10.0.0.1"}, "X-Envoy-External-Address": {"10.0.0.1"},
		"X-Forwarded": {"for=10.0.0.1"},
		// The host, URL, scheme and method frameworks take from a proxy:
		// the classic cache poisoning headers.
		"X-Host": {"evil.example"}, "X-Original-Host": {"evil.example"}, "X-Http-Host-Override": {"evil.example"},
		"X-Original-Url": {"/admin"}, "X-Rewrite-Url": {"/admin"}, "X-Original-Uri": {"/admin"},
		"Front-End-Https": {"on"}, "X-Url-Scheme": {"http"},
		"X-Http-Method-Override": {"DELETE"}, "X-Http-Method": {"DELETE"}, "X-Method-Override": {"DELETE"}}
	for k, v := range forged {
		r.Header[k] = v
	}
	r.Header.Set("X-Request-Id", "r1")
	if got, want := NewPropagation(HeadersConfig{All: HeaderRules{Forward: []string{"*"}}}).Header(r, nil, "users"),
		(http.Header{"X-Request-Id": {"r1"}}); !reflect.DeepEqual(got, want) {
		t.Errorf("wildcard: got %v, want %v", got, want)
	}
	got := NewPropagation(HeadersConfig{All: HeaderRules{Forward: []string{"X-Forwarded-For", "x-real-ip"}}}).Header(r, nil, "users")
	if want := (http.Header{"X-Forwarded-For": {"10.0.0.1"}, "X-Real-Ip": {"10.0.0.1"}}); !reflect.DeepEqual(got, want) {
		t.Errorf("named: got %v, want %v", got, want)
	}
}

// TestWildcardSkipsUnderscoreSpellings: servers that hand headers to
// their application as CGI variables (Rack, WSGI and PHP servers without
// the fix of CVE-2015-0219) read X_Forwarded_For and X-Forwarded-For
// alike, as HTTP_X_FORWARDED_FOR. So "*" leaves out a header whose name
// with "_" read as "-" is a proxy or credential header, as it leaves out
// that header. Before, X_Forwarded_For, Client_Ip and the token header
// spelt with underscores (a forged token nobody verified) went to every
// subgraph.
func TestWildcardSkipsUnderscoreSpellings(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	for _, k := range []string{"X_Forwarded_For", "X-Forwarded_Host", "Client_Ip", "X_Real_Ip", "Proxy_Authorization", "X_Api_Token"} {
		r.Header[k] = []string{"forged"}
	}
	r.Header.Set("X-Request-Id", "r1")
	r.Header["X_Tenant"] = []string{"t1"} // no proxy or credential header: forwarded
	got := NewPropagation(HeadersConfig{All: HeaderRules{Forward: []string{"*"}}}, "X-Api-Token").Header(r, nil, "users")
	if want := (http.Header{"X-Request-Id": {"r1"}, "X_Tenant": {"t1"}}); !reflect.DeepEqual(got, want) {
		t.Errorf("wildcard: got %v, want %v", got, want)
	}
}

// TestGatewayHeadersHaveNoUnderscoreTwin: a header the gateway fills (a
// claim's, an inserted one) is sent without a client's copy spelt with
// underscores, which a CGI-style subgraph reads as the same variable
// (HTTP_X_USER_ID): for an anonymous caller as the user id itself, for
// an authenticated one beside it. Before, "*" forwarded X_User_Id.
func TestGatewayHeadersHaveNoUnderscoreTwin(t *testing.T) {
	cfg := HeadersConfig{All: HeaderRules{Forward: []string{"*"}, Claims: []ClaimHeader{{Claim: "sub", Header: "X-User-Id"}},
		Insert: []HeaderInsert{{Name: "X-Tenant", Value: "t1"}}}}
	for _, c := range []struct {
		name   string
		caller *Caller
		want   http.Header
	}{
		{"anonymous", &Caller{}, http.Header{"X-Request-Id": {"r1"}, "X-Tenant": {"t1"}}},
		{"authenticated", &Caller{Authenticated: true, Claims: map[string]any{"sub": "u1"}},
			http.Header{"X-Request-Id": {"r1"}, "X-Tenant": {"t1"}, "X-User-Id": {"u1"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
			r.Header["X_user_id"] = []string{"admin"}
			r.Header["X_tenant"] = []string{"other"}
			r.Header.Set("X-Request-Id", "r1")
			if got := NewPropagation(cfg).Header(r, c.caller, "users"); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}
