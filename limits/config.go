package limits

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is the "limits" section of the gateway configuration: static
// request limits, cost analysis, client identification and the tiers of
// per-client rate limits. The request body cap and the batch size are in
// the "server" section (server.max_body_bytes, server.max_batch).
type Config struct {
	// MaxTokens caps the lexical tokens of a document.
	MaxTokens int `yaml:"max_tokens"`
	// MaxDepth caps the nesting of selection sets after fragment expansion.
	MaxDepth int `yaml:"max_depth"`
	// MaxAliases caps the aliased fields of an operation.
	MaxAliases int `yaml:"max_aliases"`
	// MaxFields caps the field selections of an operation after fragment
	// expansion.
	MaxFields int `yaml:"max_fields"`
	// MaxRootFields caps the fields at the top level of an operation.
	MaxRootFields int `yaml:"max_root_fields"`
	// MaxDirectivesPerField caps the directives on one field.
	MaxDirectivesPerField int `yaml:"max_directives_per_field"`
	// MaxNesting caps the raw nesting of {, ( and [ in the document text.
	MaxNesting int `yaml:"max_nesting"`
	// MaxFragmentDepth caps chains of fragments spreading fragments.
	MaxFragmentDepth int `yaml:"max_fragment_depth"`
	// MaxFieldMerges caps the work of checking that fields can merge.
	MaxFieldMerges int `yaml:"max_field_merges"`
	// MaxFieldCycles caps how many times one field (Type.field) may be
	// selected on one path of an operation, the recursion of a cyclic
	// schema (SuggestedMaxFieldCycles); 0, the default, disables the
	// limit.
	MaxFieldCycles int `yaml:"max_field_cycles"`

	// Cost configures cost analysis.
	Cost CostConfig `yaml:"cost"`
	// Clients says how a request's client is identified and which tier
	// it belongs to.
	Clients ClientsConfig `yaml:"clients"`
	// Tiers are the rate limit classes by name; empty means no per-client
	// rate limits.
	Tiers map[string]TierConfig `yaml:"tiers"`
	// Redis configures the shared counters used when redis.url is set.
	Redis RedisConfig `yaml:"redis"`
}

// CostConfig configures cost analysis.
type CostConfig struct {
	// Mode is "off", "measure" (compute and report costs) or "enforce"
	// (also refuse operations over Max).
	Mode string `yaml:"mode"`
	// Max is the highest estimated cost an operation may have in enforce
	// mode; 0 means no per-operation maximum.
	Max float64 `yaml:"max"`
	// ListSize is the assumed size of lists no @listSize sizes.
	ListSize int `yaml:"list_size"`
	// Expose returns the cost in the response extensions: "header" when
	// the request carries "Fedgate-Include-Cost: true", "always" or
	// "never".
	Expose string `yaml:"expose"`
	// Actual computes the actual cost from every response for Observe
	// (responses that expose the cost always get it).
	Actual bool `yaml:"actual"`
}

// Cost modes.
const (
	CostOff     = "off"
	CostMeasure = "measure"
	CostEnforce = "enforce"
)

// ClientsConfig says how clients are identified.
type ClientsConfig struct {
	// Identify lists the sources of a client's identity, first match
	// wins: "jwt" (a claim of the verified token), "api_key" (a configured
	// key in a header) and "address" (the remote address).
	Identify []string `yaml:"identify"`
	// JWTClaim is the claim naming the client, "sub" by default.
	JWTClaim string `yaml:"jwt_claim"`
	// TierClaim is a claim naming the client's tier; empty ignores it.
	TierClaim string `yaml:"tier_claim"`
	// APIKeyHeader is the header carrying an API key.
	APIKeyHeader string `yaml:"api_key_header"`
	// APIKeys are the known API keys by client name. A key not listed
	// identifies nobody (the next source applies), so clients cannot
	// escape their limits by inventing keys.
	APIKeys map[string]APIKey `yaml:"api_keys"`
	// AddressHeader takes the remote address from this header
	// (X-Forwarded-For, or Forwarded's for= parameters) instead of the
	// TCP peer, when the peer is one of TrustedProxies: its entries are
	// read from the last one back, skipping the trusted proxies', and the
	// first other address is the client's. A client that reaches the
	// gateway directly cannot pick its address by sending the header.
	AddressHeader string `yaml:"address_header"`
	// TrustedProxies are the addresses or CIDR networks of the proxies in
	// front of the gateway that write AddressHeader; required with it.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// IPv6Prefix counts IPv6 clients by network prefix of this many bits
	// (64 by default): one host usually holds a whole /64 and can rotate
	// addresses inside it at will. 128 counts every address alone.
	IPv6Prefix int `yaml:"ipv6_prefix"`
	// DefaultTier is the tier of clients no rule places.
	DefaultTier string `yaml:"default_tier"`
	// Assign places clients in tiers by identity: "key:mobile" or
	// "address:10.0.0.7" to a tier name. "jwt:alice" names the token
	// subject alice of any issuer: the gateway's configuration accepts
	// it only when auth.jwt trusts exactly one issuer (CheckIssuers);
	// else write AssignJWT.
	Assign map[string]string `yaml:"assign"`
	// AssignJWT places the token callers of one issuer in tiers.
	AssignJWT []JWTAssignment `yaml:"assign_jwt"`
}

