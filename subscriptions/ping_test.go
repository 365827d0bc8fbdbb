package subscriptions_test

import (
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/subscriptions"
)

// TestKeepAliveSkipsConnectionsWithEvents runs keep-alive rounds by hand:
// a connection is pinged only when it was sent no event since the round
// before, and an idle one in every round.
func TestKeepAliveSkipsConnectionsWithEvents(t *testing.T) {
	// The rounds of the engine's own ticker never come.
	e := newEnv(t, envOptions{engine: subscriptions.Options{KeepAlive: time.Hour}})
	idle := dialRaw(t, e.WSURL)
	busy := dialRaw(t, e.WSURL)
	busy.send(t, subscribeMsg("s"))
	waitFor(t, "1 active", func() bool { return e.Engine.Stats.Active.Load() == 1 })
	e.subscribed(1)
	event := func(body string) {
		t.Helper()
		e.add("3", body)
		if m := busy.read(t); !strings.Contains(m, `"next"`) || !strings.Contains(m, body) {
			t.Fatalf("busy: got %s, want the event %q", m, body)
		}
	}
	ping := func(c *rawWS, name string) {
		t.Helper()
		if m := c.read(t); m != `{"type":"ping"}` {
			t.Fatalf("%s: got %s, want a ping", name, m)
		}
	}
	round := func(want int) {
		t.Helper()
		if n := e.Engine.PingIdle(); n != want {
			t.Fatalf("round pinged %d connections, want %d", n, want)
		}
	}

	event("one")
	round(1) // the idle connection only
	ping(idle, "idle")
	// The busy connection's next message is the next event, not a ping
	// (written before PingIdle returned had it been sent).
	event("two")
	round(1)
	ping(idle, "idle")
	round(2) // no event since the last round: both
	ping(idle, "idle")
	ping(busy, "busy")
}
