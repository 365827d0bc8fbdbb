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
type errorList struct {
	list Errors
	// seen holds the code and message of each error of list, for add's
	// dedupe in constant time (a hostile subgraph can make one error per
	// field); seenN is how many errors of list it holds, so errors
	// appended to list directly are taken in on the next add.
	seen  map[string]bool
	seenN int
}

// add records an error. A non-empty subgraph prefixes the message with
// "[subgraph] " as Apollo does.
func (l *errorList) add(code, subgraph, coordinate, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if subgraph != "" {
		msg = "[" + subgraph + "] " + msg
	}
	if l.seen == nil || l.seenN != len(l.list) {
		l.seen = make(map[string]bool, len(l.list)+1)
		for _, e := range l.list {
			l.seen[e.Code+"\x00"+e.Message] = true
		}
	}
	key := code + "\x00" + msg
	if l.seen[key] {
		return
	}
	l.seen[key] = true
	l.list = append(l.list, &Error{Code: code, Subgraph: subgraph, Coordinate: coordinate, Message: msg})
	l.seenN = len(l.list)
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
