package limits

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/fedgate/gateway/auth"
)

// Client is who a request is counted against.
type Client struct {
	// ID is the source and the identity: "jwt:<claim value>",
	// "key:<client name>" or "address:<ip>".
	ID string
	// Tier is the name of the client's tier.
	Tier string
}

// Identifier finds the client of a request, following ClientsConfig.
type Identifier struct {
	cfg  ClientsConfig
	keys map[[32]byte]keyEntry // by sha256 of the key
}

type keyEntry struct{ name, tier string }

// NewIdentifier returns an identifier for cfg (validated by
// Config.Validate).
func NewIdentifier(cfg ClientsConfig) *Identifier {
	id := &Identifier{cfg: cfg, keys: map[[32]byte]keyEntry{}}
	for name, k := range cfg.APIKeys {
		id.keys[sha256.Sum256([]byte(k.Key))] = keyEntry{name: name, tier: k.Tier}
	}
	return id
}

// Identify returns the client of r: the first source in the configured
// order that knows it. The verified JWT caller is read from r's context
// (auth.CallerFrom). The address source always knows one, so a request
// with no other identity is counted by its address.
func (id *Identifier) Identify(r *http.Request) Client {
	for _, src := range id.cfg.Identify {
		switch src {
		case SourceJWT:
			if c, ok := id.fromJWT(r); ok {
				return c
			}
		case SourceAPIKey:
			if c, ok := id.fromAPIKey(r); ok {
				return c
			}
		case SourceAddress:
			return id.withTier(Client{ID: "address:" + id.address(r)}, "")
		}
	}
	return id.withTier(Client{ID: "address:" + id.address(r)}, "")
}

func (id *Identifier) fromJWT(r *http.Request) (Client, bool) {
	caller := auth.CallerFrom(r.Context())
	if caller == nil || !caller.Authenticated {
		return Client{}, false
	}
	v := claimString(caller.Claims[id.cfg.JWTClaim])
	if v == "" && id.cfg.JWTClaim == "sub" {
		v = caller.Subject
	}
	if v == "" {
		return Client{}, false
	}
	tier := ""
	if id.cfg.TierClaim != "" {
		tier = claimString(caller.Claims[id.cfg.TierClaim])
	}
	return id.withTier(Client{ID: "jwt:" + v}, tier), true
}

func (id *Identifier) fromAPIKey(r *http.Request) (Client, bool) {
	if id.cfg.APIKeyHeader == "" || len(id.keys) == 0 {
		return Client{}, false
	}
	key := r.Header.Get(id.cfg.APIKeyHeader)
	if key == "" {
		return Client{}, false
	}
	e, ok := id.keys[sha256.Sum256([]byte(key))]
	if !ok {
		return Client{}, false
	}
	return id.withTier(Client{ID: "key:" + e.name}, e.tier), true
}

// address is the client's IP: the last address of the configured header
// (the one the nearest proxy appended) or the TCP peer. An IPv6 address
// stands for its network of ClientsConfig.IPv6Prefix bits ("2001:db8::/64").
func (id *Identifier) address(r *http.Request) string {
	if h := id.cfg.AddressHeader; h != "" {
		if v := r.Header.Values(h); len(v) > 0 {
			last := v[len(v)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if ip, err := netip.ParseAddr(strings.TrimSpace(last)); err == nil {
				return id.network(ip)
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return id.network(ip)
	}
	return host
}

// network is the counted form of ip: an IPv4 address (also when written
// IPv4-mapped) as itself, an IPv6 address as its prefix.
func (id *Identifier) network(ip netip.Addr) string {
	ip = ip.Unmap().WithZone("")
	bits := id.cfg.IPv6Prefix
	if bits == 0 {
		bits = 64
	}
	if ip.Is4() || bits >= 128 {
		return ip.String()
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return ip.String()
	}
	return p.String()
}

// withTier places c: an explicit assignment wins, then the tier its
// credential names, then the default tier. A named tier that does not
// exist falls back to the default.
func (id *Identifier) withTier(c Client, named string) Client {
	if t, ok := id.cfg.Assign[c.ID]; ok {
		c.Tier = t
		return c
	}
	c.Tier = named
	if c.Tier == "" {
		c.Tier = id.cfg.DefaultTier
	}
	return c
}

func claimString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64, int, int64, json.Number:
		return fmt.Sprint(v)
	}
	return ""
}
