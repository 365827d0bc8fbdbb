package executor

import (
	"sync"
	"unsafe"

	"github.com/fedgate/gateway/planner"
	"github.com/valyala/fastjson"
)

// entityBatch is the deduplicated representations of one entity fetch and
// the response objects they feed.
type entityBatch struct {
	reps  []byte
	count int
	// objs are the response objects the fetch feeds, in the order they
	// were found; rep[j] is the index of objs[j]'s representation.
	objs  []*fastjson.Value
	rep   []int
	index map[string]int
	// items are the representations one by one, kept only when an entity
	// cache is in use.
	items [][]byte
}

// batchPool keeps entity batches between fetches; a batch that grew past
// maxPooledObjects objects is left to the collector, so the pool holds
// little memory.
var batchPool = sync.Pool{New: func() any { return &entityBatch{index: map[string]int{}} }}

const maxPooledObjects = 4096

func newEntityBatch() *entityBatch {
	return batchPool.Get().(*entityBatch)
}

// release returns the batch to the pool, dropping every reference into
// the response data.
func (b *entityBatch) release() {
	if cap(b.objs) > maxPooledObjects || len(b.index) > maxPooledObjects {
		return
	}
	clear(b.objs)
	clear(b.index)
	b.reps, b.objs, b.rep, b.items, b.count = b.reps[:0], b.objs[:0], b.rep[:0], nil, 0
	batchPool.Put(b)
}

// add records obj as fed by representation i.
func (b *entityBatch) add(obj *fastjson.Value, i int) {
	b.objs = append(b.objs, obj)
	b.rep = append(b.rep, i)
}

// first returns the first object representation i feeds.
func (b *entityBatch) first(i int) *fastjson.Value {
	for j, r := range b.rep {
		if r == i {
			return b.objs[j]
		}
	}
	return nil
}

// entityFetch runs a Flatten(Fetch) node: it collects the objects at the
// path, sends their representations in one _entities call and merges the
// answers back into those objects.
func (e *execution) entityFetch(n *planner.Flatten) {
	f := n.Node
	if len(f.Contexts) > 0 {
		e.contextEntityFetch(n)
		return
	}
	e.mu.Lock()
	batch := newEntityBatch()
	defer batch.release()
	batch.reps = append(batch.reps, '[')
	var scratch []byte
	cached := e.entities != nil && !e.mutation
	paths := n.Paths
	if len(paths) == 0 {
		paths = [][]string{n.Path}
	}
	// last is the representation the previous object got (its bytes end
	// batch.reps): objects in a row often share one (the same author
	// under every review), and comparing with it is cheaper than the
	// lookup in batch.index.
	last, lastStart := -1, 0
	collect := func(obj *fastjson.Value) {
		scratch = e.representation(scratch[:0], f, obj)
		if scratch == nil {
			return
		}
		if last >= 0 && string(scratch) == string(batch.reps[lastStart:]) {
			batch.add(obj, last)
			return
		}
		if i, ok := batch.index[string(scratch)]; ok {
			last, lastStart = -1, 0
			batch.add(obj, i)
			return
		}
		batch.index[string(scratch)] = batch.count
		if batch.count > 0 {
			batch.reps = append(batch.reps, ',')
		}
		last, lastStart = batch.count, len(batch.reps)
		batch.reps = append(batch.reps, scratch...)
		if cached {
			batch.items = append(batch.items, append([]byte(nil), scratch...))
		}
		batch.add(obj, batch.count)
		batch.count++
	}
	if e.data != nil {
		for _, p := range paths {
			e.pos.walk(e.data, p, collect)
		}
	}
	e.mu.Unlock()
	e.fetchEntities(n, paths, batch, cached, nil)
}

// fetchEntities sends the representations of batch (collected from paths)
// in one _entities call, with the contextual variables extra (members of
// the variables object, or nil), and merges the answers into the objects.
func (e *execution) fetchEntities(n *planner.Flatten, paths [][]string, batch *entityBatch, cached bool, extra []byte) {
	f := n.Node
	if batch.count == 0 {
		return
	}
	var vars []byte
	if cached {
		vars = e.appendVariables(nil, f, nil, nil)
		if batch = e.cachedEntities(f, batch, vars); batch.count == 0 {
			return
		}
	}
	batch.reps = append(batch.reps, ']')
	body := e.fetchBody(f, batch.reps, extra)
	v, cacheControl := e.send(f, body, n.Path)
	if v == nil {
		return
	}
	e.mu.Lock()
	entities := v.GetArray("data", "_entities")
	if len(f.OutputRewrites) > 0 {
		for _, ent := range entities {
			applyRewrites(ent, f.OutputRewrites)
		}
	}
	var store [][]byte
	if cached && len(v.GetArray("errors")) == 0 {
		store = entitiesToCache(entities, batch.count)
	}
	if store != nil {
		defer e.entities.Put(e.ctx, f, vars, batch.items, store, cacheControl)
	}
	defer e.mu.Unlock()
	e.mergeEntityAnswers(f, batch, entities)
	for _, ev := range v.GetArray("errors") {
		err := e.subgraphError(ev, f.Subgraph, func(p []*fastjson.Value) []any {
			return e.entityErrorPath(paths, batch, p, "_entities")
		})
		err.fetch = f
		e.errors = append(e.errors, err)
	}
}

