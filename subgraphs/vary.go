package subgraphs

import (
	"net/http"
	"strings"
)

// constantHeaders are request headers the client sets to the same value
// for every caller: an answer varying by them varies by nothing a caller
// chose.
var constantHeaders = map[string]bool{"Content-Type": true, "Accept": true}

// varyCacheControl returns cc, an answer's Cache-Control, amended by the
// answer's Vary (RFC 9110, 12.5.5) when the answer depends on a request
// header the gateway's caches do not key by: a credential header the
// request carried (identity) makes it private, keyed by the caller's
// verified identity; "*", or any other header the request carried
// (forwarded from the caller, set from a claim or a hook) that is not
// among keyed (cache.response.vary_headers), makes it no-store. Before,
// the response and entity caches kept such an answer as public and served
// it to callers that sent another value (a subgraph answering by
// Accept-Language, or by a tenant header, with Vary saying so). A header
// the request did not carry does not count: the subgraph gave the answer
// it gives to every request without it.
func varyCacheControl(cc, vary string, sent http.Header, keyed, identity map[string]bool) string {
	private := false
	for name := range strings.SplitSeq(vary, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if name == "*" {
			return withDirective(cc, "no-store")
		}
		name = http.CanonicalHeaderKey(name)
		switch {
		case constantHeaders[name] || keyed[name] || !carries(sent, name):
		case identity[name]:
			private = true
		default:
			return withDirective(cc, "no-store")
		}
	}
	if private {
		return withDirective(cc, "private")
	}
	return cc
}

// carries reports whether h has the header name (canonical), its key
// written in any case.
func carries(h http.Header, name string) bool {
	if _, ok := h[name]; ok {
		return true
	}
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// withDirective adds a directive to a Cache-Control value.
func withDirective(cc, d string) string {
	if cc == "" {
		return d
	}
	return cc + ", " + d
}
