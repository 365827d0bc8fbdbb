package executor

import (
	"sync"

	"github.com/fedgate/gateway/internal/jsonvalue"
)

// positions remembers where the Flatten paths of a plan run led: for each
// path walked, the values found at its end. A later entity fetch at the
// same path, or below it, starts from those values instead of walking the
// merged data from the root again (the shared harness's plan walks the
// same deep paths in three fetches).
//
// A remembered path is forgotten as soon as the values it leads to may
// have changed: the values at a path change only when some object gets a
// new or different value under a key of that path (or a list under such
// a key gets a new element), so merge reports every key it sets, and
// every path holding that key is dropped. Keys are compared by name,
// wherever the object is: conservative, and cheap, since a plan has few
// distinct path keys. All methods run under the execution's lock.
type positions struct {
	entries []positionEntry
	// keys holds every key of the remembered paths, once each.
	keys []string
	// lists holds value lists no entry uses any more, for the next walk
	// (nil until the first walk).
	lists *valueLists
}

// valueLists are emptied value lists kept for reuse: within a run, those
// of forgotten paths; between runs, in listPool. Walking the harness's
// query's paths grew about 35 lists per run from nothing (4 KB, a tenth
// of the executor's allocations).
type valueLists struct {
	free [][]*jsonvalue.Value
	// entries and keys are the emptied lists of a positions, kept
	// with the others between runs.
	entries []positionEntry
	keys    []string
}

var listPool = sync.Pool{New: func() any { return new(valueLists) }}

// Bounds on what valueLists keep: a list longer than maxPooledList is
// left to the collector, and at most maxPooledLists lists are kept.
const (
	maxPooledList  = 4096
	maxPooledLists = 64
)

// take returns an empty list, with room from an earlier one if there is.
func (p *positions) take() []*jsonvalue.Value {
	if p.lists == nil {
		p.lists = listPool.Get().(*valueLists)
		if len(p.entries) == 0 && len(p.keys) == 0 {
			// The first walk of the run: nothing is remembered yet.
			p.entries, p.keys = p.lists.entries[:0], p.lists.keys[:0]
		}
	}
	free := p.lists.free
	if len(free) == 0 {
		return nil
	}
	l := free[len(free)-1]
	free[len(free)-1] = nil
	p.lists.free = free[:len(free)-1]
	return l
}

// give keeps l, which no entry uses any more, for take.
func (p *positions) give(l []*jsonvalue.Value) {
	if p.lists == nil || cap(l) == 0 || cap(l) > maxPooledList || len(p.lists.free) >= maxPooledLists {
		return
	}
	clear(l)
	p.lists.free = append(p.lists.free, l[:0])
}

// release forgets everything and returns the lists to listPool.
func (p *positions) release() {
	p.reset()
	if p.lists != nil {
		if cap(p.entries) <= maxPooledLists && cap(p.keys) <= maxPooledLists {
			p.lists.entries, p.lists.keys = p.entries, p.keys
		}
		p.entries, p.keys = nil, nil
		listPool.Put(p.lists)
		p.lists = nil
	}
}

type positionEntry struct {
	path   []string
	values []*jsonvalue.Value
}

// walk calls fn for every non-null object at path below root, exactly as
// walkPath does, and remembers where path led.
func (p *positions) walk(root *jsonvalue.Value, path []string, fn func(*jsonvalue.Value)) {
	if root == nil {
		return
	}
	var values []*jsonvalue.Value
	if e := p.longestPrefix(path); e != nil && len(e.path) == len(path) {
		values = e.values
	} else {
		values = p.take()
		// at holds, per step of the path, where its key was last found:
		// the objects at one step mostly have one layout.
		var hints [16]uint32
		var at []uint32
		if len(path) <= len(hints) {
			at = hints[:len(path)]
		} else {
			at = make([]uint32, len(path))
		}
		if e != nil {
			for _, v := range e.values {
				values = appendAt(values, v, path[len(e.path):], at[len(e.path):])
			}
		} else {
			values = appendAt(values, root, path, at)
		}
		p.remember(path, values)
	}
	for _, v := range values {
		if v.Type() == jsonvalue.TypeObject {
			// Most values: what walkPath does with an object, without
			// a call.
			fn(v)
		} else {
			walkPath(v, nil, fn)
		}
	}
}

