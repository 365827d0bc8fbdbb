package executor

import (
	"context"
	"fmt"
	"github.com/fedgate/gateway/internal/jsonvalue"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/fedgate/gateway/planner"
	"github.com/valyala/fastjson"
)

// contextTransport answers an entity fetch with, for each representation,
// {"v": "<the variable c's JSON value>/<id>"}, and keeps the variables
// of every request.
type contextTransport struct {
	mu   sync.Mutex
	sent []string
}

func (t *contextTransport) Fetch(_ context.Context, _ string, req *Request) (*Response, error) {
	body := fastjson.MustParseBytes(req.Body)
	vars := body.Get("variables")
	t.mu.Lock()
	t.sent = append(t.sent, vars.String())
	t.mu.Unlock()
	c := "absent"
	if v := vars.Get("c"); v != nil {
		c = v.String()
	}
	var out []string
	for _, rep := range vars.GetArray("representations") {
		out = append(out, `{"v":`+strconv.Quote(c+"/"+string(rep.GetStringBytes("id")))+`}`)
	}
	return &Response{Body: []byte(`{"data":{"_entities":[` + strings.Join(out, ",") + `]}}`)}, nil
}

// TestContextEntityFetch runs entity fetches whose variable c comes from
// the nearest ancestor that sets a context: each object gets the answer
// for its own ancestor's value, objects sharing a value share a request,
// and objects without such an ancestor are sent without the variable.
func TestContextEntityFetch(t *testing.T) {
	post := func(id string) string { return `{"__typename":"Post","id":"` + id + `"}` }
	leaf := func(name string) []*planner.RequiredField { return []*planner.RequiredField{{Name: name, Key: name}} }
	cases := []struct {
		name, data string
		path       []string
		sources    []*planner.ContextSource
		// types are the context's types (default: the sources').
		types []string
		// self: the objects at path are the fetch's own entities (User),
		// below which the field is selected.
		self bool
		// want lists v of each object at path, in order.
		want []string
		// wantVars lists the variables sent apart from the representations, sorted.
		wantVars []string
	}{
		{name: "one context type",
			data: `{"users":[{"__typename":"User","locale":"en","posts":[` + post("1") + `,` + post("2") + `]},` +
				`{"__typename":"User","locale":"fr","posts":[` + post("1") + `]},` +
				`{"__typename":"User","locale":"en","posts":[` + post("3") + `]},` +
				`{"__typename":"User","posts":[` + post("4") + `]}]}`,
			path:     []string{"users", "@", "posts", "@"},
			sources:  []*planner.ContextSource{{TypeName: "User", Fields: leaf("locale")}},
			want:     []string{`"en"/1`, `"en"/2`, `"fr"/1`, `"en"/3`, `absent/4`},
			wantVars: []string{`{"c":"en"}`, `{"c":"fr"}`, `{}`},
		},
		{name: "the nearest of two context types",
			data: `{"shops":[{"__typename":"Shop","currency":"EUR","books":[` + post("1") + `],` +
				`"featured":{"__typename":"Library","lang":"de","books":[` + post("1") + `,` + post("2") + `]}}]}`,
			path: []string{"shops", "@", "featured", "books", "@"},
			sources: []*planner.ContextSource{{TypeName: "Library", Fields: leaf("lang")},
				{TypeName: "Shop", Fields: leaf("currency")}},
			want:     []string{`"de"/1`, `"de"/2`},
			wantVars: []string{`{"c":"de"}`},
		},
		{name: "the object itself is not its own context",
			data:     `{"list":[{"__typename":"Post","id":"7","tag":"x","related":[{"__typename":"Post","id":"8","tag":"y"}]},{"__typename":"Post","id":"9","tag":null,"related":[{"__typename":"Post","id":"8","tag":"z"}]}]}`,
			path:     []string{"list", "@", "related", "@"},
			sources:  []*planner.ContextSource{{TypeName: "Post", Fields: leaf("tag")}},
			want:     []string{`"x"/8`, `null/8`},
			wantVars: []string{`{"c":"x"}`, `{"c":null}`},
		},
		{name: "the field below the entity that sets the context",
			data:     `{"users":[{"__typename":"User","id":"1","locale":"en"},{"__typename":"User","id":"2","locale":"fr"},{"__typename":"User","id":"3","locale":"en"}]}`,
			path:     []string{"users", "@"},
			self:     true,
			sources:  []*planner.ContextSource{{TypeName: "User", Fields: leaf("locale")}},
			want:     []string{`"en"/1`, `"fr"/2`, `"en"/3`},
			wantVars: []string{`{"c":"en"}`, `{"c":"fr"}`},
		},
		{name: "objects below another context type are another fetch's",
			data:     `{"owners":[{"__typename":"Library","lang":"de","books":[` + post("1") + `]},{"__typename":"Shop","currency":"EUR","books":[` + post("2") + `]},{"__typename":"Other","books":[` + post("3") + `]}]}`,
			path:     []string{"owners", "@", "books", "@"},
			types:    []string{"Library", "Shop"},
			sources:  []*planner.ContextSource{{TypeName: "Library", Fields: leaf("lang")}},
			want:     []string{`"de"/1`, ``, `absent/3`},
			wantVars: []string{`{"c":"de"}`, `{}`},
		},
		{name: "a nested selection down to a list of leaves",
			data: `{"org":{"__typename":"Org","owner":{"__typename":"Person","tags":[{"t":"a"},{"t":"b"}]},"posts":[` + post("1") + `]}}`,
			path: []string{"org", "posts", "@"},
			sources: []*planner.ContextSource{{TypeName: "Org", Fields: []*planner.RequiredField{
				{Name: "owner", Key: "owner", Fields: []*planner.RequiredField{{Name: "tags", Key: "tags", Fields: leaf("t")}}}}}},
			want:     []string{`["a","b"]/1`},
			wantVars: []string{`{"c":["a","b"]}`},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := &contextTransport{}
			e := &execution{ctx: context.Background(), transport: tr}
			defer e.release()
			e.data = mustParse(c.data)
			entity := "Post"
			if c.self {
				entity = "User"
			}
			types := c.types
			for _, s := range c.sources {
				if !slices.Contains(types, s.TypeName) {
					types = append(types, s.TypeName)
				}
			}
			f := &planner.Fetch{Subgraph: "sg", OperationKind: "query",
				Operation: `query($representations:[_Any!]!,$c:String){_entities(representations:$representations){...on Post{v(c:$c)}}}`,
				Requires: []*planner.Requirement{{TypeName: entity, RepresentationType: entity,
					Fields: []*planner.RequiredField{{Name: "id", Key: "id"}}}},
				Contexts: []*planner.ContextInput{{Variable: "c", Type: "String", TypeName: entity, Self: c.self, Types: types, Sources: c.sources}},
			}
			e.entityFetch(&planner.Flatten{Path: c.path, Node: f})
			var got []string
			walkPath(e.data, c.path, func(obj *jsonvalue.Value) { got = append(got, obj.Get("v").Str()) })
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("answers\n got %q\nwant %q", got, c.want)
			}
			var vars []string
			for _, s := range tr.sent {
				v := fastjson.MustParse(s)
				v.Del("representations")
				vars = append(vars, v.String())
			}
			sort.Strings(vars)
			want := append([]string(nil), c.wantVars...)
			sort.Strings(want)
			if strings.Join(vars, " ") != strings.Join(want, " ") {
				t.Errorf("requests' variables\n got %v\nwant %v", vars, want)
			}
		})
	}
}

