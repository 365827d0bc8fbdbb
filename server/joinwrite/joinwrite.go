// Package joinwrite sends a large plain HTTP/1.1 answer in one system
// call where net/http makes two.
//
// net/http's server writes through a 4 KiB buffer: a handler that sets
// Content-Length and hands over a body larger than the buffer gets one
// write of the full buffer (status line, headers, the body's first bytes)
// and one of the rest, and the client is woken twice. A Conn, installed by
// Listener, can hold the first of those writes and send it with the next
// as one writev. It does so only between Arm and Disarm, which a handler
// calls around writing a complete answer: nothing is ever held past
// Disarm, so an answer that needs no second write (a small body, HEAD, a
// 304, a client gone) loses nothing and waits for nothing, and the answers
// of pipelined requests never mix (net/http writes each one whole before
// it reads the next request).
//
// For reaches the Conn of a request only for plain HTTP/1.x: a TLS
// connection (ServeTLS wraps the listener's connections, so ConnContext
// never sees a Conn), HTTP/2 and h2c are left alone, and so is every
// answer whose handler does not arm the connection (streams, upgrades).
package joinwrite

import (
	"cmp"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
)

// holdMax is the largest write held: the size of net/http's connection
// buffer, whose flushes are the writes worth joining. A larger write is
// a direct one and goes out at once (after what is held).
const holdMax = 4 << 10

// Listener returns ln with each accepted connection wrapped in a Conn.
// Use it with an http.Server whose ConnContext is ConnContext.
func Listener(ln net.Listener) net.Listener { return listener{ln} }

type listener struct{ net.Listener }

func (l listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &Conn{Conn: c}, nil
}

// WriteBody writes body, the whole body of an answer whose status and
// headers (Content-Length among them) are set. On a Conn
// (For) a body larger than net/http's buffer goes out with the status
// line and headers in one system call: the Conn holds the buffer's flush
// until the write of the rest, a flush sends what the buffer still has
// when something is held, and Disarm whatever is still held.
func WriteBody(w http.ResponseWriter, r *http.Request, body []byte) error {
	jc := For(r)
	if jc == nil || len(body) < joinMin || r.Method == http.MethodHead {
		_, err := w.Write(body)
		return err
	}
	jc.Arm()
	_, err := w.Write(body)
	var ferr error
	if jc.held != nil {
		// The rest is still in net/http's buffer (a body a little
		// larger than it): out now, with what is held. When nothing is
		// held, what the buffers have goes out as net/http decides.
		ferr = http.NewResponseController(w).Flush()
	}
	if derr := jc.Disarm(); err == nil {
		err = cmp.Or(ferr, derr)
	}
	return err
}

// joinMin is the body size from which WriteBody joins writes: a smaller
// body fits net/http's 4 KiB buffer with the usual headers, and goes out
// in one write when the handler returns.
const joinMin = 2 << 10

type ctxKey struct{}

// ConnContext is an http.Server's ConnContext: it records c in ctx when c
// is a Conn (a connection of Listener served without TLS).
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if jc, ok := c.(*Conn); ok {
		return context.WithValue(ctx, ctxKey{}, jc)
	}
	return ctx
}

// For returns the Conn that carries r, or nil when r's answer must be
// written as net/http writes it: TLS, HTTP/2, or a connection not
// accepted by Listener.
func For(r *http.Request) *Conn {
	if r.ProtoMajor != 1 || r.TLS != nil {
		return nil
	}
	jc, _ := r.Context().Value(ctxKey{}).(*Conn)
	return jc
}

// Conn is a connection whose writes between Arm and Disarm may be joined.
// Like net/http's HTTP/1 server, which writes a connection from one
// goroutine at a time, it expects Arm, Write and Disarm from one
// goroutine at a time.
type Conn struct {
	net.Conn
	armed bool
	// held is the write being held (a copy: the caller reuses its
	// buffer once Write returns), nil when none is.
	held *[]byte
	// vec is the writev of what is held and the write after it, on
	// vecArr (WriteTo consumes vec: its start moves past what was
	// written, so it is set from vecArr for each writev, not appended to).
	vec    net.Buffers
	vecArr [2][]byte
	// err is the first write error: after it the connection is closed
	// and every write fails, so that nothing follows a lost write.
	err error
}

var heldBufs = sync.Pool{New: func() any { b := make([]byte, 0, holdMax); return &b }}

// Arm lets the next write of at most 4 KiB wait for the one after it.
func (c *Conn) Arm() { c.armed = true }

// Disarm sends what is held and ends the joining; the error is the
// write's. Call it as soon as the answer's last byte was handed over.
func (c *Conn) Disarm() error {
	c.armed = false
	return c.sendHeld()
}

// sendHeld writes what is held, if anything.
func (c *Conn) sendHeld() error {
	h := c.held
	if h == nil {
		return c.err
	}
	c.held = nil
	defer heldBufs.Put(h)
	if c.err != nil {
		return c.err
	}
	_, err := c.Conn.Write(*h)
	c.fail(err)
	return c.err
}

// fail records a write error and closes the connection.
func (c *Conn) fail(err error) {
	if err != nil && c.err == nil {
		c.err = err
		_ = c.Conn.Close()
	}
}

// Write writes p, holding it when armed and small, or sending it after
// what is held in one writev.
func (c *Conn) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	h := c.held
	if h == nil {
		if c.armed && len(p) > 0 && len(p) <= holdMax {
			h = heldBufs.Get().(*[]byte)
			*h = append((*h)[:0], p...)
			c.held = h
			return len(p), nil
		}
		n, err := c.Conn.Write(p)
		c.fail(err)
		return n, err
	}
	c.held = nil
	defer heldBufs.Put(h)
	c.vecArr = [2][]byte{*h, p}
	c.vec = c.vecArr[:]
	n, err := c.vec.WriteTo(c.Conn)
	c.vec, c.vecArr = nil, [2][]byte{} // keep neither buffer
	c.fail(err)
	if err != nil {
		return int(max(n-int64(len(*h)), 0)), err
	}
	return len(p), nil
}

// ReadFrom lets net/http send a file with sendfile, as it does on the
// TCP connection itself, after what is held.
func (c *Conn) ReadFrom(r io.Reader) (int64, error) {
	if err := c.sendHeld(); err != nil {
		return 0, err
	}
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{c.Conn}, r)
}

// writerOnly hides a writer's ReadFrom from io.Copy.
type writerOnly struct{ io.Writer }

// SyscallConn returns the socket's raw connection, so that code given
// the connection after a Hijack (WebSockets and hijacked streams,
// package subscriptions) still waits for it and writes to it without
// blocking, as it does on the TCP connection itself. Its writes bypass
// Write: a hijacked connection is never armed and holds nothing.
func (c *Conn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.ErrUnsupported
}

// CloseWrite shuts the sending side, as net/http does before closing a
// connection it answered with an error.
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}
