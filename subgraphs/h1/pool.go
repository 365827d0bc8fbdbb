package h1

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/fedgate/gateway/internal/headlines"
)

// Options configure a Pool.
type Options struct {
	// DialTimeout bounds establishing a connection (TLS handshake
	// included); 0 leaves it to the context.
	DialTimeout time.Duration
	// MaxIdle is the number of idle connections kept; 0 keeps none.
	MaxIdle int
	// IdleTimeout closes a connection idle that long; 0 is 90 s.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the status line and headers of an answer;
	// 0 is 1 MiB.
	MaxHeaderBytes int64
	// TLS configures https origins; nil is the default configuration.
	TLS *tls.Config
	// Resend, when set, is asked before PostIdempotent sends a request
	// a second time (the server may have read and run the first one):
	// false leaves the failure to the caller. The caller's retry policy
	// (a budget, a metric) decides. Nil always allows it.
	Resend func() bool
	// AnswerBudget, when set, is shared by the answers being read and
	// held: each answer's bytes past its first FreeAnswerBytes are taken
	// from it as they arrive (Response.Held), and an answer whose next
	// bytes do not fit fails with ErrAnswerBudget.
	AnswerBudget Budget
}

// Budget is a count of bytes taken without waiting and given back.
type Budget interface {
	Take(n int64) bool
	Give(n int64)
}

// FreeAnswerBytes is what an answer reads before it takes from
// Options.AnswerBudget: the usual answers never do.
const FreeAnswerBytes = 64 << 10

// ErrAnswerBudget is returned when an answer does not fit in
// Options.AnswerBudget.
var ErrAnswerBudget = errors.New("h1: too many large answers are being read at once")

// HeldReader reads from R and takes what it reads past its first Free
// bytes from Budget as it arrives (Taken so far); a read whose bytes do
// not fit fails with ErrAnswerBudget. The pool reads its answers so; a
// caller reading an answer some other way (a streamed upload's, through
// net/http) holds it to the same budget. Its owner gives Taken back once
// done with the bytes.
type HeldReader struct {
	R      io.Reader
	Budget Budget
	Free   int64
	Taken  int64
}

func (h *HeldReader) Read(p []byte) (int, error) {
	n, err := h.R.Read(p)
	if over := int64(n) - h.Free; over > 0 {
		h.Free = 0
		if !h.Budget.Take(over) {
			return 0, ErrAnswerBudget
		}
		h.Taken += over
	} else {
		h.Free -= int64(n)
	}
	return n, err
}

// ErrTooLarge is returned when an answer's body is longer than the limit
// given to Post.
var ErrTooLarge = errors.New("h1: response body too large")

// Response is an answer: its status, headers and, read whole into the
// buffer given to Post, its body. Post returns it by value (one allocation
// less per exchange); a zero StatusCode means no answer's head was read.
// The headers of a plain head are kept as its lines (Lines, Header nil)
// and made a map only by Headers.
type Response struct {
	StatusCode int
	Header     http.Header
	Lines      headlines.Lines
	// Held is what the body took from Options.AnswerBudget: the caller
	// gives it back once done with the body.
	Held int64
}

// Headers returns the answer's headers: Header, or when it is nil a map
// made from Lines (a new one on each call; keep it).
func (r Response) Headers() http.Header {
	if r.Header != nil || r.Lines == "" {
		return r.Header
	}
	return r.Lines.Header()
}

// Get returns the first value of the header name ("" when none).
func (r Response) Get(name string) string {
	if r.Header != nil {
		return r.Header.Get(name)
	}
	return r.Lines.Get(name)
}

// Combined2 returns every value of the headers a and b, each joined by
// ", " (a list header sent on several lines), "" when none.
func (r Response) Combined2(a, b string) (string, string) {
	if r.Header != nil {
		return strings.Join(r.Header.Values(a), ", "), strings.Join(r.Header.Values(b), ", ")
	}
	return r.Lines.Combined2(a, b)
}