// mergeEntityAnswers merges the answers of an _entities call into the
// objects of batch. Called under e.mu.
func (e *execution) mergeEntityAnswers(f *planner.Fetch, batch *entityBatch, entities []*fastjson.Value) {
	guard := guardOf(f)
	// used[i] says whether answer i was merged already, and whether it
	// holds objects or lists: only then do the other objects of its
	// representation get a copy. An answer of leaves only is merged into
	// all of them as it is (merge stores its members, never the answer
	// object itself, and leaves are shared anyway).
	var used []answerUse
	for j, obj := range batch.objs {
		if i := batch.rep[j]; i < len(entities) {
			if ent := entities[i]; ent.Type() == fastjson.TypeObject {
				if used == nil {
					used = make([]answerUse, len(entities))
				}
				switch used[i] {
				case unused:
					used[i] = usedLeaves
					if hasComposite(ent) {
						used[i] = usedComposite
					}
				case usedComposite:
					ent = e.copyOf(ent)
				}
				mergeEntity(obj, ent, guard, &e.pos)
			}
		}
	}
}

// answerUse is what entityFetch knows of one entity answer while merging.
type answerUse uint8

const (
	unused        answerUse = iota
	usedLeaves              // merged once; its members are all leaves
	usedComposite           // merged once; some member is an object or list
)

// hasComposite reports whether the object v has a member that is an
// object or a list.
func hasComposite(v *fastjson.Value) bool {
	found := false
	v.GetObject().Visit(func(_ []byte, c *fastjson.Value) {
		if t := c.Type(); t == fastjson.TypeObject || t == fastjson.TypeArray {
			found = true
		}
	})
	return found
}

// typenameGuard protects the concrete __typename of objects sent to an
// @interfaceObject subgraph, which knows the interface as an object type
// and answers its name as __typename: ifaces are the representation types
// that name another type than the objects' own, concrete those objects'
// types. Nil when the fetch sends none.
type typenameGuard struct {
	ifaces, concrete map[string]bool
}

func guardOf(f *planner.Fetch) *typenameGuard {
	var g *typenameGuard
	for _, r := range f.Requires {
		if r.RepresentationType == r.TypeName {
			continue
		}
		if g == nil {
			g = &typenameGuard{ifaces: map[string]bool{}, concrete: map[string]bool{}}
		}
		g.ifaces[r.RepresentationType] = true
		g.concrete[r.TypeName] = true
	}
	return g
}

// mergeEntity merges an entity answer into obj. Under guard, an answer
// that names the interface does not replace obj's concrete __typename.
func mergeEntity(obj, ent *fastjson.Value, guard *typenameGuard, pos *positions) {
	var typename *fastjson.Value
	if guard != nil && guard.ifaces[string(ent.GetStringBytes("__typename"))] && guard.concrete[string(obj.GetStringBytes("__typename"))] {
		typename = obj.Get("__typename")
	}
	merge(obj, ent, pos)
	if typename != nil {
		obj.Set("__typename", typename)
	}
}

// copyOf returns v with its objects and arrays copied (leaves are shared:
// nothing changes them): one entity answer merged into several objects
// (one representation, several objects) must not leave them sharing a
// sub-object, which a later fetch along one of their paths would fill
// for all of them. The copies live in the execution's arena, which is
// pooled: after a few requests copying allocates nothing. Called under
// e.mu.
func (e *execution) copyOf(v *fastjson.Value) *fastjson.Value {
	if e.copies == nil {
		e.copies = copyArenas.Get()
	}
	return copyComposite(e.copies, v, &e.copied)
}

// copyComposite copies v's objects and arrays into a, counting the values
// it makes in n.
func copyComposite(a *fastjson.Arena, v *fastjson.Value, n *int) *fastjson.Value {
	switch v.Type() {
	case fastjson.TypeObject:
		*n++
		o := a.NewObject()
		dst := o.GetObject()
		v.GetObject().Visit(func(k []byte, c *fastjson.Value) {
			// The key lives as long as v's document, as the copy does
			// (both until the execution ends): it is not copied.
			dst.Set(unsafe.String(unsafe.SliceData(k), len(k)), copyComposite(a, c, n))
		})
		return o
	case fastjson.TypeArray:
		*n++
		arr := a.NewArray()
		for i, c := range v.GetArray() {
			arr.SetArrayItem(i, copyComposite(a, c, n))
		}
		return arr
	}
	return v
}

