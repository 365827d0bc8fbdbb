package subscriptions

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/subgraphs/wsclient"
	"github.com/fedgate/gateway/telemetry"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Options configure an Engine. Zero values take the defaults in
// parentheses.
type Options struct {
	// MaxPerClient bounds the subscriptions one client (token subject,
	// or address when anonymous) has open at once (100).
	MaxPerClient int
	// SubscribeRate is the subscribes per second a client may start on
	// average (10), with bursts of SubscribeBurst (20).
	SubscribeRate  float64
	SubscribeBurst int
	// ConnectRate is the WebSockets per second a client may set up
	// (connection_init acked) on average (10), with bursts of
	// ConnectBurst (MaxConnectionsPerClient: a client may open all it
	// may hold at once); past it connection_init is answered with close
	// 1013. Setting one up costs its upgrade, token verification and
	// goroutines: a client reconnecting in a loop set up 5,187 in 3s.
	ConnectRate  float64
	ConnectBurst int
	// MaxConnections bounds the stream connections (WebSocket, SSE,
	// multipart) open at once (20000); more are answered 503.
	MaxConnections int
	// MaxConnectionsPerClient bounds the stream connections one client
	// has open at once (100), so that one client cannot take the
	// MaxConnections of everyone, each with its own operations in
	// progress. A WebSocket counts against the client its upgrade
	// request identifies (API key or address), then, from its
	// connection_init, against the caller its token names. More are
	// answered 429 CONNECTION_LIMIT (a WebSocket whose connection_init
	// names a client at its bound is closed with 1008).
	MaxConnectionsPerClient int
	// Buffer is how many messages may wait for a slow client, per
	// connection (64). A client that lets it fill is disconnected.
	Buffer int
	// BufferBytes bounds the bytes of those messages (1 MiB) that are the
	// connection's own: beyond it they are borrowed from BurstBytes, and
	// a client whose messages do not fit in either is disconnected,
	// instead of making the gateway hold Buffer of them. A message larger
	// than the bound is still queued when nothing else waits.
	BufferBytes int64
	// BurstBytes is what the connections together may hold beyond their
	// BufferBytes (32 MiB): a burst of large events to a client that
	// reads steadily but slowly is held from it, and the client is let
	// go only when a write does not finish within WriteTimeout (or the
	// allowance is spent), not as soon as the burst passes BufferBytes.
	BurstBytes int64
	// burst counts what is borrowed of BurstBytes (queueBytes).
	burst *burstPool
	// WriteTimeout is the longest one write to a client may block (10s);
	// a client that does not read is disconnected after it.
	WriteTimeout time.Duration
	// InitTimeout is the time a WebSocket client has to send
	// connection_init (10s); then it is closed with 4408.
	InitTimeout time.Duration
	// KeepAlive is the interval of WebSocket pings, sent to the
	// connections that were sent no event in the last interval, and of
	// SSE comments (12s); multipart heartbeats are every 5s as Apollo's
	// spec asks.
	KeepAlive time.Duration
	// MaxPending bounds the events of one upstream stream waiting to be
	// completed (256); a stream whose completion falls further behind
	// ends its subscriptions with SUBSCRIPTION_OVERLOADED.
	MaxPending int
	// MaxReservations bounds the graphql-sse single connection
	// reservations (reserved or open event streams) one client holds
	// (10); a reservation whose stream is not opened within InitTimeout
	// expires.
	MaxReservations int
	// MaxMessageBytes bounds a WebSocket message from a client (1 MiB).
	MaxMessageBytes int64
	// MessageTimeout bounds the time a WebSocket message from a client
	// takes to arrive, from the gateway's first wait for its rest to its
	// last byte (10s): a client that begins a message and sends the rest
	// slowly (holding the message's memory and its connection) is
	// disconnected. A connection idle between messages, pings included,
	// has no deadline.
	MessageTimeout time.Duration
	// MaxVariableBytesPerClient bounds the bytes of variables the
	// subscriptions of one client hold for their lives (1 MiB): each
	// keeps its variables (and the subgraph its subscribe message) until
	// it ends, so without a bound one client could hold MaxPerClient
	// times MaxMessageBytes. A subscribe past it is refused with
	// SUBSCRIPTION_VARIABLES_LIMIT (429).
	MaxVariableBytesPerClient int64
	// MaxInflightPerConnection bounds the operations of one WebSocket
	// being prepared or executed at once (100): a subscription until it
	// has started, a query or mutation until it is answered. Each one
	// holds a goroutine and its document, so one connection may not
	// start thousands: past the bound the connection's next message is
	// read only when one ends, and a subscribe that waited WriteTimeout
	// for that is refused with OPERATION_LIMIT.
	MaxInflightPerConnection int
	// OriginPatterns are the Origin hosts allowed to open WebSockets
	// besides the gateway's own host (cross-site WebSocket hijacking).
	OriginPatterns []string
	// ForwardInitPayload sends the client's connection_init payload to
	// the subgraph in its own connection_init (off: connections to a
	// subgraph are shared among clients, which only their headers tell
	// apart).
	ForwardInitPayload bool
	// TokenHeader is the header the gateway reads tokens from, besides
	// Authorization; a connection_init payload entry of that name (or in
	// its "headers" object) carries the token over WebSocket.
	TokenHeader string
	// Logger receives one line per subscription lifecycle (slog.Default).
	Logger *slog.Logger
	// Tracer, when set, traces each event's completion as a span
	// (SpanEvent) whose children are its subgraph fetches.
	Tracer trace.Tracer
}

