package executor

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/fedgate/gateway/internal/jsonvalue"
	"github.com/fedgate/gateway/planner"
	"github.com/valyala/fastjson"
)

// oneAnswerTransport answers every request with answer and keeps the
// bodies it was sent.
type oneAnswerTransport struct {
	answer string
	sent   []string
}

func (t *oneAnswerTransport) Fetch(_ context.Context, _ string, req *Request) (*Response, error) {
	t.sent = append(t.sent, string(req.Body))
	return &Response{Body: []byte(t.answer)}, nil
}

// usersAndProducts is an entity fetch wanting Users and Products, both
// keyed by id, so that equal keys of different types meet in one batch.
func usersAndProducts() *planner.Fetch {
	key := func(typename string) *planner.Requirement {
		return &planner.Requirement{TypeName: typename, RepresentationType: typename,
			Fields: []*planner.RequiredField{{Name: "id", Key: "id"}}}
	}
	return &planner.Fetch{
		Subgraph:      "sg",
		OperationKind: "query",
		Operation:     `query Q($representations:[_Any!]!){_entities(representations:$representations){...on User{name} ...on Product{name}}}`,
		Requires:      []*planner.Requirement{key("User"), key("Product")},
	}
}

// TestEntityFetchRepresentations runs one entity fetch over the objects of
// data.list: each distinct representation is sent once, every object gets
// the answer of its own representation, and errors are re-pathed to every
// object of their representation (each has the failed field null, as the
// references answer: differential seed 31337, fixture override_plain,
// `{ account(id: "5") { price } a18: account(id: $v) { price } }` with v
// "5" and price failing, the error at both paths).
func TestEntityFetchRepresentations(t *testing.T) {
	u := func(id string) string { return `{"__typename":"User","id":` + id + `}` }
	p := func(id string) string { return `{"__typename":"Product","id":` + id + `}` }
	cases := []struct {
		name, list, answer string
		wantReps           string
		wantList           string
		wantErrPaths       [][]any
	}{
		{name: "repeated representation",
			list:     `[` + u(`"1"`) + `,` + u(`"1"`) + `,` + u(`"2"`) + `,` + u(`"1"`) + `]`,
			answer:   `{"data":{"_entities":[{"name":"a"},{"name":"b"}]}}`,
			wantReps: `[` + u(`"1"`) + `,` + u(`"2"`) + `]`,
			wantList: `[{"__typename":"User","id":"1","name":"a"},{"__typename":"User","id":"1","name":"a"},{"__typename":"User","id":"2","name":"b"},{"__typename":"User","id":"1","name":"a"}]`},
		{name: "repeats not in a row",
			list:     `[` + u(`"1"`) + `,` + u(`"2"`) + `,` + u(`"2"`) + `,` + u(`"1"`) + `,` + u(`"2"`) + `]`,
			answer:   `{"data":{"_entities":[{"name":"a"},{"name":"b"}]}}`,
			wantReps: `[` + u(`"1"`) + `,` + u(`"2"`) + `]`,
			wantList: `[{"__typename":"User","id":"1","name":"a"},{"__typename":"User","id":"2","name":"b"},{"__typename":"User","id":"2","name":"b"},{"__typename":"User","id":"1","name":"a"},{"__typename":"User","id":"2","name":"b"}]`},
		{name: "equal keys in different types",
			list:     `[` + u(`"1"`) + `,` + p(`"1"`) + `,` + u(`"1"`) + `,` + p(`1`) + `]`,
			answer:   `{"data":{"_entities":[{"name":"user"},{"name":"product"},{"name":"number"}]}}`,
			wantReps: `[` + u(`"1"`) + `,` + p(`"1"`) + `,` + p(`1`) + `]`,
			wantList: `[{"__typename":"User","id":"1","name":"user"},{"__typename":"Product","id":"1","name":"product"},{"__typename":"User","id":"1","name":"user"},{"__typename":"Product","id":1,"name":"number"}]`},
		{name: "equal text of different types in a row",
			list:     `[` + u(`"1"`) + `,` + u(`1`) + `,` + u(`1`) + `,` + u(`"1"`) + `,` + u(`true`) + `,` + u(`"true"`) + `]`,
			answer:   `{"data":{"_entities":[{"name":"s"},{"name":"n"},{"name":"b"},{"name":"t"}]}}`,
			wantReps: `[` + u(`"1"`) + `,` + u(`1`) + `,` + u(`true`) + `,` + u(`"true"`) + `]`,
			wantList: `[{"__typename":"User","id":"1","name":"s"},{"__typename":"User","id":1,"name":"n"},{"__typename":"User","id":1,"name":"n"},{"__typename":"User","id":"1","name":"s"},{"__typename":"User","id":true,"name":"b"},{"__typename":"User","id":"true","name":"t"}]`},
		{name: "escaped and plain text in a row are one representation",
			list:     `[` + u(`"a"`) + `,` + u(`"\u0061"`) + `,` + u(`"1.0"`) + `,` + u(`1.0`) + `,` + u(`1`) + `]`,
			answer:   `{"data":{"_entities":[{"name":"a"},{"name":"s"},{"name":"f"},{"name":"i"}]}}`,
			wantReps: `[` + u(`"a"`) + `,` + u(`"1.0"`) + `,` + u(`1.0`) + `,` + u(`1`) + `]`,
			wantList: `[{"__typename":"User","id":"a","name":"a"},{"__typename":"User","id":"a","name":"a"},{"__typename":"User","id":"1.0","name":"s"},{"__typename":"User","id":1.0,"name":"f"},{"__typename":"User","id":1,"name":"i"}]`},
		{name: "objects or missing keys in a row",
			list:     `[` + u(`{"a":1}`) + `,` + u(`{"a":1}`) + `,{"__typename":"User"},{"__typename":"User"},{"id":"1"},{"id":"1"}]`,
			answer:   `{"data":{"_entities":[{"name":"o"}]}}`,
			wantReps: `[` + u(`{"a":1}`) + `]`,
			wantList: `[{"__typename":"User","id":{"a":1},"name":"o"},{"__typename":"User","id":{"a":1},"name":"o"},{"__typename":"User"},{"__typename":"User"},{"id":"1"},{"id":"1"}]`},
		{name: "key missing or null",
			list:     `[{"__typename":"User"},` + u(`null`) + `,` + u(`"1"`) + `,{"__typename":"User"}]`,
			answer:   `{"data":{"_entities":[{"name":"null"},{"name":"a"}]}}`,
			wantReps: `[` + u(`null`) + `,` + u(`"1"`) + `]`,
			wantList: `[{"__typename":"User"},{"__typename":"User","id":null,"name":"null"},{"__typename":"User","id":"1","name":"a"},{"__typename":"User"}]`},
		{name: "type the fetch does not want",
			list:     `[{"__typename":"Review","id":"1"},` + u(`"1"`) + `]`,
			answer:   `{"data":{"_entities":[{"name":"a"}]}}`,
			wantReps: `[` + u(`"1"`) + `]`,
			wantList: `[{"__typename":"Review","id":"1"},{"__typename":"User","id":"1","name":"a"}]`},
		{name: "null answer leaves its objects alone",
			list:         `[` + u(`"1"`) + `,` + u(`"2"`) + `,` + u(`"1"`) + `]`,
			answer:       `{"data":{"_entities":[null,{"name":"b"}]},"errors":[{"message":"gone","path":["_entities",0,"name"]}]}`,
			wantReps:     `[` + u(`"1"`) + `,` + u(`"2"`) + `]`,
			wantList:     `[{"__typename":"User","id":"1"},{"__typename":"User","id":"2","name":"b"},{"__typename":"User","id":"1"}]`,
			wantErrPaths: [][]any{{"list", 0, "name"}, {"list", 2, "name"}}},
		{name: "typename at another place in a row",
			list:     `[` + u(`"1"`) + `,{"id":"1","__typename":"User"},{"id":"1","__typename":"Product"},` + p(`"1"`) + `]`,
			answer:   `{"data":{"_entities":[{"name":"u"},{"name":"p"}]}}`,
			wantReps: `[` + u(`"1"`) + `,` + p(`"1"`) + `]`,
			wantList: `[{"__typename":"User","id":"1","name":"u"},{"id":"1","__typename":"User","name":"u"},{"id":"1","__typename":"Product","name":"p"},{"__typename":"Product","id":"1","name":"p"}]`},
		{name: "typename that is no string",
			list:     `[{"__typename":1,"id":"1"},{"__typename":1,"id":"1"},` + u(`"1"`) + `]`,
			answer:   `{"data":{"_entities":[{"name":"u"}]}}`,
			wantReps: `[` + u(`"1"`) + `]`,
			wantList: `[{"__typename":1,"id":"1"},{"__typename":1,"id":"1"},{"__typename":"User","id":"1","name":"u"}]`},
		{name: "errors re-pathed to every object of their representation",
			list:         `[` + u(`"1"`) + `,` + u(`"1"`) + `,` + u(`"2"`) + `,` + u(`"2"`) + `]`,
			answer:       `{"data":{"_entities":[{"name":"a"},{"name":null}]},"errors":[{"message":"x","path":["_entities",1,"name"]},{"message":"y","path":["_entities",7]},{"message":"z","path":["_entities",0]}]}`,
			wantReps:     `[` + u(`"1"`) + `,` + u(`"2"`) + `]`,
			wantList:     `[{"__typename":"User","id":"1","name":"a"},{"__typename":"User","id":"1","name":"a"},{"__typename":"User","id":"2","name":null},{"__typename":"User","id":"2","name":null}]`,
			wantErrPaths: [][]any{{"list", 2, "name"}, {"list", 3, "name"}, {"list"}, {"list", 0}, {"list", 1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, tr := runEntityFetch(t, `{"list":`+c.list+`}`, c.answer)
			defer e.release()
			if len(tr.sent) != 1 {
				t.Fatalf("sent %d requests, want 1", len(tr.sent))
			}
			body := fastjson.MustParse(tr.sent[0])
			if got := body.Get("variables", "representations").String(); got != c.wantReps {
				t.Errorf("representations\n got %s\nwant %s", got, c.wantReps)
			}
			if got := e.data.Get("list").String(); got != c.wantList {
				t.Errorf("data\n got %s\nwant %s", got, c.wantList)
			}
			var paths [][]any
			for _, err := range e.errors {
				paths = append(paths, err.Path)
			}
			if !reflect.DeepEqual(paths, c.wantErrPaths) {
				t.Errorf("error paths %v, want %v", paths, c.wantErrPaths)
			}
		})
	}
}

// TestEntityErrorCopiesBounded: a subgraph answering many errors for a
// representation that feeds many objects gets each repeated at those
// objects only up to maxErrorCopies more errors per fetch, not their
// product.
func TestEntityErrorCopiesBounded(t *testing.T) {
	const objects, errs = 300, 50
	list := strings.Repeat(`{"__typename":"User","id":"1"},`, objects)
	var answer strings.Builder
	answer.WriteString(`{"data":{"_entities":[{"name":null}]},"errors":[`)
	for i := 0; i < errs; i++ {
		if i > 0 {
			answer.WriteByte(',')
		}
		fmt.Fprintf(&answer, `{"message":"e%d","path":["_entities",0,"name"]}`, i)
	}
	answer.WriteString(`]}`)
	e, _ := runEntityFetch(t, `{"list":[`+strings.TrimSuffix(list, ",")+`]}`, answer.String())
	defer e.release()
	if want := errs + maxErrorCopies; len(e.errors) != want {
		t.Fatalf("%d errors, want %d (each error once, plus %d copies)", len(e.errors), want, maxErrorCopies)
	}
	if got := e.errors[1].Path; !reflect.DeepEqual(got, []any{"list", 1, "name"}) {
		t.Errorf("second error at %v, want the first error's copy at [list 1 name]", got)
	}
}

// TestEntityErrorSpentBoundCostsNoPaths: once a batch has repeated
// maxErrorCopies errors, a further error of a representation that feeds
// many objects is re-pathed to its first object alone; the paths of the
// others, which would be dropped, are not built (a hostile subgraph's
// many errors would otherwise cost errors × objects paths).
func TestEntityErrorSpentBoundCostsNoPaths(t *testing.T) {
	for _, objects := range []int{10, 1000} {
		e := &execution{ctx: context.Background()}
		e.data = mustParse(`{"list":[` + strings.TrimSuffix(strings.Repeat(`{"__typename":"User","id":"1"},`, objects), ",") + `]}`)
		batch := &entityBatch{index: map[string]int{}}
		for _, obj := range e.data.Get("list").Array() {
			batch.put(obj, []byte(`{"__typename":"User","id":"1"}`), false)
		}
		batch.errorCopies = maxErrorCopies
		ev := mustParse(`{"message":"x","path":["_entities",0,"name"]}`)
		f := usersAndProducts()
		paths := [][]string{{"list", "@"}}
		allocs := testing.AllocsPerRun(20, func() {
			e.errors = e.errors[:0]
			e.entityError(f, paths, batch, ev, "_entities")
		})
		if len(e.errors) != 1 || !reflect.DeepEqual(e.errors[0].Path, []any{"list", 0, "name"}) {
			t.Fatalf("%d objects: errors %v, want one at [list 0 name]", objects, e.errors)
		}
		// The walk itself allocates a few path steps per object; a
		// built path is at least two allocations more per object.
		if limit := float64(2*objects + 40); allocs > limit {
			t.Errorf("%d objects: %.0f allocations for one error past the bound, want at most %.0f", objects, allocs, limit)
		}
	}
}

// TestEntityAnswerSharing checks what the objects of one representation
// share of its answer: leaves may be shared, but an object or list in the
// answer must be a copy of its own for each object, or a later fetch (or
// null propagation) along one object's path would change the others.
func TestEntityAnswerSharing(t *testing.T) {
	u := `{"__typename":"User","id":"1"}`
	cases := []struct {
		name, answer string
		key          string // a member of the answer each object must own
	}{
		{name: "object member", answer: `{"data":{"_entities":[{"name":"a","best":{"id":"9"}}]}}`, key: "best"},
		{name: "list member", answer: `{"data":{"_entities":[{"name":"a","tags":[{"t":1}]}]}}`, key: "tags"},
		{name: "leaves only", answer: `{"data":{"_entities":[{"name":"a","age":3}]}}`},
	}
	for _, c := range cases {
		for _, cached := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/cached=%v", c.name, cached), func(t *testing.T) {
				entitySharing(t, `{"list":[`+u+`,`+u+`,`+u+`]}`, c.answer, c.key, cached)
			})
		}
	}
}

