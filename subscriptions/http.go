package subscriptions

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Claims implements Handler: WebSocket upgrades; GET or POST requests
// that accept text/event-stream (GraphQL over SSE) or multipart/mixed
// with subscriptionSpec (Apollo multipart subscriptions); and the
// requests of graphql-sse's single connection mode (PUT, and requests
// carrying a reservation token: ssesingle.go).
func (e *Engine) Claims(r *http.Request) bool {
	if r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return true
	}
	if claimsSingle(r) {
		return true
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return false
	}
	return streamKind(r.Header.Get("Accept")) != ""
}

// streamKind is "sse" or "multipart" for an Accept header asking for one.
func streamKind(accept string) string {
	a := strings.ToLower(accept)
	switch {
	case strings.Contains(a, "text/event-stream"):
		return "sse"
	case strings.Contains(a, "multipart/mixed") && strings.Contains(a, "subscriptionspec"):
		return "multipart"
	}
	return ""
}

// ServeHTTP implements Handler.
func (e *Engine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		e.serveWS(w, r)
		return
	}
	if claimsSingle(r) {
		e.serveSingle(w, r)
		return
	}
	e.serveHTTPStream(w, r, streamKind(r.Header.Get("Accept")))
}

// MaxBodyBytes bounds the request body of the HTTP stream transports.
const MaxBodyBytes = 1 << 20

// httpSink is the one subscription of an SSE or multipart response.
type httpSink struct {
	out  chan []byte
	done chan []byte // receives the end: nil for complete, else errors
	dead chan struct{}
	opts *Options
	// mu guards held and dropped.
	mu sync.Mutex
	// held is the bytes of the events in out and of the one being
	// written (Options.BufferBytes, BurstBytes).
	held queueBytes
	// dropped is set when the stream ended: events are no longer
	// queued (nor their bytes counted).
	dropped bool
}

func (s *httpSink) next(body []byte, tr *fanTrace) bool {
	n := int64(len(body))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dropped {
		tr.written(1, false)
		return true // the stream is gone; its subscription is ending
	}
	if !s.held.add(s.opts, n, false) {
		return false
	}
	select {
	case s.out <- body:
		tr.written(1, true) // queued: the transport does not trace its writes
		return true
	default:
		s.held.sub(s.opts, n)
		return false
	}
}

// sent gives back the bytes of an event written to the client.
func (s *httpSink) sent(body []byte) {
	s.mu.Lock()
	s.held.sub(s.opts, int64(len(body)))
	s.mu.Unlock()
}

// drop ends the queue when the stream ends: what it held, and borrowed
// of the burst allowance, is given back.
func (s *httpSink) drop() {
	s.mu.Lock()
	s.dropped = true
	s.held.set(s.opts, 0)
	s.mu.Unlock()
}

func (s *httpSink) end(errs []byte) {
	select {
	case s.done <- errs:
	default:
	}
}

func (s *httpSink) kill() {
	select {
	case <-s.dead:
	default:
		close(s.dead)
	}
}

// writer frames events for one HTTP transport.
type writer interface {
	headers(h http.Header)
	event(body []byte) []byte
	errors(errs []byte) []byte
	complete() []byte
	heartbeat() []byte
}

// sseWriter frames graphql-sse's distinct connections mode.
type sseWriter struct{}

func (sseWriter) headers(h http.Header) {
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
}
func (sseWriter) event(body []byte) []byte {
	return append(append([]byte("event: next\ndata: "), body...), "\n\n"...)
}
func (w sseWriter) errors(errs []byte) []byte {
	return w.event([]byte(`{"errors":` + string(errs) + `}`))
}
func (sseWriter) complete() []byte  { return []byte("event: complete\ndata:\n\n") }
func (sseWriter) heartbeat() []byte { return []byte(":\n\n") }

// multipartWriter frames Apollo's multipart subscriptions: each part is
// followed by the boundary, so a client reads it at once.
type multipartWriter struct{}

func (multipartWriter) headers(h http.Header) {
	h.Set("Content-Type", `multipart/mixed;boundary="graphql";subscriptionSpec="1.0"`)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
}
func (multipartWriter) part(json []byte) []byte {
	b := append([]byte("\r\ncontent-type: application/json\r\n\r\n"), json...)
	return append(b, "\r\n--graphql"...)
}
func (w multipartWriter) event(body []byte) []byte {
	return w.part([]byte(`{"payload":` + string(body) + `}`))
}
func (w multipartWriter) errors(errs []byte) []byte {
	return w.part([]byte(`{"payload":null,"errors":` + string(errs) + `}`))
}
func (multipartWriter) complete() []byte    { return []byte("--\r\n") }
func (w multipartWriter) heartbeat() []byte { return w.part([]byte("{}")) }

