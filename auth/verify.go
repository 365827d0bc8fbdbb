package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/fedgate/gateway/internal/reqerr"

	"github.com/dgraph-io/ristretto/v2"
	"github.com/golang-jwt/jwt/v5"
)

// Error is an authentication or authorization failure answered before
// execution: its message is safe to show (it never holds key material or
// the token), Code is the GraphQL extensions.code and Status the HTTP
// status.
type Error = reqerr.Error

// unauthenticated builds the 401 error for an invalid token.
func unauthenticated(reason string) *Error {
	return &Error{Code: "UNAUTHENTICATED", Message: "invalid token: " + reason, Status: http.StatusUnauthorized}
}

// Reasons a token is refused, shown to the client.
var (
	errTooLarge      = unauthenticated("the token is too large")
	errMalformed     = unauthenticated("the token is malformed")
	errAlgorithm     = unauthenticated("the signing algorithm is not accepted")
	errUnknownKey    = unauthenticated("no key matches the token's key id")
	errNoKey         = unauthenticated("no key can verify the token")
	errSignature     = unauthenticated("the signature is invalid")
	errExpired       = unauthenticated("the token has expired")
	errNotYetValid   = unauthenticated("the token is not valid yet")
	errIssuedFuture  = unauthenticated("the token was issued in the future")
	errNoExpiration  = unauthenticated("the token has no expiration time")
	errIssuer        = unauthenticated("the issuer is not accepted")
	errAudience      = unauthenticated("the audience is not accepted")
	errBadClaims     = unauthenticated("the token's claims are malformed")
	errMissingToken  = &Error{Code: "UNAUTHENTICATED", Message: "authentication required: no token was sent", Status: http.StatusUnauthorized}
	errBadAuthHeader = unauthenticated("the authorization header is malformed")
	errRepeatedToken = unauthenticated("the request carries its token more than once")
	errBadCookie     = unauthenticated("the token cookie is malformed")
)

// Verifier checks JWTs against the configured keys and key sets. It is
// safe for concurrent use. Verified tokens are remembered until they
// expire, so a repeated token costs one cache lookup.
type Verifier struct {
	cfg     JWTConfig
	static  []*verificationKey
	sources []*jwksSource
	// bound are the issuers some key or key set is bound to
	// (KeyConfig.Issuers, JWKSConfig.Issuers): only those keys verify
	// their tokens.
	bound  map[string]bool
	parser *jwt.Parser
	cache  *ristretto.Cache[string, *verified]
	now    func() time.Time
}

// verified is a cached verification: the caller, when the token expires,
// and the key generation it was verified under (a key set change makes
// it stale, so a retired key stops working at once).
type verified struct {
	caller  *Caller
	expires time.Time
	gen     uint64
}

// generation changes whenever a key set's content changes.
func (v *Verifier) generation() uint64 {
	var g uint64
	for _, s := range v.sources {
		g += s.gen.Load()
	}
	return g
}

// NewVerifier loads the configured keys and prepares the key sets; call
// Start to fetch them.
func NewVerifier(cfg JWTConfig) (*Verifier, error) {
	v := &Verifier{cfg: cfg, now: time.Now, bound: map[string]bool{}}
	for i, kc := range cfg.Keys {
		for _, iss := range kc.Issuers {
			v.bound[iss] = true
		}
		k, err := loadKey(kc)
		if err != nil {
			return nil, fmt.Errorf("auth.jwt.keys[%d]: %w", i, err)
		}
		k.issuers = kc.Issuers
		v.static = append(v.static, k)
	}
	for _, jc := range cfg.JWKS {
		for _, iss := range jc.Issuers {
			v.bound[iss] = true
		}
		v.sources = append(v.sources, newJWKSSource(jc, nil))
	}
	// keyFor is the algorithm allowlist: it returns no key for an
	// algorithm outside knownAlgorithms (alg "none" included) or outside
	// the allowlist of the token's key.
	opts := []jwt.ParserOption{jwt.WithLeeway(cfg.Leeway), jwt.WithIssuedAt(), jwt.WithTimeFunc(func() time.Time { return v.now() })}
	if cfg.RequireExpiration {
		opts = append(opts, jwt.WithExpirationRequired())
	}
	v.parser = jwt.NewParser(opts...)
	// Without keys no token verifies, so there is nothing to remember:
	// the cache (about 650 KB of counters and maps while empty) is made
	// only when some key can verify a token.
	if cfg.CacheSize > 0 && (len(v.static) > 0 || len(v.sources) > 0) {
		c, err := ristretto.NewCache(&ristretto.Config[string, *verified]{
			NumCounters: int64(cfg.CacheSize) * 10, MaxCost: int64(cfg.CacheSize), BufferItems: 64})
		if err != nil {
			return nil, fmt.Errorf("auth: token cache: %w", err)
		}
		v.cache = c
	}
	return v, nil
}

// Start fetches every key set once (waiting at most until ctx ends) and
// then refreshes them in the background until ctx ends.
func (v *Verifier) Start(ctx context.Context) {
	for _, s := range v.sources {
		s.update(ctx, true)
		go s.run(ctx)
	}
}

// Configured reports whether any key or key set is configured; without
// one every token is refused.
func (v *Verifier) Configured() bool { return len(v.static) > 0 || len(v.sources) > 0 }

