package executor

import (
	"context"

	"github.com/fedgate/gateway/internal/jsonvalue"
	"github.com/fedgate/gateway/planner"
)

// EntityCache keeps _entities results per representation, so that an
// entity fetch of a query asks the subgraph only for the representations
// the cache misses. The implementation owns keys (subgraph, type, key,
// selection, variables), lifetimes and privacy; the executor only hands
// over the fetch, its variables object without representations, and the
// deduplicated representations.
type EntityCache interface {
	// Get returns one CachedEntity per representation, a nil Body for a
	// miss.
	Get(ctx context.Context, f *planner.Fetch, vars []byte, reps [][]byte) []CachedEntity
	// Put stores the entities the subgraph answered for reps (nil where
	// it answered none), with the Cache-Control header of its answer.
	Put(ctx context.Context, f *planner.Fetch, vars []byte, reps [][]byte, entities [][]byte, cacheControl string)
}

// CachedEntity is one entity cache hit: a JSON object, and a
// Cache-Control value giving the time it has left and its scope.
type CachedEntity struct {
	Body         []byte
	CacheControl string
}

// cachedEntities merges the entities the cache holds into their targets
// and returns the batch of the representations it missed.
func (e *execution) cachedEntities(f *planner.Fetch, batch *entityBatch, vars []byte) *entityBatch {
	hits := e.entities.Get(e.ctx, f, vars, batch.items)
	var hitBuf []byte
	var hitIdx []int
	for i := range batch.items {
		if i < len(hits) && len(hits[i].Body) > 0 {
			if hitBuf == nil {
				hitBuf = append(hitBuf, '[')
			} else {
				hitBuf = append(hitBuf, ',')
			}
			hitBuf = append(hitBuf, hits[i].Body...)
			hitIdx = append(hitIdx, i)
		}
	}
	var parsed []*jsonvalue.Value
	if hitBuf != nil {
		hitBuf = append(hitBuf, ']')
		if v, err := e.parse(hitBuf); err == nil {
			parsed = v.Array()
		}
		if len(parsed) != len(hitIdx) {
			parsed, hitIdx = nil, nil // a damaged entry: ask the subgraph
		}
	}
	hit := make([]bool, len(batch.items))
	guard := guardOf(f)
	if len(parsed) > 0 {
		e.mu.Lock()
		for j, ent := range parsed {
			if ent.Type() != jsonvalue.TypeObject {
				continue
			}
			i := hitIdx[j]
			hit[i] = true
			first := true
			copies := hasComposite(ent) // as in entityFetch: leaves are shared
			for k, obj := range batch.objs {
				if batch.rep[k] == i {
					if !first && copies {
						ent = e.copyOf(ent)
					}
					first = false
					mergeEntity(obj, ent, guard, &e.pos)
				}
			}
			if e.stats {
				e.cacheControl = append(e.cacheControl, hits[i].CacheControl)
			}
		}
		e.mu.Unlock()
	}
	miss := &entityBatch{reps: []byte{'['}}
	renumber := make([]int, len(batch.items))
	for i, item := range batch.items {
		if hit[i] {
			continue
		}
		if miss.count > 0 {
			miss.reps = append(miss.reps, ',')
		}
		miss.reps = append(miss.reps, item...)
		miss.items = append(miss.items, item)
		renumber[i] = miss.count
		miss.count++
	}
	for j, obj := range batch.objs {
		if i := batch.rep[j]; !hit[i] {
			miss.add(obj, renumber[i])
		}
	}
	return miss
}

// entitiesToCache returns the JSON of each entity answered for batch, nil
// where the answer is not an object.
func entitiesToCache(entities []*jsonvalue.Value, count int) [][]byte {
	out := make([][]byte, count)
	for i, ent := range entities {
		if i < count && ent.Type() == jsonvalue.TypeObject {
			out[i] = ent.AppendJSON(nil)
		}
	}
	return out
}
