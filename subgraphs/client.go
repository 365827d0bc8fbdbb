package subgraphs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	neturl "net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/subgraphs/h1"
	"github.com/fedgate/gateway/telemetry"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Error codes of failed subgraph requests, as extensions.code of the
// errors of the fields they cost.
const (
	CodeHTTPError    = "SUBREQUEST_HTTP_ERROR"
	CodeTimeout      = "SUBREQUEST_TIMEOUT"
	CodeCircuitOpen  = "SUBREQUEST_CIRCUIT_OPEN"
	CodeBulkheadFull = "SUBREQUEST_BULKHEAD_FULL"
)

// Options configure a Client.
type Options struct {
	// Config holds the settings of every subgraph (the "subgraphs"
	// configuration section); nil uses DefaultConfig(). The three fields
	// below, when not zero, replace its values for every subgraph.
	Config *Config
	// Timeout bounds one subgraph request attempt.
	Timeout time.Duration
	// MaxResponseBytes bounds a response body.
	MaxResponseBytes int64
	// MaxIdleConnsPerHost sizes the connection pool.
	MaxIdleConnsPerHost int

	// CacheKeyHeaders are the request headers the gateway's caches key
	// answers by (cache.response.vary_headers): an answer whose Vary
	// names another header its request carried is marked no-store, or
	// private when that header is Authorization, Cookie or TokenHeader
	// (private answers are keyed by the caller's verified identity).
	CacheKeyHeaders []string
	// TokenHeader is the header the gateway reads tokens from besides
	// Authorization (auth.jwt.header).
	TokenHeader string

	// Tracer starts a span per fetch and per attempt; nil is a no-op.
	Tracer trace.Tracer
	// Propagate injects the W3C traceparent into subgraph requests.
	Propagate bool
	// Metrics records subgraph requests and breaker states; nil is off.
	Metrics *telemetry.Metrics
	// Logger reports breaker and health changes; nil is slog.Default().
	Logger *slog.Logger
}

// Client sends GraphQL requests to subgraphs over HTTP: per subgraph a
// connection pool, a timeout per attempt, retries of queries within a
// budget, a circuit breaker, a bulkhead and an optional health check. It
// satisfies executor.Transport.
type Client struct {
	subgraphs map[string]*subgraph
	tracer    trace.Tracer
	propagate bool
	metrics   *telemetry.Metrics
	logger    *slog.Logger
	// bufs holds *answer buffers, headers http.Header maps for requests
	// sent through the pool (see send).
	bufs sync.Pool
	// answers is shared by the answers being read and held
	// (Config.MaxAnswerBytes); nil when unbounded.
	answers *answerBudget
	headers sync.Pool
	// keyed holds Options.CacheKeyHeaders, identity the credential
	// headers, canonical (varyCacheControl).
	keyed, identity map[string]bool
	stop            context.CancelFunc
	checks          sync.WaitGroup
}

// subgraph is the state of one subgraph.
type subgraph struct {
	name string
	url  string
	// shown is url as logs and failure causes name it: without its
	// user information and query, where a routing URL may carry a key.
	shown string
	// u is url parsed once (nil when it does not parse: every request
	// then fails with the parse error).
	u    *neturl.URL
	uerr error
	set  Settings
	// pool sends the requests of in-memory bodies, http the streamed
	// ones and the health checks.
	pool     *h1.Pool
	http     *http.Transport
	breaker  *breaker
	bulkhead chan struct{}
	budget   *retryBudget
	health   health
	// failures bounds the log lines of its failed fetches.
	failures failureLog
}

