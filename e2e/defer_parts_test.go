package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/internal/serial"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs/demo"
	"github.com/fedgate/gateway/telemetry"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// partStream reads the payloads of a multipart answer one by one, as they
// arrive.
type partStream struct {
	t    *testing.T
	resp *http.Response
	mr   *multipart.Reader
}

// openParts posts query with the multipart Accept (and bearer, when not
// empty) and returns the stream of its payloads.
func openParts(t *testing.T, ctx context.Context, url, query, bearer string) *partStream {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", deferAccept)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("content type %q: %s", resp.Header.Get("Content-Type"), clip(b))
	}
	return &partStream{t: t, resp: resp, mr: multipart.NewReader(resp.Body, params["boundary"])}
}

// next returns the next payload.
func (s *partStream) next() map[string]any {
	s.t.Helper()
	p, err := s.mr.NextPart()
	if err != nil {
		s.t.Fatalf("no next part: %v", err)
	}
	var m map[string]any
	if err := json.NewDecoder(p).Decode(&m); err != nil {
		s.t.Fatalf("part is not JSON: %v", err)
	}
	return m
}

// labels lists the label of every incremental entry of a payload.
func labels(p map[string]any) []string {
	var out []string
	incs, _ := p["incremental"].([]any)
	for _, inc := range incs {
		m, _ := inc.(map[string]any)
		l, _ := m["label"].(string)
		out = append(out, l)
	}
	return out
}

// holdable serves the demo subgraph name, holding every request until
// release is closed (or 10 s passed).
func holdable(name string, release <-chan struct{}) http.Handler {
	h := demo.Handlers()[name]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
			return
		case <-time.After(10 * time.Second):
		}
		h.ServeHTTP(w, r)
	})
}

// TestDeferPartsArriveWhenReady: two deferred fragments served by
// different subgraphs; one subgraph is held until the other part has
// arrived. The part whose fetches are done arrives on its own, before the
// held one, whichever of the two is first in the document; the held part
// ends the stream once released. Ordering is checked, not time.
func TestDeferPartsArriveWhenReady(t *testing.T) {
	const query = `{ topProducts(first: 2) { upc name
	  ... @defer(label: "stock") { inStock }
	  ... @defer(label: "reviews") { reviews { body } } } }`
	for _, c := range []struct{ held, heldLabel, freeLabel string }{
		{"inventory", "stock", "reviews"},
		{"reviews", "reviews", "stock"},
	} {
		t.Run("held_"+c.held, func(t *testing.T) {
			release := make(chan struct{})
			var once sync.Once
			open := func() { once.Do(func() { close(release) }) }
			defer open()
			g := gatewaytest.Start(t, gatewaytest.WithHandler(c.held, holdable(c.held, release)))
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			s := openParts(t, ctx, g.URL, query, "")
			if p := s.next(); p["hasNext"] != true || p["incremental"] != nil {
				t.Fatalf("initial payload %v", p)
			}
			p := s.next()
			if got := labels(p); p["hasNext"] != true || len(got) != 2 || got[0] != c.freeLabel || got[1] != c.freeLabel {
				t.Fatalf("while %s is held, the next payload is %v (labels %v): want the two %q entries and hasNext true", c.held, p, got, c.freeLabel)
			}
			open()
			p = s.next()
			if got := labels(p); p["hasNext"] != false || len(got) != 2 || got[0] != c.heldLabel {
				t.Fatalf("after release, payload %v (labels %v): want the %q entries and hasNext false", p, got, c.heldLabel)
			}
		})
	}
}

// TestDeferNestedFollowsParent: the inner @defer's fetch (accounts) does
// not depend on the outer one's (reviews) and finishes first, while
// reviews is held; its payload still comes after the outer part's.
func TestDeferNestedFollowsParent(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	defer open()
	innerDone := make(chan struct{}, 4)
	accounts := demo.Handlers()["accounts"]
	g := gatewaytest.Start(t,
		gatewaytest.WithHandler("reviews", holdable("reviews", release)),
		gatewaytest.WithHandler("accounts", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			accounts.ServeHTTP(w, r)
			if bytes.Contains(body, []byte("_entities")) {
				innerDone <- struct{}{}
			}
		})))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := openParts(t, ctx, g.URL, `{ me { id ... @defer(label: "outer") { reviews { body } ... @defer(label: "inner") { name } } } }`, "")
	if p := s.next(); p["hasNext"] != true {
		t.Fatalf("initial payload %v", p)
	}
	select {
	case <-innerDone:
	case <-ctx.Done():
		t.Fatal("the inner part's fetch never reached accounts")
	}
	open()
	var order []string
	for {
		p := s.next()
		order = append(order, labels(p)...)
		if p["hasNext"] == false {
			break
		}
	}
	if strings.Join(order, ",") != "outer,inner" {
		t.Fatalf("entries arrived as %v, want outer then inner", order)
	}
}

