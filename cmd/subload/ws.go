package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// The load clients speak graphql-transport-ws on bare TCP connections:
// a WebSocket library's reader (a context, a buffer and a JSON decode per
// message) would be the load generator's own work counted in every
// event's latency, 2,000 times per burst on one CPU. Each read also takes
// the kernel's receive time of the bytes (SO_TIMESTAMPNS), so that the
// latency up to the client's socket (the gateway's share) is told apart
// from the time the client took to read them.

// client is one WebSocket of subscriptions.
type client struct {
	conn net.Conn
	raw  syscall.RawConn
	// fd is the socket once detached from the Go runtime's poller (read
	// by a poller, -poll); -1 before.
	fd int
	// buf holds bytes read and not yet parsed into frames, stamp when the
	// kernel received the last of them (zero when unknown).
	buf   []byte
	stamp time.Time
	// base is the poller's read buffer, buf a part of it.
	base []byte
}

// dial opens a WebSocket to url (ws://host/path) with the
// graphql-transport-ws subprotocol and waits for connection_ack.
func dial(ctx context.Context, url string) (*client, error) {
	host, path, _ := strings.Cut(strings.TrimPrefix(url, "ws://"), "/")
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, err
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	fmt.Fprintf(conn, "GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n",
		path, host, base64.StdEncoding.EncodeToString(key))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("upgrade: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		conn.Close()
		return nil, fmt.Errorf("upgrade: %s", resp.Status)
	}
	c := &client{conn: conn, fd: -1}
	if n := br.Buffered(); n > 0 {
		c.buf, _ = br.Peek(n)
		c.buf = bytes.Clone(c.buf)
	}
	if sc, ok := conn.(syscall.Conn); ok && rxStamps {
		if c.raw, err = sc.SyscallConn(); err == nil {
			err = c.raw.Control(func(fd uintptr) { err = enableRxStamps(fd) })
		}
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("receive timestamps: %w", err)
		}
	}
	if err := c.send([]byte(`{"type":"connection_init"}`)); err != nil {
		conn.Close()
		return nil, err
	}
	for {
		// The gateway's keep-alive ping may come first on a slow start.
		m, _, err := c.next()
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("no connection_ack: %w", err)
		}
		if bytes.Contains(m, []byte("connection_ack")) {
			break
		}
		if !bytes.Contains(m, []byte(`"ping"`)) {
			conn.Close()
			return nil, fmt.Errorf("no connection_ack: %s", m)
		}
	}
	_ = conn.SetDeadline(time.Time{})
	return c, nil
}

