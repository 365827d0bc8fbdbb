// Package demo runs the four demo subgraphs (accounts, inventory, products,
// reviews) that the gateway is developed and tested against.
//
// Each subgraph is an Apollo Federation v2 gqlgen server over static,
// deterministic data; see the subpackages. Regenerate their code with
//
//	go generate ./subgraphs/demo/...
//
// and recompose gateway.graphql with `make compose` (supergraph.yaml).
package demo

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/fedgate/gateway/subgraphs/demo/accounts"
	"github.com/fedgate/gateway/subgraphs/demo/inventory"
	"github.com/fedgate/gateway/subgraphs/demo/products"
	"github.com/fedgate/gateway/subgraphs/demo/reviews"
)

// Path is the HTTP path each subgraph serves GraphQL on.
const Path = "/graphql"

// Subgraph names a running demo subgraph and the URL of its GraphQL endpoint.
type Subgraph struct {
	Name string
	URL  string
}

// names lists the subgraphs in name order.
var names = []string{"accounts", "inventory", "products", "reviews"}

// newHandler returns a fresh handler for the named subgraph.
func newHandler(name string) http.Handler {
	switch name {
	case "accounts":
		return accounts.NewHandler()
	case "inventory":
		return inventory.NewHandler()
	case "products":
		return products.NewHandler()
	case "reviews":
		return reviews.NewHandler()
	}
	panic("demo: unknown subgraph " + name)
}

// Handlers returns a fresh GraphQL handler for each subgraph, keyed by name,
// for tests that serve them with httptest. The handlers do not route: mount
// them at Path or serve them directly.
func Handlers() map[string]http.Handler {
	hs := make(map[string]http.Handler, len(names))
	for _, name := range names {
		hs[name] = newHandler(name)
	}
	return hs
}

// shutdownTimeout bounds how long a subgraph waits for in-flight requests
// once ctx is cancelled.
const shutdownTimeout = 5 * time.Second

// Start serves every subgraph on its own random loopback port at Path and
// returns them sorted by name. The servers shut down when ctx is cancelled.
// If any fails to start, the ones already started are closed and Start
// returns the error.
func Start(ctx context.Context) ([]Subgraph, error) {
	var lc net.ListenConfig
	subgraphs := make([]Subgraph, 0, len(names))
	servers := make([]*http.Server, 0, len(names))
	for _, name := range names {
		ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			for _, srv := range servers {
				srv.Close()
			}
			return nil, fmt.Errorf("demo: listen for %s: %w", name, err)
		}
		mux := http.NewServeMux()
		mux.Handle(Path, newHandler(name))
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		subgraphs = append(subgraphs, Subgraph{Name: name, URL: "http://" + ln.Addr().String() + Path})
		// Serve returns http.ErrServerClosed on shutdown; any other error means
		// the listener broke, which callers see as connection errors.
		go func() { _ = srv.Serve(ln) }()
	}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		for _, srv := range servers {
			if err := srv.Shutdown(shutdownCtx); err != nil {
				srv.Close()
			}
		}
	}()
	return subgraphs, nil
}
