package subscriptions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/fedgate/gateway/server/request"
)

// Close codes of graphql-transport-ws.
const (
	CloseBadRequest        = 4400 // invalid message
	CloseUnauthorized      = 4401 // subscribe before connection_ack
	CloseForbidden         = 4403 // connection_init refused, or the token expired
	CloseInitTimeout       = 4408 // no connection_init in time
	CloseSubscriberExists  = 4409 // a subscription id already in use
	CloseTooManyInitialise = 4429 // a second connection_init
	CloseSlowConsumer      = 1008 // the client did not read its messages
	CloseConnectionLimit   = 1008 // connection_init named a client with Options.MaxConnectionsPerClient open
	CloseTryAgainLater     = 1013 // a message in progress did not fit in the gateway's read budget
)

// MaxOperationIDBytes bounds the id of a WebSocket subscribe, as the
// operationId of graphql-sse's single connection mode; a longer one is an
// invalid message (4400).
const MaxOperationIDBytes = 128

// CodeOperationLimit refuses a subscribe on a WebSocket that has
// Options.MaxInflightPerConnection operations in progress.
const CodeOperationLimit = "OPERATION_LIMIT"

// wsMessage is a graphql-transport-ws message.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// wsConn is one client WebSocket. An idle connection costs one goroutine
// parked on its socket with the smallest stack (waitReadable; a reader
// goroutine runs only while a message is read), no writer (messages are
// queued and a writer goroutine runs only while the queue is not empty)
// and no I/O buffers beyond a small read buffer (wsio.go).
type wsConn struct {
	e  *Engine
	ws *websocket.Conn
	io *hijacker
	// r is the upgrade request, detached from the handler's context; it
	// is dropped after connection_init.
	r *http.Request
	// initTimer closes the connection without connection_init in time.
	initTimer *time.Timer

	// brMu keeps peeks at the read buffer (buffered) apart from the
	// close handshake, which reads from that buffer on the writer's
	// goroutine.
	brMu sync.Mutex

	qmu   sync.Mutex
	queue []outMsg
	// held is the bytes of the queued messages and of those being
	// written (Options.BufferBytes, BurstBytes).
	held    queueBytes
	writing bool
	dead    bool
	// flushed is closed when the queue drained after dead was set.
	flushed chan struct{}
	// eventSent is set when an event is sent and cleared by each ping
	// round, which skips the connection when it was set (pingIdle).
	eventSent atomic.Bool

	mu sync.Mutex
	// client is the client the connection is counted against
	// (Options.MaxConnectionsPerClient).
	client   string
	acked    bool
	initSeen bool
	// refusing: connection_init was refused by the connection rate; the
	// close follows after connectRefusalDelay, and what the client sends
	// meanwhile is dropped.
	refusing bool
	init     json.RawMessage
	id       Identity
	authed   *http.Request
	subs     map[string]*wsSub
	// inflight counts the operations being prepared or executed
	// (Options.MaxInflightPerConnection); slotFreed is signalled when
	// one ends.
	inflight  int
	slotFreed chan struct{}
	// pausedUntil is when the reader takes the next subscribe after a
	// rate limit's refusal (pause).
	pausedUntil time.Time
	// control paces the messages that start no operation (control.go).
	control  controlPace
	closeMsg *wsClose
	// expiry fires when the token expires; stopped when the connection
	// ends, so a closed connection is not kept until then.
	expiry *time.Timer
}

// outMsg is a queued message: {"id":id,"type":typ,"payload":payload}
// framed when it is written (payload is shared by the subscriptions an
// event fans out to), raw when set, or the close (closeMsg).
type outMsg struct {
	raw     []byte
	id, typ string
	payload []byte
	// idJSON and tail, when tail is set, are the message
	// {"id":<idJSON><tail>: an event's tail (`,"type":"next","payload":…}`)
	// is framed once for all its subscribers.
	idJSON, tail []byte
	close        bool
	// tr follows the event this message carries (nil for others).
	tr *fanTrace
}

// size is the bytes m holds for its connection (what it frames to,
// near enough).
func (m *outMsg) size() int64 {
	return int64(len(m.raw)+len(m.id)+len(m.typ)+len(m.payload)+len(m.idJSON)+len(m.tail)) + 32
}

