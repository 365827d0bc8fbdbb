package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/internal/serial"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/server/joinwrite"
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
	body := largeIntrospectionBody()
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

// TestUserTimeoutReachesTheSocketUnderWrappers: the listener's
// ConnContext sets TCP_USER_TIMEOUT on the TCP socket whatever wraps it:
// joinwrite's Conn (the gateway's listener), and TLS around it (an
// embedder serving HTTPServer with ServeTLS, as joinwrite's tests do).
// Before, a *tls.Conn was neither a joinwrite.Conn nor a syscall.Conn,
// so TLS connections were silently left without the timeout. With
// write_timeout 0 it stays unset.
func TestUserTimeoutReachesTheSocketUnderWrappers(t *testing.T) {
	for _, c := range []struct {
		name         string
		writeTimeout time.Duration
		wrap         func(net.Conn) net.Conn
		wantMS       int
	}{
		{"joinwrite", 1500 * time.Millisecond, func(c net.Conn) net.Conn { return c }, 1500},
		{"TLS over joinwrite", 1500 * time.Millisecond, func(c net.Conn) net.Conn { return tls.Server(c, &tls.Config{}) }, 1500},
		{"TLS over joinwrite, no write timeout", 0, func(c net.Conn) net.Conn { return tls.Server(c, &tls.Config{}) }, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := server.DefaultOptions()
			opts.HTTP.WriteTimeout = c.writeTimeout
			g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts))
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			client, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			accepted, err := joinwrite.Listener(ln).Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer accepted.Close()
			g.Handler.HTTPServer().ConnContext(context.Background(), c.wrap(accepted))
			raw, err := accepted.(*joinwrite.Conn).Conn.(*net.TCPConn).SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			var got int
			var gerr error
			_ = raw.Control(func(fd uintptr) { got, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, 0x12) })
			if gerr != nil || got != c.wantMS {
				t.Fatalf("TCP_USER_TIMEOUT %d ms (%v), want %d", got, gerr, c.wantMS)
			}
		})
	}
}

// TestSlowReadersAreNotCutInTheKernel: TCP_USER_TIMEOUT cuts a client
// that leaves an answer unread, not one that reads it within the write
// timeout, however slowly. A client with the Internet's segment size
// (1400 bytes) and a 32 KiB receive buffer reads an answer of about
// 120 KB 32 KiB at a time, pausing 700 ms between reads (about 3 s in
// all), so the answer waits behind a closed window several times, each
// stall long enough for the kernel's zero-window probes to check the
// timeout (the first probe comes after the minimum retransmission
// timeout of 200 ms, the check at the second, 400 ms later). It must get
// all of it within a write timeout of 6 s; a timeout set far shorter than
// configured (50 ms) fails it every time, and so would a write deadline
// shorter than the read.
//
// What the kernel does not promise is not asserted: a reader slower than
// the write timeout in all may be cut (write_timeout is the time a client
// has to read an answer). So a run in which the client itself took the
// whole write timeout (its sleeps stretched on a loaded machine) proves
// nothing either way and is run again, up to 3 times.
func TestSlowReadersAreNotCutInTheKernel(t *testing.T) {
	serial.Timing(t)
	opts := server.DefaultOptions()
	opts.Introspection = true
	opts.HTTP.WriteTimeout = 6 * time.Second
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts))
	for attempt := 1; ; attempt++ {
		r := readSlowly(t, g.BaseURL, 32<<10, 700*time.Millisecond)
		if r.err != nil && r.took >= opts.HTTP.WriteTimeout && attempt < 3 {
			t.Logf("attempt %d: cut (%v) after %d bytes in %v, as long as the write timeout: again", attempt, r.err, r.got.Len(), r.took)
			continue
		}
		if r.err != nil {
			t.Fatalf("after %d bytes in %v, the client's longest pause %v: %v", r.got.Len(), r.took, r.maxPause, r.err)
		}
		head, answer, _ := bytes.Cut(r.got.Bytes(), []byte("\r\n\r\n"))
		var length int
		for _, l := range strings.Split(string(head), "\r\n") {
			if v, ok := strings.CutPrefix(l, "Content-Length: "); ok {
				_, _ = fmt.Sscan(v, &length)
			}
		}
		if length < 100<<10 || len(answer) != length {
			t.Fatalf("read %d bytes of a %d-byte answer in %v", len(answer), length, r.took)
		}
		t.Logf("read %d bytes in %v, the longest pause %v", len(answer), r.took, r.maxPause)
		return
	}
}

// slowRead is what readSlowly read, how long it took, its longest pause
// between two reads, and the error that ended it before the end of the
// answer (nil when the gateway closed the connection after it).
type slowRead struct {
	got      bytes.Buffer
	took     time.Duration
	maxPause time.Duration
	err      error
}

// readSlowly sends largeIntrospectionBody to the gateway at baseURL from
// a client with a 1400-byte segment size and a receive buffer of chunk
// bytes, and reads the answer chunk bytes at a time, pausing every pause.
func readSlowly(t *testing.T, baseURL string, chunk int, pause time.Duration) *slowRead {
	t.Helper()
	body := largeIntrospectionBody()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, chunk)
			_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_MAXSEG, 1400)
		})
	}}
	c, err := d.Dial("tcp", strings.TrimPrefix(baseURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
	r := &slowRead{}
	start := time.Now()
	last := start
	buf := make([]byte, chunk)
	for {
		n, err := c.Read(buf)
		now := time.Now()
		if r.got.Len() > 0 { // the first read waits for the answer
			r.maxPause = max(r.maxPause, now.Sub(last))
		}
		last = now
		r.got.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			r.err = err
			break
		}
		time.Sleep(pause)
	}
	r.took = time.Since(start)
	return r
}

// largeIntrospectionBody is a request body whose answer (the schema's
// types ten times over) is larger than a small socket buffer.
func largeIntrospectionBody() string {
	var q strings.Builder
	q.WriteString("{")
	for i := range 10 {
		fmt.Fprintf(&q, " a%d: __schema { types { name description fields { name description type { name kind } } } }", i)
	}
	q.WriteString(" }")
	return fmt.Sprintf(`{"query":%q}`, q.String())
}