// TestContextEntityFetchManyValues sends a fetch whose objects all have
// different context values: one request each, every object answered,
// and no more than maxContextCalls requests in flight at once.
func TestContextEntityFetchManyValues(t *testing.T) {
	const n = 50
	tr := &gatedTransport{inner: &contextTransport{}}
	e := &execution{ctx: context.Background(), transport: tr}
	defer e.release()
	e.data = usersWithPosts(n)
	path := []string{"users", "@", "posts", "@"}
	f := &planner.Fetch{Subgraph: "sg", OperationKind: "query", Operation: `query{_entities}`,
		Requires: []*planner.Requirement{{TypeName: "Post", RepresentationType: "Post", Fields: []*planner.RequiredField{{Name: "id", Key: "id"}}}},
		Contexts: []*planner.ContextInput{{Variable: "c", Type: "String", TypeName: "Post",
			Sources: []*planner.ContextSource{{TypeName: "User", Fields: []*planner.RequiredField{{Name: "locale", Key: "locale"}}}}}}}
	e.entityFetch(&planner.Flatten{Path: path, Node: f})
	i := 0
	walkPath(e.data, path, func(obj *jsonvalue.Value) {
		if got, want := obj.Get("v").Str(), `"l`+strconv.Itoa(i)+`"/`+strconv.Itoa(i); got != want {
			t.Errorf("object %d: %q, want %q", i, got, want)
		}
		i++
	})
	if len(tr.inner.sent) != n {
		t.Errorf("%d requests, want %d", len(tr.inner.sent), n)
	}
	if tr.max > maxContextCalls {
		t.Errorf("%d requests in flight at once, want at most %d", tr.max, maxContextCalls)
	}
}