// sizeOf is the bytes of msgs.
func sizeOf(msgs []outMsg) int64 {
	var n int64
	for i := range msgs {
		n += msgs[i].size()
	}
	return n
}

// wrote gives back the bytes of msgs, written.
func (c *wsConn) wrote(msgs []outMsg) {
	n := sizeOf(msgs)
	c.qmu.Lock()
	c.held.sub(&c.e.opts, n)
	c.qmu.Unlock()
}

type wsClose struct {
	code   websocket.StatusCode
	reason string
}

// wsSub is one subscription of a connection (a sink).
type wsSub struct {
	c  *wsConn
	id string
	// idJSON is id as a JSON string, spliced into event messages.
	idJSON []byte
	cancel context.CancelFunc
	sub    *subscription
}

func (e *Engine) serveWS(w http.ResponseWriter, r *http.Request) {
	if !originAllowed(r, e.opts.OriginPatterns) {
		writeRefusal(w, errOrigin)
		return
	}
	client := e.gw.ClientOf(r)
	if rerr := e.acquireConn(client); rerr != nil {
		writeRefusal(w, rerr)
		return
	}
	hj := &hijacker{ResponseWriter: w, messageTimeout: e.opts.MessageTimeout, budget: e.gw.ReadBudget()}
	ws, err := websocket.Accept(hj, r, &websocket.AcceptOptions{Subprotocols: []string{wsclientSubprotocol}, OriginPatterns: e.opts.OriginPatterns})
	if err != nil {
		e.releaseConn(client)
		return // Accept answered the request
	}
	hj.header = nil
	if testHookAccepted != nil {
		testHookAccepted(hj.conn)
	}
	if ws.Subprotocol() != wsclientSubprotocol {
		_ = ws.Close(4406, "Subprotocol not acceptable")
		e.releaseConn(client)
		return
	}
	ws.SetReadLimit(e.opts.MaxMessageBytes)
	// The handler's context ends when it returns; the connection lives on.
	r = r.Clone(context.WithoutCancel(r.Context()))
	c := &wsConn{e: e, ws: ws, io: hj, r: r, client: client, subs: map[string]*wsSub{}, flushed: make(chan struct{}), slotFreed: make(chan struct{}, 1)}
	if !e.register(c) {
		_ = ws.Close(websocket.StatusGoingAway, "gateway shutting down")
		e.releaseConn(client)
		return
	}
	c.initTimer = time.AfterFunc(e.opts.InitTimeout, func() {
		c.mu.Lock()
		seen := c.initSeen
		c.mu.Unlock()
		if !seen {
			c.closeWith(CloseInitTimeout, "Connection initialisation timeout")
		}
	})
	// A fresh goroutine with a small stack waits for the first message;
	// the handler's (deep) one returns.
	go c.wait()
}

const wsclientSubprotocol = "graphql-transport-ws"

// connectRefusalDelay is how long a connection_init refused by the
// connection rate (Options.ConnectRate) waits for its close 1013, its
// connection idle meanwhile (it counts against its caller's
// MaxConnectionsPerClient). A refused setup costs its upgrade, its
// token's verification and its close, and a storm of clients that
// reconnect as soon as they are answered was as fast as the gateway
// refused: 20 goroutines of one caller had 6,600 setups refused in 3 s,
// 1.3 s of the gateway's CPU (TestWebSocketReconnectStorm in make
// attack). Answered a second later, each of them sets up one a second;
// past max_connections_per_client held so, the next is refused before
// its upgrade (429 CONNECTION_LIMIT), which costs an HTTP request.
// graphql-ws waits longer than that between retries.
var connectRefusalDelay = time.Second

// testHookAccepted, when set (by tests), sees each accepted WebSocket's
// connection.
var testHookAccepted func(net.Conn)

// wait parks until the client sends, then reads on a fresh goroutine:
// the parked goroutine keeps the smallest stack, and the one that reads
// (and grows its stack parsing and authenticating) exits when the
// messages that arrived are handled.
func (c *wsConn) wait() {
	// Bytes already read (sent behind the upgrade request) are not news
	// to the socket.
	pending := c.io.pending || c.buffered() > 0
	c.io.pending = false
	if !pending && !waitReadable(c.io.conn) {
		c.serve(false)
		return
	}
	go c.serve(true)
}