func (e *Engine) serveHTTPStream(w http.ResponseWriter, r *http.Request, kind string) {
	var fw writer = sseWriter{}
	keepAlive := e.opts.KeepAlive
	if kind == "multipart" {
		fw, keepAlive = multipartWriter{}, 5*time.Second
	}
	authed, id, rerr := e.gw.Admit(w, r, true)
	if rerr != nil {
		writeRefusal(w, rerr)
		return
	}
	reqs, err := e.gw.ReadRequests(w, authed, MaxBodyBytes)
	if err != nil {
		writeRefusal(w, decodeRefusal(err))
		return
	}
	// Counted once the body is read, as max_inflight_requests counts
	// HTTP requests: a client sending its body slowly holds no stream
	// connection (before, 1 such client per slot refused everyone's
	// subscriptions until the server's read deadline).
	if rerr := e.acquireConn(id.Client); rerr != nil {
		writeRefusal(w, rerr)
		return
	}
	handedOff := false // to a hijacked stream's goroutine, which releases it
	defer func() {
		if !handedOff {
			e.releaseConn(id.Client)
		}
	}()
	ctx := authed.Context()
	p, rerr := e.gw.Prepare(ctx, authed, reqs[0])
	if rerr != nil {
		writeRefusal(w, rerr)
		return
	}
	rc := http.NewResponseController(w)
	if p.Plan == nil && p.Incremental != nil {
		fw.headers(w.Header())
		w.WriteHeader(http.StatusOK)
		ok := true
		p.Incremental(func(payload []byte) bool {
			if ctx.Err() != nil {
				return false
			}
			_ = rc.SetWriteDeadline(time.Now().Add(e.opts.WriteTimeout))
			if _, err := w.Write(fw.event(payload)); err != nil {
				ok = false
				return false
			}
			ok = rc.Flush() == nil
			return ok && ctx.Err() == nil
		})
		if ok {
			_, _ = w.Write(fw.complete())
		}
		return
	}
	if p.Plan == nil {
		if kind == "multipart" {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = w.Write(p.Result)
			return
		}
		fw.headers(w.Header())
		_, _ = w.Write(append(fw.event(p.Result), fw.complete()...))
		return
	}
	sk := &httpSink{out: make(chan []byte, e.opts.Buffer), done: make(chan []byte, 1), dead: make(chan struct{}), opts: &e.opts}
	sub, rerr := e.start(id, p, sk, nil)
	if rerr != nil {
		writeRefusal(w, rerr)
		return
	}
	fw.headers(w.Header())
	w.WriteHeader(http.StatusOK)
	first := []byte(":\n\n")
	if kind == "multipart" {
		first = []byte("\r\n--graphql")
	}
	if hs := hijackStream(w, r, e.opts.WriteTimeout); hs != nil {
		// The handler's goroutine and net/http's buffers and request
		// go; the stream is served by a fresh goroutine (small stack)
		// and its socket watched by another (hijack.go).
		handedOff = true
		e.hijacked.Add(1)
		gone := make(chan struct{})
		go hs.watch(gone)
		go func() {
			defer e.hijacked.Add(-1)
			defer e.releaseConn(id.Client)
			completed := false
			defer func() { hs.close(completed) }()
			defer sk.drop()
			defer sub.close("client went away")
			if hs.write(first) {
				completed = e.stream(sk, fw, keepAlive, hs.write, gone)
			}
		}()
		return
	}
	defer sk.drop()
	defer sub.close("client went away")
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(e.opts.WriteTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if write(first) {
		e.stream(sk, fw, keepAlive, write, ctx.Done())
	}
}

// stream writes a subscription's events (through write, framed by fw)
// until it ends (true once its end was written), the client does not
// read, or gone is closed.
func (e *Engine) stream(sk *httpSink, fw writer, keepAlive time.Duration, write func([]byte) bool, gone <-chan struct{}) bool {
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case body := <-sk.out:
			if !write(fw.event(body)) {
				return false
			}
			sk.sent(body)
		case errs := <-sk.done:
			// Events queued before the end go first.
			for {
				select {
				case body := <-sk.out:
					if !write(fw.event(body)) {
						return false
					}
					sk.sent(body)
					continue
				default:
				}
				break
			}
			if errs != nil && !write(fw.errors(errs)) {
				return false
			}
			return write(fw.complete())
		case <-tick.C:
			if !write(fw.heartbeat()) {
				return false
			}
		case <-sk.dead:
			return false
		case <-gone:
			return false
		}
	}
}

// decodeRefusal is the refusal of a body that could not be read or
// decoded: its own status and code (413, 408, 503 SERVICE_OVERLOADED
// when the read budget is spent), else 400 BAD_REQUEST.
func decodeRefusal(err error) *RequestError {
	status, code := http.StatusBadRequest, "BAD_REQUEST"
	var c interface{ HTTPStatus() int }
	if errors.As(err, &c) {
		status = c.HTTPStatus()
	}
	var x interface{ ExtensionCode() string }
	if errors.As(err, &x) && x.ExtensionCode() != "" {
		code = x.ExtensionCode()
	}
	return refusal(status, code, err.Error())
}

func writeRefusal(w http.ResponseWriter, rerr *RequestError) {
	if rerr.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((rerr.RetryAfter+time.Second-1)/time.Second)))
	}
	if rerr.Body == nil {
		w.WriteHeader(rerr.Status)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(rerr.Status)
	_, _ = w.Write(rerr.Body)
}
