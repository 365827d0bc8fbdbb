package executor

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"

	"github.com/fedgate/gateway/internal/jsonvalue"
	"github.com/fedgate/gateway/planner"
)

// ExecuteIncremental runs a plan with a @defer split (plan.Defer) for
// incremental delivery: the primary part runs and emit receives the
// initial payload ({"data","errors","hasNext":true}); then every deferred
// part runs its fetches, in parallel with the others once the parts it
// depends on have run theirs, and emit receives a subsequent payload
// ({"incremental":[{"data","path","label","errors"}],"hasNext"}) as soon
// as a part's fetches are done (and, for a nested @defer, its parent's
// payload was sent); parts done at the same moment share one payload.
// Errors of a part's fetches go to that part's entries; a non-null
// violation nulls the entry's data, never the primary's. When ctx ends
// before every part was sent (the request deadline), a last payload
// with a GATEWAY_TIMEOUT error and hasNext false ends the stream; a
// deadline whose cause has an extension code (context.WithDeadlineCause:
// the caller's token expired) gives that error instead. emit
// returning false (the client went away) stops the run and cancels the
// fetches in flight. Each payload is emitted in a fresh buffer; emit is
// called from the calling goroutine only.
func ExecuteIncremental(ctx context.Context, plan *planner.Plan, in Input, transport Transport, emit func(payload []byte) bool) {
	ExecuteIncrementalObserved(ctx, plan, in, transport, emit, nil)
}

// PartObserver hears about the deferred parts of an incremental run: a
// part's fetches start (after the parts it depends on), and its payload
// is sent with errors errors, or the request deadline ended the stream
// before (timedOut). PartStart returns the context the part's fetches run
// with and PartDone gets (with a span, say). Both are called from the
// goroutine that emits.
type PartObserver interface {
	PartStart(ctx context.Context, d *planner.Defer) context.Context
	PartDone(ctx context.Context, d *planner.Defer, errors int, timedOut bool)
}

