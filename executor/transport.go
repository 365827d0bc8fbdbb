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
}

// Response is a subgraph's raw answer. With Release set, the body is the
// executor's until it calls Release, once, when the execution ends: it
// parses the body in place (decoding escapes changes it), and nothing
// else may use the buffer meanwhile. A Response without Release may be
// shared (one answer to several identical fetches): its body is copied,
// never changed.
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
}

func (e *FetchError) Error() string { return e.Message }
