package subscriptions

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/fedgate/gateway/server/request"
)

// The I/O under a client WebSocket, shaped for many idle connections and
// wide fan-outs:
//
//   - the hijacked connection gets a small read buffer and a 16-byte
//     write buffer in place of net/http's two 4 KiB ones (the WebSocket
//     library keeps whatever Hijack returns for the connection's life);
//   - the messages of the protocol are framed here (a server's text frame
//     is a 2 to 10 byte header and the message, RFC 6455 5.2) and written
//     to the socket directly: when nothing is queued for the connection,
//     on the goroutine that produced them with one non-blocking write
//     system call (no goroutine, no deadline, no copy beyond the frame);
//     what does not fit in the socket's buffer goes to a writer goroutine
//     that waits, under the write deadline;
//   - the frames the library writes itself (answers to pings, the close
//     handshake) reach the socket whole, under the same lock
//     (frameWriter);
//   - the bytes read from the socket are followed frame by frame
//     (messageClock), so that a message in progress has a deadline and
//     a connection idle between messages has none;
//   - an idle connection waits for its next message on a goroutine with
//     the smallest stack (waitReadable), not in the library's read path.

// readBufferSize is the read buffer of a client WebSocket: client
// messages are small (subscribe, ping, pong, complete); larger ones are
// read past it.
const readBufferSize = 512

// hijacker replaces the buffers net/http's Hijack returns.
type hijacker struct {
	http.ResponseWriter
	// header is the response's header after Hijack, until Accept returns.
	header http.Header
	conn   net.Conn
	br     *bufio.Reader
	// pending is set when the client's first bytes were read with its
	// upgrade request (the library moves them out of br's buffer).
	pending bool
	out     *sockWriter
	// messageTimeout bounds a client message in progress (messageClock);
	// its bytes are taken from budget.
	messageTimeout time.Duration
	budget         *request.Budget
}

// Hijack implements http.Hijacker.
func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("hijack: %T is no http.Hijacker", h.ResponseWriter)
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, fmt.Errorf("hijack: %w", err)
	}
	// net/http's response (its connection state, request and buffers)
	// is garbage from here on unless this keeps it.
	h.header = h.ResponseWriter.Header()
	h.ResponseWriter = nil
	// Bytes the client sent after its upgrade request (its first frames)
	// move to the new reader's buffer.
	var src io.Reader = conn
	n := brw.Reader.Buffered()
	size := readBufferSize
	if n > 0 {
		pre, _ := brw.Reader.Peek(n)
		src = io.MultiReader(bytes.NewReader(bytes.Clone(pre)), conn)
		size = max(size, n)
	}
	br := bufio.NewReaderSize(src, size)
	if n > 0 {
		if _, err := br.Peek(n); err != nil {
			_ = conn.Close()
			return nil, nil, fmt.Errorf("hijack: buffered bytes: %w", err)
		}
	}
	h.conn, h.br, h.pending = conn, br, n > 0
	h.out = newSockWriter(conn)
	// The library reads the buffered bytes, then the connection it is
	// given: the clock follows both.
	// (A messageTimeout of 0 sets no deadline; the clock still paces
	// control frames.)
	mc := &messageClock{Conn: conn, timeout: h.messageTimeout, budget: h.budget, done: make(chan struct{})}
	if n > 0 {
		pre, _ := br.Peek(n)
		// Bytes that do not fit in the read budget are refused at
		// the library's first Read (then the connection is closed
		// with 1013, as for later bytes).
		_, _ = mc.account(pre)
	}
	return mc, bufio.NewReadWriter(br, bufio.NewWriterSize(&frameWriter{s: h.out}, 16)), nil
}

// WriteHeader implements http.ResponseWriter. After Hijack (when the
// library answers a failed Hijack with an error) there is no response to
// write: nothing is.
func (h *hijacker) WriteHeader(code int) {
	if h.ResponseWriter != nil {
		h.ResponseWriter.WriteHeader(code)
	}
}

// Write implements http.ResponseWriter; http.ErrHijacked after Hijack.
func (h *hijacker) Write(b []byte) (int, error) {
	if h.ResponseWriter == nil {
		return 0, http.ErrHijacked
	}
	return h.ResponseWriter.Write(b)
}

// Header implements http.ResponseWriter (the WebSocket library reads the
// negotiated subprotocol after Hijack).
func (h *hijacker) Header() http.Header {
	if h.ResponseWriter == nil {
		return h.header
	}
	return h.ResponseWriter.Header()
}

// sockWriter writes whole frames to a client socket, one writer at a
// time (mu): the protocol's messages (wsConn) and the library's frames
// (frameWriter).
type sockWriter struct {
	conn net.Conn
	// raw writes without blocking; nil when conn is not a socket (TLS).
	raw syscall.RawConn
	mu  sync.Mutex
	// writeFD is the function raw.Write runs, made once (a closure per
	// write would be an allocation per write); b, n and err are its
	// input and results, guarded by mu.
	writeFD func(fd uintptr) bool
	b       []byte
	n       int
	err     error
}

