package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs/demo"
	"github.com/fedgate/gateway/uploads"
)

// uploadGateway starts the demo gateway with uploads on and cfg's limits.
func uploadGateway(t *testing.T, cfg uploads.Config) *gatewaytest.Gateway {
	t.Helper()
	opts := server.DefaultOptions()
	cfg.Enabled = true
	opts.Uploads = cfg
	return gatewaytest.Start(t, gatewaytest.WithServerOptions(opts))
}

func uploadLimits() uploads.Config {
	c := uploads.DefaultConfig()
	c.MaxFileBytes, c.MaxFiles, c.MaxTotalBytes = 1<<20, 4, 3<<20
	return c
}

// part is one part of a multipart request: a form field or a file.
type part struct {
	name, filename, body string
}

// multipartBody writes parts in order, as a client of the spec does.
func multipartBody(t *testing.T, parts ...part) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p.filename != "" {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.name, p.filename))
			h.Set("Content-Type", "image/png")
		} else {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.name))
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(w, p.body)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, mw.FormDataContentType()
}

type uploadAnswer struct {
	status int
	header http.Header
	body   struct {
		Data   map[string]json.RawMessage `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	raw string
}

func (a *uploadAnswer) code() string {
	if len(a.body.Errors) == 0 {
		return ""
	}
	c, _ := a.body.Errors[0].Extensions["code"].(string)
	return c
}

func postUpload(t *testing.T, g *gatewaytest.Gateway, body io.Reader, contentType string, preflight bool) *uploadAnswer {
	t.Helper()
	return postUploadAs(t, g, body, contentType, preflight, "")
}

// postUploadAs is postUpload from the loopback address from ("" the
// gateway's client's).
func postUploadAs(t *testing.T, g *gatewaytest.Gateway, body io.Reader, contentType string, preflight bool, from string) *uploadAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, g.URL, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	client := g.Client
	if from != "" {
		client = &http.Client{Transport: &http.Transport{
			DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}).DialContext}}
		defer client.CloseIdleConnections()
	}
	if preflight {
		req.Header.Set("Apollo-Require-Preflight", "true")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := &uploadAnswer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, raw)
	}
	return a
}

const uploadOne = `{"query":"mutation($f: Upload!) { uploadProductImage(upc: \"1\", file: $f) { upc filename contentType size sha256 } }","variables":{"f":null}}`

func TestUploadStreamsFileToSubgraph(t *testing.T) {
	g := uploadGateway(t, uploadLimits())
	content := strings.Repeat("png bytes ", 50_000) // 500 KB
	body, ct := multipartBody(t, part{name: "operations", body: uploadOne}, part{name: "map", body: `{"0":["variables.f"]}`},
		part{name: "0", filename: "cat.png", body: content})
	a := postUpload(t, g, body, ct, true)
	if a.status != 200 || len(a.body.Errors) > 0 {
		t.Fatalf("status %d: %s", a.status, a.raw)
	}
	var img struct {
		Upc, Filename, ContentType, Sha256 string
		Size                               int
	}
	if err := json.Unmarshal(a.body.Data["uploadProductImage"], &img); err != nil {
		t.Fatal(err)
	}
	if img.Size != len(content) || img.Sha256 != sha256Hex(content) || img.Filename != "cat.png" || img.ContentType != "image/png" || img.Upc != "1" {
		t.Fatalf("subgraph saw %+v", img)
	}
	// The subgraph got a multipart request of its own: the file's
	// variable null, no placeholder.
	bodies := g.Subgraphs["products"].Bodies()
	if len(bodies) != 1 || !bytes.Contains(bodies[0], []byte(`name="operations"`)) || !bytes.Contains(bodies[0], []byte(`"f":null`)) ||
		bytes.Contains(bodies[0], []byte("fedgate.upload")) {
		t.Fatalf("subgraph request: %.400s", bodies)
	}
}

// TestUploadSeveralFetches sends files to three fetches in sequence
// (products, reviews, products): the file of the last fetch arrives
// first and waits in a spool file, and a file used by two fetches is
// kept for the second while it streams to the first.
func TestUploadSeveralFetches(t *testing.T) {
	g := uploadGateway(t, uploadLimits())
	a, b := strings.Repeat("a", 300_000), strings.Repeat("b", 200_000)
	cases := []struct {
		name       string
		vars, m    string
		parts      []part
		x, z, both string
	}{
		{name: "out of order", vars: `{"a":null,"b":null}`, m: `{"1":["variables.b"],"0":["variables.a"]}`,
			parts: []part{{name: "1", filename: "b", body: b}, {name: "0", filename: "a", body: a}}, x: sha256Hex(a), z: sha256Hex(b)},
		{name: "one file twice", vars: `{"a":null,"b":null}`, m: `{"0":["variables.a","variables.b"]}`,
			parts: []part{{name: "0", filename: "a", body: a}}, x: sha256Hex(a), z: sha256Hex(a)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body, ct := threeFetchesBody(t, c.vars, c.m, c.parts...)
			ans := postUpload(t, g, body, ct, true)
			if ans.status != 200 || len(ans.body.Errors) > 0 {
				t.Fatalf("status %d: %s", ans.status, ans.raw)
			}
			var x, z struct{ Sha256 string }
			_ = json.Unmarshal(ans.body.Data["x"], &x)
			_ = json.Unmarshal(ans.body.Data["z"], &z)
			if x.Sha256 != c.x || z.Sha256 != c.z {
				t.Fatalf("x %s z %s: %s", x.Sha256, z.Sha256, ans.raw)
			}
		})
	}
}

// threeFetchesBody is a multipart request of a mutation whose fetches
// are products (file $a), reviews, products (file $b): with files, a
// file spooled (out of order, or sent twice).
func threeFetchesBody(t *testing.T, vars, m string, files ...part) (*bytes.Buffer, string) {
	t.Helper()
	q := `mutation($a: Upload!, $b: Upload!) { x: uploadProductImage(upc: "1", file: $a) { sha256 } ` +
		`r: addReview(productUpc: "1", authorId: "1", body: "ok", rating: 5) { rating } ` +
		`z: uploadProductImage(upc: "2", file: $b) { sha256 } }`
	ops, _ := json.Marshal(map[string]any{"query": q, "variables": json.RawMessage(vars)})
	return multipartBody(t, append([]part{{name: "operations", body: string(ops)}, {name: "map", body: m}}, files...)...)
}

// TestUploadSpoolBudget: with uploads.max_spool_bytes below what a
// request spools, the request is answered 503 UPLOAD_SPOOL_FULL with
// Retry-After (not a hang, not a 500), and the budget is given back: a
// request whose spool fits is served after it.
func TestUploadSpoolBudget(t *testing.T) {
	cfg := uploadLimits()
	cfg.MaxSpoolBytes = 100_000
	g := uploadGateway(t, cfg)
	for _, c := range []struct {
		name, vars, m string
		files         func(size int) []part
	}{
		{"out of order", `{"a":null,"b":null}`, `{"1":["variables.b"],"0":["variables.a"]}`, func(size int) []part {
			return []part{{name: "1", filename: "b", body: strings.Repeat("b", size)}, {name: "0", filename: "a", body: "a"}}
		}},
		{"one file twice", `{"a":null,"b":null}`, `{"0":["variables.a","variables.b"]}`, func(size int) []part {
			return []part{{name: "0", filename: "a", body: strings.Repeat("a", size)}}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			body, ct := threeFetchesBody(t, c.vars, c.m, c.files(300_000)...)
			ans := postUpload(t, g, body, ct, true)
			if ans.status != http.StatusServiceUnavailable || ans.code() != uploads.CodeSpoolFull || ans.header.Get("Retry-After") == "" {
				t.Fatalf("over the spool budget: status %d, Retry-After %q: %.300s", ans.status, ans.header.Get("Retry-After"), ans.raw)
			}
			for range 3 { // the budget came back, each time
				body, ct = threeFetchesBody(t, c.vars, c.m, c.files(90_000)...)
				if ans = postUpload(t, g, body, ct, true); ans.status != 200 || len(ans.body.Errors) > 0 {
					t.Fatalf("within the spool budget: status %d: %.300s", ans.status, ans.raw)
				}
			}
		})
	}
}

// outOfOrderUpload is an upload whose file 1 (size bytes) arrives first
// and waits in the spool for the last fetch, which needs file 0.
func outOfOrderUpload(t *testing.T, size int) (*bytes.Buffer, string) {
	return threeFetchesBody(t, `{"a":null,"b":null}`, `{"1":["variables.b"],"0":["variables.a"]}`,
		part{name: "1", filename: "b", body: strings.Repeat("b", size)}, part{name: "0", filename: "a", body: "a"})
}

// stallUpload sends outOfOrderUpload(size) from the loopback address
// from up to file 0's content, which never comes: file 1 is spooled and
// held. The connection is closed when the test ends.
func stallUpload(t *testing.T, g *gatewaytest.Gateway, from string, size int) net.Conn {
	t.Helper()
	body, ct := outOfOrderUpload(t, size)
	whole := body.Bytes()
	cut := bytes.Index(whole, []byte(`filename="a"`))
	cut += bytes.Index(whole[cut:], []byte("\r\n\r\n")) + 4
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", strings.TrimPrefix(g.BaseURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	head := fmt.Sprintf("POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: %s\r\nApollo-Require-Preflight: true\r\nContent-Length: %d\r\n\r\n", ct, len(whole))
	if _, err := conn.Write(append([]byte(head), whole[:cut]...)); err != nil {
		t.Fatal(err)
	}
	return conn
}

// stalledAnswer reads the answer to a stalled upload on conn within 3 s:
// its status, Retry-After, whether the connection closes, and its body;
// an error when none came.
type stalledAnswer struct {
	status     int
	retryAfter string
	close      bool
	raw        string
}

func readStalled(conn net.Conn) (stalledAnswer, error) {
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return stalledAnswer{}, err
	}
	raw, _ := io.ReadAll(resp.Body)
	return stalledAnswer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), close: resp.Close, raw: string(raw)}, nil
}

// isRefusal reports whether a is status with code, Retry-After and the
// connection closed.
func (a stalledAnswer) isRefusal(status int, code string) bool {
	return a.status == status && strings.Contains(a.raw, code) && a.retryAfter != "" && a.close
}

// TestUploadSpoolClientShare: the spool budget counts each client's
// uploads (as the rate limits tell clients apart, here by address), and
// one client holds at most three quarters of it, alone or not: a client
// whose uploads stall after spooling a file is refused its fourth with
// 429 UPLOAD_SPOOL_CLIENT_LIMIT and Retry-After, and another client that
// comes meanwhile is served. Before, the share bound only while another
// client was using the spool: the stalled client alone took all of
// max_spool_bytes, held it while its bodies stalled (up to the request's
// deadline), and the next client got 503 UPLOAD_SPOOL_FULL.
func TestUploadSpoolClientShare(t *testing.T) {
	cfg := uploadLimits()
	// A client's share: 300,000 (three quarters; one request's
	// max_total_bytes is less).
	cfg.MaxSpoolBytes, cfg.MaxTotalBytes = 400_000, 100_000
	cfg.IdleTimeout = 30 * time.Second // the stalled bodies stay until the test ends
	g := uploadGateway(t, cfg)
	// Four uploads of 95,000 would take the client to 380,000: one of
	// them (the last to spool) is refused at once. Before, all four were
	// spooled, and none was answered.
	answers := make(chan string, 4)
	for range 4 {
		conn := stallUpload(t, g, "127.0.0.3", 95_000)
		go func() {
			a, err := readStalled(conn)
			switch {
			case err != nil:
				answers <- "" // stalled on, unanswered
			case a.isRefusal(http.StatusTooManyRequests, uploads.CodeSpoolClientLimit):
				answers <- uploads.CodeSpoolClientLimit
			default:
				answers <- fmt.Sprintf("%d %q close %v: %.300s", a.status, a.retryAfter, a.close, a.raw)
			}
		}()
	}
	var refused []string
	for range 4 {
		if a := <-answers; a != "" {
			refused = append(refused, a)
		}
	}
	if len(refused) != 1 || refused[0] != uploads.CodeSpoolClientLimit {
		t.Errorf("the stalled client's four uploads were answered %q, want one 429 %s with Retry-After and close", refused, uploads.CodeSpoolClientLimit)
	}
	body, ct := outOfOrderUpload(t, 90_000)
	if ans := postUploadAs(t, g, body, ct, true, "127.0.0.4"); ans.status != 200 || len(ans.body.Errors) > 0 {
		t.Fatalf("another client while the first one's uploads stall: status %d: %.300s", ans.status, ans.raw)
	}
}

// TestUploadRefusedMidBodyIsAnsweredAtOnce: an upload refused while its
// body is still coming (here its spool is over max_spool_bytes, and the
// client then stalls) is answered at once, and its connection closed.
// Before, net/http first waited for the rest of the body (up to 256 KiB
// of it) before it sent the answer: a client that stalled got it at the
// body's idle deadline, its connection and handler held till then.
func TestUploadRefusedMidBodyIsAnsweredAtOnce(t *testing.T) {
	cfg := uploadLimits()
	cfg.MaxSpoolBytes = 100_000
	cfg.IdleTimeout = 30 * time.Second
	g := uploadGateway(t, cfg)
	a, err := readStalled(stallUpload(t, g, "127.0.0.3", 150_000))
	if err != nil || !a.isRefusal(http.StatusServiceUnavailable, uploads.CodeSpoolFull) {
		t.Fatalf("an upload over max_spool_bytes that stalls: %v %+v, want 503 %s at once, with Retry-After and close", err, a, uploads.CodeSpoolFull)
	}
}

// TestUploadRefusals are the hostile and malformed requests: each is
// answered with its status and code, and no subgraph gets a whole request.
func TestUploadRefusals(t *testing.T) {
	g := uploadGateway(t, uploadLimits())
	bigMap := make(map[string][]string, 10_000)
	for i := range 10_000 {
		bigMap[fmt.Sprint(i)] = []string{"variables.f"}
	}
	bigMapJSON, _ := json.Marshal(bigMap)
	fewMap := `{"0":["variables.f"],"1":["variables.f"],"2":["variables.f"],"3":["variables.f"],"4":["variables.f"]}`
	ops, m := part{name: "operations", body: uploadOne}, part{name: "map", body: `{"0":["variables.f"]}`}
	file := func(n int) part { return part{name: "0", filename: "f", body: strings.Repeat("x", n)} }
	stringVar := `{"query":"mutation($s: String!) { addReview(productUpc: \"1\", authorId: \"1\", body: $s, rating: 1) { rating } }","variables":{"s":null}}`
	cases := []struct {
		name    string
		parts   []part
		noPrefl bool
		status  int
		code    string
		aborted bool // the subgraph's request had begun: it broke off
	}{
		{name: "file over max_file_bytes", parts: []part{ops, m, file(3 << 20)}, status: 413, code: uploads.CodeFileTooLarge, aborted: true},
		{name: "map with 10k entries", parts: []part{ops, {name: "map", body: string(bigMapJSON)}}, status: 413, code: uploads.CodeTooLarge},
		{name: "map over max_files", parts: []part{ops, {name: "map", body: fewMap}}, status: 413, code: uploads.CodeTooManyFiles},
		{name: "path not in variables", parts: []part{ops, {name: "map", body: `{"0":["variables.g"]}`}, file(10)}, status: 400, code: uploads.CodeBadMap},
		{name: "path into a list that is not there", parts: []part{ops, {name: "map", body: `{"0":["variables.f.3"]}`}, file(10)}, status: 400, code: uploads.CodeBadMap},
		{name: "path not starting with variables", parts: []part{ops, {name: "map", body: `{"0":["query"]}`}, file(10)}, status: 400, code: uploads.CodeBadMap},
		{name: "path to a String variable", parts: []part{{name: "operations", body: stringVar}, {name: "map", body: `{"0":["variables.s"]}`}, file(10)}, status: 400, code: uploads.CodeBadMap},
		{name: "files before operations", parts: []part{file(10), ops, m}, status: 400, code: uploads.CodeMalformed},
		{name: "map before operations", parts: []part{m, ops, file(10)}, status: 400, code: uploads.CodeMalformed},
		{name: "batched operations", parts: []part{{name: "operations", body: "[" + uploadOne + "]"}, {name: "map", body: `{"0":["0.variables.f"]}`}, file(10)}, status: 400, code: uploads.CodeBatch},
		{name: "file missing", parts: []part{ops, m}, status: 400, code: uploads.CodeMalformed, aborted: true},
		{name: "part not in map", parts: []part{ops, m, {name: "9", filename: "f", body: "x"}}, status: 400, code: uploads.CodeMalformed, aborted: true},
		{name: "map not JSON", parts: []part{ops, {name: "map", body: `{"0":`}, file(10)}, status: 400, code: uploads.CodeMalformed},
		{name: "no preflight header", parts: []part{ops, m, file(10)}, noPrefl: true, status: 400, code: "CSRF_ERROR"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g.Subgraphs["products"].Reset()
			body, ct := multipartBody(t, c.parts...)
			a := postUpload(t, g, body, ct, !c.noPrefl)
			if a.status != c.status || a.code() != c.code {
				t.Fatalf("got %d %s, want %d %s: %.300s", a.status, a.code(), c.status, c.code, a.raw)
			}
			rec := g.Subgraphs["products"]
			if c.aborted {
				// The subgraph's server notices the broken body after the
				// gateway has answered.
				for end := time.Now().Add(5 * time.Second); rec.Failed() == 0 && time.Now().Before(end); {
					time.Sleep(5 * time.Millisecond)
				}
			}
			if n := rec.Count(); n != 0 {
				t.Fatalf("the products subgraph got %d whole requests", n)
			}
			if n := rec.Failed(); c.aborted != (n == 1) {
				t.Fatalf("the products subgraph saw %d requests break off", n)
			}
		})
	}
}

// TestUploadTotalLimit: files each under max_file_bytes but together
// over max_total_bytes.
func TestUploadTotalLimit(t *testing.T) {
	g := uploadGateway(t, uploadLimits())
	q := `{"query":"mutation($a: Upload!, $b: Upload!, $c: Upload!, $d: Upload!) { a: uploadProductImage(upc: \"1\", file: $a) { size } b: uploadProductImage(upc: \"1\", file: $b) { size } c: uploadProductImage(upc: \"1\", file: $c) { size } d: uploadProductImage(upc: \"1\", file: $d) { size } }","variables":{"a":null,"b":null,"c":null,"d":null}}`
	mb := strings.Repeat("x", 900<<10)
	body, ct := multipartBody(t, part{name: "operations", body: q}, part{name: "map", body: `{"a":["variables.a"],"b":["variables.b"],"c":["variables.c"],"d":["variables.d"]}`},
		part{name: "a", filename: "a", body: mb}, part{name: "b", filename: "b", body: mb}, part{name: "c", filename: "c", body: mb}, part{name: "d", filename: "d", body: mb})
	a := postUpload(t, g, body, ct, true)
	if a.status != 413 || a.code() != uploads.CodeTooLarge {
		t.Fatalf("got %d %s: %.300s", a.status, a.code(), a.raw)
	}
}

func TestUploadDisabledIs415(t *testing.T) {
	g := gatewaytest.Start(t)
	body, ct := multipartBody(t, part{name: "operations", body: uploadOne}, part{name: "map", body: `{"0":["variables.f"]}`}, part{name: "0", filename: "f", body: "x"})
	a := postUpload(t, g, body, ct, true)
	if a.status != 415 {
		t.Fatalf("got %d: %s", a.status, a.raw)
	}
}

// TestUploadSlowBody: a client that sends operations and map, then
// stalls inside its file, is cut by the idle deadline (408), not held.
func TestUploadSlowBody(t *testing.T) {
	cfg := uploadLimits()
	cfg.IdleTimeout = 300 * time.Millisecond
	g := uploadGateway(t, cfg)
	body, ct := multipartBody(t, part{name: "operations", body: uploadOne}, part{name: "map", body: `{"0":["variables.f"]}`},
		part{name: "0", filename: "f", body: strings.Repeat("x", 64<<10)})
	head := body.Bytes()[:body.Len()-32<<10] // stop in the middle of the file
	conn, err := net.Dial("tcp", strings.TrimPrefix(g.BaseURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nApollo-Require-Preflight: true\r\nContent-Length: %d\r\n\r\n", ct, body.Len())
	start := time.Now()
	if _, err := conn.Write(head); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	reply, _ := io.ReadAll(conn)
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the stalled upload was held %v", took)
	}
	if !bytes.HasPrefix(reply, []byte("HTTP/1.1 408")) || !bytes.Contains(reply, []byte(uploads.CodeRequestTimeout)) {
		t.Fatalf("reply: %.300s", reply)
	}
	if n := g.Subgraphs["products"].Count(); n != 0 {
		t.Fatalf("the subgraph got %d whole requests", n)
	}
}

// TestUploadSlowSubgraph: a subgraph that takes longer than the body's
// idle deadline to answer, once the whole body has arrived, still answers:
// the deadline bounds the client, not the subgraph.
func TestUploadSlowSubgraph(t *testing.T) {
	cfg := uploadLimits()
	cfg.IdleTimeout = 200 * time.Millisecond
	opts := server.DefaultOptions()
	cfg.Enabled = true
	opts.Uploads = cfg
	products := demo.Handlers()["products"]
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts), gatewaytest.WithHandler("products", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Second)
		products.ServeHTTP(w, r)
	})))
	content := strings.Repeat("slow", 100_000)
	body, ct := multipartBody(t, part{name: "operations", body: uploadOne}, part{name: "map", body: `{"0":["variables.f"]}`},
		part{name: "0", filename: "f", body: content})
	a := postUpload(t, g, body, ct, true)
	if a.status != 200 || len(a.body.Errors) > 0 || !strings.Contains(a.raw, sha256Hex(content)) {
		t.Fatalf("status %d: %s", a.status, a.raw)
	}
}

// TestUploadDripBody: a client that never stalls but drips its body is
// cut by the whole body's deadline (uploads.timeout).
func TestUploadDripBody(t *testing.T) {
	cfg := uploadLimits()
	cfg.IdleTimeout, cfg.Timeout = 400*time.Millisecond, time.Second
	g := uploadGateway(t, cfg)
	body, ct := multipartBody(t, part{name: "operations", body: uploadOne}, part{name: "map", body: `{"0":["variables.f"]}`},
		part{name: "0", filename: "f", body: strings.Repeat("x", 4096)})
	conn, err := net.Dial("tcp", strings.TrimPrefix(g.BaseURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nApollo-Require-Preflight: true\r\nContent-Length: %d\r\n\r\n", ct, body.Len())
	start := time.Now()
	done := make(chan []byte)
	go func() {
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		reply, _ := io.ReadAll(conn)
		done <- reply
	}()
	data := body.Bytes()
	var reply []byte
drip:
	for i := 0; i < len(data); i += 16 {
		select {
		case reply = <-done:
			break drip
		case <-time.After(100 * time.Millisecond):
		}
		if _, err := conn.Write(data[i:min(i+16, len(data))]); err != nil {
			break
		}
	}
	if reply == nil {
		reply = <-done
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the dripping upload was held %v", took)
	}
	if !bytes.HasPrefix(reply, []byte("HTTP/1.1 408")) {
		t.Fatalf("reply: %.300s", reply)
	}
}

// TestUploadConcurrent: uploads served at once each reach the subgraph
// with their own bytes (placeholders are per request).
func TestUploadConcurrent(t *testing.T) {
	g := uploadGateway(t, uploadLimits())
	const n = 12
	errs := make(chan error, n)
	for i := range n {
		go func() {
			content := strings.Repeat(fmt.Sprintf("request %d;", i), 20_000+i*1000)
			body, ct := multipartBody(t, part{name: "operations", body: uploadOne}, part{name: "map", body: `{"0":["variables.f"]}`},
				part{name: "0", filename: fmt.Sprint(i), body: content})
			req, _ := http.NewRequest(http.MethodPost, g.URL, body)
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Apollo-Require-Preflight", "true")
			resp, err := g.Client.Do(req)
			if err != nil {
				errs <- err
				return
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(raw), sha256Hex(content)) || !strings.Contains(string(raw), fmt.Sprintf(`"filename":"%d"`, i)) {
				errs <- fmt.Errorf("upload %d: %d %s", i, resp.StatusCode, raw)
				return
			}
			errs <- nil
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestUploadOperationsBounds: the operations part is read as a JSON body
// is, under server.max_body_bytes (413) and the memory budget of the
// bodies being read (503 when it is spent).
func TestUploadOperationsBounds(t *testing.T) {
	big := `{"query":"mutation($f: Upload!) { uploadProductImage(upc: \"1\", file: $f) { size } }","variables":{"f":null},"extensions":{"pad":"` + strings.Repeat("x", 8<<10) + `"}}`
	for _, c := range []struct {
		name    string
		maxBody int64
		budget  int64
		status  int
		code    string
	}{
		{"over max_body_bytes", 4 << 10, 0, 413, "REQUEST_TOO_LARGE"},
		{"over the read budget", 1 << 20, 2 << 10, 503, "SERVICE_OVERLOADED"},
		{"within both", 1 << 20, 1 << 20, 200, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := server.DefaultOptions()
			opts.MaxBodyBytes = c.maxBody
			opts.HTTP.MaxReadingBytes = c.budget
			opts.Uploads = uploadLimits()
			opts.Uploads.Enabled = true
			g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts))
			body, ct := multipartBody(t, part{name: "operations", body: big}, part{name: "map", body: `{"0":["variables.f"]}`},
				part{name: "0", filename: "f", body: "file"})
			a := postUpload(t, g, body, ct, true)
			if a.status != c.status || a.code() != c.code {
				t.Fatalf("got %d %s, want %d %s: %.300s", a.status, a.code(), c.status, c.code, a.raw)
			}
		})
	}
}

// TestRefusedUploadOverHTTP2KeepsTheConnection: an embedder serving the
// gateway with TLS speaks HTTP/2, where a refused upload's unread body
// ends with its stream (net/http resets it once the answer is sent). The
// refusal set "Connection: close", which net/http's HTTP/2 server reads
// as a request to end the whole connection (GOAWAY): every other stream
// of the client, on a connection it shares with other requests, was
// ended with it, and the client had to dial and shake hands again.
func TestRefusedUploadOverHTTP2KeepsTheConnection(t *testing.T) {
	g := uploadGateway(t, uploadLimits())
	ts := httptest.NewUnstartedServer(g.Handler)
	ts.Config = g.Handler.HTTPServer()
	ts.EnableHTTP2 = true
	ts.StartTLS()
	t.Cleanup(ts.Close)
	tr := ts.Client().Transport.(*http.Transport).Clone()
	var dials atomic.Int64
	dial := tr.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return dial(ctx, network, addr)
	}
	tr.ForceAttemptHTTP2 = true
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	do := func(body io.Reader, ct string, preflight bool) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/graphql", body)
		req.Header.Set("Content-Type", ct)
		if preflight {
			req.Header.Set("Apollo-Require-Preflight", "true")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := do(strings.NewReader(`{"query":"{ topProducts(first: 1) { upc } }"}`), "application/json", false); resp.ProtoMajor != 2 || resp.StatusCode != 200 {
		t.Fatalf("a query: %s %d, want HTTP/2 200", resp.Proto, resp.StatusCode)
	}
	// A file over max_file_bytes (the body is refused mid-way) and a map
	// over max_files (refused before the files are read).
	for _, parts := range [][]part{
		{{name: "operations", body: uploadOne}, {name: "map", body: `{"0":["variables.f"]}`}, {name: "0", filename: "f", body: strings.Repeat("x", 3<<20)}},
		{{name: "operations", body: uploadOne}, {name: "map", body: `{"0":["variables.f"],"1":["variables.f"],"2":["variables.f"],"3":["variables.f"],"4":["variables.f"]}`}, {name: "0", filename: "f", body: strings.Repeat("x", 100<<10)}},
	} {
		body, ct := multipartBody(t, parts...)
		if resp := do(body, ct, true); resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("a refused upload: %d, want 413", resp.StatusCode)
		}
		time.Sleep(100 * time.Millisecond) // a GOAWAY would have arrived
		if resp := do(strings.NewReader(`{"query":"{ topProducts(first: 1) { upc } }"}`), "application/json", false); resp.StatusCode != 200 {
			t.Fatalf("a query after the refused upload: %d", resp.StatusCode)
		}
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("the client dialed %d connections, want 1: a refused upload ended the HTTP/2 connection its other requests share", n)
	}
}