// send writes one masked text frame. Only one goroutine sends at a time:
// the opener before the reader starts, then the reader (pongs).
func (c *client) send(p []byte) error {
	hdr := []byte{0x81}
	switch {
	case len(p) < 126:
		hdr = append(hdr, 0x80|byte(len(p)))
	case len(p) <= 0xffff:
		hdr = append(hdr, 0x80|126, byte(len(p)>>8), byte(len(p)))
	default:
		hdr = binary.BigEndian.AppendUint64(append(hdr, 0x80|127), uint64(len(p)))
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	frame := append(append(hdr, mask[:]...), p...)
	masked := frame[len(hdr)+4:]
	for i := range masked {
		masked[i] ^= mask[i%4]
	}
	if c.fd >= 0 {
		return writeFD(c.fd, frame)
	}
	_, err := c.conn.Write(frame)
	return err
}

// errClosed is the gateway closing the WebSocket.
var errClosed = errors.New("the gateway closed the WebSocket")

// next returns the payload of the next text frame (valid until the next
// call) and when the kernel received the last bytes read with it (zero
// when unknown): frames read together share it.
func (c *client) next() ([]byte, time.Time, error) {
	for {
		if m, n, ok := parseFrame(c.buf); ok {
			c.buf = c.buf[n:]
			if len(c.buf) == 0 {
				c.buf = c.buf[:0:0]
			}
			switch m.op {
			case 0x1:
				return m.payload, c.stamp, nil
			case 0x8:
				return nil, c.stamp, errClosed
			}
			continue // pings, pongs and continuations are not sent by the gateway
		}
		if err := c.fill(); err != nil {
			return nil, c.stamp, err
		}
	}
}

// fill reads more bytes into c.buf, and their kernel receive time into
// c.stamp.
func (c *client) fill() error {
	if cap(c.buf)-len(c.buf) < 512 {
		c.buf = append(make([]byte, 0, max(4096, 2*len(c.buf))), c.buf...)
	}
	free := c.buf[len(c.buf):cap(c.buf)]
	if c.raw == nil {
		n, err := c.conn.Read(free)
		c.buf = c.buf[:len(c.buf)+n]
		return err
	}
	var oob [64]byte
	n, oobn, err := readStamped(c.raw, free, oob[:])
	if err == nil && n == 0 {
		err = io.EOF
	}
	if err != nil {
		return err
	}
	c.buf = c.buf[:len(c.buf)+n]
	c.stamp = rxStamp(oob[:oobn])
	return nil
}

type frame struct {
	op      byte
	payload []byte
}

// parseFrame reads the unmasked frame b starts with and its length;
// false when b holds no whole frame.
func parseFrame(b []byte) (frame, int, bool) {
	if len(b) < 2 {
		return frame{}, 0, false
	}
	h, n := 2, uint64(b[1]&0x7f)
	switch n {
	case 126:
		if len(b) < 4 {
			return frame{}, 0, false
		}
		h, n = 4, uint64(binary.BigEndian.Uint16(b[2:]))
	case 127:
		if len(b) < 10 {
			return frame{}, 0, false
		}
		h, n = 10, binary.BigEndian.Uint64(b[2:])
	}
	if uint64(len(b)-h) < n {
		return frame{}, 0, false
	}
	end := h + int(n)
	return frame{op: b[0] & 0x0f, payload: b[h:end]}, end, true
}

// read receives the events of c and records their latency, until the
// connection ends (the reader of c on its own goroutine: -poll 0 or no
// epoll).
func (c *client) read(rec *recorder, failed *atomic.Value) {
	for {
		m, stamp, err := c.next()
		if err != nil {
			return
		}
		c.handle(m, time.Now(), stamp, rec, failed)
	}
}

// handle takes one message of the gateway, read at now and received by
// the client's kernel at stamp: an event is checked (completed through
// the products subgraph, in order) and its times recorded; a ping is
// answered.
func (c *client) handle(m []byte, now, stamp time.Time, rec *recorder, failed *atomic.Value) {
	if sub, payload, ok := parseNext(m); ok {
		sent, ok := eventTime(payload)
		if !ok {
			rec.errors.Add(1)
			return
		}
		rec.add(sub, now, stamp, sent)
		return
	}
	switch {
	case bytes.Contains(m, []byte(`"type":"ping"`)):
		_ = c.send([]byte(`{"type":"pong"}`))
	case bytes.Contains(m, []byte(`"type":"next"`)):
		rec.errors.Add(1) // not shaped as the gateway frames its events
	case bytes.Contains(m, []byte(`"type":"error"`)), bytes.Contains(m, []byte(`"type":"complete"`)):
		failed.Store(string(m))
	}
}

// parseNext reads a next message as the gateway frames it,
// {"id":"<subscription index>","type":"next","payload":…}, without a
// JSON decode; false for any other message.
func parseNext(m []byte) (sub int, payload []byte, ok bool) {
	rest, ok := bytes.CutPrefix(m, []byte(`{"id":"`))
	if !ok {
		return 0, nil, false
	}
	i := bytes.IndexByte(rest, '"')
	if i <= 0 || i > 9 {
		return 0, nil, false
	}
	for _, d := range rest[:i] {
		if d < '0' || d > '9' {
			return 0, nil, false
		}
		sub = sub*10 + int(d-'0')
	}
	payload, ok = bytes.CutPrefix(rest[i+1:], []byte(`,"type":"next","payload":`))
	return sub, payload, ok
}

// eventTime is the mutation's send time an event's payload carries in
// its review body; false when the event has errors or no product name
// (not completed through the products subgraph).
func eventTime(payload []byte) (int64, bool) {
	if bytes.Contains(payload, []byte(`"errors"`)) || bytes.Contains(payload, []byte(`"name":""`)) ||
		!bytes.Contains(payload, []byte(`"name":"`)) {
		return 0, false
	}
	_, rest, ok := bytes.Cut(payload, []byte(`"body":"`))
	if !ok {
		return 0, false
	}
	var sent uint64
	n := 0
	for _, d := range rest {
		if d < '0' || d > '9' || n == 19 {
			break
		}
		sent = sent*10 + uint64(d-'0')
		n++
	}
	if n == 0 || n >= len(rest) || rest[n] != '"' || sent > math.MaxInt64 {
		return 0, false
	}
	return int64(sent), true
}
