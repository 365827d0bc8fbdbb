package executor

import (
	"context"
	"testing"

	"github.com/fedgate/gateway/planner"
)

// panicTransport panics on every fetch, as a hook (pkg/hooks) at a
// Subgraph stage with a bug does inside the transport.
type panicTransport struct{}

func (panicTransport) Fetch(context.Context, string, *Request) (*Response, error) {
	panic("a hook's bug")
}

// TestContextEntityFetchPanic: the entity fetches of a field with
// @fromContext run in goroutines of their own, one per set of context
// values (one request each, or aliased calls of up to maxSetsPerCall
// sets). A panic there must stay an error of the request, as in a
// Parallel branch or a deferred part; before, it ended the process.
func TestContextEntityFetchPanic(t *testing.T) {
	post := func(id string) string { return `{"__typename":"Post","id":"` + id + `"}` }
	data := `{"users":[{"__typename":"User","locale":"en","posts":[` + post("1") + `]},` +
		`{"__typename":"User","locale":"fr","posts":[` + post("2") + `]}]}`
	path := []string{"users", "@", "posts", "@"}
	sources := []*planner.ContextSource{{TypeName: "User", Fields: []*planner.RequiredField{{Name: "locale", Key: "locale"}}}}
	for _, tc := range []struct {
		name     string
		template *planner.ContextTemplate
	}{
		{"one call per set of values", nil},
		{"aliased calls", &planner.ContextTemplate{Head: "query Q", Parts: []string{"...on Post{v(c:", ")}"}, Uses: []int{0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &execution{ctx: context.Background(), transport: panicTransport{}}
			defer e.release()
			e.data = mustParse(data)
			f := &planner.Fetch{Subgraph: "sg", OperationKind: "query",
				Operation: `query($representations:[_Any!]!,$c:String){_entities(representations:$representations){...on Post{v(c:$c)}}}`,
				Requires: []*planner.Requirement{{TypeName: "Post", RepresentationType: "Post",
					Fields: []*planner.RequiredField{{Name: "id", Key: "id"}}}},
				Contexts:        []*planner.ContextInput{{Variable: "c", Type: "String", TypeName: "Post", Types: []string{"User"}, Sources: sources}},
				ContextTemplate: tc.template,
			}
			e.entityFetch(&planner.Flatten{Path: path, Node: f})
			if len(e.errors) == 0 || e.errors[0].Extensions["code"] != "INTERNAL_SERVER_ERROR" {
				t.Fatalf("errors %v, want an INTERNAL_SERVER_ERROR", e.errors)
			}
		})
	}
}
