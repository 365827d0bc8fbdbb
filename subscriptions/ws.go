package subscriptions

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
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
)

// wsMessage is a graphql-transport-ws message.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// wsConn is one client WebSocket. An idle connection costs one goroutine
// (its read loop, started with a small stack once the handshake is done)
// and no writer: messages are queued and a writer goroutine runs only
// while the queue is not empty.
type wsConn struct {
	e  *Engine
	ws *websocket.Conn
	// r is the upgrade request, detached from the handler's context; it
	// is dropped after connection_init.
	r *http.Request

	qmu     sync.Mutex
	queue   [][]byte // nil entries close the connection (closeMsg)
	writing bool
	dead    bool
	// flushed is closed when the queue drained after dead was set.
	flushed chan struct{}

	mu       sync.Mutex
	acked    bool
	initSeen bool
	init     json.RawMessage
	id       Identity
	authed   *http.Request
	subs     map[string]*wsSub
	closeMsg *wsClose
	// expiry fires when the token expires; stopped when the connection
	// ends, so a closed connection is not kept until then.
	expiry *time.Timer
}

type wsClose struct {
	code   websocket.StatusCode
	reason string
}

// wsSub is one subscription of a connection (a sink).
type wsSub struct {
	c      *wsConn
	id     string
	cancel context.CancelFunc
	sub    *subscription
}

func (e *Engine) serveWS(w http.ResponseWriter, r *http.Request) {
	if !e.acquireConn() {
		http.Error(w, "too many connections", http.StatusServiceUnavailable)
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{wsclientSubprotocol}, OriginPatterns: e.opts.OriginPatterns})
	if err != nil {
		e.releaseConn()
		return // Accept answered the request
	}
	if ws.Subprotocol() != wsclientSubprotocol {
		_ = ws.Close(4406, "Subprotocol not acceptable")
		e.releaseConn()
		return
	}
	ws.SetReadLimit(e.opts.MaxMessageBytes)
	// The handler's context ends when it returns; the connection lives on.
	r = r.Clone(context.WithoutCancel(r.Context()))
	c := &wsConn{e: e, ws: ws, r: r, subs: map[string]*wsSub{}, flushed: make(chan struct{})}
	if !e.register(c) {
		_ = ws.Close(websocket.StatusGoingAway, "gateway shutting down")
		e.releaseConn()
		return
	}
	// A fresh goroutine with a small stack serves the connection; the
	// handler's (deep) one returns.
	go c.serve()
}

const wsclientSubprotocol = "graphql-transport-ws"

func (c *wsConn) serve() {
	e := c.e
	defer e.releaseConn()
	defer e.unregister(c)
	initTimer := time.AfterFunc(e.opts.InitTimeout, func() {
		c.mu.Lock()
		seen := c.initSeen
		c.mu.Unlock()
		if !seen {
			c.closeWith(CloseInitTimeout, "Connection initialisation timeout")
		}
	})
	defer initTimer.Stop()
	c.readLoop()
	// Let the writer send what is queued (a close frame we asked for).
	c.qmu.Lock()
	c.dead = true
	idle := !c.writing
	c.qmu.Unlock()
	if !idle {
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
	c.enqueue(nil, true)
}

// send queues a message; false when the buffer is full.
func (c *wsConn) send(m wsMessage) bool {
	b, _ := json.Marshal(m)
	return c.sendRaw(b)
}

func (c *wsConn) sendRaw(b []byte) bool { return c.enqueue(b, false) }

// enqueue queues b (nil: the close); false when the queue is full, unless
// force. A writer goroutine is started when none runs.
func (c *wsConn) enqueue(b []byte, force bool) bool {
	c.qmu.Lock()
	if c.dead {
		c.qmu.Unlock()
		return true
	}
	if !force && len(c.queue) >= c.e.opts.Buffer {
		c.qmu.Unlock()
		return false
	}
	c.queue = append(c.queue, b)
	start := !c.writing
	c.writing = true
	c.qmu.Unlock()
	if start {
		go c.flush()
	}
	return true
}

// flush writes the queue until it is empty.
func (c *wsConn) flush() {
	for {
		c.qmu.Lock()
		if len(c.queue) == 0 {
			c.writing = false
			if c.dead {
				close(c.flushed)
			}
			c.queue = nil
			c.qmu.Unlock()
			return
		}
		b := c.queue[0]
		c.queue[0] = nil
		c.queue = c.queue[1:]
		c.qmu.Unlock()
		if !c.write(b) {
			c.qmu.Lock()
			c.queue = nil
			c.writing = false
			if c.dead {
				close(c.flushed)
			}
			c.dead = true
			c.qmu.Unlock()
			_ = c.ws.CloseNow()
			return
		}
	}
}

// write sends one message (nil: the close frame); false ends the
// connection.
func (c *wsConn) write(b []byte) bool {
	if b == nil {
		c.mu.Lock()
		cm := c.closeMsg
		c.mu.Unlock()
		if cm != nil {
			_ = c.ws.Close(cm.code, cm.reason)
		}
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.e.opts.WriteTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			c.e.Stats.SlowClients.Add(1)
		}
		return false
	}
	return true
}

