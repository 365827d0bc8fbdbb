package subscriptions

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// graphql-sse's single connection mode (its PROTOCOL.md): a PUT reserves
// an event stream and answers its token; a GET or POST that accepts
// text/event-stream and presents the token opens the stream (once); POSTs
// with the token run operations whose results go to that stream
// (answered 202), each message tagged with the operation's id
// (extensions.operationId); a DELETE with the token and ?operationId=
// stops one.
//
// A token is 256 random bits, looked up by its hash, and belongs to the
// client that reserved it: the same token from another client is unknown
// (404), as is a guessed one. A client holds at most
// Options.MaxReservations reservations; one whose stream is not opened
// within Options.InitTimeout expires. A second stream for a token is
// refused (409). When the stream ends (the client left, did not read, or
// the gateway shuts down) its operations end and the token is void.

// TokenHeader is the header of graphql-sse's reservation token.
const TokenHeader = "X-Graphql-Event-Stream-Token"

// reservation is one single-connection event stream, reserved or open.
type reservation struct {
	e      *Engine
	key    [32]byte // hash of the token
	client string
	expiry *time.Timer

	mu    sync.Mutex
	open  bool
	ended bool
	ops   map[string]*sseOp
	queue [][]byte // framed events waiting for the stream
	// held is the bytes of the queued events and of those being written
	// (Options.BufferBytes, BurstBytes).
	held   queueBytes
	signal chan struct{}
	dead   chan struct{}
}

// sseOp is one operation of a reservation (a sink).
type sseOp struct {
	r   *reservation
	id  string
	sub *subscription
	// stopped is set when the client deleted the operation or it ended.
	stopped bool
}

// singleToken is the reservation token of r: the header, or the token
// search parameter of a PUT, a DELETE or an event stream request.
func singleToken(r *http.Request) string {
	if t := r.Header.Get(TokenHeader); t != "" {
		return t
	}
	switch {
	case r.Method == http.MethodPut, r.Method == http.MethodDelete,
		r.Method == http.MethodGet && streamKind(r.Header.Get("Accept")) == "sse":
		return r.URL.Query().Get("token")
	}
	return ""
}

// claimsSingle reports whether r belongs to the single connection mode.
func claimsSingle(r *http.Request) bool {
	return r.Method == http.MethodPut || singleToken(r) != "" && (r.Method == http.MethodDelete ||
		r.Method == http.MethodGet || r.Method == http.MethodPost)
}

func hashToken(t string) [32]byte { return sha256.Sum256([]byte("graphql-sse\x00" + t)) }

func (e *Engine) serveSingle(w http.ResponseWriter, r *http.Request) {
	// PUT and DELETE are preflighted by browsers; the other requests
	// carry the token, which a cross-site page cannot know: no CSRF rule
	// applies beyond CORS.
	authed, id, rerr := e.gw.Admit(w, r, false)
	if rerr != nil {
		writeRefusal(w, rerr)
		return
	}
	if r.Method == http.MethodPut {
		e.reserve(w, id)
		return
	}
	res := e.reservationFor(singleToken(r), id.Client)
	if res == nil {
		writeRefusal(w, refusal(http.StatusNotFound, "STREAM_NOT_FOUND", "no event stream is reserved with this token"))
		return
	}
	switch {
	case r.Method == http.MethodDelete:
		opID := r.URL.Query().Get("operationId")
		if opID == "" {
			writeRefusal(w, refusal(http.StatusBadRequest, "BAD_REQUEST", "operationId is missing"))
			return
		}
		res.stop(opID)
		w.WriteHeader(http.StatusOK)
	case streamKind(r.Header.Get("Accept")) == "sse":
		e.serveReservedStream(w, authed, res)
	default:
		e.singleOperation(w, authed, id, res)
	}
}

// reserve answers a PUT: 201 with a new token.
func (e *Engine) reserve(w http.ResponseWriter, id Identity) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		writeRefusal(w, refusal(http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "no randomness for a token"))
		return
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	res := &reservation{e: e, key: hashToken(token), client: id.Client, ops: map[string]*sseOp{},
		signal: make(chan struct{}, 1), dead: make(chan struct{})}
	e.mu.Lock()
	switch {
	case e.closing:
		e.mu.Unlock()
		writeRefusal(w, refusal(http.StatusServiceUnavailable, "SHUTTING_DOWN", "the gateway is shutting down"))
		return
	case e.resCount[id.Client] >= e.opts.MaxReservations:
		e.mu.Unlock()
		e.Stats.Refused.Add(1)
		writeRefusal(w, refusal(http.StatusTooManyRequests, "RESERVATION_LIMIT",
			fmt.Sprintf("a client may hold at most %d event stream reservations", e.opts.MaxReservations)))
		return
	case len(e.reservations) >= e.opts.MaxConnections:
		e.mu.Unlock()
		writeRefusal(w, refusal(http.StatusServiceUnavailable, "TOO_MANY_CONNECTIONS", "too many event stream reservations"))
		return
	}
	e.reservations[res.key] = res
	e.resCount[id.Client]++
	e.mu.Unlock()
	res.mu.Lock()
	res.expiry = time.AfterFunc(e.opts.InitTimeout, func() {
		res.mu.Lock()
		open := res.open
		res.mu.Unlock()
		if !open {
			res.end("reservation expired")
		}
	})
	res.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write([]byte(token))
}

