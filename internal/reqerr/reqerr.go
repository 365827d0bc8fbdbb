// Package reqerr is the error a pipeline stage answers a request with: a
// GraphQL extensions.code, a message safe to show, and the HTTP status.
// The limits, auth and cache packages name it as their own Error.
package reqerr

// Error is a request error with its extensions.code and HTTP status.
type Error struct {
	Code    string // extensions.code, such as MAX_DEPTH_EXCEEDED
	Message string // short, human-readable, never a large echo of input
	Status  int    // HTTP status, such as 400
	// Extensions are more members of the error's extensions, beside code
	// (the estimated and maximum cost of a COST_ESTIMATED_TOO_EXPENSIVE).
	Extensions map[string]any
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// ExtensionCode returns the GraphQL extensions.code of the error.
func (e *Error) ExtensionCode() string { return e.Code }

// HTTPStatus returns the HTTP status of the answer.
func (e *Error) HTTPStatus() int { return e.Status }