func (c *wsConn) readLoop() {
	for {
		typ, b, err := c.ws.Read(context.Background())
		if err != nil {
			return
		}
		var m wsMessage
		if typ != websocket.MessageText || json.Unmarshal(b, &m) != nil || m.Type == "" {
			c.closeWith(CloseBadRequest, "Invalid message received")
			return
		}
		switch m.Type {
		case "connection_init":
			if !c.connectionInit(m.Payload) {
				return
			}
		case "ping":
			c.send(wsMessage{Type: "pong", Payload: m.Payload})
		case "pong":
		case "subscribe":
			if !c.subscribe(m) {
				return
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
		default:
			c.closeWith(CloseBadRequest, "Invalid message received")
			return
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
		if tok := initToken(payload, h); h != "" && tok != "" {
			r.Header.Set(h, tok)
		}
	}
	authed, id, rerr := c.e.gw.Admit(nil, r, false)
	if rerr != nil {
		c.closeWith(CloseForbidden, "Forbidden")
		return false
	}
	c.mu.Lock()
	c.acked, c.id, c.authed, c.init = true, id, authed, payload
	c.r = nil
	c.mu.Unlock()
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
// payload, or in its "headers" object.
func initToken(payload json.RawMessage, header string) string {
	var p map[string]any
	if header == "" || json.Unmarshal(payload, &p) != nil {
		return ""
	}
	find := func(m map[string]any) string {
		for k, v := range m {
			if s, ok := v.(string); ok && strings.EqualFold(k, header) {
				return s
			}
		}
		return ""
	}
	if t := find(p); t != "" {
		return t
	}
	if h, ok := p["headers"].(map[string]any); ok {
		return find(h)
	}
	return ""
}

func (c *wsConn) subscribe(m wsMessage) bool {
	c.mu.Lock()
	if !c.acked {
		c.mu.Unlock()
		c.closeWith(CloseUnauthorized, "Unauthorized")
		return false
	}
	if m.ID == "" {
		c.mu.Unlock()
		c.closeWith(CloseBadRequest, "Invalid message received")
		return false
	}
	if _, dup := c.subs[m.ID]; dup {
		c.mu.Unlock()
		c.closeWith(CloseSubscriberExists, "Subscriber for "+clip(m.ID, 64)+" already exists")
		return false
	}
	ctx, cancel := context.WithCancel(c.authed.Context())
	s := &wsSub{c: c, id: m.ID, cancel: cancel}
	c.subs[m.ID] = s
	id, authed, init := c.id, c.authed, c.init
	c.mu.Unlock()
	// The token is checked again at each subscribe; its expiry ends the
	// connection's subscriptions in order (expire), so the engine does not
	// time them itself.
	if !id.Expires.IsZero() && !time.Now().Before(id.Expires) {
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
			s.fail(bodyErrors(rerr.Body))
			return
		}
		if p.Plan == nil && p.Incremental != nil {
			sent := true
			p.Incremental(func(payload []byte) bool {
				if ctx.Err() != nil {
					return false // completed by the client meanwhile
				}
				if sent = c.sendRaw(frame(s.id, "next", payload)); !sent {
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
			if c.sendRaw(frame(s.id, "next", p.Result)) {
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

func (s *wsSub) next(body []byte) bool { return s.c.sendRaw(frame(s.id, "next", body)) }

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

// frame writes {"id":id,"type":typ,"payload":payload}.
func frame(id, typ string, payload []byte) []byte {
	idj, _ := json.Marshal(id)
	b := make([]byte, 0, len(payload)+len(idj)+40)
	b = append(b, `{"id":`...)
	b = append(b, idj...)
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
