package limits

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/fedgate/gateway/auth"
)

// Client is who a request is counted against.
type Client struct {
	// ID is the source and the identity: `jwt:"<issuer>":<claim value>`
	// (JWTClientID), "key:<client name>" or "address:<ip>".
	ID string
	// Tier is the name of the client's tier.
	Tier string
}

// Identifier finds the client of a request, following ClientsConfig.
type Identifier struct {
	cfg  ClientsConfig
	keys map[[32]byte]keyEntry // by sha256 of the key
	// jwtTiers are ClientsConfig.AssignJWT by JWTClientID.
	jwtTiers map[string]string
	// proxies are ClientsConfig.TrustedProxies.
	proxies []netip.Prefix
}

type keyEntry struct{ name, tier string }

// JWTClientID is the id of a token's caller: the issuer, quoted (so no
// issuer and claim value read as another pair), and the claim value. A
// subject is one user only within its issuer: two identity providers
// trusted by one gateway may both have an "alice", who must not share
// a rate limit, nor a tier assignment.
func JWTClientID(iss, v string) string {
	return "jwt:" + strconv.Quote(iss) + ":" + v
}

// NewIdentifier returns an identifier for cfg (validated by
// Config.Validate).
func NewIdentifier(cfg ClientsConfig) *Identifier {
	id := &Identifier{cfg: cfg, keys: map[[32]byte]keyEntry{}, jwtTiers: map[string]string{}}
	for _, a := range cfg.AssignJWT {
		id.jwtTiers[JWTClientID(a.Issuer, a.Sub)] = a.Tier
	}
	for name, k := range cfg.APIKeys {
		id.keys[sha256.Sum256([]byte(k.Key))] = keyEntry{name: name, tier: k.Tier}
	}
	for _, p := range cfg.TrustedProxies {
		if pfx, err := parsePrefix(p); err == nil {
			id.proxies = append(id.proxies, pfx)
		}
	}
	return id
}

// errMappedWide refuses an IPv4-mapped network shorter than /96, which
// would hold IPv6 addresses besides IPv4 ones.
var errMappedWide = errors.New("an IPv4-mapped network wider than IPv4")

// parsePrefix reads a CIDR network or a single address. Peers and
// forwarded entries are compared unmapped (::ffff:192.0.2.1 is
// 192.0.2.1), so an IPv4-mapped network is read as its IPv4 network:
// ::ffff:10.0.0.0/104 is 10.0.0.0/8 (kept mapped, it would match no
// one).
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if a := p.Addr(); a.Is4In6() {
			if p.Bits() < 96 {
				return netip.Prefix{}, errMappedWide
			}
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
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
	iss, _ := caller.Claims["iss"].(string)
	c := Client{ID: JWTClientID(iss, v)}
	if t, ok := id.jwtTiers[c.ID]; ok {
		c.Tier = t
		return c, true
	}
	if t, ok := id.cfg.Assign["jwt:"+v]; ok {
		// A bare subject: validation let it through only when one issuer
		// is trusted (ClientsConfig.CheckIssuers).
		c.Tier = t
		return c, true
	}
	return id.withTier(c, tier), true
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

// address is the client's IP: the TCP peer, or, when the peer is a
// trusted proxy, the last address of the configured header that is not a
// trusted proxy's (each proxy appends the address it received the
// request from, so what a client wrote itself comes before). An IPv6
// address stands for its network of ClientsConfig.IPv6Prefix bits
// ("2001:db8::/64").
func (id *Identifier) address(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap().WithZone("")
	if h := id.cfg.AddressHeader; h != "" && id.trusted(peer) {
		if ip, ok := id.forwarded(r.Header.Values(h), strings.EqualFold(h, "Forwarded")); ok {
			return id.network(ip)
		}
	}
	return id.network(peer)
}

// maxForwardedHops bounds the entries of the address header read: a
// longer chain of trusted proxies than this is not a real one.
const maxForwardedHops = 32

// forwarded returns the last address of the header values that is not a
// trusted proxy's, or, when all are trusted, the first: the request began
// at a trusted host (an internal caller going through the proxy), which
// is the client, as nginx's real_ip_recursive and Envoy's trusted hops
// take it (before, every such caller was counted as the proxy, sharing
// one bucket). False when an entry before the result is not an address
// (a proxy that did not append, or garbage), or there is none.
func (id *Identifier) forwarded(values []string, rfc7239 bool) (netip.Addr, bool) {
	var first netip.Addr // the leftmost entry read, all trusted so far
	hops := 0
	for i := len(values) - 1; i >= 0; i-- {
		// Entries are taken from the end, one at a time: a client's long
		// header costs no more than maxForwardedHops entries.
		for rest, more := values[i], true; more; {
			entry := rest
			if k := strings.LastIndexByte(rest, ','); k >= 0 {
				rest, entry = rest[:k], rest[k+1:]
			} else {
				more = false
			}
			if hops++; hops > maxForwardedHops {
				return netip.Addr{}, false
			}
			ip, ok := parseHop(entry, rfc7239)
			if !ok {
				return netip.Addr{}, false
			}
			if !id.trusted(ip) {
				return ip, true
			}
			first = ip
		}
	}
	return first, first.IsValid()
}

// parseHop reads one entry of X-Forwarded-For ("203.0.113.5",
// "[2001:db8::1]:443") or of Forwarded ("for=192.0.2.60;proto=http",
// `for="[2001:db8::1]:4711"`).
func parseHop(entry string, rfc7239 bool) (netip.Addr, bool) {
	v := strings.TrimSpace(entry)
	if rfc7239 {
		found := false
		for rest, more := v, true; more && !found; {
			var param string
			param, rest, more = strings.Cut(rest, ";")
			k, val, ok := strings.Cut(strings.TrimSpace(param), "=")
			if ok && strings.EqualFold(k, "for") {
				v, found = strings.Trim(val, `"`), true
			}
		}
		if !found {
			return netip.Addr{}, false
		}
	}
	if ap, err := netip.ParseAddrPort(v); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(v, "["), "]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return ip.Unmap().WithZone(""), true
}

// PeerKey is what counts the connections of the TCP peer ip: its network
// as the address source counts a client (an IPv6 address by its network
// of IPv6Prefix bits, since one host may use any address of its /64), and
// whether ip is a trusted proxy's, whose connections carry many clients.
func (id *Identifier) PeerKey(ip netip.Addr) (netip.Prefix, bool) {
	ip = ip.Unmap().WithZone("")
	bits := id.cfg.IPv6Prefix
	if bits == 0 {
		bits = 64
	}
	if ip.Is4() {
		bits = 32
	}
	p, err := ip.Prefix(min(bits, ip.BitLen()))
	if err != nil {
		p = netip.PrefixFrom(ip, ip.BitLen())
	}
	return p, id.trusted(ip)
}

// trusted reports whether ip is a trusted proxy's.
func (id *Identifier) trusted(ip netip.Addr) bool {
	for _, p := range id.proxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
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
