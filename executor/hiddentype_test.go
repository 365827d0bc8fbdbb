package executor_test

import (
	"testing"

	"github.com/fedgate/gateway/schema/compose"
)

// TestHiddenRuntimeTypeIsInvalid: an object whose runtime type the client
// schema does not have (an @inaccessible implementation, graphgen seed
// 1752) is null, an invalid value at its path (where fedgate answered
// {"data":null} and nothing at all until session 16): by default listed
// in extensions.valueCompletion with no error in "errors", also where
// the position is non-null and the null propagates (as Apollo Gateway:
// "Invalid __typename found ..." under extensions.valueCompletion; Hive
// Gateway writes "Cannot return null" there, nothing for a nullable
// position); with subgraphs.invalid_values: errors a field error, which
// covers the propagated null too.
func TestHiddenRuntimeTypeIsInvalid(t *testing.T) {
	const link = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@inaccessible"])
`
	res, err := compose.Compose([]compose.Subgraph{
		{Name: "a", URL: "http://127.0.0.1:4999/a", SDL: link + `type Query { media: [Media!]! one: Media }
interface Media { title: String }
type Book implements Media @inaccessible { title: String }
type Movie implements Media { title: String }`},
		{Name: "b", URL: "http://127.0.0.1:4999/b", SDL: link + `type Query { z: Int }`},
	})
	if err != nil {
		t.Fatal(err)
	}
	sg := res.Supergraph
	cases := []struct {
		name, query, answer, want string
	}{
		{name: "non-null list item",
			query:  `{ media { title } }`,
			answer: `{"data":{"media":[{"__typename":"Movie","title":"m"},{"__typename":"Book","title":"b"}]}}`,
			want:   `{"data":null,"errors":[{"message":"Invalid __typename found for object of type Media.","path":["media",1],"extensions":{"code":"INVALID_SUBGRAPH_RESPONSE"}}]}`},
		{name: "nullable field",
			query:  `{ one { title } }`,
			answer: `{"data":{"one":{"__typename":"Book","title":"b"}}}`,
			want:   `{"data":{"one":null},"errors":[{"message":"Invalid __typename found for object of type Media.","path":["one"],"extensions":{"code":"INVALID_SUBGRAPH_RESPONSE"}}]}`},
		{name: "a type the client schema has",
			query:  `{ one { title } }`,
			answer: `{"data":{"one":{"__typename":"Movie","title":"m"}}}`,
			want:   `{"data":{"one":{"title":"m"}}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkBothModes(t, sg, map[string][]string{"a": {c.answer}}, c.query, c.want)
		})
	}
}
