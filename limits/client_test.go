package limits

import (
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/auth"
	"github.com/goccy/go-yaml"
)

func TestIdentify(t *testing.T) {
	cfg := DefaultConfig().Clients
	cfg.TierClaim = "plan"
	cfg.APIKeys = map[string]APIKey{"mobile": {Key: "s3cret", Tier: "gold"}, "web": {Key: "w3b"}}
	cfg.Assign = map[string]string{"jwt:vip": "platinum", "address:10.0.0.9": "internal"}
	addrFirst := cfg
	addrFirst.Identify = []string{SourceAddress, SourceJWT}
	forwarded := cfg
	forwarded.AddressHeader = "X-Forwarded-For"
	forwarded.TrustedProxies = []string{"192.0.2.1"}
	chain := forwarded
	chain.TrustedProxies = []string{"192.0.2.1", "10.0.0.0/8"}
	mappedNet := forwarded
	mappedNet.TrustedProxies = []string{"::ffff:192.0.2.0/120"}
	mappedAddr := forwarded
	mappedAddr.TrustedProxies = []string{"::ffff:192.0.2.1"}
	zoned := forwarded
	zoned.TrustedProxies = []string{"fe80::1%eth0"}
	rfc7239 := forwarded
	rfc7239.AddressHeader = "Forwarded"
	customClaim := cfg
	perAddress := cfg
	perAddress.IPv6Prefix = 128
	customClaim.JWTClaim = "client_id"

	alice := &auth.Caller{Authenticated: true, Subject: "alice", Claims: map[string]any{"iss": "https://a.example", "sub": "alice", "plan": "silver", "client_id": "app-7"}}
	// Two identity providers each have a user "alice".
	byIssuer := cfg
	byIssuer.TierClaim = ""
	byIssuer.Assign = nil
	byIssuer.AssignJWT = []JWTAssignment{{Issuer: "https://a.example", Sub: "alice", Tier: "platinum"}}
	aliceOfA := &auth.Caller{Authenticated: true, Subject: "alice", Claims: map[string]any{"iss": "https://a.example", "sub": "alice"}}
	aliceOfB := &auth.Caller{Authenticated: true, Subject: "alice", Claims: map[string]any{"iss": "https://b.example", "sub": "alice"}}
	tests := []struct {
		name   string
		cfg    ClientsConfig
		caller *auth.Caller
		header map[string]string
		remote string
		want   Client
	}{
		{name: "jwt subject and tier claim", cfg: cfg, caller: alice,
			want: Client{ID: `jwt:"https://a.example":alice`, Tier: "silver"}},
		{name: "jwt wins over api key", cfg: cfg, caller: alice, header: map[string]string{"X-API-Key": "s3cret"},
			want: Client{ID: `jwt:"https://a.example":alice`, Tier: "silver"}},
		{name: "configured claim", cfg: customClaim, caller: alice,
			want: Client{ID: `jwt:"https://a.example":app-7`, Tier: "silver"}},
		// Before, both were "jwt:alice": one rate limit, one tier.
		{name: "a subject is a user of its issuer", cfg: byIssuer, caller: aliceOfA,
			want: Client{ID: `jwt:"https://a.example":alice`, Tier: "platinum"}},
		{name: "the same subject of another issuer is another user", cfg: byIssuer, caller: aliceOfB,
			want: Client{ID: `jwt:"https://b.example":alice`, Tier: "default"}},
		{name: "no issuer is an issuer of its own", cfg: byIssuer, caller: &auth.Caller{Authenticated: true, Subject: "alice"},
			want: Client{ID: `jwt:"":alice`, Tier: "default"}},
		{name: "an issuer and subject cannot pose as another pair", cfg: byIssuer,
			caller: &auth.Caller{Authenticated: true, Subject: `a.example":alice`, Claims: map[string]any{"iss": "https://"}},
			want:   Client{ID: `jwt:"https://":a.example":alice`, Tier: "default"}},
		{name: "unauthenticated caller falls through", cfg: cfg, caller: &auth.Caller{Subject: "x"}, header: map[string]string{"X-API-Key": "s3cret"},
			want: Client{ID: "key:mobile", Tier: "gold"}},
		{name: "api key without tier", cfg: cfg, header: map[string]string{"X-API-Key": "w3b"},
			want: Client{ID: "key:web", Tier: "default"}},
		{name: "unknown api key is no identity", cfg: cfg, header: map[string]string{"X-API-Key": "made-up"},
			want: Client{ID: "address:192.0.2.1", Tier: "default"}},
		{name: "remote address", cfg: cfg,
			want: Client{ID: "address:192.0.2.1", Tier: "default"}},
		{name: "assignment by identity", cfg: cfg, caller: &auth.Caller{Authenticated: true, Subject: "vip"},
			want: Client{ID: `jwt:"":vip`, Tier: "platinum"}},
		{name: "assignment by address", cfg: cfg, remote: "10.0.0.9:5555",
			want: Client{ID: "address:10.0.0.9", Tier: "internal"}},
		{name: "configured order: address first", cfg: addrFirst, caller: alice,
			want: Client{ID: "address:192.0.2.1", Tier: "default"}},
		{name: "forwarded header: the last hop", cfg: forwarded, header: map[string]string{"X-Forwarded-For": "203.0.113.5, 198.51.100.7"},
			want: Client{ID: "address:198.51.100.7", Tier: "default"}},
		{name: "forwarded header garbage: the peer", cfg: forwarded, header: map[string]string{"X-Forwarded-For": "nonsense"},
			want: Client{ID: "address:192.0.2.1", Tier: "default"}},
		// A client reaching the gateway directly names no address of its
		// own (before: any, one per request, escaping its rate limit).
		{name: "forwarded header from an untrusted peer: the peer", cfg: forwarded, remote: "198.51.100.99:4000",
			header: map[string]string{"X-Forwarded-For": "203.0.113.5"},
			want:   Client{ID: "address:198.51.100.99", Tier: "default"}},
		{name: "forwarded header through trusted proxies: the first untrusted hop", cfg: chain,
			header: map[string]string{"X-Forwarded-For": "6.6.6.6, 203.0.113.5, 10.1.2.3"},
			want:   Client{ID: "address:203.0.113.5", Tier: "default"}},
		// An internal caller (itself in a trusted range) going through
		// the proxy: the first hop, as nginx's real_ip_recursive takes
		// it (before: the proxy, one bucket for every internal caller).
		{name: "forwarded header of trusted hops only: the first", cfg: chain,
			header: map[string]string{"X-Forwarded-For": "10.0.0.7"},
			want:   Client{ID: "address:10.0.0.7", Tier: "default"}},
		{name: "forwarded header of trusted hops only, two: the first", cfg: chain,
			header: map[string]string{"X-Forwarded-For": "10.0.0.7, 10.2.0.1"},
			want:   Client{ID: "address:10.0.0.7", Tier: "default"}},
		// No header from a trusted proxy: nothing names another client,
		// so the request is the proxy's own (nginx, Envoy and Traefik
		// keep the peer alike); an internal caller in the trusted range
		// calling directly is counted by its own address.
		{name: "no forwarded header from a trusted proxy: the proxy", cfg: chain,
			want: Client{ID: "address:192.0.2.1", Tier: "default"}},
		{name: "no forwarded header from an internal caller: itself", cfg: chain, remote: "10.3.0.5:4000",
			want: Client{ID: "address:10.3.0.5", Tier: "default"}},
		{name: "forwarded header with a port", cfg: forwarded,
			header: map[string]string{"X-Forwarded-For": "[2001:db8::1]:443"},
			want:   Client{ID: "address:2001:db8::/64", Tier: "default"}},
		{name: "RFC 7239 Forwarded", cfg: rfc7239,
			header: map[string]string{"Forwarded": `for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711"`},
			want:   Client{ID: "address:2001:db8:cafe::/64", Tier: "default"}},
		{name: "RFC 7239 Forwarded without for: the peer", cfg: rfc7239,
			header: map[string]string{"Forwarded": `proto=https;by=10.0.0.1`},
			want:   Client{ID: "address:192.0.2.1", Tier: "default"}},
		// Attacker-written headers: what a client writes itself comes
		// before what the trusted proxies appended, and names no one.
		{name: "forged trusted hop before the proxy's entry: the proxy's entry", cfg: chain,
			header: map[string]string{"X-Forwarded-For": "10.9.9.9, 203.0.113.5"},
			want:   Client{ID: "address:203.0.113.5", Tier: "default"}},
		{name: "forged chain from an untrusted peer: the peer", cfg: chain, remote: "198.51.100.99:4000",
			header: map[string]string{"X-Forwarded-For": "203.0.113.5, 10.1.2.3"},
			want:   Client{ID: "address:198.51.100.99", Tier: "default"}},
		{name: "garbage after the client's entry: the peer", cfg: chain,
			header: map[string]string{"X-Forwarded-For": "203.0.113.5, 10.1.2.3, ;;, 10.0.0.1"},
			want:   Client{ID: "address:192.0.2.1", Tier: "default"}},
		{name: "RFC 7239 obfuscated for: the peer", cfg: rfc7239,
			header: map[string]string{"Forwarded": `for="_hidden", for=unknown`},
			want:   Client{ID: "address:192.0.2.1", Tier: "default"}},
		{name: "RFC 7239 quoted IPv4 with port, mixed case key", cfg: rfc7239,
			header: map[string]string{"Forwarded": `proto=https;For="192.0.2.43:47011";by=10.0.0.1`},
			want:   Client{ID: "address:192.0.2.43", Tier: "default"}},
		{name: "RFC 7239 IPv6 unquoted with brackets", cfg: rfc7239,
			header: map[string]string{"Forwarded": `for=[2001:db8:cafe::17]`},
			want:   Client{ID: "address:2001:db8:cafe::/64", Tier: "default"}},
		{name: "more hops than a real chain: the peer", cfg: chain,
			header: map[string]string{"X-Forwarded-For": "203.0.113.5" + strings.Repeat(", 10.0.0.1", maxForwardedHops)},
			want:   Client{ID: "address:192.0.2.1", Tier: "default"}},
		{name: "IPv6 peer counts as its /64", cfg: cfg, remote: "[2001:db8::1]:443",
			want: Client{ID: "address:2001:db8::/64", Tier: "default"}},
		{name: "another address of the same /64 is the same client", cfg: cfg, remote: "[2001:db8::dead:beef:1:2]:443",
			want: Client{ID: "address:2001:db8::/64", Tier: "default"}},
		{name: "IPv6 zone dropped", cfg: cfg, remote: "[fe80::1%eth0]:443",
			want: Client{ID: "address:fe80::/64", Tier: "default"}},
		{name: "IPv6 whole address when configured", cfg: perAddress, remote: "[2001:db8::1]:443",
			want: Client{ID: "address:2001:db8::1", Tier: "default"}},
		{name: "IPv4-mapped IPv6 peer is IPv4", cfg: cfg, remote: "[::ffff:10.0.0.9]:443",
			want: Client{ID: "address:10.0.0.9", Tier: "internal"}},
		// Peers are compared unmapped: a trusted proxy written
		// IPv4-mapped is its IPv4 address or network (before, a mapped
		// network never matched and the header was ignored).
		{name: "trusted proxy network written IPv4-mapped", cfg: mappedNet, header: map[string]string{"X-Forwarded-For": "203.0.113.5"},
			want: Client{ID: "address:203.0.113.5", Tier: "default"}},
		{name: "trusted proxy written IPv4-mapped", cfg: mappedAddr, header: map[string]string{"X-Forwarded-For": "203.0.113.5"},
			want: Client{ID: "address:203.0.113.5", Tier: "default"}},
		{name: "trusted proxy network written IPv4-mapped, peer mapped too", cfg: mappedNet, remote: "[::ffff:192.0.2.77]:443",
			header: map[string]string{"X-Forwarded-For": "203.0.113.5"},
			want:   Client{ID: "address:203.0.113.5", Tier: "default"}},
		{name: "IPv4-mapped network holds no other peer", cfg: mappedNet, remote: "192.0.3.1:443",
			header: map[string]string{"X-Forwarded-For": "203.0.113.5"},
			want:   Client{ID: "address:192.0.3.1", Tier: "default"}},
		{name: "trusted proxy with a zone", cfg: zoned, remote: "[fe80::1%eth0]:443",
			header: map[string]string{"X-Forwarded-For": "203.0.113.5"},
			want:   Client{ID: "address:203.0.113.5", Tier: "default"}},
		{name: "forwarded IPv6 counts as its /64", cfg: forwarded, header: map[string]string{"X-Forwarded-For": "2001:db8:1:2:3:4:5:6"},
			want: Client{ID: "address:2001:db8:1:2::/64", Tier: "default"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/graphql", strings.NewReader("{}"))
			if tt.remote != "" {
				r.RemoteAddr = tt.remote
			}
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			if tt.caller != nil {
				r = r.WithContext(auth.WithCaller(r.Context(), tt.caller))
			}
			if got := NewIdentifier(tt.cfg).Identify(r); got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"negative static limit", func(c *Config) { c.MaxDepth = -1 }, "limits.max_depth: must not be negative"},
		{"cost mode", func(c *Config) { c.Cost.Mode = "strict" }, "limits.cost.mode: must be off, measure or enforce"},
		{"list size", func(c *Config) { c.Cost.ListSize = 0 }, "limits.cost.list_size: must be at least 1"},
		{"expose", func(c *Config) { c.Cost.Expose = "sometimes" }, "limits.cost.expose:"},
		{"identify source", func(c *Config) { c.Clients.Identify = []string{"cookie"} }, "limits.clients.identify[0]: must be jwt, api_key or address"},
		{"identify twice", func(c *Config) { c.Clients.Identify = []string{"jwt", "jwt"} }, "limits.clients.identify[1]: \"jwt\" is listed twice"},
		{"default tier missing", func(c *Config) { c.Tiers = map[string]TierConfig{"gold": {Requests: 1, Window: 1}} }, "limits.clients.default_tier: names no tier"},
		{"tier window", func(c *Config) { c.Tiers = map[string]TierConfig{"default": {Requests: 5}} }, "limits.tiers.default.window: must be positive"},
		{"tier cost without cost analysis", func(c *Config) {
			c.Cost.Mode = CostOff
			c.Tiers = map[string]TierConfig{"default": {Cost: 5, Window: 1}}
		}, "limits.tiers.default.cost: needs limits.cost.mode"},
		{"api key tier", func(c *Config) { c.Clients.APIKeys = map[string]APIKey{"m": {Key: "k", Tier: "nope"}} }, "limits.clients.api_keys.m.tier: names no tier"},
		{"empty api key", func(c *Config) { c.Clients.APIKeys = map[string]APIKey{"m": {}} }, "limits.clients.api_keys.m.key: must not be empty"},
		{"duplicate api key", func(c *Config) { c.Clients.APIKeys = map[string]APIKey{"a": {Key: "k"}, "b": {Key: "k"}} }, "limits.clients.api_keys.b.key: is the same key as a"},
		{"assign tier", func(c *Config) { c.Clients.Assign = map[string]string{"jwt:x": "nope"} }, "limits.clients.assign.jwt:x: names no tier"},
		{"on error", func(c *Config) { c.Redis.OnError = "panic" }, "limits.redis.on_error: must be local or closed"},
		{"address header without trusted proxies", func(c *Config) { c.Clients.AddressHeader = "X-Forwarded-For" }, "limits.clients.address_header: needs limits.clients.trusted_proxies"},
		{"trusted proxy", func(c *Config) {
			c.Clients.AddressHeader = "X-Forwarded-For"
			c.Clients.TrustedProxies = []string{"10.0.0.0/33"}
		}, "limits.clients.trusted_proxies[0]: \"10.0.0.0/33\" is not an address"},
		{"IPv4-mapped network wider than IPv4", func(c *Config) {
			c.Clients.AddressHeader = "X-Forwarded-For"
			c.Clients.TrustedProxies = []string{"::ffff:0.0.0.0/95"}
		}, "limits.clients.trusted_proxies[0]: \"::ffff:0.0.0.0/95\" is an IPv4-mapped network wider than IPv4"},
		{"local fraction", func(c *Config) { c.Redis.LocalFraction = 2 }, "limits.redis.local_fraction: must be in (0, 1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.change(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if got := DefaultConfig().Static(); got != DefaultStatic() {
		t.Fatalf("Static() %+v, want DefaultStatic %+v", got, DefaultStatic())
	}
}

// TestConfigYAML decodes a full section as the config package does
// (strict keys, durations as strings).
func TestConfigYAML(t *testing.T) {
	src := `
max_depth: 12
max_fragment_depth: 8
cost:
  mode: enforce
  max: 5000
  list_size: 20
  expose: always
  actual: true
clients:
  identify: [jwt, api_key, address]
  jwt_claim: client_id
  tier_claim: plan
  api_key_header: X-Api-Key
  api_keys:
    mobile: {key: s3cret, tier: gold}
  address_header: X-Forwarded-For
  trusted_proxies: [10.0.0.0/8, 192.0.2.1]
  default_tier: free
  assign:
    "jwt:partner-1": gold
tiers:
  free: {requests: 60, cost: 10000, window: 1m}
  gold: {requests: 600, window: 1m}
redis:
  on_error: closed
  local_fraction: 0.5
  key_prefix: "gw:"
`
	c := DefaultConfig()
	if err := yaml.UnmarshalWithOptions([]byte(src), &c, yaml.Strict()); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.MaxDepth != 12 || c.MaxTokens != DefaultStatic().MaxTokens || c.Static().MaxFragmentDepth != 8 ||
		c.Cost.Max != 5000 || c.Tiers["free"].Window != time.Minute || c.Clients.APIKeys["mobile"].Tier != "gold" ||
		c.Redis.OnError != "closed" || c.Clients.Assign["jwt:partner-1"] != "gold" {
		t.Fatalf("decoded %+v", c)
	}
	if err := yaml.UnmarshalWithOptions([]byte("cost: {mdoe: enforce}"), &c, yaml.Strict()); err == nil {
		t.Fatal("a misspelt key was accepted")
	}
}

// A client's huge address header costs the entries read, not its length.
func TestIdentifyHugeForwardedHeader(t *testing.T) {
	cfg := DefaultConfig().Clients
	cfg.AddressHeader = "X-Forwarded-For"
	cfg.TrustedProxies = []string{"192.0.2.1"}
	id := NewIdentifier(cfg)
	r := httptest.NewRequest("POST", "/graphql", strings.NewReader("{}"))
	r.Header.Set("X-Forwarded-For", strings.Repeat("6.6.6.6,", 1<<17)+"203.0.113.5")
	if got := id.Identify(r); got.ID != "address:203.0.113.5" {
		t.Fatalf("got %+v", got)
	}
	if n := allocatedBytes(func() { id.Identify(r) }); n > 64<<10 {
		t.Fatalf("%d bytes allocated for a 1 MB header", n)
	}
	f := DefaultConfig().Clients
	f.AddressHeader = "Forwarded"
	f.TrustedProxies = []string{"192.0.2.1"}
	id = NewIdentifier(f)
	r.Header.Del("X-Forwarded-For")
	r.Header.Set("Forwarded", strings.Repeat(";", 1<<20)+"for=203.0.113.5")
	if got := id.Identify(r); got.ID != "address:203.0.113.5" {
		t.Fatalf("got %+v", got)
	}
	if n := allocatedBytes(func() { id.Identify(r) }); n > 64<<10 {
		t.Fatalf("%d bytes allocated for a 1 MB header", n)
	}
}

// allocatedBytes is what f allocates.
func allocatedBytes(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
