package freeport

import (
	"errors"
	"net"
	"syscall"
	"testing"
)

// TestListenAgain: a server listening through Listen is stopped and
// listened for again on its address; while it is down, connections are
// refused and the port is still in use (a bind without SO_REUSEADDR, as
// a connect() makes, fails).
func TestListenAgain(t *testing.T) {
	if !Shares {
		t.Skip("the port is not held on this system")
	}
	ln := Listen(t)
	addr := ln.Addr().String()
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatal("a connection to the stopped server's port was accepted")
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	err = syscall.Bind(fd, &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}})
	_ = syscall.Close(fd)
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("bind %s while the server is down: %v, want address in use", addr, err)
	}
	again, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	again.Close()
}