// NewClient returns a client for the subgraphs named in urls (name ->
// URL); a URL in the configuration's overrides replaces the one given.
// Health checks, when configured, start now and stop with Close.
func NewClient(urls map[string]string, opts Options) *Client {
	cfg := DefaultConfig()
	if opts.Config != nil {
		cfg = *opts.Config
	}
	c := &Client{subgraphs: map[string]*subgraph{}, tracer: opts.Tracer, propagate: opts.Propagate,
		metrics: opts.Metrics, logger: opts.Logger, keyed: map[string]bool{},
		identity: map[string]bool{"Authorization": true, "Cookie": true}}
	for _, name := range opts.CacheKeyHeaders {
		c.keyed[http.CanonicalHeaderKey(name)] = true
	}
	if opts.TokenHeader != "" {
		c.identity[http.CanonicalHeaderKey(opts.TokenHeader)] = true
	}
	var answers h1.Budget
	if cfg.MaxAnswerBytes > 0 {
		c.answers = &answerBudget{}
		c.answers.left.Store(cfg.MaxAnswerBytes)
		answers = c.answers
	}
	c.bufs.New = func() any {
		a := &answer{pool: &c.bufs, budget: c.answers}
		a.release = a.put
		return a
	}
	if c.tracer == nil {
		c.tracer = noop.NewTracerProvider().Tracer("")
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	for name := range cfg.Overrides {
		if _, ok := urls[name]; !ok {
			c.logger.Warn("subgraphs.overrides names a subgraph the supergraph does not have; its settings apply to none",
				"subgraph", name, "subgraphs", strings.Join(slices.Sorted(maps.Keys(urls)), ", "))
		}
	}
	ctx, stop := context.WithCancel(context.Background())
	c.stop = stop
	for name, url := range urls {
		set := cfg.For(name)
		if opts.Timeout != 0 {
			set.Timeout = opts.Timeout
		}
		if opts.MaxResponseBytes != 0 {
			set.MaxResponseBytes = opts.MaxResponseBytes
		}
		if opts.MaxIdleConnsPerHost != 0 {
			set.Pool.MaxIdleConns = opts.MaxIdleConnsPerHost
		}
		if set.URL != "" {
			url = set.URL
		}
		sg := &subgraph{name: name, url: url, shown: shownURL(url), set: set, budget: newRetryBudget(set.Retry, time.Now)}
		sg.u, sg.uerr = parseURL(url)
		if sg.uerr == nil {
			sg.pool, sg.uerr = h1.New(sg.u, h1.Options{DialTimeout: set.Pool.DialTimeout, MaxIdle: set.Pool.MaxIdleConns,
				IdleTimeout: set.Pool.IdleTimeout, AnswerBudget: answers, Resend: func() bool {
					// The subgraph may have run the query sent first: a
					// retry, from the retry budget and counted as one.
					if !sg.budget.Withdraw() {
						return false
					}
					c.metrics.SubgraphRetry(context.Background(), name)
					return true
				}})
		}
		// Requests go to the transport directly, not through an
		// http.Client: a subgraph's redirect is an HTTP error rather than
		// followed (the forwarded headers would go wherever it points),
		// and the client's per-request header copies and redirect
		// bookkeeping are not paid.
		idlePerHost := set.Pool.MaxIdleConns
		if idlePerHost == 0 {
			idlePerHost = -1 // none kept, as the h1 pool; net/http reads 0 as its default of 2
		}
		sg.http = &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: set.Pool.DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        set.Pool.MaxIdleConns,
			MaxIdleConnsPerHost: idlePerHost,
			IdleConnTimeout:     set.Pool.IdleTimeout,
			ForceAttemptHTTP2:   false,
		}
		sg.breaker = newBreaker(set.Breaker, time.Now, func(from, to BreakerState) {
			c.logger.Warn("circuit breaker", "subgraph", name, "from", from.String(), "to", to.String())
		})
		if set.Bulkhead.MaxConcurrent > 0 {
			sg.bulkhead = make(chan struct{}, set.Bulkhead.MaxConcurrent)
		}
		c.metrics.ObserveBreaker(name, func() int64 { return int64(sg.breaker.State()) })
		c.subgraphs[name] = sg
		if set.HealthCheck.Enabled {
			c.checks.Add(1)
			go func() {
				defer c.checks.Done()
				c.healthLoop(ctx, sg)
			}()
		}
	}
	return c
}

// Close stops the health checks and releases idle connections.
func (c *Client) Close() {
	c.stop()
	c.checks.Wait()
	for _, sg := range c.subgraphs {
		sg.http.CloseIdleConnections()
		if sg.pool != nil {
			sg.pool.Close()
		}
	}
}

