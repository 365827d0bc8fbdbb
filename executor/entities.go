package executor

import (
	"sync"
	"unsafe"

	"github.com/fedgate/gateway/internal/jsonvalue"
	"github.com/fedgate/gateway/planner"
)

// entityBatch is the deduplicated representations of one entity fetch and
// the response objects they feed.
type entityBatch struct {
	reps  []byte
	count int
	// objs are the response objects the fetch feeds, in the order they
	// were found; rep[j] is the index of objs[j]'s representation.
	objs  []*jsonvalue.Value
	rep   []int
	index map[string]int
	// items are the representations one by one, kept only when an entity
	// cache is in use.
	items [][]byte
	// errorCopies counts the errors repeated at more objects of their
	// representation (entityError).
	errorCopies int
	// memo is entityFetch's representation memo and scratch the buffer
	// it writes each representation in, kept here so that they are not
	// made again for every fetch.
	memo    repMemo
	scratch []byte
	// body is the buffer the fetch's request body is written in: the
	// representations again, with the query and variables around them.
	// It is free once the transport's Fetch has returned, as is req,
	// the request made of it.
	body []byte
	req  Request
}

// batchPool keeps entity batches between fetches; a batch that grew past
// maxPooledObjects objects is left to the collector, so the pool holds
// little memory.
var batchPool = sync.Pool{New: func() any { return &entityBatch{index: map[string]int{}} }}

const maxPooledObjects = 4096

// maxPooledScratch bounds the representation buffer a pooled batch keeps.
const maxPooledScratch = 16 << 10

// maxPooledReps bounds the representations' buffer of a pooled batch: a
// few objects with long keys grow it as much as many objects do.
const maxPooledReps = 256 << 10

// maxPooledBody bounds the request body buffer of a pooled batch: the
// representations plus the fetch's query and variables.
const maxPooledBody = maxPooledReps + 64<<10

func newEntityBatch() *entityBatch {
	return batchPool.Get().(*entityBatch)
}

// release returns the batch to the pool, dropping every reference into
// the response data.
func (b *entityBatch) release() {
	if !b.poolable() {
		return
	}
	clear(b.objs)
	clear(b.index)
	b.memo = repMemo{}
	b.reps, b.objs, b.rep, b.items, b.count, b.errorCopies = b.reps[:0], b.objs[:0], b.rep[:0], nil, 0, 0
	b.body, b.req = b.body[:0], Request{}
	batchPool.Put(b)
}

// poolable reports whether the batch is small enough to keep for reuse.
func (b *entityBatch) poolable() bool {
	return cap(b.objs) <= maxPooledObjects && len(b.index) <= maxPooledObjects && cap(b.reps) <= maxPooledReps &&
		cap(b.body) <= maxPooledBody
}

// add records obj as fed by representation i.
func (b *entityBatch) add(obj *jsonvalue.Value, i int) {
	b.objs = append(b.objs, obj)
	b.rep = append(b.rep, i)
}

