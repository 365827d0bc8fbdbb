package executor

import "github.com/fedgate/gateway/internal/jsonvalue"

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
		from, rest := []*jsonvalue.Value{root}, path
		if e != nil {
			from, rest = e.values, path[len(e.path):]
		}
		for _, v := range from {
			values = appendAt(values, v, rest)
		}
		p.remember(path, values)
	}
	for _, v := range values {
		walkPath(v, nil, fn)
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
// under key somewhere in the data.
func (p *positions) changed(key string) {
	if p == nil || !contains(p.keys, key) {
		return
	}
	kept := p.entries[:0]
	p.keys = p.keys[:0]
	for _, e := range p.entries {
		if contains(e.path, key) {
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
	clear(p.entries)
	p.entries, p.keys = p.entries[:0], p.keys[:0]
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// appendAt appends the values path leads to below v: a key steps into an
// object's field, "@" into each element of a list. Nulls at the end are
// kept (walkPath skips them).
func appendAt(out []*jsonvalue.Value, v *jsonvalue.Value, path []string) []*jsonvalue.Value {
	if v == nil {
		return out
	}
	if len(path) == 0 {
		return append(out, v)
	}
	if path[0] == "@" {
		for _, x := range v.Array() {
			out = appendAt(out, x, path[1:])
		}
		return out
	}
	return appendAt(out, v.Get(path[0]), path[1:])
}
