// Package accounts is the demo subgraph that owns users.
package accounts

import (
	_ "embed"
	"net/http"

	"github.com/fedgate/gateway/subgraphs/demo/accounts/generated"
	"github.com/fedgate/gateway/subgraphs/demo/internal/gqlserver"
)

// SDL is the subgraph schema, as served by `_service { sdl }`.
//
//go:embed schema.graphqls
var SDL string

// NewHandler returns the GraphQL handler of the accounts subgraph.
func NewHandler() http.Handler {
	return gqlserver.New(generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{}}))
}
