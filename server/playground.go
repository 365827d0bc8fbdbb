package server

import (
	"net/http"
	"strings"

	"github.com/fedgate/gateway/internal/reqerr"
	"github.com/fedgate/gateway/playground"
	"github.com/fedgate/gateway/server/request"
)

// servePlayground answers the requests that belong to the playground and
// reports whether it did: its assets under playground.AssetPrefix, and
// the page for a GET (or HEAD) of / without a query, or of any GraphQL
// path from a client that prefers HTML to JSON (a browser).
func (s *Server) servePlayground(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if s.playground == nil {
		return refuseBrowserWithoutPlayground(w, r)
	}
	if strings.HasPrefix(r.URL.Path, playground.AssetPrefix) {
		s.playground.ServeAsset(w, r)
		return true
	}
	if (r.URL.Path == "/" && !r.URL.Query().Has("query")) || prefersHTML(r.Header.Get("Accept")) {
		s.playground.ServePage(w, r)
		return true
	}
	return false
}

// prefersHTML reports whether an Accept header likes text/html better than
// both GraphQL response types.
func prefersHTML(accept string) bool {
	if accept == "" || !strings.Contains(accept, "html") {
		return false
	}
	html := request.Quality(accept, "text/html")
	return html > 0 && html > request.Quality(accept, request.JSON) && html > request.Quality(accept, request.GraphQLResponseJSON)
}

// noPlayground is the answer to a browser's GET of a GraphQL path without
// an operation when the playground is off: what the address is, how to
// send an operation, and the setting that would serve the page. Nothing
// runs, so it comes before CORS, CSRF and authentication, as the page
// would.
var noPlayground = &reqerr.Error{Code: request.CodeBadRequest, Status: http.StatusBadRequest,
	Message: "this is a GraphQL endpoint and the request has no operation: send a query in the `query` URL parameter " +
		"of a GET (with an apollo-require-preflight header) or in the JSON body of a POST; " +
		"the playground that answers browsers here is off (server.playground)"}

// refuseBrowserWithoutPlayground answers noPlayground to a request a
// browser's address bar sends (it prefers HTML) with no operation in its
// URL, and reports whether it did. A GET that carries an operation goes
// on to the CSRF check, which is what refuses a browser's.
func refuseBrowserWithoutPlayground(w http.ResponseWriter, r *http.Request) bool {
	if !prefersHTML(r.Header.Get("Accept")) {
		return false
	}
	q := r.URL.Query()
	if q.Has("query") || q.Has("extensions") {
		return false
	}
	reqerr.Write(w, responseType(r.Header.Get("Accept")), noPlayground)
	return true
}
