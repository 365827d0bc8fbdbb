package server

import "net/http"

// closeAfterChunked closes the connection of a request whose body came
// chunked once it is answered. net/http reads a request that has both
// Content-Length and Transfer-Encoding: chunked by its chunks, and keeps
// the connection: a proxy in front that framed the request by its
// Content-Length (CL.TE) sent whatever the chunks did not take as part of
// this request's body, and the gateway served those bytes as the next
// request on the connection, outside what the proxy checked or counted
// (request smuggling). RFC 9112 6.1 asks a server that reads such a
// request to close the connection after answering it; net/http removes
// Content-Length from the header before a handler sees it, so every
// chunked request's connection is closed. Clients rarely send chunked
// bodies (browsers and most GraphQL clients send Content-Length); those
// that do open a connection per request.
func closeAfterChunked(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
}