func (o *Options) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxPerClient, 100)
	def(&o.SubscribeBurst, 20)
	def(&o.MaxConnections, DefaultMaxConnections)
	def(&o.MaxConnectionsPerClient, DefaultMaxConnectionsPerClient)
	def(&o.ConnectBurst, o.MaxConnectionsPerClient)
	def(&o.Buffer, 64)
	if o.BufferBytes <= 0 {
		o.BufferBytes = DefaultBufferBytes
	}
	if o.BurstBytes <= 0 {
		o.BurstBytes = DefaultBurstBytes
	}
	if o.burst == nil {
		o.burst = new(burstPool)
	}
	def(&o.MaxPending, 256)
	def(&o.MaxReservations, 10)
	def(&o.MaxInflightPerConnection, 100)
	if o.SubscribeRate <= 0 {
		o.SubscribeRate = 10
	}
	if o.ConnectRate <= 0 {
		o.ConnectRate = 10
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.InitTimeout <= 0 {
		o.InitTimeout = 10 * time.Second
	}
	if o.KeepAlive <= 0 {
		o.KeepAlive = 12 * time.Second
	}
	if o.MessageTimeout <= 0 {
		o.MessageTimeout = 10 * time.Second
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = 1 << 20
	}
	if o.MaxVariableBytesPerClient <= 0 {
		o.MaxVariableBytesPerClient = DefaultMaxVariableBytesPerClient
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// SpanEvent is the span of one event's completion.
const SpanEvent = "subscription_event"

// DefaultMaxConnections is the default of Options.MaxConnections.
const DefaultMaxConnections = 20000

// DefaultMaxConnectionsPerClient is the default of
// Options.MaxConnectionsPerClient.
const DefaultMaxConnectionsPerClient = 100

// CodeConnectionLimit refuses a stream connection of a client that has
// MaxConnectionsPerClient open.
const CodeConnectionLimit = "CONNECTION_LIMIT"

// DefaultBufferBytes is the default of Options.BufferBytes.
const DefaultBufferBytes = 1 << 20

// DefaultMaxVariableBytesPerClient is the default of
// Options.MaxVariableBytesPerClient.
const DefaultMaxVariableBytesPerClient = 1 << 20

// CodeVariablesLimit refuses a subscribe whose variables, with those the
// client's open subscriptions hold, exceed MaxVariableBytesPerClient.
const CodeVariablesLimit = "SUBSCRIPTION_VARIABLES_LIMIT"

// Stats are the engine's gauges and counters.
type Stats struct {
	Active      atomic.Int64 // client subscriptions open
	Connections atomic.Int64 // stream connections open
	EventsIn    atomic.Int64 // events received from subgraphs (per shared completion)
	EventsOut   atomic.Int64 // events sent to clients
	SlowClients atomic.Int64 // clients disconnected for not reading
	Refused     atomic.Int64 // subscribes and connections refused by a limit, WebSockets closed by the read budget (1013)
}

// Engine runs subscriptions for the transports. It is safe for
// concurrent use.
type Engine struct {
	gw   Gateway
	up   *wsclient.Client
	opts Options
	// Stats may be read at any time.
	Stats Stats
	// Timings may be read at any time.
	Timings Timings

	mu       sync.Mutex
	groups   map[string]*group
	subs     map[*subscription]struct{}
	perCount map[string]int
	// perBytes are the variable bytes each client's subscriptions hold.
	perBytes map[string]int64
	// connsPer counts the stream connections of each client.
	connsPer map[string]int
	buckets  map[string]*bucket
	// connects are the buckets of WebSocket setups (ConnectRate).
	connects map[string]*bucket
	closing  bool
	done     chan struct{}
	// conns are the open WebSockets, pinged by one goroutine.
	conns    map[*wsConn]struct{}
	pingOnce sync.Once
	// bySubgraph counts events per subgraph owning the root field.
	bySubgraph sync.Map // string -> *eventCounts
	// hijacked counts the HTTP streams served off net/http (hijack.go),
	// which Shutdown waits for as for WebSockets.
	hijacked atomic.Int64
	// fan are the fan-out workers (fanout.go).
	fanOnce sync.Once
	fan     *fanWorkers
	// api is the API schema of the last Reload (nil before one).
	api *ast.Schema
	// reservations are graphql-sse single connection streams by token
	// hash; resCount counts them per client.
	reservations map[[32]byte]*reservation
	resCount     map[string]int
}

type eventCounts struct{ in, out atomic.Int64 }

func (e *Engine) countsFor(subgraph string) *eventCounts {
	if c, ok := e.bySubgraph.Load(subgraph); ok {
		return c.(*eventCounts)
	}
	c, _ := e.bySubgraph.LoadOrStore(subgraph, &eventCounts{})
	return c.(*eventCounts)
}

// Figures returns the engine's and the upstream client's figures, for the
// metrics.
func (e *Engine) Figures() telemetry.SubscriptionFigures {
	f := telemetry.SubscriptionFigures{Active: e.Stats.Active.Load(), Connections: e.Stats.Connections.Load(),
		UpstreamConnections: e.up.Stats.Conns.Load(), UpstreamStreams: e.up.Stats.Streams.Load(),
		SlowClients: e.Stats.SlowClients.Load(), Refused: e.Stats.Refused.Load(), Events: map[string]telemetry.EventCounts{}}
	e.bySubgraph.Range(func(k, v any) bool {
		c := v.(*eventCounts)
		f.Events[k.(string)] = telemetry.EventCounts{In: c.in.Load(), Out: c.out.Load()}
		return true
	})
	return f
}

// New returns an engine that prepares operations with gw and streams
// from subgraphs with up.
func New(gw Gateway, up *wsclient.Client, opts Options) *Engine {
	opts.defaults()
	return &Engine{gw: gw, up: up, opts: opts, groups: map[string]*group{}, subs: map[*subscription]struct{}{},
		perCount: map[string]int{}, perBytes: map[string]int64{}, connsPer: map[string]int{}, buckets: map[string]*bucket{}, connects: map[string]*bucket{}, done: make(chan struct{}), conns: map[*wsConn]struct{}{},
		reservations: map[[32]byte]*reservation{}, resCount: map[string]int{}}
}

// Upstream returns the subgraph client.
func (e *Engine) Upstream() *wsclient.Client { return e.up }

// sink is where one client subscription's messages go. Its methods must
// not block.
type sink interface {
	// next queues one event (a GraphQL response); false means the
	// client's buffer is full. tr, when not nil, is told when the event
	// was written (or dropped).
	next(body []byte, tr *fanTrace) bool
	// end queues the last message: complete when errs is nil, else an
	// error carrying errs (a JSON list of GraphQL errors).
	end(errs []byte)
	// kill drops the client's connection: it does not read.
	kill()
}

// subscription is one client subscription.
type subscription struct {
	e      *Engine
	g      *group
	client string
	op     string
	sink   sink
	// respond is Prepared.Respond: the response hooks of s's events.
	respond func(ctx context.Context, event []byte) (out, errs []byte)
	// held is the bytes of variables s holds (Options.MaxVariableBytesPerClient).
	held   int64
	start  time.Time
	events atomic.Int64
	timer  *time.Timer
	ended  atomic.Bool
}

// errorList renders one GraphQL error as a JSON list.
func errorList(code, msg string, ext map[string]any) []byte {
	x := map[string]any{"code": code}
	for k, v := range ext {
		x[k] = v
	}
	b, _ := json.Marshal([]map[string]any{{"message": msg, "extensions": x}})
	return b
}

// refusal is a RequestError for a subscribe that is refused.
func refusal(status int, code, msg string) *RequestError {
	return &RequestError{Status: status, Body: []byte(`{"errors":` + string(errorList(code, msg, nil)) + `}`)}
}

// start runs p for client id, sending to sk; init is the WebSocket
// connection_init payload (nil for HTTP transports).
func (e *Engine) start(id Identity, p *Prepared, sk sink, init json.RawMessage) (*subscription, *RequestError) {
	now := time.Now()
	if !id.Expires.IsZero() && !now.Before(id.Expires) {
		return nil, refusal(http.StatusUnauthorized, "UNAUTHENTICATED", "the token has expired")
	}
	key := groupKey(p)
	if e.opts.ForwardInitPayload {
		// The subgraph may answer by the payload: only subscriptions
		// with the same one share a stream and its events.
		key += "\x00init\x00" + string(init)
	}
	// Kept per group as a digest: the variables, the plan and the init
	// payload it is made of may be large, and the group holds them
	// already.
	sum := sha256.Sum256([]byte(key))
	key = string(sum[:])
	e.mu.Lock()
	if e.closing {
		e.mu.Unlock()
		return nil, refusal(http.StatusServiceUnavailable, "SHUTTING_DOWN", "the gateway is shutting down")
	}
	if !e.allow(id.Client, now) {
		e.mu.Unlock()
		e.Stats.Refused.Add(1)
		return nil, refusal(http.StatusTooManyRequests, "RATE_LIMITED", "too many subscribes: slow down")
	}
	if e.perCount[id.Client] >= e.opts.MaxPerClient {
		e.mu.Unlock()
		e.Stats.Refused.Add(1)
		return nil, refusal(http.StatusTooManyRequests, "SUBSCRIPTION_LIMIT",
			fmt.Sprintf("a client may have at most %d subscriptions open", e.opts.MaxPerClient))
	}
	held := int64(len(p.Input.Variables))
	if e.perBytes[id.Client]+held > e.opts.MaxVariableBytesPerClient {
		e.mu.Unlock()
		e.Stats.Refused.Add(1)
		return nil, refusal(http.StatusTooManyRequests, CodeVariablesLimit,
			fmt.Sprintf("the variables of a client's open subscriptions may total at most %d bytes", e.opts.MaxVariableBytesPerClient))
	}
	if e.api != nil && p.API != nil && p.API != e.api {
		// Prepared against a schema a reload replaced meanwhile.
		if why := rootFieldBroken(p.Plan, e.api); why != "" {
			e.mu.Unlock()
			return nil, refusal(http.StatusConflict, CodeSchemaChanged, "the supergraph was reloaded: "+why)
		}
	}
	s := &subscription{e: e, client: id.Client, op: p.OperationName, sink: sk, respond: p.Respond, held: held, start: now}
	g := e.groups[key]
	fresh := g == nil
	if fresh {
		g = newGroup(e, key, p)
		e.groups[key] = g
	}
	s.g = g
	if s.respond != nil {
		g.each.Store(true)
	}
	g.members[s] = struct{}{}
	g.version++
	e.subs[s] = struct{}{}
	e.perCount[id.Client]++
	if held > 0 {
		e.perBytes[id.Client] += held
	}
	e.mu.Unlock()
	e.Stats.Active.Add(1)
	if !id.Expires.IsZero() {
		s.timer = time.AfterFunc(id.Expires.Sub(now), func() {
			s.finish(errorList("UNAUTHENTICATED", "the token has expired", nil), "token expired")
		})
	}
	if fresh {
		g.startUpstream(init, e.opts.ForwardInitPayload)
	}
	return s, nil
}

// finish ends s: its sink receives complete (errs nil) or errs.
func (s *subscription) finish(errs []byte, reason string) {
	if !s.close(reason) {
		return
	}
	s.sink.end(errs)
}

// close removes s without a message to the client (the client
// completed it, or went away); false when it had already ended.
func (s *subscription) close(reason string) bool {
	if s.ended.Swap(true) {
		return false
	}
	if s.timer != nil {
		s.timer.Stop()
	}
	e := s.e
	e.mu.Lock()
	delete(e.subs, s)
	uncount(e.perCount, s.client, 1)
	if s.held > 0 {
		uncount(e.perBytes, s.client, s.held)
	}
	g := s.g
	delete(g.members, s)
	g.version++
	last := len(g.members) == 0
	if last && e.groups[g.key] == g {
		delete(e.groups, g.key)
	}
	e.mu.Unlock()
	e.Stats.Active.Add(-1)
	if last {
		g.stop()
	}
	e.opts.Logger.Info("subscription", "client", s.client, "operation", s.op, "subgraph", g.plan.Primary.Subgraph,
		"events", s.events.Load(), "duration_ms", time.Since(s.start).Milliseconds(), "end", reason)
	return true
}

// Shutdown completes every subscription (clients receive complete), tells
// the transports to close their connections, closes the upstream client,
// and waits (up to the write timeout, at most 5s) for the WebSockets and
// the hijacked HTTP streams to be closed.
func (e *Engine) Shutdown() {
	e.mu.Lock()
	if e.closing {
		e.mu.Unlock()
		return
	}
	e.closing = true
	subs := make([]*subscription, 0, len(e.subs))
	for s := range e.subs {
		subs = append(subs, s)
	}
	e.mu.Unlock()
	for _, s := range subs {
		s.finish(nil, "shutdown")
	}
	close(e.done)
	e.mu.Lock()
	conns := make([]*wsConn, 0, len(e.conns))
	for c := range e.conns {
		conns = append(conns, c)
	}
	e.mu.Unlock()
	for _, c := range conns {
		// After the completes queued above.
		c.closeWith(websocket.StatusGoingAway, "gateway shutting down")
	}
	e.up.Close()
	// Give the writers time to deliver the completes and close frames
	// before the process exits (a client that does not read is cut at
	// its write deadline).
	deadline := time.Now().Add(min(e.opts.WriteTimeout, 5*time.Second))
	for time.Now().Before(deadline) {
		e.mu.Lock()
		n := len(e.conns)
		e.mu.Unlock()
		if n == 0 && e.hijacked.Load() == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// register adds a WebSocket to those pinged and closed at shutdown;
// false when shutting down.
func (e *Engine) register(c *wsConn) bool {
	e.pingOnce.Do(func() { go e.pinger() })
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closing {
		return false
	}
	e.conns[c] = struct{}{}
	return true
}

func (e *Engine) unregister(c *wsConn) {
	e.mu.Lock()
	delete(e.conns, c)
	e.mu.Unlock()
}

// pinger pings, each KeepAlive, the WebSockets that were sent no event
// since the round before (pingIdle), from one goroutine for all of them.
func (e *Engine) pinger() {
	t := time.NewTicker(e.opts.KeepAlive)
	defer t.Stop()
	for {
		select {
		case <-e.done:
			return
		case <-t.C:
		}
		e.pingIdle(e.opts.KeepAlive / 2)
	}
}

// pingBatch is how many pings a round writes at a time.
const pingBatch = 256

// pingIdle sends a graphql-transport-ws ping to each WebSocket that was
// sent no event since the last round (pingIdle), and returns how many it
// pinged. A connection that carries events needs none: proxies and the
// client see it alive. The pings are written pingBatch at a time, spread
// over the duration over: each costs a write system call, so 10,000
// idle connections pinged at once would hold up, for the ~100 ms of one
// core their writes take, the events fanned out meanwhile.
func (e *Engine) pingIdle(over time.Duration) int {
	e.mu.Lock()
	idle := make([]*wsConn, 0, len(e.conns))
	for c := range e.conns {
		if !c.eventSent.Swap(false) {
			idle = append(idle, c)
		}
	}
	e.mu.Unlock()
	batches := (len(idle) + pingBatch - 1) / pingBatch
	var gap *time.Timer
	for i := 0; i < len(idle); i += pingBatch {
		if i > 0 && over > 0 {
			if gap == nil {
				gap = time.NewTimer(over / time.Duration(batches))
			} else {
				gap.Reset(over / time.Duration(batches))
			}
			select {
			case <-e.done:
				gap.Stop()
				return i
			case <-gap.C:
			}
		}
		for _, c := range idle[i:min(i+pingBatch, len(idle))] {
			c.sendRaw(pingMsg)
		}
	}
	return len(idle)
}

// pingMsg is the graphql-transport-ws ping the gateway sends.
var pingMsg = []byte(`{"type":"ping"}`)

// groupKey identifies the subscriptions whose events complete alike: the
// same Prepared.Key (or, without one, the same plan), the same variables
// and the same forwarded headers.
func groupKey(p *Prepared) string {
	var b strings.Builder
	b.WriteString(p.Key)
	if p.Key == "" {
		fmt.Fprintf(&b, "%p", p.Plan.Plan)
	}
	b.WriteByte(0)
	b.Write(p.Input.Variables)
	for _, sg := range subgraphsOf(p.Plan) {
		b.WriteString("\x00" + sg)
		writeHeader(&b, headerFor(p.Input, sg))
	}
	return b.String()
}

// writeHeader writes h to b so that two headers write alike only when
// they are equal: every name and value is prefixed by its length, so
// the values of a name sent as separate lines ("X: a", "X: b") never
// write what one line holding both does ("X: a,b"), which a subgraph may
// read otherwise. Joined with "," they shared a key, and so the events
// of one upstream subscription.
func writeHeader(b *strings.Builder, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(b, "\x00%d:%s%d", len(k), k, len(h[k]))
		for _, v := range h[k] {
			fmt.Fprintf(b, "\x01%d:%s", len(v), v)
		}
	}
}

func headerFor(in executor.Input, subgraph string) http.Header {
	if in.HeaderFor != nil {
		return in.HeaderFor(subgraph)
	}
	return in.Header
}

// subgraphsOf lists the subgraphs a subscription plan fetches from.
func subgraphsOf(sp *planner.SubscriptionPlan) []string {
	seen := map[string]bool{sp.Primary.Subgraph: true}
	out := []string{sp.Primary.Subgraph}
	planner.EachFetch(sp.Rest, func(f *planner.Fetch) {
		if !seen[f.Subgraph] {
			seen[f.Subgraph] = true
			out = append(out, f.Subgraph)
		}
	})
	return out
}

// group is the subscriptions sharing one completion of each event, and
// their membership of an upstream stream.
type group struct {
	e    *Engine
	key  string
	plan *planner.SubscriptionPlan
	in   executor.Input
	tr   executor.Transport
	// api is the API schema the group's root field was last checked
	// against (guarded by e.mu).
	api    *ast.Schema
	ctx    context.Context
	cancel context.CancelFunc
	// members and version (counting their changes) are guarded by e.mu.
	members map[*subscription]struct{}
	version int
	// each is set once a member has response hooks (Prepared.Respond):
	// the events then go to each member as its hooks leave them.
	each atomic.Bool
	// cached are the members by connection at cachedVersion (fanout.go).
	cached        *fanTargets
	cachedVersion int

	mu      sync.Mutex
	up      *wsclient.Sub
	pending []upEvent
	endErr  error
	ended   bool
	stopped bool
	signal  chan struct{}
}

func newGroup(e *Engine, key string, p *Prepared) *group {
	ctx, cancel := context.WithCancel(context.Background())
	g := &group{e: e, key: key, plan: p.Plan, in: p.Input, tr: p.Transport, api: p.API, ctx: ctx, cancel: cancel,
		members: map[*subscription]struct{}{}, signal: make(chan struct{}, 1)}
	go g.run()
	return g
}

// startUpstream joins the upstream stream of the primary fetch.
func (g *group) startUpstream(init json.RawMessage, forwardInit bool) {
	f := g.plan.Primary
	req := wsclient.Request{Subgraph: f.Subgraph, Query: anonymous(f.Operation, f.OperationName),
		Variables: usedVariables(g.in.Variables, f.VariableUsages), Header: headerFor(g.in, f.Subgraph)}
	if forwardInit {
		req.InitPayload = init
	}
	up, err := g.e.up.Subscribe(req, g)
	g.mu.Lock()
	if err != nil {
		g.ended, g.endErr = true, err
	} else if g.stopped {
		defer up.Close()
	} else {
		g.up = up
	}
	g.mu.Unlock()
	g.wake()
}

// anonymous drops the operation name (the client's, suffixed by the
// planner) from a subgraph subscription, so that clients whose operations
// differ only in name share the upstream stream.
func anonymous(op, name string) string {
	if name == "" {
		return op
	}
	if rest, ok := strings.CutPrefix(op, "subscription "+name); ok {
		return "subscription" + rest
	}
	return op
}

// usedVariables is the JSON object of the variables in names.
func usedVariables(vars []byte, names []string) json.RawMessage {
	if len(names) == 0 || len(vars) == 0 {
		return nil
	}
	var all map[string]json.RawMessage
	if json.Unmarshal(vars, &all) != nil {
		return nil
	}
	used := make(map[string]json.RawMessage, len(names))
	for _, n := range names {
		if v, ok := all[n]; ok {
			used[n] = v
		}
	}
	b, _ := json.Marshal(used)
	return b
}

func (g *group) wake() {
	select {
	case g.signal <- struct{}{}:
	default:
	}
}

// Next implements wsclient.Listener.
func (g *group) Next(payload []byte) {
	g.mu.Lock()
	if len(g.pending) >= g.e.opts.MaxPending {
		if !g.ended {
			g.ended = true
			g.endErr = errOverloaded
		}
	} else {
		g.pending = append(g.pending, upEvent{payload, time.Now()})
	}
	g.mu.Unlock()
	g.wake()
}

var errOverloaded = errors.New("overloaded")

// eventFailed is the event sent when completing one failed.
var eventFailed = []byte(`{"data":null,"errors":[{"message":"internal error completing the event","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`)

// upEvent is an event from the subgraph and when it arrived.
type upEvent struct {
	payload []byte
	at      time.Time
}

// End implements wsclient.Listener.
func (g *group) End(err error) {
	g.mu.Lock()
	if !g.ended {
		g.ended, g.endErr = true, err
	}
	g.mu.Unlock()
	g.wake()
}

// stop leaves the upstream stream; the group has no member left.
func (g *group) stop() {
	g.mu.Lock()
	g.stopped = true
	up := g.up
	g.up = nil
	g.mu.Unlock()
	if up != nil {
		up.Close()
	}
	g.cancel()
	g.wake()
}

// members returns the group's subscriptions.
func (g *group) snapshot() []*subscription {
	g.e.mu.Lock()
	defer g.e.mu.Unlock()
	out := make([]*subscription, 0, len(g.members))
	for s := range g.members {
		out = append(out, s)
	}
	return out
}

// run completes the events in order and fans them out; one goroutine per
// group, so a slow entity fetch delays only its own subscriptions.
func (g *group) run() {
	for {
		select {
		case <-g.signal:
		case <-g.ctx.Done():
		}
		g.mu.Lock()
		events := g.pending
		g.pending = nil
		ended, endErr, stopped := g.ended, g.endErr, g.stopped
		g.mu.Unlock()
		if stopped {
			return
		}
		counts := g.e.countsFor(g.plan.Primary.Subgraph)
		for _, ev := range events {
			g.e.Stats.EventsIn.Add(1)
			counts.in.Add(1)
			body := g.complete(ev.payload)
			g.e.Timings.Complete.observe(time.Since(ev.at))
			tr := &fanTrace{t: &g.e.Timings, arrived: ev.at}
			if g.each.Load() {
				g.fanOutEach(body, tr, counts)
			} else {
				g.fanOut(body, tr, counts)
			}
		}
		if ended {
			errs, reason := g.endErrors(endErr)
			for _, s := range g.snapshot() {
				s.finish(errs, reason)
			}
			g.e.mu.Lock()
			if g.e.groups[g.key] == g {
				delete(g.e.groups, g.key)
			}
			g.e.mu.Unlock()
			g.stop()
			return
		}
	}
}

// complete runs the rest of the plan on one event, traced when a tracer
// is set. A panic completing it (a bug, or a hook's at a Subgraph stage)
// costs that event, answered with an INTERNAL_SERVER_ERROR, never the
// process: the group's goroutine has no caller to recover it.
func (g *group) complete(payload []byte) (out []byte) {
	defer func() {
		if p := recover(); p != nil {
			g.e.opts.Logger.Error("panic completing a subscription event", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			out = eventFailed
		}
	}()
	ctx, in := g.ctx, g.in
	if tr := g.e.opts.Tracer; tr != nil {
		var span trace.Span
		ctx, span = tr.Start(ctx, SpanEvent, trace.WithAttributes(
			attribute.String("graphql.operation.name", g.plan.Plan.Operation.Name),
			attribute.String("subgraph.name", g.plan.Primary.Subgraph)))
		defer span.End()
		in.Tracer = tr
	}
	return executor.ExecuteEvent(ctx, g.plan.Plan, g.plan.Rest, g.plan.Primary.Subgraph, payload, in, g.tr, nil)
}

// endErrors is what the clients receive when the upstream stream ends:
// nil (complete) when the subgraph completed it.
func (g *group) endErrors(err error) ([]byte, string) {
	sg := g.plan.Primary.Subgraph
	var se *wsclient.StreamError
	switch {
	case err == nil:
		return nil, "subgraph completed"
	case errors.Is(err, errOverloaded):
		return errorList("SUBSCRIPTION_OVERLOADED", "the gateway could not complete the events of this subscription as fast as they came", nil), "overloaded"
	case errors.As(err, &se) && se.Errors != nil:
		var list []map[string]any
		if json.Unmarshal(se.Errors, &list) == nil && len(list) > 0 {
			for _, e := range list {
				ext, _ := e["extensions"].(map[string]any)
				if ext == nil {
					ext = map[string]any{}
					e["extensions"] = ext
				}
				if _, ok := ext["code"]; !ok {
					ext["code"] = "DOWNSTREAM_SERVICE_ERROR"
				}
				ext["serviceName"] = sg
			}
			b, _ := json.Marshal(list)
			return b, "subgraph error"
		}
	}
	return errorList("SUBSCRIPTION_UPSTREAM_FAILED", "the subscription stream from subgraph '"+sg+"' ended: "+err.Error(),
		map[string]any{"serviceName": sg}), "upstream failed"
}

// bucket is a token bucket of subscribes.
type bucket struct {
	tokens float64
	last   time.Time
}

// allow takes a subscribe token of client. e.mu is held.
func (e *Engine) allow(client string, now time.Time) bool {
	return take(&e.buckets, client, now, e.opts.SubscribeRate, e.opts.SubscribeBurst)
}

// allowConnect takes a token of client's WebSocket setups
// (ConnectRate).
func (e *Engine) allowConnect(client string, now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return take(&e.connects, client, now, e.opts.ConnectRate, e.opts.ConnectBurst)
}

// take takes a token of client's bucket in buckets, refilled at rate per
// second up to burst; false when it has none. e.mu is held.
func take(buckets *map[string]*bucket, client string, now time.Time, rate float64, burst int) bool {
	b := (*buckets)[client]
	if b == nil {
		if len(*buckets) > 100000 {
			// Full buckets carry no state: forget them all rather than grow.
			*buckets = map[string]*bucket{}
		}
		b = &bucket{tokens: float64(burst), last: now}
		(*buckets)[client] = b
	}
	// now was read before e.mu was taken: it may be a little before last.
	if now.After(b.last) {
		b.tokens = min(float64(burst), b.tokens+now.Sub(b.last).Seconds()*rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// acquireConn counts a stream connection of client: nil, or the refusal
// when the engine is shutting down, the gateway has MaxConnections open
// (503) or client has MaxConnectionsPerClient (429).
func (e *Engine) acquireConn(client string) *RequestError {
	select {
	case <-e.done:
		return refusal(http.StatusServiceUnavailable, "SHUTTING_DOWN", "the gateway is shutting down")
	default:
	}
	if e.Stats.Connections.Add(1) > int64(e.opts.MaxConnections) {
		e.Stats.Connections.Add(-1)
		return refusal(http.StatusServiceUnavailable, "TOO_MANY_CONNECTIONS", "too many stream connections")
	}
	e.mu.Lock()
	if e.connsPer[client] >= e.opts.MaxConnectionsPerClient {
		e.mu.Unlock()
		e.Stats.Connections.Add(-1)
		e.Stats.Refused.Add(1)
		return refusal(http.StatusTooManyRequests, CodeConnectionLimit,
			fmt.Sprintf("a client may have at most %d stream connections open", e.opts.MaxConnectionsPerClient))
	}
	e.connsPer[client]++
	e.mu.Unlock()
	return nil
}

// releaseConn uncounts a stream connection of client.
func (e *Engine) releaseConn(client string) {
	e.mu.Lock()
	uncount(e.connsPer, client, 1)
	e.mu.Unlock()
	e.Stats.Connections.Add(-1)
}

// moveConn counts a connection of from as one of to (a WebSocket whose
// connection_init identified its caller); false, with nothing changed,
// when to has MaxConnectionsPerClient open.
func (e *Engine) moveConn(from, to string) bool {
	if from == to {
		return true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.connsPer[to] >= e.opts.MaxConnectionsPerClient {
		e.Stats.Refused.Add(1)
		return false
	}
	e.connsPer[to]++
	uncount(e.connsPer, from, 1)
	return true
}

// uncount takes n from client's count in m (a per-client counter of the
// engine, under e.mu) and forgets the client at zero.
func uncount[T int | int64](m map[string]T, client string, n T) {
	if m[client] -= n; m[client] <= 0 {
		delete(m, client)
	}
}
