// Package respheaders carries response headers of subgraphs to the client:
// per-subgraph rules name the headers to propagate, how several answers of
// one request merge (Set-Cookie appended from every subgraph, first-wins
// or last-wins for the others) and under which name the client sees them.
//
// A subgraph reaches the client's headers only through a rule that names
// the header: hop-by-hop and body headers are never propagated, and the
// headers that carry the gateway's security decisions (cookies, CORS,
// HSTS, CSP, authentication challenges, redirects, rate limits, ...) pass
// only when a rule names them, never through "*". Cache-Control and Age
// keep the gateway's aggregation and cannot be named. A header the
// gateway itself has set is never replaced (Apply).
package respheaders

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// Config is the response header rules: All for every subgraph, then the
// rules of one subgraph by name (a subgraph's rule for a header replaces
// All's rule for it).
type Config struct {
	// All applies to every subgraph.
	All Rules `yaml:"all"`
	// Subgraphs holds the rules of one subgraph, by name.
	Subgraphs map[string]Rules `yaml:"subgraphs"`
}

// Rules are the headers propagated from one subgraph (or all).
type Rules struct {
	// Propagate lists the headers copied to the client's response.
	Propagate []Rule `yaml:"propagate"`
}

// Rule propagates one subgraph response header, or with Name "*" every
// header that is neither hop-by-hop nor security-relevant.
type Rule struct {
	// Name is the subgraph's header name, or "*".
	Name string `yaml:"name"`
	// Rename is the header name the client sees; empty keeps Name.
	Rename string `yaml:"rename"`
	// Merge decides between several subgraph answers of one request:
	// "first" (default) keeps the first value that arrived, "last" the
	// last, "append" every value. Set-Cookie is always appended.
	Merge string `yaml:"merge"`
}

// Merge modes.
const (
	First  = "first"
	Last   = "last"
	Append = "append"
)

// never are hop-by-hop and body headers (RFC 9110 section 7.6.1) and the
// headers whose value the gateway computes for the whole response; no rule
// may name them.
var never = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Te": true, "Trailer": true,
	"Transfer-Encoding": true, "Upgrade": true, "Content-Length": true, "Content-Type": true,
	"Content-Encoding": true, "Content-Range": true, "Accept-Ranges": true, "Date": true,
	"Cache-Control": true, "Age": true, "Expires": true, "Pragma": true, "Etag": true, "Last-Modified": true,
}

// sensitive are security-relevant headers: propagated only when a rule
// names them, never through "*".
var sensitive = map[string]bool{
	"Set-Cookie": true, "Set-Cookie2": true, "Strict-Transport-Security": true, "Content-Security-Policy": true,
	"Content-Security-Policy-Report-Only": true, "X-Frame-Options": true, "X-Content-Type-Options": true,
	"X-Xss-Protection": true, "Referrer-Policy": true, "Permissions-Policy": true, "Www-Authenticate": true,
	"Proxy-Authenticate": true, "Location": true, "Refresh": true, "Vary": true, "Allow": true,
	"Retry-After": true, "Alt-Svc": true, "Clear-Site-Data": true, "Link": true, "Server": true,
	"Content-Disposition": true, "Public-Key-Pins": true, "Expect-Ct": true, "Origin-Agent-Cluster": true,
}

// sensitivePrefixes extend sensitive to header families.
var sensitivePrefixes = []string{"Access-Control-", "Cross-Origin-", "Ratelimit", "X-Ratelimit-", "Sec-", "Fedgate-", "Traceparent", "Tracestate"}

// Sensitive reports whether h (canonical) is propagated only when named.
func Sensitive(h string) bool {
	if sensitive[h] {
		return true
	}
	for _, p := range sensitivePrefixes {
		if strings.HasPrefix(h, p) {
			return true
		}
	}
	return false
}

// Forbidden reports whether no rule may name h (canonical).
func Forbidden(h string) bool { return never[h] }

type rule struct {
	from, to string
	merge    string
}

type compiled struct {
	named map[string]rule // by canonical subgraph header name
	star  *rule
}

// Propagation is the compiled rules; nil propagates nothing.
type Propagation struct {
	all  compiled
	subs map[string]compiled
}

// New compiles cfg; it returns nil, nil when no rule is configured, and an
// error for a rule that names a forbidden header or an unknown merge.
func New(cfg Config) (*Propagation, error) {
	all, err := compile(cfg.All, "all")
	if err != nil {
		return nil, err
	}
	p := &Propagation{all: all, subs: map[string]compiled{}}
	for name, r := range cfg.Subgraphs {
		c, err := compile(r, "subgraphs."+name)
		if err != nil {
			return nil, err
		}
		p.subs[name] = c
	}
	if len(cfg.All.Propagate) == 0 && len(p.subs) == 0 {
		return nil, nil
	}
	return p, nil
}

