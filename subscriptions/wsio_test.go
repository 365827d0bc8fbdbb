package subscriptions

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestTextHeader checks the frame header at the payload lengths where its
// size changes, against frameLen, which reads it back.
func TestTextHeader(t *testing.T) {
	for _, tc := range []struct{ n, header int }{
		{0, 2}, {125, 2}, {126, 4}, {65535, 4}, {65536, 10}, {1 << 20, 10},
	} {
		h := appendTextHeader(nil, tc.n)
		if len(h) != tc.header || h[0] != 0x81 {
			t.Errorf("%d bytes: header % x, want %d bytes starting 81", tc.n, h, tc.header)
		}
		frame := append(h, make([]byte, tc.n)...)
		if got := frameLen(frame); got != len(frame) {
			t.Errorf("%d bytes: frameLen %d, want %d", tc.n, got, len(frame))
		}
		if got := frameLen(frame[:len(h)-1]); got != 0 {
			t.Errorf("%d bytes: frameLen of a cut header is %d, want 0", tc.n, got)
		}
	}
}

// TestAppendMsgs checks the three message forms against the JSON the
// protocol defines.
func TestAppendMsgs(t *testing.T) {
	payload := []byte(`{"data":{"x":1}}`)
	long := strings.Repeat("a", 200)
	for _, tc := range []struct {
		name string
		m    outMsg
		want string
	}{
		{"raw", outMsg{raw: []byte(`{"type":"pong"}`)}, `{"type":"pong"}`},
		{"framed", outMsg{id: "1", typ: "next", payload: payload}, `{"id":"1","type":"next","payload":{"data":{"x":1}}}`},
		{"framed long", outMsg{id: long, typ: "next", payload: payload}, `{"id":"` + long + `","type":"next","payload":{"data":{"x":1}}}`},
		{"escaped id", outMsg{id: "a\"b", typ: "complete", payload: []byte("null")}, `{"id":"a\"b","type":"complete","payload":null}`},
		{"shared tail", outMsg{idJSON: []byte(`"7"`), tail: []byte(nextTail + `{"data":{"x":1}}}`)}, `{"id":"7","type":"next","payload":{"data":{"x":1}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := appendMsgs([]byte("prefix"), []outMsg{tc.m, tc.m})
			if !bytes.HasPrefix(b, []byte("prefix")) {
				t.Fatalf("the prefix was overwritten: %q", b)
			}
			b = b[len("prefix"):]
			for i := range 2 {
				n := frameLen(b)
				h := len(appendTextHeader(nil, len(tc.want)))
				if n == 0 || n > len(b) || string(b[h:n]) != tc.want {
					t.Fatalf("frame %d: %q, want %q", i, b, tc.want)
				}
				b = b[n:]
			}
			if len(b) != 0 {
				t.Fatalf("%d bytes after the frames", len(b))
			}
		})
	}
}

// tcpPair returns both ends of a loopback TCP connection whose sending
// end's buffer is as small as the kernel allows.
func tcpPair(t *testing.T) (server, client *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	d := net.Dialer{}
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := (<-accepted).(*net.TCPConn)
	client = c.(*net.TCPConn)
	_ = s.SetWriteBuffer(4096)
	t.Cleanup(func() { s.Close(); client.Close() })
	return s, client
}

// TestSockWriterPartial fills a socket without blocking, then writes the
// rest under a deadline while the peer reads: every byte arrives once,
// in order.
func TestSockWriterPartial(t *testing.T) {
	s, c := tcpPair(t)
	w := newSockWriter(s)
	// More than the socket's buffer and the unread peer's hold.
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	n, err := w.tryWrite(data)
	if !errors.Is(err, errWouldBlock) || n >= len(data) {
		t.Fatalf("tryWrite of 1 MiB into a small socket: %d, %v; want a partial write", n, err)
	}
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(c, int64(len(data)+3)))
		got <- b
	}()
	if err := w.writeRest(data[n:], 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// The lock was released: a whole frame from the library follows.
	fw := &frameWriter{s: w}
	for _, piece := range [][]byte{{0x81}, {1}, {'x'}} {
		if _, err := fw.Write(piece); err != nil {
			t.Fatal(err)
		}
	}
	if b := <-got; !bytes.Equal(b, append(append([]byte{}, data...), 0x81, 1, 'x')) {
		t.Fatalf("received %d bytes, not the %d written then the frame", len(b), len(data)+3)
	}
}

// TestSockWriterBroken checks that a write to a connection the peer
// closed fails rather than blocks, and releases the lock.
func TestSockWriterBroken(t *testing.T) {
	s, c := tcpPair(t)
	_ = c.SetLinger(0)
	c.Close()
	w := newSockWriter(s)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := w.tryWrite([]byte("hello"))
		if err != nil && !errors.Is(err, errWouldBlock) {
			break
		}
		if err != nil {
			w.mu.Unlock()
		}
		if time.Now().After(deadline) {
			t.Fatal("writes to a reset connection kept succeeding")
		}
		time.Sleep(10 * time.Millisecond)
	}
	locked := make(chan struct{})
	go func() { w.mu.Lock(); close(locked); w.mu.Unlock() }()
	select {
	case <-locked:
	case <-time.After(5 * time.Second):
		t.Fatal("a failed write kept the lock")
	}
}

// TestFrameWriterInterleaved writes library frames in pieces while
// another goroutine writes whole frames: the peer receives only whole
// frames.
func TestFrameWriterInterleaved(t *testing.T) {
	s, c := tcpPair(t)
	w := newSockWriter(s)
	const frames = 200
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		fw := &frameWriter{s: w}
		for range frames {
			f := append(appendTextHeader(nil, 300), bytes.Repeat([]byte("L"), 300)...)
			for len(f) > 0 {
				k := min(16, len(f))
				if _, err := fw.Write(f[:k]); err != nil {
					t.Error(err)
					return
				}
				f = f[k:]
			}
		}
	}()
	go func() {
		defer wg.Done()
		for range frames {
			f := append(appendTextHeader(nil, 200), bytes.Repeat([]byte("P"), 200)...)
			if err := w.write(f, 10*time.Second); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	total := frames * (4 + 300 + 4 + 200)
	b, err := io.ReadAll(io.LimitReader(c, int64(total)))
	wg.Wait()
	if err != nil || len(b) != total {
		t.Fatalf("read %d of %d bytes: %v", len(b), total, err)
	}
	counts := map[byte]int{}
	for len(b) > 0 {
		n := frameLen(b)
		if n < 4 || n > len(b) {
			t.Fatalf("a cut frame: % x", b[:min(len(b), 8)])
		}
		body := b[4:n] // both sizes take a 4-byte header
		if strings.Trim(string(body), string(body[:1])) != "" {
			t.Fatalf("a frame mixes bytes: %q", body)
		}
		counts[body[0]]++
		b = b[n:]
	}
	if counts['L'] != frames || counts['P'] != frames {
		t.Fatalf("frames received: %v", counts)
	}
}
