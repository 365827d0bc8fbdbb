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
	v, _ := l.Combined2(name, "")
	return v
}

// Combined2 returns what Combined returns for a and for b, in one pass
// over the lines ("" for b reads nothing).
func (l Lines) Combined2(a, b string) (string, string) {
	var va, vb joined
	for s := string(l); len(s) > 0; {
		line, rest, _ := strings.Cut(s, "\r\n")
		s = rest
		k, v, ok := strings.Cut(line, ":")
		switch {
		case !ok:
		case len(k) == len(a) && strings.EqualFold(k, a):
			va.add(strings.Trim(v, " \t"))
		case len(k) == len(b) && strings.EqualFold(k, b):
			vb.add(strings.Trim(v, " \t"))
		}
	}
	return va.String(), vb.String()
}

// joined builds a list header's values joined by ", ", allocating only
// from the second value on.
type joined struct {
	first string
	found bool
	b     []byte
}

func (j *joined) add(v string) {
	switch {
	case !j.found:
		j.first, j.found = v, true
	case j.b == nil:
		j.b = append(append(append(make([]byte, 0, len(j.first)+len(v)+16), j.first...), ", "...), v...)
	default:
		j.b = append(append(j.b, ", "...), v...)
	}
}

func (j *joined) String() string {
	if j.b != nil {
		return string(j.b)
	}
	return j.first
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