func newSockWriter(conn net.Conn) *sockWriter {
	s := &sockWriter{conn: conn}
	if !rawWrites {
		return s
	}
	if sc, ok := conn.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			s.raw = rc
			s.writeFD = s.writeNonBlocking
		}
	}
	return s
}

// writeNonBlocking writes s.b to fd until it is written or the socket's
// buffer is full, recording how much in s.n and why it stopped in s.err;
// it never waits (returns true).
func (s *sockWriter) writeNonBlocking(fd uintptr) bool {
	for s.n < len(s.b) {
		m, e := rawWrite(fd, s.b[s.n:])
		switch {
		case e == syscall.EINTR:
			continue
		case e == syscall.EAGAIN:
			s.err = errWouldBlock
		case e != nil:
			s.err = e
		case m <= 0:
			s.err = io.ErrShortWrite
		default:
			s.n += m
			continue
		}
		return true
	}
	return true
}

// errWouldBlock reports a socket whose buffer is full.
var errWouldBlock = errors.New("the socket's buffer is full")

// tryWrite writes b with non-blocking system calls and returns how much
// it wrote; errWouldBlock when the socket's buffer filled first (the
// caller owes the rest: it holds s.mu then, see writeRest), another
// error when the connection is broken. Without a raw socket it writes
// nothing and returns errWouldBlock.
func (s *sockWriter) tryWrite(b []byte) (int, error) {
	s.mu.Lock()
	if s.raw == nil {
		return 0, errWouldBlock
	}
	s.b, s.n, s.err = b, 0, nil
	err := s.raw.Write(s.writeFD)
	if err == nil {
		err = s.err
	}
	n := s.n
	s.b, s.err = nil, nil
	if err != errWouldBlock {
		s.mu.Unlock()
	}
	return n, err
}

// writeRest writes b, waiting for the socket up to timeout, and releases
// s.mu, which the caller holds (tryWrite returned errWouldBlock).
func (s *sockWriter) writeRest(b []byte, timeout time.Duration) error {
	defer s.mu.Unlock()
	return s.writeLocked(b, timeout)
}

// write writes b, waiting for the socket up to timeout.
func (s *sockWriter) write(b []byte, timeout time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writeLocked(b, timeout)
}

func (s *sockWriter) writeLocked(b []byte, timeout time.Duration) error {
	if len(b) == 0 {
		return nil
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(timeout))
	_, err := s.conn.Write(b)
	_ = s.conn.SetWriteDeadline(time.Time{})
	return err
}

// frameWriter is where the WebSocket library writes (its bufio.Writer
// hands a frame over in pieces): it collects each frame and writes it
// whole, so that it never lands inside a frame of the protocol's.
type frameWriter struct {
	s   *sockWriter
	buf []byte
}

// libraryWriteTimeout bounds a frame the library writes (a pong, a close).
const libraryWriteTimeout = 10 * time.Second

// Write implements io.Writer.
func (w *frameWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		n := frameLen(w.buf)
		if n == 0 || n > len(w.buf) {
			break
		}
		if err := w.s.write(w.buf[:n], libraryWriteTimeout); err != nil {
			w.buf = nil
			return 0, err
		}
		w.buf = w.buf[n:]
	}
	if len(w.buf) == 0 {
		w.buf = nil // an idle connection holds no buffer
	}
	return len(p), nil
}

// frameLen is the length of the WebSocket frame b starts with, header
// included; 0 when b is too short to tell.
func frameLen(b []byte) int {
	h, n, ok := frameSize(b)
	if !ok {
		return 0
	}
	return h + int(n)
}

// frameSize reads the header of the WebSocket frame b starts with (RFC
// 6455 5.2): the header's length, masking key included, and the length
// of the payload it announces; false when b is too short to tell (b may
// hold less than the whole header).
func frameSize(b []byte) (header int, payload uint64, ok bool) {
	if len(b) < 2 {
		return 0, 0, false
	}
	h := 2
	if b[1]&0x80 != 0 {
		h += 4 // masking key
	}
	switch l := b[1] & 0x7f; l {
	case 126:
		if len(b) < 4 {
			return 0, 0, false
		}
		return h + 2, uint64(binary.BigEndian.Uint16(b[2:])), true
	case 127:
		if len(b) < 10 {
			return 0, 0, false
		}
		return h + 8, binary.BigEndian.Uint64(b[2:]), true
	default:
		return h, uint64(l), true
	}
}

// appendTextHeader appends the header of an unmasked, final text frame
// of n bytes.
func appendTextHeader(b []byte, n int) []byte {
	const finText = 0x81
	switch {
	case n < 126:
		return append(b, finText, byte(n))
	case n <= 0xffff:
		return append(b, finText, 126, byte(n>>8), byte(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, finText, 127), uint64(n))
	}
}

// batchPool holds empty buffers (length 0) for framing.
var batchPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}
