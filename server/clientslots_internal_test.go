package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestClientSlotsForget: a client's entry lives only while it has
// requests in flight, so a caller naming a new identity per request
// does not grow the maps; the bound is per client.
func TestClientSlotsForget(t *testing.T) {
	c := newClientSlots(2)
	for i := range 1000 {
		id := fmt.Sprint("address:10.0.", i/256, ".", i%256)
		if !c.take(id, true) || !c.take(id, true) || c.take(id, true) {
			t.Fatalf("%s: the bound is not 2", id)
		}
		if !c.take(id, false) {
			t.Fatalf("%s: refused past the bound while the gateway is not busy", id)
		}
		c.release(id)
		c.release(id)
		c.release(id)
	}
	for i := range c.shards {
		if n := len(c.shards[i].n); n != 0 {
			t.Fatalf("shard %d holds %d clients with nothing in flight", i, n)
		}
	}
	if newClientSlots(0) != nil {
		t.Fatal("0 is no bound")
	}
}

// BenchmarkClientSlots is what max_inflight_per_client adds to a request:
// identifying its client (an anonymous one, by address) and taking and
// giving back its slot, from 2 goroutines per core.
func BenchmarkClientSlots(b *testing.B) {
	s := &Server{slots: newClientSlots(100)}
	b.ReportAllocs()
	b.SetParallelism(2)
	b.RunParallel(func(pb *testing.PB) {
		r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
		r.RemoteAddr = "192.0.2.7:40000"
		for pb.Next() {
			client := s.ClientOf(r)
			if !s.slots.take(client, s.busy()) {
				b.Fatal("refused")
			}
			s.slots.release(client)
		}
	})
}

// TestClientBudgetShare: a client's execution that would take its
// holdings of the execution budget past its share waits until they fall;
// its first always runs; other clients are not held up by it.
func TestClientBudgetShare(t *testing.T) {
	const share = 100
	c := newClientBudget()
	ctx := context.Background()
	for _, s := range []struct {
		client string
		w      int64
	}{
		{"a", 150}, // a first execution, heavier than the share
		{"b", 60},
		{"b", 40}, // exactly the share
	} {
		if err := c.take(ctx, s.client, s.w, share); err != nil {
			t.Fatalf("%s takes %d: %v", s.client, s.w, err)
		}
	}
	// Past the share: waits until the client's holdings fall.
	took := make(chan error, 1)
	go func() { took <- c.take(ctx, "b", 10, share) }()
	select {
	case err := <-took:
		t.Fatalf("b past its share took at once (%v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	if err := c.take(ctx, "c", 10, share); err != nil {
		t.Fatalf("another client waited: %v", err)
	}
	c.release("b", 40)
	if err := <-took; err != nil {
		t.Fatalf("b once under its share: %v", err)
	}
	// A wait ends with its context.
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := c.take(cctx, "a", 10, share); err == nil {
		t.Fatal("a past its share took")
	}
	c.release("a", 150)
	c.release("b", 70)
	c.release("c", 10)
	if n := c.clients(); n != 0 {
		t.Errorf("%d clients left after every release", n)
	}
}

// TestClientBudgetAlone: a client alone (no other took from the budget
// within othersWindow) is not held to its share: a load test, or every
// caller behind a proxy the gateway does not trust, may use all of the
// budget as before; once another client takes, the share binds.
func TestClientBudgetAlone(t *testing.T) {
	const share = 100
	c := newClientBudget()
	ctx := context.Background()
	for _, w := range []int64{60, 60, 60} {
		if err := c.take(ctx, "solo", w, share); err != nil {
			t.Fatalf("a client alone was held: %v", err)
		}
	}
	if err := c.take(ctx, "other", 10, share); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := c.take(cctx, "solo", 10, share); err == nil {
		t.Error("past its share with another client about, a client was not held")
	}
}