// serve reads messages: while bytes are buffered when idle is set (then
// it hands the connection back to wait), else until the connection ends.
func (c *wsConn) serve(idle bool) {
	if c.readLoop(idle) {
		go c.wait()
		return
	}
	e := c.e
	defer func() {
		c.mu.Lock()
		client := c.client
		c.mu.Unlock()
		e.releaseConn(client)
	}()
	defer e.unregister(c)
	c.initTimer.Stop()
	// Let the writer send what is queued (a close frame we asked for).
	c.qmu.Lock()
	c.dead = true
	writing := c.writing
	c.qmu.Unlock()
	if writing {
		select {
		case <-c.flushed:
		case <-time.After(e.opts.WriteTimeout):
		}
	}
	c.end()
	_ = c.ws.CloseNow()
}

// end releases the connection's subscriptions.
func (c *wsConn) end() {
	c.mu.Lock()
	subs := c.subs
	c.subs = map[string]*wsSub{}
	if c.expiry != nil {
		c.expiry.Stop()
	}
	c.mu.Unlock()
	for _, s := range subs {
		s.cancel()
		if s.sub != nil {
			s.sub.close("client went away")
		}
	}
}

// closeWith queues a close after the messages already queued.
func (c *wsConn) closeWith(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	if c.closeMsg == nil {
		c.closeMsg = &wsClose{code, reason}
	}
	c.mu.Unlock()
	c.enqueue(outMsg{close: true}, true)
}

// send queues a message; false when the buffer is full.
func (c *wsConn) send(m wsMessage) bool {
	b, _ := json.Marshal(m)
	return c.sendRaw(b)
}

func (c *wsConn) sendRaw(b []byte) bool { return c.enqueue(outMsg{raw: b}, false) }

// enqueue queues m; false when the queue is full, unless force.
func (c *wsConn) enqueue(m outMsg, force bool) bool {
	return c.enqueueAll([]outMsg{m}, force) == 1
}

// enqueueAll queues msgs in order and returns how many it took: all
// unless the queue fills (the first ones, up to its free room), or force.
// When nothing was being written, they are written at once on this
// goroutine without blocking (writeNow); what the socket does not take,
// and any close, is left to a writer goroutine (flush).
func (c *wsConn) enqueueAll(msgs []outMsg, force bool) int {
	c.qmu.Lock()
	if c.dead {
		c.qmu.Unlock()
		for _, m := range msgs {
			m.tr.written(1, false)
		}
		return len(msgs)
	}
	took := len(msgs)
	if !force {
		took = min(took, max(c.e.opts.Buffer-len(c.queue), 0))
	}
	for i := range msgs[:took] {
		if !c.held.add(&c.e.opts, msgs[i].size(), force) {
			took = i
			break
		}
	}
	if took == 0 {
		c.qmu.Unlock()
		return 0
	}
	if c.writing {
		c.queue = append(c.queue, msgs[:took]...)
		c.qmu.Unlock()
		return took
	}
	c.writing = true
	batch := msgs[:took]
	if len(c.queue) > 0 {
		batch = append(c.queue, batch...)
		c.queue = nil
	}
	c.qmu.Unlock()
	c.writeNow(batch)
	return took
}

// writeNow writes batch (c.writing is set) with one non-blocking write
// when it holds no close; the rest, and what was queued meanwhile, goes
// to a writer goroutine. The caller may reuse batch afterwards.
func (c *wsConn) writeNow(batch []outMsg) {
	for _, m := range batch {
		if m.close {
			go c.flush(slices.Clone(batch), nil)
			return
		}
	}
	buf := batchPool.Get().(*[]byte)
	*buf = appendMsgs((*buf)[:0], batch)
	n, err := c.io.out.tryWrite(*buf)
	switch {
	case err == nil:
		putBuf(buf)
		for _, m := range batch {
			m.tr.written(1, true)
		}
		c.wrote(batch)
		c.flush(nil, nil) // what was queued meanwhile, if anything, on a writer goroutine
	case errors.Is(err, errWouldBlock):
		// The socket holds part of the frames and c.io.out stays locked
		// until the writer sent the rest.
		copy(*buf, (*buf)[n:])
		*buf = (*buf)[:len(*buf)-n]
		go c.flush(slices.Clone(batch), buf)
	default:
		putBuf(buf)
		c.failWrites(batch, err)
	}
}

