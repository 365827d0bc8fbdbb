package server

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/fedgate/gateway/limits"
)

// CodeConnectionLimit refuses a connection of an address that has
// HTTPOptions.MaxConnectionsPerAddress open (429).
const CodeConnectionLimit = "CONNECTION_LIMIT"

// connLimit bounds the connections one address holds open on the public
// listener, counted from their acceptance to their close (a WebSocket
// leaves the count when it is upgraded: the stream limits count it from
// there). Before, one address could open connections until the process
// ran out of file descriptors or memory: each idle or slow one is held
// for idle_timeout or read_header_timeout, about 17 KB of memory and a
// descriptor the subgraph connections need too. Trusted proxies
// (limits.clients.trusted_proxies) are not counted: their connections
// carry many clients. The bound applies only while the listener holds
// at least busyAt counted connections in all (by default half the
// process's descriptor limit): an address that is not listed as a
// proxy but carries many clients (a load balancer, an ingress, a NAT)
// is never refused while descriptors are plentiful, and when they run
// short the addresses holding the most are the ones refused.
type connLimit struct {
	max    int
	busyAt int
	policy *limits.Policy
	rec    *refusals

	mu    sync.Mutex
	open  map[netip.Prefix]int
	conns map[net.Conn]netip.Prefix // the counted ones: len is the total
}

func newConnLimit(max, busyAt int, policy *limits.Policy, rec *refusals) *connLimit {
	return &connLimit{max: max, busyAt: busyAt, policy: policy, rec: rec, open: map[netip.Prefix]int{}, conns: map[net.Conn]netip.Prefix{}}
}

// state is the http.Server's ConnState hook: it counts a new connection
// or refuses it, and uncounts one closed or hijacked.
func (l *connLimit) state(c net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		ta, ok := c.RemoteAddr().(*net.TCPAddr)
		if !ok {
			return
		}
		key, proxy := l.policy.PeerKey(ta.AddrPort().Addr())
		if proxy {
			return
		}
		l.mu.Lock()
		if l.open[key] >= l.max && len(l.conns) >= l.busyAt {
			l.mu.Unlock()
			refuseConn(c, l.max)
			l.rec.record(refusedConnectionLimit, ta.IP.String(), http.StatusTooManyRequests)
			return
		}
		l.open[key]++
		l.conns[c] = key
		l.mu.Unlock()
	case http.StateClosed, http.StateHijacked:
		l.mu.Lock()
		if key, ok := l.conns[c]; ok {
			delete(l.conns, c)
			if l.open[key]--; l.open[key] <= 0 {
				delete(l.open, key)
			}
		}
		l.mu.Unlock()
	}
}

// refuseConn answers a connection over the bound with 429
// CONNECTION_LIMIT and closes it, before anything is read from it. The
// answer fits an empty socket buffer: the write does not wait (it runs in
// the server's accept loop). A TLS connection is closed without an
// answer: writing would wait for the client's handshake.
func refuseConn(c net.Conn, max int) {
	if _, ok := c.(*tls.Conn); ok {
		_ = c.Close()
		return
	}
	body := `{"errors":[{"message":"too many connections from this address (at most ` + strconv.Itoa(max) + `)","extensions":{"code":"` + CodeConnectionLimit + `"}}]}`
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.Write([]byte("HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body))
	_ = c.Close()
}