// fixedCache is an entity cache holding answer for every representation.
type fixedCache struct{ answer []byte }

func (c fixedCache) Get(_ context.Context, _ *planner.Fetch, _ []byte, reps [][]byte) []CachedEntity {
	out := make([]CachedEntity, len(reps))
	for i := range out {
		out[i].Body = c.answer
	}
	return out
}

func (fixedCache) Put(context.Context, *planner.Fetch, []byte, [][]byte, [][]byte, string) {}

// entitySharing runs the fetch of TestEntityAnswerSharing, with the
// answer from the subgraph or from the entity cache, and checks that
// every object got it and that no two objects share their member key.
func entitySharing(t *testing.T, data, answer, key string, cached bool) {
	t.Helper()
	var cache EntityCache
	if cached {
		cache = fixedCache{answer: []byte(mustParse(answer).Get("data").Get("_entities").Array()[0].String())}
	}
	e, tr := runEntityFetchCached(t, data, answer, cache)
	defer e.release()
	if cached && len(tr.sent) != 0 {
		t.Fatalf("asked the subgraph despite the cache: %v", tr.sent)
	}
	list := e.data.Get("list").Array()
	want := list[0].String()
	if !strings.Contains(want, `"name":"a"`) {
		t.Fatalf("object 0 is %s: no answer merged", want)
	}
	for i, obj := range list {
		if obj.String() != want {
			t.Errorf("object %d is %s, want %s", i, obj, want)
		}
		if key == "" {
			continue
		}
		for j := 0; j < i; j++ {
			if list[j].Get(key) == obj.Get(key) {
				t.Errorf("objects %d and %d share their %q", j, i, key)
			}
		}
	}
}