// put records obj as fed by the representation rep: the one already in
// the batch when an earlier object has it, else a new one appended to
// b.reps (and, when keep, to b.items). It returns rep's index and whether
// it is new.
func (b *entityBatch) put(obj *jsonvalue.Value, rep []byte, keep bool) (int, bool) {
	if i, ok := b.index[string(rep)]; ok {
		b.add(obj, i)
		return i, false
	}
	i := b.count
	if i > 0 {
		b.reps = append(b.reps, ',')
	}
	b.reps = append(b.reps, rep...)
	// The key is rep's copy in b.reps, read in place: b.reps is only
	// appended to (an append that moves it leaves the old array, which
	// the key keeps alive, as it was), and release empties the index
	// before b.reps is written again.
	b.index[unsafe.String(unsafe.SliceData(b.reps[len(b.reps)-len(rep):]), len(rep))] = i
	if keep {
		b.items = append(b.items, append([]byte(nil), rep...))
	}
	b.add(obj, i)
	b.count++
	return i, true
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
	scratch := batch.scratch[:0]
	cached := e.entities != nil && !e.mutation
	paths := n.Paths
	if len(paths) == 0 {
		paths = [][]string{n.Path}
	}
	// last is the representation the previous object got (its bytes end
	// batch.reps): objects in a row often share one (the same author
	// under every review), and comparing with it is cheaper than the
	// lookup in batch.index.
	// lastObj holds the values of an object of that representation: an
	// object whose required values equal them has it too, which is
	// cheaper to tell than to write the representation.
	last, lastStart := -1, 0
	lastObj := &batch.memo
	// collectNew writes the representation of an object the memo could
	// not tell apart: apart from collect, whose common case (the memo
	// says it is the last one's) then keeps nothing on the stack.
	var collectNew func(obj *jsonvalue.Value)
	collect := func(obj *jsonvalue.Value) {
		if last >= 0 && lastObj.same(obj) {
			batch.add(obj, last)
			return
		}
		collectNew(obj)
	}
	collectNew = func(obj *jsonvalue.Value) {
		scratch = e.representation(scratch[:0], f, obj)
		if scratch == nil {
			return
		}
		if last >= 0 && string(scratch) == string(batch.reps[lastStart:]) {
			batch.add(obj, last)
			return
		}
		if i, added := batch.put(obj, scratch, cached); added {
			last, lastStart = i, len(batch.reps)-len(scratch)
			lastObj.set(f, obj)
		} else {
			last, lastStart = -1, 0
		}
	}
	if e.data != nil {
		for _, p := range paths {
			e.pos.walk(e.data, p, collect)
		}
	}
	if cap(scratch) <= maxPooledScratch {
		batch.scratch = scratch
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
	// The transport is done with the body when send returns: the
	// batch keeps its buffer for the next fetch.
	batch.body = e.fetchBody(batch.body[:0], f, batch.reps, extra)
	v, cacheControl := e.send(f, batch.body, n.Path, &batch.req)
	if v == nil {
		return
	}
	e.mu.Lock()
	entities := v.Get("data").Get("_entities").Array()
	if len(f.OutputRewrites) > 0 {
		for _, ent := range entities {
			applyRewrites(ent, f.OutputRewrites)
		}
	}
	var store [][]byte
	if cached && len(v.Get("errors").Array()) == 0 {
		store = entitiesToCache(entities, batch.count)
	}
	if store != nil {
		defer e.entities.Put(e.ctx, f, vars, batch.items, store, cacheControl)
	}
	defer e.mu.Unlock()
	e.mergeEntityAnswers(f, batch, entities)
	for _, ev := range v.Get("errors").Array() {
		e.entityError(f, paths, batch, ev, "_entities")
	}
}

// entityError records the subgraph error ev of an _entities call (the
// field named field) of batch, re-pathed to the objects of paths: once for
// every object its representation feeds (objects with one representation
// share one entry of the call, and each has the failed field null), up to
// maxErrorCopies more errors per fetch. Called under e.mu.
func (e *execution) entityError(f *planner.Fetch, paths [][]string, batch *entityBatch, ev *jsonvalue.Value, field string) {
	var more [][]any
	err := e.subgraphError(ev, f.Subgraph, func(p []*jsonvalue.Value) []any {
		found := e.entityErrorPaths(paths, batch, p, field, maxErrorCopies-batch.errorCopies)
		more = found[1:]
		return found[0]
	})
	err.fetch = f
	e.errors = append(e.errors, err)
	for _, path := range more {
		if batch.errorCopies >= maxErrorCopies {
			return
		}
		batch.errorCopies++
		c := *err
		c.Path = path
		e.errors = append(e.errors, &c)
	}
}

// maxErrorCopies bounds the errors an entity fetch adds by repeating a
// subgraph error at the other objects of its representation: a subgraph
// answering many errors for a representation that feeds many objects
// would otherwise make their product.
const maxErrorCopies = 1000

// mergeEntityAnswers merges the answers of an _entities call into the
// objects of batch. Called under e.mu.
func (e *execution) mergeEntityAnswers(f *planner.Fetch, batch *entityBatch, entities []*jsonvalue.Value) {
	guard := guardOf(f)
	// used[i] says whether answer i was merged already, and whether it
	// holds objects or lists: only then do the other objects of its
	// representation get a copy. An answer of leaves only is merged into
	// all of them as it is (merge stores its members, never the answer
	// object itself, and leaves are shared anyway). Such an answer sets
	// only its own keys: when none of them is on a remembered path, merge
	// need not report them to e.pos (whose keys only shrink while this
	// loop merges).
	var used []answerUse
	for j, obj := range batch.objs {
		if i := batch.rep[j]; i < len(entities) {
			if ent := entities[i]; ent.Type() == jsonvalue.TypeObject {
				if used == nil {
					used = make([]answerUse, len(entities))
				}
				switch used[i] {
				case unused:
					switch {
					case hasComposite(ent):
						used[i] = usedComposite
					case e.pos.onPath(ent):
						used[i] = usedLeaves
					default:
						used[i] = usedLeavesOffPath
					}
				case usedComposite:
					ent = e.copyOf(ent)
				}
				pos := &e.pos
				if used[i] == usedLeavesOffPath {
					pos = nil
				}
				if guard == nil {
					// Most fetches: mergeEntity without a call.
					merge(obj, ent, pos)
				} else {
					mergeEntity(obj, ent, guard, pos)
				}
			}
		}
	}
}

// answerUse is what entityFetch knows of one entity answer while merging.
type answerUse uint8

const (
	unused            answerUse = iota
	usedLeaves                  // merged once; its members are all leaves
	usedLeavesOffPath           // usedLeaves, and no key is on a remembered path
	usedComposite               // merged once; some member is an object or list
)

// hasComposite reports whether the object v has a member that is an
// object or a list.
func hasComposite(v *jsonvalue.Value) bool {
	for _, m := range v.Members() {
		if t := m.Value.Type(); t == jsonvalue.TypeObject || t == jsonvalue.TypeArray {
			return true
		}
	}
	return false
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
func mergeEntity(obj, ent *jsonvalue.Value, guard *typenameGuard, pos *positions) {
	var typename *jsonvalue.Value
	if guard != nil && guard.ifaces[ent.Get("__typename").Str()] && guard.concrete[obj.Get("__typename").Str()] {
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
func (e *execution) copyOf(v *jsonvalue.Value) *jsonvalue.Value {
	if e.copies == nil {
		e.copies, _ = copyArenas.Get().(*jsonvalue.Arena)
		if e.copies == nil {
			e.copies = new(jsonvalue.Arena)
		}
	}
	return e.copies.Copy(v)
}

// entityErrorPaths maps [field, i, rest...] to the response paths of the
// objects representation i came from, in the order of paths: at least
// one, and at most 1+more (the copies entityError may still add, so that
// paths it would drop are not built); field is the response key of the
// _entities call ("_entities", or its alias).
func (e *execution) entityErrorPaths(paths [][]string, batch *entityBatch, p []*jsonvalue.Value, field string, more int) [][]any {
	if len(p) < 2 || p[0].Str() != field || p[1].Type() != jsonvalue.TypeNumber {
		return [][]any{pathElems(paths[0])}
	}
	i, ok := p[1].Int()
	if !ok || i < 0 || i >= batch.count {
		return [][]any{pathElems(paths[0])}
	}
	// The objects were collected in the order the walk below finds them:
	// the first 1+more of representation i are the ones to find.
	want := 1 + max(more, 0)
	targets := map[*jsonvalue.Value]bool{}
	for j, r := range batch.rep {
		if r == i && len(targets) < want {
			targets[batch.objs[j]] = true
		}
	}
	var found [][]any
	for _, flatten := range paths {
		walkPathIndexed(e.data, flatten, nil, func(obj *jsonvalue.Value, path []any) {
			if targets[obj] && len(found) < want {
				found = append(found, jsonPath(path, p[2:]))
			}
		})
	}
	if found == nil {
		found = [][]any{jsonPath(pathElems(paths[0]), p[2:])}
	}
	return found
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
func walkPath(v *jsonvalue.Value, path []string, fn func(*jsonvalue.Value)) {
	if v == nil {
		return
	}
	if len(path) == 0 {
		switch v.Type() {
		case jsonvalue.TypeObject:
			fn(v)
		case jsonvalue.TypeArray:
			for _, x := range v.Array() {
				walkPath(x, nil, fn)
			}
		}
		return
	}
	if path[0] == "@" {
		for _, x := range v.Array() {
			walkPath(x, path[1:], fn)
		}
		return
	}
	walkPath(v.Get(path[0]), path[1:], fn)
}

func walkPathIndexed(v *jsonvalue.Value, path []string, at []any, fn func(*jsonvalue.Value, []any)) {
	if v == nil {
		return
	}
	if len(path) == 0 {
		if v.Type() == jsonvalue.TypeObject {
			fn(v, at)
		}
		return
	}
	if path[0] == "@" {
		for i, x := range v.Array() {
			walkPathIndexed(x, path[1:], append(at, i), fn)
		}
		return
	}
	if v.Type() != jsonvalue.TypeObject {
		return
	}
	walkPathIndexed(v.Get(path[0]), path[1:], append(at, planner.ResponseKeyOf(path[0])), fn)
}

// representation writes the representation of obj for fetch f, or returns
// nil when obj is of no type the fetch wants or lacks a required value.
func (e *execution) representation(buf []byte, f *planner.Fetch, obj *jsonvalue.Value) []byte {
	req := requirementFor(f, obj.Get("__typename").Str())
	if req == nil {
		return nil
	}
	buf = append(buf, `{"__typename":`...)
	buf = appendName(buf, req.RepresentationType)
	ok := true
	buf = appendRequired(buf, obj, req.Fields, true, &ok)
	if !ok {
		return nil
	}
	return append(buf, '}')
}

// requirementFor is the requirement of f that an object of type typename
// is represented with: the one for typename, or f's only one for an
// object without a __typename (""); nil when there is none.
func requirementFor(f *planner.Fetch, typename string) *planner.Requirement {
	for _, r := range f.Requires {
		if r.TypeName == typename {
			return r
		}
	}
	if len(f.Requires) == 1 && typename == "" {
		return f.Requires[0]
	}
	return nil
}

// repMemo holds the __typename and required leaves of the object whose
// representation an entity fetch wrote last, so that objects in a row
// with the same values (the same author under every review) are told
// apart from it without writing theirs. The values are looked up once,
// when the memo is set, not again for every object compared with it:
// that halved the instructions of collecting the harness query's
// entities, where most objects repeat the one before them.
type repMemo struct {
	// req is the requirement the object's representation was written
	// from; nil when same cannot tell (a required field with a type
	// condition or a selection of its own, or a value that is no leaf).
	req *planner.Requirement
	// typename is the object's __typename (nil when it has none), found
	// at member typenameAt: objects of one answer have it at the same
	// place, where same looks first.
	typename   *jsonvalue.Value
	typenameAt uint32
	// leaves are the values of req.Fields, in order, and at the indexes of
	// the members that hold them, where same looks first; in buf and atBuf
	// while they fit (a key of a few fields, no allocation).
	leaves []*jsonvalue.Value
	at     []uint32
	buf    [4]*jsonvalue.Value
	atBuf  [4]uint32
}

// set remembers obj, whose representation for fetch f was just written.
func (m *repMemo) set(f *planner.Fetch, obj *jsonvalue.Value) {
	m.req, m.typename, m.typenameAt = nil, nil, 0
	clear(m.leaves)
	if m.leaves == nil {
		m.leaves, m.at = m.buf[:0], m.atBuf[:0]
	}
	m.leaves, m.at = m.leaves[:0], m.at[:0]
	for i, kv := range obj.Members() {
		if kv.Key == "__typename" {
			m.typename, m.typenameAt = kv.Value, uint32(i)
			break
		}
	}
	if m.typename != nil && m.typename.Type() != jsonvalue.TypeString {
		// representation reads it as "" (no __typename); same does not
		// try to tell such objects apart.
		return
	}
	req := requirementFor(f, m.typename.Str())
	if req == nil {
		return
	}
	hint := 0
	for _, rf := range req.Fields {
		if rf.TypeCondition != "" || len(rf.Fields) > 0 {
			return
		}
		i := obj.Lookup(rf.Key, hint)
		if i < 0 {
			return
		}
		v := obj.Members()[i].Value
		if !isLeaf(v) {
			return
		}
		m.leaves = append(m.leaves, v)
		m.at = append(m.at, uint32(i))
		hint = i + 1
	}
	m.req = req
}

// same reports whether the representation of obj is the remembered
// object's, telling it from the values alone: the same __typename (or
// none in both) and, under every required field, a leaf of the same
// type and text. It says false when it cannot tell: representation
// decides then.
func (m *repMemo) same(obj *jsonvalue.Value) bool {
	if m.req == nil {
		return false
	}
	// FieldAt is inlined where Field is not; the memo's index stays as
	// it is when another object has __typename elsewhere.
	at := m.typenameAt
	if typename := obj.FieldAt("__typename", &at); typename != nil || m.typename != nil {
		if !typename.SameLeaf(m.typename) {
			return false
		}
	}
	for i, rf := range m.req.Fields {
		// The member at the remembered index, when its key is the
		// requirement's own string, without a call; else memberAt.
		var v *jsonvalue.Value
		if j, ms := m.at[i], obj.Members(); uint(j) < uint(len(ms)) && jsonvalue.SameString(ms[j].Key, rf.Key) {
			v = ms[j].Value
		} else {
			v = memberAt(obj, rf.Key, &m.at[i])
		}
		if !v.SameLeaf(m.leaves[i]) {
			return false
		}
	}
	return true
}

// memberAt is obj's member key, looked for at *at first (FieldAt): the
// lookup that appendAt and repMemo.same make when the member at *at has
// another string than key, out of line so that its calls (memequal) do
// not make theirs keep their values on the stack.
func memberAt(obj *jsonvalue.Value, key string, at *uint32) *jsonvalue.Value {
	if obj.Type() != jsonvalue.TypeObject {
		return nil
	}
	return obj.FieldAt(key, at)
}

// isLeaf reports whether v is present and no object or list.
func isLeaf(v *jsonvalue.Value) bool {
	if v == nil {
		return false
	}
	t := v.Type()
	return t != jsonvalue.TypeObject && t != jsonvalue.TypeArray
}

// appendRequired writes the required fields of obj, continuing an object
// whose opening brace is already written.
func appendRequired(buf []byte, obj *jsonvalue.Value, fields []*planner.RequiredField, started bool, ok *bool) []byte {
	typename, haveTypename, hint := "", false, 0
	for _, rf := range fields {
		if rf.TypeCondition != "" {
			if !haveTypename {
				typename, haveTypename = obj.Get("__typename").Str(), true
			}
			if rf.TypeCondition != typename {
				continue
			}
		}
		v := obj.Field(rf.Key, &hint)
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

func appendRequiredValue(buf []byte, v *jsonvalue.Value, fields []*planner.RequiredField, ok *bool) []byte {
	if len(fields) == 0 {
		return v.AppendJSON(buf)
	}
	switch v.Type() {
	case jsonvalue.TypeObject:
		buf = append(buf, '{')
		buf = appendRequired(buf, v, fields, false, ok)
		return append(buf, '}')
	case jsonvalue.TypeArray:
		buf = append(buf, '[')
		for i, x := range v.Array() {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendRequiredValue(buf, x, fields, ok)
		}
		return append(buf, ']')
	}
	return v.AppendJSON(buf)
}
