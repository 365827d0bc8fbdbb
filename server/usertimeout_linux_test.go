package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/server"
)

// TestUnreadAnswersAreCutInTheKernel: an answer smaller than the socket's
// send buffer leaves the handler at once, so the write deadline never
// sees a client that does not read it. The client sends a request with a
// 4 KiB receive window and does not read the answer (about 200 KB) for a
// few write timeouts; the gateway's kernel must have given up on the
// connection by then (TCP_USER_TIMEOUT), so what the client reads after is
// cut short. Before, the answer waited in the gateway's kernel buffers
// until the idle timeout and the client read all of it.
func TestUnreadAnswersAreCutInTheKernel(t *testing.T) {
	opts := server.DefaultOptions()
	opts.Introspection = true
	opts.HTTP.WriteTimeout = 500 * time.Millisecond
	opts.HTTP.IdleTimeout = time.Minute
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts))
	var q strings.Builder
	q.WriteString("{")
	for i := range 10 {
		fmt.Fprintf(&q, " a%d: __schema { types { name description fields { name description type { name kind } } } }", i)
	}
	q.WriteString(" }")
	body := fmt.Sprintf(`{"query":%q}`, q.String())
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	c, err := d.Dial("tcp", strings.TrimPrefix(g.BaseURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	// The head, a byte at a time (the window stays closed): the answer
	// is computed and in the gateway's socket.
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	var head []byte
	for !bytes.HasSuffix(head, []byte("\r\n\r\n")) {
		var b [1]byte
		if _, err := c.Read(b[:]); err != nil {
			t.Fatalf("reading the head: %v after %q", err, head)
		}
		head = append(head, b[0])
	}
	var length int
	for _, l := range strings.Split(string(head), "\r\n") {
		if v, ok := strings.CutPrefix(l, "Content-Length: "); ok {
			_, _ = fmt.Sscan(v, &length)
		}
	}
	if length < 100<<10 {
		t.Fatalf("a %d-byte answer: too small to stay in the gateway's buffers (%q)", length, head)
	}
	// Zero-window probes back off from 200 ms; the kernel aborts at the
	// first one past the timeout.
	time.Sleep(10 * opts.HTTP.WriteTimeout)
	got, err := io.ReadAll(io.LimitReader(c, int64(length)))
	if len(got) == length {
		t.Fatalf("read the whole %d-byte answer %v after not reading it for 10 write timeouts", length, 10*opts.HTTP.WriteTimeout)
	}
	t.Logf("read %d of %d bytes, then %v", len(got), length, err)
}
