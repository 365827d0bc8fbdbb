// Package inventory is the demo subgraph that knows stock and shipping for
// products.
package inventory

import (
	_ "embed"
	"net/http"

	"github.com/fedgate/gateway/subgraphs/demo/internal/gqlserver"
	"github.com/fedgate/gateway/subgraphs/demo/inventory/generated"
)

// SDL is the subgraph schema, as served by `_service { sdl }`.
//
//go:embed schema.graphqls
var SDL string

// NewHandler returns the GraphQL handler of the inventory subgraph.
func NewHandler() http.Handler {
	return gqlserver.New(generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{}}))
}
