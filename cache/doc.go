// Package cache holds the response cache, the entity cache and persisted
// queries: ristretto in process (L1), Redis shared by every gateway
// instance (L2), and the cache policy read from @cacheControl hints and
// subgraph Cache-Control headers.
//
// Everything shared carries the key format version (KeyPrefix) and, for
// answers that depend on the schema, the supergraph version, so a reload
// never serves an answer computed for another schema. Redis is optional
// and never required: when it is down or slow, lookups miss and stores are
// dropped.
//
// The pieces:
//
//   - Hints and Policy: the cache policy of an operation from
//     @cacheControl(maxAge, scope, inheritMaxAge) and configured hints,
//     restricted by subgraph Cache-Control headers (ParseCacheControl).
//   - ResponseCache: whole query responses, L1 and L2, PRIVATE ones keyed
//     by caller identity; Do shares one computation between identical
//     concurrent misses.
//   - EntityCache: _entities answers per (subgraph, type, key, selection),
//     with invalidation by subgraph, type, or type and key
//     (InvalidationHandler serves it over HTTP).
//   - PersistedQueries: Apollo's automatic persisted queries and trusted
//     documents from a persisted query manifest.
//   - Redis: the shared store, with short timeouts and a back-off.
//   - Stats: hit, miss and error counters for metrics.
package cache
