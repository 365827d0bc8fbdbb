package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/limits"
	"github.com/fedgate/gateway/server"
)

// dialFrom opens a connection to addr from the loopback address src
// (any 127/8 address is this host's on Linux).
func dialFrom(t testing.TB, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", src, err)
	}
	return c
}

// askOn sends a query on c and reads the answer.
func askOn(t testing.TB, c net.Conn, addr string) (*http.Response, []byte) {
	t.Helper()
	body := `{"query":"{ topProducts(first: 1) { upc } }"}`
	fmt.Fprintf(c, "POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", addr, len(body), body)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestConnectionsPerAddressBounded: one address opening connections (idle
// ones, here; slow headers or bodies alike) holds at most
// max_connections_per_address of them; the next is answered 429
// CONNECTION_LIMIT and closed, a closed one frees its place, and another
// address (and a trusted proxy's) is served meanwhile. Before, there was
// no bound: an address could hold connections, each for idle_timeout,
// until the process ran out of file descriptors (which its subgraph
// connections need too) or memory.
func TestConnectionsPerAddressBounded(t *testing.T) {
	const max = 20
	opts := server.DefaultOptions()
	opts.HTTP.MaxConnectionsPerAddress = max
	opts.HTTP.ConnectionsBusyAt = 0
	lc := limits.DefaultConfig()
	lc.Clients.TrustedProxies = []string{"127.0.0.3"}
	opts.Policy = limits.NewPolicy(lc, limits.PolicyOptions{})
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts))
	addr := strings.TrimPrefix(g.BaseURL, "http://")

	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range max {
		held = append(held, dialFrom(t, "127.0.0.1", addr))
	}
	// The connections are counted once the server has accepted them:
	// the first is served (the others are accepted before it is).
	if r, b := askOn(t, held[0], addr); r.StatusCode != http.StatusOK {
		t.Fatalf("the first connection: %d %s", r.StatusCode, b)
	}
	over := dialFrom(t, "127.0.0.1", addr)
	defer over.Close()
	_ = over.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(over), nil)
	if err != nil {
		t.Fatalf("connection %d of one address: no answer: %v", max+1, err)
	}
	var body struct {
		Errors []struct {
			Extensions struct{ Code string } `json:"extensions"`
		} `json:"errors"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || len(body.Errors) != 1 || body.Errors[0].Extensions.Code != server.CodeConnectionLimit {
		t.Fatalf("connection %d of one address: %d %+v, want 429 %s", max+1, resp.StatusCode, body, server.CodeConnectionLimit)
	}

	// Another address, and a trusted proxy, are served.
	for _, src := range []string{"127.0.0.2", "127.0.0.3"} {
		c := dialFrom(t, src, addr)
		if r, b := askOn(t, c, addr); r.StatusCode != http.StatusOK {
			t.Errorf("from %s while 127.0.0.1 is at the bound: %d %s", src, r.StatusCode, b)
		}
		c.Close()
	}
	// A trusted proxy is not counted.
	for i := range max + 5 {
		c := dialFrom(t, "127.0.0.3", addr)
		held = append(held, c)
		if i == max+4 {
			if r, b := askOn(t, c, addr); r.StatusCode != http.StatusOK {
				t.Errorf("a trusted proxy's connection %d: %d %s", i+1, r.StatusCode, b)
			}
		}
	}

	// A closed connection frees its place.
	held[1].Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		c := dialFrom(t, "127.0.0.1", addr)
		r, _ := askOn(t, c, addr)
		c.Close()
		if r.StatusCode == http.StatusOK {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("a closed connection did not free its place: %d", r.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestConnectionLimitOverTLS: served over TLS (an embedder's ServeTLS),
// a connection past the bound is closed without an answer, which would
// wait for its TLS handshake in the server's accept loop: ten such
// connections that never say hello held every other client's accept for
// ten seconds (the answer's write deadline, one second each).
func TestConnectionLimitOverTLS(t *testing.T) {
	const max = 5
	opts := server.DefaultOptions()
	opts.HTTP.MaxConnectionsPerAddress = max
	opts.HTTP.ConnectionsBusyAt = 0
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts))
	ts := httptest.NewUnstartedServer(g.Handler)
	ts.Config = g.Handler.HTTPServer()
	ts.StartTLS()
	t.Cleanup(ts.Close)
	addr := strings.TrimPrefix(ts.URL, "https://")

	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range max + 10 { // the last ten are past the bound and never say hello
		held = append(held, dialFrom(t, "127.0.0.1", addr))
	}
	// Another address is accepted and served promptly.
	tr := ts.Client().Transport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext
	client := &http.Client{Transport: tr, Timeout: 4 * time.Second}
	resp, err := client.Post(ts.URL+"/graphql", "application/json", strings.NewReader(`{"query":"{ topProducts(first: 1) { upc } }"}`))
	if err != nil {
		t.Fatalf("another address, while ten connections past the bound wait for their handshake: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("another address: %d", resp.StatusCode)
	}
	// A connection past the bound is closed.
	c := held[len(held)-1]
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Fatalf("a TLS connection past the bound: %v, want it closed", err)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