// reservationFor finds the live reservation of token held by client.
func (e *Engine) reservationFor(token, client string) *reservation {
	if token == "" || len(token) > 128 {
		return nil
	}
	e.mu.Lock()
	res := e.reservations[hashToken(token)]
	e.mu.Unlock()
	if res == nil || res.client != client {
		return nil
	}
	return res
}

// end voids the reservation: its operations end and its stream closes.
func (res *reservation) end(reason string) {
	res.mu.Lock()
	if res.ended {
		res.mu.Unlock()
		return
	}
	res.ended = true
	// What it borrowed goes back (the stream's last drain writes what is
	// queued, under its write deadline).
	res.held.set(&res.e.opts, 0)
	ops := res.ops
	res.ops = map[string]*sseOp{}
	close(res.dead)
	if res.expiry != nil {
		res.expiry.Stop()
	}
	res.mu.Unlock()
	e := res.e
	e.mu.Lock()
	if e.reservations[res.key] == res {
		delete(e.reservations, res.key)
		if e.resCount[res.client]--; e.resCount[res.client] <= 0 {
			delete(e.resCount, res.client)
		}
	}
	e.mu.Unlock()
	for _, op := range ops {
		if op.sub != nil {
			op.sub.close(reason)
		}
	}
}

// stop ends the operation id without a message (the client deleted it).
func (res *reservation) stop(id string) {
	res.mu.Lock()
	op := res.ops[id]
	delete(res.ops, id)
	if op != nil {
		op.stopped = true
	}
	res.mu.Unlock()
	if op != nil && op.sub != nil {
		op.sub.close("client completed")
	}
}

// push queues framed events; false when the queue is full (the client
// does not read its stream).
func (res *reservation) push(msgs ...[]byte) bool {
	res.mu.Lock()
	if res.ended {
		res.mu.Unlock()
		return true
	}
	if len(res.queue)+len(msgs) > res.e.opts.Buffer {
		res.mu.Unlock()
		return false
	}
	var n int64
	for _, m := range msgs {
		n += int64(len(m))
	}
	if !res.held.add(&res.e.opts, n, false) {
		res.mu.Unlock()
		return false
	}
	res.queue = append(res.queue, msgs...)
	res.mu.Unlock()
	select {
	case res.signal <- struct{}{}:
	default:
	}
	return true
}

func singleEvent(event, id string, payload []byte) []byte {
	b := append([]byte("event: "+event+"\ndata: {\"id\":"), appendJSONString(nil, id)...)
	if payload != nil {
		b = append(append(append(b, `,"payload":`...), payload...), '}')
	} else {
		b = append(b, '}')
	}
	return append(b, "\n\n"...)
}

func (op *sseOp) next(body []byte, tr *fanTrace) bool {
	ok := op.r.push(singleEvent("next", op.id, body))
	if ok {
		tr.written(1, true) // queued: the transport does not trace its writes
	}
	return ok
}

func (op *sseOp) end(errs []byte) {
	res := op.r
	res.mu.Lock()
	if res.ops[op.id] == op {
		delete(res.ops, op.id)
	}
	stopped := op.stopped
	op.stopped = true
	res.mu.Unlock()
	if stopped {
		return
	}
	var ok bool
	if errs != nil {
		ok = res.push(singleEvent("next", op.id, []byte(`{"errors":`+string(errs)+`}`)), singleEvent("complete", op.id, nil))
	} else {
		ok = res.push(singleEvent("complete", op.id, nil))
	}
	if !ok {
		op.kill()
	}
}

func (op *sseOp) kill() { go op.r.end("slow client") }