// gatedTransport counts the requests in flight.
type gatedTransport struct {
	inner    *contextTransport
	mu       sync.Mutex
	now, max int
}

func (t *gatedTransport) Fetch(ctx context.Context, sg string, req *Request) (*Response, error) {
	t.mu.Lock()
	t.now++
	if t.now > t.max {
		t.max = t.now
	}
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		t.now--
		t.mu.Unlock()
	}()
	return t.inner.Fetch(ctx, sg, req)
}

// aliasTransport answers aliased _entities calls: for every variable
// <prefix>r<i>, the field _<i> with {"v": "<value of <prefix>c<i>_0>/<id>"}
// per representation, and an error at the first answer of _1.
type aliasTransport struct {
	prefix string
	sent   []string
}

func (t *aliasTransport) Fetch(_ context.Context, _ string, req *Request) (*Response, error) {
	body := fastjson.MustParseBytes(req.Body)
	t.sent = append(t.sent, string(req.Body))
	vars := body.Get("variables")
	var fields []string
	for i := 0; ; i++ {
		reps := vars.Get(t.prefix + "r" + strconv.Itoa(i))
		if reps == nil {
			break
		}
		c := "absent"
		if v := vars.Get(t.prefix + "c" + strconv.Itoa(i) + "_0"); v != nil {
			c = v.String()
		}
		var out []string
		for _, rep := range reps.GetArray() {
			out = append(out, `{"v":`+strconv.Quote(c+"/"+string(rep.GetStringBytes("id")))+`}`)
		}
		fields = append(fields, `"_`+strconv.Itoa(i)+`":[`+strings.Join(out, ",")+`]`)
	}
	return &Response{Body: []byte(`{"data":{` + strings.Join(fields, ",") + `},"errors":[{"message":"x","path":["_1",0,"v"]}]}`)}, nil
}

// TestContextEntityFetchAliased sends objects with two context values in
// one request, one aliased _entities field each, with variables named
// apart from the client's, and re-paths an error of the second field to
// its object.
func TestContextEntityFetchAliased(t *testing.T) {
	for _, clientVar := range []string{"v", "_fed_r0"} {
		t.Run(clientVar, func(t *testing.T) {
			prefix := "_fed_"
			if strings.HasPrefix(clientVar, prefix) {
				prefix = "_fed__"
			}
			tr := &aliasTransport{prefix: prefix}
			e := &execution{ctx: context.Background(), transport: tr}
			defer e.release()
			e.vars = mustParse(`{"` + clientVar + `":true}`)
			e.data = mustParse(`{"users":[{"__typename":"User","locale":"en","posts":[{"__typename":"Post","id":"1"}]},` +
				`{"__typename":"User","locale":"fr","posts":[{"__typename":"Post","id":"1"},{"__typename":"Post","id":"2"}]}]}`)
			path := []string{"users", "@", "posts", "@"}
			f := &planner.Fetch{Subgraph: "sg", OperationKind: "query", OperationName: "Q",
				Operation:      `query Q($representations:[_Any!]!,$c:String,$` + clientVar + `:Boolean){_entities(representations:$representations){...on Post{v(c:$c,u:$` + clientVar + `)}}}`,
				VariableUsages: []string{clientVar},
				Requires: []*planner.Requirement{{TypeName: "Post", RepresentationType: "Post",
					Fields: []*planner.RequiredField{{Name: "id", Key: "id"}}}},
				Contexts: []*planner.ContextInput{{Variable: "c", Type: "String", TypeName: "Post", Types: []string{"User"},
					Sources: []*planner.ContextSource{{TypeName: "User", Fields: []*planner.RequiredField{{Name: "locale", Key: "locale"}}}}}},
				ContextTemplate: &planner.ContextTemplate{Head: "query Q", Vars: ",$" + clientVar + ":Boolean",
					Parts: []string{"...on Post{v(c:", ",u:$" + clientVar + ")}"}, Uses: []int{0}},
			}
			e.entityFetch(&planner.Flatten{Path: path, Node: f})
			if len(tr.sent) != 1 {
				t.Fatalf("%d requests, want 1", len(tr.sent))
			}
			body := fastjson.MustParse(tr.sent[0])
			p := prefix
			wantOp := `query Q($` + p + `r0:[_Any!]!,$` + p + `c0_0:String,$` + p + `r1:[_Any!]!,$` + p + `c1_0:String,$` + clientVar + `:Boolean){` +
				`_0:_entities(representations:$` + p + `r0){...on Post{v(c:$` + p + `c0_0,u:$` + clientVar + `)}} ` +
				`_1:_entities(representations:$` + p + `r1){...on Post{v(c:$` + p + `c1_0,u:$` + clientVar + `)}} }`
			if got := string(body.GetStringBytes("query")); got != wantOp {
				t.Errorf("operation\n got %s\nwant %s", got, wantOp)
			}
			if got := body.Get("variables", clientVar); got == nil || got.String() != "true" {
				t.Errorf("client variable %s: %v", clientVar, got)
			}
			var got []string
			walkPath(e.data, path, func(obj *jsonvalue.Value) { got = append(got, obj.Get("v").Str()) })
			if want := []string{`"en"/1`, `"fr"/1`, `"fr"/2`}; !slices.Equal(got, want) {
				t.Errorf("answers %q, want %q", got, want)
			}
			if len(e.errors) != 1 || fmt.Sprint(e.errors[0].Path) != "[users 1 posts 0 v]" {
				t.Errorf("errors %+v, want one at users.1.posts.0.v", e.errors)
			}
		})
	}
}

