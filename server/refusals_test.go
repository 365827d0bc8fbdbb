package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/internal/syncbuf"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/telemetry"
)

// TestListenerRefusalsAreSeen: what the public listener refuses before a
// request reaches the observe layer (a connection over
// max_connections_per_address, 429 CONNECTION_LIMIT; a request over
// max_header_count, 431 REQUEST_HEADERS_TOO_MANY; a head over
// max_header_bytes, net/http's own 431) is counted in
// fedgate_listener_refused_total{reason} and logged, one line per reason
// however many come within refusalLogEvery (an attacker cannot flood the
// log). Before, none of them reached the request log or the metrics: an
// operator under such an attack saw nothing.
func TestListenerRefusalsAreSeen(t *testing.T) {
	const attempts = 6
	for _, tc := range []struct {
		reason string
		status int
		set    func(o *server.HTTPOptions)
		// refuse makes one refused attempt on a new connection from
		// 127.0.0.1 and returns the status it got.
		refuse func(t *testing.T, addr string) int
	}{
		{"connection_limit", 429, func(o *server.HTTPOptions) { o.MaxConnectionsPerAddress, o.ConnectionsBusyAt = 1, 0 },
			func(t *testing.T, addr string) int { return readStatus(t, dialFrom(t, "127.0.0.1", addr)) }},
		{"headers_too_many", 431, func(o *server.HTTPOptions) { o.MaxHeaderCount = 10 },
			func(t *testing.T, addr string) int {
				return sendHead(t, addr, strings.Repeat("X-A: b\r\n", 20))
			}},
		{"headers_too_large", 431, func(o *server.HTTPOptions) { o.MaxHeaderBytes = 4 << 10 },
			func(t *testing.T, addr string) int {
				return sendHead(t, addr, "X-A: "+strings.Repeat("b", 16<<10)+"\r\n")
			}},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			logs := &syncbuf.Buffer{}
			tel, err := telemetry.New(context.Background(), telemetry.DefaultConfig(), telemetry.Options{LogOutput: logs})
			if err != nil {
				t.Fatal(err)
			}
			o := server.DefaultOptions()
			tc.set(&o.HTTP)
			o.Observe = server.Observe{Metrics: tel.Metrics, RequestLog: tel.RequestLog()}
			g := gatewaytest.Start(t, gatewaytest.WithServerOptions(o))
			addr := strings.TrimPrefix(g.BaseURL, "http://")
			if tc.reason == "connection_limit" {
				held := dialFrom(t, "127.0.0.1", addr)
				defer held.Close()
				if r, b := askOn(t, held, addr); r.StatusCode != http.StatusOK {
					t.Fatalf("the first connection: %d %s", r.StatusCode, b)
				}
			}
			for range attempts {
				if got := tc.refuse(t, addr); got != tc.status {
					t.Fatalf("status %d, want %d", got, tc.status)
				}
			}
			// The connection limit records after its answer is written.
			deadline := time.Now().Add(5 * time.Second)
			for refusedCount(t, tel, tc.reason) < attempts && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if n := refusedCount(t, tel, tc.reason); n != attempts {
				t.Errorf("fedgate_listener_refused_total{reason=%q} = %d, want %d", tc.reason, n, attempts)
			}
			var lines []string
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, `"msg":"refused"`) {
					lines = append(lines, l)
				}
			}
			if len(lines) != 1 || !strings.Contains(lines[0], `"reason":"`+tc.reason+`"`) ||
				!strings.Contains(lines[0], `"peer":"127.0.0.1"`) || !strings.Contains(lines[0], `"status":`+strconv.Itoa(tc.status)) {
				t.Errorf("want one refusal line for %d refusals within the log interval, got %d:\n%s", attempts, len(lines), strings.Join(lines, "\n"))
			}
		})
	}
}

// sendHead sends a GET with the extra header lines on a new connection
// and returns the answer's status.
func sendHead(t *testing.T, addr, extra string) int {
	c := dialFrom(t, "127.0.0.1", addr)
	fmt.Fprintf(c, "GET /graphql?query=%%7B__typename%%7D HTTP/1.1\r\nHost: %s\r\n%s\r\n", addr, extra)
	return readStatus(t, c)
}

// readStatus reads an answer's status on c and closes it.
func readStatus(t *testing.T, c net.Conn) int {
	t.Helper()
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// refusedCount scrapes fedgate_listener_refused_total{reason}.
func refusedCount(t *testing.T, tel *telemetry.Telemetry, reason string) int {
	t.Helper()
	rec := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	re := regexp.MustCompile(`(?m)^fedgate_listener_refused_total\{[^}]*reason="` + reason + `"[^}]*\} (\d+)`)
	m := re.FindStringSubmatch(rec.Body.String())
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
