package server_test

import (
	"bytes"
	"encoding/json"
	"github.com/golang-jwt/jwt/v5"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/cache"
	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/schema"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// testSubgraph is a small GraphQL server over real HTTP for the cache
// tests: root fields and entities come from functions, and the answer is
// projected on the request's selection (aliases, __typename, inline
// fragments).
type testSubgraph struct {
	root   func(name string, args map[string]any, user string) any
	entity func(rep map[string]any, user string) map[string]any
	// cacheControl, when set, is the Cache-Control header of answers,
	// one header line per line.
	cacheControl string
	// vary, when set, is the Vary header of answers.
	vary  string
	delay time.Duration
	calls atomic.Int64
	// reps counts the representations asked for.
	reps atomic.Int64
	// fail makes every answer a GraphQL error.
	fail atomic.Bool
	// failUPC, when set, makes the entity of that upc null with an error.
	failUPC atomic.Value
}

func (s *testSubgraph) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.calls.Add(1)
	if s.delay > 0 {
		time.Sleep(s.delay)
	}
	var body struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: body.Query})
	if err != nil || len(doc.Operations) != 1 {
		http.Error(w, "bad query", http.StatusBadRequest)
		return
	}
	user := r.Header.Get("X-User")
	if c, err := r.Cookie("session"); user == "" && err == nil {
		// A subgraph that knows its caller by a session cookie.
		user = c.Value
	}
	if s.fail.Load() {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":null,"errors":[{"message":"failing on purpose"}]}`))
		return
	}
	data := map[string]any{}
	var errs []any
	for _, sel := range doc.Operations[0].SelectionSet {
		f := sel.(*ast.Field)
		args := map[string]any{}
		for _, a := range f.Arguments {
			args[a.Name], _ = a.Value.Value(body.Variables)
		}
		key := f.Alias
		if key == "" {
			key = f.Name
		}
		if f.Name == "_entities" {
			var out []any
			for i, rep := range args["representations"].([]any) {
				s.reps.Add(1)
				if bad, _ := s.failUPC.Load().(string); bad != "" && rep.(map[string]any)["upc"] == bad {
					out = append(out, nil)
					errs = append(errs, map[string]any{"message": "no rating for " + bad, "path": []any{"_entities", i, "average"}})
					continue
				}
				out = append(out, project(s.entity(rep.(map[string]any), user), f.SelectionSet))
			}
			data[key] = out
			continue
		}
		data[key] = project(s.root(f.Name, args, user), f.SelectionSet)
	}
	w.Header().Set("Content-Type", "application/json")
	if s.vary != "" {
		w.Header().Set("Vary", s.vary)
	}
	if s.cacheControl != "" {
		// One header line per line of cacheControl.
		for _, v := range strings.Split(s.cacheControl, "\n") {
			w.Header().Add("Cache-Control", v)
		}
	}
	answer := map[string]any{"data": data}
	if errs != nil {
		answer["errors"] = errs
	}
	_ = json.NewEncoder(w).Encode(answer)
}

func project(v any, set ast.SelectionSet) any {
	if v == nil || len(set) == 0 {
		return v
	}
	switch v := v.(type) {
	case []map[string]any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = project(x, set)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		collect(v, set, out)
		return out
	}
	return v
}

func collect(v map[string]any, set ast.SelectionSet, out map[string]any) {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			key := sel.Alias
			if key == "" {
				key = sel.Name
			}
			out[key] = project(v[sel.Name], sel.SelectionSet)
		case *ast.InlineFragment:
			if sel.TypeCondition == "" || sel.TypeCondition == v["__typename"] {
				collect(v, sel.SelectionSet, out)
			}
		}
	}
}

// rating is a caller's own rating of every product: 5 for alice, 1 for
// bob, 0 for anonymous callers.
func rating(user string) int {
	switch user {
	case "alice":
		return 5
	case "bob":
		return 1
	}
	return 0
}

// cacheEnv is the catalog and ratings subgraphs of testdata/cache.graphql.
type cacheEnv struct {
	catalog, ratings *testSubgraph
	urls             map[string]string
	sg               *schema.Supergraph
	// average is every product's average rating, 3.5 unless set.
	average atomic.Value
}

