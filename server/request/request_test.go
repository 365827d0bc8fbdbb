package request

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/fedgate/gateway/limits"
)

// postReq builds a POST with the given content type and body; a negative
// ContentLength is left unknown, as for a chunked body.
func postReq(ct, body string, hdr ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	return r
}

func getReq(rawQuery string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/graphql", nil)
	r.URL.RawQuery = rawQuery
	return r
}

func gz(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

// chunked hides the length of a body from the request.
func chunked(r *http.Request) *http.Request {
	r.ContentLength = -1
	r.Body = io.NopCloser(struct{ io.Reader }{r.Body})
	return r
}

func TestDecode(t *testing.T) {
	const js = "application/json"
	small := Options{MaxBodyBytes: 64}
	batch := Options{AllowBatch: true, MaxBatch: 2}
	tests := []struct {
		name    string
		req     *http.Request
		opt     Options
		want    []Request // nil when an error is expected
		batched bool
		code    string
		status  int
	}{
		// Methods and content types.
		{name: "post json", req: postReq(js, `{"query":"{me{id}}"}`), want: []Request{{Query: "{me{id}}"}}},
		{name: "post json charset", req: postReq("application/json; charset=UTF-8", `{"query":"{a}"}`), want: []Request{{Query: "{a}"}}},
		{name: "post json upper case type", req: postReq("Application/JSON", `{"query":"{a}"}`), want: []Request{{Query: "{a}"}}},
		{name: "post json other charset", req: postReq("application/json; charset=latin1", `{"query":"{a}"}`), code: CodeUnsupportedMediaType, status: 415},
		{name: "post graphql body", req: postReq("application/graphql", "{me{id}}"), want: []Request{{Query: "{me{id}}"}}},
		{name: "post graphql empty", req: postReq("application/graphql", ""), code: CodeBadRequest, status: 400},
		{name: "post graphql invalid UTF-8", req: postReq("application/graphql", "{a(x:\"\xff\")}"), code: CodeBadRequest, status: 400},
		{name: "post no content type", req: postReq("", `{"query":"{a}"}`), code: CodeUnsupportedMediaType, status: 415},
		{name: "post text/plain", req: postReq("text/plain", `{"query":"{a}"}`), code: CodeUnsupportedMediaType, status: 415},
		{name: "post form", req: postReq("application/x-www-form-urlencoded", "query=%7Ba%7D"), code: CodeUnsupportedMediaType, status: 415},
		{name: "post multipart", req: postReq("multipart/form-data; boundary=x", "--x--"), code: CodeUnsupportedMediaType, status: 415},
		{name: "post response media type", req: postReq("application/graphql-response+json", `{"query":"{a}"}`), code: CodeUnsupportedMediaType, status: 415},
		{name: "post malformed content type", req: postReq("application/json; charset", `{"query":"{a}"}`), code: CodeUnsupportedMediaType, status: 415},
		{name: "put", req: httptest.NewRequest(http.MethodPut, "/graphql", strings.NewReader(`{"query":"{a}"}`)), code: CodeMethodNotAllowed, status: 405},
		{name: "delete", req: httptest.NewRequest(http.MethodDelete, "/graphql", nil), code: CodeMethodNotAllowed, status: 405},

		// GET.
		{name: "get", req: getReq("query=%7Bme%7Bid%7D%7D&operationName=Q&variables=%7B%22n%22%3A1%7D&extensions=%7B%7D"),
			want: []Request{{Query: "{me{id}}", OperationName: "Q", Variables: []byte(`{"n":1}`), Extensions: []byte(`{}`)}}},
		{name: "get null and empty variables", req: getReq("query=%7Ba%7D&variables=null&extensions="), want: []Request{{Query: "{a}"}}},
		{name: "get variables with spaces", req: getReq("query=%7Ba%7D&variables=+%7B+%22n%22+%3A+1+%7D+"), want: []Request{{Query: "{a}", Variables: []byte(`{ "n" : 1 }`)}}},
		{name: "get duplicate query", req: getReq("query=%7Ba%7D&query=%7Bb%7D"), code: CodeBadRequest, status: 400},
		{name: "get duplicate variables", req: getReq("query=%7Ba%7D&variables=%7B%7D&variables=%7B%7D"), code: CodeBadRequest, status: 400},
		{name: "get case variant param ignored", req: getReq("Query=%7Ba%7D"), code: CodeBadRequest, status: 400},
		{name: "get missing query", req: getReq(""), code: CodeBadRequest, status: 400},
		{name: "get variables array", req: getReq("query=%7Ba%7D&variables=%5B1%5D"), code: CodeBadRequest, status: 400},
		{name: "get variables invalid JSON", req: getReq("query=%7Ba%7D&variables=%7B"), code: CodeBadRequest, status: 400},
		{name: "get variables trailing data", req: getReq("query=%7Ba%7D&variables=%7B%7D%7B%7D"), code: CodeBadRequest, status: 400},
		{name: "get extensions string", req: getReq("query=%7Ba%7D&extensions=%22x%22"), code: CodeBadRequest, status: 400},
		{name: "get invalid UTF-8", req: getReq("query=%7Ba%28x%3A%22%FF%22%29%7D"), code: CodeBadRequest, status: 400},
		{name: "get bad escape", req: getReq("query=%zz"), code: CodeBadRequest, status: 400},
		{name: "get semicolon", req: getReq("query=%7Ba%7D;x=1"), code: CodeBadRequest, status: 400},
		{name: "get persisted query only", req: getReq("extensions=" + url.QueryEscape(`{"persistedQuery":{"version":1,"sha256Hash":"abc"}}`)),
			want: []Request{{Extensions: []byte(`{"persistedQuery":{"version":1,"sha256Hash":"abc"}}`)}}},
		{name: "get query string too long", req: getReq("query=" + strings.Repeat("a", 100)), opt: small, code: CodeRequestTooLarge, status: 413},

		// JSON envelope.
		{name: "case variant key", req: postReq(js, `{"query":"{a}","Query":"{b}","QUERY":"{c}"}`), want: []Request{{Query: "{a}"}}},
		{name: "case variant key first", req: postReq(js, `{"Query":"{b}","query":"{a}"}`), want: []Request{{Query: "{a}"}}},
		{name: "only case variant key", req: postReq(js, `{"Query":"{b}"}`), code: CodeBadRequest, status: 400},
		{name: "duplicate key", req: postReq(js, `{"query":"{a}","query":"{b}"}`), code: CodeBadRequest, status: 400},
		{name: "duplicate key by escape", req: postReq(js, `{"query":"{a}","\u0071uery":"{b}"}`), code: CodeBadRequest, status: 400},
		{name: "duplicate unknown key", req: postReq(js, `{"query":"{a}","x":1,"x":2}`), code: CodeBadRequest, status: 400},
		{name: "duplicate key in variables", req: postReq(js, `{"query":"{a}","variables":{"n":1,"n":2}}`), code: CodeBadRequest, status: 400},
		{name: "duplicate key deep in variables", req: postReq(js, `{"query":"{a}","variables":{"a":[{"b":{"c":1,"c":2}}]}}`), code: CodeBadRequest, status: 400},
		{name: "same key in sibling objects", req: postReq(js, `{"query":"{a}","variables":{"a":{"x":1},"b":{"x":1},"c":[{"x":1},{"x":2}]}}`),
			want: []Request{{Query: "{a}", Variables: []byte(`{"a":{"x":1},"b":{"x":1},"c":[{"x":1},{"x":2}]}`)}}},
		{name: "same key at two depths", req: postReq(js, `{"query":"{a}","variables":{"query":{"query":1}}}`),
			want: []Request{{Query: "{a}", Variables: []byte(`{"query":{"query":1}}`)}}},
		{name: "unknown keys ignored", req: postReq(js, `{"id":"x","query":"{a}","extra":{"deep":[1,2,{"x":null}]}}`), want: []Request{{Query: "{a}"}}},
		{name: "all fields", req: postReq(js, ` { "query" : "query Q($n:Int){a(n:$n)}" , "operationName" : "Q" , "variables" : { "n" : 2147483648, "big": 9007199254740993, "f": -1.5e+300 } , "extensions" : {"x":[true,false,null]} } `),
			want: []Request{{Query: "query Q($n:Int){a(n:$n)}", OperationName: "Q", Variables: []byte(`{ "n" : 2147483648, "big": 9007199254740993, "f": -1.5e+300 }`), Extensions: []byte(`{"x":[true,false,null]}`)}}},
		{name: "nulls", req: postReq(js, `{"query":"{a}","operationName":null,"variables":null,"extensions":null}`), want: []Request{{Query: "{a}"}}},
		{name: "escapes decoded", req: postReq(js, `{"query":"{a(x:\"\u00e9\\n\ud83d\ude00\")}\n\t\/"}`), want: []Request{{Query: "{a(x:\"é\\n😀\")}\n\t/"}}},
		{name: "query number", req: postReq(js, `{"query":1}`), code: CodeBadRequest, status: 400},
		{name: "query object", req: postReq(js, `{"query":{"a":1}}`), code: CodeBadRequest, status: 400},
		{name: "query null", req: postReq(js, `{"query":null}`), code: CodeBadRequest, status: 400},
		{name: "query empty", req: postReq(js, `{"query":""}`), code: CodeBadRequest, status: 400},
		{name: "missing query", req: postReq(js, `{"variables":{}}`), code: CodeBadRequest, status: 400},
		{name: "operationName number", req: postReq(js, `{"query":"{a}","operationName":1}`), code: CodeBadRequest, status: 400},
		{name: "variables array", req: postReq(js, `{"query":"{a}","variables":[1,2]}`), code: CodeBadRequest, status: 400},
		{name: "variables string", req: postReq(js, `{"query":"{a}","variables":"{}"}`), code: CodeBadRequest, status: 400},
		{name: "extensions array", req: postReq(js, `{"query":"{a}","extensions":[]}`), code: CodeBadRequest, status: 400},
		{name: "persisted query without query", req: postReq(js, `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}`),
			want: []Request{{Extensions: []byte(`{"persistedQuery":{"version":1,"sha256Hash":"abc"}}`)}}},
		{name: "persisted query null", req: postReq(js, `{"extensions":{"persistedQuery":null}}`), code: CodeBadRequest, status: 400},
		{name: "persisted query nested", req: postReq(js, `{"extensions":{"x":{"persistedQuery":{}}}}`), code: CodeBadRequest, status: 400},

		// JSON syntax.
		{name: "empty body", req: postReq(js, ""), code: CodeBadRequest, status: 400},
		{name: "whitespace body", req: postReq(js, " \n "), code: CodeBadRequest, status: 400},
		{name: "body null", req: postReq(js, "null"), code: CodeBadRequest, status: 400},
		{name: "body string", req: postReq(js, `"{a}"`), code: CodeBadRequest, status: 400},
		{name: "truncated", req: postReq(js, `{"query":"{me{id}}"`), code: CodeBadRequest, status: 400},
		{name: "truncated string", req: postReq(js, `{"query":"{me{id}}`), code: CodeBadRequest, status: 400},
		{name: "trailing data", req: postReq(js, `{"query":"{a}"}{"query":"{b}"}`), code: CodeBadRequest, status: 400},
		{name: "trailing comma", req: postReq(js, `{"query":"{a}",}`), code: CodeBadRequest, status: 400},
		{name: "single quotes", req: postReq(js, `{'query':'{a}'}`), code: CodeBadRequest, status: 400},
		{name: "unquoted key", req: postReq(js, `{query:"{a}"}`), code: CodeBadRequest, status: 400},
		{name: "BOM", req: postReq(js, "\ufeff{\"query\":\"{a}\"}"), code: CodeBadRequest, status: 400},
		{name: "invalid UTF-8", req: postReq(js, "{\"query\":\"{me{id}} \xff\xfe \xc3(\"}"), code: CodeBadRequest, status: 400},
		{name: "invalid UTF-8 in key", req: postReq(js, "{\"query\":\"{a}\",\"\xff\":1}"), code: CodeBadRequest, status: 400},
		{name: "UTF-8 surrogate bytes", req: postReq(js, "{\"query\":\"\xed\xa0\x80\"}"), code: CodeBadRequest, status: 400},
		{name: "lone high surrogate", req: postReq(js, `{"query":"\ud800"}`), code: CodeBadRequest, status: 400},
		{name: "lone low surrogate", req: postReq(js, `{"query":"\udc00"}`), code: CodeBadRequest, status: 400},
		{name: "high surrogate then other escape", req: postReq(js, `{"query":"\ud800\u0041"}`), code: CodeBadRequest, status: 400},
		{name: "invalid escape", req: postReq(js, `{"query":"\x41"}`), code: CodeBadRequest, status: 400},
		{name: "short unicode escape", req: postReq(js, `{"query":"\u41"}`), code: CodeBadRequest, status: 400},
		{name: "control character", req: postReq(js, "{\"query\":\"{a}\n\"}"), code: CodeBadRequest, status: 400},
		{name: "NaN", req: postReq(js, `{"query":"{a}","variables":{"n":NaN}}`), code: CodeBadRequest, status: 400},
		{name: "Infinity", req: postReq(js, `{"query":"{a}","variables":{"n":-Infinity}}`), code: CodeBadRequest, status: 400},
		{name: "leading zero", req: postReq(js, `{"query":"{a}","variables":{"n":01}}`), code: CodeBadRequest, status: 400},
		{name: "plus sign", req: postReq(js, `{"query":"{a}","variables":{"n":+1}}`), code: CodeBadRequest, status: 400},
		{name: "bare fraction", req: postReq(js, `{"query":"{a}","variables":{"n":1.}}`), code: CodeBadRequest, status: 400},
		{name: "bare exponent", req: postReq(js, `{"query":"{a}","variables":{"n":1e}}`), code: CodeBadRequest, status: 400},
		{name: "lone minus", req: postReq(js, `{"query":"{a}","variables":{"n":-}}`), code: CodeBadRequest, status: 400},
		{name: "bad literal", req: postReq(js, `{"query":"{a}","variables":{"n":tru}}`), code: CodeBadRequest, status: 400},
		{name: "numbers", req: postReq(js, `{"query":"{a}","variables":{"a":0,"b":-0.5,"c":1E-7,"d":12e+3}}`), want: []Request{{Query: "{a}", Variables: []byte(`{"a":0,"b":-0.5,"c":1E-7,"d":12e+3}`)}}},
		{name: "nesting at limit", req: postReq(js, `{"query":"{a}","variables":{"v":`+strings.Repeat("[", maxJSONDepth-2)+strings.Repeat("]", maxJSONDepth-2)+`}}`),
			want: []Request{{Query: "{a}", Variables: []byte(`{"v":` + strings.Repeat("[", maxJSONDepth-2) + strings.Repeat("]", maxJSONDepth-2) + `}`)}}},
		{name: "nesting over", req: postReq(js, `{"query":"{a}","variables":{"v":`+strings.Repeat("[", maxJSONDepth-1)+strings.Repeat("]", maxJSONDepth-1)+`}}`), code: CodeBadRequest, status: 400},
		{name: "nesting far over", req: postReq(js, `{"query":"{a}","variables":`+strings.Repeat(`{"a":`, 100000)), code: CodeBadRequest, status: 400},

		// Batches.
		{name: "batch disabled", req: postReq(js, `[{"query":"{a}"}]`), code: CodeBatchingNotEnabled, status: 400},
		{name: "batch", req: postReq(js, ` [ {"query":"{a}"} , {"query":"{b}","operationName":"B"} ] `), opt: batch, batched: true,
			want: []Request{{Query: "{a}"}, {Query: "{b}", OperationName: "B"}}},
		{name: "batch of one", req: postReq(js, `[{"query":"{a}"}]`), opt: batch, batched: true, want: []Request{{Query: "{a}"}}},
		{name: "batch over limit", req: postReq(js, `[{"query":"{a}"},{"query":"{a}"},{"query":"{a}"}]`), opt: batch, code: CodeBatchLimitExceeded, status: 400},
		{name: "batch over limit before bad entry", req: postReq(js, `[{"query":"{a}"},{"query":"{a}"},garbage`), opt: batch, code: CodeBatchLimitExceeded, status: 400},
		{name: "batch empty", req: postReq(js, `[]`), opt: batch, code: CodeBadRequest, status: 400},
		{name: "batch entry not object", req: postReq(js, `[{"query":"{a}"},"{b}"]`), opt: batch, code: CodeBadRequest, status: 400},
		{name: "batch entry missing query", req: postReq(js, `[{"query":"{a}"},{}]`), opt: batch, code: CodeBadRequest, status: 400},
		{name: "batch entry duplicate key", req: postReq(js, `[{"query":"{a}","query":"{b}"}]`), opt: batch, code: CodeBadRequest, status: 400},
		{name: "batch same key in two entries", req: postReq(js, `[{"query":"{a}"},{"query":"{b}"}]`), opt: batch, batched: true, want: []Request{{Query: "{a}"}, {Query: "{b}"}}},
		{name: "batch truncated", req: postReq(js, `[{"query":"{a}"}`), opt: batch, code: CodeBadRequest, status: 400},
		{name: "batch trailing comma", req: postReq(js, `[{"query":"{a}"},]`), opt: batch, code: CodeBadRequest, status: 400},
		{name: "batch default limit", req: postReq(js, "["+strings.Repeat(`{"query":"{a}"},`, DefaultMaxBatch)+`{"query":"{a}"}]`), opt: Options{AllowBatch: true}, code: CodeBatchLimitExceeded, status: 400},

		// Size and encoding.
		{name: "body at limit", req: postReq(js, `{"query":"{`+strings.Repeat("a ", 24)+`}"}`), opt: small, want: []Request{{Query: "{" + strings.Repeat("a ", 24) + "}"}}},
		{name: "body over limit", req: postReq(js, `{"query":"{`+strings.Repeat("a ", 26)+`}"}`), opt: small, code: CodeRequestTooLarge, status: 413},
		{name: "chunked body over limit", req: chunked(postReq(js, `{"query":"{`+strings.Repeat("a ", 26)+`}"}`)), opt: small, code: CodeRequestTooLarge, status: 413},
		{name: "default limit", req: chunked(postReq(js, `{"query":"`+strings.Repeat("a", DefaultMaxBodyBytes)+`"}`)), code: CodeRequestTooLarge, status: 413},
		{name: "gzip", req: postReq(js, gz(`{"query":"{me{id}}"}`), "Content-Encoding", "gzip"), want: []Request{{Query: "{me{id}}"}}},
		{name: "gzip upper case", req: postReq(js, gz(`{"query":"{me{id}}"}`), "Content-Encoding", "GZIP"), want: []Request{{Query: "{me{id}}"}}},
		{name: "identity", req: postReq(js, `{"query":"{a}"}`, "Content-Encoding", "identity"), want: []Request{{Query: "{a}"}}},
		{name: "gzip bomb", req: postReq(js, gz(`{"query":"`+strings.Repeat(" ", 1<<20)+`{a}"}`), "Content-Encoding", "gzip"), opt: Options{MaxBodyBytes: 4096}, code: CodeRequestTooLarge, status: 413},
		{name: "gzip decompressed at limit", req: postReq(js, gz(`{"query":"{`+strings.Repeat("a ", 24)+`}"}`), "Content-Encoding", "gzip"), opt: small, want: []Request{{Query: "{" + strings.Repeat("a ", 24) + "}"}}},
		{name: "gzip decompressed over limit", req: postReq(js, gz(`{"query":"{`+strings.Repeat("a ", 26)+`}"}`), "Content-Encoding", "gzip"), opt: small, code: CodeRequestTooLarge, status: 413},
		{name: "invalid gzip", req: postReq(js, `{"query":"{a}"}`, "Content-Encoding", "gzip"), code: CodeBadRequest, status: 400},
		{name: "empty gzip", req: postReq(js, "", "Content-Encoding", "gzip"), code: CodeBadRequest, status: 400},
		{name: "truncated gzip", req: postReq(js, gz(`{"query":"{me{id}}"}`)[:20], "Content-Encoding", "gzip"), code: CodeBadRequest, status: 400},
		{name: "gzip bad checksum", req: postReq(js, badChecksum(gz(`{"query":"{me{id}}"}`)), "Content-Encoding", "gzip"), code: CodeBadRequest, status: 400},
		{name: "unsupported encoding", req: postReq(js, `{"query":"{a}"}`, "Content-Encoding", "br"), code: CodeUnsupportedMediaType, status: 415},
		{name: "stacked encodings", req: postReq(js, gz(gz(`{"query":"{a}"}`)), "Content-Encoding", "gzip, gzip"), code: CodeUnsupportedMediaType, status: 415},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, batched, err := Decode(tt.req, tt.opt)
			if tt.code != "" {
				assertError(t, err, tt.code, tt.status)
				if got != nil {
					t.Fatalf("got requests %v with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if batched != tt.batched {
				t.Fatalf("batched = %v, want %v", batched, tt.batched)
			}
			assertRequests(t, got, tt.want)
		})
	}
}

func badChecksum(s string) string {
	b := []byte(s)
	b[len(b)-8] ^= 0xff // CRC-32 of the gzip trailer
	return string(b)
}

func assertRequests(t *testing.T, got, want []Request) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d requests, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Query != w.Query || g.OperationName != w.OperationName ||
			!bytes.Equal(g.Variables, w.Variables) || (g.Variables == nil) != (w.Variables == nil) ||
			!bytes.Equal(g.Extensions, w.Extensions) || (g.Extensions == nil) != (w.Extensions == nil) {
			t.Fatalf("request %d:\n got %q %q %q %q\nwant %q %q %q %q", i,
				g.Query, g.OperationName, g.Variables, g.Extensions, w.Query, w.OperationName, w.Variables, w.Extensions)
		}
	}
}