// ExecuteIncrementalObserved is ExecuteIncremental with obs (nil: none)
// told when each deferred part starts and is delivered.
func ExecuteIncrementalObserved(ctx context.Context, plan *planner.Plan, in Input, transport Transport, emit func(payload []byte) bool, obs PartObserver) {
	dp := plan.Defer
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e := &execution{ctx: ctx, transport: transport, header: in.Header, headerFor: in.HeaderFor, entities: in.Entities, stats: in.Stats != nil,
		keys: plan.Keys}
	release := true
	defer func() {
		if release {
			e.release()
		}
	}()
	e.redact = in.RedactErrors
	e.invalidAsErrors = in.InvalidValuesAsErrors
	if len(in.Variables) > 0 {
		if v, err := e.parse(in.Variables); err == nil {
			e.vars = v
		}
	}
	if dp.Primary != nil {
		e.run(dp.Primary)
	}
	buf, nerrs := e.render(nil, dp.PrimaryShape, in.Introspect)
	// What the client holds: a deferred fragment under an object the
	// primary part nulled (null propagation) is not delivered.
	var shown *jsonvalue.Value
	if v, err := e.parse(buf); err == nil {
		shown = v.Get("data")
	}
	if e.pruneNulled(dp.PrimaryShape.Root, shown, dp.Defers) {
		e.pos.reset()
	}
	reported := map[*Error]bool{}
	nulled := nulledEntries{}
	for _, err := range e.errors {
		reported[err] = true
	}
	n := len(dp.Parts)
	sent := make([]bool, n)
	check := newEntryCheck(dp)
	if !e.anyEntries(check, plan.Shape, dp, sent, shown, nulled) {
		// No deferred fragment applies to an object the client holds
		// (empty lists, no object of their types): the initial payload
		// is the only one, as graphql-js answers such an operation.
		buf = append(buf[:len(buf)-1], `,"hasNext":false}`...)
		emit(buf)
		finishStats(in.Stats, e, nerrs)
		return
	}
	buf = append(buf[:len(buf)-1], `,"hasNext":true}`...)
	if !emit(buf) {
		return
	}

	index := map[*planner.Defer]int{}
	owned := make([]map[*planner.Fetch]bool, n)
	for i, part := range dp.Parts {
		index[part.Defer] = i
		owned[i] = fetchesOf(part.Node, map[*planner.Fetch]bool{})
	}
	done := make(chan int, n)
	started, finished := make([]bool, n), make([]bool, n)
	partCtx := make([]context.Context, n)
	var wg sync.WaitGroup
	startReady := func() {
		for i, part := range dp.Parts {
			if started[i] {
				continue
			}
			ready := true
			for _, j := range part.Depends {
				ready = ready && finished[j]
			}
			if !ready {
				continue
			}
			started[i] = true
			pctx := ctx
			if obs != nil {
				pctx = obs.PartStart(ctx, part.Defer)
				for f := range owned[i] {
					e.hasFetchCtx.Store(true)
					e.fetchCtx.Store(f, pctx)
				}
			}
			partCtx[i] = pctx
			wg.Add(1)
			go func(i int, node planner.Node) {
				defer wg.Done()
				defer func() {
					if p := recover(); p != nil {
						e.addError(&Error{Message: "internal error executing the plan", Extensions: map[string]any{"code": "INTERNAL_SERVER_ERROR"}})
					}
					done <- i
				}()
				if node != nil {
					e.run(node)
				}
			}(i, part.Node)
		}
	}
	finish := func() { finishStats(in.Stats, e, nerrs) }
	// abandon tells obs about the parts started and never sent.
	abandon := func() {
		if obs == nil {
			return
		}
		for i, part := range dp.Parts {
			if started[i] && !sent[i] {
				obs.PartDone(partCtx[i], part.Defer, 0, true)
			}
		}
	}
	startReady()
	remaining := n
	for remaining > 0 {
		select {
		case i := <-done:
			finished[i] = true
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			// The request deadline (or the client) ended the run, even
			// when a part just finished because its fetch was cut: the
			// parts not sent yet end with an error payload. Fetches still
			// in flight see the same context end; the execution's buffers
			// are released once they have.
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				// A client that went away (canceled) gets nothing more.
				msg, code := "the request deadline passed before every deferred part was delivered", "GATEWAY_TIMEOUT"
				var coded interface{ ExtensionCode() string }
				if cause := context.Cause(ctx); errors.As(cause, &coded) && coded.ExtensionCode() != "" {
					msg, code = cause.Error(), coded.ExtensionCode()
				}
				b, _ := json.Marshal([]*Error{{Message: msg, Extensions: map[string]any{"code": code}}})
				emit(append(append([]byte(`{"hasNext":false,"errors":`), b...), '}'))
				nerrs++
			}
			abandon()
			finish()
			release = false
			go func() {
				wg.Wait()
				e.release()
			}()
			return
		}
		startReady()
		// Every part whose fetches are done and whose parent was sent
		// goes in the next payload.
		var batch []int
		for changed := true; changed; {
			changed = false
			for i, part := range dp.Parts {
				if !finished[i] || sent[i] {
					continue
				}
				if p := part.Defer.Parent; p != nil && !sent[index[p]] {
					continue
				}
				sent[i], changed = true, true
				batch = append(batch, i)
				remaining--
			}
		}
		if len(batch) == 0 {
			continue
		}
		out, counts, more := e.renderParts(check, plan.Shape, dp, batch, sent, owned, reported, shown, nulled, in.Introspect)
		for k, i := range batch {
			nerrs += counts[k]
			if obs != nil {
				obs.PartDone(partCtx[i], dp.Parts[i].Defer, counts[k], false)
			}
		}
		if out == nil {
			// The parts have no entries and more payloads follow.
			continue
		}
		if !emit(out) {
			cancel()
			abandon()
			break
		}
		if !more {
			// The parts not sent have no entries (their fragments apply
			// to no object the client holds): the stream has ended. A
			// fetch of theirs may still run (the representation of an
			// object the primary part nulled is in the data): nothing it
			// returns reaches the client, so it is cut rather than waited
			// for until the request deadline (the handler, its slots and
			// the connection held after hasNext false).
			cancel()
			wg.Wait()
			if obs != nil {
				for i, part := range dp.Parts {
					if started[i] && !sent[i] {
						obs.PartDone(partCtx[i], part.Defer, 0, false)
					}
				}
			}
			break
		}
	}
	wg.Wait()
	finish()
}

