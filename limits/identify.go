package limits

import "net/http"

// Identify returns the client of r as the rate limits see it (the caller
// from r's context, an API key or the address, in the configured order),
// for limits kept elsewhere, such as those on subscriptions.
func (p *Policy) Identify(r *http.Request) Client { return p.ident.Identify(r) }
