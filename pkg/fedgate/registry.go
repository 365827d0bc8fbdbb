package fedgate

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/fedgate/gateway/schema"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs"
	"github.com/fedgate/gateway/subgraphs/registry"
)

// registryKeyPrefix starts every Redis key of the registry.
const registryKeyPrefix = "fedgate:registry:"

// openRegistry opens the registry's store (Redis when redis.url is set,
// else registry.dir) and returns it with the supergraph to serve: the
// registry's current one, or fallback while nothing is published.
func (p *gatewayProcess) openRegistry(ctx context.Context, fallback *schema.Supergraph) (*registry.Registry, *schema.Supergraph, error) {
	cfg := p.cfg.Registry
	var store registry.Store
	if p.redis != nil {
		store = registry.NewRedis(p.redis.Client(), registryKeyPrefix, cfg.PollInterval)
	} else {
		disk, err := registry.NewDisk(cfg.Dir, cfg.PollInterval)
		if err != nil {
			return nil, nil, fmt.Errorf("registry.dir: %w", err)
		}
		store = disk
	}
	reg := registry.New(registry.Options{Store: store, Baseline: fallback, Logger: p.tel.Logger,
		IntrospectHosts: p.cfg.Registry.IntrospectHosts, MaxSDLBytes: p.cfg.Registry.MaxSDLBytes})
	sg, err := reg.Load(ctx)
	if err != nil {
		return nil, nil, err
	}
	if sg == nil {
		served := "supergraph.path " + p.cfg.Supergraph.Path
		if p.cfg.Supergraph.Path == "" {
			served = "the embedded demo supergraph (no supergraph.path)"
		}
		slog.Info("registry is empty; serving " + served + " until a subgraph is published")
		return reg, fallback, nil
	}
	slog.Info("serving the registry's supergraph", "version", reg.Applied(), "subgraphs", len(sg.Graphs))
	return reg, sg, nil
}

// serveRegistry hot-swaps every new registry version into srv and serves
// the admin API on registry.listen, never the public listener.
func (p *gatewayProcess) serveRegistry(ctx context.Context, reg *registry.Registry, srv *server.Server, client *subgraphs.Client, overrides urlOverrides) error {
	ln, err := net.Listen("tcp", p.cfg.Registry.Listen)
	if err != nil {
		return fmt.Errorf("registry.listen: %w", err)
	}
	go reg.Run(ctx, p.swapper(srv, client, overrides))
	admin := http.NewServeMux()
	admin.Handle("/", reg.Handler(p.cfg.Registry.Token))
	// Entity cache invalidation, behind the same token.
	admin.Handle("/cache/invalidate", registry.RequireToken(p.cfg.Registry.Token, srv.InvalidationHandler()))
	hs := &http.Server{Handler: admin, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	go func() { _ = hs.Serve(ln) }()
	slog.Info("registry admin API listening", "addr", ln.Addr().String())
	return nil
}
