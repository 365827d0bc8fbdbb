package fedgate

import (
	"log/slog"
	"maps"
	"math"
	"os"
	"runtime/debug"
	"sync/atomic"

	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs/wsclient"
	"github.com/fedgate/gateway/subscriptions"
)

// subgraphURLs holds the HTTP URLs of the subgraphs being served (a reload
// replaces them); subscriptions dial their WebSocket form.
type subgraphURLs struct {
	m atomic.Pointer[map[string]string]
}

func (u *subgraphURLs) store(m map[string]string) {
	c := maps.Clone(m)
	u.m.Store(&c)
}

// wsURL is the graphql-transport-ws URL of a subgraph: its HTTP URL with
// the ws or wss scheme.
func (u *subgraphURLs) wsURL(name string) (string, bool) {
	url, ok := u.httpURL(name)
	return wsclient.WebSocketURL(url), ok
}

// httpURL is the HTTP URL of a subgraph.
func (u *subgraphURLs) httpURL(name string) (string, bool) {
	m := u.m.Load()
	if m == nil {
		return "", false
	}
	url, ok := (*m)[name]
	return url, ok
}

// streamMemory is the memory a stream connection may hold (buffers, read
// goroutine, queued events), for the soft memory limit.
const streamMemory = 64 << 10

// raiseMemoryLimit adds the stream connections' memory to the soft limit
// setMemoryLimit derived from the in-flight budget alone: without it, a
// few thousand idle WebSockets reach that limit and the collector runs
// without pause.
func raiseMemoryLimit(cfg subscriptions.Config) {
	if !cfg.Enabled || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	limit := debug.SetMemoryLimit(-1)
	if limit == math.MaxInt64 {
		return // no limit was set
	}
	debug.SetMemoryLimit(limit + streamsMemory(cfg))
}

// streamsMemory is what the allowed stream connections may hold, 0 when
// subscriptions are off.
func streamsMemory(cfg subscriptions.Config) int64 {
	if !cfg.Enabled {
		return 0
	}
	conns := cfg.MaxConnections
	if conns <= 0 {
		conns = subscriptions.DefaultMaxConnections
	}
	return int64(conns) * streamMemory
}

// startSubscriptions serves subscriptions over WebSocket, SSE and
// multipart HTTP on srv's listener.
// Nothing is served when subscriptions.enabled is off.
func (p *gatewayProcess) startSubscriptions(srv *server.Server) *subscriptions.Engine {
	cfg := p.cfg.Subscriptions
	if !cfg.Enabled {
		return nil
	}
	uo := cfg.UpstreamOptions()
	uo.URL = p.urls.wsURL
	if len(cfg.Upstream.SSE) > 0 {
		sse := map[string]bool{}
		for _, name := range cfg.Upstream.SSE {
			sse[name] = true
		}
		uo.SSE = func(name string) (string, bool) {
			if !sse[name] {
				return "", false
			}
			return p.urls.httpURL(name)
		}
	}
	opts := cfg.Options()
	opts.Logger = p.tel.Logger
	opts.Tracer = p.tel.Tracer
	opts.TokenHeader = p.cfg.Auth.JWT.Header
	eng := subscriptions.New(srv, wsclient.New(uo), opts)
	srv.HandleStreams(eng)
	p.subs = eng
	if p.metricsMux != nil {
		// Where an event's time goes (debug; the load harness reads it).
		p.metricsMux.Handle("/debug/subscriptions/timings", eng.TimingsHandler())
	}
	if err := p.tel.ObserveSubscriptions(eng.Figures); err != nil {
		slog.Warn("subscription metrics", "err", err.Error())
	}
	return eng
}
