package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs/demo"
)

// TestSmuggledRequestsAreNotServed: request framings a proxy in front may
// read otherwise than the gateway. Each raw request is followed on its
// connection by a second, smuggled, request; the gateway answers the
// first (or refuses it) and the connection carries nothing else: the
// smuggled bytes are never served as a request of their own, and nothing
// of them (a header in a chunked body's trailer) reaches a subgraph.
// net/http reads a request with both Content-Length and
// Transfer-Encoding: chunked by the chunked framing and kept the
// connection open: a proxy that framed it by Content-Length (CL.TE)
// forwarded the smuggled request inside the body, and the gateway then
// served it as the next request on the connection (RFC 9112 6.1: a
// server that reads such a request must close the connection after
// answering it). net/http removes Content-Length before the handler sees
// the request, so every chunked request's connection is closed after its
// answer.
func TestSmuggledRequestsAreNotServed(t *testing.T) {
	var mu sync.Mutex
	var seen []http.Header
	accounts := demo.Handlers()["accounts"]
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		accounts.ServeHTTP(w, r)
	})
	o := server.DefaultOptions()
	o.Auth.Headers.All.Forward = []string{"*"}
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(o), gatewaytest.WithHandler("accounts", record))
	addr := strings.TrimPrefix(g.BaseURL, "http://")

	query := `{"query":"{ me { id } }"}`
	chunked := fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(query), query)
	smuggled := "GET /graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: x\r\nApollo-Require-Preflight: 1\r\n\r\n"
	head := "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	for _, tc := range []struct {
		name   string
		raw    string
		status int
	}{
		{"Content-Length covering a chunked body and a request", head +
			fmt.Sprintf("Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n", len(chunked)+len(smuggled)) + chunked + smuggled, 200},
		{"Transfer-Encoding before Content-Length", head +
			"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n" + chunked + smuggled, 200},
		{"trailer naming credentials", head + "Transfer-Encoding: chunked\r\nTrailer: Authorization, X-User-Id\r\n\r\n" +
			fmt.Sprintf("%x\r\n%s\r\n0\r\nAuthorization: Bearer forged\r\nX-User-Id: admin\r\n\r\n", len(query), query) + smuggled, 200},
		{"two differing Content-Lengths", head + fmt.Sprintf("Content-Length: %d\r\nContent-Length: 3\r\n\r\n", len(query)) + query + smuggled, 400},
		{"Transfer-Encoding twice", head + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked + smuggled, 501},
		{"Transfer-Encoding not chunked", head + "Transfer-Encoding: gzip, chunked\r\n\r\n" + chunked + smuggled, 501},
		{"space before the colon", head + "Transfer-Encoding : chunked\r\n\r\n" + chunked + smuggled, 400},
		{"two Hosts", "POST /graphql HTTP/1.1\r\nHost: x\r\nHost: y\r\nContent-Type: application/json\r\n" +
			fmt.Sprintf("Content-Length: %d\r\n\r\n", len(query)) + query + smuggled, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			seen = nil
			mu.Unlock()
			c := dialFrom(t, "127.0.0.1", addr)
			defer c.Close()
			if _, err := io.WriteString(c, tc.raw); err != nil {
				t.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, body, tc.status)
			}
			// Whatever follows is the smuggled request's answer: there
			// must be none, the connection closed.
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			if rest, err := io.ReadAll(br); len(rest) > 0 || err != nil {
				t.Errorf("after the answer, the connection carried %q (%v): the smuggled request was served", rest, err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, h := range seen {
				if h.Get("Authorization") != "" || h.Get("X-User-Id") == "admin" {
					t.Errorf("a subgraph got the trailer's credentials: %v", h)
				}
			}
		})
	}
}
