package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/internal/testsys"
	"github.com/fedgate/gateway/pkg/hooks"
	"github.com/fedgate/gateway/server"
)

// bigAnswerBatch is a batch of ten operations of 25 aliased introspections
// each: a 4–5 MB answer from the demo graph.
func bigAnswerBatch() string {
	var q strings.Builder
	q.WriteString("{")
	for i := range 25 {
		fmt.Fprintf(&q, " a%d: __schema { types { name description fields { name description args { name type { name kind } } type { name kind ofType { name kind } } } } }", i)
	}
	q.WriteString(" }")
	one := fmt.Sprintf(`{"query":%q}`, q.String())
	return "[" + strings.Repeat(one+",", 9) + one + "]"
}

// askUnread sends body from the loopback address from with a 4 KiB
// receive window and reads only the answer's head (within 30 s): a client
// that does not read its answer.
func askUnread(t *testing.T, addr, from, body string) (*http.Response, error) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Control: testsys.ReceiveBuffer(4096)}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	return http.ReadResponse(bufio.NewReaderSize(c, 512), nil)
}

// bigAnswer is one operation of 30 aliased introspections: an 860 KB
// answer from the demo graph.
func bigAnswer() string {
	sel := "__schema { types { kind name description fields(includeDeprecated: true) { name description isDeprecated deprecationReason args { name description defaultValue type { kind name ofType { kind name ofType { kind name } } } } type { kind name ofType { kind name ofType { kind name } } } } inputFields { name description defaultValue type { kind name } } enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } possibleTypes { name kind } } }"
	var q strings.Builder
	q.WriteString("{")
	for i := range 30 {
		fmt.Fprintf(&q, " a%d: %s", i, sel)
	}
	q.WriteString(" }")
	return fmt.Sprintf(`{"query":%q}`, q.String())
}

// unreadGateway is the demo gateway with introspection and batches of 10,
// answers written for up to a minute, and a writing budget of max bytes.
func unreadGateway(t *testing.T, max int64) (*gatewaytest.Gateway, string) {
	t.Helper()
	opts := server.DefaultOptions()
	opts.Introspection = true
	opts.AllowBatch, opts.MaxBatch = true, 10
	opts.HTTP.WriteTimeout = 60 * time.Second // the unread answers stay for the test
	opts.HTTP.MaxWritingBytes = max
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts))
	return g, strings.TrimPrefix(g.BaseURL, "http://")
}

// sizeOf is the length of the answer to body, read whole.
func sizeOf(t *testing.T, g *gatewaytest.Gateway, body string) int {
	t.Helper()
	resp, err := g.Client.Post(g.URL, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Contains(string(answer), `"errors"`) {
		t.Fatalf("%d: %.300s", resp.StatusCode, answer)
	}
	return len(answer)
}

// TestUnreadAnswersShareABudget: an answer being written takes from
// server.max_writing_bytes until it is written, and one client's answers
// hold at most three quarters of it: a client that asks for answers
// larger than a socket's send buffer and never reads them gets the ones
// past its share refused with 429 CLIENT_UNREAD_ANSWERS_LIMIT and
// Retry-After, and another client is served beside them. Before, the
// execution budget was given back once an answer was computed, and an
// answer waiting for a client that did not read was held outside every
// bound until write_timeout.
func TestUnreadAnswersShareABudget(t *testing.T) {
	g, addr := unreadGateway(t, 16<<20) // one client's share: 12 MiB
	batch := bigAnswerBatch()
	size := sizeOf(t, g, batch)
	if size < 3<<20 || size > 6<<20 {
		t.Fatalf("the batch's answer is %d bytes, want 3–6 MiB (more than a socket's send buffer holds)", size)
	}
	// One entry of a batch is a tenth of it; a client's share holds
	// share/entry entries (its first always fits).
	share := int64(16<<20) - int64(16<<20)/4
	entry := int64(size / 10)
	const asks = 5
	var answers []*http.Response
	for i := range asks {
		resp, err := askUnread(t, addr, "127.0.0.3", batch)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("unread batch %d: %v %v", i, resp, err)
		}
		answers = append(answers, resp)
	}
	// Another client asking for as much, and reading it, is served while
	// the first one's answers wait.
	other, err := askUnread(t, addr, "127.0.0.4", batch)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := io.Copy(io.Discard, other.Body); other.StatusCode != http.StatusOK || n != int64(size) {
		t.Fatalf("another client beside the unread answers: status %d, %d of %d bytes", other.StatusCode, n, size)
	}
	// Now the first client reads: each entry is an introspection or the
	// refusal.
	var kept, refused int
	for i, resp := range answers {
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		k, r := strings.Count(string(body), `"a0":`), strings.Count(string(body), server.CodeClientUnreadLimit)
		if k+r != 10 || r > 0 && resp.Header.Get("Retry-After") == "" {
			t.Fatalf("batch %d: %d entries kept and %d refused, Retry-After %q", i, k, r, resp.Header.Get("Retry-After"))
		}
		kept += k
		refused += r
	}
	if most := int(share/entry) + 1; kept > most || refused == 0 {
		t.Errorf("the unread batches kept %d entries of %d bytes and refused %d, want at most %d kept (a share of %d bytes)", kept, entry, refused, most, share)
	}
}

