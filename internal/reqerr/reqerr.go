// Package reqerr is the one error a request pipeline stage answers a
// request with (a GraphQL extensions.code, a message safe to show, the
// HTTP status), and the one writer of GraphQL error bodies. The limits,
// auth and cache packages name the type as their own Error.
package reqerr

import (
	"encoding/json"
	"errors"
	"net/http"
)

// Error is a request error with its extensions.code and HTTP status.
type Error struct {
	Code    string // extensions.code, such as MAX_DEPTH_EXCEEDED
	Message string // short, human-readable, never a large echo of input
	Status  int    // HTTP status, such as 400
	// Extensions are more members of the error's extensions, beside code
	// (the estimated and maximum cost of a COST_ESTIMATED_TOO_EXPENSIVE).
	Extensions map[string]any
	// Locations are places in the document the error is about.
	Locations []Location
	// Path is the response path the error is about, if any.
	Path []any
	// More are further errors answered in the same body (validation
	// reports several; reject mode one per denied path). Their statuses
	// are not used.
	More []*Error
}

// Location is a line and column of the document, from 1.
type Location struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// ExtensionCode returns the GraphQL extensions.code of the error.
func (e *Error) ExtensionCode() string { return e.Code }

// HTTPStatus returns the HTTP status of the answer.
func (e *Error) HTTPStatus() int { return e.Status }

// Internal is the answer to an error that is not an *Error: a bug or an
// unexpected failure, whose text is logged, never shown.
var Internal = &Error{Code: "INTERNAL_SERVER_ERROR", Message: "internal server error", Status: http.StatusInternalServerError}

// From returns err as an *Error: itself, the *Error it wraps, or Internal.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal
}

// Status returns the HTTP status of err's answer.
func Status(err error) int { return From(err).Status }

type wireError struct {
	Message    string         `json:"message"`
	Locations  []Location     `json:"locations,omitempty"`
	Path       []any          `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions"`
}

func (e *Error) wire() wireError {
	ext := make(map[string]any, len(e.Extensions)+1)
	for k, v := range e.Extensions {
		ext[k] = v
	}
	ext["code"] = e.Code
	return wireError{Message: e.Message, Locations: e.Locations, Path: e.Path, Extensions: ext}
}

// Body returns the GraphQL response body {"errors":[...]} of err (and of
// its More).
func Body(err error) []byte {
	e := From(err)
	out := make([]wireError, 0, 1+len(e.More))
	out = append(out, e.wire())
	for _, m := range e.More {
		out = append(out, m.wire())
	}
	b, jerr := json.Marshal(struct {
		Errors []wireError `json:"errors"`
	}{out})
	if jerr != nil {
		return []byte(`{"errors":[{"message":"internal server error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`)
	}
	return b
}

// Write answers err on w with its status and contentType; a 405 carries
// Allow: GET, POST.
func Write(w http.ResponseWriter, contentType string, err error) {
	e := From(err)
	if e.Status == http.StatusMethodNotAllowed && w.Header().Get("Allow") == "" {
		w.Header().Set("Allow", "GET, POST")
	}
	body := Body(e)
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}