// TestDeferDeniedFieldInPart: a field the caller may not see, in a
// deferred fragment, is null with an UNAUTHORIZED_FIELD_OR_TYPE error in
// that fragment's payload; the primary part and the other deferred part
// carry no error, and the subgraph is never asked for the field.
func TestDeferDeniedFieldInPart(t *testing.T) {
	users, reviews := authGraphs()
	g := gatewaytest.Start(t, gatewaytest.WithSupergraph(authSupergraph(t)),
		gatewaytest.WithHandler("users", users), gatewaytest.WithHandler("reviews", reviews),
		gatewaytest.WithServerOptions(authOptions(nil)))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := openParts(t, ctx, g.URL, `{ users { name ... @defer(label: "private") { email } ... @defer(label: "public") { badge { level } } } }`,
		token(t, map[string]any{"scope": "a"}))
	p0 := s.next()
	if p0["errors"] != nil || p0["hasNext"] != true {
		t.Fatalf("initial payload %v", p0)
	}
	denied := 0
	for {
		p := s.next()
		if p["errors"] != nil {
			t.Fatalf("payload-level errors %v", p["errors"])
		}
		incs, _ := p["incremental"].([]any)
		for _, inc := range incs {
			m := inc.(map[string]any)
			errs, _ := m["errors"].([]any)
			switch m["label"] {
			case "private":
				data, _ := m["data"].(map[string]any)
				if data == nil || data["email"] != nil || len(errs) != 1 {
					t.Fatalf("private entry %v: want email null and one error", m)
				}
				e := errs[0].(map[string]any)
				if code := e["extensions"].(map[string]any)["code"]; code != "UNAUTHORIZED_FIELD_OR_TYPE" {
					t.Fatalf("error code %v", code)
				}
				if fmt.Sprint(e["path"]) != fmt.Sprint(append(m["path"].([]any), "email")) {
					t.Fatalf("error path %v for entry at %v", e["path"], m["path"])
				}
				denied++
			case "public":
				if len(errs) != 0 {
					t.Fatalf("public entry carries errors: %v", m)
				}
			}
		}
		if p["hasNext"] == false {
			break
		}
	}
	if denied != 2 {
		t.Fatalf("%d denied entries, want one per user (2)", denied)
	}
	for _, q := range users.Queries() {
		if strings.Contains(q, "email") {
			t.Fatalf("users was asked for email: %s", q)
		}
	}
}

// TestDeferDeadlineAfterPrimary: the request deadline passes while one
// deferred part's subgraph is held: the primary part and the other part
// were sent, then a last payload carries a GATEWAY_TIMEOUT error with
// hasNext false, and the stream ends.
func TestDeferDeadlineAfterPrimary(t *testing.T) {
	serial.Timing(t) // the reviews part must arrive within the 700 ms deadline
	release := make(chan struct{})
	defer close(release)
	opts := server.DefaultOptions()
	opts.Observe.RequestTimeout = 700 * time.Millisecond
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts), gatewaytest.WithHandler("inventory", holdable("inventory", release)))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := openParts(t, ctx, g.URL, `{ topProducts(first: 2) { upc name
	  ... @defer(label: "stock") { inStock }
	  ... @defer(label: "reviews") { reviews { body } } } }`, "")
	if p := s.next(); p["hasNext"] != true || p["errors"] != nil {
		t.Fatalf("initial payload %v", p)
	}
	if p := s.next(); p["hasNext"] != true || strings.Join(labels(p), ",") != "reviews,reviews" {
		t.Fatalf("second payload %v: want the reviews entries", p)
	}
	last := s.next()
	errs, _ := last["errors"].([]any)
	if last["hasNext"] != false || last["incremental"] != nil || len(errs) != 1 {
		t.Fatalf("last payload %v: want one error and hasNext false", last)
	}
	if code := errs[0].(map[string]any)["extensions"].(map[string]any)["code"]; code != "GATEWAY_TIMEOUT" {
		t.Fatalf("error code %v", code)
	}
	if _, err := s.mr.NextPart(); err != io.EOF {
		t.Fatalf("after the last payload: %v, want the end of the stream", err)
	}
}

