package subscriptions

import (
	"net"
	"net/http"
	"strconv"
	"time"
)

// A subscription over SSE or multipart HTTP would hold its handler's
// goroutine (with the deep stack of the request pipeline) and net/http's
// connection state and buffers for its whole life. Over HTTP/1.1 without
// TLS the connection is hijacked once the response's header is sent
// (chunked, by net/http): the stream's chunks are written here, and the
// socket is watched for the client leaving by a goroutine parked with the
// smallest stack (waitReadable), as for WebSockets.

// hijackedStream is the connection of a hijacked HTTP stream.
type hijackedStream struct {
	conn    net.Conn
	timeout time.Duration
}

// hijackStream takes over r's connection after its header was written
// (w.WriteHeader), or returns nil when it cannot (HTTP/2, HTTP/1.0, TLS,
// a ResponseWriter that does not hijack); then the handler serves the
// stream itself.
func hijackStream(w http.ResponseWriter, r *http.Request, timeout time.Duration) *hijackedStream {
	if r.ProtoMajor != 1 || r.ProtoMinor < 1 || r.TLS != nil {
		return nil
	}
	// net/http sends the header (chunked: HTTP/1.1, no length) before it
	// lets the connection go.
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil
	}
	return &hijackedStream{conn: conn, timeout: timeout}
}

// write sends b as one chunk; false when the client does not take it
// within the write timeout, or is gone.
func (h *hijackedStream) write(b []byte) bool {
	buf := batchPool.Get().(*[]byte)
	defer putBuf(buf)
	c := strconv.AppendInt((*buf)[:0], int64(len(b)), 16)
	c = append(append(append(c, "\r\n"...), b...), "\r\n"...)
	*buf = c
	_ = h.conn.SetWriteDeadline(time.Now().Add(h.timeout))
	_, err := h.conn.Write(c)
	_ = h.conn.SetWriteDeadline(time.Time{})
	return err == nil
}

// close ends the connection (it is not reused: the server let it go),
// after the chunked body's end when the stream completed (a client that
// left or does not read gets no more).
func (h *hijackedStream) close(completed bool) {
	if completed {
		_ = h.conn.SetWriteDeadline(time.Now().Add(h.timeout))
		_, _ = h.conn.Write([]byte("0\r\n\r\n"))
	}
	_ = h.conn.Close()
}

// watch closes gone when the client closes its side of the connection
// (or it breaks). What the client sends meanwhile is read and dropped.
func (h *hijackedStream) watch(gone chan<- struct{}) {
	defer close(gone)
	var b [64]byte
	for {
		waitReadable(h.conn)
		if _, err := h.conn.Read(b[:]); err != nil {
			return
		}
	}
}
