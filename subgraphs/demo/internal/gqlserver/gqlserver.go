// Package gqlserver wires a gqlgen executable schema into the HTTP handler
// that every demo subgraph serves.
package gqlserver

import (
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
)

// queryCacheSize bounds the parsed-document cache, which is keyed by the
// query string; gateways send a small, fixed set of operations.
const queryCacheSize = 256

// maxUploadBytes caps a multipart request to a demo subgraph; the
// gateway applies its own upload limits first.
const maxUploadBytes = 1 << 30

// New returns a handler for es that accepts GraphQL over GET and POST
// (JSON, and multipart file uploads),
// and subscriptions over WebSocket (graphql-transport-ws) and SSE.
//
// It is wired explicitly rather than with handler.NewDefaultServer: no
// persisted queries, and no playground.
// Introspection is enabled because gqlgen's federation runtime refuses to
// answer `_service { sdl }` when it is disabled.
func New(es graphql.ExecutableSchema) http.Handler {
	srv := handler.New(es)
	srv.AddTransport(transport.Websocket{KeepAlivePingInterval: 10 * time.Second})
	srv.AddTransport(transport.SSE{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	// File uploads (GraphQL multipart request spec): files past 1 MiB
	// wait in temporary files, not in memory.
	srv.AddTransport(transport.MultipartForm{MaxUploadSize: maxUploadBytes, MaxMemory: 1 << 20})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](queryCacheSize))
	srv.Use(extension.Introspection{})
	return srv
}