// flush is the writer: it sends rest (the part of batch's frames the
// socket did not take; c.io.out is locked for it) or, when rest is nil,
// batch, then what is queued until the queue is empty. Called with
// nothing to write, it only ends the writing (or starts a writer
// goroutine for what was queued meanwhile).
func (c *wsConn) flush(batch []outMsg, rest *[]byte) {
	if batch == nil && rest == nil {
		c.qmu.Lock()
		if len(c.queue) == 0 {
			c.stopWriting()
			c.qmu.Unlock()
			return
		}
		batch = c.queue
		c.queue = nil
		c.qmu.Unlock()
		go c.flush(batch, nil)
		return
	}
	for {
		if !c.writeBatch(batch, rest) {
			return
		}
		rest = nil
		n := sizeOf(batch)
		c.qmu.Lock()
		c.held.sub(&c.e.opts, n)
		if len(c.queue) == 0 {
			c.stopWriting()
			c.qmu.Unlock()
			return
		}
		batch = c.queue
		c.queue = nil
		c.qmu.Unlock()
	}
}

// stopWriting ends a writer's turn; c.qmu is held.
func (c *wsConn) stopWriting() {
	c.writing = false
	c.queue = nil
	c.held.set(&c.e.opts, 0)
	if c.dead {
		close(c.flushed)
	}
}

// failWrites ends the connection after a failed write: batch and what is
// queued are dropped.
func (c *wsConn) failWrites(batch []outMsg, err error) {
	for _, m := range batch {
		m.tr.written(1, false)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		c.e.Stats.SlowClients.Add(1)
	}
	c.qmu.Lock()
	for _, m := range c.queue {
		m.tr.written(1, false)
	}
	wasDead := c.dead
	c.dead = true
	c.writing = false
	c.queue = nil
	c.held.set(&c.e.opts, 0)
	if wasDead {
		close(c.flushed)
	}
	c.qmu.Unlock()
	_ = c.ws.CloseNow()
}

// writeBatch writes msgs (or, when rest is set, what the socket did not
// take of their frames) waiting for the socket up to the write timeout;
// false ends the connection (a close was written, or the client does not
// read).
func (c *wsConn) writeBatch(msgs []outMsg, rest *[]byte) bool {
	var err error
	closing := false
	if rest != nil {
		err = c.io.out.writeRest(*rest, c.e.opts.WriteTimeout)
		putBuf(rest)
	} else {
		for i, m := range msgs {
			if m.close {
				closing = true
				for _, m := range msgs[i:] {
					m.tr.written(1, false)
				}
				msgs = msgs[:i]
				break
			}
		}
		buf := batchPool.Get().(*[]byte)
		*buf = appendMsgs((*buf)[:0], msgs)
		err = c.io.out.write(*buf, c.e.opts.WriteTimeout)
		putBuf(buf)
	}
	if err != nil {
		c.failWrites(msgs, err)
		return false
	}
	for _, m := range msgs {
		m.tr.written(1, true)
	}
	if closing {
		c.mu.Lock()
		cm := c.closeMsg
		c.mu.Unlock()
		if cm != nil {
			c.brMu.Lock()
			_ = c.ws.Close(cm.code, cm.reason)
			c.brMu.Unlock()
		}
		c.failWrites(nil, nil)
		return false
	}
	return true
}

// putBuf returns a framing buffer to the pool.
func putBuf(b *[]byte) {
	if cap(*b) <= 64<<10 {
		*b = (*b)[:0]
		batchPool.Put(b)
	}
}

