package server

import (
	"net/http"
	"strconv"

	"github.com/fedgate/gateway/internal/reqerr"
)

// CodeHeadersTooMany refuses a request with more header lines than
// HTTPOptions.MaxHeaderCount (431).
const CodeHeadersTooMany = "REQUEST_HEADERS_TOO_MANY"

// tooManyHeaders reports whether r has more than max header lines (the
// values of every name; Host is not among them). 0 is no bound.
func tooManyHeaders(r *http.Request, max int) bool {
	switch {
	case max <= 0:
		return false
	case len(r.Header) > max:
		return true // each name has a value or more
	}
	n := 0
	for _, v := range r.Header {
		if n += len(v); n > max {
			return true
		}
	}
	return false
}

// refuseHeaders answers a request over MaxHeaderCount.
func refuseHeaders(w http.ResponseWriter, r *http.Request, max int) {
	reqerr.Write(w, responseType(r.Header.Get("Accept")), &reqerr.Error{Code: CodeHeadersTooMany,
		Message: "the request has more than " + strconv.Itoa(max) + " header lines", Status: http.StatusRequestHeaderFieldsTooLarge})
}