// URL returns the URL requests to subgraph name go to, "" for an unknown
// name.
func (c *Client) URL(name string) string {
	if sg, ok := c.subgraphs[name]; ok {
		return sg.url
	}
	return ""
}

// Fetch posts req to the named subgraph, retrying a failed query as the
// subgraph's settings allow.
func (c *Client) Fetch(ctx context.Context, name string, req *executor.Request) (*executor.Response, error) {
	sg, ok := c.subgraphs[name]
	if !ok {
		return nil, &executor.FetchError{Code: CodeHTTPError, Message: fmt.Sprintf("no URL for subgraph %q", name)}
	}
	start := time.Now()
	ctx, span := c.startSpan(ctx, telemetry.SpanFetch, false)
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(attribute.String("subgraph.name", name))
	}
	sg.budget.Request()
	attempt := 0
	var resp *executor.Response
	var ferr *executor.FetchError
	for {
		attempt++
		prev := ferr
		var retriable bool
		resp, ferr, retriable = c.attempt(ctx, sg, req, attempt)
		if prev != nil && ferr != nil && (ferr.Code == CodeCircuitOpen || ferr.Code == CodeBulkheadFull) {
			// The retry was not sent: report what the subgraph did.
			attempt--
			ferr = prev
			break
		}
		if ferr == nil || req.Mutation || req.Stream != nil || !retriable || attempt >= sg.set.Retry.Attempts || ctx.Err() != nil {
			break
		}
		if !sg.budget.Withdraw() {
			break
		}
		c.metrics.SubgraphRetry(ctx, name)
		t := time.NewTimer(backoff(sg.set.Retry, attempt))
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	code := ""
	failure := ferr
	if ferr != nil {
		code = ferr.Code
	} else if !looksLikeJSONObject(resp.Body) {
		// Answered, but not with JSON: the executor reports it to the
		// client; the cause is logged here, where the answer's head is.
		failure = malformed(resp)
	}
	if span.IsRecording() {
		if ferr != nil {
			span.SetStatus(codes.Error, ferr.Message)
			span.SetAttributes(attribute.String("fetch.error_code", code))
		}
		span.SetAttributes(attribute.Int("fetch.attempts", attempt))
	}
	timing := telemetry.FetchTiming{Subgraph: name, Duration: time.Since(start), Code: code, Attempts: attempt}
	if failure != nil {
		timing.Code = failure.Code
		timing.Failure = &telemetry.FetchFailure{FetchID: req.FetchID, Path: req.Path, Error: failure.Cause}
		c.logFailure(ctx, sg, timing)
	}
	telemetry.RequestInfoFrom(ctx).AddFetch(timing)
	if ferr != nil {
		return nil, ferr
	}
	return resp, nil
}

// CodeMalformedResponse is the error code of an answer that is not a
// JSON object.
const CodeMalformedResponse = "SUBREQUEST_MALFORMED_RESPONSE"

// malformed describes an answer that is not a JSON object, for the log:
// its size, content type and first bytes.
func malformed(resp *executor.Response) *executor.FetchError {
	ct := ""
	if h := resp.Headers(); h != nil {
		ct = h.Get("Content-Type")
	}
	start := resp.Body[:min(len(resp.Body), 32)]
	return &executor.FetchError{Code: CodeMalformedResponse, Message: "invalid JSON response",
		Cause: fmt.Sprintf("the answer is not a JSON object: %d bytes, Content-Type %q, starting %q", len(resp.Body), ct, start)}
}

