package main

import (
	"context"
	"net/http"

	"github.com/fedgate/gateway/pkg/hooks"
)

// tenantHooks computes X-Tenant from the caller's verified claims "tenant"
// and "plan" (subgraphs receive it through the header rules; the client
// sees it on the answer) and rejects the tenant named blocked with 403.
func tenantHooks(blocked string) hooks.Hooks {
	return hooks.Hooks{
		RouterRequest: func(ctx context.Context, c *hooks.Call) error {
			c.Header.Del("X-Tenant") // only the token decides, never the client
			tenant, _ := c.Claims["tenant"].(string)
			if tenant == "" {
				return nil
			}
			if tenant == blocked {
				return &hooks.Break{Status: http.StatusForbidden, Code: "TENANT_BLOCKED", Message: "tenant " + tenant + " is blocked"}
			}
			plan, _ := c.Claims["plan"].(string)
			if plan == "" {
				plan = "free"
			}
			c.Header.Set("X-Tenant", tenant+";plan="+plan)
			c.Context["tenant"] = c.Header.Get("X-Tenant")
			return nil
		},
		RouterResponse: func(ctx context.Context, c *hooks.Call) error {
			if t, ok := c.Context["tenant"].(string); ok {
				c.Header.Set("X-Tenant", t)
			}
			return nil
		},
	}
}
