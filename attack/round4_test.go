//go:build attack

package attack

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestPathologicalDocuments: documents built to make validation work
// hard, each the largest of its shape that the static limits (tokens,
// fields, aliases, field-merge work, depth) let through to validation,
// found by a binary search on its count of units: one response key
// across the members of a union with conflicting types, inline fragments
// on an interface and its members, pairs of conflicting aliases at one
// position and in a fragment (an error with two locations each),
// fragment spreads fanning out (each fragment spreads the next three
// times), fragments of one key on a union's members spread side by side,
// repeated non-repeatable directives (an error each), directives on many
// fields, unused variables with list defaults, undefined variables, one
// variable used in many places, list and object literals nested 18 deep, strings of
// unicode characters or escapes up to the body limit. Each request is a
// new document (a comment numbers it, so the document cache answers
// none), answered with data or an error code, never a 5xx; the answer
// stays small (validation errors are cut at 10) and real clients are
// served meanwhile. The figure is the gateway's CPU per request
// (BenchmarkHostileDocuments in server has the same shapes at 8 KiB,
// 48 KiB and 2 MiB).
func TestPathologicalDocuments(t *testing.T) {
	g := start(t, "", false)
	stop := make(chan struct{})
	var lat []time.Duration
	var failed int
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		lat, failed = g.realClients(2, stop)
	}()
	times := func(n int, unit, sep string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = strings.ReplaceAll(unit, "{i}", strconv.Itoa(i))
		}
		return strings.Join(parts, sep)
	}
	send := func(t *testing.T, query string, i int) (int, string) {
		// The comment is as long for every i: the search below finds the
		// largest document that fits, the requests that follow send it.
		b, _ := json.Marshal(map[string]string{"query": fmt.Sprintf("# %08d\n", i) + query})
		return g.post(t, string(b), "Accept", "application/graphql-response+json")
	}
	for _, tc := range []struct {
		name string
		doc  func(n int) string
	}{
		{"one response key across the members of a union", func(n int) string {
			return `{ search(term: "a") { ` + times(n, "... on Product { k: upc } ... on User { k: id }", " ") + ` } }`
		}},
		{"inline fragments on an interface", func(n int) string {
			return `{ items { ` + times(n, "... on Item { upc } ... on Product { upc: name } ... on Bundle { upc }", " ") + ` } }`
		}},
		{"conflicting aliases", func(n int) string {
			return `{ me { ` + times(n, "a: id a: name", " ") + ` } }`
		}},
		{"conflicting aliases in a fragment", func(n int) string {
			return `{ me { ...F } } fragment F on User { ` + times(n, "a: username a: birthYear", " ") + ` }`
		}},
		{"fragment spreads fanning out", func(n int) string {
			var b strings.Builder
			b.WriteString(`{ me { ...F0 } }`)
			for i := range n {
				fmt.Fprintf(&b, " fragment F%d on User { a%d: id ...F%d ...F%d ...F%d }", i, i%2, i+1, i+1, i+1)
			}
			fmt.Fprintf(&b, " fragment F%d on User { name }", n)
			return b.String()
		}},
		{"fragments of one key on a union's members, spread side by side", func(n int) string {
			return `{ search(term: "a") { ` + times(n, "...P{i} ...U{i}", " ") + ` } } ` +
				times(n, "fragment P{i} on Product { k: upc } fragment U{i} on User { k: id }", " ")
		}},
		{"repeated non-repeatable directives", func(n int) string {
			return `{ me { id ` + times(n, "@include(if: true)", " ") + ` } }`
		}},
		{"directives on many fields", func(n int) string {
			return `{ me { ` + times(n, "id @skip(if: false) @include(if: true)", " ") + ` } }`
		}},
		{"unused variables", func(n int) string {
			return `query(` + times(n, "$v{i}: [[Int!]!] = [[1, 2], [3]]", ", ") + `) { me { id } }`
		}},
		{"undefined variables", func(n int) string {
			return `{ me { ` + times(n, "id @skip(if: $v{i})", " ") + ` } }`
		}},
		{"a variable used in many places", func(n int) string {
			return `query($v: Boolean!) { me { ` + times(n, "id @skip(if: $v)", " ") + ` } }`
		}},
		{"list and object literals nested 18 deep", func(n int) string {
			return `{ me { ` + times(n, "id @skip(if: [[[[[[[[[[[[[[[[{a: [{b: 1}]}]]]]]]]]]]]]]]]])", " ") + ` } }`
		}},
		{"a string of unicode escapes", func(n int) string {
			return `{ t: __type(name: "` + strings.Repeat(`\u00e9\ud83d\ude00`, n) + `") { name } }`
		}},
		{"a string of unicode characters", func(n int) string {
			return `{ t: __type(name: "` + strings.Repeat("é😀", n) + `") { name } }`
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The largest count the limits let through (a refusal by a
			// limit is a MAX_* code or 413); counts grow by doubling,
			// then a binary search.
			limited := func(n int) bool {
				st, body := send(t, tc.doc(n), n)
				return st == http.StatusRequestEntityTooLarge || strings.Contains(body, `"code":"MAX_`)
			}
			lo, hi := 0, 1
			for hi < 1<<20 && !limited(hi) {
				lo, hi = hi, hi*2
			}
			for hi-lo > 1 {
				if mid := (lo + hi) / 2; limited(mid) {
					hi = mid
				} else {
					lo = mid
				}
			}
			if lo == 0 {
				t.Fatalf("refused by a limit at a count of 1: %s", clip(tc.doc(1), 200))
			}
			query := tc.doc(lo)
			const requests = 20
			var st int
			var body string
			cpu0 := g.cpu()
			for i := range requests {
				st, body = send(t, query, 90_000_000+i)
				if st >= 500 || !strings.Contains(body, `"data"`) && !strings.Contains(body, `"code":"`) {
					t.Fatalf("%d %s", st, clip(body, 300))
				}
				if len(body) > 16<<10 {
					t.Fatalf("a %d-byte answer: %s", len(body), clip(body, 300))
				}
			}
			cpu := (g.cpu() - cpu0) / requests
			t.Logf("FIGURE %s: %d units (%d bytes) pass the limits: %d, %d bytes answered, %v CPU per request: %s",
				tc.name, lo, len(query), st, len(body), cpu, clip(body, 120))
			// 25 ms, and what reading a body costs per byte (about
			// 20 ns: the JSON scan, unescaping and the lexer) for the
			// strings that fill it.
			if limit := 25*time.Millisecond + time.Duration(len(query))*20*time.Nanosecond; cpu > limit {
				t.Errorf("%v of CPU per request, want at most %v", cpu, limit)
			}
		})
	}
	close(stop)
	wg.Wait()
	t.Logf("FIGURE pathological documents: real clients %d served, %d failed, p99 %v", len(lat), failed, p99(lat))
	if failed > 0 || len(lat) == 0 {
		t.Errorf("real clients: %d failed, %d served", failed, len(lat))
	}
}