// Pool posts to one origin. Its methods may be called concurrently.
type Pool struct {
	addr string // host:port to dial
	tls  *tls.Config
	// head is the request line and Host header of every request.
	head   []byte
	dialer net.Dialer
	opts   Options

	mu     sync.Mutex
	idle   []*conn // most recently used last
	prune  *time.Timer
	closed bool
}

// New returns a pool posting to u, an http or https URL with a host.
func New(u *url.URL, opts Options) (*Pool, error) {
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("h1: %q: want an http:// or https:// URL with a host", u.Redacted())
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 90 * time.Second
	}
	if opts.MaxHeaderBytes <= 0 {
		opts.MaxHeaderBytes = 1 << 20
	}
	host := u.Hostname()
	port := u.Port()
	p := &Pool{opts: opts, dialer: net.Dialer{Timeout: opts.DialTimeout, KeepAlive: 30 * time.Second}}
	if u.Scheme == "https" {
		if port == "" {
			port = "443"
		}
		p.tls = &tls.Config{}
		if opts.TLS != nil {
			p.tls = opts.TLS.Clone()
		}
		if p.tls.ServerName == "" {
			p.tls.ServerName = host
		}
		p.tls.NextProtos = []string{"http/1.1"}
	} else if port == "" {
		port = "80"
	}
	p.addr = net.JoinHostPort(host, port)
	hostHeader := u.Host
	if i := strings.Index(hostHeader, "%25"); i >= 0 {
		// An IPv6 zone is for this machine only (RFC 6874).
		hostHeader = hostHeader[:i] + "]" + hostHeader[strings.LastIndexByte(hostHeader, ']')+1:]
	}
	if !httpguts.ValidHostHeader(hostHeader) {
		return nil, fmt.Errorf("h1: invalid host %q", hostHeader)
	}
	p.head = fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\n", u.RequestURI(), hostHeader)
	return p, nil
}

// conn is one connection and its read side.
type conn struct {
	nc net.Conn
	// raw is the TCP socket under nc, for the liveness check.
	raw  syscall.RawConn
	peek peeker
	// sock reads a plain TCP nc and writes each request with the first
	// read of its answer; nil for TLS (and where it is not built).
	sock *sock
	// recent says the connection was reused after less than checkIdle
	// idle: only then does sock write the request. Waiting for the
	// answer without reading first does not notice bytes that arrived
	// before the wait when no more follow: a server that half-closed an
	// idle connection and reads on (the read found the end of stream at
	// once, and a query was sent again on a new connection; servers close
	// idle connections after seconds), or one that speaks first on a new
	// connection and then stops (a hostile one: the read found its bytes
	// at once).
	recent bool
	// lim bounds what the next header read takes from nc.
	lim limitReader
	br  *bufio.Reader
	// body bounds the body being read (kept here: one allocation
	// less per exchange than io.LimitReader).
	body io.LimitedReader
	// held counts body's bytes against Options.AnswerBudget.
	held HeldReader
	// framed reads the body of an answer whose head readPlainHead read.
	framed lengthReader
	// head is the request head being written, kept for its capacity.
	head      []byte
	idleSince time.Time
	// suspect says the last answer was not a 2xx: a server that answers
	// an error early (before reading the body) may send more unasked, so
	// the connection is checked before it is reused, for a query too.
	suspect bool
	// abort ends a blocked read or write at once (a deadline in the
	// past); made once, as a closure per exchange would allocate.
	abort func()
}

// limitReader reads from r while n > 0.
type limitReader struct {
	r io.Reader
	n int64
}

var errHeaderTooLarge = errors.New("h1: response header too large")

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errHeaderTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// noLimit is the limit of a body read: the caller bounds the body.
const noLimit = 1<<63 - 1

