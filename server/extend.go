package server

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/fedgate/gateway/coprocessor"
	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/pkg/hooks"
	"github.com/fedgate/gateway/respheaders"
	"github.com/fedgate/gateway/server/request"
	"github.com/fedgate/gateway/telemetry"
	"go.opentelemetry.io/otel/trace"
)

// extensions are the points where configuration and user code extend the
// pipeline (docs/extending.md): response headers from subgraphs and the
// compiled-in hooks.
type extensions struct {
	// respHeaders is nil when no response header is propagated.
	respHeaders *respheaders.Propagation
	// hooks are the compiled-in hooks (hooks.go), in order.
	hooks []hooks.Hooks
	// coprocessor, when configured, runs as the last hooks.
	coprocessor *coprocessor.Coprocessor
	// bodies are the stages at which a hook reads the body.
	bodies map[hooks.Stage]bool
	// sdl returns the supergraph SDL served (hooks.Call.SDL).
	sdl func() string
	// maxBody caps the raw body read for the RouterRequest hooks.
	maxBody int64
	// reading is the budget of the bodies being read
	// (server.max_reading_bytes), which that read takes from as the
	// decoder's does; nil: none.
	reading *request.Budget
	// vary is what the Subgraph hooks declared they read (hooks.Vary,
	// the union over the hook sets); nil when none runs or some hook
	// set with one declared nothing (the coprocessor never does).
	vary *hooks.Vary
	// labels are the Context entries that label the request metrics
	// (hooks.Hooks.Labels, every hook set's, each once).
	labels []string
}

// labelName is a Prometheus label name.
var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// metricLabels gathers the hook sets' Labels, each name once, and
// refuses a name Prometheus does not take or the request metrics have.
func metricLabels(hs []hooks.Hooks) ([]string, error) {
	var out []string
	for _, h := range hs {
		for _, name := range h.Labels {
			switch {
			case !labelName.MatchString(name) || strings.HasPrefix(name, "__"):
				return nil, fmt.Errorf("hooks: label %q is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)", name)
			case name == "operation" || name == "status":
				return nil, fmt.Errorf("hooks: label %q is one of the request metrics' own (operation, status)", name)
			}
			if !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	return out, nil
}

// recordLabels gives the request's metrics the labels the hooks declared,
// read from the Context the hooks of ctx's request left.
func (x *extensions) recordLabels(ctx context.Context) {
	if x == nil || len(x.labels) == 0 {
		return
	}
	st, _ := ctx.Value(hookStateKey{}).(*hookState)
	if st == nil {
		return
	}
	labels := make([]telemetry.Label, len(x.labels))
	st.contextMu.RLock()
	for i, name := range x.labels {
		v, _ := st.context[name].(string)
		labels[i] = telemetry.Label{Name: name, Value: v}
	}
	st.contextMu.RUnlock()
	telemetry.RequestInfoFrom(ctx).SetLabels(labels)
}

func newExtensions(opts Options, tracer trace.Tracer) (*extensions, error) {
	rh, err := respheaders.New(opts.ResponseHeaders)
	if err != nil {
		return nil, fmt.Errorf("response headers: %w", err)
	}
	x := &extensions{respHeaders: rh, hooks: opts.Hooks}
	cp, err := coprocessor.New(opts.Coprocessor, coprocessor.Options{Tracer: tracer, Observe: opts.Observe.Metrics.Coprocessor})
	if err != nil {
		return nil, fmt.Errorf("coprocessor: %w", err)
	}
	if cp != nil {
		x.coprocessor = cp
		x.hooks = append(append([]hooks.Hooks(nil), x.hooks...), cp.Hooks())
	}
	x.bodies = map[hooks.Stage]bool{}
	for _, h := range x.hooks {
		for _, st := range h.Bodies {
			x.bodies[st] = true
		}
	}
	x.vary = declaredVary(x.hooks)
	if x.labels, err = metricLabels(x.hooks); err != nil {
		return nil, err
	}
	x.maxBody = opts.MaxBodyBytes
	if x.maxBody <= 0 {
		x.maxBody = request.DefaultMaxBodyBytes
	}
	return x, nil
}

// wrapTransport adds the extensions' transport layers around t; raw is
// the subgraph client under all layers, which may tell subgraph URLs.
func (x *extensions) wrapTransport(t, raw executor.Transport) executor.Transport {
	if x != nil && x.respHeaders != nil {
		t = respheaders.Transport{Next: t}
	}
	if req, resp := x.hooksAt(hooks.SubgraphRequest), x.hooksAt(hooks.SubgraphResponse); req || resp {
		ht := hookTransport{x: x, next: t, req: req, resp: resp}
		if u, ok := raw.(interface{ URL(string) string }); ok {
			ht.urlOf = u.URL
		}
		t = ht
	}
	return t
}

// collectHeaders returns ctx carrying a collector of the subgraphs'
// response headers, and a func that stores what was collected in meta.
func (x *extensions) collectHeaders(ctx context.Context, meta *responseMeta) (context.Context, func()) {
	if x == nil || x.respHeaders == nil {
		return ctx, func() {}
	}
	c := x.respHeaders.NewCollector()
	return respheaders.WithCollector(ctx, c), func() { meta.headers = c.Header() }
}

// applyHeaders adds the propagated subgraph headers of meta to h.
func applyHeaders(h http.Header, meta *responseMeta) {
	if meta.headers != nil {
		respheaders.Apply(h, meta.headers)
	}
}

// close releases the coprocessor's pooled connections.
func (x *extensions) close() {
	if x != nil {
		x.coprocessor.Close()
	}
}

// declaredVary is the union of what the hook sets with a Subgraph hook
// declared they read; nil when none has a Subgraph hook or one of them
// declared nothing.
func declaredVary(hs []hooks.Hooks) *hooks.Vary {
	var out *hooks.Vary
	for _, h := range hs {
		if h.SubgraphRequest == nil && h.SubgraphResponse == nil {
			continue
		}
		if h.Vary == nil {
			return nil
		}
		if out == nil {
			out = &hooks.Vary{}
		}
		out.Headers = append(out.Headers, h.Vary.Headers...)
		out.Claims = append(out.Claims, h.Vary.Claims...)
		out.Context = append(out.Context, h.Vary.Context...)
	}
	if out != nil {
		for i, h := range out.Headers {
			out.Headers[i] = http.CanonicalHeaderKey(h)
		}
		for _, l := range []*[]string{&out.Headers, &out.Claims, &out.Context} {
			slices.Sort(*l)
			*l = slices.Compact(*l)
		}
	}
	return out
}