// finishStats fills stats (nil: none) once the run is over.
func finishStats(stats *Stats, e *execution, nerrs int) {
	if stats == nil {
		return
	}
	stats.SubgraphBytes = e.bytes.Load()
	stats.Errors = nerrs
	e.mu.Lock()
	stats.InvalidValues = e.invalidValues
	stats.CacheControl = append([]string(nil), e.cacheControl...)
	e.mu.Unlock()
}

// fetchesOf adds the fetches of n to out.
func fetchesOf(n planner.Node, out map[*planner.Fetch]bool) map[*planner.Fetch]bool {
	planner.EachFetch(n, func(f *planner.Fetch) { out[f] = true })
	return out
}

// renderParts writes the subsequent payload of the parts in batch (their
// fetches are done): each part's fragment data at each object of its
// path, with the errors of the fetches the part owns that no payload
// reported yet. counts holds the errors each part's entries carry; errors
// of no entry go to the payload's own errors (counted with the first
// part). hasNext, also returned, is whether a part not sent (sent marks
// the batch too) may still have entries (entryCheck). A payload without
// entries has no "incremental" list; when it has no errors either and
// hasNext is true, renderParts returns nil: there is nothing to send
// (graphql-js 17's incremental delivery, deferSpec 20220824, sends a
// payload only for completed fragments).
func (e *execution) renderParts(check *entryCheck, shape *planner.Shape, dp *planner.DeferPlan, batch []int, sent []bool, owned []map[*planner.Fetch]bool, reported map[*Error]bool, shown *jsonvalue.Value, nulled nulledEntries, introspect IntrospectFunc) ([]byte, []int, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var items []*incremental
	var loose []*Error
	counts := make([]int, len(batch))
	for k, i := range batch {
		d := dp.Parts[i].Defer
		first := len(items)
		items = e.deferItems(shape, dp, d, shown, nulled, items, introspect)
		mine := items[first:]
		for _, err := range e.errors {
			if reported[err] || (err.fetch != nil && !owned[i][err.fetch]) {
				continue
			}
			reported[err] = true
			placed := false
			var firstRel *incremental
			for _, it := range mine {
				if !related(err.Path, it.path) {
					continue
				}
				if len(err.Path) >= len(it.path) {
					// At or below the entry's path: that entry's.
					it.errors = append([]*Error{err}, it.errors...)
					placed = true
					break
				}
				// Above the entry's path (a fetch that failed for a
				// whole list): an entry the failure nulled carries it at
				// its own path, as graphql-js gives each deferred
				// fragment the error raised in it. One copy per entry:
				// a subgraph's many errors without a path, or entries
				// it did not null, must not multiply into errors x
				// entries (500 entries and 100 such errors were 50,000
				// errors, 6 MB).
				if firstRel == nil {
					firstRel = it
				}
				if !it.inherited && string(it.data) == "null" {
					c := *err
					c.Path = it.path
					it.errors = append([]*Error{&c}, it.errors...)
					it.inherited, placed = true, true
				}
			}
			if !placed && firstRel != nil {
				firstRel.errors = append([]*Error{err}, firstRel.errors...)
				placed = true
			}
			if !placed {
				loose = append(loose, err)
				counts[k]++
			}
		}
		for _, it := range mine {
			counts[k] += len(it.errors)
		}
	}
	hasNext := e.anyEntriesLocked(check, shape, dp, sent, shown, nulled)
	if len(items) == 0 && len(loose) == 0 && hasNext {
		// Nothing to send (the fragments apply to no object the client
		// holds): graphql-js sends no payload then.
		return nil, counts, true
	}
	buf := []byte(`{"hasNext":`)
	buf = strconv.AppendBool(buf, hasNext)
	if len(items) > 0 {
		buf = append(buf, `,"incremental":[`...)
	}
	for i, it := range items {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"data":`...)
		buf = append(buf, it.data...)
		p, _ := json.Marshal(it.path)
		if it.path == nil {
			p = []byte("[]")
		}
		buf = append(append(buf, `,"path":`...), p...)
		if it.label != "" {
			l, _ := json.Marshal(it.label)
			buf = append(append(buf, `,"label":`...), l...)
		}
		if len(it.errors) > 0 {
			b, _ := json.Marshal(it.errors)
			buf = append(append(buf, `,"errors":`...), b...)
		}
		if len(it.invalid) > 0 {
			b, _ := json.Marshal(it.invalid)
			buf = append(append(append(buf, `,"extensions":{"valueCompletion":`...), b...), '}')
		}
		buf = append(buf, '}')
	}
	if len(items) > 0 {
		buf = append(buf, ']')
	}
	if len(loose) > 0 {
		b, _ := json.Marshal(loose)
		buf = append(append(buf, `,"errors":`...), b...)
	}
	return append(buf, '}'), counts, hasNext
}

// entryCheck tells, during one incremental run, whether a part not sent
// may still have entries: its fragment applies to an object the client
// holds (or will, once the part's parent, not sent yet, is). Where a
// part's parent was sent (or it has none), the objects at its path are in
// the data already (the enclosing part fetched them; the part's own
// fetches only add fields to them) and the entries that parent nulled are
// known, so the answer is settled: a part none applies to never has an
// entry, and its fetches no representation. Settled answers are kept, so
// each part's path is walked at most once per run. graphql-js makes no
// record for such a fragment, so it ends the stream (hasNext false) with
// the last payload that has entries.
type entryCheck struct {
	index map[*planner.Defer]int
	// settled holds, per part, 1 when it has an entry, -1 when it has
	// none, 0 while its parent is not sent.
	settled []int8
}

func newEntryCheck(dp *planner.DeferPlan) *entryCheck {
	c := &entryCheck{index: make(map[*planner.Defer]int, len(dp.Parts)), settled: make([]int8, len(dp.Parts))}
	for i, part := range dp.Parts {
		c.index[part.Defer] = i
	}
	return c
}

// anyEntries reports whether a part not in sent may have entries (see
// entryCheck).
func (e *execution) anyEntries(c *entryCheck, shape *planner.Shape, dp *planner.DeferPlan, sent []bool, shown *jsonvalue.Value, nulled nulledEntries) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.anyEntriesLocked(c, shape, dp, sent, shown, nulled)
}

// anyEntriesLocked is anyEntries with e.mu held.
func (e *execution) anyEntriesLocked(c *entryCheck, shape *planner.Shape, dp *planner.DeferPlan, sent []bool, shown *jsonvalue.Value, nulled nulledEntries) bool {
	var may func(i int) bool
	may = func(i int) bool {
		if v := c.settled[i]; v != 0 {
			return v > 0
		}
		d := dp.Parts[i].Defer
		if p := d.Parent; p != nil && !sent[c.index[p]] {
			// The parent's entries are not rendered yet: the part has
			// entries when its parent may.
			return may(c.index[p])
		}
		c.settled[i] = -1
		if e.hasEntry(shape, dp, d, shown, nulled) {
			c.settled[i] = 1
		}
		return c.settled[i] > 0
	}
	for i := range dp.Parts {
		if !sent[i] && may(i) {
			return true
		}
	}
	return false
}

// hasEntry reports whether d's fragment applies to an object of its path
// the client holds, where deferItems would render an entry.
func (e *execution) hasEntry(shape *planner.Shape, dp *planner.DeferPlan, d *planner.Defer, shown *jsonvalue.Value, nulled nulledEntries) bool {
	found := false
	at(e.rootData(), shown, shape.Root, d, 0, nil, func(v *jsonvalue.Value, sel *planner.ShapeSet, path []any) bool {
		_, found = entryAt(dp, d, v, sel, path, nulled)
		return !found
	})
	return found
}

// incremental is one entry of a subsequent payload.
type incremental struct {
	path   []any
	label  string
	data   []byte
	errors []*Error
	// invalid lists the entry's values the API schema cannot represent
	// (renderer.invalidValue), written in its extensions.valueCompletion.
	invalid []*Error
	// inherited is set once the entry carries a copy of an error above
	// its path (renderParts).
	inherited bool
}

// nulledEntries holds, per @defer, the paths (pathKey) of the entries it
// sent with data null (an error nulled the fragment's data there).
type nulledEntries map[*planner.Defer]map[string]bool

// add records the entry of d at path as sent with data null.
func (n nulledEntries) add(d *planner.Defer, path []any) {
	if n[d] == nil {
		n[d] = map[string]bool{}
	}
	n[d][string(appendPathKey(nil, path))] = true
}

// under reports whether path is at or under an entry that an enclosing
// @defer of d sent with data null: the client has none of that
// fragment's data there, so d has no entry there either (graphql-js
// drops the fragments nested in a fragment that failed so). It looks up
// every prefix of path, so many nulled entries cost no more per entry.
func (n nulledEntries) under(d *planner.Defer, path []any) bool {
	if len(n) == 0 {
		return false
	}
	var key []byte
	for i := 0; i <= len(path); i++ {
		if i > 0 {
			key = appendPathKey(key, path[i-1:i])
		}
		for p := d.Parent; p != nil; p = p.Parent {
			if n[p][string(key)] {
				return true
			}
		}
	}
	return false
}

// appendPathKey appends the steps of a response path (response keys and
// list indexes) to key, each ended by a 0 byte and an index marked by a
// leading 1 byte, so no two paths share a key.
func appendPathKey(key []byte, path []any) []byte {
	for _, step := range path {
		switch v := step.(type) {
		case int:
			key = strconv.AppendInt(append(key, 1), int64(v), 10)
		case string:
			key = append(key, v...)
		}
		key = append(key, 0)
	}
	return key
}

// deferItems appends the entries of d: its fragment's data at each
// object of its path the client holds (nulled: not under an entry an
// enclosing fragment sent with data null); entries d sends with data
// null are added to nulled.
func (e *execution) deferItems(shape *planner.Shape, dp *planner.DeferPlan, d *planner.Defer, shown *jsonvalue.Value, nulled nulledEntries, items []*incremental, introspect IntrospectFunc) []*incremental {
	at(e.rootData(), shown, shape.Root, d, 0, nil, func(v *jsonvalue.Value, sel *planner.ShapeSet, path []any) bool {
		typename, ok := entryAt(dp, d, v, sel, path, nulled)
		if !ok {
			return true
		}
		r := &renderer{e: e, introspect: introspect, base: append([]any(nil), path...)}
		data, ok := r.object(nil, v, dp.View(d, sel), typename)
		if !ok {
			data = []byte("null")
			nulled.add(d, path)
		}
		r.closeInvalid()
		e.invalidValues += r.invalidCount
		items = append(items, &incremental{path: path, label: d.Label, data: data, errors: r.nullErrors, invalid: r.completion})
		return true
	})
	return items
}

// rootData is the response data to find entries in.
func (e *execution) rootData() *jsonvalue.Value {
	if e.data == nil {
		// No fetch ran (a deferred __typename at the root, say): the root
		// object is still there to render from.
		var a jsonvalue.Arena
		return a.NewObject()
	}
	return e.data
}

// entryAt reports whether d has an entry at the object v of selection set
// sel at path, and the object's type: the fragment has a view of sel, is
// not under an entry an enclosing fragment sent with data null, and its
// type condition matches the object.
func entryAt(dp *planner.DeferPlan, d *planner.Defer, v *jsonvalue.Value, sel *planner.ShapeSet, path []any, nulled nulledEntries) (string, bool) {
	if dp.View(d, sel) == nil || nulled.under(d, path) {
		return "", false
	}
	typename := sel.Type
	if sel.Abstract {
		typename = v.Get("__typename").Str()
		if !d.AppliesTo(typename) && !(unresolved(sel, typename) && d.AppliesTo(sel.ByType[0].Type)) {
			// The fragment's type condition does not match this object:
			// it has no entry here.
			return "", false
		}
	}
	return typename, true
}

// unresolved reports whether an object of the abstract selection sel
// whose data names typename is an @interfaceObject answer without a
// concrete type: the plan leaves it so only when every implementation
// selects alike, with the same @defer (planner/interfaceobject.go), so the
// first type's selection is everyone's, as the one-body render takes it.
func unresolved(sel *planner.ShapeSet, typename string) bool {
	return sel.Abstract && (typename == "" || typename == sel.Type) && len(sel.ByType) > 0
}

// at calls visit for every object found at d.Path from depth on (response
// keys, lists stepped into) from v, with the selection set there and its
// response path, until visit returns false; at returns false when it
// stopped so. A step is taken only from objects of the types d's
// fragment is reached through: the same response key on another type of
// an abstract position is another field, where d has no entry (and which
// may come with another deferred fragment, not sent yet). shown is the
// same position in the response data the client has (nil where the
// client has nothing yet): where it is null, nothing is visited.
func at(v, shown *jsonvalue.Value, sel *planner.ShapeSet, d *planner.Defer, depth int, out []any, visit func(*jsonvalue.Value, *planner.ShapeSet, []any) bool) bool {
	if v == nil || v.Type() != jsonvalue.TypeObject {
		return true
	}
	if shown != nil && shown.Type() != jsonvalue.TypeObject {
		return true
	}
	if depth == len(d.Path) {
		return visit(v, sel, out)
	}
	typename := sel.Type
	if sel.Abstract {
		typename = v.Get("__typename").Str()
	}
	fields := sel.FieldsFor(typename)
	if fields == nil && unresolved(sel, typename) {
		typename = sel.ByType[0].Type
		fields = sel.ByType[0].Fields
	}
	if !d.Via(depth, typename) {
		return true
	}
	key := d.Path[depth].ResponseKey
	for i := range fields {
		f := &fields[i]
		if f.ResponseKey != key || f.Selection == nil {
			continue
		}
		var step func(c, sc *jsonvalue.Value, out []any) bool
		step = func(c, sc *jsonvalue.Value, out []any) bool {
			if c == nil {
				return true
			}
			if sc != nil && sc.Type() == jsonvalue.TypeNull {
				return true
			}
			switch c.Type() {
			case jsonvalue.TypeArray:
				var shownEls []*jsonvalue.Value
				if sc != nil {
					shownEls = sc.Array()
				}
				for i, el := range c.Array() {
					var sel *jsonvalue.Value
					if sc != nil {
						if i >= len(shownEls) {
							return true
						}
						sel = shownEls[i]
					}
					if !step(el, sel, append(out[:len(out):len(out)], i)) {
						return false
					}
				}
			case jsonvalue.TypeObject:
				return at(c, sc, f.Selection, d, depth+1, out, visit)
			}
			return true
		}
		var sc *jsonvalue.Value
		if shown != nil {
			sc = shown.Get(f.ResponseKey)
		}
		return step(v.Get(f.DataKey), sc, append(out[:len(out):len(out)], f.ResponseKey))
	}
	return true
}