// TestContextEntityFetchAliasedChunks sends a fetch whose objects have
// more sets of values than one request may ask: requests of at most
// maxSetsPerCall aliased fields, every object answered with its own value.
func TestContextEntityFetchAliasedChunks(t *testing.T) {
	const n = 2*maxSetsPerCall + 3
	tr := &lockedAliasTransport{inner: &aliasTransport{prefix: "_fed_"}}
	e := &execution{ctx: context.Background(), transport: tr}
	defer e.release()
	e.data = usersWithPosts(n)
	path := []string{"users", "@", "posts", "@"}
	f := &planner.Fetch{Subgraph: "sg", OperationKind: "query", Operation: `query{_entities}`,
		Requires: []*planner.Requirement{{TypeName: "Post", RepresentationType: "Post", Fields: []*planner.RequiredField{{Name: "id", Key: "id"}}}},
		Contexts: []*planner.ContextInput{{Variable: "c", Type: "String", TypeName: "Post", Types: []string{"User"},
			Sources: []*planner.ContextSource{{TypeName: "User", Fields: []*planner.RequiredField{{Name: "locale", Key: "locale"}}}}}},
		ContextTemplate: &planner.ContextTemplate{Head: "query", Parts: []string{"...on Post{v(c:", ")}"}, Uses: []int{0}}}
	e.entityFetch(&planner.Flatten{Path: path, Node: f})
	if got, want := len(tr.inner.sent), (n+maxSetsPerCall-1)/maxSetsPerCall; got != want {
		t.Errorf("%d requests, want %d", got, want)
	}
	i := 0
	walkPath(e.data, path, func(obj *jsonvalue.Value) {
		if got, want := obj.Get("v").Str(), `"l`+strconv.Itoa(i)+`"/`+strconv.Itoa(i); got != want {
			t.Errorf("object %d: %q, want %q", i, got, want)
		}
		i++
	})
	if i != n {
		t.Errorf("%d objects, want %d", i, n)
	}
}

// lockedAliasTransport serializes an aliasTransport's requests.
type lockedAliasTransport struct {
	mu    sync.Mutex
	inner *aliasTransport
}

func (t *lockedAliasTransport) Fetch(ctx context.Context, sg string, req *Request) (*Response, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.inner.Fetch(ctx, sg, req)
}

// usersWithPosts is the data of n users, user i with locale "l<i>" and
// one post with id "<i>".
func usersWithPosts(n int) *jsonvalue.Value {
	var b strings.Builder
	b.WriteString(`{"users":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"__typename":"User","locale":"l` + strconv.Itoa(i) + `","posts":[{"__typename":"Post","id":"` + strconv.Itoa(i) + `"}]}`)
	}
	b.WriteString(`]}`)
	return mustParse(b.String())
}
