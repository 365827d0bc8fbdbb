package limits

import (
	"net/http"
	"net/netip"
)

// Identify returns the client of r as the rate limits see it (the caller
// from r's context, an API key or the address, in the configured order),
// for limits kept elsewhere, such as those on subscriptions.
func (p *Policy) Identify(r *http.Request) Client { return p.ident.Identify(r) }

// CredentialHeaders names the request headers that carry a client's
// credentials for the rate limits: the API key header, when API keys are
// configured. A rule that forwards every header to the subgraphs ("*")
// leaves them out. nil for a nil Policy.
func (p *Policy) CredentialHeaders() []string {
	if p == nil || p.ident.cfg.APIKeyHeader == "" || len(p.ident.keys) == 0 {
		return nil
	}
	return []string{p.ident.cfg.APIKeyHeader}
}

// PeerKey is what counts the connections of the TCP peer ip, and whether
// ip is a trusted proxy's (Identifier.PeerKey); a nil Policy knows no
// proxies and counts IPv6 peers by /64.
func (p *Policy) PeerKey(ip netip.Addr) (netip.Prefix, bool) {
	if p == nil {
		return NewIdentifier(ClientsConfig{}).PeerKey(ip)
	}
	return p.ident.PeerKey(ip)
}
