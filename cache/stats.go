package cache

import "sync/atomic"

// Stats counts cache events. The counters only grow; read them with
// Snapshot (or Load on a field) to feed metrics.
type Stats struct {
	ResponseHits   atomic.Int64
	ResponseMisses atomic.Int64
	ResponseStores atomic.Int64
	EntityHits     atomic.Int64
	EntityMisses   atomic.Int64
	EntityStores   atomic.Int64
	APQHits        atomic.Int64
	APQMisses      atomic.Int64
	APQStores      atomic.Int64
	// FetchesShared counts subgraph fetches answered by another
	// request's identical call (in-flight dedupe).
	FetchesShared atomic.Int64
	// RequestsShared counts client requests answered by another
	// request's identical execution (inbound dedupe).
	RequestsShared atomic.Int64
	// RedisErrors counts failed or timed-out Redis commands.
	RedisErrors atomic.Int64
}

// StatsSnapshot is a copy of Stats at one moment.
type StatsSnapshot struct {
	ResponseHits, ResponseMisses, ResponseStores int64
	EntityHits, EntityMisses, EntityStores       int64
	APQHits, APQMisses, APQStores                int64
	FetchesShared                                int64
	RedisErrors                                  int64
}

// Snapshot copies the counters.
func (s *Stats) Snapshot() StatsSnapshot {
	return StatsSnapshot{
		ResponseHits: s.ResponseHits.Load(), ResponseMisses: s.ResponseMisses.Load(), ResponseStores: s.ResponseStores.Load(),
		EntityHits: s.EntityHits.Load(), EntityMisses: s.EntityMisses.Load(), EntityStores: s.EntityStores.Load(),
		APQHits: s.APQHits.Load(), APQMisses: s.APQMisses.Load(), APQStores: s.APQStores.Load(),
		FetchesShared: s.FetchesShared.Load(), RedisErrors: s.RedisErrors.Load(),
	}
}
