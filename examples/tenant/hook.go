package main

import (
	"context"
	"net/http"

	"github.com/fedgate/gateway/pkg/hooks"
)

// tenantHooks computes X-Tenant from the caller's verified claims "tenant"
// and "plan" (subgraphs receive it through the header rules; the client
// sees it on the answer), rejects the tenant named blocked with 403, and
// labels the request metrics with the tenant.
func tenantHooks(blocked string) hooks.Hooks {
	return hooks.Hooks{
		RouterRequest: func(ctx context.Context, c *hooks.Call) error {
			c.Header.Del("X-Tenant") // only the token decides, never the client
			tenant, _ := c.Claims["tenant"].(string)
			if tenant == "" {
				return nil
			}
			c.Context["tenant"] = tenant // the metrics label (Labels below)
			if tenant == blocked {
				return &hooks.Break{Status: http.StatusForbidden, Code: "TENANT_BLOCKED", Message: "tenant " + tenant + " is blocked"}
			}
			plan, _ := c.Claims["plan"].(string)
			if plan == "" {
				plan = "free"
			}
			c.Header.Set("X-Tenant", tenant+";plan="+plan)
			c.Context["x-tenant"] = c.Header.Get("X-Tenant")
			return nil
		},
		RouterResponse: func(ctx context.Context, c *hooks.Call) error {
			if t, ok := c.Context["x-tenant"].(string); ok {
				c.Header.Set("X-Tenant", t)
			}
			return nil
		},
		// fedgate_requests_total and fedgate_request_duration_seconds get
		// a label tenant, from Context["tenant"] ("" for an anonymous
		// caller): the tenant comes from a verified claim, so callers
		// cannot make up values.
		Labels: []string{"tenant"},
	}
}