// runEntityFetch runs usersAndProducts over the objects at data.list,
// answered with answer.
func runEntityFetch(t *testing.T, data, answer string) (*execution, *oneAnswerTransport) {
	t.Helper()
	return runEntityFetchCached(t, data, answer, nil)
}

// runEntityFetchCached is runEntityFetch with an entity cache (nil: none).
func runEntityFetchCached(t *testing.T, data, answer string, cache EntityCache) (*execution, *oneAnswerTransport) {
	t.Helper()
	tr := &oneAnswerTransport{answer: answer}
	e := &execution{ctx: context.Background(), transport: tr, entities: cache}
	v, err := new(jsonvalue.Parser).Parse([]byte(data))
	if err != nil {
		t.Fatal(fmt.Errorf("data: %w", err))
	}
	e.data = v
	path := []string{"list", "@"}
	e.entityFetch(&planner.Flatten{Path: path, Node: usersAndProducts()})
	return e, tr
}

// mustParse parses s with a parser of its own (test only).
func mustParse(s string) *jsonvalue.Value {
	v, err := new(jsonvalue.Parser).Parse([]byte(s))
	if err != nil {
		panic(err)
	}
	return v
}

// TestRepMemo: an object the memo calls the same as the one it remembers
// has the same representation; where it cannot tell it says so (false),
// and representation decides.
func TestRepMemo(t *testing.T) {
	idKey := func(typename string) *planner.Requirement {
		return &planner.Requirement{TypeName: typename, RepresentationType: typename,
			Fields: []*planner.RequiredField{{Name: "id", Key: "id"}}}
	}
	two := &planner.Fetch{Requires: []*planner.Requirement{idKey("User"), idKey("Product")}}
	untyped := &planner.Fetch{Requires: []*planner.Requirement{idKey("")}}
	compound := &planner.Fetch{Requires: []*planner.Requirement{{TypeName: "P", RepresentationType: "P",
		Fields: []*planner.RequiredField{{Name: "upc", Key: "upc"}, {Name: "sku", Key: "s"}}}}}
	nested := &planner.Fetch{Requires: []*planner.Requirement{{TypeName: "P", RepresentationType: "P",
		Fields: []*planner.RequiredField{{Name: "dim", Key: "dim", Fields: []*planner.RequiredField{{Name: "w", Key: "w"}}}}}}}
	conditioned := &planner.Fetch{Requires: []*planner.Requirement{{TypeName: "P", RepresentationType: "P",
		Fields: []*planner.RequiredField{{Name: "id", Key: "id", TypeCondition: "P"}}}}}
	for _, tc := range []struct {
		name      string
		f         *planner.Fetch
		prev, obj string
		want      bool
	}{
		{"same", two, `{"__typename":"User","id":"1"}`, `{"__typename":"User","id":"1","x":2}`, true},
		{"typename elsewhere", two, `{"__typename":"User","id":"1"}`, `{"id":"1","__typename":"User"}`, true},
		{"other id", two, `{"__typename":"User","id":"1"}`, `{"__typename":"User","id":"2"}`, false},
		{"other type", two, `{"__typename":"User","id":"1"}`, `{"__typename":"Product","id":"1"}`, false},
		{"number and string", two, `{"__typename":"User","id":"1"}`, `{"__typename":"User","id":1}`, false},
		{"same number text", two, `{"__typename":"User","id":1.50}`, `{"__typename":"User","id":1.50}`, true},
		{"other number text", two, `{"__typename":"User","id":1.5}`, `{"__typename":"User","id":1.50}`, false},
		{"missing id", two, `{"__typename":"User","id":"1"}`, `{"__typename":"User"}`, false},
		{"object id", two, `{"__typename":"User","id":{"a":1}}`, `{"__typename":"User","id":{"a":1}}`, false},
		{"typename no string", two, `{"__typename":1,"id":"1"}`, `{"__typename":1,"id":"1"}`, false},
		{"no typename, one requirement", untyped, `{"id":"1"}`, `{"id":"1"}`, true},
		{"typename in one only", untyped, `{"id":"1"}`, `{"__typename":"","id":"1"}`, false},
		{"compound same", compound, `{"__typename":"P","upc":"a","s":2}`, `{"__typename":"P","s":2,"upc":"a"}`, true},
		{"compound differs", compound, `{"__typename":"P","upc":"a","s":2}`, `{"__typename":"P","upc":"a","s":3}`, false},
		{"nested selection", nested, `{"__typename":"P","dim":{"w":1}}`, `{"__typename":"P","dim":{"w":1}}`, false},
		{"type condition", conditioned, `{"__typename":"P","id":"1"}`, `{"__typename":"P","id":"1"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &execution{}
			prev, obj := mustParse(tc.prev), mustParse(tc.obj)
			var m repMemo
			m.set(tc.f, prev)
			got := m.same(obj)
			if got != tc.want {
				t.Fatalf("same = %v, want %v", got, tc.want)
			}
			if got {
				a, b := e.representation(nil, tc.f, prev), e.representation(nil, tc.f, obj)
				if a == nil || string(a) != string(b) {
					t.Fatalf("called the same, but representations %s and %s", a, b)
				}
			}
		})
	}
}
