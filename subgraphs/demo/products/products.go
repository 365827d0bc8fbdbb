// Package products is the demo subgraph that owns the catalogue: products,
// bundles and search.
package products

import (
	_ "embed"
	"net/http"

	"github.com/fedgate/gateway/subgraphs/demo/internal/gqlserver"
	"github.com/fedgate/gateway/subgraphs/demo/products/generated"
)

// SDL is the subgraph schema, as served by `_service { sdl }`.
//
//go:embed schema.graphqls
var SDL string

// NewHandler returns the GraphQL handler of the products subgraph.
func NewHandler() http.Handler {
	return gqlserver.New(generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{}}))
}
