// Package reviews is the demo subgraph that owns reviews and adds them to
// users and products.
package reviews

import (
	_ "embed"
	"net/http"

	"github.com/fedgate/gateway/subgraphs/demo/internal/gqlserver"
	"github.com/fedgate/gateway/subgraphs/demo/reviews/generated"
)

// SDL is the subgraph schema, as served by `_service { sdl }`.
//
//go:embed schema.graphqls
var SDL string

// NewHandler returns the GraphQL handler of the reviews subgraph.
func NewHandler() http.Handler { return NewHandlerWithFeed(NewFeed()) }

// NewHandlerWithFeed returns the handler of the reviews subgraph whose
// reviewAdded subscribers receive the reviews added to feed.
func NewHandlerWithFeed(feed *Feed) http.Handler {
	return gqlserver.New(generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{feed: feed}}))
}
