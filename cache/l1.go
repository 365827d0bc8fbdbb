package cache

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/ristretto/v2"
)

// lazyL1 is an in-process ristretto cache made at the first store. An
// empty ristretto cache already holds about 0.9 MB (its set buffer of 32K
// items, the frequency sketch and the bloom filter), which the garbage
// collector's heap target then doubles; a cache that is on but never
// stores anything (no cacheable response, no persisted query) costs
// nothing this way. Lookups before the first store miss.
type lazyL1[V any] struct {
	maxCost int64
	once    sync.Once
	c       atomic.Pointer[ristretto.Cache[string, V]]
}

func newLazyL1[V any](maxCost int64) *lazyL1[V] { return &lazyL1[V]{maxCost: maxCost} }

// get returns the cache, nil before the first store.
func (l *lazyL1[V]) get() *ristretto.Cache[string, V] { return l.c.Load() }

// forStore returns the cache, made now if this is the first store. After
// close it returns the closed cache (which stores nothing) or nil.
func (l *lazyL1[V]) forStore() *ristretto.Cache[string, V] {
	l.once.Do(func() {
		// NewCache fails only for a zero size, which the constructors
		// of the caches rule out.
		if c, err := ristretto.NewCache(&ristretto.Config[string, V]{NumCounters: 1e5, MaxCost: l.maxCost, BufferItems: 64}); err == nil {
			l.c.Store(c)
		}
	})
	return l.c.Load()
}

// Get looks key up.
func (l *lazyL1[V]) Get(key string) (V, bool) {
	if c := l.get(); c != nil {
		return c.Get(key)
	}
	var zero V
	return zero, false
}

// Set stores value under key at cost, for ttl when ttl > 0.
func (l *lazyL1[V]) Set(key string, value V, cost int64, ttl time.Duration) {
	if c := l.forStore(); c != nil {
		c.SetWithTTL(key, value, cost, ttl)
	}
}

// Wait applies the buffered stores.
func (l *lazyL1[V]) Wait() {
	if c := l.get(); c != nil {
		c.Wait()
	}
}

// Close stops the cache; no cache is made after it.
func (l *lazyL1[V]) Close() {
	l.once.Do(func() {})
	if c := l.get(); c != nil {
		c.Close()
	}
}
