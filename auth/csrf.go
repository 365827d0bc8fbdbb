package auth

import (
	"mime"
	"net/http"
	"strings"
)

// simpleContentTypes are the content types a browser sends cross-site
// without a CORS preflight.
var simpleContentTypes = map[string]bool{
	"application/x-www-form-urlencoded": true,
	"multipart/form-data":               true,
	"text/plain":                        true,
}

// CSRFError is the answer to a request the CSRF check refuses.
var CSRFError = &Error{Code: "CSRF_ERROR", Status: http.StatusBadRequest,
	Message: "this operation has been blocked as a potential cross-site request forgery: send a Content-Type " +
		"other than application/x-www-form-urlencoded, multipart/form-data or text/plain, or one of the headers "}

// CheckCSRF refuses requests a browser could send cross-site without a
// preflight, as Apollo Router does: a request passes when its
// Content-Type is not a simple one (application/json, ...), or when it
// carries one of cfg.RequiredHeaders. A GET without such a header is
// refused too, since a link or an <img> can send it.
func CheckCSRF(r *http.Request, cfg CSRFConfig) error {
	if !cfg.Enabled || r.Method == http.MethodOptions {
		return nil
	}
	for _, ct := range r.Header.Values("Content-Type") {
		if ct == "application/json" {
			// What nearly every client sends, and not simple: passed
			// without the parse (a slice and a map per request).
			return nil
		}
		for _, part := range strings.Split(ct, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil || !simpleContentTypes[mt] {
				// Unparseable or not simple: a browser would have
				// preflighted it.
				return nil
			}
		}
	}
	for _, h := range cfg.RequiredHeaders {
		if r.Header.Get(h) != "" {
			return nil
		}
	}
	headers := strings.Join(cfg.RequiredHeaders, ", ")
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return &Error{Code: CSRFError.Code, Status: CSRFError.Status, Message: csrfGETMessage + headers +
			" (an address typed in a browser sends none: use POST with Content-Type: application/json, or the playground)"}
	}
	return &Error{Code: CSRFError.Code, Status: CSRFError.Status, Message: CSRFError.Message + headers}
}

// csrfGETMessage begins the answer to a GET the check refuses: a GET has
// no body, so its Content-Type is no way out.
const csrfGETMessage = "this operation has been blocked as a potential cross-site request forgery: " +
	"a GET operation must carry one of the headers "