// entityErrorPath maps [field, i, rest...] to the response path of the
// first object that representation i came from; field is the response key
// of the _entities call ("_entities", or its alias).
func (e *execution) entityErrorPath(paths [][]string, batch *entityBatch, p []*fastjson.Value, field string) []any {
	if len(p) < 2 || string(p[0].GetStringBytes()) != field || p[1].Type() != fastjson.TypeNumber {
		return pathElems(paths[0])
	}
	i := p[1].GetInt()
	if i < 0 || i >= batch.count {
		return pathElems(paths[0])
	}
	target := batch.first(i)
	var found []any
	for _, flatten := range paths {
		walkPathIndexed(e.data, flatten, nil, func(obj *fastjson.Value, path []any) {
			if found == nil && obj == target {
				found = append([]any(nil), path...)
			}
		})
	}
	if found == nil {
		found = pathElems(paths[0])
	}
	return jsonPath(found, p[2:])
}

func pathElems(path []string) []any {
	out := make([]any, 0, len(path))
	for _, p := range path {
		if p == "@" {
			break
		}
		out = append(out, planner.ResponseKeyOf(p))
	}
	return out
}

// walkPath calls fn for every non-null object at path below v.
func walkPath(v *fastjson.Value, path []string, fn func(*fastjson.Value)) {
	if v == nil {
		return
	}
	if len(path) == 0 {
		switch v.Type() {
		case fastjson.TypeObject:
			fn(v)
		case fastjson.TypeArray:
			for _, x := range v.GetArray() {
				walkPath(x, nil, fn)
			}
		}
		return
	}
	if path[0] == "@" {
		for _, x := range v.GetArray() {
			walkPath(x, path[1:], fn)
		}
		return
	}
	if v.Type() != fastjson.TypeObject {
		return
	}
	walkPath(v.Get(path[0]), path[1:], fn)
}

func walkPathIndexed(v *fastjson.Value, path []string, at []any, fn func(*fastjson.Value, []any)) {
	if v == nil {
		return
	}
	if len(path) == 0 {
		if v.Type() == fastjson.TypeObject {
			fn(v, at)
		}
		return
	}
	if path[0] == "@" {
		for i, x := range v.GetArray() {
			walkPathIndexed(x, path[1:], append(at, i), fn)
		}
		return
	}
	if v.Type() != fastjson.TypeObject {
		return
	}
	walkPathIndexed(v.Get(path[0]), path[1:], append(at, planner.ResponseKeyOf(path[0])), fn)
}

// representation writes the representation of obj for fetch f, or returns
// nil when obj is of no type the fetch wants or lacks a required value.
func (e *execution) representation(buf []byte, f *planner.Fetch, obj *fastjson.Value) []byte {
	o := obj.GetObject()                             // nil unless obj is an object
	typename := stringBytes(member(o, "__typename")) // compared only: no copy
	var req *planner.Requirement
	for _, r := range f.Requires {
		if r.TypeName == string(typename) {
			req = r
			break
		}
	}
	if req == nil {
		if len(f.Requires) == 1 && len(typename) == 0 {
			req = f.Requires[0]
		} else {
			return nil
		}
	}
	buf = append(buf, `{"__typename":`...)
	buf = appendName(buf, req.RepresentationType)
	ok := true
	buf = appendRequired(buf, o, req.Fields, true, &ok)
	if !ok {
		return nil
	}
	return append(buf, '}')
}

// member returns o's value under key, nil when o is nil or has no such
// member. Looking up in the object itself skips what Value.Get and
// Value.GetStringBytes do around it (a variadic path, a type switch), which
// was a good part of building a representation.
func member(o *fastjson.Object, key string) *fastjson.Value {
	if o == nil {
		return nil
	}
	return o.Get(key)
}

// stringBytes returns v's string, nil unless v is a string.
func stringBytes(v *fastjson.Value) []byte {
	if v == nil || v.Type() != fastjson.TypeString {
		return nil
	}
	b, _ := v.StringBytes() // a string: no error (GetStringBytes goes through Get)
	return b
}

// appendRequired writes the required fields of obj, continuing an object
// whose opening brace is already written.
func appendRequired(buf []byte, obj *fastjson.Object, fields []*planner.RequiredField, started bool, ok *bool) []byte {
	var typename []byte
	for _, rf := range fields {
		if rf.TypeCondition != "" {
			if typename == nil {
				typename = stringBytes(member(obj, "__typename"))
			}
			if rf.TypeCondition != string(typename) {
				continue
			}
		}
		v := member(obj, rf.Key)
		if v == nil {
			if rf.Name == "__typename" {
				continue
			}
			*ok = false
			return buf
		}
		if started {
			buf = append(buf, ',')
		}
		started = true
		buf = appendName(buf, rf.Name)
		buf = append(buf, ':')
		buf = appendRequiredValue(buf, v, rf.Fields, ok)
	}
	return buf
}

func appendRequiredValue(buf []byte, v *fastjson.Value, fields []*planner.RequiredField, ok *bool) []byte {
	if len(fields) == 0 {
		return v.MarshalTo(buf)
	}
	switch v.Type() {
	case fastjson.TypeObject:
		buf = append(buf, '{')
		buf = appendRequired(buf, v.GetObject(), fields, false, ok)
		return append(buf, '}')
	case fastjson.TypeArray:
		buf = append(buf, '[')
		for i, x := range v.GetArray() {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendRequiredValue(buf, x, fields, ok)
		}
		return append(buf, ']')
	}
	return v.MarshalTo(buf)
}