// attempt sends one request. It returns the answer, or the error and
// whether a retry may help.
func (c *Client) attempt(ctx context.Context, sg *subgraph, req *executor.Request, attempt int) (*executor.Response, *executor.FetchError, bool) {
	if !sg.acquire(ctx) {
		c.metrics.SubgraphRequest(ctx, sg.name, CodeBulkheadFull, 0)
		return nil, &executor.FetchError{Code: CodeBulkheadFull, Message: fmt.Sprintf("too many requests in flight to subgraph '%s'", sg.name),
			Cause: fmt.Sprintf("bulkhead full: %d requests in flight to %s, none finished within bulkhead.max_wait (%v)", cap(sg.bulkhead), sg.shown, sg.set.Bulkhead.MaxWait)}, false
	}
	defer sg.release()
	if !sg.breaker.Allow() {
		c.metrics.SubgraphRequest(ctx, sg.name, CodeCircuitOpen, 0)
		return nil, &executor.FetchError{Code: CodeCircuitOpen, Message: fmt.Sprintf("circuit breaker for subgraph '%s' is open", sg.name),
			Cause: fmt.Sprintf("circuit breaker open: %s failed too often (subgraphs breaker settings); not called until the breaker lets a request through", sg.shown)}, false
	}
	start := time.Now()
	// The attempt's timeout (sg.set.Timeout) is applied by post and
	// stream: the connection pool takes it as a deadline of its own,
	// without a timer context per attempt.
	actx, span := c.startSpan(ctx, telemetry.SpanAttempt, true)
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(attribute.String("subgraph.name", sg.name), attribute.Int("fetch.attempt", attempt))
	}
	resp, ferr, ok, retriable := c.send(ctx, actx, sg, req, span)
	switch {
	case ok:
		sg.breaker.Record(true)
	case ctx.Err() != nil || ferr == errAnswerBudget:
		// The client request ended (deadline or gone), or the gateway's
		// answer budget refused: not the subgraph's fault, so not the
		// breaker's business.
		sg.breaker.Cancel()
	default:
		sg.breaker.Record(false)
	}
	code := ""
	if ferr != nil {
		code = ferr.Code
		if span.IsRecording() {
			span.SetStatus(codes.Error, ferr.Message)
		}
	}
	c.metrics.SubgraphRequest(ctx, sg.name, code, time.Since(start))
	return resp, ferr, retriable
}

// send does the HTTP exchange of one attempt. ok says whether the
// subgraph behaved (a JSON answer in time); an answer may be returned
// with ok false (a 200 whose body is not JSON: the executor reports it).
func (c *Client) send(ctx, actx context.Context, sg *subgraph, req *executor.Request, span trace.Span) (resp *executor.Response, ferr *executor.FetchError, ok, retriable bool) {
	if sg.uerr != nil {
		// The message goes to every client: the gateway's words only;
		// the cause names the URL as logs do (shownURL).
		return nil, &executor.FetchError{Code: CodeHTTPError, Message: "the subgraph's URL is not usable", Cause: sg.uerr.Error()}, false, false
	}
	// A request sent through the pool (package h1) is written before Post
	// returns and its header is not kept, so the map is reused; a
	// streamed one goes to net/http, which may read it after RoundTrip
	// returns, so it gets its own.
	var h http.Header
	if req.Stream == nil {
		h = c.header()
		defer c.putHeader(h)
	} else {
		h = make(http.Header, len(req.Header)+4)
	}
	for k, v := range req.Header {
		h[k] = v
	}
	// Shared values, set without canonicalizing or allocating; nothing
	// modifies a request's header values once it is sent.
	h["Content-Type"] = jsonContentType
	if req.Stream != nil {
		h["Content-Type"] = []string{req.ContentType}
	}
	h["Accept"] = graphQLAccept
	if ri := telemetry.RequestInfoFrom(ctx); ri != nil && len(ri.IDHeader) > 0 {
		h[telemetry.RequestIDHeader] = ri.IDHeader
	}
	if c.propagate {
		telemetry.Propagator.Inject(actx, propagation.HeaderCarrier(h))
	}
	ans := c.bufs.Get().(*answer)
	buf := &ans.buf
	buf.Reset()
	release := ans.release
	var r h1.Response
	if req.Stream == nil {
		r, ferr, retriable = c.post(actx, sg, req, h, buf)
	} else {
		r, ferr, retriable = c.stream(actx, sg, req, h, buf)
	}
	ans.held = r.Held
	if ferr != nil {
		release()
		return nil, ferr, false, retriable
	}
	if span.IsRecording() {
		span.SetAttributes(attribute.Int("http.response.status_code", r.StatusCode))
	}
	if status := r.StatusCode; status/100 != 2 && !isGraphQLResponse(r.Get("Content-Type")) {
		release()
		ferr := &executor.FetchError{Code: CodeHTTPError, Message: fmt.Sprintf("%d: %s", status, http.StatusText(status)),
			Cause: fmt.Sprintf("%s answered status %d (Content-Type %q)", sg.shown, status, r.Get("Content-Type"))}
		// A 4xx is the gateway's request at fault, not the subgraph.
		return nil, ferr, status < 500, status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout
	}
	cc, vary := r.Combined2("Cache-Control", "Vary")
	if vary != "" {
		cc = varyCacheControl(cc, vary, h, c.keyed, c.identity)
	}
	return &executor.Response{Body: buf.Bytes(), Release: release, CacheControl: cc, Header: r.Header, HeaderLines: r.Lines},
		nil, looksLikeJSONObject(buf.Bytes()), false
}

