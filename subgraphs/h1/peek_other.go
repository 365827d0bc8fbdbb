//go:build !unix

package h1

import "syscall"

// peeker is unused here.
type peeker struct{}

// peekQuiet cannot look at the socket here: a connection the server closed
// fails its next request instead (the subgraph client retries queries).
func peekQuiet(syscall.RawConn, *peeker) bool { return true }
