package fedgate

import (
	"io"
	"net"
	"testing"
	"time"
)

// TestDebugListenerClosesSlowHeaders: a connection to the profiling
// listener that never finishes its request headers is closed after the
// header deadline (before, http.ListenAndServe had none: each such
// connection was held for good).
func TestDebugListenerClosesSlowHeaders(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := debugServer()
	if srv.ReadHeaderTimeout <= 0 || srv.ReadHeaderTimeout > 10*time.Second || srv.IdleTimeout <= 0 {
		t.Fatalf("deadlines: header %v, idle %v", srv.ReadHeaderTimeout, srv.IdleTimeout)
	}
	// The same server, with a deadline a test can wait for.
	srv.ReadHeaderTimeout = 200 * time.Millisecond
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /debug/pprof/ HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	_, err = io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the connection was still open after %v", time.Since(start).Round(time.Millisecond))
	}
}

// TestLoopbackAddr: only a loopback host keeps the profiling listener off
// the network; ":6060" and 0.0.0.0 serve every interface and are warned
// about at start.
func TestLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:6060": true, "[::1]:6060": true, "localhost:6060": true,
		":6060": false, "0.0.0.0:6060": false, "[::]:6060": false, "10.0.0.5:6060": false, "nonsense": false,
	} {
		if got := loopbackAddr(addr); got != want {
			t.Errorf("loopbackAddr(%q) = %v, want %v", addr, got, want)
		}
	}
}

// TestProfileRate: allocations are sampled for heap profiles only when
// something can read them: the profiling listener, or a GODEBUG
// memprofilerate the operator set (its rate is the runtime's, kept).
func TestProfileRate(t *testing.T) {
	const runtimeRate = 512 * 1024
	for _, c := range []struct {
		name, debugListen, godebug string
		want                       int
	}{
		{"no listener", "", "", 0},
		{"no listener, other GODEBUG settings", "", "gctrace=1,madvdontneed=1", 0},
		{"listener", "127.0.0.1:6060", "", runtimeRate},
		{"GODEBUG memprofilerate", "", "gctrace=1,memprofilerate=1", runtimeRate},
	} {
		if got := profileRate(c.debugListen, c.godebug, runtimeRate); got != c.want {
			t.Errorf("%s: profileRate = %d, want %d", c.name, got, c.want)
		}
	}
}
