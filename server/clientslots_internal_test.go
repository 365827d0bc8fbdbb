package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
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
