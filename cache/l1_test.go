package cache

import (
	"testing"
	"time"
)

func TestLazyL1(t *testing.T) {
	cases := []struct {
		name      string
		run       func(l *lazyL1[string])
		wantMade  bool
		wantFound bool
	}{
		{"lookups only", func(l *lazyL1[string]) { l.Get("k"); l.Wait() }, false, false},
		{"a store", func(l *lazyL1[string]) { l.Set("k", "v", 1, 0); l.Wait() }, true, true},
		{"closed before any store", func(l *lazyL1[string]) { l.Close(); l.Set("k", "v", 1, 0); l.Wait() }, false, false},
		{"closed after a store", func(l *lazyL1[string]) { l.Set("k", "v", 1, 0); l.Wait(); l.Close() }, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newLazyL1[string](1 << 20)
			c.run(l)
			if made := l.get() != nil; made != c.wantMade {
				t.Errorf("cache made: %v, want %v", made, c.wantMade)
			}
			v, found := l.Get("k")
			if found != c.wantFound || found && v != "v" {
				t.Errorf("Get = %q, %v; want found %v", v, found, c.wantFound)
			}
			l.Close()
		})
	}
}

// A response cache that never stores holds no ristretto cache; the first
// response it may store makes one, and the next lookup finds it.
func TestResponseCacheMadeAtFirstStore(t *testing.T) {
	c, err := NewResponseCache(DefaultConfig().Response, nil, &Stats{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	k := &ResponseKey{}
	if _, ok := c.Get(t.Context(), k, false); ok || c.l1.get() != nil {
		t.Fatalf("a lookup found an entry or made the cache (made: %v)", c.l1.get() != nil)
	}
	if !c.Set(t.Context(), k, []byte(`{"data":{}}`), Policy{MaxAge: time.Minute, Scope: Public}) {
		t.Fatal("a public response with a max age was not stored")
	}
	if r, ok := c.Get(t.Context(), k, false); !ok || string(r.Body) != `{"data":{}}` {
		t.Fatalf("after the store: %v %v", r, ok)
	}
}
