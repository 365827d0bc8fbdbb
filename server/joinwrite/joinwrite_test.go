package joinwrite

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// body returns n bytes of a pattern that shows where a byte went
// missing or moved.
func body(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(i%26)
		if i%1000 == 999 {
			b[i] = '\n'
		}
	}
	return b
}

// answer is a handler answering as the gateway does: Content-Length
// set, then the whole body through WriteBody (or a plain Write when
// plain), with the body size asked for in the path (/N) and the status
// in ?status=.
func answer(plain bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // sends 100 Continue when asked
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		status := http.StatusOK
		if s := r.URL.Query().Get("status"); s != "" {
			status, _ = strconv.Atoi(s)
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("length") != "none" {
			w.Header().Set("Content-Length", strconv.Itoa(n))
		}
		w.WriteHeader(status)
		if plain {
			_, _ = w.Write(body(n))
			return
		}
		_ = WriteBody(w, r, body(n))
	}
}

// serve starts h on a loopback listener, joined unless plain, and
// returns its address.
func serve(t *testing.T, h http.Handler, plain bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: h, ConnContext: ConnContext}
	if !plain {
		ln = Listener(ln)
	}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	return ln.Addr().String()
}

// exchange sends raw requests on one connection and returns every byte
// the server sends until it closes it, with the Date header blanked.
func exchange(t *testing.T, addr, requests string) []byte {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, requests); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return dateLine.ReplaceAll(b, []byte("Date: -\r\n"))
}

var dateLine = regexp.MustCompile("Date: [^\r]*\r\n")

func req(method, target string, close bool) string {
	s := method + " " + target + " HTTP/1.1\r\nHost: x\r\n"
	if close {
		s += "Connection: close\r\n"
	}
	return s + "\r\n"
}

// TestWriteBodyBytes: whatever the size and status, the joined answer is
// the same bytes as net/http's own, one request at a time and pipelined.
func TestWriteBodyBytes(t *testing.T) {
	plain := serve(t, answer(true), true)
	joined := serve(t, answer(false), false)
	// The head of a 0-byte answer: sizes around the 4 KiB buffer follow.
	head := len(exchange(t, plain, req("GET", "/0", true)))
	edge := 4096 - head
	sizes := []int{0, 1, joinMin - 1, joinMin, edge - 1, edge, edge + 1, 4096, 4097, 5000, 8192 - head, 8192 - head + 1, 87599, 1 << 20}
	var tests []struct{ name, requests string }
	for _, n := range sizes {
		tests = append(tests, struct{ name, requests string }{fmt.Sprintf("body %d", n), req("GET", fmt.Sprintf("/%d", n), true)})
	}
	tests = append(tests, []struct{ name, requests string }{
		{"HEAD", req("HEAD", "/87599", true)},
		{"304", req("GET", "/87599?status=304", true)},
		{"204", req("GET", "/5000?status=204", true)},
		{"error status", req("GET", "/87599?status=502", true)},
		{"pipelined", req("GET", "/87599", false) + req("GET", "/1", false) + req("GET", fmt.Sprintf("/%d", edge+1), false) +
			req("HEAD", "/5000", false) + req("GET", "/1048576", false) + req("GET", "/5000", true)},
		{"HTTP/1.0", "GET /87599 HTTP/1.0\r\n\r\n"},
		{"no length, chunked", req("GET", "/87599?length=none", true)},
		{"no length, small", req("GET", "/3000?length=none", true)},
		{"no length, HTTP/1.0", "GET /87599?length=none HTTP/1.0\r\n\r\n"},
		{"100 Continue first", "POST /87599 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"},
	}...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := exchange(t, plain, tt.requests)
			got := exchange(t, joined, tt.requests)
			if !bytes.Equal(got, want) {
				i := 0
				for i < min(len(got), len(want)) && got[i] == want[i] {
					i++
				}
				t.Fatalf("%d bytes, net/http's own %d; first difference at byte %d", len(got), len(want), i)
			}
			if !bytes.HasPrefix(want, []byte("HTTP/1.")) {
				t.Fatalf("no answer: %q", want)
			}
			if strings.Contains(tt.requests, "Expect: 100-continue") && !bytes.HasPrefix(want, []byte("HTTP/1.1 100 Continue\r\n")) {
				t.Fatalf("no 100 Continue first: %.40q", want)
			}
		})
	}
}

