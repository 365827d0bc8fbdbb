package subscriptions

import (
	"net/http"
	"net/url"
	"path"
	"strings"
)

// originAllowed reports whether a WebSocket upgrade may come from r's
// Origin: none sent (not a browser), the gateway's own host, or a host
// (or scheme://host) matching one of patterns (path.Match, case
// ignored). It decides as the WebSocket library's own check does, which
// stays behind it, so that the gateway answers a refusal with a GraphQL
// error body instead of the library's plain text.
func originAllowed(r *http.Request, patterns []string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(r.Host, u.Host) {
		return true
	}
	for _, p := range patterns {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, err := path.Match(strings.ToLower(p), strings.ToLower(target)); err == nil && ok {
			return true
		}
	}
	return false
}

// errOrigin refuses a WebSocket from a browser origin that is not
// allowed (cross-site WebSocket hijacking).
var errOrigin = refusal(http.StatusForbidden, "ORIGIN_NOT_ALLOWED",
	"this origin may not open a WebSocket to the gateway (subscriptions.origin_patterns)")