// rawExchange writes raw on a new connection and reads the answer's head
// (status and headers), and whether the connection was closed after it.
func rawExchange(t *testing.T, addr, raw string) (status int, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0, true
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	_ = c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	_, err = br.ReadByte()
	return resp.StatusCode, err != nil && !isTimeout(err)
}

// TestForgedHeaders: requests whose head is forged at the byte level: a
// NUL, a bare CR or a DEL in a header value or name (a subgraph or a log
// reading them otherwise would split the header), a token with a NUL, a
// Content-Length with a sign, a Transfer-Encoding other than chunked, an
// HTTP/2 preface (no HTTP/2 is served), a header line folded onto the
// next, an Upgrade to h2c (ignored), a WebSocket Upgrade without its key.
// Each is refused with a 4xx (501 for the transfer encoding) and its
// connection closed, or served as the one request it is; never a 5xx
// of the gateway's own, and the gateway serves on.
func TestForgedHeaders(t *testing.T) {
	g := start(t, "", false)
	body := `{"query":"{ me { id } }"}`
	req := func(head string) string {
		return "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + head +
			"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	}
	for _, tc := range []struct {
		name, raw string
		status    int
		closed    bool
	}{
		{"NUL in a value", req("X-A: a\x00b\r\n"), 400, true},
		{"bare CR in a value", req("X-A: a\rX-User-Id: admin\r\n"), 400, true},
		{"DEL in a value", req("X-A: \x7f\r\n"), 400, true},
		{"NUL in a name", req("X-A\x00: a\r\n"), 400, true},
		{"NUL in the token", req("Authorization: Bearer a\x00b\r\n"), 400, true},
		{"a signed Content-Length", "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: +" + strconv.Itoa(len(body)) + "\r\n\r\n" + body, 400, true},
		{"Transfer-Encoding gzip, chunked", req("Transfer-Encoding: gzip, chunked\r\n"), 501, true},
		{"an HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400, true},
		{"a folded header line", req("X-A: a\r\n b\r\n"), 200, false},
		{"Upgrade: h2c", req("Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n"), 200, false},
		{"a WebSocket Upgrade without its key", req("Upgrade: websocket\r\nConnection: Upgrade\r\n"), 200, false},
		{"two Authorization headers", req("Authorization: Bearer " + token(t, "alice") + "\r\nAuthorization: Bearer forged\r\n"), 401, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, closed := rawExchange(t, g.addr, tc.raw)
			t.Logf("FIGURE forged head, %s: %d, connection closed %v", tc.name, status, closed)
			if status != tc.status || closed != tc.closed {
				t.Errorf("status %d, closed %v; want %d, %v", status, closed, tc.status, tc.closed)
			}
		})
	}
	if st, b := g.post(t, realQuery); st != 200 {
		t.Fatalf("after the forged heads: %d %s", st, clip(b, 200))
	}
}