// Post sends body with header to the pool's origin and reads the answer's
// body, at most limit bytes of it after decoding, into dst (appended).
// ctx and timeout (when positive) bound the whole exchange; an exchange
// past either fails with an error that is context.DeadlineExceeded. The headers Host, Content-Length,
// Transfer-Encoding, Trailer and Connection of header are not sent (the
// pool writes its own). An answer whose body is longer than limit, or
// whose Content-Length says so, is ErrTooLarge. The request is sent once:
// an idle connection is checked before it is reused (for a mutation).
func (p *Pool) Post(ctx context.Context, timeout time.Duration, header http.Header, body []byte, dst *bytes.Buffer, limit int64) (Response, error) {
	return p.post(ctx, timeout, header, body, dst, limit, false)
}

// PostIdempotent is Post for a request that may be sent twice (a query).
// A connection idle for less than checkIdle, whose last answer was a 2xx,
// is reused without checking it first (a system call per request saved
// under load). When the server turns out to have closed a reused
// connection, checked or not (the request fails before any byte of an
// answer arrived, not by a timeout or the context; a check passed just
// before the server's idle timeout fired is no guarantee either), the
// request is sent once more, on a new connection, when Options.Resend
// allows it.
func (p *Pool) PostIdempotent(ctx context.Context, timeout time.Duration, header http.Header, body []byte, dst *bytes.Buffer, limit int64) (Response, error) {
	return p.post(ctx, timeout, header, body, dst, limit, true)
}

// checkIdle is how long a connection may be idle before it is checked
// even for an idempotent request: a server that closes idle connections
// does so after seconds, and a connection idle that long costs a request
// the check's system call at most.
const checkIdle = 100 * time.Millisecond

func (p *Pool) post(ctx context.Context, timeout time.Duration, header http.Header, body []byte, dst *bytes.Buffer, limit int64, replay bool) (Response, error) {
	if err := checkHeader(header); err != nil {
		return Response{}, err
	}
	// The timeout is the connection's deadline. The context's deadline is
	// not: the context's own timer ends the exchange (below), so that
	// whoever waits on the context sees it done before this call returns.
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	c, reused, err := p.get(ctx, deadline, replay)
	if err != nil {
		return Response{}, err
	}
	start := dst.Len()
	resp, err := p.send(ctx, c, deadline, header, body, dst, limit)
	if err != nil && replay && reused && resp.StatusCode == 0 && c.lim.n == p.opts.MaxHeaderBytes && closedByPeer(err) && ctx.Err() == nil &&
		(p.opts.Resend == nil || p.opts.Resend()) {
		// Nothing of an answer came on a reused connection: the server
		// closed it while it was idle (or read the request and closed
		// it: Resend decides). A new one.
		dst.Truncate(start)
		if c, err = p.dialBy(ctx, deadline); err != nil {
			return Response{}, err
		}
		resp, err = p.send(ctx, c, deadline, header, body, dst, limit)
	}
	return resp, err
}

// closedByPeer reports an error of a connection the other side closed
// or reset, as opposed to a timeout or a local failure.
func closedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// send makes one exchange on c and returns c to the pool or closes it.
func (p *Pool) send(ctx context.Context, c *conn, deadline time.Time, header http.Header, body []byte, dst *bytes.Buffer, limit int64) (Response, error) {
	if err := c.nc.SetDeadline(deadline); err != nil {
		c.close()
		return Response{}, err
	}
	// The context's end (cancellation, its deadline) ends a blocked
	// read or write at once.
	stop := context.AfterFunc(ctx, c.abort)
	resp, keep, err := p.exchange(c, header, body, dst, limit)
	if !stop() {
		keep = false // the deadline may be in the past now, or soon
	}
	if keep {
		p.put(c)
	} else {
		c.close()
	}
	if err != nil {
		switch {
		case ctx.Err() != nil:
			err = fmt.Errorf("%w: %w", ctx.Err(), err)
		case errors.Is(err, os.ErrDeadlineExceeded):
			// The connection's deadline: the timeout.
			err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
		}
	}
	return resp, err
}

var aLongTimeAgo = time.Unix(1, 0)

