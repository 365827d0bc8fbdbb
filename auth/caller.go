package auth

import "context"

// Caller is who sent a request, as far as the gateway could tell. The
// server stores it in the request context once the token is verified;
// limits identify the client from it, the response cache keys PRIVATE
// entries by it.
type Caller struct {
	// Authenticated is true when a valid token was presented.
	Authenticated bool
	// Subject is the token's "sub" claim.
	Subject string
	// Claims are the verified token's claims.
	Claims map[string]any
	// Scopes are the scopes granted by the token.
	Scopes []string
}

// HasScope reports whether the caller was granted scope.
func (c *Caller) HasScope(scope string) bool {
	if c == nil {
		return false
	}
	for _, s := range c.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

type callerKey struct{}

// WithCaller returns ctx carrying c.
func WithCaller(ctx context.Context, c *Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller stored in ctx, or nil for an anonymous
// request that went through no authentication.
func CallerFrom(ctx context.Context) *Caller {
	c, _ := ctx.Value(callerKey{}).(*Caller)
	return c
}
