// Package coprocessor sends the stages of requests to an external HTTP
// service speaking Apollo Router's coprocessor protocol (version 1, JSON
// over HTTP), which may rewrite headers and context or stop the request
// with a status. It runs as compiled-in hooks (pkg/hooks), at the same
// stages.
package coprocessor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fedgate/gateway/pkg/hooks"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// maxAnswerBytes bounds a coprocessor's answer.
const maxAnswerBytes = 4 << 20

// Coprocessor is a configured coprocessor client.
type Coprocessor struct {
	cfg    Config
	opts   Options
	client *http.Client
	// Stats count exchanges by outcome, for metrics.
	Stats Stats
}

// Stats are counts of exchanges.
type Stats struct {
	Exchanges, Breaks, Failures atomic.Int64
}

// Options observe the exchanges.
type Options struct {
	// Tracer, when set, records a "coprocessor" span per exchange under a
	// recording parent.
	Tracer trace.Tracer
	// Observe, when set, is called after each exchange with its stage,
	// outcome ("continue", "break" or "failed") and latency.
	Observe func(ctx context.Context, stage, outcome string, d time.Duration)
}

// New returns the coprocessor of cfg, nil when cfg.URL is empty.
func New(cfg Config, opts Options) (*Coprocessor, error) {
	if cfg.URL == "" {
		return nil, nil
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	idle := cfg.MaxIdleConns
	if idle <= 0 {
		idle = 64
	}
	tr := &http.Transport{MaxIdleConns: idle, MaxIdleConnsPerHost: idle, IdleConnTimeout: 90 * time.Second, ForceAttemptHTTP2: false}
	return &Coprocessor{cfg: cfg, opts: opts, client: &http.Client{Transport: tr}}, nil
}

// Close closes the idle pooled connections.
func (c *Coprocessor) Close() {
	if c != nil {
		c.client.CloseIdleConnections()
	}
}

// Hooks returns the hooks that run the configured stages.
func (c *Coprocessor) Hooks() hooks.Hooks {
	var h hooks.Hooks
	if c == nil {
		return h
	}
	set := func(f *hooks.Func, s *Selection) {
		if s != nil {
			sel := *s
			*f = func(ctx context.Context, call *hooks.Call) error { return c.exchange(ctx, call, &sel) }
		}
	}
	set(&h.RouterRequest, c.cfg.Router.Request)
	set(&h.RouterResponse, c.cfg.Router.Response)
	set(&h.SupergraphRequest, c.cfg.Supergraph.Request)
	set(&h.SupergraphResponse, c.cfg.Supergraph.Response)
	set(&h.ExecutionRequest, c.cfg.Execution.Request)
	set(&h.ExecutionResponse, c.cfg.Execution.Response)
	// The Subgraph stages choose their selection by subgraph.
	sub := c.cfg.Subgraph
	pick := func(resp bool) hooks.Func {
		some := false
		for _, st := range append([]Stages{sub.All}, values(sub.Subgraphs)...) {
			some = some || (!resp && st.Request != nil) || (resp && st.Response != nil)
		}
		if !some {
			return nil
		}
		return func(ctx context.Context, call *hooks.Call) error {
			st := sub.For(call.Subgraph)
			sel := st.Request
			if resp {
				sel = st.Response
			}
			if sel == nil {
				return nil
			}
			return c.exchange(ctx, call, sel)
		}
	}
	h.SubgraphRequest, h.SubgraphResponse = pick(false), pick(true)
	// The gateway builds the bodies of the stages that send one.
	for st, sels := range map[hooks.Stage][]*Selection{
		hooks.RouterRequest: {c.cfg.Router.Request}, hooks.RouterResponse: {c.cfg.Router.Response},
		hooks.SupergraphRequest: {c.cfg.Supergraph.Request}, hooks.SupergraphResponse: {c.cfg.Supergraph.Response},
		hooks.ExecutionRequest: {c.cfg.Execution.Request}, hooks.ExecutionResponse: {c.cfg.Execution.Response},
		hooks.SubgraphRequest: subgraphSelections(sub, false), hooks.SubgraphResponse: subgraphSelections(sub, true),
	} {
		for _, sel := range sels {
			if sel != nil && sel.Body {
				h.Bodies = append(h.Bodies, st)
				break
			}
		}
	}
	return h
}

func values(m map[string]Stages) []Stages {
	out := make([]Stages, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// subgraphSelections are the request (or response) selections of every
// subgraph entry.
func subgraphSelections(sub SubgraphStages, resp bool) []*Selection {
	var out []*Selection
	for _, st := range append([]Stages{sub.All}, values(sub.Subgraphs)...) {
		if resp {
			out = append(out, st.Response)
		} else {
			out = append(out, st.Request)
		}
	}
	return out
}

// message is the protocol's JSON, in both directions.
type message struct {
	Version int             `json:"version"`
	Stage   string          `json:"stage"`
	Control json.RawMessage `json:"control"`
	ID      string          `json:"id"`
	// Headers is a pointer so that selected but empty headers go out
	// as {} (and an answer without them is told from one with none).
	Headers     *map[string][]string `json:"headers,omitempty"`
	Body        json.RawMessage      `json:"body,omitempty"`
	Context     *contextEntries      `json:"context,omitempty"`
	Method      string               `json:"method,omitempty"`
	Path        string               `json:"path,omitempty"`
	ServiceName string               `json:"serviceName,omitempty"`
	StatusCode  int                  `json:"statusCode,omitempty"`
	SDL         string               `json:"sdl,omitempty"`
	URI         string               `json:"uri,omitempty"`
	// SubgraphRequestID must come back unchanged when it is answered.
	SubgraphRequestID string `json:"subgraphRequestId,omitempty"`
}

type contextEntries struct {
	Entries map[string]any `json:"entries"`
}

// errFailed marks a failed exchange (the failure policy decides).
var errFailed = errors.New("coprocessor exchange failed")

func (c *Coprocessor) exchange(ctx context.Context, call *hooks.Call, sel *Selection) error {
	c.Stats.Exchanges.Add(1)
	var span trace.Span
	if c.opts.Tracer != nil && trace.SpanFromContext(ctx).IsRecording() {
		ctx, span = c.opts.Tracer.Start(ctx, "coprocessor", trace.WithAttributes(attribute.String("coprocessor.stage", string(call.Stage))))
	}
	start := time.Now()
	err := c.do(ctx, call, sel)
	outcome := "continue"
	var b *hooks.Break
	switch {
	case err == nil:
	case errors.As(err, &b):
		outcome = "break"
	default:
		outcome = "failed"
	}
	if span != nil {
		span.SetAttributes(attribute.String("coprocessor.outcome", outcome))
		if outcome == "failed" {
			span.SetStatus(codes.Error, "coprocessor exchange failed")
		}
		span.End()
	}
	if c.opts.Observe != nil {
		c.opts.Observe(ctx, string(call.Stage), outcome, time.Since(start))
	}
	switch outcome {
	case "continue":
		return nil
	case "break":
		c.Stats.Breaks.Add(1)
		return err
	}
	c.Stats.Failures.Add(1)
	slog.Warn("coprocessor", "stage", call.Stage, "err", err, "fail_open", c.cfg.FailOpen)
	if c.cfg.FailOpen {
		return nil
	}
	return fmt.Errorf("%w at %s: %w", errFailed, call.Stage, err)
}

func (c *Coprocessor) do(ctx context.Context, call *hooks.Call, sel *Selection) error {
	out := message{Version: 1, Stage: string(call.Stage), Control: json.RawMessage(`"continue"`), ID: call.ID}
	if sel.Headers {
		// Header names go out in lower case, as Apollo Router sends them.
		hs := make(map[string][]string, len(call.Header))
		for k, v := range call.Header {
			hs[strings.ToLower(k)] = v
		}
		out.Headers = &hs
	}
	if sel.Context {
		out.Context = &contextEntries{Entries: call.Context}
	}
	if sel.Method {
		out.Method = call.Method
	}
	if sel.Path {
		out.Path = call.Path
	}
	if sel.ServiceName {
		out.ServiceName = call.Subgraph
	}
	if sel.StatusCode {
		out.StatusCode = call.Status
	}
	if sel.SDL {
		out.SDL = call.SDL
	}
	if sel.URI {
		out.URI = call.URI
	}
	if sel.SubgraphRequestID {
		out.SubgraphRequestID = call.SubgraphRequestID
	}
	if sel.Body && call.Body != nil {
		out.Body = encodeBody(call.Stage, call.Body)
	}
	body, err := json.Marshal(&out)
	if err != nil {
		return fmt.Errorf("encoding: %w", err)
	}
	timeout := sel.Timeout
	if timeout == 0 {
		timeout = c.cfg.Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("answered HTTP %d", resp.StatusCode)
	}
	if len(raw) > maxAnswerBytes {
		return errors.New("answer too large")
	}
	var in message
	if err := json.Unmarshal(raw, &in); err != nil {
		return fmt.Errorf("malformed answer: %w", err)
	}
	if in.Version != 1 {
		return fmt.Errorf("answer of version %d, want 1", in.Version)
	}
	if in.ID != "" && in.ID != call.ID {
		return errors.New("answer for another request id")
	}
	if in.SubgraphRequestID != "" && in.SubgraphRequestID != call.SubgraphRequestID {
		return errors.New("answer for another subgraph request id")
	}
	if status, ok := breakStatus(in.Control); ok {
		return breakOf(status, in.Body)
	} else if len(in.Control) > 0 && string(in.Control) != `"continue"` {
		return fmt.Errorf("unknown control %s", clip(in.Control))
	}
	if in.Headers != nil && call.Header != nil {
		for k := range call.Header {
			delete(call.Header, k)
		}
		for k, v := range *in.Headers {
			call.Header[http.CanonicalHeaderKey(k)] = v
		}
	}
	if sel.Body && len(in.Body) > 0 && string(in.Body) != "null" {
		b, err := decodeBody(call.Stage, in.Body)
		if err != nil {
			return err
		}
		call.Body = b
	}
	// At the Subgraph stages, which run in parallel, the context is sent
	// but not replaced.
	if in.Context != nil && call.Context != nil && call.Stage != hooks.SubgraphRequest && call.Stage != hooks.SubgraphResponse {
		for k := range call.Context {
			delete(call.Context, k)
		}
		for k, v := range in.Context.Entries {
			call.Context[k] = v
		}
	}
	return nil
}

// breakStatus reads {"break": status}.
func breakStatus(control json.RawMessage) (int, bool) {
	var b struct {
		Break *int `json:"break"`
	}
	if len(control) == 0 || control[0] != '{' || json.Unmarshal(control, &b) != nil || b.Break == nil {
		return 0, false
	}
	return *b.Break, true
}

// breakOf is the Break of a coprocessor's answer: its status, and the
// first GraphQL error of its body (an object, or a string holding one).
func breakOf(status int, body json.RawMessage) *hooks.Break {
	b := &hooks.Break{Status: status, Code: "COPROCESSOR_BREAK", Message: http.StatusText(status)}
	if b.Message == "" {
		b.Message = "request stopped by the coprocessor"
	}
	var s string
	if json.Unmarshal(body, &s) == nil {
		body = json.RawMessage(s)
	}
	var gql struct {
		Errors []struct {
			Message    string `json:"message"`
			Extensions struct {
				Code string `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &gql) == nil && len(gql.Errors) > 0 {
		if m := gql.Errors[0].Message; m != "" {
			b.Message = clipString(m, 512)
		}
		if code := gql.Errors[0].Extensions.Code; code != "" {
			b.Code = clipString(code, 128)
		}
	}
	return b
}

func clip(b []byte) string { return clipString(string(b), 64) }

func clipString(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// rawBodyStage reports the Router stages, whose body travels as a JSON
// string (the raw HTTP body); the other stages send a JSON object.
func rawBodyStage(st hooks.Stage) bool {
	return st == hooks.RouterRequest || st == hooks.RouterResponse
}

// encodeBody is the protocol's body of a stage: a string at the Router
// stages, and at the others the JSON itself (as a string if it is not
// valid JSON, say a subgraph's broken answer).
func encodeBody(st hooks.Stage, body []byte) json.RawMessage {
	if !rawBodyStage(st) && json.Valid(body) {
		return body
	}
	b, _ := json.Marshal(string(body))
	return b
}

// decodeBody is the stage's body of an answer's body.
func decodeBody(st hooks.Stage, body json.RawMessage) ([]byte, error) {
	if body[0] == '"' {
		var s string
		if err := json.Unmarshal(body, &s); err != nil {
			return nil, fmt.Errorf("malformed body: %w", err)
		}
		return []byte(s), nil
	}
	if rawBodyStage(st) || body[0] == '{' {
		return body, nil
	}
	return nil, fmt.Errorf("the body of %s must be a JSON object", st)
}