// appendMsgs appends the text frames of msgs to b.
func appendMsgs(b []byte, msgs []outMsg) []byte {
	for _, m := range msgs {
		switch {
		case m.raw != nil:
			b = appendTextHeader(b, len(m.raw))
			b = append(b, m.raw...)
		case m.tail != nil:
			// {"id":<idJSON><tail>, the tail shared by an event's messages.
			b = appendTextHeader(b, len(`{"id":`)+len(m.idJSON)+len(m.tail))
			b = append(b, `{"id":`...)
			b = append(b, m.idJSON...)
			b = append(b, m.tail...)
		default:
			start := len(b)
			b = appendFrame(append(b, make([]byte, 10)...), m.id, m.typ, m.payload)
			// The header's size is known once the message is: move the
			// message right after it.
			msg := b[start+10:]
			var hdr [10]byte
			h := appendTextHeader(hdr[:0], len(msg))
			copy(b[start:], h)
			copy(b[start+len(h):], msg)
			b = b[:start+len(h)+len(msg)]
		}
	}
	return b
}

// buffered reports how many bytes the connection's reader holds that
// no message took yet.
func (c *wsConn) buffered() int {
	c.brMu.Lock()
	defer c.brMu.Unlock()
	return c.io.br.Buffered()
}

// readLoop reads and handles messages; with idle set it returns true as
// soon as no bytes are buffered (the connection waits for more). False
// means the connection is done.
func (c *wsConn) readLoop(idle bool) bool {
	for first := true; ; first = false {
		if idle && !first && c.buffered() == 0 {
			return true
		}
		typ, b, err := c.ws.Read(context.Background())
		if err != nil {
			if errors.Is(err, errReadBudget) {
				// The gateway is reading too much at once: graphql-ws
				// retries a 1013 (it gives up on most other 1xxx codes).
				c.e.Stats.Refused.Add(1)
				c.closeWith(CloseTryAgainLater, "Too many messages are being read: try again later")
			}
			return false
		}
		c.mu.Lock()
		refusing := c.refusing
		c.mu.Unlock()
		if refusing {
			continue // its close is on the way (connectRefusalDelay)
		}
		var m wsMessage
		if typ != websocket.MessageText || json.Unmarshal(b, &m) != nil || m.Type == "" {
			c.closeWith(CloseBadRequest, "Invalid message received")
			return false
		}
		switch m.Type {
		case "connection_init":
			if !c.connectionInit(m.Payload) {
				return false
			}
		case "ping":
			// Answered at once; the wait delays the messages after it.
			c.send(wsMessage{Type: "pong", Payload: pongPayload(m.Payload)})
			c.control.wait(len(b))
		case "pong":
			c.control.wait(len(b))
		case "subscribe":
			c.waitPause()
			if !c.subscribe(m) {
				return false
			}
		case "complete":
			c.mu.Lock()
			s := c.subs[m.ID]
			delete(c.subs, m.ID)
			c.mu.Unlock()
			if s != nil {
				s.cancel()
				if s.sub != nil {
					s.sub.close("client completed")
				}
			}
			c.control.wait(len(b))
		default:
			c.closeWith(CloseBadRequest, "Invalid message received")
			return false
		}
	}
}

