package subgraphs

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedgate/gateway/executor"
)

// TestClientRequest: what a subgraph receives for one fetch, and how the
// answer and its failures come back, for the request the client builds
// itself (method, URL path and query, body and its length,
// headers) and for each kind of answer.
func TestClientRequest(t *testing.T) {
	body := []byte(`{"query":"{ me { id } }"}`)
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		req      executor.Request
		wantBody string
		wantCode string
	}{
		{name: "answer", req: executor.Request{Body: body, Header: http.Header{"Authorization": {"Bearer t"}}},
			handler: func(w http.ResponseWriter, r *http.Request) {
				got, _ := io.ReadAll(r.Body)
				switch {
				case r.Method != http.MethodPost || r.URL.Path != "/graphql" || r.URL.RawQuery != "x=1":
					http.Error(w, "wrong target "+r.Method+" "+r.URL.String(), http.StatusBadRequest)
				case r.ContentLength != int64(len(body)) || !bytes.Equal(got, body):
					http.Error(w, "wrong body", http.StatusBadRequest)
				case r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Authorization") != "Bearer t" ||
					r.Header.Get("Accept") != "application/graphql-response+json, application/json":
					http.Error(w, "wrong headers", http.StatusBadRequest)
				default:
					w.Header().Set("Content-Type", "application/json")
					_, _ = io.WriteString(w, `{"data":{"me":{"id":"1"}}}`)
				}
			},
			wantBody: `{"data":{"me":{"id":"1"}}}`},
		{name: "upload stream", req: executor.Request{Stream: bytes.NewReader(body), ContentType: "multipart/form-data; boundary=x"},
			handler: func(w http.ResponseWriter, r *http.Request) {
				got, _ := io.ReadAll(r.Body)
				if !bytes.Equal(got, body) || r.Header.Get("Content-Type") != "multipart/form-data; boundary=x" {
					http.Error(w, "wrong upload", http.StatusBadRequest)
					return
				}
				_, _ = io.WriteString(w, `{"data":{}}`)
			},
			wantBody: `{"data":{}}`},
		{name: "server error", req: executor.Request{Body: body},
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "boom", http.StatusInternalServerError)
			},
			wantCode: CodeHTTPError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			c := NewClient(map[string]string{"a": srv.URL + "/graphql?x=1"}, Options{Timeout: 5 * time.Second})
			defer c.Close()
			req := tt.req
			resp, err := c.Fetch(context.Background(), "a", &req)
			if tt.wantCode != "" {
				var fe *executor.FetchError
				if !errors.As(err, &fe) || fe.Code != tt.wantCode {
					t.Fatalf("got %v, want code %s", err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(resp.Body) != tt.wantBody {
				t.Errorf("got %s, want %s", resp.Body, tt.wantBody)
			}
			resp.Release()
		})
	}
}

// TestClientDoesNotFollowRedirects: a subgraph that answers a redirect gets
// an HTTP error, and the request (with the caller's forwarded headers) is
// not sent where the redirect points.
func TestClientDoesNotFollowRedirects(t *testing.T) {
	var followed atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		followed.Add(1)
		_, _ = io.WriteString(w, `{"data":{}}`)
	}))
	defer elsewhere.Close()
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		sg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL, status)
		}))
		c := NewClient(map[string]string{"a": sg.URL}, Options{Timeout: 5 * time.Second})
		_, err := c.Fetch(context.Background(), "a", &executor.Request{Body: []byte(`{}`), Header: http.Header{"Authorization": {"Bearer secret"}}})
		var fe *executor.FetchError
		if !errors.As(err, &fe) || fe.Code != CodeHTTPError {
			t.Errorf("%d: got %v, want %s", status, err, CodeHTTPError)
		}
		c.Close()
		sg.Close()
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("%d redirects followed", n)
	}
}

// TestClientBadURL: a URL that is not http(s) fails each fetch with an HTTP
// error naming it, without a request.
func TestClientBadURL(t *testing.T) {
	for _, u := range []string{"ftp://example.invalid/graphql", "http://", "::"} {
		c := NewClient(map[string]string{"a": u}, Options{})
		_, err := c.Fetch(context.Background(), "a", &executor.Request{Body: []byte(`{}`)})
		var fe *executor.FetchError
		if !errors.As(err, &fe) || fe.Code != CodeHTTPError {
			t.Errorf("%q: got %v", u, err)
		}
		c.Close()
	}
}

