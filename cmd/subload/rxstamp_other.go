//go:build !linux

package main

import (
	"errors"
	"syscall"
	"time"
)

// rxStamps is false: receive times are read on Linux only, and the client
// reads its connection as any other.
const rxStamps = false

// readStamped is never called where rxStamps is false.
func readStamped(syscall.RawConn, []byte, []byte) (int, int, error) {
	return 0, 0, errors.New("receive timestamps are read on Linux only")
}

// enableRxStamps does nothing: receive timestamps are read on Linux only.
func enableRxStamps(uintptr) error { return nil }

// rxStamp is zero: no receive time is known.
func rxStamp([]byte) time.Time { return time.Time{} }
