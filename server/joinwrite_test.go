package server_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/server/joinwrite"
)

// TestAnswerWrites counts the system calls that write the gateway's
// answer: on a Unix seqpacket socket each write is one message. A large
// answer goes out in one on the listener `gateway serve` uses (wrapped by
// joinwrite.Listener), in two on a bare listener.
func TestAnswerWrites(t *testing.T) {
	g := gatewaytest.Start(t)
	tests := []struct {
		name     string
		query    string
		wrap     bool
		minBody  int
		wantMsgs int
	}{
		{"large answer, joined", bigQuery, true, 8 << 10, 1},
		{"large answer, bare listener", bigQuery, false, 8 << 10, 2},
		{"small answer, joined", `{ __typename }`, true, 0, 1},
		{"error answer, joined", `{ nope }`, true, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "gw")
			ln, err := net.Listen("unixpacket", path)
			if err != nil {
				t.Skipf("no unixpacket sockets: %v", err)
			}
			if tt.wrap {
				ln = joinwrite.Listener(ln)
			}
			hs := g.Handler.HTTPServer()
			go func() { _ = hs.Serve(ln) }()
			defer hs.Close()
			c, err := net.Dial("unixpacket", path)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			body := fmt.Sprintf(`{"query":%q}`, tt.query)
			req := fmt.Sprintf("POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
			if _, err := c.Write([]byte(req)); err != nil {
				t.Fatal(err)
			}
			var all []byte
			buf := make([]byte, 1<<20)
			msgs, length, head := 0, -1, 0
			for length < 0 || len(all)-head < length {
				n, err := c.Read(buf)
				if err != nil {
					t.Fatalf("after %d bytes: %v", len(all), err)
				}
				msgs++
				all = append(all, buf[:n]...)
				if i := bytes.Index(all, []byte("\r\n\r\n")); length < 0 && i >= 0 {
					head = i + 4
					r, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(all[:head])), nil)
					if err != nil {
						t.Fatal(err)
					}
					length = int(r.ContentLength)
				}
			}
			if length < tt.minBody {
				t.Fatalf("a body of %d bytes, want at least %d", length, tt.minBody)
			}
			if !bytes.HasSuffix(all, []byte("}")) || !bytes.Contains(all, []byte(`"data"`)) && !bytes.Contains(all, []byte(`"errors"`)) {
				t.Fatalf("not an answer: %.200q", all)
			}
			if msgs != tt.wantMsgs {
				t.Errorf("written in %d system calls, want %d (Content-Length %d)", msgs, tt.wantMsgs, length)
			}
		})
	}
}

// bigQuery's answer is larger than net/http's 4 KiB buffer twice over.
const bigQuery = `{ __schema { types { name kind description fields { name description type { name kind ofType { name kind } } args { name type { name } } } } } }`