// Verify checks a token and returns the caller it identifies.
func (v *Verifier) Verify(ctx context.Context, token string) (*Caller, error) {
	if len(token) > v.cfg.MaxTokenBytes {
		return nil, errTooLarge
	}
	gen := v.generation()
	if v.cache != nil {
		if c, ok := v.cache.Get(token); ok && c.gen == gen {
			if c.expires.IsZero() || v.now().Before(c.expires) {
				return c.caller, nil
			}
		}
	}
	claims := jwt.MapClaims{}
	tok, err := v.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) { return v.keyFor(ctx, t) })
	if err != nil {
		return nil, reasonOf(err)
	}
	if !tok.Valid {
		return nil, errSignature
	}
	if err := v.checkClaims(claims); err != nil {
		return nil, err
	}
	c, err := v.caller(claims)
	if err != nil {
		return nil, err
	}
	if v.cache != nil {
		entry := &verified{caller: c, gen: gen}
		ttl := time.Hour
		if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
			entry.expires = exp.Time
			ttl = exp.Time.Sub(v.now())
		}
		if ttl > 0 {
			v.cache.SetWithTTL(token, entry, 1, ttl)
		}
	}
	return c, nil
}

// reasonOf maps a jwt error to the reason shown to the client.
func reasonOf(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return errMalformed
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return errSignature
	case errors.Is(err, jwt.ErrTokenExpired):
		return errExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return errNotYetValid
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return errIssuedFuture
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return errNoExpiration
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return errAlgorithm
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		return errBadClaims
	}
	return errSignature
}

// keyFor picks the keys that may verify t: those with the token's key id
// (or, without one, every key) that allow the token's algorithm. An
// unknown key id refreshes the key sets, rate-limited.
func (v *Verifier) keyFor(ctx context.Context, t *jwt.Token) (any, error) {
	alg, _ := t.Header["alg"].(string)
	if !knownAlgorithms[alg] {
		return nil, errAlgorithm
	}
	kid, hasKID := t.Header["kid"].(string)
	if _, present := t.Header["kid"]; present && (!hasKID || kid == "" || len(kid) > 256) {
		return nil, errUnknownKey
	}
	// The issuer is read before the signature is checked: it only narrows
	// the keys, and a token signed by none of them is refused.
	iss, _ := t.Claims.GetIssuer()
	keys, idKnown, otherIssuer := v.candidates(kid, alg, iss)
	if len(keys) == 0 && kid != "" && !idKnown && len(v.sources) > 0 {
		refreshed := false
		for _, s := range v.sources {
			if s.update(ctx, false) {
				refreshed = true
			}
		}
		if refreshed {
			keys, idKnown, otherIssuer = v.candidates(kid, alg, iss)
		}
	}
	if len(keys) == 0 {
		switch {
		case kid != "" && !idKnown:
			return nil, errUnknownKey
		case otherIssuer:
			return nil, errIssuer
		case idKnown:
			return nil, errAlgorithm
		}
		return nil, errNoKey
	}
	set := jwt.VerificationKeySet{Keys: make([]jwt.VerificationKey, 0, len(keys))}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.key)
	}
	return set, nil
}

// candidates returns the keys for kid (any key when kid is empty) that
// allow alg and sign for issuer iss, whether any key has that id at all,
// and whether one was left out for signing for other issuers only. An
// issuer some key is bound to is that key's alone: a key bound to none
// does not verify its tokens, or binding one identity provider's keys
// would still let another, unbound, sign in its name.
// Before keys were bound to issuers, a key set trusted for one identity
// provider verified a token it signed with another's "iss" and any
// "sub": that provider's users, grants and cached private answers.
func (v *Verifier) candidates(kid, alg, iss string) (out []*verificationKey, known, otherIssuer bool) {
	consider := func(keys []*verificationKey, issuers []string) {
		for _, k := range keys {
			if kid != "" && k.id != kid {
				continue
			}
			known = true
			if !k.allows(alg) {
				continue
			}
			unbound := len(issuers) == 0 && len(k.issuers) == 0
			if len(issuers) > 0 && !slices.Contains(issuers, iss) || !k.signsFor(iss) || unbound && v.bound[iss] {
				otherIssuer = true
				continue
			}
			out = append(out, k)
		}
	}
	consider(v.static, nil)
	for _, s := range v.sources {
		consider(s.snapshot(), s.issuers)
	}
	return out, known, otherIssuer
}

// checkClaims applies the issuer and audience allowlists.
func (v *Verifier) checkClaims(claims jwt.MapClaims) error {
	if len(v.cfg.Issuers) > 0 {
		iss, err := claims.GetIssuer()
		if err != nil || !slices.Contains(v.cfg.Issuers, iss) {
			return errIssuer
		}
	}
	if len(v.cfg.Audiences) > 0 {
		aud, err := claims.GetAudience()
		if err != nil {
			return errAudience
		}
		ok := false
		for _, a := range aud {
			if slices.Contains(v.cfg.Audiences, a) {
				ok = true
				break
			}
		}
		if !ok {
			return errAudience
		}
	}
	return nil
}

// caller builds the Caller of verified claims.
func (v *Verifier) caller(claims jwt.MapClaims) (*Caller, error) {
	c := &Caller{Authenticated: true, Claims: map[string]any(claims)}
	if sub, ok := claims["sub"]; ok {
		s, isString := sub.(string)
		if !isString {
			return nil, errBadClaims
		}
		c.Subject = s
	}
	scopes, err := scopesOf(claims[v.cfg.ScopeClaim])
	if err != nil {
		return nil, errBadClaims
	}
	c.Scopes = scopes
	return c, nil
}

// scopesOf reads a scope claim: a space-separated string or an array of
// strings.
func scopesOf(v any) ([]string, error) {
	switch s := v.(type) {
	case nil:
		return nil, nil
	case string:
		return strings.Fields(s), nil
	case []any:
		out := make([]string, 0, len(s))
		for _, e := range s {
			str, ok := e.(string)
			if !ok {
				return nil, errors.New("scope array with a non-string")
			}
			out = append(out, str)
		}
		return out, nil
	}
	return nil, errors.New("scope claim of an unexpected type")
}
