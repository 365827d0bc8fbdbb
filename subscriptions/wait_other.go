//go:build !linux

package subscriptions

import "net"

// waitReadable reports false: the reader blocks in its read instead.
func waitReadable(net.Conn) bool { return false }
