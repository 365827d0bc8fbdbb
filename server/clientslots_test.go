package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs/demo"
	"github.com/golang-jwt/jwt/v5"
)

// TestOneClientCannotHoldEverySlot: a caller whose operations are slow
// (here a subgraph that holds them) sends more requests than
// max_inflight_requests at once; it gets max_inflight_per_client of them
// served, the rest 429 CLIENT_INFLIGHT_LIMIT with Retry-After, and
// another caller is still served meanwhile. Before, the hostile caller
// held all four slots and every other client got 503
// SERVICE_OVERLOADED for as long as its operations ran.
func TestOneClientCannotHoldEverySlot(t *testing.T) {
	slow, held, release := holdingProducts()
	defer release()
	opts := server.DefaultOptions()
	opts.Observe.MaxInflightRequests = 4
	opts.HTTP.MaxInflightPerClient = 2
	opts.Cache.Dedupe, opts.Cache.InboundDedupe = false, false
	opts.Auth.JWT.Keys = []auth.KeyConfig{{KID: "test", Algorithms: []string{"HS256"}, Secret: testSecret}}
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts), gatewaytest.WithHandler("products", slow))
	send := func(tok, query string) *gatewaytest.Response {
		req, _ := http.NewRequest(http.MethodPost, g.URL, strings.NewReader(`{"query":"`+query+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := g.Do(req)
		if err != nil {
			t.Error(err)
			return &gatewaytest.Response{}
		}
		return resp
	}
	hostile, victim := signed(t, jwt.MapClaims{"sub": "mallory"}), signed(t, jwt.MapClaims{"sub": "alice"})
	const sent = 6
	answers := make(chan *gatewaytest.Response, sent)
	// Two are held in the subgraph, half of max_inflight_requests: the
	// gateway is busy from then on.
	for range 2 {
		go func() { answers <- send(hostile, "{ topProducts { name } }") }()
	}
	for deadline := time.Now().Add(20 * time.Second); held.Load() < 2 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	// The other four come back at once.
	for range sent - 2 {
		go func() { answers <- send(hostile, "{ topProducts { name } }") }()
	}
	for i := range sent - 2 {
		select {
		case resp := <-answers:
			var body struct {
				Errors []struct{ Extensions struct{ Code string } }
			}
			_ = json.Unmarshal(resp.Body, &body)
			if resp.Status != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" ||
				len(body.Errors) != 1 || body.Errors[0].Extensions.Code != server.CodeClientInflightLimit {
				t.Fatalf("hostile request %d: %d %q %s", i, resp.Status, resp.Header.Get("Retry-After"), resp.Body)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("only %d of the hostile client's surplus requests were refused; %d held by the subgraph", i, held.Load())
		}
	}
	// No more reached the subgraph.
	if n := held.Load(); n != 2 {
		t.Fatalf("%d hostile operations reached the subgraph, want 2", n)
	}
	if resp := send(victim, "{ __typename }"); resp.Status != http.StatusOK {
		t.Fatalf("another client while the hostile one holds its slots: %d %s", resp.Status, resp.Body)
	}
	release()
	for range 2 {
		if resp := <-answers; resp.Status != http.StatusOK {
			t.Fatalf("a held request: %d %s", resp.Status, resp.Body)
		}
	}
	// Its slots are given back.
	if resp := send(hostile, "{ topProducts { name } }"); resp.Status != http.StatusOK {
		t.Fatalf("after its requests ended: %d %s", resp.Status, resp.Body)
	}
}

// TestQuietGatewayDoesNotCapOneClient: the bound binds only while the
// gateway is busy. A caller alone, with no max_inflight_requests and
// nobody waiting for the execution budget (a gateway behind a proxy it
// does not trust sees every anonymous client as this one caller), gets
// more requests than max_inflight_per_client served at once.
func TestQuietGatewayDoesNotCapOneClient(t *testing.T) {
	slow, held, release := holdingProducts()
	defer release()
	opts := server.DefaultOptions()
	opts.HTTP.MaxInflightPerClient = 2
	opts.Cache.Dedupe, opts.Cache.InboundDedupe = false, false
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts), gatewaytest.WithHandler("products", slow))
	const sent = 5
	answers := make(chan int, sent)
	for range sent {
		go func() {
			resp, err := g.Post(context.Background(), []byte(`{"query":"{ topProducts { name } }"}`))
			if err != nil {
				t.Error(err)
				answers <- 0
				return
			}
			answers <- resp.Status
		}()
	}
	for deadline := time.Now().Add(20 * time.Second); held.Load() < sent && time.Now().Before(deadline); {
		select {
		case status := <-answers:
			t.Fatalf("a request of the lone client was answered %d while the others were held", status)
		default:
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := held.Load(); n != sent {
		t.Fatalf("%d of %d requests reached the subgraph", n, sent)
	}
	release()
	for range sent {
		if status := <-answers; status != http.StatusOK {
			t.Fatalf("status %d", status)
		}
	}
}

// holdingProducts is the demo's products subgraph holding every request
// until release is called (once or more), and the count of requests it
// holds or held.
func holdingProducts() (slow http.Handler, held *atomic.Int32, release func()) {
	hold := make(chan struct{})
	held = new(atomic.Int32)
	products := demo.Handlers()["products"]
	slow = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		held.Add(1)
		<-hold
		products.ServeHTTP(w, r)
	})
	var once sync.Once
	return slow, held, func() { once.Do(func() { close(hold) }) }
}
