package subscriptions

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// The I/O under a client WebSocket, shaped for many idle connections:
//
//   - the hijacked connection gets a small read buffer and a 16-byte
//     write buffer in place of net/http's two 4 KiB ones (the WebSocket
//     library keeps whatever Hijack returns for the connection's life);
//   - what the library writes goes to a batchWriter: the writer goroutine
//     frames all queued messages into one pooled buffer and sends it with
//     one write system call under one deadline, and an idle connection
//     holds no write buffer at all;
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
	batch   *batchWriter
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
	h.batch = &batchWriter{conn: conn}
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(h.batch, 16)), nil
}

// Header implements http.ResponseWriter (the WebSocket library reads the
// negotiated subprotocol after Hijack).
func (h *hijacker) Header() http.Header {
	if h.ResponseWriter == nil {
		return h.header
	}
	return h.ResponseWriter.Header()
}

// batchWriter is where the WebSocket library writes frames. Between begin
// and end it collects them in a pooled buffer; otherwise (control frames
// the library answers by itself, the close frame) it writes through.
type batchWriter struct {
	conn     net.Conn
	mu       sync.Mutex
	batching bool
	buf      *[]byte
}

// batchPool holds empty buffers (length 0) for batches and framing.
var batchPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// Write implements io.Writer.
func (w *batchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	if w.batching {
		*w.buf = append(*w.buf, p...)
		w.mu.Unlock()
		return len(p), nil
	}
	w.mu.Unlock()
	return w.conn.Write(p)
}

// begin starts collecting.
func (w *batchWriter) begin() {
	w.mu.Lock()
	w.batching = true
	w.buf = batchPool.Get().(*[]byte)
	w.mu.Unlock()
}

// end sends what was collected in one write with a deadline, and writes
// through again.
func (w *batchWriter) end(timeout time.Duration) error {
	w.mu.Lock()
	b := w.buf
	w.buf, w.batching = nil, false
	w.mu.Unlock()
	if b == nil {
		return nil
	}
	var err error
	if len(*b) > 0 {
		_ = w.conn.SetWriteDeadline(time.Now().Add(timeout))
		_, err = w.conn.Write(*b)
		_ = w.conn.SetWriteDeadline(time.Time{})
	}
	if cap(*b) <= 64<<10 {
		*b = (*b)[:0]
		batchPool.Put(b)
	}
	return err
}
