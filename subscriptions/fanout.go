package subscriptions

import (
	"fmt"
	"runtime"
	"runtime/debug"
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
	for _, s := range t.others {
		if s.ended.Load() {
			tr.written(1, false)
			continue
		}
		g.send(s, body, tr, counts)
	}
	if len(t.conns) == 0 {
		return
	}
	tail := make([]byte, 0, len(nextTail)+len(body)+1)
	tail = append(append(append(tail, nextTail...), body...), '}')
	job := &fanJob{g: g, conns: t.conns, tail: tail, tr: tr, counts: counts}
	for lo := fanChunk; lo < len(t.conns); lo += fanChunk {
		task := fanTask{job: job, lo: lo, hi: min(lo+fanChunk, len(t.conns))}
		job.wg.Add(1)
		if !g.e.fanPool().offer(task) {
			task.run()
		}
	}
	job.wg.Add(1)
	fanTask{job: job, hi: min(fanChunk, len(t.conns))}.run()
	job.wg.Wait()
}

// respondAtOnce bounds the response hooks of one event that run at once
// (fanOutEach): a coprocessor exchange each, which its connection pool
// (coprocessor.max_idle_conns, 64 by default) serves in parallel. Each
// holds a copy of the event (and a coprocessor its JSON), so a large
// event runs fewer at once: as many as fit in respondBytesAtOnce.
const (
	respondAtOnce      = 64
	respondBytesAtOnce = 16 << 20
)

// respondSlots is how many subscribers' hooks run at once on an event of
// size bytes.
func respondSlots(size int) int {
	return max(1, min(respondAtOnce, respondBytesAtOnce/max(size, 1)))
}

// fanOutEach delivers body to each of the group's subscriptions as its
// response hooks (Prepared.Respond) leave it: they run per subscriber,
// with its own hook state, up to respondSlots at a time, and the event
// is framed per subscriber once all have run, so each subscriber's events
// stay in order. Before, they ran one after another on the group's
// goroutine: every event waited for the sum of its subscribers' hooks (a
// coprocessor exchange each), so a few hundred subscribers of one
// subscription, an attacker's included, made its events late by seconds,
// and its pending events then ended it for everyone (max_pending). A
// subscription whose hooks answer errors ends with them; a panic in its
// hooks answers that event with INTERNAL_SERVER_ERROR, and the
// subscription goes on.
func (g *group) fanOutEach(body []byte, tr *fanTrace, counts *eventCounts) {
	members := g.snapshot()
	tr.left.Store(int64(len(members)))
	type answer struct{ out, errs []byte }
	answers := make([]answer, len(members))
	var wg sync.WaitGroup
	slots := make(chan struct{}, respondSlots(len(body)))
	for i, s := range members {
		if s.respond == nil || s.ended.Load() {
			continue
		}
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			out, errs := g.respondFor(s, body)
			answers[i] = answer{out, errs}
		}()
	}
	wg.Wait()
	for i, s := range members {
		if s.ended.Load() {
			tr.written(1, false)
			continue
		}
		out := body
		if s.respond != nil {
			if answers[i].errs != nil {
				tr.written(1, false)
				s.finish(answers[i].errs, "ended by a response hook")
				continue
			}
			out = answers[i].out
		}
		if ws, ok := s.sink.(*wsSub); ok {
			ws.c.eventSent.Store(true)
		}
		g.send(s, out, tr, counts)
	}
}

// send hands an event's message to s's sink and counts it; a client that
// does not take it is ended as slow.
func (g *group) send(s *subscription, msg []byte, tr *fanTrace, counts *eventCounts) {
	if !s.sink.next(msg, tr) {
		g.slow(s, tr)
		return
	}
	s.events.Add(1)
	g.e.Stats.EventsOut.Add(1)
	counts.out.Add(1)
}

// respondFor runs s's response hooks on an event; a panic there costs
// the event (eventFailed), as one completing it does.
func (g *group) respondFor(s *subscription, body []byte) (out, errs []byte) {
	defer func() {
		if p := recover(); p != nil {
			g.e.opts.Logger.Error("panic in a response hook of a subscription event", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			out, errs = eventFailed, nil
		}
	}()
	return s.respond(g.ctx, body)
}

// slow ends s, whose client did not take the event tr follows.
func (g *group) slow(s *subscription, tr *fanTrace) {
	tr.written(1, false)
	g.e.Stats.SlowClients.Add(1)
	if s.close("slow client") {
		s.sink.kill()
	}
}

// fanJob is one event's fan-out to a group's WebSockets, which fanTasks
// share out.
type fanJob struct {
	g     *group
	conns []connTarget
	// tail is the part of the event's messages after the id.
	tail   []byte
	tr     *fanTrace
	counts *eventCounts
	wg     sync.WaitGroup
}

// fanTask is the fan-out of a job to its connections lo to hi.
type fanTask struct {
	job    *fanJob
	lo, hi int
}

// run writes or queues the event's messages to the task's connections.
func (t fanTask) run() {
	j := t.job
	defer j.wg.Done()
	// Most connections carry one subscription of the group: the
	// buffers for a connection's messages start on the stack.
	var msgArr [4]outMsg
	var liveArr [4]*subscription
	delivered := 0
	for _, ct := range j.conns[t.lo:t.hi] {
		msgs, live := msgArr[:0], liveArr[:0]
		for _, s := range ct.subs {
			if s.ended.Load() {
				j.tr.written(1, false)
				continue
			}
			ws := s.sink.(*wsSub)
			msgs = append(msgs, outMsg{idJSON: ws.idJSON, tail: j.tail, tr: j.tr})
			live = append(live, s)
		}
		if len(msgs) == 0 {
			continue
		}
		// Marked before the write, which the client may read before
		// this goroutine runs again.
		ct.c.eventSent.Store(true)
		took := ct.c.enqueueAll(msgs, false)
		for i, s := range live {
			if i < took {
				s.events.Add(1)
				delivered++
			} else {
				j.g.slow(s, j.tr)
			}
		}
	}
	j.g.e.Stats.EventsOut.Add(int64(delivered))
	j.counts.out.Add(int64(delivered))
}

// nextTail is what follows the id in a next message, up to its payload.
const nextTail = `,"type":"next","payload":`

// fanWorkers are goroutines that take fan-out chunks when they are free.
type fanWorkers struct{ tasks chan fanTask }

// offer hands task to a free worker; false when none is free (the caller
// runs it).
func (w *fanWorkers) offer(task fanTask) bool {
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
		e.fan = &fanWorkers{tasks: make(chan fanTask)}
		for range runtime.GOMAXPROCS(0) {
			go func() {
				for {
					select {
					case task := <-e.fan.tasks:
						task.run()
					case <-e.done:
						return
					}
				}
			}()
		}
	})
	return e.fan
}