func compile(r Rules, where string) (compiled, error) {
	c := compiled{named: map[string]rule{}}
	for i, ru := range r.Propagate {
		at := fmt.Sprintf("response_headers.%s.propagate[%d]", where, i)
		merge := strings.ToLower(strings.TrimSpace(ru.Merge))
		switch merge {
		case "":
			merge = First
		case First, Last, Append:
		default:
			return c, fmt.Errorf("%s: merge %q: want first, last or append", at, ru.Merge)
		}
		if ru.Name == "*" {
			if ru.Rename != "" {
				return c, fmt.Errorf("%s: \"*\" cannot be renamed", at)
			}
			c.star = &rule{merge: merge}
			continue
		}
		from := http.CanonicalHeaderKey(strings.TrimSpace(ru.Name))
		to := from
		if ru.Rename != "" {
			to = http.CanonicalHeaderKey(strings.TrimSpace(ru.Rename))
		}
		for _, h := range []string{from, to} {
			if h == "" || strings.ContainsAny(h, " \t\r\n:") {
				return c, fmt.Errorf("%s: invalid header name %q", at, h)
			}
			if never[h] {
				return c, fmt.Errorf("%s: %s is never propagated (hop-by-hop, body or gateway-computed; Cache-Control keeps the gateway's aggregation)", at, h)
			}
		}
		if from == "Set-Cookie" || to == "Set-Cookie" {
			merge = Append
		}
		c.named[from] = rule{from: from, to: to, merge: merge}
	}
	return c, nil
}

// Collector gathers the propagated headers of one request's subgraph
// answers; it is safe for concurrent use.
type Collector struct {
	p      *Propagation
	mu     sync.Mutex
	header http.Header
}

// NewCollector returns a collector for one request; nil when p is nil.
func (p *Propagation) NewCollector() *Collector {
	if p == nil {
		return nil
	}
	return &Collector{p: p}
}

// Add records the answer headers h of subgraph, in arrival order.
func (c *Collector) Add(subgraph string, h http.Header) {
	if c == nil || len(h) == 0 {
		return
	}
	sub, hasSub := c.p.subs[subgraph]
	c.mu.Lock()
	defer c.mu.Unlock()
	apply := func(r rule, vals []string) {
		if len(vals) == 0 {
			return
		}
		if c.header == nil {
			c.header = http.Header{}
		}
		switch r.merge {
		case Append:
			c.header[r.to] = append(c.header[r.to], vals...)
		case Last:
			c.header[r.to] = append([]string(nil), vals...)
		default:
			if _, ok := c.header[r.to]; !ok {
				c.header[r.to] = append([]string(nil), vals...)
			}
		}
	}
	for name, vals := range h {
		name = http.CanonicalHeaderKey(name)
		if never[name] {
			continue
		}
		if hasSub {
			if r, ok := sub.named[name]; ok {
				apply(r, vals)
				continue
			}
		}
		if r, ok := c.p.all.named[name]; ok {
			apply(r, vals)
			continue
		}
		if Sensitive(name) {
			continue
		}
		if hasSub && sub.star != nil {
			apply(rule{from: name, to: name, merge: sub.star.merge}, vals)
		} else if c.p.all.star != nil {
			apply(rule{from: name, to: name, merge: c.p.all.star.merge}, vals)
		}
	}
}

// Header returns the collected headers (nil when none); the caller owns
// them once the request's fetches are done.
func (c *Collector) Header() http.Header {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.header
}

// Apply adds src to the client's response headers dst: Set-Cookie values
// are appended, and any other header is set only when dst has none, so a
// header the gateway has set (CORS, rate limits, challenges) is never
// replaced by a subgraph's.
func Apply(dst, src http.Header) {
	for k, vals := range src {
		if k == "Set-Cookie" {
			dst[k] = append(dst[k], vals...)
			continue
		}
		if _, ok := dst[k]; ok || never[k] {
			continue
		}
		dst[k] = append([]string(nil), vals...)
	}
}

type ctxKey struct{}

// WithCollector returns ctx carrying c for Transport.
func WithCollector(ctx context.Context, c *Collector) context.Context {
	if c == nil {
		return ctx
	}
	return context.WithValue(ctx, ctxKey{}, c)
}

// CollectorFrom returns the collector of ctx, nil when none.
func CollectorFrom(ctx context.Context) *Collector {
	c, _ := ctx.Value(ctxKey{}).(*Collector)
	return c
}

// Validate reports the first rule New would refuse.
func (c Config) Validate() error {
	_, err := New(c)
	return err
}
