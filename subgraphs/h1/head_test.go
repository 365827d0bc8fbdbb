package h1

import (
	"bufio"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// plainHeadCases are answers (head and body) with whether readPlainHead
// takes them; every other one is left to http.ReadResponse.
var plainHeadCases = []struct {
	name   string
	answer string
	plain  bool
}{
	{"plain", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\nDate: Sun, 06 Dec 2026 23:35:15 GMT\r\n\r\n{}", true},
	{"no reason phrase", "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\n{}", true},
	{"error status", "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 3\r\n\r\nbad", true},
	{"empty body", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true},
	{"lower-case names, repeated header, spaces and tabs", "HTTP/1.1 200 OK\r\ncontent-length:  2 \r\nset-cookie: a=1\r\nSet-Cookie:\tb=2\t\r\nX-Empty:\r\n\r\n{}", true},
	{"bytes after the body", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 200 OK\r\n", true},
	{"gzip", "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\nzz", true},
	{"no Content-Length", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{}", false},
	{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", false},
	{"chunked and a length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", false},
	{"two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}", false},
	{"two different lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", false},
	{"length list", "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\n{}", false},
	{"signed length", "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\n{}", false},
	{"length past int64", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n{}", false},
	{"space before the colon", "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\n{}", false},
	{"folded line", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: a\r\n b\r\n\r\n{}", false},
	{"bare LF", "HTTP/1.1 200 OK\nContent-Length: 2\n\n{}", false},
	{"LF inside a line", "HTTP/1.1 200 OK\r\nContent-Length: 2\nX-Smuggled: 1\r\n\r\n{}", false},
	{"NUL in a value", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: a\x00b\r\n\r\n{}", false},
	{"no colon", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nnonsense\r\n\r\n{}", false},
	{"Connection: close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}", false},
	{"trailer announced", "HTTP/1.1 200 OK\r\nTrailer: X-T\r\nContent-Length: 2\r\n\r\n{}", false},
	{"HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}", false},
	{"informational first", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", false},
	{"204", "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", false},
	{"304", "HTTP/1.1 304 Not Modified\r\nContent-Length: 2\r\n\r\n", false},
	{"status of two digits", "HTTP/1.1 20 OK\r\nContent-Length: 2\r\n\r\n{}", false},
	{"status of four digits", "HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\n{}", false},
	{"status 600", "HTTP/1.1 600 Odd\r\nContent-Length: 2\r\n\r\n{}", false},
	{"head not ended", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", false},
	{"empty", "", false},
}

// TestReadPlainHead: readPlainHead takes the plain answers and reads them
// as http.ReadResponse does (status, header, length, body, nothing
// consumed past the body), and leaves every other one untouched for
// http.ReadResponse.
func TestReadPlainHead(t *testing.T) {
	for _, tt := range plainHeadCases {
		t.Run(tt.name, func(t *testing.T) {
			plain := checkPlainHead(t, tt.answer)
			if plain != tt.plain {
				t.Errorf("plain %v, want %v", plain, tt.plain)
			}
		})
	}
}

// checkPlainHead reads answer with readPlainHead and, when it takes it,
// compares the result with http.ReadResponse's; it reports whether
// readPlainHead took it.
func checkPlainHead(t *testing.T, answer string) bool {
	t.Helper()
	br := bufio.NewReaderSize(strings.NewReader(answer), 4<<10)
	status, lines, length, ok := readPlainHead(br)
	if !ok {
		// Nothing consumed: what follows reads the whole answer.
		rest, _ := io.ReadAll(br)
		if string(rest) != answer {
			t.Fatalf("declined, but consumed %d bytes", len(answer)-len(rest))
		}
		return false
	}
	fr := lengthReader{r: br, n: length}
	body, berr := io.ReadAll(&fr)
	after, _ := io.ReadAll(br)
	wbr := bufio.NewReader(strings.NewReader(answer))
	hr, err := http.ReadResponse(wbr, nil)
	if err != nil {
		t.Fatalf("taken, but http.ReadResponse fails: %v", err)
	}
	wbody, wberr := io.ReadAll(hr.Body)
	if berr != wberr {
		t.Errorf("body error %v, http.ReadResponse's %v", berr, wberr)
	}
	wafter, _ := io.ReadAll(wbr)
	header := lines.Header()
	if status != hr.StatusCode || length != hr.ContentLength || hr.Close || !reflect.DeepEqual(header, hr.Header) {
		t.Errorf("got %d %d %v, http.ReadResponse %d %d close=%v %v", status, length, header, hr.StatusCode, hr.ContentLength, hr.Close, hr.Header)
	}
	for k := range hr.Header {
		// Get without the map, by the canonical name and by another case.
		if got, want := lines.Get(k), hr.Header.Get(k); got != want {
			t.Errorf("Get(%q) = %q, http.ReadResponse's %q", k, got, want)
		}
		if got, want := lines.Get(strings.ToLower(k)), hr.Header.Get(k); got != want {
			t.Errorf("Get(%q) = %q, http.ReadResponse's %q", strings.ToLower(k), got, want)
		}
	}
	if string(body) != string(wbody) || string(after) != string(wafter) {
		t.Errorf("body %q then %q, http.ReadResponse %q then %q", body, after, wbody, wafter)
	}
	return true
}

// TestReadPlainHeadRepeatedValues: appending to a header named twice does
// not overwrite the value of the line after the first (the values share
// one backing array).
func TestReadPlainHeadRepeatedValues(t *testing.T) {
	br := bufio.NewReader(strings.NewReader("HTTP/1.1 200 OK\r\nX-A: 1\r\nX-B: 2\r\nX-A: 3\r\nContent-Length: 0\r\n\r\n"))
	_, lines, _, ok := readPlainHead(br)
	if !ok {
		t.Fatal("declined")
	}
	h := lines.Header()
	h["X-A"] = append(h["X-A"], "4")
	if got := h["X-B"]; !reflect.DeepEqual(got, []string{"2"}) {
		t.Errorf("X-B = %q after appending to X-A", got)
	}
	if got := h["X-A"]; !reflect.DeepEqual(got, []string{"1", "3", "4"}) {
		t.Errorf("X-A = %q", got)
	}
}

// TestLengthReaderShortBody: a connection that ends before the announced
// length is an unexpected EOF, not a short body.
func TestLengthReaderShortBody(t *testing.T) {
	fr := lengthReader{r: bufio.NewReader(strings.NewReader("{}")), n: 10}
	if _, err := io.ReadAll(&fr); err != io.ErrUnexpectedEOF {
		t.Fatalf("err %v, want io.ErrUnexpectedEOF", err)
	}
}

// FuzzReadPlainHead: whatever the answer, readPlainHead either consumes
// nothing or agrees with http.ReadResponse.
func FuzzReadPlainHead(f *testing.F) {
	for _, tt := range plainHeadCases {
		f.Add(tt.answer)
	}
	f.Fuzz(func(t *testing.T, answer string) {
		checkPlainHead(t, answer)
	})
}
