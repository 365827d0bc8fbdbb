// Package wsclient subscribes to subgraphs over graphql-transport-ws (the
// graphql-ws library's protocol), or GraphQL over SSE for the subgraphs
// configured so (sse.go), and multiplexes: identical subscriptions
// (same subgraph, document, variables, headers and init payload) share one
// upstream stream, and the streams to one subgraph with the same headers
// share a few WebSocket connections. A connection that breaks (the
// subgraph restarted) is dialled again with jittered exponential backoff
// and its streams are subscribed again; only when the retry time is spent
// do they end, with an error.
//
// The protocol state machine is written here: the maintained Go
// implementations of graphql-transport-ws are either bound to their own
// executor (gqlgen's transport serves an ExecutableSchema) or typed
// clients without multiplexing by key, which is the point of this one.
package wsclient

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Subprotocol is the WebSocket subprotocol spoken.
const Subprotocol = "graphql-transport-ws"

// Options configure a Client.
type Options struct {
	// URL returns the WebSocket URL of a subgraph; the default derives it
	// from the HTTP URL of URLs (http -> ws, https -> wss).
	URL func(subgraph string) (string, bool)
	// URLs are the subgraphs' HTTP URLs, used when URL is nil.
	URLs map[string]string
	// MaxStreamsPerConn is the most streams one connection carries
	// (default 1000); more open another connection.
	MaxStreamsPerConn int
	// AckTimeout bounds the dial and the wait for connection_ack
	// (default 10s).
	AckTimeout time.Duration
	// Backoff is the first wait before a reconnect (default 100ms); it
	// doubles up to MaxBackoff (default 5s), jittered.
	Backoff, MaxBackoff time.Duration
	// RetryFor is how long a broken connection is retried before its
	// streams end with an error (default 30s); a negative value never
	// retries.
	RetryFor time.Duration
	// PingInterval is how often an idle connection is pinged; a ping not
	// answered within it breaks the connection (default 15s).
	PingInterval time.Duration
	// ReadLimit bounds one message from a subgraph (default 4 MiB).
	ReadLimit int64
	// SSE, when set, says which subgraphs are subscribed to over GraphQL
	// over SSE (distinct connections) instead of WebSocket, and returns
	// their HTTP URL.
	SSE func(subgraph string) (string, bool)
	// HTTPClient sends the SSE requests (default: one without a timeout,
	// as streams last).
	HTTPClient *http.Client
}