// exchange writes the request and reads the answer. keep reports whether
// the connection may carry another request.
func (p *Pool) exchange(c *conn, header http.Header, body []byte, dst *bytes.Buffer, limit int64) (resp Response, keep bool, err error) {
	gz := !hasAcceptEncoding(header)
	// Set before the write: Post tells a connection on which nothing of
	// an answer arrived by the untouched budget.
	c.lim.n = p.opts.MaxHeaderBytes
	c.head = appendHead(append(c.head[:0], p.head...), header, len(body), gz)
	if len(c.head)+len(body) <= 16<<10 {
		// One write, one segment for the usual small request; made by
		// the first read of the answer where sock can (see sock).
		c.head = append(c.head, body...)
		if c.sock != nil && c.recent {
			c.sock.pending, c.sock.writeErr = c.head, nil
		} else {
			_, err = c.nc.Write(c.head)
		}
	} else {
		bufs := net.Buffers{c.head, body}
		_, err = bufs.WriteTo(c.nc)
	}
	if err != nil {
		return Response{}, false, fmt.Errorf("h1: writing the request: %w", err)
	}
	resp, length, closing, rbody, err := p.readHead(c)
	if c.sock != nil && c.sock.writeErr != nil {
		return Response{}, false, fmt.Errorf("h1: writing the request: %w", c.sock.writeErr)
	}
	if err != nil {
		return Response{}, false, err
	}
	c.lim.n = noLimit
	c.suspect = resp.StatusCode/100 != 2
	if length > limit {
		return resp, false, ErrTooLarge
	}
	src := rbody
	if gz && strings.EqualFold(resp.Get("Content-Encoding"), "gzip") {
		// Asked for by the pool, so undone by it, as net/http does.
		resp = Response{StatusCode: resp.StatusCode, Header: resp.Headers()}
		delete(resp.Header, "Content-Encoding")
		delete(resp.Header, "Content-Length")
		zr, err := gunzip(rbody)
		if err != nil {
			return resp, false, fmt.Errorf("h1: reading the answer: %w", err)
		}
		defer putGunzip(zr)
		src = zr
	}
	if length > 0 {
		// One allocation of the announced size instead of doublings, up
		// to preGrowMax: a header alone never reserves more.
		dst.Grow(int(min(length, preGrowMax)) + bytes.MinRead)
	}
	start := dst.Len()
	c.body = io.LimitedReader{R: src, N: limit + 1}
	if p.opts.AnswerBudget == nil {
		_, err = dst.ReadFrom(&c.body)
	} else {
		c.held = HeldReader{R: &c.body, Budget: p.opts.AnswerBudget, Free: FreeAnswerBytes}
		_, err = dst.ReadFrom(&c.held)
		c.held.R = nil
		resp.Held = c.held.Taken
	}
	c.body.R = nil
	if err == nil && int64(dst.Len()-start) > limit {
		err = ErrTooLarge
	}
	if err != nil {
		p.giveBack(&resp)
		if errors.Is(err, ErrTooLarge) {
			return resp, false, err
		}
		return resp, false, fmt.Errorf("h1: reading the answer: %w", err)
	}
	if src != rbody {
		// The gzip stream ended; the body's framing must end with it.
		if n, err := io.Copy(io.Discard, io.LimitReader(rbody, 1)); n > 0 || err != nil {
			return resp, false, nil
		}
	}
	// Bytes after the answer were not asked for: the connection is out of
	// step and must not carry another request.
	return resp, !closing && c.br.Buffered() == 0, nil
}

// giveBack gives back what a failed answer took from the budget.
func (p *Pool) giveBack(resp *Response) {
	if resp.Held > 0 {
		p.opts.AnswerBudget.Give(resp.Held)
		resp.Held = 0
	}
}