// TestClientPooledBuffersNeverMix: the client reuses answer buffers and
// request header maps between fetches. Concurrent callers with answers of
// very different sizes (a few bytes, past a pooled buffer's bound, well
// past the initial read buffer) and different forwarded headers (some with
// more headers than a reused map keeps) each get exactly their own answer,
// and each subgraph request carries exactly its caller's headers.
func TestClientPooledBuffersNeverMix(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		extras := 0
		for k := range r.Header {
			if strings.HasPrefix(k, "X-Extra-") {
				extras++
			}
		}
		pad, _ := strconv.Atoi(r.Header.Get("X-Pad"))
		fmt.Fprintf(w, `{"data":{"caller":%q,"extras":%d,"pad":"%s"}}`, r.Header.Get("X-Caller"), extras, strings.Repeat("p", pad))
	}))
	defer srv.Close()
	c := NewClient(map[string]string{"a": srv.URL}, Options{Timeout: 10 * time.Second})
	defer c.Close()
	pads := []int{0, 3, maxPooledAnswer + 1, 10, 100 << 10, 1, 2 * maxPooledAnswer, 5}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 12 {
				caller := fmt.Sprintf("caller-%d-%d", g, i)
				pad := pads[(g+i)%len(pads)]
				h := http.Header{"X-Caller": {caller}, "X-Pad": {strconv.Itoa(pad)}}
				extras := 0
				if (g+i)%3 == 0 {
					extras = maxPooledHeader + 4
				}
				for e := range extras {
					h[fmt.Sprintf("X-Extra-%d", e)] = []string{caller}
				}
				resp, err := c.Fetch(context.Background(), "a", &executor.Request{Body: []byte(`{}`), Header: h})
				if err != nil {
					errs <- err
					return
				}
				want := fmt.Sprintf(`{"data":{"caller":%q,"extras":%d,"pad":"%s"}}`, caller, extras, strings.Repeat("p", pad))
				if string(resp.Body) != want {
					errs <- fmt.Errorf("%s: got %d bytes %.80s, want %d bytes %.80s", caller, len(resp.Body), resp.Body, len(want), want)
				}
				resp.Release()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestClientPoolsAreBounded: an answer buffer grown past maxPooledAnswer
// goes back to the pool empty, and a header map with more than
// maxPooledHeader entries is not kept; smaller ones are kept, emptied.
// (sync.Pool may drop what it is given, so each case puts until a Get
// returns something.)
func TestClientPoolsAreBounded(t *testing.T) {
	tests := []struct {
		name    string
		grow    int
		wantCap bool
	}{
		{name: "small buffer kept", grow: 64 << 10, wantCap: true},
		{name: "huge buffer dropped", grow: maxPooledAnswer + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pool sync.Pool
			for range 100 {
				a := &answer{pool: &pool}
				a.buf.Grow(tt.grow)
				a.buf.WriteString("secret")
				a.put()
				got, ok := pool.Get().(*answer)
				if !ok {
					continue
				}
				if hasCap := got.buf.Cap() >= tt.grow; hasCap != tt.wantCap {
					t.Fatalf("pooled buffer capacity %d after growing to %d", got.buf.Cap(), tt.grow)
				}
				return
			}
			t.Fatal("the pool never returned the buffer")
		})
	}
	for _, n := range []int{1, maxPooledHeader, maxPooledHeader + 1, 100} {
		c := &Client{}
		kept := false
		for range 100 {
			h := c.header()
			for i := range n {
				h[fmt.Sprintf("X-H-%d", i)] = []string{"secret"}
			}
			c.putHeader(h)
			if got, ok := c.headers.Get().(http.Header); ok {
				if len(got) != 0 {
					t.Fatalf("%d headers: a reused map holds %v", n, got)
				}
				kept = true
				break
			}
		}
		if kept != (n <= maxPooledHeader) {
			t.Errorf("%d headers: kept %v", n, kept)
		}
	}
}

// TestClientFailedReads: a subgraph that hangs up before answering and one
// that hangs up in the middle of the body are both HTTP errors, told
// apart in the message (the answer's head was read or not).
func TestClientFailedReads(t *testing.T) {
	tests := []struct {
		name   string
		answer string
		want   string
	}{
		{name: "no answer", answer: "", want: "request failed"},
		{name: "body cut off", answer: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"data\":", want: "reading the response failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					_, _ = http.ReadRequest(bufio.NewReader(c))
					_, _ = io.WriteString(c, tt.answer)
					c.Close()
				}
			}()
			c := NewClient(map[string]string{"a": "http://" + ln.Addr().String()}, Options{Timeout: 5 * time.Second})
			defer c.Close()
			_, err = c.Fetch(context.Background(), "a", &executor.Request{Body: []byte(`{}`), Mutation: true})
			var fe *executor.FetchError
			if !errors.As(err, &fe) || fe.Code != CodeHTTPError || fe.Message != tt.want {
				t.Fatalf("got %v, want %s %q", err, CodeHTTPError, tt.want)
			}
		})
	}
}

