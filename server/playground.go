package server

import (
	"net/http"
	"strings"

	"github.com/fedgate/gateway/playground"
	"github.com/fedgate/gateway/server/request"
)

// servePlayground answers the requests that belong to the playground and
// reports whether it did: its assets under playground.AssetPrefix, and
// the page for a GET (or HEAD) of / without a query, or of any GraphQL
// path from a client that prefers HTML to JSON (a browser).
func (s *Server) servePlayground(w http.ResponseWriter, r *http.Request) bool {
	if s.playground == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
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
