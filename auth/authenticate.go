package auth

import (
	"context"
	"net/http"
	"net/textproto"
	"strings"
)

// TokenFrom returns the token a request carries: the configured header
// (after its prefix), else the configured cookie. found is false when the
// request carries none; err is set when the header is there but malformed,
// or when the header or the cookie comes more than once.
//
// One value is verified, but a rule that forwards the header (or Cookie)
// sends every value on: with two, a subgraph that reads another one than
// the gateway, or an empty first value that left the caller anonymous,
// would receive a credential nobody verified. So a repeated token header
// is refused, whatever the values, and so is a cookie repeated with
// different values. The same cookie value repeated is one token (a
// browser sends a cookie set for two paths or domains twice, often with
// the same value, and its user cannot tell): every copy forwarded is the
// verified one.
//
// A token in the header beside another one in the token cookie is refused
// too: the header's was verified while a rule forwarding Cookie sent the
// cookie's on, unverified, to a subgraph that may read its caller from it
// (before, the header won and the cookie went along). The same token in
// both is one.
func TokenFrom(r *http.Request, cfg JWTConfig) (token string, found bool, err error) {
	if cfg.Header != "" {
		values := r.Header.Values(cfg.Header)
		if len(values) > 1 {
			return "", true, errRepeatedToken
		}
		if len(values) == 1 && values[0] != "" {
			token, err := headerToken(values[0], cfg.Prefix)
			if err != nil {
				return "", true, err
			}
			if cfg.Cookie != "" {
				for _, v := range rawCookies(r.Header["Cookie"], cfg.Cookie) {
					if v != "" && v != token {
						return "", true, errRepeatedToken
					}
				}
			}
			return token, true, nil
		}
	}
	if cfg.Cookie != "" {
		// The copies are compared as sent, not as net/http parses them:
		// it drops a copy whose name or value it finds malformed
		// ("session =x", a value with a backslash or a non-ASCII byte),
		// which a more lenient cookie parser behind a rule forwarding
		// Cookie still reads.
		raw := rawCookies(r.Header["Cookie"], cfg.Cookie)
		for _, v := range raw[min(1, len(raw)):] {
			if v != raw[0] {
				return "", true, errRepeatedToken
			}
		}
		if len(raw) == 0 || raw[0] == "" {
			return "", false, nil
		}
		cookies := r.CookiesNamed(cfg.Cookie)
		if len(cookies) != len(raw) || cookies[0].Value == "" {
			return "", true, errBadCookie
		}
		return cookies[0].Value, true, nil
	}
	return "", false, nil
}

// headerToken is the token of a token header's value h after prefix.
func headerToken(h, prefix string) (string, error) {
	if prefix == "" {
		return strings.TrimSpace(h), nil
	}
	scheme, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, prefix) {
		return "", errBadAuthHeader
	}
	rest = strings.TrimSpace(rest)
	if rest == "" {
		return "", errBadAuthHeader
	}
	return rest, nil
}

// rawCookies returns the values of the cookies named name in the Cookie
// header lines, as sent (a name with spaces around it counts too).
func rawCookies(lines []string, name string) []string {
	var out []string
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ";") {
			k, v, _ := strings.Cut(part, "=")
			if textproto.TrimString(k) == name {
				out = append(out, textproto.TrimString(v))
			}
		}
	}
	return out
}

// Authenticator identifies the caller of a request.
type Authenticator struct {
	cfg      Config
	verifier *Verifier
}

// NewAuthenticator builds the verifier of cfg; call Start to fetch key sets.
func NewAuthenticator(cfg Config) (*Authenticator, error) {
	v, err := NewVerifier(cfg.JWT)
	if err != nil {
		return nil, err
	}
	return &Authenticator{cfg: cfg, verifier: v}, nil
}

// Start fetches the key sets, then refreshes them until ctx ends.
func (a *Authenticator) Start(ctx context.Context) { a.verifier.Start(ctx) }

// Verifier returns the token verifier.
func (a *Authenticator) Verifier() *Verifier { return a.verifier }

// Config returns the configuration the authenticator was built from.
func (a *Authenticator) Config() Config { return a.cfg }

// Authenticate returns the caller of r: anonymous without a token (or an
// *Error when a token is required), the verified caller with a valid
// token, and an *Error (401, UNAUTHENTICATED) with an invalid one.
func (a *Authenticator) Authenticate(r *http.Request) (*Caller, error) {
	token, found, err := TokenFrom(r, a.cfg.JWT)
	if err != nil {
		return nil, err
	}
	if !found {
		if a.cfg.RequireAuthentication {
			return nil, errMissingToken
		}
		return &Caller{}, nil
	}
	if !a.verifier.Configured() {
		return nil, errNoKey
	}
	return a.verifier.Verify(r.Context(), token)
}
