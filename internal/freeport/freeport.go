package freeport

import (
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
)

// Shares reports whether a listener with SO_REUSEADDR can bind a held
// port on this system. Linux lets it, because the holding socket does not
// listen; BSD kernels (macOS) refuse any second bind of the same address
// and port, so there a caller must Release the port before a server binds
// it, and retry on a new port when another process takes it meanwhile.
const Shares = isLinux

// Hold is a loopback TCP port held by a bound socket that does not
// listen. Its zero value is not usable; get one with Reserve or ReserveAt.
type Hold struct {
	port int

	mu   sync.Mutex
	sock io.Closer // nil once released
}

// Reserve holds a free port of 127.0.0.1, chosen by the kernel, until the
// test ends or Release.
func Reserve(t testing.TB) *Hold {
	t.Helper()
	h, err := ReserveAt(0)
	if err != nil {
		t.Fatalf("freeport: %v", err)
	}
	t.Cleanup(h.Release)
	return h
}

// ReserveAt holds port of 127.0.0.1 (0: one the kernel chooses). It fails
// when the port is in use: listened on, or the local port of a
// connection. The caller releases it.
func ReserveAt(port int) (*Hold, error) {
	got, sock, err := hold(port)
	if err != nil {
		return nil, err
	}
	return &Hold{port: got, sock: sock}, nil
}

// Port is the held port's number.
func (h *Hold) Port() int { return h.port }

// Addr is 127.0.0.1:port.
func (h *Hold) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(h.port)) }

// Release gives the port back; a second call does nothing.
func (h *Hold) Release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sock != nil {
		_ = h.sock.Close()
		h.sock = nil
	}
}

// Listen listens on a loopback port held for the test (Reserve), for a
// server that a test stops and starts again on the same address: nothing
// can take the port while the server is down, and net.Listen on the
// listener's address gets it back. Where a held port cannot be listened
// on (Shares is false), it listens on a free port, which another process
// may take while the server is down.
func Listen(t testing.TB) net.Listener {
	t.Helper()
	addr := "127.0.0.1:0"
	if Shares {
		addr = Reserve(t).Addr()
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("freeport: %v", err)
	}
	return ln
}
