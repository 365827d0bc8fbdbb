package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(handler("x-api-key", true))
	defer srv.Close()
	for _, tc := range []struct {
		name, payload string
		check         func(map[string]any) bool
	}{
		{"break without the header", `{"version":1,"stage":"RouterRequest","control":"continue","id":"1","headers":{}}`,
			func(m map[string]any) bool { c, _ := m["control"].(map[string]any); return c["break"] == float64(401) }},
		{"continue with it", `{"version":1,"stage":"RouterRequest","control":"continue","id":"1","headers":{"x-api-key":["k"]}}`,
			func(m map[string]any) bool { return m["control"] == "continue" }},
		{"subgraph header", `{"version":1,"stage":"SubgraphRequest","control":"continue","id":"1","serviceName":"products","headers":{}}`,
			func(m map[string]any) bool {
				h, _ := m["headers"].(map[string]any)
				v, _ := h["x-coprocessed"].([]any)
				return len(v) == 1 && v[0] == "products"
			}},
		{"introspection blocked", `{"version":1,"stage":"SupergraphRequest","control":"continue","id":"1","body":{"query":"{ __schema { types { name } } }"}}`,
			func(m map[string]any) bool { c, _ := m["control"].(map[string]any); return c["break"] == float64(403) }},
		{"other queries pass", `{"version":1,"stage":"SupergraphRequest","control":"continue","id":"1","body":{"query":"{ topProducts { name } }"}}`,
			func(m map[string]any) bool { return m["control"] == "continue" }},
	} {
		post(t, srv.URL, tc.name, tc.payload, tc.check)
	}
	// The header named as written on the command line, in any case: the
	// gateway sends names in lower case. Before, -require-header
	// X-Api-Key stopped every request.
	mixed := httptest.NewServer(handler("X-Api-Key", false))
	defer mixed.Close()
	post(t, mixed.URL, "a mixed-case -require-header", `{"version":1,"stage":"RouterRequest","control":"continue","id":"1","headers":{"x-api-key":["k"]}}`,
		func(m map[string]any) bool { return m["control"] == "continue" })
}

// post sends a coprocessor payload to url and checks the answer.
func post(t *testing.T, url, name, payload string, check func(map[string]any) bool) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if !check(m) || m["version"] != float64(1) || m["id"] != "1" {
		t.Errorf("%s: answer %v", name, m)
	}
}

// TestServerClosesSlowHeaders: a connection that never finishes its
// request headers is closed at the header deadline (the example used
// http.ListenAndServe, which has none: each such connection was held for
// good).
func TestServerClosesSlowHeaders(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer("", handler("", false))
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.IdleTimeout <= 0 {
		t.Fatalf("deadlines: header %v, read %v, idle %v", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.IdleTimeout)
	}
	srv.ReadHeaderTimeout = 200 * time.Millisecond // one a test can wait for
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the connection was still open after 5s")
	}
}