// connectionInit authenticates the connection with the token of the
// payload (its "Authorization" or "authorization" entry, or one inside
// "headers"), or of the upgrade request.
func (c *wsConn) connectionInit(payload json.RawMessage) bool {
	c.mu.Lock()
	if c.initSeen {
		c.mu.Unlock()
		c.closeWith(CloseTooManyInitialise, "Too many initialisation requests")
		return false
	}
	c.initSeen = true
	r := c.r.Clone(c.r.Context())
	c.mu.Unlock()
	// The upgrade is a GET; the operations arrive as messages, which the
	// pipeline treats as POSTs (mutations allowed).
	r.Method = http.MethodPost
	for _, h := range []string{"Authorization", c.e.opts.TokenHeader} {
		tok, ok := initToken(payload, h)
		if !ok {
			// The payload names its token twice (see initToken): what the
			// gateway would verify need not be what a subgraph reads.
			c.closeWith(CloseForbidden, "Forbidden")
			return false
		}
		if tok != "" {
			r.Header.Set(h, tok)
		}
	}
	authed, id, rerr := c.e.gw.Admit(nil, r, false)
	if rerr != nil {
		c.closeWith(CloseForbidden, "Forbidden")
		return false
	}
	c.mu.Lock()
	from := c.client
	c.mu.Unlock()
	if !c.e.moveConn(from, id.Client) {
		c.closeWith(CloseConnectionLimit, "Too many connections of this client")
		return false
	}
	c.mu.Lock()
	c.client = id.Client // its count is released with the connection
	c.mu.Unlock()
	if !c.e.allowConnect(id.Client, time.Now()) {
		// Past its connection rate: graphql-ws retries a 1013 with its
		// backoff. The close comes after connectRefusalDelay: a client
		// that reconnects once it is answered does so that much later.
		c.e.Stats.Refused.Add(1)
		c.mu.Lock()
		c.refusing = true
		c.mu.Unlock()
		time.AfterFunc(connectRefusalDelay, func() {
			c.closeWith(CloseTryAgainLater, "Too many connections set up: try again later")
		})
		return true
	}
	c.mu.Lock()
	c.acked, c.id, c.authed, c.init = true, id, authed, payload
	c.r = nil
	c.mu.Unlock()
	c.initTimer.Stop()
	c.send(wsMessage{Type: "connection_ack"})
	if !id.Expires.IsZero() {
		t := time.AfterFunc(time.Until(id.Expires), func() { c.expire() })
		c.mu.Lock()
		c.expiry = t
		c.mu.Unlock()
	}
	return true
}

// expire ends the connection whose token expired: each subscription gets
// an UNAUTHENTICATED error (the engine's timers send them), then 4403.
func (c *wsConn) expire() {
	c.mu.Lock()
	subs := make([]*wsSub, 0, len(c.subs))
	for _, s := range c.subs {
		subs = append(subs, s)
	}
	c.mu.Unlock()
	for _, s := range subs {
		if s.sub != nil {
			s.sub.finish(errorList("UNAUTHENTICATED", "the token has expired", nil), "token expired")
		}
	}
	c.closeWith(CloseForbidden, "Forbidden: the token has expired")
}

// initToken finds the entry named header (any case) in a connection_init
// payload, or in its "headers" object. ok is false when an entry is not
// a string, and when the payload holds more than one non-empty entry
// (another case, a repeated key, one at the top and one in "headers",
// under a "headers" of another case) unless all are the same string; an
// empty one (null, "") names no token for anyone. Otherwise the gateway
// would verify
// one of them while a subgraph given the payload (forward_init_payload)
// or a lenient reader behind it takes another, as with a token header sent
// twice (auth: a request carrying its token more than once is refused).
// Before, the gateway took the top-level entry first, and among entries
// differing in case whichever its map iteration met first.
func initToken(payload json.RawMessage, header string) (token string, ok bool) {
	if header == "" {
		return "", true
	}
	var found []json.RawMessage
	top, err := payloadEntries(payload)
	if err != nil {
		// Not an object (or none): it names no token.
		return "", true
	}
	for _, e := range top {
		switch {
		case strings.EqualFold(e.key, header):
			found = append(found, e.value)
		case strings.EqualFold(e.key, "headers"):
			inner, err := payloadEntries(e.value)
			if err != nil {
				continue
			}
			for _, h := range inner {
				if strings.EqualFold(h.key, header) {
					found = append(found, h.value)
				}
			}
		}
	}
	for _, v := range found {
		var s string
		if json.Unmarshal(v, &s) != nil {
			return "", false
		}
		// An empty entry (null, "") names no token for the gateway or
		// for any reader: beside a token it is no second one.
		if s == "" {
			continue
		}
		if token != "" && s != token {
			return "", false
		}
		token = s
	}
	return token, true
}

// payloadEntry is one member of a JSON object, in the order written.
type payloadEntry struct {
	key   string
	value json.RawMessage
}

// payloadEntries returns the members of the JSON object b, repeated keys
// included (encoding/json would keep the last one only); an error when b
// is not an object.
func payloadEntries(b json.RawMessage) ([]payloadEntry, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	var out []payloadEntry
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, payloadEntry{key, v})
	}
	return out, nil
}

