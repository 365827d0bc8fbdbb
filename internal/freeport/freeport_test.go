package freeport

import (
	"errors"
	"net"
	"syscall"
	"testing"
)

// TestHeldPortRefusesAndServes: nothing answers on a held port; on Linux
// a listener can bind it, and once that listener closes the port is
// refused again and can be listened on again (a server restarted in
// place).
func TestHeldPortRefusesAndServes(t *testing.T) {
	h := Reserve(t)
	refused := func(when string) {
		t.Helper()
		c, err := net.Dial("tcp", h.Addr())
		if err == nil {
			c.Close()
			t.Fatalf("%s: a connection to the held port %s was accepted", when, h.Addr())
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("%s: %v, want connection refused", when, err)
		}
	}
	refused("held")
	if !Shares {
		t.Skip("a held port cannot be listened on beside its hold on this system")
	}
	for round := range 2 {
		ln, err := net.Listen("tcp", h.Addr())
		if err != nil {
			t.Fatalf("round %d: listen on the held port: %v", round, err)
		}
		go func() {
			if c, err := ln.Accept(); err == nil {
				c.Close()
			}
		}()
		c, err := net.Dial("tcp", h.Addr())
		if err != nil {
			t.Fatalf("round %d: dial the listener: %v", round, err)
		}
		c.Close()
		ln.Close()
		refused("listener closed")
	}
}

// TestHeldPortsNeverGivenOut: while ports are held, the kernel gives none
// of them to listeners asking for a free port. With the holds released
// at once, about 1 in 70 of these binds takes one of the 200 ports.
func TestHeldPortsNeverGivenOut(t *testing.T) {
	const holds, binds = 200, 2000
	held := map[int]bool{}
	for range holds {
		held[Reserve(t).Port()] = true
	}
	taken := 0
	for range binds {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if held[ln.Addr().(*net.TCPAddr).Port] {
			taken++
		}
		ln.Close()
	}
	if taken > 0 {
		t.Fatalf("%d of %d binds to port 0 got a held port", taken, binds)
	}
}

// TestReserveAtTakenPort: a port something listens on cannot be held; a
// released hold can be held again.
func TestReserveAtTakenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if h, err := ReserveAt(ln.Addr().(*net.TCPAddr).Port); err == nil {
		h.Release()
		t.Fatalf("held %s, where a listener listens", h.Addr())
	}
	h := Reserve(t)
	h.Release()
	h.Release()
	again, err := ReserveAt(h.Port())
	if err != nil {
		t.Fatalf("hold a released port again: %v", err)
	}
	again.Release()
}
