package server

import (
	"net/http"
	"sync"
	"unsafe"

	"github.com/fedgate/gateway/internal/reqerr"
)

// CodeClientUnreadLimit refuses an answer of a client whose earlier
// answers, still being written to it, hold its share of
// HTTPOptions.MaxWritingBytes.
const CodeClientUnreadLimit = "CLIENT_UNREAD_ANSWERS_LIMIT"

var (
	errWritingFull = &reqerr.Error{Code: CodeOverloaded, Status: http.StatusServiceUnavailable,
		Message: "the gateway holds too many answers that their clients have not read yet (server.max_writing_bytes); retry later"}
	errClientUnread = &reqerr.Error{Code: CodeClientUnreadLimit, Status: http.StatusTooManyRequests,
		Message: "this client's answers not read yet hold its share of the gateway's answers being written (server.max_writing_bytes); read them, then retry"}
)

// unreadFloor is the size from which an answer counts against the
// writing budget: a smaller one goes whole into the socket's send buffer
// (kernel memory, which TCP_USER_TIMEOUT frees) in one write, and the
// handler lets it go at once, so only large answers are held by clients
// that do not read.
const unreadFloor = 64 << 10

// writingBudget bounds the bytes of the answers being written at once
// (HTTPOptions.MaxWritingBytes): the execution budget is given back when
// an answer is computed, and a client that does not read held its answer
// in the handler until write_timeout, outside every bound: 200
// connections of one address, each asking gateway demo for a 4.6 MB
// answer with a 4 KiB receive window, took its RSS to 1.5 GB. An answer
// that does not fit is refused at once (503), and one client's answers
// hold at most three quarters of the budget (429), so the others always
// find a quarter. Safe for concurrent use; nil is no budget.
type writingBudget struct {
	max, share int64

	mu   sync.Mutex
	used int64
	// held is what each client holds; an entry lives while it holds.
	held map[string]int64
	// shared counts the answers several readers write from one buffer
	// (the response cache's, inbound dedupe's) once, by the buffer's
	// first byte and length, while any of them holds it.
	shared map[sharedKey]*sharedHold
}

// sharedKey names a shared answer's buffer: its first byte and its
// length, so two bodies cut from one buffer are two answers.
type sharedKey struct {
	first *byte
	n     int
}

// sharedHold is one shared answer's count: the client it is charged to,
// its bytes, and how many of each client's readers hold it.
type sharedHold struct {
	client  string
	n       int64
	readers map[string]int
}

func newWritingBudget(max int64) *writingBudget {
	if max <= 0 {
		return nil
	}
	return &writingBudget{max: max, share: max - max/4, held: map[string]int64{}, shared: map[sharedKey]*sharedHold{}}
}

// take counts n bytes of client's answer; the refusal when they do not
// fit. A nil budget takes nothing. With ran, the bytes are counted and
// never refused: the answer of an operation that changed data (a
// mutation) must reach its client, since a refusal saying "retry later"
// would make it run again.
func (b *writingBudget) take(client string, n int64, ran bool) *reqerr.Error {
	if b == nil || n <= 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	// A client's first answer is never refused for its share (it may be
	// larger than the share), only when the budget has no room for it.
	if have := b.held[client]; !ran && have > 0 && have+n > b.share {
		return errClientUnread
	}
	if !ran && b.used > 0 && b.used+n > b.max {
		return errWritingFull
	}
	b.used += n
	b.held[client] += n
	return nil
}

// takeShared is take for an answer written from buf, a buffer other
// readers may write from at once: its bytes are counted once, against
// one reader's client, while any reader holds it. Counted once per
// reader, 16 slow readers of one cached 4 MB answer took 64 MB of the
// budget where 4 MB were held, and the other clients were refused room
// the gateway had. ok reports whether the reader holds buf and must
// giveShared it.
func (b *writingBudget) takeShared(client string, buf []byte, ran bool) (err *reqerr.Error, ok bool) {
	if b == nil || len(buf) == 0 {
		return nil, false
	}
	key := sharedKey{unsafe.SliceData(buf), len(buf)}
	b.mu.Lock()
	if h := b.shared[key]; h != nil {
		h.readers[client]++
		b.mu.Unlock()
		return nil, true
	}
	b.mu.Unlock()
	if err := b.take(client, int64(len(buf)), ran); err != nil {
		return err, false
	}
	b.mu.Lock()
	if h := b.shared[key]; h != nil {
		// Another reader counted it meanwhile: this one's count goes back.
		h.readers[client]++
		b.mu.Unlock()
		b.give(client, int64(len(buf)))
		return nil, true
	}
	b.shared[key] = &sharedHold{client: client, n: int64(len(buf)), readers: map[string]int{client: 1}}
	b.mu.Unlock()
	return nil, true
}

