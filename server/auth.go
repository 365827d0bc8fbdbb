package server

import (
	"context"
	"net/http"
	"sync"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/executor"
)

// security is what the server builds from Options.Auth: the
// authenticator, the header rules and CORS. The authorizer belongs to a
// supergraph version and lives in the runtime.
type security struct {
	authn  *auth.Authenticator
	prop   *auth.Propagation
	cors   *auth.CORS
	cancel context.CancelFunc
}

// newSecurity builds the security stages of cfg and fetches the key sets
// once (their refresh runs until Close). credentials are the request
// headers besides the token's that carry credentials (an API key's):
// header rules forward them only when they name them.
func newSecurity(cfg auth.Config, credentials ...string) (*security, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	authn, err := auth.NewAuthenticator(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	authn.Start(ctx)
	return &security{authn: authn, prop: auth.NewPropagation(cfg.Headers, append(credentials, cfg.JWT.Header)...), cors: auth.NewCORS(cfg.CORS), cancel: cancel}, nil
}

// Close stops the background work of the server: key set refreshes, the
// caches and the entity invalidation listener. Requests still running are
// served uncached.
func (s *Server) Close() {
	if s.sec != nil && s.sec.cancel != nil {
		s.sec.cancel()
	}
	s.closeCaches()
	s.ext.close()
}

// subgraphHeaders sets the headers subgraph requests carry, following the
// header rules: one set for every subgraph, or one per subgraph (built
// when first needed) when some subgraph has rules of its own.
func (s *Server) subgraphHeaders(in *executor.Input, r *http.Request) {
	p := s.sec.prop
	if p == nil {
		return
	}
	caller := auth.CallerFrom(r.Context())
	if !p.PerSubgraph() {
		in.Header = p.Header(r, caller, "")
		return
	}
	var mu sync.Mutex
	built := map[string]http.Header{}
	in.HeaderFor = func(subgraph string) http.Header {
		mu.Lock()
		defer mu.Unlock()
		h, ok := built[subgraph]
		if !ok {
			h = p.Header(r, caller, subgraph)
			built[subgraph] = h
		}
		return h
	}
}