// readHead reads the head of the final answer: through readPlainHead when
// it is of the plain kind (its body then framed by c.framed), else with
// http.ReadResponse after up to max1xx informational answers. length is
// the announced body length, -1 when unknown; closing says the connection
// ends after the answer.
func (p *Pool) readHead(c *conn) (resp Response, length int64, closing bool, body io.Reader, err error) {
	if status, lines, length, ok := readPlainHead(c.br); ok {
		c.framed = lengthReader{r: c.br, n: length}
		return Response{StatusCode: status, Lines: lines}, length, false, &c.framed, nil
	}
	var hr *http.Response
	for range max1xx + 1 {
		hr, err = http.ReadResponse(c.br, nil)
		if err != nil {
			return Response{}, 0, false, nil, fmt.Errorf("h1: reading the answer: %w", err)
		}
		if hr.StatusCode >= 200 || hr.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		// 100 Continue, 103 Early Hints: informational, the answer follows.
	}
	if hr.StatusCode < 200 {
		return Response{}, 0, false, nil, fmt.Errorf("h1: unexpected status %d", hr.StatusCode)
	}
	return Response{StatusCode: hr.StatusCode, Header: hr.Header}, hr.ContentLength, hr.Close, hr.Body, nil
}

// preGrowMax bounds the buffer reserved for an answer on the strength of
// its Content-Length before any of it arrives.
const preGrowMax = 1 << 20

// max1xx bounds the informational answers read before the final one.
const max1xx = 5

