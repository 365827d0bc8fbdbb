package h1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/fedgate/gateway/internal/headlines"
)

// readPlainHead parses the status line and headers of an answer when the
// whole head is already in br's buffer and is of the plain kind nearly
// every subgraph sends: HTTP/1.1, a final status other than 204 and 304,
// exactly one Content-Length of digits, no Transfer-Encoding, Connection
// or Trailer header, CRLF line ends, no folded lines, and names and
// values net/http accepts. Anything else reports ok false and consumes
// nothing, and http.ReadResponse reads the head instead.
//
// What it saves over http.ReadResponse: the header lines are one copy of
// the head, kept as they arrived (headlines.Lines, which builds an
// http.Header only for a caller that reads one), and no http.Response,
// transfer reader or body wrapper is made (about 10 allocations per
// answer down to 1).
func readPlainHead(br *bufio.Reader) (status int, lines headlines.Lines, length int64, ok bool) {
	if _, err := br.Peek(1); err != nil {
		return 0, "", 0, false
	}
	buf, _ := br.Peek(br.Buffered())
	end := bytes.Index(buf, []byte("\r\n\r\n"))
	if end < 0 {
		return 0, "", 0, false
	}
	head := buf[:end+2] // each line with its CRLF
	if lf := bytes.Count(head, []byte("\r\n")); bytes.Count(head, []byte("\n")) != lf || bytes.Count(head, []byte("\r")) != lf {
		// A bare LF ends a line for net/http; a bare CR is refused.
		return 0, "", 0, false
	}
	eol := bytes.Index(head, []byte("\r\n"))
	line := head[:eol]
	if len(line) < len("HTTP/1.1 200") || string(line[:len("HTTP/1.1 ")]) != "HTTP/1.1 " ||
		len(line) > len("HTTP/1.1 200") && line[len("HTTP/1.1 200")] != ' ' {
		return 0, "", 0, false
	}
	for _, d := range line[len("HTTP/1.1 "):len("HTTP/1.1 200")] {
		if d < '0' || d > '9' {
			return 0, "", 0, false
		}
		status = status*10 + int(d-'0')
	}
	if status < 200 || status > 599 || status == http.StatusNoContent || status == http.StatusNotModified {
		return 0, "", 0, false
	}
	s := string(head[eol+2:]) // the one copy, kept as lines
	length = -1
	for rest := s; len(rest) > 0; {
		line, after, _ := strings.Cut(rest, "\r\n")
		rest = after
		colon := strings.IndexByte(line, ':')
		if colon <= 0 || !httpguts.ValidHeaderFieldName(line[:colon]) {
			return 0, "", 0, false // also a folded line, which starts with a space
		}
		name := line[:colon]
		value := strings.Trim(line[colon+1:], " \t")
		if !httpguts.ValidHeaderFieldValue(value) {
			return 0, "", 0, false
		}
		switch {
		case isName(name, "Transfer-Encoding"), isName(name, "Connection"), isName(name, "Trailer"):
			return 0, "", 0, false
		case isName(name, "Content-Length"):
			if length >= 0 {
				return 0, "", 0, false
			}
			if length = parseLength(value); length < 0 {
				return 0, "", 0, false
			}
		}
	}
	if length < 0 {
		return 0, "", 0, false
	}
	_, _ = br.Discard(end + 4)
	return status, headlines.Lines(s), length, true
}

// isName reports whether the valid header name k is canonical once
// canonicalized (textproto.CanonicalMIMEHeaderKey), without making the
// canonical form.
func isName(k, canonical string) bool {
	return len(k) == len(canonical) && strings.EqualFold(k, canonical)
}

// parseLength parses a Content-Length of 1 to 18 digits, -1 for anything
// else (a sign, spaces inside, a list, more digits than an int64 holds).
func parseLength(v string) int64 {
	if len(v) == 0 || len(v) > 18 {
		return -1
	}
	var n int64
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return -1
		}
		n = n*10 + int64(v[i]-'0')
	}
	return n
}

// lengthReader reads the body of an answer framed by its Content-Length:
// n more bytes from r, and io.ErrUnexpectedEOF if the connection ends
// before them.
type lengthReader struct {
	r *bufio.Reader
	n int64
}

func (l *lengthReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	if err == io.EOF && l.n > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}