// JWTAssignment places one token caller in a tier: a subject is one
// user only together with its issuer (two identity providers may both
// have an "alice").
type JWTAssignment struct {
	// Issuer is the token's "iss".
	Issuer string `yaml:"issuer"`
	// Sub is the value of ClientsConfig.JWTClaim ("sub" by default).
	Sub string `yaml:"sub"`
	// Tier is the tier's name.
	Tier string `yaml:"tier"`
}

// APIKey is one known API key.
type APIKey struct {
	// Key is the secret the client sends; write it as ${ENV_VAR}.
	Key string `yaml:"key"`
	// Tier is the key's tier; empty uses the default tier.
	Tier string `yaml:"tier"`
}

// TierConfig is one tier's allowance per window.
type TierConfig struct {
	// Requests per window; 0 is unlimited.
	Requests int64 `yaml:"requests"`
	// Cost points (estimated cost) per window; 0 is unlimited.
	Cost int64 `yaml:"cost"`
	// Window is the period the allowances refill over, evenly (GCRA).
	Window time.Duration `yaml:"window"`
}

// RedisConfig configures the shared counters.
type RedisConfig struct {
	// OnError is what happens while Redis is unreachable: "local" keeps
	// serving with limits counted in each instance, "closed" refuses
	// requests with 503.
	OnError string `yaml:"on_error"`
	// LocalFraction scales the tiers for the local fallback (1/N for N
	// instances keeps a client's total near its limit).
	LocalFraction float64 `yaml:"local_fraction"`
	// KeyPrefix starts every Redis key.
	KeyPrefix string `yaml:"key_prefix"`
}

// Identity sources for ClientsConfig.Identify.
const (
	SourceJWT     = "jwt"
	SourceAPIKey  = "api_key"
	SourceAddress = "address"
)

// DefaultConfig returns the defaults: the static limits of DefaultStatic,
// fragment chains of at most 10, cost measured (not enforced) with lists
// assumed to hold 10, exposed on request, and no per-client rate limits.
func DefaultConfig() Config {
	s := DefaultStatic()
	return Config{
		MaxTokens:             s.MaxTokens,
		MaxDepth:              s.MaxDepth,
		MaxAliases:            s.MaxAliases,
		MaxFields:             s.MaxFields,
		MaxRootFields:         s.MaxRootFields,
		MaxDirectivesPerField: s.MaxDirectivesPerField,
		MaxNesting:            s.MaxNesting,
		MaxFragmentDepth:      s.MaxFragmentDepth,
		MaxFieldMerges:        s.MaxFieldMerges,
		Cost:                  CostConfig{Mode: CostMeasure, ListSize: DefaultListSize, Expose: "header"},
		Clients: ClientsConfig{
			Identify:     []string{SourceJWT, SourceAPIKey, SourceAddress},
			JWTClaim:     "sub",
			APIKeyHeader: "X-API-Key",
			DefaultTier:  "default",
			IPv6Prefix:   64,
		},
		Redis: RedisConfig{OnError: "local", LocalFraction: 1, KeyPrefix: "fedgate:ratelimit:"},
	}
}

