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
	set(&h.SubgraphRequest, c.cfg.Subgraph.All.Request)
	set(&h.SubgraphResponse, c.cfg.Subgraph.All.Response)
	return h
}

// message is the protocol's JSON, in both directions.
type message struct {
	Version     int                 `json:"version"`
	Stage       string              `json:"stage"`
	Control     json.RawMessage     `json:"control"`
	ID          string              `json:"id"`
	Headers     map[string][]string `json:"headers,omitempty"`
	Body        json.RawMessage     `json:"body,omitempty"`
	Context     *contextEntries     `json:"context,omitempty"`
	Method      string              `json:"method,omitempty"`
	Path        string              `json:"path,omitempty"`
	ServiceName string              `json:"serviceName,omitempty"`
	StatusCode  int                 `json:"statusCode,omitempty"`
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
		out.Headers = make(map[string][]string, len(call.Header))
		for k, v := range call.Header {
			out.Headers[strings.ToLower(k)] = v
		}
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
	if status, ok := breakStatus(in.Control); ok {
		return breakOf(status, in.Body)
	} else if len(in.Control) > 0 && string(in.Control) != `"continue"` {
		return fmt.Errorf("unknown control %s", clip(in.Control))
	}
	if in.Headers != nil && call.Header != nil {
		for k := range call.Header {
			delete(call.Header, k)
		}
		for k, v := range in.Headers {
			call.Header[http.CanonicalHeaderKey(k)] = v
		}
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
