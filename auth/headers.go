package auth

import (
	"encoding/json"
	"maps"
	"net/http"
	"strconv"
	"strings"
)

// hopByHop are headers that describe one connection (RFC 9110 section
// 7.6.1, and the WebSocket handshake's of RFC 6455: Sec-WebSocket-Key is
// random per connection, so forwarding it would make every client's
// subscription a stream of its own) or one message body; they are never
// forwarded to subgraphs.
var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Te": true, "Trailer": true,
	"Transfer-Encoding": true, "Upgrade": true, "Host": true, "Content-Length": true,
	"Content-Type": true, "Content-Encoding": true, "Accept-Encoding": true, "Accept": true,
	"Expect": true, "Sec-Websocket-Key": true, "Sec-Websocket-Version": true,
	"Sec-Websocket-Extensions": true, "Sec-Websocket-Protocol": true, "Sec-Websocket-Accept": true,
}

// credentialHeaders are forwarded only when a rule names them: "*" never
// sends a client's credentials on.
var credentialHeaders = map[string]bool{"Authorization": true, "Cookie": true, "Proxy-Authorization": true}

// proxyHeaders say what a proxy saw of the request (the client's address,
// the host and scheme it asked for). A subgraph behind the gateway takes
// them as the gateway's word, but the gateway does not write them: what
// the client wrote there, "*" would pass on as vouched for. They are
// forwarded only when a rule names them (a load balancer in front that
// sets them). Every X-Forwarded-* header is one of them (isProxyHeader):
// -Port and -Prefix make a subgraph build its links to another port or
// path, -Server and -Ssl are read as the proxy's word too. The others
// name the client's address as CDNs and proxies write it, and frameworks
// read them as such: Client-Ip (Rails' remote_ip), X-Cluster-Client-Ip,
// Cf-Connecting-Ip(v6) (Cloudflare), Fastly-Client-Ip, X-Original-Forwarded-For
// (ingress-nginx), X-Envoy-External-Address (Envoy), X-Forwarded (the
// form before RFC 7239). And the ones frameworks take as the proxy's word
// on the host, URL, scheme or method asked for, the classic cache
// poisoning headers: X-Host, X-Original-Host, X-Http-Host-Override,
// X-Original-Url and X-Rewrite-Url (Symfony, IIS), X-Original-Uri
// (nginx's auth_request), Front-End-Https, X-Url-Scheme,
// X-Http-Method-Override, X-Http-Method, X-Method-Override. Before, "*"
// passed these on: a subgraph building links from X-Host had its answer,
// cacheable for everyone, name the attacker's host to the next caller
// (TestCachePoisoningByHeaders in make attack).
var proxyHeaders = map[string]bool{"Forwarded": true, "X-Real-Ip": true, "X-Client-Ip": true,
	"True-Client-Ip": true, "Client-Ip": true, "X-Cluster-Client-Ip": true, "Cf-Connecting-Ip": true,
	"Cf-Connecting-Ipv6": true, "Fastly-Client-Ip": true, "X-Original-Forwarded-For": true,
	"X-Envoy-External-Address": true, "X-Forwarded": true,
	"X-Host": true, "X-Original-Host": true, "X-Http-Host-Override": true, "X-Original-Url": true,
	"X-Rewrite-Url": true, "X-Original-Uri": true, "Front-End-Https": true, "X-Url-Scheme": true,
	"X-Http-Method-Override": true, "X-Http-Method": true, "X-Method-Override": true}

// isProxyHeader reports whether the canonical header name k is a proxy
// header: in proxyHeaders, or X-Forwarded-*.
func isProxyHeader(k string) bool {
	return proxyHeaders[k] || strings.HasPrefix(k, "X-Forwarded-")
}

// dashed returns the canonical header name k with every "_" read as "-".
// Servers that give headers to their application as CGI variables (Rack,
// WSGI and PHP servers without the fix of CVE-2015-0219) read both
// spellings as one, HTTP_X_FORWARDED_FOR: "*" leaves out X_Forwarded_For
// as it leaves out X-Forwarded-For, and a token header spelt with
// underscores as the token header.
func dashed(k string) string {
	if !strings.Contains(k, "_") {
		return k
	}
	return http.CanonicalHeaderKey(strings.ReplaceAll(k, "_", "-"))
}

// filled reports whether a rule of sets fills the canonical header k
// from a claim or an insert.
func filled(sets []compiledRules, k string) bool {
	for _, set := range sets {
		for _, cl := range set.claims {
			if http.CanonicalHeaderKey(cl.Header) == k {
				return true
			}
		}
		for _, in := range set.insert {
			if http.CanonicalHeaderKey(in.Name) == k {
				return true
			}
		}
	}
	return false
}

// Propagation builds the headers of subgraph requests from the client
// request and the verified caller.
type Propagation struct {
	all  compiledRules
	subs map[string]compiledRules
	// credentials are credentialHeaders and the ones NewPropagation was
	// given: "*" does not forward them.
	credentials map[string]bool
}

type compiledRules struct {
	forwardAll bool
	forward    []string
	rename     []HeaderRename
	insert     []HeaderInsert
	claims     []ClaimHeader
}

func compile(r HeaderRules) compiledRules {
	c := compiledRules{rename: r.Rename, insert: r.Insert, claims: r.Claims}
	for _, n := range r.Forward {
		if n == "*" {
			c.forwardAll = true
			continue
		}
		c.forward = append(c.forward, http.CanonicalHeaderKey(n))
	}
	return c
}

