package limits

import "net/http"

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
