package server

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"sort"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/pkg/hooks"
	"github.com/fedgate/gateway/schema"
)

// credentialHeaders are the request headers that carry credentials, beside
// the configured token header: callers that present different ones are
// different callers, whether or not the gateway verified them.
var credentialHeaders = []string{"Authorization", "Cookie", "Proxy-Authorization"}

func newKeyHash() *keyHasher { return &keyHasher{h: sha256.New()} }

// keyHasher hashes length-prefixed fields, so that no two sequences of
// fields hash alike by concatenation.
type keyHasher struct {
	h interface {
		Write([]byte) (int, error)
		Sum([]byte) []byte
	}
}

func (k *keyHasher) field(s string) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
	_, _ = k.h.Write(n[:])
	_, _ = k.h.Write([]byte(s))
}

// header writes a header set: its number of names, then each name (sorted)
// with its number of values and the values in order.
func (k *keyHasher) header(h http.Header) {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	sort.Strings(names)
	k.count(len(names))
	for _, name := range names {
		k.field(http.CanonicalHeaderKey(name))
		k.count(len(h[name]))
		for _, v := range h[name] {
			k.field(v)
		}
	}
}

func (k *keyHasher) count(n int) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(n))
	_, _ = k.h.Write(b[:])
}

func (k *keyHasher) sum() string { return string(k.h.Sum(nil)) }

// callerKey hashes everything about a request, beyond its operation and
// variables, that may change its answer: the verified identity, the raw
// credentials (a token without "sub" or a session cookie is a caller of
// its own even when the gateway does not forward it), the headers each
// subgraph would receive, the configured vary headers, the authorization
// grants and the @override labels in force, and, when hooks run at the
// Subgraph stages, the request's hook state. Requests with different
// caller keys never share a computation (the response cache's flights,
// inbound dedupe); anonymous callers are not one caller unless nothing
// about them reaches a subgraph.
func (s *Server) callerKey(r *http.Request, sg *schema.Supergraph, grants string, labels map[string]bool) string {
	k := newKeyHash()
	k.field(grants)
	caller := auth.CallerFrom(r.Context())
	if caller != nil && caller.Authenticated {
		iss, _ := caller.Claims["iss"].(string)
		k.field("authenticated")
		k.field(iss)
		k.field(caller.Subject)
	} else {
		k.field("anonymous")
	}
	creds := http.Header{}
	for _, name := range append([]string{s.opts.Auth.JWT.Header}, credentialHeaders...) {
		if name == "" {
			continue
		}
		if v := r.Header.Values(name); len(v) > 0 {
			creds[http.CanonicalHeaderKey(name)] = v
		}
	}
	k.header(creds)
	vary := http.Header{}
	for _, name := range s.opts.Cache.Response.VaryHeaders {
		vary[http.CanonicalHeaderKey(name)] = append([]string{}, r.Header.Values(name)...)
	}
	k.header(vary)
	s.hashFetchHeaders(k, r, sg, nil)
	on := make([]string, 0, len(labels))
	for l, ok := range labels {
		if ok {
			on = append(on, l)
		}
	}
	sort.Strings(on)
	k.count(len(on))
	for _, l := range on {
		k.field(l)
	}
	k.field(s.hookShareKey(r.Context()))
	return k.sum()
}

// hookShareKey is what the Subgraph hooks may read of a request besides
// the headers of its fetches (the request's method, path, hook Context
// and the caller's verified claims): a shared computation's fetches
// (inbound dedupe, a subscription's events) run them with the first
// caller's state, so callers whose state differs never share (before,
// subscribers whose claims differed shared events completed with the
// first one's claims). "" when no hook runs at a Subgraph stage.
//
// When the hooks declared what they read (hooks.Vary), it is the values
// of the declared claims and Context entries only (the declared headers
// are among the subgraph headers every share key holds).
func (s *Server) hookShareKey(ctx context.Context) string {
	if !s.ext.hooksAt(hooks.SubgraphRequest) && !s.ext.hooksAt(hooks.SubgraphResponse) {
		return ""
	}
	k := newKeyHash()
	k.field("hooks")
	if v := s.ext.vary; v != nil {
		k.field("declared")
		s.declaredState(ctx, k, v)
		return k.sum()
	}
	if st, _ := ctx.Value(hookStateKey{}).(*hookState); st != nil {
		// A shared computation may read it while its first caller's
		// request runs a stage that writes it (contextMu).
		st.contextMu.RLock()
		defer st.contextMu.RUnlock()
		k.field(st.method)
		k.field(st.path)
		for _, v := range []any{st.context, st.claims} {
			b, err := json.Marshal(v)
			if err != nil {
				b = []byte(newRequestID()) // a value no key holds: shared with no one
			}
			k.field(string(b))
		}
	}
	return k.sum()
}

// declaredState adds to k the values of the claims and Context entries v
// names, each as JSON ("" when absent).
func (s *Server) declaredState(ctx context.Context, k *keyHasher, v *hooks.Vary) {
	st, _ := ctx.Value(hookStateKey{}).(*hookState)
	value := func(m map[string]any, name string) string {
		if st == nil {
			return ""
		}
		x, ok := m[name]
		if !ok {
			return ""
		}
		b, err := json.Marshal(x)
		if err != nil {
			return newRequestID() // a value no key holds: shared with no one
		}
		return string(b)
	}
	var claims, hctx map[string]any
	if st != nil {
		st.contextMu.RLock()
		defer st.contextMu.RUnlock()
		claims, hctx = st.claims, st.context
	}
	k.count(len(v.Claims))
	for _, c := range v.Claims {
		k.field(value(claims, c))
	}
	k.count(len(v.Context))
	for _, c := range v.Context {
		k.field(value(hctx, c))
	}
}

// declaredVary is the fetch vary (fetchVary) of hooks that declared what
// they read: the declared headers of the fetches the header rules build
// from r (for every subgraph when the rules differ per subgraph), and the
// declared claims and Context entries.
func (s *Server) declaredVary(r *http.Request, sg *schema.Supergraph, v *hooks.Vary) string {
	k := newKeyHash()
	k.field("declared")
	s.hashFetchHeaders(k, r, sg, func(h http.Header) http.Header {
		out := http.Header{}
		for _, name := range v.Headers {
			if vals := h.Values(name); len(vals) > 0 {
				out[name] = vals
			}
		}
		return out
	})
	s.declaredState(r.Context(), k, v)
	return k.sum()
}

// hashFetchHeaders adds to k the headers the header rules build from r
// for the subgraph fetches (for every subgraph when the rules differ per
// subgraph), each as pick returns it (whole when pick is nil).
func (s *Server) hashFetchHeaders(k *keyHasher, r *http.Request, sg *schema.Supergraph, pick func(http.Header) http.Header) {
	p := s.sec.prop
	if p == nil {
		return
	}
	if pick == nil {
		pick = func(h http.Header) http.Header { return h }
	}
	caller := auth.CallerFrom(r.Context())
	k.header(pick(p.Header(r, caller, "")))
	if p.PerSubgraph() {
		for _, g := range sg.Graphs {
			k.field(g.Name)
			k.header(pick(p.Header(r, caller, g.Name)))
		}
	}
}