// TestClientQuerySentAgainOnlyAsRetriesAllow: a subgraph that reads a
// query on a kept-alive connection and closes it without answering (a
// crash, a proxy cutting it) may have run the query. Sending it again is
// a retry: with retry.attempts 1 (retries off) or a spent retry budget
// the query is sent once and the fetch fails; with retries on and budget
// left it is sent again and counted as a retry.
func TestClientQuerySentAgainOnlyAsRetriesAllow(t *testing.T) {
	tests := []struct {
		name      string
		attempts  int
		budget    float64 // retry.budget_ratio and min_per_second
		wantErr   bool
		wantReads int // requests the subgraph read over the two fetches
	}{
		{"retries off", 1, 10, true, 2},
		{"budget spent", 2, 0, true, 2},
		{"retries on", 2, 10, false, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			var reads atomic.Int32
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func() {
						defer c.Close()
						br := bufio.NewReader(c)
						for n := 1; ; n++ {
							req, err := http.ReadRequest(br)
							if err != nil {
								return
							}
							_, _ = io.Copy(io.Discard, req.Body)
							reads.Add(1)
							if n > 1 {
								return // read, maybe run, never answered
							}
							_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"data\":{}}")
						}
					}()
				}
			}()
			cfg := DefaultConfig()
			cfg.All.Retry.Attempts = tt.attempts
			cfg.All.Retry.BudgetRatio, cfg.All.Retry.MinPerSecond = tt.budget, tt.budget
			cfg.All.Breaker.Enabled = false
			c := NewClient(map[string]string{"a": "http://" + ln.Addr().String()}, Options{Config: &cfg, Timeout: 5 * time.Second})
			defer c.Close()
			var errs []error
			for range 2 {
				resp, err := c.Fetch(context.Background(), "a", &executor.Request{Body: []byte(`{"query":"{a}"}`)})
				if err == nil {
					resp.Release()
				}
				errs = append(errs, err)
			}
			if errs[0] != nil {
				t.Fatalf("first fetch: %v", errs[0])
			}
			if (errs[1] != nil) != tt.wantErr {
				t.Errorf("second fetch: %v, want an error %v", errs[1], tt.wantErr)
			}
			if n := reads.Load(); n != int32(tt.wantReads) {
				t.Errorf("the subgraph read %d requests, want %d", n, tt.wantReads)
			}
		})
	}
}

// TestUploadAnswersShareTheBudget: the answer to a streamed request (a
// file upload, sent with net/http rather than the pool) is read under
// max_answer_bytes as every other answer is: one past what is left fails
// with the budget's error (before, a subgraph answering an upload with
// 1 GB had it read up to max_response_bytes, outside the budget), and
// one held counts against the answers read beside it until it is
// released.
func TestUploadAnswersShareTheBudget(t *testing.T) {
	const budget = 1 << 20
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		size, _ := strconv.Atoi(r.URL.Query().Get("size"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"data":{"x":"%s"}}`, strings.Repeat("x", size))
	}))
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.MaxAnswerBytes = budget
	cfg.All.Breaker.Enabled = false
	urls := map[string]string{}
	for _, size := range []int{600 << 10, 3 << 20} {
		urls[strconv.Itoa(size)] = srv.URL + "/?size=" + strconv.Itoa(size)
	}
	c := NewClient(urls, Options{Config: &cfg})
	defer c.Close()
	upload := func() *executor.Request {
		return &executor.Request{Stream: strings.NewReader("--x\r\n"), ContentType: "multipart/form-data; boundary=x"}
	}
	post := func() *executor.Request { return &executor.Request{Body: []byte(`{"query":"{ x }"}`)} }
	refused := func(err error) bool {
		var fe *executor.FetchError
		return errors.As(err, &fe) && fe == errAnswerBudget
	}

	// An upload's answer larger than the budget.
	if resp, err := c.Fetch(context.Background(), strconv.Itoa(3<<20), upload()); !refused(err) {
		if resp != nil {
			resp.Release()
		}
		t.Errorf("a 3 MiB answer to an upload with a 1 MiB answer budget: %v, want the budget's refusal", err)
	}
	// An upload's answer held takes from what the others may read.
	held, err := c.Fetch(context.Background(), strconv.Itoa(600<<10), upload())
	if err != nil {
		t.Fatalf("a 600 KiB answer to an upload: %v", err)
	}
	if resp, err := c.Fetch(context.Background(), strconv.Itoa(600<<10), post()); !refused(err) {
		if resp != nil {
			resp.Release()
		}
		t.Errorf("a 600 KiB answer beside a 600 KiB upload answer held, budget 1 MiB: %v, want the budget's refusal", err)
	}
	held.Release()
	resp, err := c.Fetch(context.Background(), strconv.Itoa(600<<10), post())
	if err != nil {
		t.Fatalf("a 600 KiB answer once the upload's was released: %v", err)
	}
	resp.Release()
	if left := c.answers.left.Load(); left != budget {
		t.Errorf("%d bytes of the answer budget left once every answer was released, want %d", left, budget)
	}
}
