package server

import (
	"net"
	"syscall"
	"time"
)

// tcpUserTimeout is Linux's TCP_USER_TIMEOUT socket option (linux/tcp.h).
const tcpUserTimeout = 0x12

// setUserTimeout has the kernel abort c once data the gateway wrote has
// stayed unacknowledged, or unsent behind a closed receive window, for d
// (TCP_USER_TIMEOUT). An answer that fits the socket's send buffer (up to
// 4 MB, net.ipv4.tcp_wmem) leaves the handler at once, so the write
// deadline never sees a client that does not read it: the bytes stayed in
// kernel memory until the idle timeout closed the connection, and the
// kernel kept trying to send them after that.
func setUserTimeout(c net.Conn, d time.Duration) {
	sc, ok := c.(syscall.Conn)
	if !ok || d <= 0 {
		return
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return
	}
	ms := int(min(d, time.Duration(1<<31-1)*time.Millisecond) / time.Millisecond)
	_ = raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpUserTimeout, ms)
	})
}
