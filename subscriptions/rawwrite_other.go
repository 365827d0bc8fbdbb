//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package subscriptions

import "errors"

// rawWrites is false where no raw write system call is made (Windows
// sockets are not file descriptors): a sockWriter then has no raw socket,
// and every frame goes through the connection's own Write, under the
// write deadline (tryWrite, writeRest).
const rawWrites = false

// rawWrite is never called where rawWrites is false.
func rawWrite(uintptr, []byte) (int, error) {
	return 0, errors.New("raw socket writes are not supported on this system")
}
