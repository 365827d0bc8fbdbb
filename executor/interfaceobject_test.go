package executor_test

import (
	"context"
	"testing"

	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/planner"
	"github.com/vektah/gqlparser/v2"
)

// TestInterfaceObjectAnswerKeepsConcreteTypename: a subgraph that declares
// Media with @interfaceObject answers "Media" as the __typename of every
// entity it resolves. Merged into an object the plan already knows as a
// Book, that answer must not replace the concrete type; merged into an
// object known only as a Media (from that subgraph), a concrete answer of
// another subgraph does replace it.
func TestInterfaceObjectAnswerKeepsConcreteTypename(t *testing.T) {
	sg := loadSupergraph(t, "../testdata/supergraphs/iface_object.graphql")
	cases := []struct {
		name, query, rootGraph, root, entityGraph, entities, want string
		requires                                                  []*planner.Requirement
	}{
		{
			"concrete object, interface object answers",
			`{ library { __typename stars } }`,
			"media", `{"data":{"library":[{"__typename":"Book","id":"1"},{"__typename":"Movie","id":"2"}]}}`,
			"ratings", `{"data":{"_entities":[{"__typename":"Media","stars":4.5},{"__typename":"Media","stars":3}]}}`,
			`{"data":{"library":[{"__typename":"Book","stars":4.5},{"__typename":"Movie","stars":3}]}}`,
			[]*planner.Requirement{
				{TypeName: "Book", RepresentationType: "Media", Fields: []*planner.RequiredField{{Name: "id", Key: "id"}}},
				{TypeName: "Movie", RepresentationType: "Media", Fields: []*planner.RequiredField{{Name: "id", Key: "id"}}},
			},
		},
		{
			"interface object, concrete answer",
			`{ topRated { __typename title } }`,
			"ratings", `{"data":{"topRated":[{"__typename":"Media","id":"1"}]}}`,
			"media", `{"data":{"_entities":[{"__typename":"Book","title":"T"}]}}`,
			`{"data":{"topRated":[{"__typename":"Book","title":"T"}]}}`,
			[]*planner.Requirement{
				{TypeName: "Media", RepresentationType: "Media", Fields: []*planner.RequiredField{{Name: "id", Key: "id"}}},
				{TypeName: "Book", RepresentationType: "Media", Fields: []*planner.RequiredField{{Name: "id", Key: "id"}}},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQuery(sg.API, c.query)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			op, err := planner.Normalize(sg.API, doc, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			root := &planner.Fetch{Subgraph: c.rootGraph, OperationKind: "query", Operation: "{ irrelevant }"}
			ent := &planner.Fetch{Subgraph: c.entityGraph, OperationKind: "query",
				Operation: `query($representations:[_Any!]!){_entities(representations:$representations){__typename}}`,
				Requires:  c.requires}
			field := op.Selection.ByType[0].Fields[0].ResponseKey
			plan := &planner.Plan{Operation: op, Shape: shapeOf(t, op), Fetches: 2, Root: &planner.Sequence{Nodes: []planner.Node{root,
				&planner.Flatten{Path: []string{field, "@"}, Node: ent}}}}
			tr := &cannedTransport{answers: map[string][]string{c.rootGraph: {c.root}, c.entityGraph: {c.entities}}}
			if got := string(executor.Execute(context.Background(), plan, executor.Input{}, tr, nil)); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}
