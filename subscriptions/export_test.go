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

// HeldBytes returns the bytes of the messages waiting for the open
// WebSockets, or being written to them (Options.BufferBytes).
func (e *Engine) HeldBytes() int64 {
	e.mu.Lock()
	conns := make([]*wsConn, 0, len(e.conns))
	for c := range e.conns {
		conns = append(conns, c)
	}
	e.mu.Unlock()
	var n int64
	for _, c := range conns {
		c.qmu.Lock()
		n += c.held.held
		c.qmu.Unlock()
	}
	return n
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

// BurstBorrowed returns the bytes the connections hold beyond their
// BufferBytes (Options.BurstBytes).
func (e *Engine) BurstBorrowed() int64 { return e.opts.burst.Load() }

// RespondSlots exposes respondSlots.
var RespondSlots = respondSlots