func (c *wsConn) subscribe(m wsMessage) bool {
	c.mu.Lock()
	if !c.acked {
		c.mu.Unlock()
		c.closeWith(CloseUnauthorized, "Unauthorized")
		return false
	}
	if m.ID == "" || len(m.ID) > MaxOperationIDBytes {
		// An id is kept (twice) as long as its subscription and framed
		// into each of its events: 1 MB ids held 2.3 MB per subscription.
		c.mu.Unlock()
		c.closeWith(CloseBadRequest, "Invalid message received")
		return false
	}
	if _, dup := c.subs[m.ID]; dup {
		c.mu.Unlock()
		c.closeWith(CloseSubscriberExists, "Subscriber for "+clip(m.ID, 64)+" already exists")
		return false
	}
	if c.inflight >= c.e.opts.MaxInflightPerConnection {
		// Each operation in progress holds a goroutine and its document:
		// past the bound the reader waits for one to end, leaving the
		// client's further messages in its socket (a client flooding
		// subscribes is slowed to the pace of its answers, not served
		// refusals as fast as it writes), and refuses the subscribe if
		// none ends within WriteTimeout. Only this reader adds to c.subs,
		// so the id checked above is still free after the wait.
		c.mu.Unlock()
		if !c.waitSlot() {
			c.e.Stats.Refused.Add(1)
			c.send(wsMessage{ID: m.ID, Type: "error", Payload: errorList(CodeOperationLimit,
				fmt.Sprintf("a connection may have at most %d operations in progress", c.e.opts.MaxInflightPerConnection), nil)})
			return true
		}
		c.mu.Lock()
	}
	ctx, cancel := context.WithCancel(c.authed.Context())
	s := &wsSub{c: c, id: m.ID, idJSON: appendJSONString(nil, m.ID), cancel: cancel}
	c.subs[m.ID] = s
	c.inflight++
	id, authed, init := c.id, c.authed, c.init
	c.mu.Unlock()
	// The token is checked again at each subscribe; its expiry ends the
	// connection's subscriptions in order (expire), so the engine does not
	// time them itself.
	if !id.Expires.IsZero() && !time.Now().Before(id.Expires) {
		c.doneInflight()
		s.fail(errorList("UNAUTHENTICATED", "the token has expired", nil))
		return true
	}
	id.Expires = time.Time{}
	var req request.Request
	var body struct {
		Query         string          `json:"query"`
		OperationName string          `json:"operationName"`
		Variables     json.RawMessage `json:"variables"`
		Extensions    json.RawMessage `json:"extensions"`
	}
	if json.Unmarshal(m.Payload, &body) != nil {
		c.doneInflight()
		c.closeWith(CloseBadRequest, "Invalid message received")
		return false
	}
	req.Query, req.OperationName = body.Query, body.OperationName
	if string(body.Variables) != "null" {
		req.Variables = body.Variables
	}
	if string(body.Extensions) != "null" {
		req.Extensions = body.Extensions
	}
	// Preparing may execute a query or mutation: off the read loop, so a
	// slow one does not hold the connection's other messages.
	go func() {
		defer c.doneInflight()
		defer func() {
			if p := recover(); p != nil {
				s.fail(errorList("INTERNAL_SERVER_ERROR", "internal server error", nil))
			}
		}()
		p, rerr := c.e.gw.Prepare(ctx, authed, req)
		if ctx.Err() != nil {
			return // completed or gone meanwhile
		}
		if rerr != nil {
			if rerr.RetryAfter > 0 {
				c.pause(rerr.RetryAfter)
			}
			s.fail(bodyErrors(rerr.Body))
			return
		}
		if p.Plan == nil && p.Incremental != nil {
			sent := true
			p.Incremental(func(payload []byte) bool {
				if ctx.Err() != nil {
					return false // completed by the client meanwhile
				}
				// The writer sends the payload later: it gets its own copy.
				if sent = s.next(append([]byte(nil), payload...), nil); !sent {
					// The client does not read: as for a subscription's
					// events, the connection is closed.
					c.e.Stats.SlowClients.Add(1)
					s.kill()
				}
				return sent && ctx.Err() == nil
			})
			if sent && ctx.Err() == nil {
				s.fail(nil)
			}
			return
		}
		if p.Plan == nil {
			if c.enqueue(outMsg{id: s.id, typ: "next", payload: p.Result}, false) {
				s.fail(nil)
			}
			return
		}
		sub, rerr := c.e.start(id, p, s, init)
		if rerr != nil {
			s.fail(bodyErrors(rerr.Body))
			return
		}
		c.mu.Lock()
		gone := c.subs[s.id] != s
		if !gone {
			s.sub = sub
		}
		c.mu.Unlock()
		if gone {
			sub.close("client completed")
		}
	}()
	return true
}

