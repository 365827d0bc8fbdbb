package subscriptions_test

import (
	"net"
	"sync"
	"syscall"
	"testing"

	"github.com/fedgate/gateway/subscriptions"
)

// TestJoinedListenerKeepsSocket serves WebSockets on Server.Listener,
// as fedgate serve does: the hijacked connection must still reach its
// socket (syscall.Conn), or every idle WebSocket reads on the library's
// goroutine instead of parking in waitReadable, and every message takes
// the writer goroutine instead of one non-blocking write (wsio.go).
func TestJoinedListenerKeepsSocket(t *testing.T) {
	e := newEnv(t, envOptions{joined: true})
	var (
		mu   sync.Mutex
		seen []net.Conn
	)
	subscriptions.SetAcceptHook(t, func(c net.Conn) {
		mu.Lock()
		seen = append(seen, c)
		mu.Unlock()
	})
	w := dialWS(t, e.WSURL, nil)
	w.init("")
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 {
		t.Fatalf("%d connections accepted, want 1", len(seen))
	}
	sc, ok := seen[0].(syscall.Conn)
	if !ok {
		t.Fatalf("the hijacked connection %T is no syscall.Conn", seen[0])
	}
	if _, err := sc.SyscallConn(); err != nil {
		t.Fatalf("SyscallConn: %v", err)
	}
}
