package wsclient

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"
)

// The second transport to subgraphs: GraphQL over SSE (graphql-sse,
// distinct connections mode). Each upstream stream is one HTTP request;
// identical subscriptions still share it. Subgraphs get it when
// Options.SSE says so.

// sseRun keeps the stream s open over SSE at url until it has no
// listener: a broken or refused request is retried with backoff for
// RetryFor, like a WebSocket connection.
func (c *Client) sseRun(ctx context.Context, s *stream, url string, header http.Header) {
	opts := &c.opts
	backoff := opts.Backoff
	var failingSince time.Time
	for {
		served, err := c.sseSession(ctx, s, url, header)
		if ctx.Err() != nil || err == nil {
			return // left by its last listener, or completed by the subgraph
		}
		var se *StreamError
		if errors.As(err, &se) && se.Errors != nil {
			c.endStream(s, err) // the subgraph refused it: no retry
			return
		}
		if served {
			failingSince, backoff = time.Time{}, opts.Backoff
		}
		if failingSince.IsZero() {
			failingSince = time.Now()
		}
		if opts.RetryFor < 0 || time.Since(failingSince) > opts.RetryFor {
			c.endStream(s, &StreamError{Subgraph: s.subgraph, Err: err})
			return
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		backoff = min(2*backoff, opts.MaxBackoff)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return
		}
	}
}

// sseSession runs one request: served reports whether the subgraph
// answered with an event stream; a nil error means it completed.
func (c *Client) sseSession(ctx context.Context, s *stream, url string, header http.Header) (bool, error) {
	c.Stats.Dials.Add(1)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(s.subscribe))
	if err != nil {
		return false, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.http.Do(req)
	if err != nil {
		return false, fmt.Errorf("POST %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.HasPrefix([]byte(resp.Header.Get("Content-Type")), []byte("text/event-stream")) {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if errs := responseErrors(body); errs != nil {
			return false, &StreamError{Subgraph: s.subgraph, Errors: errs, Err: fmt.Errorf("HTTP %d", resp.StatusCode)}
		}
		return false, fmt.Errorf("POST %s: HTTP %d, not an event stream", url, resp.StatusCode)
	}
	c.Stats.Conns.Add(1)
	defer c.Stats.Conns.Add(-1)
	r := bufio.NewReaderSize(resp.Body, 4096)
	var event string
	var data []byte
	for {
		line, err := readLine(r, c.opts.ReadLimit)
		if err != nil {
			return true, fmt.Errorf("event stream from %s: %w", s.subgraph, err)
		}
		switch {
		case len(line) == 0: // end of an event
			switch event {
			case "next":
				c.Stats.Events.Add(1)
				for _, l := range c.listeners(s) {
					l.l.Next(append([]byte(nil), data...))
				}
			case "complete":
				c.endStream(s, nil)
				return true, nil
			}
			event, data = "", data[:0]
		case line[0] == ':': // comment (keep-alive)
		case bytes.HasPrefix(line, []byte("event:")):
			event = string(bytes.TrimSpace(line[len("event:"):]))
		case bytes.HasPrefix(line, []byte("data:")):
			data = append(data, bytes.TrimPrefix(line[len("data:"):], []byte(" "))...)
		}
	}
}

// readLine reads one line without its end, failing past limit bytes.
func readLine(r *bufio.Reader, limit int64) ([]byte, error) {
	var line []byte
	for {
		part, isPrefix, err := r.ReadLine()
		if err != nil {
			return nil, err
		}
		line = append(line, part...)
		if int64(len(line)) > limit {
			return nil, errors.New("line too long")
		}
		if !isPrefix {
			return line, nil
		}
	}
}

// responseErrors is the errors list of a GraphQL response body, or nil.
func responseErrors(body []byte) []byte {
	var r struct {
		Errors json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &r) != nil || len(r.Errors) == 0 {
		return nil
	}
	return r.Errors
}
