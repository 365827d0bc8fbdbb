package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/fedgate/gateway/server/joinwrite"
	"github.com/fedgate/gateway/telemetry"
)

// Reasons of the refusals the public listener makes before a request
// reaches the observe layer (fedgate_listener_refused_total{reason}).
const (
	refusedConnectionLimit = "connection_limit"
	refusedHeadersTooMany  = "headers_too_many"
	refusedHeadersTooLarge = "headers_too_large"
)

// refusalLogEvery is how often the request log gets a line per reason of
// listener refusal: the first refusal is logged at once, the ones after
// it within this interval are counted into the next line. An attacker
// opening connections as fast as it can would otherwise write a line per
// connection.
const refusalLogEvery = 10 * time.Second

// refusals counts and logs what the public listener refuses before the
// observe layer (which writes the request log and the request metrics)
// sees a request: connections over max_connections_per_address, requests
// over max_header_count, and net/http's own 431 past max_header_bytes.
// Before, an operator under such an attack saw nothing of it.
type refusals struct {
	metrics *telemetry.Metrics
	log     *slog.Logger
	every   time.Duration
	now     func() time.Time

	mu      sync.Mutex
	reasons map[string]*refusalLine
}

// refusalLine is what the log knows of one reason.
type refusalLine struct {
	logged     time.Time // when its last line was written
	suppressed int       // refusals since, not logged
}

func newRefusals(m *telemetry.Metrics, log *slog.Logger) *refusals {
	return &refusals{metrics: m, log: log, every: refusalLogEvery, now: time.Now, reasons: map[string]*refusalLine{}}
}

// record counts a refusal of reason from peer (the TCP peer's address)
// answered with status, and logs it unless a line for reason was
// written less than r.every ago; the next line says how many were not.
func (r *refusals) record(reason, peer string, status int) {
	if r == nil {
		return
	}
	r.metrics.ListenerRefused(context.Background(), reason)
	if r.log == nil {
		return
	}
	now := r.now()
	r.mu.Lock()
	l := r.reasons[reason]
	if l == nil {
		l = &refusalLine{}
		r.reasons[reason] = l
	}
	if !l.logged.IsZero() && now.Sub(l.logged) < r.every {
		l.suppressed++
		r.mu.Unlock()
		return
	}
	suppressed := l.suppressed
	l.logged, l.suppressed = now, 0
	r.mu.Unlock()
	r.log.LogAttrs(context.Background(), slog.LevelWarn, "refused", slog.String("reason", reason), slog.Int("status", status),
		slog.String("peer", peer), slog.Int("not_logged_since_last", suppressed))
}

// peerOf is the address of c's peer without its port, as the per-address
// bounds count it.
func peerOf(c net.Conn) string {
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	return c.RemoteAddr().String()
}

// addressOf is the host of a request's RemoteAddr.
func addressOf(remote string) string {
	if host, _, err := net.SplitHostPort(remote); err == nil {
		return host
	}
	return remote
}

// connContext is HTTPServer's ConnContext without the TCP user timeout:
// joinwrite's, given the joinwrite connection under refusalConn.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if rc, ok := c.(*refusalConn); ok {
		c = rc.Conn
	}
	return joinwrite.ConnContext(ctx, c)
}

// Listener returns ln ready for HTTPServer: each connection wrapped by
// joinwrite (large answers in one system call) and watched for the 431
// net/http answers by itself when a request's head is over
// max_header_bytes, which no handler sees, so that it is counted and
// logged with the other listener refusals.
func (s *Server) Listener(ln net.Listener) net.Listener {
	return refusalListener{Listener: joinwrite.Listener(ln), rec: s.obs.refusals}
}

type refusalListener struct {
	net.Listener
	rec *refusals
}

func (l refusalListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &refusalConn{Conn: c, rec: l.rec}, nil
}

// headTooLarge begins the answer net/http writes, with no handler, to a
// request whose head is over http.Server.MaxHeaderBytes. The gateway's
// own 431 (REQUEST_HEADERS_TOO_MANY) is JSON.
var headTooLarge = []byte("HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain")

// refusalConn is a connection of refusalListener: it passes everything
// on to the connection it wraps (the socket's raw connection, CloseWrite
// and ReadFrom too, so that WebSockets and sendfile work as before).
type refusalConn struct {
	net.Conn
	rec *refusals
}

func (c *refusalConn) Write(p []byte) (int, error) {
	if len(p) >= len(headTooLarge) && p[9] == '4' && p[10] == '3' && p[11] == '1' && bytes.HasPrefix(p, headTooLarge) {
		c.rec.record(refusedHeadersTooLarge, peerOf(c.Conn), 431)
	}
	return c.Conn.Write(p)
}

// NetConn returns the wrapped connection (socketOf reaches the socket
// through it).
func (c *refusalConn) NetConn() net.Conn { return c.Conn }

// ReadFrom lets net/http send a file with sendfile through the wrapped
// connection.
func (c *refusalConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

// SyscallConn returns the socket's raw connection (the WebSocket writer
// and the TCP user timeout need it).
func (c *refusalConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, syscall.EINVAL
}

// CloseWrite half-closes the connection when the wrapped one can
// (net/http does after its 431, so the client reads the answer).
func (c *refusalConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