// TestUnreadAnswerRefused: a plain answer (no batch) that does not fit
// the writing budget is refused (503 SERVICE_OVERLOADED, Retry-After,
// nothing of the answer's own headers), and once the budget is free
// again it is served.
func TestUnreadAnswerRefused(t *testing.T) {
	g, addr := unreadGateway(t, 8<<20) // one client's share: 6 MiB
	one := bigAnswer()
	size := sizeOf(t, g, one)
	if size < 600<<10 || size > 1<<20 {
		t.Fatalf("the answer is %d bytes, want 600 KiB–1 MiB", size)
	}
	batch := bigAnswerBatch()
	if n := sizeOf(t, g, batch); n < 3<<20 || n > 4<<20 {
		t.Fatalf("the batch's answer is %d bytes, want 3–4 MiB", n)
	}
	// Two clients that do not read take the whole budget: the first its
	// share (a batch and part of another), the second the rest.
	var held []*http.Response
	for _, from := range []string{"127.0.0.3", "127.0.0.3", "127.0.0.5"} {
		resp, err := askUnread(t, addr, from, batch)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("unread batch from %s: %v %v", from, resp, err)
		}
		held = append(held, resp)
	}
	resp, err := askUnread(t, addr, "127.0.0.4", one)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), server.CodeOverloaded) || resp.Header.Get("Retry-After") == "" ||
		resp.Header.Get("Cache-Control") != "" {
		t.Fatalf("an answer while unread ones hold the budget: %d, Cache-Control %q, Retry-After %q: %.200s", resp.StatusCode, resp.Header.Get("Cache-Control"), resp.Header.Get("Retry-After"), body)
	}
	for _, h := range held {
		_, _ = io.Copy(io.Discard, h.Body)
		h.Body.Close()
	}
	if got := sizeOf(t, g, one); got != size {
		t.Fatalf("once the unread answers were read: %d bytes, want %d", got, size)
	}
}

// TestUnreadRefusalDropsCookies: a refusal of the writing budget (429 or
// 503 with Retry-After) says the answer was not sent and the client
// should ask again, as if nothing ran: a cookie the run set (here by a
// RouterResponse hook; a rule may propagate a subgraph's) does not go
// with it. Before, the refusal carried the run's Set-Cookie.
func TestUnreadRefusalDropsCookies(t *testing.T) {
	opts := server.DefaultOptions()
	opts.Introspection = true
	opts.HTTP.WriteTimeout = 60 * time.Second
	opts.AllowBatch, opts.MaxBatch = true, 10
	opts.HTTP.MaxWritingBytes = 8 << 20
	opts.Hooks = []hooks.Hooks{{RouterResponse: func(_ context.Context, c *hooks.Call) error {
		c.Header.Add("Set-Cookie", "session=from-the-run")
		return nil
	}}}
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts))
	addr := strings.TrimPrefix(g.BaseURL, "http://")
	// Unread batches (3-4 MB each, more than a socket's buffers take)
	// of two clients hold the budget, as in TestUnreadAnswerRefused.
	for _, from := range []string{"127.0.0.3", "127.0.0.3", "127.0.0.5"} {
		resp, err := askUnread(t, addr, from, bigAnswerBatch())
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("unread batch from %s: %v %v", from, resp, err)
		}
		if resp.Header.Get("Set-Cookie") == "" {
			t.Fatalf("an answer without the hook's cookie: the test must see it")
		}
	}
	resp, err := askUnread(t, addr, "127.0.0.4", bigAnswer())
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("an answer while unread ones hold the budget: %d, want 503 with Retry-After", resp.StatusCode)
	}
	if c := resp.Header.Values("Set-Cookie"); len(c) > 0 {
		t.Errorf("the refusal carries Set-Cookie %q from the run", c)
	}
}