// singleOperation runs an operation of a reservation: 202, its results
// go to the stream.
func (e *Engine) singleOperation(w http.ResponseWriter, r *http.Request, id Identity, res *reservation) {
	reqs, err := e.gw.ReadRequests(w, r, MaxBodyBytes)
	if err != nil {
		writeRefusal(w, decodeRefusal(err))
		return
	}
	req := reqs[0]
	var ext struct {
		OperationID string `json:"operationId"`
	}
	_ = json.Unmarshal(req.Extensions, &ext)
	if ext.OperationID == "" || len(ext.OperationID) > MaxOperationIDBytes {
		writeRefusal(w, refusal(http.StatusBadRequest, "BAD_REQUEST", "extensions.operationId is missing (or longer than 128 bytes)"))
		return
	}
	op := &sseOp{r: res, id: ext.OperationID}
	res.mu.Lock()
	_, dup := res.ops[op.id]
	ended := res.ended
	if !dup && !ended {
		res.ops[op.id] = op
	}
	res.mu.Unlock()
	switch {
	case ended:
		writeRefusal(w, refusal(http.StatusNotFound, "STREAM_NOT_FOUND", "no event stream is reserved with this token"))
		return
	case dup:
		writeRefusal(w, refusal(http.StatusConflict, "BAD_REQUEST", "an operation with this operationId is running"))
		return
	}
	drop := func() {
		res.mu.Lock()
		if res.ops[op.id] == op {
			delete(res.ops, op.id)
		}
		res.mu.Unlock()
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	p, rerr := e.gw.Prepare(ctx, r, req)
	if rerr != nil {
		drop()
		writeRefusal(w, rerr)
		return
	}
	if p.Plan == nil && p.Incremental != nil {
		// A query with @defer: each payload is a next event (copied into
		// it), then complete; the 202 follows them.
		ok := true
		p.Incremental(func(payload []byte) bool {
			res.mu.Lock()
			stopped := res.ops[op.id] != op || res.ended
			res.mu.Unlock()
			if stopped || ctx.Err() != nil {
				ok = false
				return false
			}
			if ok = res.push(singleEvent("next", op.id, payload)); !ok {
				e.Stats.SlowClients.Add(1)
				op.kill()
			}
			return ok
		})
		drop()
		if ok && !res.push(singleEvent("complete", op.id, nil)) {
			op.kill()
		}
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if p.Plan == nil {
		drop()
		if !res.push(singleEvent("next", op.id, p.Result), singleEvent("complete", op.id, nil)) {
			op.kill()
		}
		w.WriteHeader(http.StatusAccepted)
		return
	}
	sub, rerr := e.start(id, p, op, nil)
	if rerr != nil {
		drop()
		writeRefusal(w, rerr)
		return
	}
	res.mu.Lock()
	gone := res.ops[op.id] != op || res.ended
	if !gone {
		op.sub = sub
	}
	res.mu.Unlock()
	if gone {
		sub.close("client completed")
	}
	w.WriteHeader(http.StatusAccepted)
}

// serveReservedStream is the event stream of a reservation.
func (e *Engine) serveReservedStream(w http.ResponseWriter, r *http.Request, res *reservation) {
	res.mu.Lock()
	if res.open || res.ended {
		res.mu.Unlock()
		writeRefusal(w, refusal(http.StatusConflict, "STREAM_ALREADY_OPEN", "the event stream of this token is open already"))
		return
	}
	if rerr := e.acquireConn(res.client); rerr != nil {
		res.mu.Unlock()
		writeRefusal(w, rerr)
		return
	}
	res.open = true
	if res.expiry != nil {
		res.expiry.Stop()
	}
	res.mu.Unlock()
	defer e.releaseConn(res.client)
	defer res.end("client went away")
	rc := http.NewResponseController(w)
	sseWriter{}.headers(w.Header())
	w.WriteHeader(http.StatusOK)
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(e.opts.WriteTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write([]byte(":\n\n")) {
		return
	}
	tick := time.NewTicker(e.opts.KeepAlive)
	defer tick.Stop()
	var batch []byte
	drain := func() bool {
		res.mu.Lock()
		q := res.queue
		res.queue = nil
		res.mu.Unlock()
		if len(q) == 0 {
			return true
		}
		batch = batch[:0]
		for _, m := range q {
			batch = append(batch, m...)
		}
		if !write(batch) {
			return false
		}
		res.mu.Lock()
		res.held.sub(&res.e.opts, int64(len(batch)))
		res.mu.Unlock()
		return true
	}
	for {
		select {
		case <-res.signal:
			if !drain() {
				return
			}
		case <-tick.C:
			if !write(sseWriter{}.heartbeat()) {
				return
			}
		case <-res.dead:
			drain()
			return
		case <-e.done:
			// Shutdown queued a complete for each operation.
			drain()
			return
		case <-r.Context().Done():
			return
		}
	}
}