func newCacheEnv(t testing.TB) *cacheEnv {
	t.Helper()
	sdl, err := os.ReadFile(filepath.Join("testdata", "cache.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	sg, err := schema.Load(string(sdl))
	if err != nil {
		t.Fatal(err)
	}
	product := func(upc string) map[string]any {
		return map[string]any{"__typename": "Product", "upc": upc, "name": "product " + upc}
	}
	e := &cacheEnv{sg: sg, urls: map[string]string{}}
	e.average.Store(3.5)
	e.catalog = &testSubgraph{root: func(name string, args map[string]any, _ string) any {
		switch name {
		case "products":
			return []map[string]any{product("1"), product("2")}
		case "product":
			return product(args["upc"].(string))
		case "uncached":
			return "fresh"
		case "rate":
			return 1
		}
		return nil
	}}
	e.ratings = &testSubgraph{
		root: func(name string, _ map[string]any, user string) any {
			if name == "myNote" {
				return "note of " + user
			}
			return nil
		},
		entity: func(rep map[string]any, user string) map[string]any {
			return map[string]any{"__typename": "Product", "upc": rep["upc"], "myRating": rating(user),
				"headerRating": rating(user), "average": e.average.Load()}
		},
	}
	for name, h := range map[string]http.Handler{"catalog": e.catalog, "ratings": e.ratings} {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		e.urls[name] = srv.URL
	}
	return e
}

// testGateway is a gateway over the cache env on a loopback server.
// Callers present real HS256 tokens; the auth stage verifies them and
// sends the subject to the subgraphs as X-User (a claim header rule).
type testGateway struct {
	URL       string
	Server    *server.Server
	client    *http.Client
	transport executor.Transport
}

// testSecret signs the callers' tokens.
const testSecret = "cache-test-secret-of-at-least-32-bytes"

// tokenFor returns a signed token whose subject is user.
func tokenFor(t testing.TB, user string) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": user, "exp": time.Now().Add(time.Hour).Unix()})
	tok.Header["kid"] = "test"
	signed, err := tok.SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func (e *cacheEnv) gateway(t testing.TB, opts server.Options) *testGateway {
	t.Helper()
	client := subgraphs.NewClient(e.urls, subgraphs.Options{Timeout: 10 * time.Second})
	t.Cleanup(client.Close)
	opts.Auth.JWT.Keys = []auth.KeyConfig{{KID: "test", Algorithms: []string{"HS256"}, Secret: testSecret}}
	opts.Auth.Headers.All.Claims = []auth.ClaimHeader{{Claim: "sub", Header: "X-User"}}
	s, err := server.New(e.sg, client, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &testGateway{URL: srv.URL + "/graphql", Server: s, client: srv.Client(), transport: client}
}

// answer is a decoded gateway response.
type answer struct {
	Status int
	Header http.Header
	Body   []byte
	Data   map[string]any `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func (g *testGateway) post(t testing.TB, user string, body map[string]any) (*answer, error) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, g.URL, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+tokenFor(t, user))
	}
	return g.do(req)
}

// do sends req as a current client would: asking for the GraphQL
// response media type (request errors keep their 4xx status), and with
// the header that satisfies CSRF prevention on a GET.
func (g *testGateway) do(req *http.Request) (*answer, error) {
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/graphql-response+json")
	}
	req.Header.Set("Apollo-Require-Preflight", "true")
	resp, err := g.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	a := &answer{Status: resp.StatusCode, Header: resp.Header}
	if a.Body, err = io.ReadAll(resp.Body); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(a.Body, a); err != nil {
		return nil, err
	}
	return a, nil
}

// query posts query and fails the test on a transport error.
func (g *testGateway) query(t testing.TB, user, query string, vars map[string]any) *answer {
	t.Helper()
	body := map[string]any{"query": query}
	if vars != nil {
		body["variables"] = vars
	}
	a, err := g.post(t, user, body)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// cacheOptions are server options with the response cache on and the
// entity cache as asked.
func cacheOptions(entities bool, r *cache.Redis) server.Options {
	o := server.DefaultOptions()
	o.Cache.Entity.Enabled = entities
	o.Redis = r
	return o
}
