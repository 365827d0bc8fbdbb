//go:build !unix

package h1

import "net"

// sock is not used here: requests are written, then answers read.
type sock struct {
	pending  []byte
	writeErr error
}

func newSock(net.Conn) *sock { return nil }

func (s *sock) Read([]byte) (int, error) { panic("h1: sock unused") }