// answer is a pooled buffer for a subgraph's answer, with its release
// function made once (a closure per fetch would allocate).
type answer struct {
	buf     bytes.Buffer
	pool    *sync.Pool
	release func()
	// held is what buf's bytes took from budget, given back by put.
	held   int64
	budget *answerBudget
}

// answerBudget is Config.MaxAnswerBytes: the bytes of large answers read
// and held at once. A subgraph that answers hundreds of megabytes (a
// broken one returning a whole table, a hostile one) had each answer up
// to max_response_bytes read at once by every request asking for it: 40
// clients asking for such an answer held 1.1-1.4 GB of the gateway's
// memory (TestHostileSubgraph in make attack).
type answerBudget struct{ left atomic.Int64 }

// Take takes n bytes if they are left.
func (b *answerBudget) Take(n int64) bool {
	if b.left.Add(-n) < 0 {
		b.left.Add(n)
		return false
	}
	return true
}

// Give gives back n bytes.
func (b *answerBudget) Give(n int64) { b.left.Add(n) }

// maxPooledAnswer bounds the capacity of an answer buffer kept for reuse:
// a huge answer's buffer is left to the collector rather than pinned in
// the pool.
const maxPooledAnswer = 256 << 10

// put returns a to its pool, unless its buffer grew past maxPooledAnswer.
func (a *answer) put() {
	if a.held > 0 {
		a.budget.Give(a.held)
		a.held = 0
	}
	if a.buf.Cap() > maxPooledAnswer {
		a.buf = bytes.Buffer{}
	}
	a.pool.Put(a)
}

// maxPooledHeader bounds the entries of a request header map kept for
// reuse: a map grown by a request forwarding many headers is dropped.
const maxPooledHeader = 16

// header returns an empty header map for a request sent through the pool.
func (c *Client) header() http.Header {
	if h, ok := c.headers.Get().(http.Header); ok {
		return h
	}
	return make(http.Header, 8)
}

// putHeader empties h and keeps it for another request, unless it grew
// past maxPooledHeader entries.
func (c *Client) putHeader(h http.Header) {
	if len(h) > maxPooledHeader {
		return
	}
	clear(h)
	c.headers.Put(h)
}

// errAnswerBudget is the gateway's own limit, not the subgraph's failure:
// it is not retried, and the breaker does not count it.
var errAnswerBudget = &executor.FetchError{Code: CodeHTTPError, Message: "too many large subgraph answers are being read at once; retry later",
	Cause: "subgraphs.max_answer_bytes is spent by the large answers being read at once"}

