package server_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/fedgate/gateway/pkg/hooks"
)

// TestRouterResponseBodyNotRecycled: a RouterResponse hook's body is the
// hook's, not a response buffer of the server: one it keeps and returns
// for every request (a static page, here with the capacity of a pooled
// buffer) is never recycled, so no later response is written into it.
func TestRouterResponseBodyNotRecycled(t *testing.T) {
	const page = `{"data":null,"errors":[{"message":"down for maintenance"}]}`
	static := make([]byte, 0, 32<<10)
	static = append(static, page...)
	h := hooks.Hooks{
		Bodies: []hooks.Stage{hooks.RouterResponse},
		RouterResponse: func(_ context.Context, c *hooks.Call) error {
			c.Body = static
			return nil
		},
	}
	g := startWithHooks(t, h)
	for i := range 40 {
		req, err := http.NewRequest(http.MethodPost, g.URL, strings.NewReader(`{"query":"{ topProducts { name upc price } }"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := g.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if string(resp.Body) != page {
			t.Fatalf("request %d: body %.120s, want the hook's page", i, resp.Body)
		}
		if !bytes.Equal(static[:cap(static)][:len(page)], []byte(page)) {
			t.Fatalf("request %d: the hook's page was overwritten: %.120s", i, static[:len(page)])
		}
	}
}