// Static returns the static limits of the section.
func (c Config) Static() Static {
	return Static{
		MaxTokens:             c.MaxTokens,
		MaxDepth:              c.MaxDepth,
		MaxAliases:            c.MaxAliases,
		MaxFields:             c.MaxFields,
		MaxRootFields:         c.MaxRootFields,
		MaxDirectivesPerField: c.MaxDirectivesPerField,
		MaxNesting:            c.MaxNesting,
		MaxFragmentDepth:      c.MaxFragmentDepth,
		MaxFieldMerges:        c.MaxFieldMerges,
	}
}

// Validate checks the section; errors name the key.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("limits.%s: "+format, append([]any{key}, args...)...))
	}
	for _, l := range []struct {
		key string
		v   int
	}{
		{"max_tokens", c.MaxTokens}, {"max_depth", c.MaxDepth}, {"max_aliases", c.MaxAliases},
		{"max_fields", c.MaxFields}, {"max_root_fields", c.MaxRootFields},
		{"max_directives_per_field", c.MaxDirectivesPerField}, {"max_nesting", c.MaxNesting},
		{"max_fragment_depth", c.MaxFragmentDepth}, {"max_field_merges", c.MaxFieldMerges},
		{"max_field_cycles", c.MaxFieldCycles},
	} {
		if l.v < 0 {
			bad(l.key, "must not be negative (0 disables the limit)")
		}
	}
	if c.Clients.AddressHeader != "" && len(c.Clients.TrustedProxies) == 0 {
		bad("clients.address_header", "needs limits.clients.trusted_proxies, the proxies that write it (else any client could name its own address)")
	}
	for i, p := range c.Clients.TrustedProxies {
		switch _, err := parsePrefix(p); {
		case errors.Is(err, errMappedWide):
			bad(fmt.Sprintf("clients.trusted_proxies[%d]", i), "%q is %v (write IPv4 networks as a.b.c.d/n)", p, err)
		case err != nil:
			bad(fmt.Sprintf("clients.trusted_proxies[%d]", i), "%q is not an address or a CIDR network", p)
		}
	}
	if c.Clients.IPv6Prefix < 0 || c.Clients.IPv6Prefix > 128 {
		bad("clients.ipv6_prefix", "must be between 1 and 128")
	}
	switch c.Cost.Mode {
	case CostOff, CostMeasure, CostEnforce:
	default:
		bad("cost.mode", "must be off, measure or enforce, not %q", c.Cost.Mode)
	}
	if c.Cost.Max < 0 {
		bad("cost.max", "must not be negative")
	}
	if c.Cost.ListSize < 1 {
		bad("cost.list_size", "must be at least 1")
	}
	switch c.Cost.Expose {
	case "header", "always", "never":
	default:
		bad("cost.expose", "must be header, always or never, not %q", c.Cost.Expose)
	}
	for i, s := range c.Clients.Identify {
		if s != SourceJWT && s != SourceAPIKey && s != SourceAddress {
			bad(fmt.Sprintf("clients.identify[%d]", i), "must be jwt, api_key or address, not %q", s)
		} else if slices.Index(c.Clients.Identify, s) != i {
			bad(fmt.Sprintf("clients.identify[%d]", i), "%q is listed twice", s)
		}
	}
	if slices.Contains(c.Clients.Identify, SourceJWT) && c.Clients.JWTClaim == "" {
		bad("clients.jwt_claim", "must not be empty when identify lists jwt")
	}
	if len(c.Clients.APIKeys) > 0 && c.Clients.APIKeyHeader == "" {
		bad("clients.api_key_header", "must not be empty when api_keys are set")
	}
	seen := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(c.Clients.APIKeys)) {
		k := c.Clients.APIKeys[name]
		if k.Key == "" {
			bad("clients.api_keys."+name+".key", "must not be empty")
		} else if other, dup := seen[k.Key]; dup {
			bad("clients.api_keys."+name+".key", "is the same key as %s", other)
		}
		seen[k.Key] = name
		if k.Tier != "" && !c.hasTier(k.Tier) {
			bad("clients.api_keys."+name+".tier", "names no tier in limits.tiers: %q", k.Tier)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(c.Clients.Assign)) {
		if !c.hasTier(c.Clients.Assign[id]) {
			bad("clients.assign."+id, "names no tier in limits.tiers: %q", c.Clients.Assign[id])
		}
	}
	assigned := map[string]int{}
	for i, a := range c.Clients.AssignJWT {
		key := fmt.Sprintf("clients.assign_jwt[%d]", i)
		switch id := JWTClientID(a.Issuer, a.Sub); {
		case a.Issuer == "":
			bad(key+".issuer", "must not be empty (the token's iss)")
		case a.Sub == "":
			bad(key+".sub", "must not be empty (the token's %s)", c.Clients.JWTClaim)
		case assigned[id] > 0:
			bad(key, "places the same caller as limits.clients.assign_jwt[%d]", assigned[id]-1)
		default:
			assigned[id] = i + 1
		}
		if !c.hasTier(a.Tier) {
			bad(key+".tier", "names no tier in limits.tiers: %q", a.Tier)
		}
	}
	if len(c.Tiers) > 0 && !c.hasTier(c.Clients.DefaultTier) {
		bad("clients.default_tier", "names no tier in limits.tiers: %q", c.Clients.DefaultTier)
	}
	for _, name := range slices.Sorted(maps.Keys(c.Tiers)) {
		t := c.Tiers[name]
		if t.Requests < 0 {
			bad("tiers."+name+".requests", "must not be negative")
		}
		if t.Cost < 0 {
			bad("tiers."+name+".cost", "must not be negative")
		}
		if t.Cost > 0 && c.Cost.Mode == CostOff {
			bad("tiers."+name+".cost", "needs limits.cost.mode measure or enforce")
		}
		if t.Window <= 0 && (t.Requests > 0 || t.Cost > 0) {
			bad("tiers."+name+".window", "must be positive")
		}
	}
	switch c.Redis.OnError {
	case "local", "closed":
	default:
		bad("redis.on_error", "must be local or closed, not %q", c.Redis.OnError)
	}
	if c.Redis.LocalFraction <= 0 || c.Redis.LocalFraction > 1 {
		bad("redis.local_fraction", "must be in (0, 1]")
	}
	if c.Redis.KeyPrefix == "" {
		bad("redis.key_prefix", "must not be empty")
	}
	return errors.Join(errs...)
}

