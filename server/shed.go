package server

import (
	"net/http"

	"github.com/fedgate/gateway/internal/reqerr"
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
	reqerr.Write(w, responseType(r.Header.Get("Accept")), errOverloaded)
}

var errOverloaded = &reqerr.Error{Code: CodeOverloaded, Message: "the gateway is overloaded; retry later", Status: http.StatusServiceUnavailable}