// assertError checks that err is a *limits.Error with code and status and
// a short message.
func assertError(t *testing.T, err error, code string, status int) {
	t.Helper()
	var e *limits.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v (%T), want *limits.Error %s", err, err, code)
	}
	if e.ExtensionCode() != code || e.HTTPStatus() != status {
		t.Fatalf("got %s %d (%q), want %s %d", e.Code, e.Status, e.Message, code, status)
	}
	if len(e.Message) > 200 {
		t.Fatalf("message of %d bytes", len(e.Message))
	}
}

func TestDefaultOptions(t *testing.T) {
	want := Options{MaxBodyBytes: 2 << 20, AllowBatch: false, MaxBatch: 10}
	if got := DefaultOptions(); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestMembers(t *testing.T) {
	for _, tc := range []struct {
		in, want, wantErr string
	}{
		{`{"a":1,"b":[1,{"c":2}],"\u0064":"x"}`, `a=1 b=[1,{"c":2}] d="x" `, ""},
		{` { } `, ``, ""},
		{`null`, ``, ""},
		{` null `, ``, ""},
		{`[1]`, "", "expected an object"},
		{`"x"`, "", "expected an object"},
		{``, "", "expected an object"},
		{`{"a":1} x`, "", "unexpected data after the object"},
		{`{"a":1,"a":2}`, `a=1 a=2 `, ""},
		{`{"a":}`, "", "invalid JSON"},
		{`nullx`, "", "unexpected data"},
	} {
		var got strings.Builder
		err := Members([]byte(tc.in), func(k, v []byte) error {
			fmt.Fprintf(&got, "%s=%s ", k, v)
			return nil
		})
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: error %v, want one with %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got.String() != tc.want {
			t.Errorf("%q: %q, %v; want %q", tc.in, got.String(), err, tc.want)
		}
	}
}

// budgetSpy reads from r and records, at its first Read, how many bytes
// of the budget the reader had taken.
type budgetSpy struct {
	r      io.Reader
	budget *Budget
	total  int64
	first  int64
	last   int64
}

func (s *budgetSpy) Read(p []byte) (int, error) {
	if s.first == 0 {
		s.first = s.total - s.budget.Left()
	}
	s.last = s.total - s.budget.Left()
	return s.r.Read(p)
}

// TestReadLimitedFirstBuffer: before any byte arrives a body reserves at
// most firstChunk of the budget whatever it announces (a connection that
// sends headers only costs no more); once bytes arrive, a body whose
// length is announced grows once to that length plus one byte (up to
// firstChunkMax); a body longer or shorter than announced is still read
// whole.
func TestReadLimitedFirstBuffer(t *testing.T) {
	const limit = 64 << 20
	tests := []struct {
		name      string
		hint      int64
		size      int
		wantFirst int64 // budget taken before the first byte is read
		wantLast  int64 // budget taken when the body ends
	}{
		{name: "announced, one growth to its length", hint: 1041, size: 1041, wantFirst: firstChunk, wantLast: 1042},
		{name: "announced, smaller than the first chunk", hint: 100, size: 100, wantFirst: 101, wantLast: 101},
		{name: "no length", hint: 0, size: 1041, wantFirst: firstChunk, wantLast: 2048},
		{name: "announces 10 MB, sends 100 bytes", hint: 10 << 20, size: 100, wantFirst: firstChunk, wantLast: firstChunk},
		{name: "announces 10 bytes, sends 3000", hint: 10, size: 3000, wantFirst: 11, wantLast: 4184},
		{name: "empty", hint: 0, size: 0, wantFirst: firstChunk, wantLast: firstChunk},
		{name: "past the first buffer's bound", hint: 100 << 10, size: 100 << 10, wantFirst: firstChunk, wantLast: 128 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const total = 1 << 30
			body := bytes.Repeat([]byte("q"), tt.size)
			spy := &budgetSpy{r: bytes.NewReader(body), budget: NewBudget(total), total: total}
			got, err := readLimited(spy, limit, tt.hint, spy.budget, false)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, body) {
				t.Errorf("read %d bytes, want %d", len(got), len(body))
			}
			if spy.first != tt.wantFirst {
				t.Errorf("first buffer took %d bytes of the budget, want %d", spy.first, tt.wantFirst)
			}
			if spy.last != tt.wantLast {
				t.Errorf("the body ended holding %d bytes of the budget, want %d", spy.last, tt.wantLast)
			}
			if left := spy.budget.Left(); left != total {
				t.Errorf("budget not given back: %d left of %d", left, total)
			}
		})
	}
}

// TestParseContentType: the plain "application/json" taken without a
// parse answers as mime.ParseMediaType's path does, and the others still
// go through it.
func TestParseContentType(t *testing.T) {
	for _, tt := range []struct {
		ct, want string
		status   int // 0: accepted
	}{
		{"application/json", "application/json", 0},
		{"Application/JSON", "application/json", 0},
		{"application/json; charset=utf-8", "application/json", 0},
		{"application/json;charset=UTF8", "application/json", 0},
		{"application/json; charset=utf-16", "", 415},
		{"application/json; charset", "", 415},
		{"application/json ", "application/json", 0},
		{"application/graphql", "application/graphql", 0},
		{"application/json,text/plain", "", 415},
	} {
		t.Run(tt.ct, func(t *testing.T) {
			got, err := parseContentType(tt.ct)
			var rerr *limits.Error
			switch {
			case tt.status == 0 && (err != nil || got != tt.want):
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			case tt.status != 0 && (!errors.As(err, &rerr) || rerr.Status != tt.status || rerr.Code != CodeUnsupportedMediaType):
				t.Errorf("got %q, %v; want a %d", got, err, tt.status)
			}
		})
	}
}