// appendHead appends the headers of a request after the request line,
// sorted by name as net/http writes them, and the blank line.
func appendHead(b []byte, header http.Header, n int, gz bool) []byte {
	ua := "Go-http-client/1.1"
	if v, ok := header["User-Agent"]; ok {
		ua = ""
		if len(v) > 0 {
			ua = v[0]
		}
	}
	if ua != "" {
		b = append(append(append(b, "User-Agent: "...), ua...), "\r\n"...)
	}
	b = strconv.AppendInt(append(b, "Content-Length: "...), int64(n), 10)
	b = append(b, "\r\n"...)
	var keys [32]string
	ks := keys[:0]
	for k := range header {
		if !skipHeader(k) {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	for _, k := range ks {
		for _, v := range header[k] {
			b = append(append(append(append(b, k...), ": "...), strings.TrimSpace(v)...), "\r\n"...)
		}
	}
	if gz {
		b = append(b, "Accept-Encoding: gzip\r\n"...)
	}
	return append(b, "\r\n"...)
}

// hasAcceptEncoding reports whether header asks for an encoding itself,
// under any case of the name (a hook may fill the map without canonical
// names): the pool then neither asks for gzip nor undoes an encoding,
// which would otherwise be asked for twice and not be decoded.
func hasAcceptEncoding(header http.Header) bool {
	if _, ok := header["Accept-Encoding"]; ok {
		return true
	}
	for k := range header {
		if len(k) == len("Accept-Encoding") && strings.EqualFold(k, "Accept-Encoding") {
			return true
		}
	}
	return false
}

// skipHeader reports the headers the pool writes itself or never sends,
// in any case: a map filled without canonical names (a hook's) would
// otherwise send a second Content-Length or a Transfer-Encoding, which
// frame the request otherwise for the subgraph.
func skipHeader(k string) bool {
	switch k {
	case "Host", "User-Agent", "Content-Length", "Transfer-Encoding", "Trailer", "Connection":
		return true
	}
	for _, name := range [...]string{"Host", "User-Agent", "Content-Length", "Transfer-Encoding", "Trailer", "Connection"} {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// checkHeader refuses names and values that would change the request's
// framing or smuggle another one (CR, LF and other controls).
func checkHeader(h http.Header) error {
	for k, vs := range h {
		if !httpguts.ValidHeaderFieldName(k) {
			return fmt.Errorf("h1: invalid header field name %q", k)
		}
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				return fmt.Errorf("h1: invalid header field value for %q", k)
			}
		}
	}
	return nil
}

// get returns an idle connection that is still open, or a new one dialed
// before deadline (when not zero); reused says it was idle in the pool.
// With skipCheck, a connection idle for less than checkIdle whose last
// answer was a 2xx is returned unchecked.
func (p *Pool) get(ctx context.Context, deadline time.Time, skipCheck bool) (c *conn, reused bool, err error) {
	now := time.Now()
	for {
		p.mu.Lock()
		n := len(p.idle)
		if n == 0 {
			p.mu.Unlock()
			break
		}
		c := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		idle := now.Sub(c.idleSince)
		c.recent = idle < checkIdle
		if skipCheck && !c.suspect && idle < min(checkIdle, p.opts.IdleTimeout) {
			return c, true, nil
		}
		if idle < p.opts.IdleTimeout && c.alive() {
			return c, true, nil
		}
		c.close()
	}
	c, err = p.dialBy(ctx, deadline)
	return c, false, err
}

// dialBy dials a connection before deadline (when not zero).
func (p *Pool) dialBy(ctx context.Context, deadline time.Time) (*conn, error) {
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	return p.dial(ctx)
}

// put keeps c for another request, or closes it when the pool is full or
// closed.
func (p *Pool) put(c *conn) {
	c.idleSince = time.Now()
	p.mu.Lock()
	if p.closed || len(p.idle) >= p.opts.MaxIdle {
		p.mu.Unlock()
		c.close()
		return
	}
	p.idle = append(p.idle, c)
	if p.prune == nil {
		p.prune = time.AfterFunc(p.opts.IdleTimeout, p.closeExpired)
	}
	p.mu.Unlock()
}

// closeExpired closes the connections idle longer than IdleTimeout, and
// comes back while some stay idle.
func (p *Pool) closeExpired() {
	now := time.Now()
	var expired []*conn
	p.mu.Lock()
	keep := p.idle[:0]
	for _, c := range p.idle {
		if now.Sub(c.idleSince) >= p.opts.IdleTimeout {
			expired = append(expired, c)
		} else {
			keep = append(keep, c)
		}
	}
	clear(p.idle[len(keep):])
	p.idle = keep
	if len(p.idle) > 0 && !p.closed {
		p.prune.Reset(p.opts.IdleTimeout - now.Sub(p.idle[0].idleSince))
	} else {
		p.prune = nil
	}
	p.mu.Unlock()
	for _, c := range expired {
		c.close()
	}
}

// Close closes the idle connections. Requests may still be posted after
// it, but each dials and closes its own connection.
func (p *Pool) Close() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.closed = true
	if p.prune != nil {
		p.prune.Stop()
		p.prune = nil
	}
	p.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
}

// dial opens a connection, with TLS for https.
func (p *Pool) dial(ctx context.Context) (*conn, error) {
	nc, err := p.dialer.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, fmt.Errorf("h1: %w", err)
	}
	c := &conn{nc: nc}
	if sc, ok := nc.(syscall.Conn); ok {
		c.raw, _ = sc.SyscallConn()
	}
	if p.tls != nil {
		tc := tls.Client(nc, p.tls)
		hctx := ctx
		if p.opts.DialTimeout > 0 {
			var cancel context.CancelFunc
			hctx, cancel = context.WithTimeout(ctx, p.opts.DialTimeout)
			defer cancel()
		}
		if err := tc.HandshakeContext(hctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("h1: TLS handshake: %w", err)
		}
		c.nc = tc
	}
	c.lim.r = c.nc
	if p.tls == nil {
		if c.sock = newSock(nc); c.sock != nil {
			c.lim.r = c.sock
		}
	}
	c.br = bufio.NewReaderSize(&c.lim, 4<<10)
	nc = c.nc
	c.abort = func() { _ = nc.SetDeadline(aLongTimeAgo) }
	return c, nil
}

func (c *conn) close() { _ = c.nc.Close() }

// alive reports whether an idle connection is still open and quiet: the
// server may have closed it (its own idle timeout) or written to it.
func (c *conn) alive() bool {
	if c.raw == nil {
		return true
	}
	return peekQuiet(c.raw, &c.peek)
}

var gzipReaders sync.Pool

func gunzip(r io.Reader) (*gzip.Reader, error) {
	if zr, ok := gzipReaders.Get().(*gzip.Reader); ok {
		if err := zr.Reset(r); err != nil {
			gzipReaders.Put(zr)
			return nil, err
		}
		return zr, nil
	}
	return gzip.NewReader(r)
}

func putGunzip(zr *gzip.Reader) { gzipReaders.Put(zr) }
