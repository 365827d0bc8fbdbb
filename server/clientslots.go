package server

import (
	"context"
	"hash/maphash"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fedgate/gateway/internal/reqerr"
)

// CodeClientInflightLimit refuses a request of a client that already has
// HTTPOptions.MaxInflightPerClient requests in flight.
const CodeClientInflightLimit = "CLIENT_INFLIGHT_LIMIT"

var errClientInflight = &reqerr.Error{Code: CodeClientInflightLimit, Status: http.StatusTooManyRequests,
	Message: "this client has too many requests in flight (server.max_inflight_per_client); retry when one is answered"}

// clientSlots counts each client's requests in flight, so that one
// caller with slow operations cannot hold every execution slot (the
// memory budget, max_inflight_requests) while the others wait or are
// shed. The bound binds only while the gateway is busy (Server.busy):
// while nobody waits, a client past it takes nothing from anyone, and a
// gateway behind a proxy it does not trust, which sees every anonymous
// caller as one address, is not capped at the bound in quiet times.
// Clients are spread over shards by a seeded hash, each a map under its
// own lock: an entry lives only while its client has requests in flight.
type clientSlots struct {
	max    int32
	seed   maphash.Seed
	shards [32]slotShard
}

type slotShard struct {
	mu sync.Mutex
	n  map[string]int32
	_  [40]byte // a cache line each
}

func newClientSlots(max int) *clientSlots {
	if max <= 0 {
		return nil
	}
	c := &clientSlots{max: int32(min(max, 1<<30)), seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].n = map[string]int32{}
	}
	return c
}

func (c *clientSlots) shard(client string) *slotShard {
	return &c.shards[maphash.String(c.seed, client)%uint64(len(c.shards))]
}

// take counts a request of client; false, and nothing counted, when the
// client is at the bound and the gateway is busy.
func (c *clientSlots) take(client string, busy bool) bool {
	sh := c.shard(client)
	sh.mu.Lock()
	n := sh.n[client]
	ok := n < c.max || !busy
	if ok {
		sh.n[client] = n + 1
	}
	sh.mu.Unlock()
	return ok
}

// release ends a request take counted.
func (c *clientSlots) release(client string) {
	sh := c.shard(client)
	sh.mu.Lock()
	if n := sh.n[client] - 1; n > 0 {
		sh.n[client] = n
	} else {
		delete(sh.n, client)
	}
	sh.mu.Unlock()
}

// busy reports whether requests contend for the gateway: some wait for
// the execution memory budget (max_inflight_bytes), or half of
// max_inflight_requests are taken.
func (s *Server) busy() bool {
	if s.budgetWaiters.Load() > 0 {
		return true
	}
	m := s.opts.Observe.MaxInflightRequests
	return m > 0 && s.obs.inflight.Load() >= int64(max(m/2, 1))
}

// refuseClient answers a request refused by clientSlots: 429 with
// Retry-After and CLIENT_INFLIGHT_LIMIT.
func (s *Server) refuseClient(w http.ResponseWriter, r *http.Request) {
	s.opts.Observe.Metrics.Shed(r.Context(), "client_inflight")
	w.Header().Set("Retry-After", s.retryAfter())
	reqerr.Write(w, responseType(r.Header.Get("Accept")), errClientInflight)
}

// retryAfter is the Retry-After of a refusal for load (Observe.RetryAfter
// in whole seconds, 1 by default).
func (s *Server) retryAfter() string {
	after := s.opts.Observe.RetryAfter
	if after <= 0 {
		after = time.Second
	}
	return strconv.Itoa(int((after + time.Second - 1) / time.Second))
}

// refuseBatched answers an operation of a batch after the first that
// finds its client at max_inflight_per_client while the gateway is busy:
// its entry is the CLIENT_INFLIGHT_LIMIT error and the response gets
// Retry-After, while the batch's other entries stand (a batch is answered
// 200 with an entry per operation). A batch started while the gateway
// was quiet so cannot go on past the bound once others wait, as its
// operations sent one by one could not.
func (s *Server) refuseBatched(w http.ResponseWriter, r *http.Request, out []byte) []byte {
	s.opts.Observe.Metrics.Shed(r.Context(), "client_inflight")
	w.Header().Set("Retry-After", s.retryAfter())
	return append(out, reqerr.Body(errClientInflight)...)
}

// batchAnswers is the bytes of the answers a batch holds (its operations
// done so far), which each of its next operations reserves from the
// execution memory budget beside its own weight (Server.run): before,
// each reserved its own weight only, while the batch held every answer
// before it, so a batch of max_batch large answers held up to max_batch
// times what the budget counted. The reservation is taken and given back
// with each operation's, never held while waiting for the next, so
// batches cannot wait on each other.
//
// The count is atomic: an operation whose caller left may still run in a
// shared flight (inbound dedupe, the response cache's), in a goroutine
// that keeps the request context's values, while the batch goes on.
type batchAnswers struct{ bytes atomic.Int64 }

type batchAnswersKey struct{}

