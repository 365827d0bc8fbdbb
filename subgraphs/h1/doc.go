// Package h1 posts requests to one HTTP/1.1 origin over kept-alive
// connections, each exchange (write the request, read the answer whole)
// done in the calling goroutine.
//
// net/http's Transport runs a reader and a writer goroutine per connection
// and hands every request and answer between them and the caller over
// channels: three goroutine switches per exchange, which under load cost
// more CPU than the exchange's own work on a small request. A Pool writes
// the request head and body in one system call, parses the answer's head
// in place when it is whole in the read buffer and plain (HTTP/1.1, one
// Content-Length, nothing unusual: head.go) and with http.ReadResponse
// otherwise, and returns the connection to its pool once the body is read.
// On a plain TCP connection in recent use the request is written from
// within the wait for its answer, not before a read that would find
// nothing yet (sock_unix.go). It serves the subgraph client's POSTs of
// in-memory bodies only; streamed bodies and health checks keep using
// net/http.
//
// What the Transport does for such requests, a Pool does too: a deadline
// from the context and cancellation by it, a bound on the answer's header
// bytes, no redirects followed (a 3xx is an answer like any other),
// transparent gzip when the caller did not ask for an encoding itself,
// header names and values checked before anything is sent, idle
// connections closed after a timeout, and a kept-alive connection that the
// server closed, or on which it sent anything unasked, is not reused. Post
// checks an idle connection with a non-blocking peek before reusing it;
// PostIdempotent (queries) skips the check on a connection idle for less
// than 100 ms and, as the Transport does for idempotent requests, sends
// the request again on a new connection when the reused one fails before
// any byte of an answer arrived and Options.Resend allows it.
//
// fasthttp's HostClient was measured in its place (docs/bench.md): as
// many instructions per request, and no context, no liveness check
// before reuse and the announced body length reserved up front.
package h1
