package subscriptions

import (
	"runtime"
	"sync"
)

// The fan-out of a completed event to a group's subscriptions. Its cost
// is one write system call per client socket, so the rest is kept small:
//
//   - the event's message is framed once: every graphql-transport-ws
//     subscriber receives {"id":<its id>,"type":"next","payload":<the
//     response>}, so the part after the id is built once per event and
//     each message is its id spliced in front (appendMsgs);
//   - the subscriptions of the group are kept by connection (fanTargets,
//     rebuilt when the membership changes), so a connection with several
//     of them receives the event's messages in one write;
//   - writes to a connection with nothing queued happen on the fan-out's
//     goroutines without blocking (wsConn.writeNow), so an event costs no
//     goroutine per client; those goroutines are the group's and a few
//     workers shared by all groups (fanPool), which take chunks of the
//     connections when they are free.

// fanChunk is how many connections a fan-out goroutine writes to at a
// time.
const fanChunk = 128

// fanTargets are a group's subscriptions as the fan-out visits them.
type fanTargets struct {
	// conns are the WebSocket subscriptions by connection.
	conns []connTarget
	// others are the subscriptions of the other transports.
	others []*subscription
	n      int
}

type connTarget struct {
	c    *wsConn
	subs []*subscription
}

// targets returns the group's subscriptions by connection, rebuilt when
// its membership changed since the last call. Only the group's goroutine
// calls it.
func (g *group) targets() *fanTargets {
	e := g.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if g.cached != nil && g.cachedVersion == g.version {
		return g.cached
	}
	t := &fanTargets{n: len(g.members)}
	at := map[*wsConn]int{}
	for s := range g.members {
		ws, ok := s.sink.(*wsSub)
		if !ok {
			t.others = append(t.others, s)
			continue
		}
		i, seen := at[ws.c]
		if !seen {
			i = len(t.conns)
			at[ws.c] = i
			t.conns = append(t.conns, connTarget{c: ws.c})
		}
		t.conns[i].subs = append(t.conns[i].subs, s)
	}
	g.cached, g.cachedVersion = t, g.version
	return t
}

// fanOut delivers body (an event's completed response) to the group's
// subscriptions and returns when every message was written or queued.
func (g *group) fanOut(body []byte, tr *fanTrace, counts *eventCounts) {
	t := g.targets()
	tr.left.Store(int64(t.n))
	delivered := func(s *subscription) {
		s.events.Add(1)
		g.e.Stats.EventsOut.Add(1)
		counts.out.Add(1)
	}
	slow := func(s *subscription) {
		tr.written(1, false)
		g.e.Stats.SlowClients.Add(1)
		if s.close("slow client") {
			s.sink.kill()
		}
	}
	for _, s := range t.others {
		if s.ended.Load() {
			tr.written(1, false)
			continue
		}
		if !s.sink.next(body, tr) {
			slow(s)
			continue
		}
		delivered(s)
	}
	if len(t.conns) == 0 {
		return
	}
	tail := make([]byte, 0, len(nextTail)+len(body)+1)
	tail = append(append(append(tail, nextTail...), body...), '}')
	chunk := func(conns []connTarget) {
		var msgs []outMsg
		var live []*subscription
		for _, ct := range conns {
			msgs, live = msgs[:0], live[:0]
			for _, s := range ct.subs {
				if s.ended.Load() {
					tr.written(1, false)
					continue
				}
				ws := s.sink.(*wsSub)
				msgs = append(msgs, outMsg{idJSON: ws.idJSON, tail: tail, tr: tr})
				live = append(live, s)
			}
			if len(msgs) == 0 {
				continue
			}
			// Marked before the write, which the client may read
			// before this goroutine runs again.
			ct.c.eventSent.Store(true)
			took := ct.c.enqueueAll(msgs, false)
			for i, s := range live {
				if i < took {
					delivered(s)
				} else {
					slow(s)
				}
			}
		}
	}
	var wg sync.WaitGroup
	for i := fanChunk; i < len(t.conns); i += fanChunk {
		part := t.conns[i:min(i+fanChunk, len(t.conns))]
		wg.Add(1)
		task := func() { defer wg.Done(); chunk(part) }
		if !g.e.fanPool().offer(task) {
			task()
		}
	}
	chunk(t.conns[:min(fanChunk, len(t.conns))])
	wg.Wait()
}

// nextTail is what follows the id in a next message, up to its payload.
const nextTail = `,"type":"next","payload":`

// fanWorkers are goroutines that take fan-out chunks when they are free.
type fanWorkers struct{ tasks chan func() }

// offer hands task to a free worker; false when none is free (the caller
// runs it).
func (w *fanWorkers) offer(task func()) bool {
	select {
	case w.tasks <- task:
		return true
	default:
		return false
	}
}

// fanPool returns the engine's fan-out workers, one per CPU the process
// may use, started on first use; they stop at Shutdown.
func (e *Engine) fanPool() *fanWorkers {
	e.fanOnce.Do(func() {
		e.fan = &fanWorkers{tasks: make(chan func())}
		for range runtime.GOMAXPROCS(0) {
			go func() {
				for {
					select {
					case task := <-e.fan.tasks:
						task()
					case <-e.done:
						return
					}
				}
			}()
		}
	})
	return e.fan
}