// clientBudget counts what each client's executions hold of the
// execution memory budget (max_inflight_bytes). A reservation is held for
// the whole execution, waits for slow subgraphs included, so a client
// whose operations are slow (a subgraph that trickles its answer or never
// sends it; an operation new to the plan cache reserves an eighth of the
// budget) held all of it with a few requests, far under
// max_inflight_per_client, and every other client waited behind it in the
// budget's queue: 40 clients of one address asking a subgraph that
// trickles its answer made real clients of the healthy subgraphs wait
// 5 s (TestHostileSubgraph in make attack). A client's execution that
// would take its holdings past clientShare of the budget now waits for
// them to fall, in a queue of its own, not the budget's: the others always
// find a quarter of the budget free of it. Its first execution always
// runs, however heavy.
type clientBudget struct {
	seed   maphash.Seed
	shards [32]budgetShard
	recent recentClients
}

// othersWindow is how recently another client must have taken from the
// budget for the share to bind: a client alone (a load test, every
// caller behind a proxy the gateway does not trust) may take all of it,
// as before; the harness's 50 connections of one address are budget
// bound (docs/bench.md). A window rather than the others' holdings at
// the instant: their executions are short, and a client over its share
// took the whole budget back between them, each time for as long as its
// slow executions lasted. What a client alone queued for the budget
// before others came stays ahead of them (the budget's queue is FIFO).
const othersWindow = 10 * time.Second

// recentClients is the two clients (by hash) that took from the budget
// last, and when: enough to tell whether a client other than one took
// within a window. Lock-free on every execution's path; concurrent notes
// may lose one, which only delays the share by an execution.
type recentClients struct {
	a, b   atomic.Uint64 // hashes, a the latest
	at, bt atomic.Int64  // their times, unix nanoseconds
}

// note records that the client of hash key took at now.
func (r *recentClients) note(key uint64, now int64) {
	if r.a.Load() == key {
		r.at.Store(now)
		return
	}
	r.b.Store(r.a.Load())
	r.bt.Store(r.at.Load())
	r.a.Store(key)
	r.at.Store(now)
}

// other reports whether a client other than key took since since.
func (r *recentClients) other(key uint64, since int64) bool {
	return r.a.Load() != key && r.at.Load() >= since || r.b.Load() != key && r.bt.Load() >= since
}

// budgetShard holds the clients of one shard of clientBudget (spread by
// a seeded hash, as clientSlots: one lock for all would be taken twice by
// every execution).
type budgetShard struct {
	mu   sync.Mutex
	held map[string]*clientHold
	_    [40]byte // a cache line each
}

// clientHold is one client's holdings; changed, when set, is closed (and
// cleared) when they fall. An entry lives while the client holds
// something or waits.
type clientHold struct {
	n       int64
	waiters int
	changed chan struct{}
}

// clientShare is the part of the execution budget one client may hold.
func clientShare(budget int64) int64 { return budget - budget/4 }

func newClientBudget() *clientBudget {
	c := &clientBudget{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].held = map[string]*clientHold{}
	}
	return c
}

func (c *clientBudget) shard(client string) *budgetShard {
	return &c.shards[maphash.String(c.seed, client)%uint64(len(c.shards))]
}

// take adds w to client's holdings once they hold nothing, w fits within
// share, or no other client took from the budget within othersWindow,
// waiting for that; an error when ctx ends first.
func (c *clientBudget) take(ctx context.Context, client string, w, share int64) error {
	key := maphash.String(c.seed, client)
	sh := &c.shards[key%uint64(len(c.shards))]
	now := time.Now().UnixNano()
	c.recent.note(key, now)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for {
		h := sh.held[client]
		if h == nil {
			h = &clientHold{}
			sh.held[client] = h
		}
		if h.n == 0 || h.n+w <= share || !c.recent.other(key, time.Now().UnixNano()-int64(othersWindow)) {
			h.n += w
			return nil
		}
		if h.changed == nil {
			h.changed = make(chan struct{})
		}
		ch := h.changed
		h.waiters++
		sh.mu.Unlock()
		var err error
		select {
		case <-ch:
		case <-ctx.Done():
			err = ctx.Err()
		}
		sh.mu.Lock()
		h.waiters--
		if err != nil {
			sh.forget(client, h)
			return err
		}
	}
}

// release gives back w taken for client.
func (c *clientBudget) release(client string, w int64) {
	sh := c.shard(client)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	h := sh.held[client]
	if h == nil {
		return
	}
	h.n -= w
	if h.changed != nil {
		close(h.changed)
		h.changed = nil
	}
	sh.forget(client, h)
}

// forget drops h, client's entry, once it holds nothing and nobody waits
// on it. sh.mu is held.
func (sh *budgetShard) forget(client string, h *clientHold) {
	if h.n <= 0 && h.waiters == 0 {
		delete(sh.held, client)
	}
}

// clients is the number of clients holding or waiting (tests).
func (c *clientBudget) clients() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		n += len(sh.held)
		sh.mu.Unlock()
	}
	return n
}