// post sends a request whose body is in memory through the subgraph's
// connection pool (package h1) and reads the answer's body into buf.
func (c *Client) post(actx context.Context, sg *subgraph, req *executor.Request, h http.Header, buf *bytes.Buffer) (h1.Response, *executor.FetchError, bool) {
	var r h1.Response
	var err error
	if req.Mutation || sg.set.Retry.Attempts < 2 {
		// Sent once, on a connection checked first: a mutation, or a
		// query when retries are off (the second sending of
		// PostIdempotent is a retry: the subgraph may have run the
		// first).
		r, err = sg.pool.Post(actx, sg.set.Timeout, h, req.Body, buf, sg.set.MaxResponseBytes)
	} else {
		r, err = sg.pool.PostIdempotent(actx, sg.set.Timeout, h, req.Body, buf, sg.set.MaxResponseBytes)
	}
	switch {
	case err == nil:
		return r, nil, false
	case errors.Is(err, h1.ErrTooLarge):
		return h1.Response{}, tooLarge(sg), false
	case errors.Is(err, h1.ErrAnswerBudget):
		return h1.Response{}, errAnswerBudget, false
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(actx.Err(), context.DeadlineExceeded):
		return h1.Response{}, timedOut(actx, sg, err), false
	case r.StatusCode != 0:
		// The answer's head was read, its body was not.
		return h1.Response{}, failed("reading the response failed", sg, err), true
	}
	return h1.Response{}, failed("request failed", sg, err), true
}

// The failures of an exchange, as the executor reports them: a message
// in the gateway's words for the client, and the cause for the log
// (FetchError.Cause), which may name the subgraph's address.

// failed is a transport failure described by msg, caused by err.
func failed(msg string, sg *subgraph, err error) *executor.FetchError {
	return &executor.FetchError{Code: CodeHTTPError, Message: msg, Cause: fmt.Sprintf("POST %s: %v", sg.shown, err)}
}

// timedOut is an attempt past its deadline: the subgraph's timeout, or
// the client request's own deadline (server.request_timeout).
func timedOut(actx context.Context, sg *subgraph, err error) *executor.FetchError {
	cause := fmt.Sprintf("POST %s: no answer within the timeout of %v", sg.shown, sg.set.Timeout)
	if d, ok := actx.Deadline(); ok && time.Until(d) > 0 && err != nil && !errors.Is(err, context.DeadlineExceeded) {
		cause = fmt.Sprintf("POST %s: %v", sg.shown, err)
	}
	return &executor.FetchError{Code: CodeTimeout, Message: "timed out", Cause: cause}
}

// tooLarge is an answer over the subgraph's max_response_bytes.
func tooLarge(sg *subgraph) *executor.FetchError {
	return &executor.FetchError{Code: CodeHTTPError, Message: "response body too large",
		Cause: fmt.Sprintf("%s answered more than max_response_bytes (%d bytes)", sg.shown, sg.set.MaxResponseBytes)}
}

// stream sends a request whose body is streamed (a file upload) with
// net/http, which reads the answer while the body is still being sent,
// and reads the answer's body into buf.
func (c *Client) stream(actx context.Context, sg *subgraph, req *executor.Request, h http.Header, buf *bytes.Buffer) (h1.Response, *executor.FetchError, bool) {
	actx, cancel := context.WithTimeout(actx, sg.set.Timeout)
	defer cancel()
	hr := (&http.Request{Method: http.MethodPost, URL: sg.u, Host: sg.u.Host,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: h}).WithContext(actx)
	hr.Body = io.NopCloser(req.Stream) // unknown length: sent chunked
	hresp, err := sg.http.RoundTrip(hr)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(actx.Err(), context.DeadlineExceeded) {
			return h1.Response{}, timedOut(actx, sg, err), false
		}
		return h1.Response{}, failed("request failed", sg, err), true
	}
	defer hresp.Body.Close()
	if hresp.ContentLength > sg.set.MaxResponseBytes {
		return h1.Response{}, tooLarge(sg), false
	}
	if hresp.ContentLength > 0 {
		buf.Grow(int(min(hresp.ContentLength, preGrowMax)) + bytes.MinRead)
	}
	// The answer is read under max_answer_bytes as the pool's are:
	// before, an upload's answer could grow to max_response_bytes (and
	// twice that in buffer capacity) for every upload at once, outside
	// the budget every other answer shares.
	var body io.Reader = io.LimitReader(hresp.Body, sg.set.MaxResponseBytes+1)
	var held *h1.HeldReader
	if c.answers != nil {
		held = &h1.HeldReader{R: body, Budget: c.answers, Free: h1.FreeAnswerBytes}
		body = held
	}
	_, err = buf.ReadFrom(body)
	r := h1.Response{StatusCode: hresp.StatusCode, Header: hresp.Header}
	if held != nil {
		r.Held = held.Taken
	}
	if err == nil && int64(buf.Len()) > sg.set.MaxResponseBytes {
		err = h1.ErrTooLarge
	}
	if err != nil {
		if r.Held > 0 {
			c.answers.Give(r.Held)
		}
		switch {
		case errors.Is(err, h1.ErrTooLarge):
			return h1.Response{}, tooLarge(sg), false
		case errors.Is(err, h1.ErrAnswerBudget):
			return h1.Response{}, errAnswerBudget, false
		case errors.Is(actx.Err(), context.DeadlineExceeded):
			return h1.Response{}, timedOut(actx, sg, err), false
		}
		return h1.Response{}, failed("reading the response failed", sg, err), true
	}
	return r, nil, false
}

