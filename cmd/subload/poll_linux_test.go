package main

import (
	"bytes"
	"fmt"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestPollerReads has the poller read a gateway's frames from a loopback
// socket: events whole, split over writes and several in one read,
// recorded in order with their receive stamps; a ping answered with a
// pong; an event out of order and one not completed counted; the
// gateway's close ending the connection.
func TestPollerReads(t *testing.T) {
	stampsOn(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	gw, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	c := &client{conn: conn, fd: -1}
	if c.raw, err = conn.(syscall.Conn).SyscallConn(); err != nil {
		t.Fatal(err)
	}
	if err := c.raw.Control(func(fd uintptr) { err = enableRxStamps(fd) }); err != nil {
		t.Fatal(err)
	}
	p, err := newPoller(100 * time.Microsecond)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.add(c); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{last: make([]int64, 2)}
	rec.measuring.Store(true)
	var failed atomic.Value
	done := make(chan struct{})
	ended := make(chan struct{})
	go func() { p.run(done, rec, &failed); close(ended) }()
	defer func() { close(done); <-ended }()

	event := func(sub int, sent int64, name string) []byte {
		return serverFrame(0x1, fmt.Sprintf(`{"id":"%d","type":"next","payload":{"data":{"reviewAdded":{"body":"%d","product":{"upc":"1","name":"%s","inStock":true}}}}}`, sub, sent, name))
	}
	write := func(b []byte) {
		t.Helper()
		if _, err := gw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	waitEvents := func(n int64) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); rec.events.Load()+rec.errors.Load() < n; {
			if time.Now().After(deadline) {
				t.Fatalf("read %d events and %d errors, want %d", rec.events.Load(), rec.errors.Load(), n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	write(event(0, 100, "Table"))
	waitEvents(1)
	// Split inside the header and inside the message.
	two := event(1, 101, "Couch")
	write(two[:1])
	time.Sleep(5 * time.Millisecond)
	write(two[1:40])
	time.Sleep(5 * time.Millisecond)
	write(two[40:])
	waitEvents(2)
	// Several in one write, one of them out of order, one not
	// completed through the products subgraph.
	write(append(append(event(0, 102, "Table"), event(1, 99, "Couch")...), event(0, 103, "")...))
	waitEvents(5)
	write(serverFrame(0x1, `{"type":"ping"}`))
	buf := make([]byte, 64)
	_ = gw.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := gw.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := unmask(buf[:n]); got != `{"type":"pong"}` {
		t.Errorf("answer to a ping: %q", got)
	}
	if got := rec.events.Load(); got != 4 {
		t.Errorf("events %d, want 4", got)
	}
	if got := rec.errors.Load(); got != 1 {
		t.Errorf("errors %d, want 1", got)
	}
	if got := rec.outOfOrder.Load(); got != 1 {
		t.Errorf("out of order %d, want 1", got)
	}
	rec.mu.Lock()
	samples := append([]sample(nil), rec.samples...)
	rec.mu.Unlock()
	if len(samples) != 4 {
		t.Fatalf("samples %+v, want 4", samples)
	}
	for i, want := range []int64{100, 101, 102, 99} {
		s := samples[i]
		// Even with stamping on (stampsOn), the kernel left the first
		// event on a new connection unstamped once in CI: that one may
		// come without a stamp, the later ones may not.
		if s.sent != want || (s.stamp == 0 && i > 0) || s.read < s.stamp {
			t.Errorf("sample %d = %+v, want sent %d, a receive stamp and a read after it", i, s, want)
		}
	}
	write(serverFrame(0x8, "\x03\xe8"))
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		_ = gw.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := gw.Read(buf); err != nil && !isTimeout(err) {
			break // the client closed its socket
		}
		if time.Now().After(deadline) {
			t.Fatal("the client's socket stayed open after the gateway's close")
		}
	}
}

// stampsOn returns once the kernel stamps received packets, and keeps it
// stamping until t ends. The kernel turns stamping on a moment after the
// first socket of the machine asks for it (from a work queue), and off
// when the last one closes: without this, the first events of the test
// could come without a stamp (5 of 400 runs on a loaded machine had the
// first three events unstamped).
func stampsOn(t *testing.T) {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Control(func(fd uintptr) { err = enableRxStamps(fd) }); err != nil {
		t.Fatal(err)
	}
	buf, oob := make([]byte, 16), make([]byte, 128)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, err := c.WriteToUDP([]byte("stamp?"), c.LocalAddr().(*net.UDPAddr)); err != nil {
			t.Fatal(err)
		}
		_, oobn, _, _, err := c.ReadMsgUDP(buf, oob)
		if err != nil {
			t.Fatal(err)
		}
		if !rxStamp(oob[:oobn]).IsZero() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the kernel does not stamp received packets")
		}
	}
}

// serverFrame is an unmasked frame of the gateway's.
func serverFrame(op byte, payload string) []byte {
	b := []byte{0x80 | op}
	if len(payload) < 126 {
		b = append(b, byte(len(payload)))
	} else {
		b = append(b, 126, byte(len(payload)>>8), byte(len(payload)))
	}
	return append(b, payload...)
}

// unmask is the payload of the masked client frame b (short payloads).
func unmask(b []byte) string {
	if len(b) < 6 {
		return ""
	}
	mask, p := b[2:6], bytes.Clone(b[6:])
	for i := range p {
		p[i] ^= mask[i%4]
	}
	return string(p)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
