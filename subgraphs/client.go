package subgraphs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/fedgate/gateway/executor"
)

// Options configure a Client.
type Options struct {
	// Timeout bounds one subgraph request; 0 means 30s.
	Timeout time.Duration
	// MaxResponseBytes bounds a response body; 0 means 64 MiB.
	MaxResponseBytes int64
	// MaxIdleConnsPerHost sizes the connection pool; 0 means 256.
	MaxIdleConnsPerHost int
}

// Client sends GraphQL requests to subgraphs over HTTP. It satisfies
// executor.Transport.
type Client struct {
	urls map[string]string
	http *http.Client
	opts Options
	bufs sync.Pool
}

// NewClient returns a client for the subgraphs named in urls (name -> URL).
func NewClient(urls map[string]string, opts Options) *Client {
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.MaxResponseBytes == 0 {
		opts.MaxResponseBytes = 64 << 20
	}
	if opts.MaxIdleConnsPerHost == 0 {
		opts.MaxIdleConnsPerHost = 256
	}
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        opts.MaxIdleConnsPerHost * 4,
		MaxIdleConnsPerHost: opts.MaxIdleConnsPerHost,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   false,
	}
	return &Client{urls: urls, http: &http.Client{Transport: tr}, opts: opts,
		bufs: sync.Pool{New: func() any { return new(bytes.Buffer) }}}
}

// Close releases idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Fetch posts req to the named subgraph.
func (c *Client) Fetch(ctx context.Context, subgraph string, req *executor.Request) (*executor.Response, error) {
	url, ok := c.urls[subgraph]
	if !ok {
		return nil, &executor.FetchError{Code: "SUBREQUEST_HTTP_ERROR", Message: fmt.Sprintf("no URL for subgraph %q", subgraph)}
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(req.Body))
	if err != nil {
		return nil, &executor.FetchError{Code: "SUBREQUEST_HTTP_ERROR", Message: err.Error()}
	}
	for k, v := range req.Header {
		hr.Header[k] = v
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/graphql-response+json, application/json")
	resp, err := c.http.Do(hr)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, &executor.FetchError{Code: "SUBREQUEST_TIMEOUT", Message: "timed out"}
		}
		return nil, &executor.FetchError{Code: "SUBREQUEST_HTTP_ERROR", Message: "request failed"}
	}
	defer resp.Body.Close()
	buf := c.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	_, err = buf.ReadFrom(io.LimitReader(resp.Body, c.opts.MaxResponseBytes+1))
	release := func() { c.bufs.Put(buf) }
	if err != nil {
		release()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, &executor.FetchError{Code: "SUBREQUEST_TIMEOUT", Message: "timed out"}
		}
		return nil, &executor.FetchError{Code: "SUBREQUEST_HTTP_ERROR", Message: "reading the response failed"}
	}
	if int64(buf.Len()) > c.opts.MaxResponseBytes {
		release()
		return nil, &executor.FetchError{Code: "SUBREQUEST_HTTP_ERROR", Message: "response body too large"}
	}
	if resp.StatusCode/100 != 2 && !isGraphQLResponse(resp) {
		release()
		return nil, &executor.FetchError{Code: "SUBREQUEST_HTTP_ERROR", Message: fmt.Sprintf("%d: %s", resp.StatusCode, http.StatusText(resp.StatusCode))}
	}
	return &executor.Response{Body: buf.Bytes(), Release: release, CacheControl: resp.Header.Get("Cache-Control")}, nil
}

func isGraphQLResponse(resp *http.Response) bool {
	ct := resp.Header.Get("Content-Type")
	return len(ct) >= len("application/graphql-response+json") && ct[:len("application/graphql-response+json")] == "application/graphql-response+json"
}