// doneInflight ends an operation's turn in progress.
func (c *wsConn) doneInflight() {
	c.mu.Lock()
	c.inflight--
	c.mu.Unlock()
	select {
	case c.slotFreed <- struct{}{}:
	default:
	}
}

// pause stops reading the connection's next subscribe for d (at most
// WriteTimeout): the client was refused by the rate limit, which its
// further operations would only hear again, as fast as it writes them.
func (c *wsConn) pause(d time.Duration) {
	until := time.Now().Add(min(d, c.e.opts.WriteTimeout))
	c.mu.Lock()
	if until.After(c.pausedUntil) {
		c.pausedUntil = until
	}
	c.mu.Unlock()
}

// waitPause waits out a pause; the client's messages wait in its socket.
func (c *wsConn) waitPause() {
	c.mu.Lock()
	d := time.Until(c.pausedUntil)
	c.mu.Unlock()
	if d > 0 {
		time.Sleep(d)
	}
}

// waitSlot waits up to WriteTimeout until fewer than
// MaxInflightPerConnection operations are in progress; false when none
// ended in time.
func (c *wsConn) waitSlot() bool {
	timeout := time.NewTimer(c.e.opts.WriteTimeout)
	defer timeout.Stop()
	for {
		c.mu.Lock()
		free := c.inflight < c.e.opts.MaxInflightPerConnection
		c.mu.Unlock()
		if free {
			return true
		}
		select {
		case <-c.slotFreed:
		case <-timeout.C:
			return false
		}
	}
}

// fail ends s with errs (an error message) or, when nil, complete.
func (s *wsSub) fail(errs []byte) {
	c := s.c
	c.mu.Lock()
	if c.subs[s.id] != s {
		c.mu.Unlock()
		return
	}
	delete(c.subs, s.id)
	c.mu.Unlock()
	s.cancel()
	if errs == nil {
		c.send(wsMessage{ID: s.id, Type: "complete"})
	} else {
		c.send(wsMessage{ID: s.id, Type: "error", Payload: errs})
	}
}

func (s *wsSub) next(body []byte, tr *fanTrace) bool {
	return s.c.enqueue(outMsg{id: s.id, typ: "next", payload: body, tr: tr}, false)
}

func (s *wsSub) end(errs []byte) {
	c := s.c
	c.mu.Lock()
	if c.subs[s.id] == s {
		delete(c.subs, s.id)
	}
	c.mu.Unlock()
	s.cancel()
	var ok bool
	if errs == nil {
		ok = c.send(wsMessage{ID: s.id, Type: "complete"})
	} else {
		ok = c.send(wsMessage{ID: s.id, Type: "error", Payload: errs})
	}
	if !ok {
		s.kill()
	}
}

func (s *wsSub) kill() { _ = s.c.ws.CloseNow() }

// appendFrame appends {"id":id,"type":typ,"payload":payload} to b.
func appendFrame(b []byte, id, typ string, payload []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, id)
	b = append(b, `,"type":"`...)
	b = append(b, typ...)
	b = append(b, `","payload":`...)
	b = append(b, payload...)
	return append(b, '}')
}

// bodyErrors is the "errors" list of a GraphQL response body.
func bodyErrors(body []byte) []byte {
	var r struct {
		Errors json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &r) == nil && len(r.Errors) > 0 {
		return r.Errors
	}
	return errorList("INTERNAL_SERVER_ERROR", "the operation was refused", nil)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			j, _ := json.Marshal(s)
			return append(b, j...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