// CheckIssuers checks the token callers placed in tiers against the
// issuers the gateway's token verification trusts: trusted lists them,
// or is nil when any issuer may be verified (no auth.jwt.issuers, a key
// bound to none). A bare "jwt:<sub>" in Assign is one user only when
// exactly one issuer is trusted; else it would place the users of that
// name of every identity provider, and the error says what to write.
// An AssignJWT issuer that no key may sign for places no one.
func (c ClientsConfig) CheckIssuers(trusted []string) error {
	var errs []error
	for _, id := range slices.Sorted(maps.Keys(c.Assign)) {
		sub, ok := strings.CutPrefix(id, "jwt:")
		if !ok || len(trusted) == 1 {
			continue
		}
		if q, err := strconv.QuotedPrefix(sub); err == nil && strings.HasPrefix(sub[len(q):], ":") {
			continue // a whole id, issuer included (JWTClientID)
		}
		which := "tokens of any issuer (no auth.jwt.issuers, or a key bound to none)"
		iss := "ISSUER"
		if len(trusted) > 1 {
			which = fmt.Sprintf("tokens of %d issuers (%s)", len(trusted), strings.Join(trusted, ", "))
			iss = trusted[0]
		}
		errs = append(errs, fmt.Errorf("limits.clients.assign.%s: names a token subject without its issuer, and auth.jwt verifies %s; "+
			"write it as limits.clients.assign_jwt: [{issuer: %s, sub: %s, tier: %s}]", id, which, iss, sub, c.Assign[id]))
	}
	for i, a := range c.AssignJWT {
		if trusted != nil && a.Issuer != "" && !slices.Contains(trusted, a.Issuer) {
			errs = append(errs, fmt.Errorf("limits.clients.assign_jwt[%d].issuer: %q is not an issuer auth.jwt verifies (%s)", i, a.Issuer, strings.Join(trusted, ", ")))
		}
	}
	return errors.Join(errs...)
}

func (c Config) hasTier(name string) bool {
	_, ok := c.Tiers[name]
	return ok
}
