package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/server"
	"github.com/golang-jwt/jwt/v5"
)

// TestBatchOperationsTakeClientSlots: each operation of a batch runs
// under a slot of its caller (max_inflight_per_client), not the batch as
// a whole under one. The hostile caller starts two batches of two slow
// operations while the gateway is quiet (the bound does not bind then),
// so it holds two slots with a bound of one; once the gateway is busy,
// one of its batches may go on and the other's next operation is refused
// with CLIENT_INFLIGHT_LIMIT in its entry (the batch is still answered
// 200, with Retry-After), as a third request of its own would be. Before,
// a batch took one slot for all its operations: both batches ran to the
// end, max_batch operations each, past the bound for as long as the
// gateway was busy.
func TestBatchOperationsTakeClientSlots(t *testing.T) {
	slow, held, release := holdingProducts()
	defer release()
	opts := server.DefaultOptions()
	opts.AllowBatch = true
	opts.Observe.MaxInflightRequests = 4 // busy from 2 requests in flight
	opts.HTTP.MaxInflightPerClient = 1
	opts.Cache.Dedupe, opts.Cache.InboundDedupe = false, false
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts), gatewaytest.WithHandler("products", slow))
	batch := []byte(`[{"query":"{ topProducts(first: 1) { name } }"},{"query":"{ topProducts(first: 2) { name } }"}]`)
	type answer struct {
		resp *gatewaytest.Response
		err  error
	}
	answers := make(chan answer, 2)
	for want := int32(1); want <= 2; want++ {
		go func() {
			resp, err := g.Post(context.Background(), batch)
			answers <- answer{resp, err}
		}()
		for deadline := time.Now().Add(20 * time.Second); held.Load() < want && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		if held.Load() < want {
			t.Fatalf("batch %d did not reach the subgraph", want)
		}
	}
	release()
	refused := 0
	for range 2 {
		a := <-answers
		if a.err != nil {
			t.Fatal(a.err)
		}
		var entries []struct {
			Data   json.RawMessage
			Errors []struct{ Extensions struct{ Code string } }
		}
		if err := json.Unmarshal(a.resp.Body, &entries); err != nil || a.resp.Status != http.StatusOK || len(entries) != 2 {
			t.Fatalf("a batch answered %d %s (%v)", a.resp.Status, a.resp.Body, err)
		}
		if len(entries[0].Errors) != 0 {
			t.Fatalf("a batch's first operation, admitted: %s", a.resp.Body)
		}
		if len(entries[1].Errors) == 1 && entries[1].Errors[0].Extensions.Code == server.CodeClientInflightLimit {
			refused++
			if a.resp.Header.Get("Retry-After") == "" {
				t.Errorf("a refused operation without Retry-After: %v", a.resp.Header)
			}
		} else if len(entries[1].Errors) != 0 {
			t.Fatalf("a batch's second operation: %s", a.resp.Body)
		}
	}
	if refused != 1 {
		t.Fatalf("%d batches had their second operation refused, want 1 (the client holds 2 slots with a bound of 1)", refused)
	}
	if n := held.Load(); n != 3 {
		t.Fatalf("%d operations reached the subgraph, want 3", n)
	}
}

// TestBatchAnswersCountInTheBudget: an operation of a batch reserves from
// the execution memory budget (max_inflight_bytes) the answers of the
// batch's earlier operations too, since the batch holds them until it is
// answered. Here two answers of 450 KB and a third operation held in its
// subgraph take the whole 1 MiB budget, so another client's small query
// waits (and the gateway, busy, refuses that client's second request with
// CLIENT_INFLIGHT_LIMIT). Before, the third operation reserved only its
// own weight while the batch held 900 KB the budget did not count: a
// batch of max_batch large answers held max_batch times what the budget
// saw, and other executions were admitted on top.
func TestBatchAnswersCountInTheBudget(t *testing.T) {
	big := strings.Repeat("x", 450<<10)
	hold := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(hold) }) }
	defer release()
	var holding atomic.Int32
	products := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(string(body), "product(") {
			holding.Add(1)
			<-hold
			_, _ = io.WriteString(w, `{"data":{"product":{"name":"held"}}}`)
			return
		}
		_, _ = io.WriteString(w, `{"data":{"topProducts":[{"name":"`+big+`"}]}}`)
	})
	opts := server.DefaultOptions()
	opts.AllowBatch = true
	opts.MaxInflightBytes = 1 << 20
	opts.HTTP.MaxInflightPerClient = 1
	opts.Cache.Dedupe, opts.Cache.InboundDedupe = false, false
	opts.Auth.JWT.Keys = []auth.KeyConfig{{KID: "test", Algorithms: []string{"HS256"}, Secret: testSecret}}
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts), gatewaytest.WithHandler("products", products))
	send := func(tok string, body string) (*gatewaytest.Response, error) {
		req, _ := http.NewRequest(http.MethodPost, g.URL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		return g.Do(req)
	}
	hostile, victim := signed(t, jwt.MapClaims{"sub": "mallory"}), signed(t, jwt.MapClaims{"sub": "alice"})
	batchDone := make(chan *gatewaytest.Response, 1)
	go func() {
		resp, err := send(hostile, `[{"query":"{ topProducts(first: 1) { name } }"},{"query":"{ topProducts(first: 2) { name } }"},{"query":"{ product(upc: \"1\") { name } }"}]`)
		if err != nil {
			t.Error(err)
		}
		batchDone <- resp
	}()
	for deadline := time.Now().Add(20 * time.Second); holding.Load() < 1 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if holding.Load() < 1 {
		t.Fatal("the batch's third operation did not reach its subgraph")
	}
	// The other client's queries, one at a time until one is refused:
	// the first admitted waits for the budget, and the gateway, busy,
	// then refuses the next (max_inflight_per_client 1). Before, each
	// was answered at once.
	const query = `{"query":"{ users { id } }"}`
	answers := make(chan *gatewaytest.Response, 64)
	sent, refused := 0, false
	for deadline := time.Now().Add(20 * time.Second); !refused && sent < cap(answers) && time.Now().Before(deadline); {
		sent++
		go func() {
			resp, err := send(victim, query)
			if err != nil {
				t.Error(err)
				resp = &gatewaytest.Response{}
			}
			answers <- resp
		}()
		select {
		case resp := <-answers:
			sent--
			switch resp.Status {
			case http.StatusTooManyRequests:
				refused = strings.Contains(string(resp.Body), server.CodeClientInflightLimit)
			default:
				t.Fatalf("another client's query was answered (%d) while the batch held 900 KB of answers and a 1 MiB budget", resp.Status)
			}
		case <-time.After(50 * time.Millisecond):
			// Admitted: it waits for the budget.
		}
	}
	if !refused {
		t.Fatal("the gateway never became busy: the other client's query did not wait for the budget")
	}
	release()
	for range sent {
		if resp := <-answers; resp.Status != http.StatusOK {
			t.Fatalf("a waiting query after the batch: %d %s", resp.Status, resp.Body)
		}
	}
	if resp := <-batchDone; resp.Status != http.StatusOK || strings.Count(string(resp.Body), big) != 2 || !strings.Contains(string(resp.Body), `"held"`) {
		t.Fatalf("the batch: %d, %d bytes", resp.Status, len(resp.Body))
	}
}
