// Package headlines keeps the header lines of an HTTP answer as they
// arrived and builds an http.Header from them only when something reads
// the headers: most subgraph answers are read for their body alone, and
// a map of their headers is some twenty objects per request.
package headlines

import (
	"net/http"
	"net/textproto"
	"strings"
)

// Lines is the header lines of an answer's head, each "Name: value"
// ended by CRLF, that the reader already checked as net/http would
// (valid names and values, no folded lines, no bare CR or LF). The empty
// Lines has no headers.
type Lines string

// Get returns the first value of the header name, "" when there is none;
// names compare as net/http's canonical forms do (case-insensitively).
func (l Lines) Get(name string) string {
	s := string(l)
	for len(s) > 0 {
		line, rest, _ := strings.Cut(s, "\r\n")
		s = rest
		if k, v, ok := strings.Cut(line, ":"); ok && len(k) == len(name) && strings.EqualFold(k, name) {
			return strings.Trim(v, " \t")
		}
	}
	return ""
}

// Combined returns every value of the header name joined by ", ", as
// HTTP reads a list header sent on several lines (RFC 9110, 5.3):
// "Cache-Control: max-age=60" then "Cache-Control: private" is
// "max-age=60, private", where Get sees only "max-age=60". It allocates
// only when the header has several lines.
func (l Lines) Combined(name string) string {
	var first string
	var b []byte
	found := false
	for s := string(l); len(s) > 0; {
		line, rest, _ := strings.Cut(s, "\r\n")
		s = rest
		k, v, ok := strings.Cut(line, ":")
		if !ok || len(k) != len(name) || !strings.EqualFold(k, name) {
			continue
		}
		v = strings.Trim(v, " \t")
		switch {
		case !found:
			first, found = v, true
		case b == nil:
			b = append(append(append(make([]byte, 0, len(first)+len(v)+16), first...), ", "...), v...)
		default:
			b = append(append(b, ", "...), v...)
		}
	}
	if b != nil {
		return string(b)
	}
	return first
}

// Header builds the headers as http.ReadResponse would: canonical names,
// values without the spaces and tabs around them, repeated names' values
// in order. The names and values share l's memory.
func (l Lines) Header() http.Header {
	s := string(l)
	n := strings.Count(s, "\r\n")
	h := make(http.Header, n)
	vals := make([]string, n)
	for i := 0; len(s) > 0; i++ {
		line, rest, _ := strings.Cut(s, "\r\n")
		s = rest
		k, v, _ := strings.Cut(line, ":")
		key := textproto.CanonicalMIMEHeaderKey(k)
		vals[i] = strings.Trim(v, " \t")
		if prev, seen := h[key]; seen {
			h[key] = append(prev, vals[i]) // prev's capacity is its length: a new array
		} else {
			h[key] = vals[i : i+1 : i+1]
		}
	}
	return h
}
