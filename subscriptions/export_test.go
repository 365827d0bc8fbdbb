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

// PingIdle runs one keep-alive round at once (the pings not spread) and
// returns how many connections it pinged.
func (e *Engine) PingIdle() int { return e.pingIdle(0) }

// Reservations returns how many graphql-sse single connection
// reservations are live (reserved or open).
func (e *Engine) Reservations() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.reservations)
}

// JoinedGroups returns how many groups of subscriptions there are, and
// how many of them listen to their upstream stream (a review the
// subgraph sends before a group joins its stream does not reach it).
func (e *Engine) JoinedGroups() (groups, joined int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, g := range e.groups {
		g.mu.Lock()
		if g.up != nil {
			joined++
		}
		g.mu.Unlock()
	}
	return len(e.groups), joined
}