// parseURL parses a subgraph URL as http.NewRequest would.
// Its errors name the URL as shownURL does (a routing URL may carry a
// key in its query or user information).
func parseURL(s string) (*neturl.URL, error) {
	u, err := neturl.Parse(s)
	if err != nil {
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which it quotes whole
		}
		return nil, fmt.Errorf("subgraph URL %q: %w", shownURL(s), err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("subgraph URL %q: want http:// or https:// and a host", shownURL(s))
	}
	return u, nil
}

// preGrowMax bounds the buffer reserved for an answer on the strength of
// its Content-Length before any of it arrives.
const preGrowMax = 1 << 20

// The header values of every subgraph request.
var (
	jsonContentType = []string{"application/json"}
	graphQLAccept   = []string{"application/graphql-response+json, application/json"}
)

// clientKind is made once: building the option allocates.
var clientKind = trace.WithSpanKind(trace.SpanKindClient)

// startSpan starts a span under the one in ctx; when that one records
// nothing (no exporter, or not sampled) neither would this one, so it
// returns ctx unchanged and the non-recording parent, at no cost.
func (c *Client) startSpan(ctx context.Context, name string, client bool) (context.Context, trace.Span) {
	if parent := trace.SpanFromContext(ctx); !parent.IsRecording() {
		return ctx, parent
	}
	if client {
		return c.tracer.Start(ctx, name, clientKind)
	}
	return c.tracer.Start(ctx, name)
}

// acquire takes a bulkhead slot, waiting up to MaxWait.
func (sg *subgraph) acquire(ctx context.Context) bool {
	if sg.bulkhead == nil {
		return true
	}
	select {
	case sg.bulkhead <- struct{}{}:
		return true
	default:
	}
	if sg.set.Bulkhead.MaxWait <= 0 {
		return false
	}
	t := time.NewTimer(sg.set.Bulkhead.MaxWait)
	defer t.Stop()
	select {
	case sg.bulkhead <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

func (sg *subgraph) release() {
	if sg.bulkhead != nil {
		<-sg.bulkhead
	}
}

// looksLikeJSONObject is a cheap check that a body is a JSON object
// (starts with { and ends with }), which catches HTML error pages and
// truncated answers; the executor parses it for real.
func looksLikeJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) >= 2 && b[0] == '{' && b[len(b)-1] == '}'
}

// isGraphQLResponse reports whether the Content-Type ct is the GraphQL
// response media type.
func isGraphQLResponse(ct string) bool {
	return len(ct) >= len("application/graphql-response+json") && ct[:len("application/graphql-response+json")] == "application/graphql-response+json"
}

// shownURL is raw without user information, query and fragment, for logs
// and failure causes; when it does not parse, raw cut at its query or
// fragment and without what comes before an '@' in its authority.
func shownURL(raw string) string {
	u, err := neturl.Parse(raw)
	if err != nil {
		if i := strings.IndexAny(raw, "?#"); i >= 0 {
			raw = raw[:i]
		}
		if _, rest, ok := strings.Cut(raw, "//"); ok {
			authority, _, _ := strings.Cut(rest, "/")
			if at := strings.LastIndexByte(authority, '@'); at >= 0 {
				raw = raw[:len(raw)-len(rest)] + rest[at+1:]
			}
		}
		return raw
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}