func (o *Options) defaults() {
	if o.MaxStreamsPerConn <= 0 {
		o.MaxStreamsPerConn = 1000
	}
	if o.AckTimeout <= 0 {
		o.AckTimeout = 10 * time.Second
	}
	if o.Backoff <= 0 {
		o.Backoff = 100 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.RetryFor == 0 {
		o.RetryFor = 30 * time.Second
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 15 * time.Second
	}
	if o.ReadLimit <= 0 {
		o.ReadLimit = 4 << 20
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.URL == nil {
		urls := o.URLs
		o.URL = func(subgraph string) (string, bool) {
			u, ok := urls[subgraph]
			return WebSocketURL(u), ok
		}
	}
}

// WebSocketURL is the WebSocket form of a subgraph's HTTP URL.
func WebSocketURL(u string) string {
	switch {
	case strings.HasPrefix(u, "http://"):
		return "ws://" + u[len("http://"):]
	case strings.HasPrefix(u, "https://"):
		return "wss://" + u[len("https://"):]
	}
	return u
}

// Request is one subscription to send to a subgraph.
type Request struct {
	Subgraph      string
	Query         string
	OperationName string
	// Variables is a JSON object, or nil.
	Variables json.RawMessage
	// Header is sent with the WebSocket handshake.
	Header http.Header
	// InitPayload is the connection_init payload (a JSON object), or nil.
	InitPayload json.RawMessage
}

// Listener receives the events of a stream. Its methods are called from
// the connection's read loop, in order, and must not block.
type Listener interface {
	// Next receives one event: the payload of a next message, a GraphQL
	// response object. The slice is the listener's to keep.
	Next(payload []byte)
	// End is called once when the stream ends: err is nil when the
	// subgraph completed it, a *StreamError when the subgraph refused it
	// or the connection could not be restored.
	End(err error)
}

// StreamError ends a stream that did not complete.
type StreamError struct {
	Subgraph string
	// Errors is the payload of the subgraph's error message (a JSON list
	// of GraphQL errors), nil for a connection failure.
	Errors json.RawMessage
	Err    error
}

func (e *StreamError) Error() string {
	if e.Errors != nil {
		return fmt.Sprintf("subgraph %s refused the subscription: %s", e.Subgraph, clip(string(e.Errors), 200))
	}
	return fmt.Sprintf("subscription stream from subgraph %s broke: %v", e.Subgraph, e.Err)
}

func (e *StreamError) Unwrap() error { return e.Err }

// Stats are the client's gauges and counters.
type Stats struct {
	Conns   atomic.Int64 // connections open (acknowledged)
	Dials   atomic.Int64 // connection attempts
	Streams atomic.Int64 // upstream streams active
	Events  atomic.Int64 // next messages received
}

// Client multiplexes subscriptions to subgraphs. It is safe for
// concurrent use.
type Client struct {
	opts Options
	http *http.Client
	// Stats may be read at any time.
	Stats Stats

	mu      sync.Mutex
	streams map[string]*stream
	conns   map[string][]*conn
	closed  bool
}

// New returns a client.
func New(opts Options) *Client {
	opts.defaults()
	return &Client{opts: opts, http: opts.HTTPClient, streams: map[string]*stream{}, conns: map[string][]*conn{}}
}

// stream is one upstream subscription and the listeners sharing it.
type stream struct {
	key       string
	subgraph  string
	subscribe json.RawMessage // the subscribe message's payload
	listeners map[*Sub]struct{}
	conn      *conn
	id        string // on conn, "" until sent
	ended     bool
	// cancel ends an SSE stream's request (nil for WebSocket streams).
	cancel context.CancelFunc
}

// Sub is one listener's membership of a stream.
type Sub struct {
	c *Client
	s *stream
	l Listener
}

// Subscribe adds l to the stream of req, starting it when it is the
// first; Close the Sub to leave. Listeners of one stream receive the same
// events from the moment they join.
func (c *Client) Subscribe(req Request, l Listener) (*Sub, error) {
	url, ok := "", false
	sse := false
	if c.opts.SSE != nil {
		url, sse = c.opts.SSE(req.Subgraph)
		ok = sse
	}
	if !sse {
		url, ok = c.opts.URL(req.Subgraph)
	}
	if !ok {
		return nil, fmt.Errorf("wsclient: no URL for subgraph %q", req.Subgraph)
	}
	payload, err := json.Marshal(struct {
		Query         string          `json:"query"`
		OperationName string          `json:"operationName,omitempty"`
		Variables     json.RawMessage `json:"variables,omitempty"`
	}{req.Query, req.OperationName, req.Variables})
	if err != nil {
		return nil, fmt.Errorf("wsclient: subscribe payload: %w", err)
	}
	ck := connKey(req.Subgraph, url, req.Header, req.InitPayload)
	// The payload's hash, not the payload: a stream keeps its subscribe
	// message already, and variables may be up to a client message long.
	sum := sha256.Sum256(payload)
	key := ck + "\x00" + string(sum[:])
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errors.New("wsclient: client closed")
	}
	sub := &Sub{c: c, l: l}
	if s := c.streams[key]; s != nil {
		sub.s = s
		s.listeners[sub] = struct{}{}
		c.mu.Unlock()
		return sub, nil
	}
	s := &stream{key: key, subgraph: req.Subgraph, subscribe: payload, listeners: map[*Sub]struct{}{sub: {}}}
	sub.s = s
	c.streams[key] = s
	c.Stats.Streams.Add(1)
	if sse {
		ctx, cancel := context.WithCancel(context.Background())
		s.cancel = cancel
		c.mu.Unlock()
		go c.sseRun(ctx, s, url, req.Header.Clone())
		return sub, nil
	}
	cn, ws, id := c.assign(s, ck, url, req.Header, req.InitPayload)
	c.mu.Unlock()
	if ws != nil {
		cn.write(ws, message{ID: id, Type: "subscribe", Payload: payload})
	}
	return sub, nil
}

// assign puts s on a connection of key ck with room, or a new one; when
// that connection is ready, the caller sends the subscribe message with
// id on ws once c.mu is released. c.mu is held.
func (c *Client) assign(s *stream, ck, url string, header http.Header, init json.RawMessage) (*conn, *websocket.Conn, string) {
	var cn *conn
	for _, x := range c.conns[ck] {
		x.mu.Lock()
		room := !x.dead && len(x.streams) < c.opts.MaxStreamsPerConn
		x.mu.Unlock()
		if room {
			cn = x
			break
		}
	}
	if cn == nil {
		cn = &conn{c: c, key: ck, subgraph: s.subgraph, url: url, header: header.Clone(), init: init,
			streams: map[*stream]struct{}{}, byID: map[string]*stream{}, quit: make(chan struct{})}
		c.conns[ck] = append(c.conns[ck], cn)
		go cn.run()
	}
	s.conn = cn
	ws, id := cn.add(s)
	return cn, ws, id
}

// Close leaves the stream; the last listener to leave completes it
// upstream.
func (sub *Sub) Close() {
	c := sub.c
	c.mu.Lock()
	s := sub.s
	if _, ok := s.listeners[sub]; !ok {
		c.mu.Unlock()
		return
	}
	delete(s.listeners, sub)
	last := len(s.listeners) == 0 && !s.ended
	if last {
		s.ended = true
		delete(c.streams, s.key)
		c.Stats.Streams.Add(-1)
	}
	cn := s.conn
	c.mu.Unlock()
	if last && s.cancel != nil {
		s.cancel()
	}
	if last && cn != nil {
		cn.remove(s, true)
	}
}

// Close ends every stream (listeners get End with an error) and closes
// the connections with 1001 (going away).
func (c *Client) Close() {
	c.mu.Lock()
	c.closed = true
	var all []*conn
	for _, list := range c.conns {
		all = append(all, list...)
	}
	var sse []*stream
	for _, s := range c.streams {
		if s.cancel != nil {
			sse = append(sse, s)
		}
	}
	c.mu.Unlock()
	for _, cn := range all {
		cn.shutdown(errors.New("gateway shutting down"))
	}
	for _, s := range sse {
		c.endStream(s, &StreamError{Subgraph: s.subgraph, Err: errors.New("gateway shutting down")})
	}
}

// endStream ends s for all its listeners with err. c.mu must not be held.
func (c *Client) endStream(s *stream, err error) {
	c.mu.Lock()
	if s.ended {
		c.mu.Unlock()
		return
	}
	s.ended = true
	delete(c.streams, s.key)
	c.Stats.Streams.Add(-1)
	ls := make([]*Sub, 0, len(s.listeners))
	for l := range s.listeners {
		ls = append(ls, l)
	}
	c.mu.Unlock()
	if s.cancel != nil {
		s.cancel()
	}
	for _, l := range ls {
		l.l.End(err)
	}
}

// listeners returns the listeners of s.
func (c *Client) listeners(s *stream) []*Sub {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.ended {
		return nil
	}
	ls := make([]*Sub, 0, len(s.listeners))
	for l := range s.listeners {
		ls = append(ls, l)
	}
	return ls
}

func connKey(subgraph, url string, h http.Header, init json.RawMessage) string {
	var b strings.Builder
	b.WriteString(subgraph)
	b.WriteByte(0)
	b.WriteString(url)
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// Each name and value is prefixed by its length: the key of two
	// header sets is the same only when they are equal. Joined with ",",
	// a name sent as two lines (X: a, X: b) and as one (X: a,b) made one
	// key, and the second caller's streams ran on the connection the
	// first one's headers opened.
	for _, k := range keys {
		fmt.Fprintf(&b, "\x00%d:%s%d", len(k), k, len(h[k]))
		for _, v := range h[k] {
			fmt.Fprintf(&b, "\x01%d:%s", len(v), v)
		}
	}
	b.WriteByte(0)
	b.Write(init)
	return b.String()
}

// conn is one WebSocket connection to a subgraph and its streams.
type conn struct {
	c        *Client
	key      string
	subgraph string
	url      string
	header   http.Header
	init     json.RawMessage

	mu      sync.Mutex
	ws      *websocket.Conn // nil while (re)connecting
	streams map[*stream]struct{}
	byID    map[string]*stream
	nextID  int
	dead    bool
	quit    chan struct{}
}

// message is a graphql-transport-ws message.
type message struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// add registers s; when the connection is ready it returns it and the
// stream's id, for the caller to send subscribe (otherwise the session
// subscribes it once acknowledged).
func (cn *conn) add(s *stream) (*websocket.Conn, string) {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	cn.streams[s] = struct{}{}
	if cn.ws == nil {
		return nil, ""
	}
	return cn.ws, cn.newID(s)
}

// newID gives s an id on the current connection. cn.mu is held.
func (cn *conn) newID(s *stream) string {
	cn.nextID++
	id := strconv.Itoa(cn.nextID)
	s.id = id
	cn.byID[id] = s
	return id
}

// remove drops s; complete sends complete upstream. A connection left
// without streams closes.
func (cn *conn) remove(s *stream, complete bool) {
	cn.mu.Lock()
	delete(cn.streams, s)
	id := s.id
	if id != "" {
		delete(cn.byID, id)
	}
	ws := cn.ws
	empty := len(cn.streams) == 0
	cn.mu.Unlock()
	if complete && ws != nil && id != "" {
		cn.write(ws, message{ID: id, Type: "complete"})
	}
	if empty {
		cn.closeIfEmpty()
	}
}

// closeIfEmpty retires the connection when it carries no stream.
func (cn *conn) closeIfEmpty() {
	c := cn.c
	c.mu.Lock()
	cn.mu.Lock()
	if len(cn.streams) > 0 || cn.dead {
		cn.mu.Unlock()
		c.mu.Unlock()
		return
	}
	cn.dead = true
	ws := cn.ws
	cn.mu.Unlock()
	c.dropConn(cn)
	c.mu.Unlock()
	close(cn.quit)
	if ws != nil {
		_ = ws.Close(websocket.StatusNormalClosure, "")
	}
}

// dropConn forgets cn. c.mu is held.
func (c *Client) dropConn(cn *conn) {
	list := c.conns[cn.key]
	for i, x := range list {
		if x == cn {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(c.conns, cn.key)
	} else {
		c.conns[cn.key] = list
	}
}

// shutdown ends the connection's streams with err and closes it.
func (cn *conn) shutdown(err error) {
	cn.c.mu.Lock()
	cn.mu.Lock()
	if cn.dead {
		cn.mu.Unlock()
		cn.c.mu.Unlock()
		return
	}
	cn.dead = true
	ws := cn.ws
	streams := make([]*stream, 0, len(cn.streams))
	for s := range cn.streams {
		streams = append(streams, s)
	}
	cn.streams = map[*stream]struct{}{}
	cn.byID = map[string]*stream{}
	cn.mu.Unlock()
	cn.c.dropConn(cn)
	cn.c.mu.Unlock()
	close(cn.quit)
	if ws != nil {
		_ = ws.Close(websocket.StatusGoingAway, "")
	}
	for _, s := range streams {
		cn.c.endStream(s, &StreamError{Subgraph: cn.subgraph, Err: err})
	}
}

func (cn *conn) write(ws *websocket.Conn, m message) {
	b, _ := json.Marshal(m)
	ctx, cancel := context.WithTimeout(context.Background(), cn.c.opts.AckTimeout)
	defer cancel()
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		// The read loop sees the broken connection and reconnects.
		_ = ws.CloseNow()
	}
}

// run keeps the connection up while it has streams: dial, init, serve
// until it breaks, back off, again.
func (cn *conn) run() {
	opts := &cn.c.opts
	var failingSince time.Time
	backoff := opts.Backoff
	for {
		served, err := cn.session()
		cn.mu.Lock()
		dead := cn.dead
		cn.mu.Unlock()
		if dead {
			return
		}
		if served {
			failingSince, backoff = time.Time{}, opts.Backoff
		}
		if failingSince.IsZero() {
			failingSince = time.Now()
		}
		if opts.RetryFor < 0 || time.Since(failingSince) > opts.RetryFor {
			cn.shutdown(err)
			return
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		backoff = min(2*backoff, opts.MaxBackoff)
		select {
		case <-time.After(wait):
		case <-cn.quit:
			return
		}
	}
}

// session runs one connection: served reports whether it was
// acknowledged.
func (cn *conn) session() (served bool, err error) {
	opts := &cn.c.opts
	cn.c.Stats.Dials.Add(1)
	ctx, cancel := context.WithTimeout(context.Background(), opts.AckTimeout)
	ws, _, err := websocket.Dial(ctx, cn.url, &websocket.DialOptions{Subprotocols: []string{Subprotocol}, HTTPHeader: cn.header})
	if err != nil {
		cancel()
		return false, fmt.Errorf("dial %s: %w", cn.url, err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(opts.ReadLimit)
	if ws.Subprotocol() != Subprotocol {
		cancel()
		return false, fmt.Errorf("%s does not speak %s", cn.url, Subprotocol)
	}
	init, _ := json.Marshal(message{Type: "connection_init", Payload: cn.init})
	if err := ws.Write(ctx, websocket.MessageText, init); err != nil {
		cancel()
		return false, fmt.Errorf("connection_init: %w", err)
	}
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			cancel()
			return false, fmt.Errorf("waiting for connection_ack: %w", err)
		}
		var m message
		if json.Unmarshal(b, &m) == nil && m.Type == "connection_ack" {
			break
		}
	}
	cancel()
	// Ready: subscribe every stream that waits.
	cn.mu.Lock()
	if cn.dead {
		cn.mu.Unlock()
		_ = ws.Close(websocket.StatusNormalClosure, "")
		return true, nil
	}
	cn.ws = ws
	cn.byID = map[string]*stream{}
	var pending []message
	for s := range cn.streams {
		pending = append(pending, message{ID: cn.newID(s), Type: "subscribe", Payload: s.subscribe})
	}
	cn.mu.Unlock()
	cn.c.Stats.Conns.Add(1)
	defer cn.c.Stats.Conns.Add(-1)
	defer func() {
		cn.mu.Lock()
		cn.ws = nil
		for s := range cn.streams {
			s.id = ""
		}
		cn.byID = map[string]*stream{}
		cn.mu.Unlock()
	}()
	for _, m := range pending {
		cn.write(ws, m)
	}
	done := make(chan struct{})
	defer close(done)
	go cn.keepalive(ws, done)
	return true, cn.readLoop(ws)
}

// keepalive pings the subgraph; an unanswered ping closes the
// connection.
func (cn *conn) keepalive(ws *websocket.Conn, done chan struct{}) {
	t := time.NewTicker(cn.c.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), cn.c.opts.PingInterval)
			err := ws.Ping(ctx)
			cancel()
			if err != nil {
				_ = ws.CloseNow()
				return
			}
		}
	}
}

func (cn *conn) readLoop(ws *websocket.Conn) error {
	c := cn.c
	for {
		_, b, err := ws.Read(context.Background())
		if err != nil {
			return err
		}
		var m message
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("invalid message from %s: %w", cn.subgraph, err)
		}
		switch m.Type {
		case "ping":
			go cn.write(ws, message{Type: "pong"})
		case "next":
			cn.mu.Lock()
			s := cn.byID[m.ID]
			cn.mu.Unlock()
			if s == nil {
				continue
			}
			c.Stats.Events.Add(1)
			for _, l := range c.listeners(s) {
				l.l.Next(m.Payload)
			}
		case "error", "complete":
			cn.mu.Lock()
			s := cn.byID[m.ID]
			cn.mu.Unlock()
			if s == nil {
				continue
			}
			var serr error
			if m.Type == "error" {
				serr = &StreamError{Subgraph: cn.subgraph, Errors: m.Payload, Err: errors.New("subgraph sent error")}
			}
			cn.remove(s, false)
			c.endStream(s, serr)
		}
	}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
