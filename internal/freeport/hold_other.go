//go:build !unix

package freeport

import (
	"fmt"
	"io"
	"net"
)

// hold keeps port of 127.0.0.1 (0: one the system chooses) with a
// listener: where sockets are not file descriptors (Windows) a bound
// socket that does not listen is not made here. Connections to the port
// are then accepted by the kernel and never served while it is held, not
// refused; Shares is false, so Listen never binds a held port.
func hold(port int) (int, io.Closer, error) {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return 0, nil, fmt.Errorf("hold 127.0.0.1:%d: %w", port, err)
	}
	return ln.Addr().(*net.TCPAddr).Port, ln, nil
}
