package subgraphs

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/internal/freeport"
	"github.com/fedgate/gateway/internal/syncbuf"
	"github.com/fedgate/gateway/telemetry"
)

// failingClient is a client of subgraph "a" at url, sending each fetch
// once with a 100 ms timeout, logging JSON lines to log.
func failingClient(t *testing.T, url string, log *syncbuf.Buffer) *Client {
	t.Helper()
	cfg := DefaultConfig()
	cfg.All.Timeout = 100 * time.Millisecond
	cfg.All.Retry.Attempts = 1
	c := NewClient(map[string]string{"a": url}, Options{Config: &cfg, Logger: slog.New(slog.NewJSONHandler(log, nil))})
	t.Cleanup(c.Close)
	return c
}

// logLines are the log's "subgraph fetch failed" lines, decoded.
func logLines(t *testing.T, log string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		if !strings.Contains(line, `"subgraph fetch failed"`) {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		out = append(out, m)
	}
	return out
}

// TestFetchFailureSaysWhy: a failed fetch (nothing listening, no answer
// in time, an error status, an answer that is not JSON) is logged with
// the request, the subgraph and its URL, the plan's fetch and its path,
// the code and the cause, and the request's own log line gets the same
// cause. Before, the request log said only the code, and a 200 that was
// not JSON not even that; nothing said why.
func TestFetchFailureSaysWhy(t *testing.T) {
	serve := func(h http.HandlerFunc) string {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv.URL
	}
	for _, tc := range []struct {
		name, url, code, cause string
	}{
		{"connection refused", "http://" + freeport.Reserve(t).Addr() + "/graphql", CodeHTTPError, "connection refused"},
		{"timeout", serve(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		}), CodeTimeout, "no answer within the timeout of 100ms"},
		{"error status", serve(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		}), CodeHTTPError, `answered status 503 (Content-Type "text/plain; charset=utf-8")`},
		{"not JSON", serve(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html>proxy error</html>"))
		}), CodeMalformedResponse, `the answer is not a JSON object: 24 bytes, Content-Type "text/html", starting "<html>proxy error</html>"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := &syncbuf.Buffer{}
			c := failingClient(t, tc.url, log)
			ri := telemetry.NewRequestInfo("req-1")
			ctx := telemetry.WithRequestInfo(context.Background(), ri)
			_, _ = c.Fetch(ctx, "a", &executor.Request{Body: []byte(`{"query":"{ a }"}`), FetchID: 2, Path: []string{"topProducts", "@"}})
			lines := logLines(t, log.String())
			if len(lines) != 1 {
				t.Fatalf("%d failure lines, want 1:\n%s", len(lines), log.String())
			}
			l := lines[0]
			host := strings.TrimPrefix(tc.url, "http://")
			if l["request_id"] != "req-1" || l["subgraph"] != "a" || l["url"] != tc.url || l["fetch"] != 2.0 || l["path"] != "topProducts.@" ||
				l["code"] != tc.code || !strings.Contains(l["error"].(string), tc.cause) || l["level"] != "WARN" {
				t.Errorf("failure line %v, want request req-1, subgraph a at %s, fetch 2 at topProducts.@, %s, an error saying %q", l, host, tc.code, tc.cause)
			}
			f := ri.Fetches()
			if len(f) != 1 || f[0].Code != tc.code || f[0].Failure == nil || !strings.Contains(f[0].Failure.Error, tc.cause) || f[0].Failure.FetchID != 2 {
				t.Errorf("the request's fetches %+v, want one %s saying %q", f, tc.code, tc.cause)
			}
			var line syncbuf.Buffer
			slog.New(slog.NewJSONHandler(&line, nil)).LogAttrs(ctx, slog.LevelInfo, "request", ri.LogAttrs()...)
			if !strings.Contains(line.String(), `"code":"`+tc.code+`","attempts":1,"fetch":2,"path":"topProducts.@","error":`) {
				t.Errorf("the request's log line lacks the failure: %s", line.String())
			}
		})
	}
}

// TestShownURL: logs and failure causes name a subgraph's URL without the
// key or password a routing URL may carry.
func TestShownURL(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"http://10.0.0.5:4001/graphql", "http://10.0.0.5:4001/graphql"},
		{"https://x.example/graphql?api_key=s3cret", "https://x.example/graphql"},
		{"https://user:s3cret@x.example/graphql#frag", "https://x.example/graphql"},
		{"https://x.example/graphql?", "https://x.example/graphql"},
		// Not parsed: cut at the query, user information dropped.
		{"http://x example/graphql?api_key=s3cret", "http://x example/graphql"},
		{"http://user:s3cret@x example/graphql", "http://x example/graphql"},
		{"http://x example/a@b", "http://x example/a@b"},
	} {
		if got := shownURL(tc.raw); got != tc.want {
			t.Errorf("shownURL(%q) = %q, want %q", tc.raw, got, tc.want)
		}
	}
	// Through a failing fetch: neither the log line nor the cause has the key.
	log := &syncbuf.Buffer{}
	c := failingClient(t, "http://user:s3cret@"+freeport.Reserve(t).Addr()+"/graphql?api_key=s3cret", log)
	ri := telemetry.NewRequestInfo("req-1")
	ctx := telemetry.WithRequestInfo(context.Background(), ri)
	_, _ = c.Fetch(ctx, "a", &executor.Request{Body: []byte(`{"query":"{ a }"}`)})
	f := ri.Fetches()
	if strings.Contains(log.String(), "s3cret") || len(f) != 1 || f[0].Failure == nil || strings.Contains(f[0].Failure.Error, "s3cret") {
		t.Errorf("the secret was logged or kept in the cause: %s %+v", log.String(), f)
	}
}

// TestUnusableURLNotShown: a routing URL that does not parse, or is not
// http(s), fails every fetch; the error every client gets, the cause and
// the log line do not repeat the key or password it may carry.
func TestUnusableURLNotShown(t *testing.T) {
	for _, url := range []string{
		"ftp://x.example/graphql?api_key=s3cret",
		"http://x example/graphql?api_key=s3cret",
		"http://user:s3cret@/graphql",
		"http://user:s3cret@x example/graphql",
	} {
		log := &syncbuf.Buffer{}
		c := failingClient(t, url, log)
		ri := telemetry.NewRequestInfo("req-1")
		ctx := telemetry.WithRequestInfo(context.Background(), ri)
		_, err := c.Fetch(ctx, "a", &executor.Request{Body: []byte(`{"query":"{ a }"}`)})
		f := ri.Fetches()
		if err == nil || len(f) != 1 || f[0].Failure == nil {
			t.Fatalf("%s: want a failed fetch, got %v %+v", url, err, f)
		}
		if strings.Contains(err.Error(), "s3cret") || strings.Contains(f[0].Failure.Error, "s3cret") || strings.Contains(log.String(), "s3cret") {
			t.Errorf("%s: the secret was shown:\nmessage %s\ncause %s\nlog %s", url, err, f[0].Failure.Error, log.String())
		}
		if !strings.Contains(f[0].Failure.Error, "subgraph URL") {
			t.Errorf("%s: the cause does not say the URL is at fault: %s", url, f[0].Failure.Error)
		}
	}
}

// TestFailureLogBounded: a subgraph that is down fails every request
// that needs it; its failures get a log line at most once per
// failureLogInterval, the next one counting those held back, while each
// request's own log line keeps its cause.
func TestFailureLogBounded(t *testing.T) {
	var l failureLog
	now := time.Now()
	if ok, n := l.admit(now); !ok || n != 0 {
		t.Fatalf("first failure: %v %d, want logged", ok, n)
	}
	for i := range 5 {
		if ok, _ := l.admit(now.Add(time.Duration(i+1) * failureLogInterval / 10)); ok {
			t.Fatalf("failure %d within the interval was logged", i+2)
		}
	}
	if ok, n := l.admit(now.Add(failureLogInterval)); !ok || n != 5 {
		t.Fatalf("a failure an interval later: %v, %d held back; want logged with 5", ok, n)
	}

	log := &syncbuf.Buffer{}
	c := failingClient(t, "http://"+freeport.Reserve(t).Addr()+"/graphql", log)
	start := time.Now()
	const fetches = 200
	for range fetches {
		ri := telemetry.NewRequestInfo("r")
		_, _ = c.Fetch(telemetry.WithRequestInfo(context.Background(), ri), "a", &executor.Request{Body: []byte(`{"query":"{ a }"}`)})
		// Refused, then failing fast once the breaker opens: either way
		// with a cause.
		if f := ri.Fetches(); len(f) != 1 || f[0].Failure == nil ||
			!strings.Contains(f[0].Failure.Error, "connection refused") && !strings.Contains(f[0].Failure.Error, "circuit breaker open") {
			t.Fatalf("a request's fetches %+v, want the cause", f)
		}
	}
	lines := logLines(t, log.String())
	if most := 1 + int(time.Since(start)/failureLogInterval); len(lines) == 0 || len(lines) > most {
		t.Fatalf("%d failure lines for %d failures in %v, want 1 to %d", len(lines), fetches, time.Since(start), most)
	}
}
