package server

import (
	"net/http"
	"strconv"
	"time"
)

// shed answers a request refused because too many are in flight: a fast
// 503 with Retry-After and a GraphQL error SERVICE_OVERLOADED, once the
// body is read (a slow client holds no admission slot) and before
// anything is parsed.
func (s *Server) shed(w http.ResponseWriter, r *http.Request) {
	s.opts.Observe.Metrics.Shed(r.Context(), "overloaded")
	after := s.opts.Observe.RetryAfter
	if after <= 0 {
		after = time.Second
	}
	secs := int((after + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	w.Header().Set("Content-Type", responseType(r.Header.Get("Accept")))
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(`{"errors":[{"message":"the gateway is overloaded; retry later","extensions":{"code":"` + CodeOverloaded + `"}}]}`))
}