// longestPrefix returns the remembered entry with the longest path that
// is a prefix of path (path itself included), or nil.
func (p *positions) longestPrefix(path []string) *positionEntry {
	var best *positionEntry
	for i := range p.entries {
		e := &p.entries[i]
		if len(e.path) > len(path) || best != nil && len(e.path) <= len(best.path) {
			continue
		}
		if hasPrefix(path, e.path) {
			best = e
		}
	}
	return best
}

func hasPrefix(path, prefix []string) bool {
	for i, s := range prefix {
		if path[i] != s {
			return false
		}
	}
	return true
}

func (p *positions) remember(path []string, values []*jsonvalue.Value) {
	p.entries = append(p.entries, positionEntry{path: path, values: values})
	for _, k := range path {
		if k != "@" && !contains(p.keys, k) {
			p.keys = append(p.keys, k)
		}
	}
}

// changed forgets every remembered path through key: merge set a value
// under key somewhere in the data. It is inlined: a merge that reports
// to no positions (nil) or to none remembered costs no call per key.
func (p *positions) changed(key string) {
	if p != nil && len(p.keys) > 0 {
		p.forget(key)
	}
}

// forget is changed for a positions that remembers paths.
func (p *positions) forget(key string) {
	if !contains(p.keys, key) {
		return
	}
	kept := p.entries[:0]
	p.keys = p.keys[:0]
	for _, e := range p.entries {
		if contains(e.path, key) {
			p.give(e.values)
			continue
		}
		kept = append(kept, e)
		for _, k := range e.path {
			if k != "@" && !contains(p.keys, k) {
				p.keys = append(p.keys, k)
			}
		}
	}
	clear(p.entries[len(kept):])
	p.entries = kept
}

// onPath reports whether a key of the object v is a key of a remembered
// path.
func (p *positions) onPath(v *jsonvalue.Value) bool {
	for _, m := range v.Members() {
		if contains(p.keys, m.Key) {
			return true
		}
	}
	return false
}

// reset forgets everything (the root of the data was replaced).
func (p *positions) reset() {
	for _, e := range p.entries {
		p.give(e.values)
	}
	clear(p.entries)
	clear(p.keys)
	p.entries, p.keys = p.entries[:0], p.keys[:0]
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if jsonvalue.SameKey(x, s) {
			return true
		}
	}
	return false
}

// appendAt appends the values path leads to below v: a key steps into an
// object's field, "@" into each element of a list. Nulls at the end are
// kept (walkPath skips them). at has an index per step of path, where
// the step's key is looked for first (FieldAt); it changes only the cost.
func appendAt(out []*jsonvalue.Value, v *jsonvalue.Value, path []string, at []uint32) []*jsonvalue.Value {
	if v == nil {
		return out
	}
	if len(path) == 0 {
		return append(out, v)
	}
	if path[0] == "@" {
		for _, x := range v.Array() {
			out = appendAt(out, x, path[1:], at[1:])
		}
		return out
	}
	// The member at the step's index, when its key is the path's own
	// string (an answer's keys share the plan's), is taken here; any
	// other lookup is memberAt's, whose calls would otherwise make every
	// step keep its values on the stack.
	if i, ms := at[0], v.Members(); uint(i) < uint(len(ms)) && jsonvalue.SameString(ms[i].Key, path[0]) {
		return appendAt(out, ms[i].Value, path[1:], at[1:])
	}
	return appendAt(out, memberAt(v, path[0], &at[0]), path[1:], at[1:])
}