func (c compiledRules) empty() bool {
	return !c.forwardAll && len(c.forward) == 0 && len(c.rename) == 0 && len(c.insert) == 0 && len(c.claims) == 0
}

// NewPropagation compiles the header rules; nil when there are none.
// credentials names the headers that carry a client's credentials besides
// Authorization, Cookie and Proxy-Authorization (the token header of
// JWTConfig.Header, an API key's): like those, "*" does not forward them,
// only a rule that names them.
func NewPropagation(cfg HeadersConfig, credentials ...string) *Propagation {
	p := &Propagation{all: compile(cfg.All), subs: map[string]compiledRules{}, credentials: maps.Clone(credentialHeaders)}
	for _, h := range credentials {
		if h != "" {
			p.credentials[http.CanonicalHeaderKey(h)] = true
		}
	}
	for name, r := range cfg.Subgraphs {
		if c := compile(r); !c.empty() {
			p.subs[name] = c
		}
	}
	if p.all.empty() && len(p.subs) == 0 {
		return nil
	}
	return p
}

// PerSubgraph reports whether some subgraph has rules of its own.
func (p *Propagation) PerSubgraph() bool { return p != nil && len(p.subs) > 0 }

// Header returns the headers for requests to subgraph (every subgraph when
// subgraph is ""), or nil when nothing is sent.
//
// The rules of every set (All, then the subgraph's) are applied in order,
// forward, rename, insert, and the claim headers last: a header that any
// set fills from a verified claim is removed whatever another rule copied
// or renamed into it, and set only from the claim, so that no client can
// forge it through some other rule.
func (p *Propagation) Header(r *http.Request, c *Caller, subgraph string) http.Header {
	if p == nil {
		return nil
	}
	out := http.Header{}
	sets := []compiledRules{p.all}
	if s, ok := p.subs[subgraph]; ok {
		sets = append(sets, s)
	}
	hop := connectionHeaders(r.Header)
	for _, set := range sets {
		set.apply(out, r, hop, p.credentials)
	}
	for _, set := range sets {
		for _, cl := range set.claims {
			out.Del(cl.Header)
		}
	}
	// The headers the gateway fills go without a client's copy spelt with
	// underscores, which a CGI-style subgraph reads as the same one
	// (dashed).
	for k := range out {
		if d := dashed(k); d != k && filled(sets, d) {
			delete(out, k)
		}
	}
	if c != nil && c.Authenticated {
		for _, set := range sets {
			for _, cl := range set.claims {
				if v, ok := claimString(c.Claims, cl.Claim); ok {
					out.Set(cl.Header, v)
				}
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// connectionHeaders returns the headers the client's Connection header
// names: they describe that connection (RFC 9110 section 7.6.1) and are
// never forwarded.
func connectionHeaders(h http.Header) map[string]bool {
	var out map[string]bool
	for _, v := range h.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				if out == nil {
					out = map[string]bool{}
				}
				out[http.CanonicalHeaderKey(name)] = true
			}
		}
	}
	return out
}

// apply applies the forward, rename and insert rules; the claims are
// applied by Header, after every set.
func (c compiledRules) apply(out http.Header, r *http.Request, conn, credentials map[string]bool) {
	if c.forwardAll {
		for k, v := range r.Header {
			if hopByHop[k] || credentials[k] || isProxyHeader(k) || conn[k] {
				continue
			}
			if d := dashed(k); d != k && (credentials[d] || isProxyHeader(d)) {
				continue
			}
			out[k] = append([]string(nil), v...)
		}
	}
	for _, k := range c.forward {
		if v := r.Header.Values(k); len(v) > 0 && !hopByHop[k] && !conn[k] {
			out[k] = append([]string(nil), v...)
		}
	}
	for _, rn := range c.rename {
		from := http.CanonicalHeaderKey(rn.From)
		if v := r.Header.Values(from); len(v) > 0 && !conn[from] {
			to := http.CanonicalHeaderKey(rn.To)
			if !hopByHop[to] {
				out[to] = append([]string(nil), v...)
			}
		}
	}
	for _, in := range c.insert {
		out.Set(in.Name, in.Value)
	}
}

// claimValue looks a claim up; dots reach into objects.
func claimValue(claims map[string]any, path string) (any, bool) {
	if v, ok := claims[path]; ok {
		return v, true
	}
	var cur any = claims
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// claimString renders a claim as a header value: strings as they are,
// numbers and booleans as JSON, arrays of strings joined by commas, other
// values as JSON. Values with line breaks are refused.
func claimString(claims map[string]any, path string) (string, bool) {
	v, ok := claimValue(claims, path)
	if !ok || v == nil {
		return "", false
	}
	var s string
	switch t := v.(type) {
	case string:
		s = t
	case bool:
		s = strconv.FormatBool(t)
	case float64:
		s = strconv.FormatFloat(t, 'f', -1, 64)
	case []any:
		parts := make([]string, 0, len(t))
		for _, e := range t {
			str, isStr := e.(string)
			if !isStr {
				b, _ := json.Marshal(t)
				parts = []string{string(b)}
				break
			}
			parts = append(parts, str)
		}
		s = strings.Join(parts, ",")
	default:
		b, err := json.Marshal(t)
		if err != nil {
			return "", false
		}
		s = string(b)
	}
	if strings.ContainsAny(s, "\r\n\x00") {
		return "", false
	}
	return s, true
}
