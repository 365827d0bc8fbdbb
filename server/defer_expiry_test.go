package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"mime/multipart"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs/demo"
	"github.com/golang-jwt/jwt/v5"
)

// TestDeferEndsWhenTheTokenExpires: a @defer answer whose deferred part
// is still running when the caller's token expires ends then, as a
// subscription does: a last payload with hasNext false and an
// UNAUTHENTICATED error, while the subgraph of the deferred part still
// holds it. Before, the answer went on until the part came (here: never
// within the client's 20 s) or the request timeout (60 s).
func TestDeferEndsWhenTheTokenExpires(t *testing.T) {
	const secret = "a-test-secret-of-at-least-32-bytes!!"
	release := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	defer open()
	inventory := demo.Handlers()["inventory"]
	held := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-time.After(30 * time.Second):
		}
		inventory.ServeHTTP(w, r)
	})
	opts := server.DefaultOptions()
	opts.Observe.RequestTimeout = time.Minute
	opts.Auth.JWT.Leeway = 0
	opts.Auth.JWT.Keys = []auth.KeyConfig{{KID: "k", Algorithms: []string{"HS256"}, Secret: secret}}
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts), gatewaytest.WithHandler("inventory", held))
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "alice", "exp": time.Now().Add(3 * time.Second).Unix()})
	tok.Header["kid"] = "k"
	signed, err := tok.SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"query": `{ topProducts(first: 2) { upc name ... @defer(label: "stock") { inStock } } }`})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, g.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "multipart/mixed;deferSpec=20220824,application/json")
	req.Header.Set("Authorization", "Bearer "+signed)
	resp, err := g.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %q: %v", resp.StatusCode, resp.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(resp.Body, params["boundary"])
	var payloads []map[string]any
	for {
		part, err := mr.NextPart()
		if err != nil {
			break
		}
		var p map[string]any
		if err := json.NewDecoder(part).Decode(&p); err != nil {
			t.Fatal(err)
		}
		payloads = append(payloads, p)
	}
	if len(payloads) != 2 || payloads[0]["hasNext"] != true || payloads[1]["hasNext"] != false {
		t.Fatalf("payloads %v (client context: %v)", payloads, ctx.Err())
	}
	last, _ := json.Marshal(payloads[1])
	var end struct {
		Incremental []any
		Errors      []struct {
			Message    string
			Extensions struct{ Code string }
		}
	}
	if json.Unmarshal(last, &end) != nil || len(end.Incremental) != 0 || len(end.Errors) != 1 ||
		end.Errors[0].Extensions.Code != "UNAUTHENTICATED" || end.Errors[0].Message != "the token has expired" {
		t.Fatalf("last payload %s", last)
	}
	select {
	case <-release:
		t.Fatal("the deferred part was released before the answer ended")
	default:
	}
}