// TestDeferSlowReader: clients that send a query whose deferred part is
// some megabytes and then read nothing. The gateway holds one payload per
// request while the write is stalled (memory stays bounded by what the
// requests fetched, it does not grow while stalled), and every request
// ends by the request deadline plus the write grace: no handler, goroutine
// or buffer is left behind.
func TestDeferSlowReader(t *testing.T) {
	serial.Timing(t) // heap and the end of requests measured over real time
	const clients = 3
	big := strings.Repeat("x", 2<<20)
	bodyField := regexp.MustCompile(`"body":"[^"]*"`)
	reviews := demo.Handlers()["reviews"]
	padded := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		reviews.ServeHTTP(rec, r)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(bodyField.ReplaceAll(rec.Body.Bytes(), []byte(`"body":"`+big+`"`)))
	})
	opts := server.DefaultOptions()
	opts.Observe.RequestTimeout = time.Second
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts), gatewaytest.WithHandler("reviews", padded))
	addr := strings.TrimPrefix(g.BaseURL, "http://")
	body, _ := json.Marshal(map[string]any{"query": `{ topProducts(first: 5) { upc ... @defer { reviews { body } } } }`})

	before := heapInUse()
	var conns []net.Conn
	for range clients {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// A small receive window: the gateway's writes stall at once.
		_ = c.(*net.TCPConn).SetReadBuffer(4096)
		fmt.Fprintf(c, "POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAccept: %s\r\nContent-Length: %d\r\n\r\n%s",
			addr, deferAccept, len(body), body)
		conns = append(conns, c)
	}
	// The requests are running and stalled on their writes.
	start := time.Now()
	for g.Handler.InFlight() < clients && time.Since(start) < 5*time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	stalled := int64(heapInUse()) - int64(before)
	// Each request holds its subgraph answer (about 14 MiB: seven review
	// bodies of 2 MiB) and one rendered payload of the same size; a
	// gateway that queued payloads or copied per write would hold more.
	perRequest := int64(7 * len(big))
	t.Logf("heap while %d readers stall: %d MiB (%d MiB of review bodies per request)", clients, stalled>>20, perRequest>>20)
	if stalled > clients*4*perRequest {
		t.Fatalf("heap grew %d MiB while %d readers stall", stalled>>20, clients)
	}
	// Deadline (1 s) plus the write grace (1 s): every request has ended.
	for g.Handler.InFlight() > 0 {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("%d requests still running 10 s after a 1 s deadline", g.Handler.InFlight())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("requests ended %v after they started", time.Since(start).Round(100*time.Millisecond))
	for _, c := range conns {
		c.Close()
	}
	// No goroutine of the runs is left (idle subgraph connections are).
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "ExecuteIncremental") && !strings.Contains(stacks, "writeMultipart") {
			break
		}
		if time.Since(start) > 15*time.Second {
			t.Fatalf("goroutines of the deferred runs are left:\n%s", stacks)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if after := int64(heapInUse()) - int64(before); after > perRequest {
		t.Fatalf("heap %d MiB over the start once the requests ended", after>>20)
	}
}

