//go:build !linux

package main

import "time"

// enableRxStamps does nothing: receive timestamps are read on Linux only.
func enableRxStamps(uintptr) error { return nil }

// rxStamp is zero: no receive time is known.
func rxStamp([]byte) time.Time { return time.Time{} }
