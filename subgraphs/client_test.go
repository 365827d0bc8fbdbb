package subgraphs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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

// TestClientHeadersNotCarriedOver: the header maps of subgraph requests
// are reused, and a forwarded header of one fetch (a caller's
// credentials) must never reach the subgraph with a later fetch that did
// not forward it, also from fetches running at once.
func TestClientHeadersNotCarriedOver(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"data":{"auth":%q}}`, strings.Join(r.Header.Values("Authorization"), "|"))
	}))
	defer srv.Close()
	c := NewClient(map[string]string{"a": srv.URL}, Options{Timeout: 5 * time.Second})
	defer c.Close()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				want := ""
				req := &executor.Request{Body: []byte(`{}`)}
				if (i+j)%2 == 0 {
					want = fmt.Sprintf("Bearer %d-%d", i, j)
					req.Header = http.Header{"Authorization": {want}}
				}
				resp, err := c.Fetch(context.Background(), "a", req)
				if err != nil {
					t.Error(err)
					return
				}
				got := string(resp.Body)
				if resp.Release != nil {
					resp.Release()
				}
				if wantBody := fmt.Sprintf(`{"data":{"auth":%q}}`, want); got != wantBody {
					t.Errorf("fetch %d-%d: subgraph got %s, want %s", i, j, got, wantBody)
				}
			}
		}()
	}
	wg.Wait()
}