// heapInUse is the heap in use after the collections that empty the
// sync.Pools (parsers, buffers) too.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestDeferPartsObserved: each deferred part has a defer_part span (under
// the execute span, with its label, path and error count) and is counted
// in fedgate_defer_parts_total by outcome, with its duration.
func TestDeferPartsObserved(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	side := &flapper{}
	g, _ := startObserved(t, side, mainHandler(), nil, telemetry.Options{SpanExporter: exp, LogOutput: io.Discard})
	const query = `query Parts { things { id name ... @defer(label: "side") { extra } } }`
	send := func() []map[string]any {
		body, _ := json.Marshal(map[string]any{"query": query})
		req, _ := http.NewRequest(http.MethodPost, g.URL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", deferAccept)
		req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
		resp, err := g.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return parts(t, resp)
	}
	if ps := send(); len(ps) != 2 {
		t.Fatalf("%d payloads", len(ps))
	}
	side.failing.Store(true)
	if ps := send(); len(ps) != 2 || !strings.Contains(fmt.Sprint(ps[1]), "errors") {
		t.Fatalf("payloads %v: want the part's errors", ps)
	}
	var partSpans []tracetest.SpanStub
	waitFor(t, "two defer_part spans", func() bool {
		partSpans = partSpans[:0]
		for _, s := range exp.GetSpans() {
			if s.Name == telemetry.SpanDeferPart {
				partSpans = append(partSpans, s)
			}
		}
		return len(partSpans) == 2
	})
	names := map[string]string{}
	for _, s := range exp.GetSpans() {
		names[s.SpanContext.SpanID().String()] = s.Name
	}
	// The part's fetch to side runs under its span.
	underPart := 0
	for _, s := range exp.GetSpans() {
		if s.Name == telemetry.SpanFetch && names[s.Parent.SpanID().String()] == telemetry.SpanDeferPart {
			underPart++
		}
	}
	if underPart != 2 {
		t.Errorf("%d fetch spans under a defer_part span, want the side fetch of each request (2)", underPart)
	}
	for i, s := range partSpans {
		if p := names[s.Parent.SpanID().String()]; p != telemetry.SpanExecute {
			t.Errorf("defer_part span under %q, want %q", p, telemetry.SpanExecute)
		}
		attrs := map[string]string{}
		for _, a := range s.Attributes {
			attrs[string(a.Key)] = a.Value.Emit()
		}
		// The failed fetch concerns both things, but their entries keep
		// their data (extra is nullable): its error goes once, to the
		// first entry (executor.renderParts copies an error only to the
		// entries it nulls), so the part counts one.
		wantErrors := []string{"0", "1"}[i]
		if attrs["defer.label"] != "side" || attrs["defer.path"] != "things/@" || attrs["defer.errors"] != wantErrors {
			t.Errorf("span %d attributes %v: want label side, path things/@, errors %s", i, attrs, wantErrors)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, g.BaseURL+"/metrics", nil)
	resp, err := g.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`fedgate_defer_parts_total{operation="Parts",outcome="ok"} 1`,
		`fedgate_defer_parts_total{operation="Parts",outcome="error"} 1`,
		`fedgate_defer_part_duration_seconds_count{operation="Parts"} 2`,
	} {
		if !strings.Contains(string(resp.Body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestDeferPartEndsAtOnce: each part is followed at once by the next
// delimiter, so a client that splits on delimiters (Apollo Client, meros)
// has the primary part while the deferred subgraph is still held; a part
// whose delimiter came only with the next part would reach such a client
// only when the deferred part does.
func TestDeferPartEndsAtOnce(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	defer open()
	g := gatewaytest.Start(t, gatewaytest.WithHandler("inventory", holdable("inventory", release)))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	body, _ := json.Marshal(map[string]any{"query": `{ topProducts(first: 2) { upc name ... @defer { inStock } } }`})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, g.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", deferAccept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	delim := []byte("\r\n--" + params["boundary"])
	var buf []byte
	chunk := make([]byte, 4096)
	// The opening delimiter, the primary part and its closing delimiter,
	// all while inventory is held.
	for bytes.Count(buf, delim) < 2 {
		n, err := resp.Body.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if err != nil {
			t.Fatalf("the primary part's delimiter did not come while the deferred subgraph was held (%v): %q", err, buf)
		}
	}
	if !bytes.Contains(buf, []byte(`"hasNext":true`)) || bytes.Contains(buf, []byte("inStock")) {
		t.Fatalf("first part %q", buf)
	}
	open()
	rest, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	all := append(buf, rest...)
	if !bytes.HasSuffix(all, append(delim, "--\r\n"...)) || !bytes.Contains(all, []byte(`"hasNext":false`)) {
		t.Fatalf("stream %q does not end with the close delimiter after the last part", all)
	}
}
