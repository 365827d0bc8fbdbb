package subscriptions

import (
	"net"
	"testing"
)

// SetAcceptHook has f see the connection of each WebSocket accepted until
// t ends.
func SetAcceptHook(t testing.TB, f func(net.Conn)) {
	testHookAccepted = f
	t.Cleanup(func() { testHookAccepted = nil })
}
