package executor

import (
	"context"
	"io"
	"net/http"

	"github.com/fedgate/gateway/internal/headlines"
)

// Transport sends one GraphQL request to a subgraph. subgraphs.Client
// satisfies it; tests use small handlers behind a real HTTP client.
type Transport interface {
	Fetch(ctx context.Context, subgraph string, req *Request) (*Response, error)
}

// Request is the body of a subgraph request plus the headers to forward.
// A Request and its Body are the executor's again once Fetch returns
// (entity fetches make the next request in their memory): a transport
// copies what it keeps.
type Request struct {
	Body   []byte
	Header http.Header
	// Mutation is true for mutations, which must never be retried.
	Mutation bool
	// Stream, when set, is sent instead of Body with Content-Type
	// ContentType: a multipart request carrying file uploads (package
	// uploads). Body stays the JSON request, for hooks to read. A
	// streamed request is never retried.
	Stream      io.Reader
	ContentType string
	// FetchID and Path name the plan's fetch this request is for (the
	// fetch's id and Flatten path, nil for a root fetch), for the
	// transport's report of a failure.
	FetchID int
	Path    []string
}

// Response is a subgraph's raw answer. Release, when set, is called once
// the body has been read.
type Response struct {
	Body    []byte
	Release func()
	// CacheControl is the subgraph's Cache-Control response header, ""
	// when it sent none; the response cache policy honours it.
	CacheControl string
	// Header is the subgraph's response headers (read only), nil when the
	// answer was shared with another request's fetch, or when the
	// transport left them as HeaderLines: read them with Headers.
	Header http.Header
	// HeaderLines is the answer's header lines as received, when the
	// transport did not make them a map (most answers are read for their
	// body alone).
	HeaderLines headlines.Lines
}

// Headers returns the subgraph's response headers (read only; nil when
// there are none to tell), made from HeaderLines on the first call and
// kept in Header. Not for concurrent use: the transports around the
// fetch read them one after the other.
func (r *Response) Headers() http.Header {
	if r.Header == nil && r.HeaderLines != "" {
		r.Header = r.HeaderLines.Header()
	}
	return r.Header
}

// FetchError is a transport failure with the GraphQL error code to report
// (SUBREQUEST_HTTP_ERROR, SUBREQUEST_TIMEOUT, ...).
type FetchError struct {
	Code    string
	Message string
	// Cause is what went wrong in the transport's own words (a dial
	// error, a status, a deadline), for the gateway's log. It may name
	// internal hosts and addresses: a client sees it only from a
	// subgraph whose errors are included (Input.RedactErrors false).
	Cause string
}

func (e *FetchError) Error() string { return e.Message }
