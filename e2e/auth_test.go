package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/internal/gatewaytest"
	goldenfile "github.com/fedgate/gateway/internal/golden"
	"github.com/fedgate/gateway/server"
	"github.com/golang-jwt/jwt/v5"
)

// authSecret signs the tokens of the authorization tests (HS256).
const authSecret = "e2e-secret-0123456789abcdef0123456789"

func obj(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// authGraphs returns the two subgraphs of testdata/supergraphs/auth.graphql
// over fixed data.
func authGraphs() (users, reviews *staticGraph) {
	ada := obj("__typename", "User", "id", "1", "name", "Ada", "email", "ada@example.com", "ssn", "111-11",
		"salary", 100, "badge", obj("__typename", "Badge", "level", 3))
	grace := obj("__typename", "User", "id", "2", "name", "Grace", "email", "grace@example.com", "ssn", "222-22",
		"salary", 200, "badge", obj("__typename", "Badge", "level", 5))
	vault := obj("__typename", "Vault", "id", "v1", "contents", "gold")
	users = &staticGraph{
		root: obj("me", ada, "users", []any{ada, grace}, "user", grace, "publicNote", "hello",
			"node", ada, "search", []any{ada, vault}, "token", "tok-1", "roles", []any{"ADMIN"}),
		entities: map[string]map[string]map[string]any{"User": {"1": ada, "2": grace}, "Vault": {"v1": vault}},
	}
	review := func(id, body, note, author string) map[string]any {
		return obj("__typename", "Review", "id", id, "body", body, "internalNote", note,
			"author", obj("__typename", "User", "id", author))
	}
	r1, r2 := review("r1", "Great", "note-1", "1"), review("r2", "Fine", "note-2", "2")
	reviews = &staticGraph{
		root: obj("reviews", []any{r1, r2}),
		entities: map[string]map[string]map[string]any{
			"User":   {"1": obj("__typename", "User", "id", "1", "reviews", []any{r1}), "2": obj("__typename", "User", "id", "2", "reviews", []any{r2})},
			"Review": {"r1": r1, "r2": r2},
		},
	}
	return users, reviews
}

func authSupergraph(t testing.TB) string {
	t.Helper()
	sdl, err := os.ReadFile("../testdata/supergraphs/auth.graphql")
	if err != nil {
		t.Fatal(err)
	}
	return string(sdl)
}

// authOptions are the server options of the authorization tests: one
// HMAC key, the finance and admin policies.
func authOptions(mod func(*auth.Config)) server.Options {
	o := server.DefaultOptions()
	o.Introspection = true
	o.Auth.JWT.Keys = []auth.KeyConfig{{Secret: authSecret, Algorithms: []string{"HS256"}}}
	o.Auth.Authorization.Policies = map[string]auth.PolicyConfig{
		"finance": {Claim: "role", Equals: "finance"},
		"admin":   {Claim: "groups", OneOf: []string{"admin"}},
	}
	if mod != nil {
		mod(&o.Auth)
	}
	return o
}

func token(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	c := jwt.MapClaims{"sub": "user-1", "exp": time.Now().Add(time.Hour).Unix()}
	for k, v := range claims {
		c[k] = v
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(authSecret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// post sends query with the bearer token (none when empty) and extra
// headers.
func post(t testing.TB, g *gatewaytest.Gateway, query, bearer string, headers map[string]string) *gatewaytest.Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json, application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := g.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

type matrixCaller struct {
	name   string
	claims jwt.MapClaims // nil: anonymous
}

var matrixCallers = []matrixCaller{
	{"anonymous", nil},
	{"scope_a", jwt.MapClaims{"scope": "a"}},
	{"scope_b", jwt.MapClaims{"scope": "b"}},
	{"scope_a_b", jwt.MapClaims{"scope": "a b read:email"}},
	{"scope_b_c", jwt.MapClaims{"scope": "b c"}},
	{"policy_match", jwt.MapClaims{"role": "finance", "scope": "vault tokens"}},
	{"policy_mismatch", jwt.MapClaims{"role": "engineer", "groups": []string{"staff"}}},
}

var matrixOperations = []struct{ name, query string }{
	{"root_fields", `{ publicNote me { name } }`},
	{"scoped_fields", `{ users { name email ssn } }`},
	{"nullable_fields", `{ users { name email salary badge { level } } }`},
	{"entity_fields", `{ users { name salary badge { level } reviews { body internalNote } } }`},
	{"abstract_and_scalars", `{ search(text: "x") { __typename ... on User { name } ... on Vault { contents } } token roles }`},
}

// TestAuthorizationMatrix runs every operation for every caller against
// one gateway (so plans are cached and must not leak between callers; the
// whole matrix runs twice), compares status, body and the subgraph queries
// with goldens under testdata/auth/matrix, and checks that no subgraph was
// asked for a field the caller may not see.
func TestAuthorizationMatrix(t *testing.T) {
	users, reviews := authGraphs()
	g := gatewaytest.Start(t, gatewaytest.WithSupergraph(authSupergraph(t)),
		gatewaytest.WithHandler("users", users), gatewaytest.WithHandler("reviews", reviews),
		gatewaytest.WithServerOptions(authOptions(nil)))
	for round := 0; round < 2; round++ {
		for _, op := range matrixOperations {
			for _, c := range matrixCallers {
				t.Run(fmt.Sprintf("%d/%s/%s", round, op.name, c.name), func(t *testing.T) {
					users.Reset()
					reviews.Reset()
					bearer := ""
					if c.claims != nil {
						bearer = token(t, c.claims)
					}
					resp := post(t, g, op.query, bearer, nil)
					var body any
					if err := json.Unmarshal(resp.Body, &body); err != nil {
						t.Fatalf("body %s: %v", resp.Body, err)
					}
					sent := map[string][]string{"users": users.Queries(), "reviews": reviews.Queries()}
					for _, q := range sent {
						sort.Strings(q)
					}
					out, _ := json.MarshalIndent(map[string]any{"status": resp.Status, "body": body, "subgraphQueries": sent}, "", "  ")
					out = append(out, '\n')
					goldenfile.Check(t, filepath.Join("..", "testdata", "auth", "matrix", op.name+"."+c.name+".json"), out, *update && round == 0, nil)
					assertNothingUnauthorizedSent(t, body, sent)
				})
			}
		}
	}
}

// assertNothingUnauthorizedSent checks that the field at the end of every
// UNAUTHORIZED_FIELD_OR_TYPE error path appears in no subgraph query.
func assertNothingUnauthorizedSent(t *testing.T, body any, sent map[string][]string) {
	t.Helper()
	errs, _ := body.(map[string]any)["errors"].([]any)
	for _, e := range errs {
		em := e.(map[string]any)
		ext, _ := em["extensions"].(map[string]any)
		if ext["code"] != auth.UnauthorizedCode {
			continue
		}
		path, _ := em["path"].([]any)
		if len(path) == 0 {
			t.Errorf("an unauthorized error without a path: %v", em)
			continue
		}
		field, _ := path[len(path)-1].(string)
		word := regexp.MustCompile(`\b` + regexp.QuoteMeta(field) + `\b`)
		for name, qs := range sent {
			for _, q := range qs {
				if word.MatchString(q) {
					t.Errorf("subgraph %s was asked for the unauthorized field %q: %s", name, field, q)
				}
			}
		}
	}
}

// TestAuthorizationRejectMode answers an operation with an unauthorized
// field 403, with one error per path, and calls no subgraph.
func TestAuthorizationRejectMode(t *testing.T) {
	users, reviews := authGraphs()
	g := gatewaytest.Start(t, gatewaytest.WithSupergraph(authSupergraph(t)),
		gatewaytest.WithHandler("users", users), gatewaytest.WithHandler("reviews", reviews),
		gatewaytest.WithServerOptions(authOptions(func(c *auth.Config) { c.Authorization.RejectUnauthorized = true })))
	resp := post(t, g, `{ publicNote users { name email reviews { body } } }`, "", nil)
	want := `{"errors":[{"message":"Unauthorized field or type","path":["users","@","email"],"extensions":{"code":"UNAUTHORIZED_FIELD_OR_TYPE"}},` +
		`{"message":"Unauthorized field or type","path":["users","@","reviews"],"extensions":{"code":"UNAUTHORIZED_FIELD_OR_TYPE"}}]}`
	if resp.Status != http.StatusForbidden || string(resp.Body) != want {
		t.Errorf("status %d body %s\nwant 403 %s", resp.Status, resp.Body, want)
	}
	if n := g.Requests(); n != 0 {
		t.Errorf("%d subgraph requests for a rejected operation", n)
	}
	// The same operation is served to a caller who may see everything.
	resp = post(t, g, `{ publicNote users { name email reviews { body } } }`, token(t, jwt.MapClaims{"scope": "read:email"}), nil)
	if resp.Status != http.StatusOK || bytes.Contains(resp.Body, []byte("errors")) {
		t.Errorf("authorized caller: %d %s", resp.Status, resp.Body)
	}
}

// TestAuthenticationHTTP checks the HTTP faces of authentication: an
// invalid token is 401 UNAUTHENTICATED with a WWW-Authenticate header,
// a required token is 401 when missing, and a token in a cookie works.
func TestAuthenticationHTTP(t *testing.T) {
	users, reviews := authGraphs()
	g := gatewaytest.Start(t, gatewaytest.WithSupergraph(authSupergraph(t)),
		gatewaytest.WithHandler("users", users), gatewaytest.WithHandler("reviews", reviews),
		gatewaytest.WithServerOptions(authOptions(func(c *auth.Config) { c.RequireAuthentication = true; c.JWT.Cookie = "session" })))
	for _, c := range []struct {
		name    string
		bearer  string
		headers map[string]string
		status  int
		code    string
	}{
		{"no token", "", nil, 401, "UNAUTHENTICATED"},
		{"garbage", "garbage", nil, 401, "UNAUTHENTICATED"},
		{"wrong scheme", "", map[string]string{"Authorization": "Basic dXNlcjpwdw=="}, 401, "UNAUTHENTICATED"},
		{"valid", token(t, nil), nil, 200, ""},
		{"valid in a cookie", "", map[string]string{"Cookie": "session=" + token(t, nil)}, 200, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := g.Requests()
			resp := post(t, g, `{ publicNote }`, c.bearer, c.headers)
			if resp.Status != c.status {
				t.Fatalf("status %d, want %d: %s", resp.Status, c.status, resp.Body)
			}
			if c.code == "" {
				return
			}
			if codes := errorCodes(t, resp.Body); len(codes) != 1 || codes[0] != c.code {
				t.Errorf("codes %v, want [%s]", codes, c.code)
			}
			if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
			}
			if g.Requests() != before {
				t.Error("an unauthenticated request reached a subgraph")
			}
		})
	}
}

// TestIntrospectionScope restricts __schema and __type to callers with a
// scope; __typename stays open. A denied __type (nullable) answers null
// beside the rest of the data; a denied __schema is non-null, so a null
// would null the whole answer (before: data null for every field, with
// one error at __schema): the operation is refused with 403 and one error
// saying why, and no subgraph is asked.
func TestIntrospectionScope(t *testing.T) {
	users, reviews := authGraphs()
	g := gatewaytest.Start(t, gatewaytest.WithSupergraph(authSupergraph(t)),
		gatewaytest.WithHandler("users", users), gatewaytest.WithHandler("reviews", reviews),
		gatewaytest.WithServerOptions(authOptions(func(c *auth.Config) { c.Authorization.IntrospectionScope = "introspect" })))
	plain, introspector := token(t, jwt.MapClaims{"scope": "a"}), token(t, jwt.MapClaims{"scope": "introspect"})
	cases := []struct {
		name, query, bearer string
		status              int
		want                string
		fetches             int
	}{
		{"__type without the scope", `{ __typename t: __type(name: "User") { name } }`, plain, 200,
			`{"data":{"__typename":"Query","t":null},"errors":[{"message":"Unauthorized field or type","path":["t"],"extensions":{"code":"UNAUTHORIZED_FIELD_OR_TYPE"}}]}`, 0},
		{"__type with the scope", `{ __typename t: __type(name: "User") { name } }`, introspector, 200,
			`{"data":{"__typename":"Query","t":{"name":"User"}}}`, 0},
		{"__type beside data", `{ publicNote t: __type(name: "User") { name } }`, plain, 200,
			`{"data":{"publicNote":"hello","t":null},"errors":[{"message":"Unauthorized field or type","path":["t"],"extensions":{"code":"UNAUTHORIZED_FIELD_OR_TYPE"}}]}`, 1},
		{"__schema without the scope", `{ publicNote __schema { queryType { name } } }`, plain, 403,
			`{"errors":[{"message":"` + auth.IntrospectionDeniedMessage + `","path":["__schema"],"extensions":{"code":"UNAUTHORIZED_FIELD_OR_TYPE"}}]}`, 0},
		{"__schema in a fragment, anonymous", `{ ...F } fragment F on Query { s: __schema { queryType { name } } }`, "", 403,
			`{"errors":[{"message":"` + auth.IntrospectionDeniedMessage + `","path":["s"],"extensions":{"code":"UNAUTHORIZED_FIELD_OR_TYPE"}}]}`, 0},
		{"__schema with the scope", `{ publicNote __schema { queryType { name } } }`, introspector, 200,
			`{"data":{"publicNote":"hello","__schema":{"queryType":{"name":"Query"}}}}`, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := g.Requests()
			resp := post(t, g, tc.query, tc.bearer, nil)
			if resp.Status != tc.status || string(resp.Body) != tc.want {
				t.Errorf("%d %s\nwant %d %s", resp.Status, resp.Body, tc.status, tc.want)
			}
			if n := g.Requests() - before; n != tc.fetches {
				t.Errorf("%d subgraph requests, want %d", n, tc.fetches)
			}
		})
	}
}
