package server_test

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/server"
)

// TestDefaultServesAProxysConnections: with the default options, one
// address holding more than a thousand connections (a load balancer,
// an ingress or a NAT in front, whose clients all arrive from its
// address, each SSE or multipart subscription on a connection of its
// own) is still served while descriptors are plentiful. A per-address
// bound of 1,000 applied always answered the next connection 429
// CONNECTION_LIMIT, whatever client it carried.
func TestDefaultServesAProxysConnections(t *testing.T) {
	const n = 1100
	opts := server.DefaultOptions()
	if opts.HTTP.ConnectionsBusyAt <= n+1 {
		t.Skipf("the descriptor limit (%d busy) is too low for %d connections", opts.HTTP.ConnectionsBusyAt, n)
	}
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts))
	addr := strings.TrimPrefix(g.BaseURL, "http://")
	for range n {
		c := dialFrom(t, "127.0.0.1", addr)
		defer c.Close()
	}
	last := dialFrom(t, "127.0.0.1", addr)
	defer last.Close()
	if r, b := askOn(t, last, addr); r.StatusCode != http.StatusOK {
		t.Fatalf("connection %d of one address with the default options: %d %s", n+1, r.StatusCode, b)
	}
}

// TestPerAddressBoundOnlyWhenBusy: below ConnectionsBusyAt connections in
// all, an address may hold more than MaxConnectionsPerAddress; from it on,
// an address at the bound is refused and one below it is still served.
func TestPerAddressBoundOnlyWhenBusy(t *testing.T) {
	const max, busyAt = 5, 12
	opts := server.DefaultOptions()
	opts.HTTP.MaxConnectionsPerAddress = max
	opts.HTTP.ConnectionsBusyAt = busyAt
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts))
	addr := strings.TrimPrefix(g.BaseURL, "http://")
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for i := range 2 * max {
		c := dialFrom(t, "127.0.0.1", addr)
		held = append(held, c)
		if i == 2*max-1 {
			if r, b := askOn(t, c, addr); r.StatusCode != http.StatusOK {
				t.Fatalf("connection %d of one address below %d in all: %d %s", i+1, busyAt, r.StatusCode, b)
			}
		}
	}
	for i := range busyAt - 2*max {
		c := dialFrom(t, "127.0.0.2", addr)
		held = append(held, c)
		if i == busyAt-2*max-1 {
			// Accepted in order: once this one is answered, every
			// connection before it is counted.
			if r, b := askOn(t, c, addr); r.StatusCode != http.StatusOK {
				t.Fatalf("another address: %d %s", r.StatusCode, b)
			}
		}
	}
	over := dialFrom(t, "127.0.0.1", addr)
	defer over.Close()
	_ = over.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(over), nil)
	if err != nil {
		t.Fatalf("an address over the bound at %d connections in all: no answer: %v", busyAt, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("an address over the bound at %d connections in all: %d, want 429", busyAt, resp.StatusCode)
	}
	c := dialFrom(t, "127.0.0.4", addr)
	defer c.Close()
	if r, b := askOn(t, c, addr); r.StatusCode != http.StatusOK {
		t.Fatalf("an address below the bound at %d connections in all: %d %s", busyAt, r.StatusCode, b)
	}
}