// giveShared ends one of client's readers' hold of buf (takeShared); the
// last reader gives its bytes back. When the client charged with them
// has no reader left, the charge moves to a client that still reads:
// otherwise a client that fetched a popular answer first kept it against
// its own share for as long as another client stalled reading it.
func (b *writingBudget) giveShared(client string, buf []byte) {
	if b == nil || len(buf) == 0 {
		return
	}
	key := sharedKey{unsafe.SliceData(buf), len(buf)}
	b.mu.Lock()
	defer b.mu.Unlock()
	h := b.shared[key]
	if h == nil || h.readers[client] == 0 {
		return
	}
	if h.readers[client]--; h.readers[client] == 0 {
		delete(h.readers, client)
	}
	if len(h.readers) == 0 {
		delete(b.shared, key)
		b.giveLocked(h.client, h.n)
		return
	}
	if h.readers[h.client] > 0 {
		return
	}
	next := ""
	for c := range h.readers {
		if next == "" || c < next {
			next = c
		}
	}
	b.giveLocked(h.client, h.n)
	// Moved, never refused: the bytes are already being written.
	b.used += h.n
	b.held[next] += h.n
	h.client = next
}

// give returns n bytes client took.
func (b *writingBudget) give(client string, n int64) {
	if b == nil || n <= 0 {
		return
	}
	b.mu.Lock()
	b.giveLocked(client, n)
	b.mu.Unlock()
}

// giveLocked is give with b.mu held.
func (b *writingBudget) giveLocked(client string, n int64) {
	b.used -= n
	if left := b.held[client] - n; left > 0 {
		b.held[client] = left
	} else {
		delete(b.held, client)
	}
}

// inUse returns the bytes taken.
func (b *writingBudget) inUse() int64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// holdAnswer takes the answer body from the writing budget for client
// (r's client when ""), and returns who it counts against, for
// releaseAnswer (with the same body and shared) once it is written. When it does not fit, the
// refusal is written instead and ok is false; a mutation's answer
// (mutation) is never refused, only counted.
//
// A shared answer (shared: the response cache's or inbound dedupe's
// buffer, which other readers may write at once) is counted once while
// any of its readers holds it (takeShared).
func (s *Server) holdAnswer(w http.ResponseWriter, r *http.Request, client string, body []byte, shared, mutation bool) (holder string, ok bool) {
	n := len(body)
	if s.writing == nil || n < unreadFloor {
		return client, true
	}
	if client == "" {
		client = s.ClientOf(r)
	}
	var err *reqerr.Error
	if shared {
		err, _ = s.writing.takeShared(client, body, mutation)
	} else {
		err = s.writing.take(client, int64(n), mutation)
	}
	if err != nil {
		s.opts.Observe.Metrics.Shed(r.Context(), "unread_answers")
		h := w.Header()
		h.Del("Cache-Control")
		h.Del("Content-Length")
		// The refusal says "retry later", as if nothing ran: a cookie the
		// run set (propagated from a subgraph, or by a hook) is not sent
		// with it; the retry sets it again. Before, the 503 carried it.
		h.Del("Set-Cookie")
		h.Set("Retry-After", s.retryAfter())
		reqerr.Write(w, responseType(r.Header.Get("Accept")), err)
		return client, false
	}
	return client, true
}

// releaseAnswer gives back what holdAnswer took for body.
func (s *Server) releaseAnswer(holder string, body []byte, shared bool) {
	if len(body) < unreadFloor {
		return
	}
	if shared {
		s.writing.giveShared(holder, body)
		return
	}
	s.writing.give(holder, int64(len(body)))
}

// batchAnswer is a batch's answer as its operations add to it: each
// operation's entry takes its bytes from the writing budget when it is
// added, and all of them are given back once the batch's answer is
// written (release). Before, a batch held the entries of its operations
// run so far while it waited for the execution budget to run the next,
// counted by nothing: 200 connections of one address sending batches of
// ten 460 KB introspections held 630 MB of them in gateway demo.
type batchAnswer struct {
	s      *Server
	client string
	held   int64
}

// add returns what the batch's answer gets for an operation's entry:
// the entry itself when its bytes fit (a mutation's always), else the
// refusal's entry (and Retry-After on h).
func (b *batchAnswer) add(r *http.Request, h http.Header, entry []byte, mutation bool) []byte {
	if b.s.writing == nil {
		return entry
	}
	if b.client == "" {
		b.client = b.s.ClientOf(r)
	}
	if err := b.s.writing.take(b.client, int64(len(entry)), mutation); err != nil {
		b.s.opts.Observe.Metrics.Shed(r.Context(), "unread_answers")
		h.Set("Retry-After", b.s.retryAfter())
		return reqerr.Body(err)
	}
	b.held += int64(len(entry))
	return entry
}

// release gives back what the batch's entries took.
func (b *batchAnswer) release() { b.s.writing.give(b.client, b.held) }