// TestWriteBodyWrites counts the write system calls of an answer: on a
// Unix seqpacket socket each one is one message, read by one Read.
func TestWriteBodyWrites(t *testing.T) {
	tests := []struct {
		name  string
		plain bool
		n     int
		want  int
	}{
		{"net/http, 87 KB", true, 87599, 2},
		{"joined, 87 KB", false, 87599, 1},
		{"net/http, 5000 bytes", true, 5000, 2},
		{"joined, 5000 bytes", false, 5000, 1},
		{"joined, 100 bytes", false, 100, 1},
		{"joined, empty", false, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s")
			ln, err := net.Listen("unixpacket", path)
			if err != nil {
				t.Skipf("no unixpacket sockets: %v", err)
			}
			hs := &http.Server{Handler: answer(tt.plain), ConnContext: ConnContext}
			if !tt.plain {
				ln = Listener(ln)
			}
			go func() { _ = hs.Serve(ln) }()
			defer hs.Close()
			c, err := net.Dial("unixpacket", path)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.WriteString(c, req("GET", fmt.Sprintf("/%d", tt.n), false)); err != nil {
				t.Fatal(err)
			}
			var all []byte
			buf := make([]byte, 1<<20)
			writes := 0
			for {
				n, err := c.Read(buf)
				if err != nil {
					t.Fatalf("after %d bytes: %v", len(all), err)
				}
				writes++
				all = append(all, buf[:n]...)
				if i := bytes.Index(all, []byte("\r\n\r\n")); i >= 0 && len(all)-i-4 >= tt.n {
					break
				}
			}
			if !bytes.HasSuffix(all, body(tt.n)) {
				t.Fatalf("the body is not the one written")
			}
			if writes != tt.want {
				t.Errorf("%d writes, want %d", writes, tt.want)
			}
		})
	}
}

// TestWriteBodyStalledClient: a client that stops reading fails the
// write at the write deadline; the connection is closed and nothing is
// left held, and the server keeps answering others.
func TestWriteBodyStalledClient(t *testing.T) {
	done := make(chan error, 1)
	var conn atomic.Pointer[Conn]
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn.Store(For(r))
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
		b := body(8 << 20) // more than the socket buffers take
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		done <- WriteBody(w, r, b)
	})
	addr := serve(t, h, false)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, req("GET", "/", false)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("WriteBody: %v, want a deadline error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WriteBody still blocked")
	}
	jc := conn.Load()
	if jc == nil {
		t.Fatal("not a joined connection")
	}
	if jc.held != nil {
		t.Error("bytes still held")
	}
	if _, err := jc.Write([]byte("x")); err == nil {
		t.Error("a write after the failed one succeeded")
	}
	// What arrives ends early: the connection was closed.
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, _ := io.Copy(io.Discard, c)
	if n >= 8<<20 {
		t.Errorf("read %d bytes, the whole answer", n)
	}
	got := exchange(t, serve(t, answer(false), false), req("GET", "/87599", true))
	if !bytes.HasSuffix(got, body(87599)) {
		t.Error("the next client's answer is wrong")
	}
}

// TestForLeavesAlone: TLS, HTTP/2 and connections not accepted by
// Listener are written as net/http writes them.
func TestForLeavesAlone(t *testing.T) {
	tests := []struct {
		name  string
		start func(*httptest.Server)
		wrap  bool
		want  bool
	}{
		{"plain HTTP/1.1", (*httptest.Server).Start, true, true},
		{"listener not wrapped", (*httptest.Server).Start, false, false},
		{"TLS", (*httptest.Server).StartTLS, true, false},
		{"HTTP/2", func(s *httptest.Server) { s.EnableHTTP2 = true; s.StartTLS() }, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var joined atomic.Bool
			inner := answer(false)
			s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				joined.Store(For(r) != nil)
				inner(w, r)
			}))
			s.Config.ConnContext = ConnContext
			if tt.wrap {
				s.Listener = Listener(s.Listener)
			}
			tt.start(s)
			defer s.Close()
			resp, err := s.Client().Get(s.URL + "/87599")
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || !bytes.Equal(b, body(87599)) {
				t.Fatalf("body of %d bytes, err %v", len(b), err)
			}
			if joined.Load() != tt.want {
				t.Errorf("joined %v, want %v", joined.Load(), tt.want)
			}
		})
	}
}

// TestDisarmSendsHeld: bytes held by an armed connection go out at
// Disarm when no further write comes, and a write error closes the
// connection for every later write.
func TestDisarmSendsHeld(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	c := &Conn{Conn: a}
	got := make(chan []byte, 1)
	go func() {
		r := bufio.NewReader(b)
		line, _ := r.ReadBytes('\n')
		got <- line
	}()
	c.Arm()
	if n, err := c.Write([]byte("held\n")); n != 5 || err != nil {
		t.Fatalf("Write: %d, %v", n, err)
	}
	select {
	case <-got:
		t.Fatal("sent before Disarm")
	case <-time.After(50 * time.Millisecond):
	}
	if err := c.Disarm(); err != nil {
		t.Fatal(err)
	}
	if line := <-got; string(line) != "held\n" {
		t.Fatalf("got %q", line)
	}
	b.Close()
	c.Arm()
	_, _ = c.Write([]byte("lost"))
	if err := c.Disarm(); err == nil {
		t.Fatal("Disarm on a closed pipe: no error")
	}
	if _, err := c.Write([]byte("x")); err == nil {
		t.Fatal("Write after a failed one: no error")
	}
}
