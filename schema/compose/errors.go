package compose

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one composition error. Code is Apollo's composition error code
// (for example INVALID_FIELD_SHARING); Subgraph and Coordinate name where
// the problem is, when it is in one place.
type Error struct {
	Code       string
	Subgraph   string
	Coordinate string
	Message    string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errors lists every error one composition found, in a stable order.
type Errors []*Error

func (l Errors) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Codes returns the distinct error codes, sorted.
func (l Errors) Codes() []string {
	seen := map[string]bool{}
	var codes []string
	for _, e := range l {
		if !seen[e.Code] {
			seen[e.Code] = true
			codes = append(codes, e.Code)
		}
	}
	sort.Strings(codes)
	return codes
}

// errorList collects errors while composing.
type errorList struct{ list Errors }

// add records an error. A non-empty subgraph prefixes the message with
// "[subgraph] " as Apollo does.
func (l *errorList) add(code, subgraph, coordinate, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if subgraph != "" {
		msg = "[" + subgraph + "] " + msg
	}
	for _, e := range l.list {
		if e.Code == code && e.Message == msg {
			return
		}
	}
	l.list = append(l.list, &Error{Code: code, Subgraph: subgraph, Coordinate: coordinate, Message: msg})
}

func (l *errorList) empty() bool { return len(l.list) == 0 }

func (l *errorList) err() error {
	if len(l.list) == 0 {
		return nil
	}
	return l.list
}

// Hint is a composition warning: the supergraph was composed, but
// something was dropped or is in an intermediate state. Code is Apollo's
// hint code (for example INCONSISTENT_INPUT_OBJECT_FIELD).
type Hint struct {
	Code       string
	Coordinate string
	Message    string
}
