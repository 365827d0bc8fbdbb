package executor

import (
	"github.com/fedgate/gateway/internal/jsonvalue"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/fedgate/gateway/planner"
)

// Entity fetches with contextual arguments (Federation 2.8 @fromContext):
// each object's variables are read from its nearest ancestor whose type
// sets the context (planner.ContextInput). One _entities call takes one
// value per variable, so the objects are grouped by their values; one
// group is sent as the plan's operation, several in one request with an
// aliased _entities field per group (up to maxSetsPerCall a request, at
// most maxContextCalls requests of one fetch at a time).

// maxContextCalls bounds the concurrent calls of one contextual fetch.
const maxContextCalls = 8

// contextGroup is the objects of one contextual fetch that share their
// variables' values.
type contextGroup struct {
	// vars are the members of the variables object ("name":value,...).
	vars string
	objs []*jsonvalue.Value
}

// contextEntityFetch runs a Flatten(Fetch) node whose fetch has
// contextual arguments.
func (e *execution) contextEntityFetch(n *planner.Flatten) {
	f := n.Node
	paths := n.Paths
	if len(paths) == 0 {
		paths = [][]string{n.Path}
	}
	e.mu.Lock()
	var groups []*contextGroup
	byVars := map[string]*contextGroup{}
	var buf []byte
	if e.data != nil {
		for _, p := range paths {
			walkAncestors(e.data, p, nil, func(obj *jsonvalue.Value, ancestors []*jsonvalue.Value) {
				var mine bool
				if buf, mine = contextVariables(buf[:0], f.Contexts, obj, ancestors); !mine {
					return
				}
				g := byVars[string(buf)]
				if g == nil {
					g = &contextGroup{vars: string(buf)}
					byVars[g.vars] = g
					groups = append(groups, g)
				}
				g.objs = append(g.objs, obj)
			})
		}
	}
	batches := make([]*entityBatch, len(groups))
	var scratch []byte
	for i, g := range groups {
		batch := newEntityBatch()
		batch.reps = append(batch.reps, '[')
		for _, obj := range g.objs {
			scratch = e.representation(scratch[:0], f, obj)
			if scratch == nil {
				continue
			}
			batch.put(obj, scratch, false)
		}
		batches[i] = batch
	}
	e.mu.Unlock()
	if len(groups) == 1 || f.ContextTemplate == nil {
		e.contextCalls(n, paths, groups, batches)
		return
	}
	// Several sets of values: one request asks for up to
	// maxSetsPerCall of them, each in an aliased _entities field.
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxContextCalls)
	for start := 0; start < len(groups); start += maxSetsPerCall {
		end := min(start+maxSetsPerCall, len(groups))
		wg.Add(1)
		slots <- struct{}{}
		go func(groups []*contextGroup, batches []*entityBatch) {
			defer wg.Done()
			defer func() { <-slots }()
			defer e.containPanic()
			e.aliasedContextCall(n, paths, groups, batches)
		}(groups[start:end], batches[start:end])
	}
	wg.Wait()
}

// maxSetsPerCall bounds the aliased _entities fields of one request.
const maxSetsPerCall = 64

// contextCalls sends each group's objects in its own _entities call.
func (e *execution) contextCalls(n *planner.Flatten, paths [][]string, groups []*contextGroup, batches []*entityBatch) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxContextCalls)
	for i, g := range groups {
		wg.Add(1)
		slots <- struct{}{}
		go func(batch *entityBatch, vars []byte) {
			defer wg.Done()
			defer func() { <-slots }()
			defer batch.release()
			defer e.containPanic()
			e.fetchEntities(n, paths, batch, false, vars)
		}(batches[i], []byte(g.vars))
	}
	wg.Wait()
}

// aliasedContextCall asks for the objects of several groups in one
// request, group i in the _entities field aliased _<i>, with its own
// representations and contextual variables, and merges the answers.
func (e *execution) aliasedContextCall(n *planner.Flatten, paths [][]string, groups []*contextGroup, batches []*entityBatch) {
	f := n.Node
	t := f.ContextTemplate
	defer func() {
		for _, b := range batches {
			b.release()
		}
	}()
	// A prefix for the request's own variables that no client variable
	// of the operation starts with.
	prefix := "_fed_"
	for clash := true; clash; {
		clash = false
		for _, u := range f.VariableUsages {
			if strings.HasPrefix(u, prefix) {
				clash = true
				prefix += "_"
				break
			}
		}
	}
	name := func(buf []byte, kind string, set, k int) []byte {
		buf = append(buf, prefix...)
		buf = append(buf, kind...)
		buf = strconv.AppendInt(buf, int64(set), 10)
		if k >= 0 {
			buf = append(buf, '_')
			buf = strconv.AppendInt(buf, int64(k), 10)
		}
		return buf
	}
	var op []byte
	op = append(op, t.Head...)
	op = append(op, '(')
	first := true
	for i, b := range batches {
		if b.count == 0 {
			// No field asks for it: no variables either (an unused
			// variable fails validation).
			continue
		}
		if !first {
			op = append(op, ',')
		}
		first = false
		op = append(op, '$')
		op = name(op, "r", i, -1)
		op = append(op, ":[_Any!]!"...)
		for k, in := range f.Contexts {
			op = append(op, ",$"...)
			op = name(op, "c", i, k)
			op = append(op, ':')
			op = append(op, in.Type...)
		}
	}
	op = append(op, t.Vars...)
	op = append(op, "){"...)
	for i, b := range batches {
		if b.count == 0 {
			continue
		}
		op = append(op, '_')
		op = strconv.AppendInt(op, int64(i), 10)
		op = append(op, ":_entities(representations:$"...)
		op = name(op, "r", i, -1)
		op = append(op, "){"...)
		for j, part := range t.Parts {
			op = append(op, part...)
			if j < len(t.Uses) {
				op = append(op, '$')
				op = name(op, "c", i, t.Uses[j])
			}
		}
		op = append(op, "} "...)
	}
	op = append(op, '}')

	var vars, doc []byte
	// One parser for every group's values: each is read (and written
	// into vars) before the next Parse.
	var parser jsonvalue.Parser
	n0 := 0
	for i, b := range batches {
		if b.count == 0 {
			continue
		}
		if n0 > 0 {
			vars = append(vars, ',')
		}
		n0++
		vars = append(vars, '"')
		vars = name(vars, "r", i, -1)
		vars = append(vars, `":`...)
		vars = append(vars, b.reps...)
		vars = append(vars, ']')
		// The group's values, under this set's names.
		doc = append(append(append(doc[:0], '{'), groups[i].vars...), '}')
		values, err := parser.Parse(doc)
		if err != nil {
			continue
		}
		for k, in := range f.Contexts {
			if v := values.Get(in.Variable); v != nil {
				vars = append(vars, ',', '"')
				vars = name(vars, "c", i, k)
				vars = append(vars, `":`...)
				vars = v.AppendJSON(vars)
			}
		}
	}
	if n0 == 0 {
		return
	}
	aliased := *f
	aliased.Operation = string(op)
	body := e.fetchBody(nil, &aliased, nil, vars)
	v, _ := e.send(f, body, n.Path, nil)
	if v == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var key []byte
	for i, b := range batches {
		key = append(append(key[:0], '_'), strconv.Itoa(i)...)
		entities := v.Get("data").Get(string(key)).Array()
		if len(f.OutputRewrites) > 0 {
			for _, ent := range entities {
				applyRewrites(ent, f.OutputRewrites)
			}
		}
		e.mergeEntityAnswers(f, b, entities)
	}
	for _, ev := range v.Get("errors").Array() {
		// The alias the error's path starts with names its group.
		b, field := batches[0], "_0"
		if p := ev.Get("path").Array(); len(p) > 0 {
			s := p[0].Str()
			if i, err := strconv.Atoi(strings.TrimPrefix(s, "_")); err == nil && strings.HasPrefix(s, "_") && i >= 0 && i < len(batches) {
				b, field = batches[i], s
			}
		}
		e.entityError(f, paths, b, ev, field)
	}
}

// walkAncestors calls fn for every non-null object at path below v, as
// walkPath does, with the objects passed on the way there (v first when
// it is an object, the object itself last).
func walkAncestors(v *jsonvalue.Value, path []string, ancestors []*jsonvalue.Value, fn func(*jsonvalue.Value, []*jsonvalue.Value)) {
	if v == nil {
		return
	}
	switch v.Type() {
	case jsonvalue.TypeArray:
		if len(path) == 0 || path[0] == "@" {
			rest := path
			if len(rest) > 0 {
				rest = rest[1:]
			}
			for _, x := range v.Array() {
				walkAncestors(x, rest, ancestors, fn)
			}
		}
	case jsonvalue.TypeObject:
		ancestors = append(ancestors[:len(ancestors):len(ancestors)], v)
		if len(path) == 0 {
			fn(v, ancestors)
			return
		}
		if path[0] != "@" {
			walkAncestors(v.Get(path[0]), path[1:], ancestors, fn)
		}
	}
}

// contextVariables writes the members of the variables object that carry
// obj's context values: for each input, the value its nearest ancestor of
// a context type holds (none when there is no such ancestor or it lacks
// the value: the subgraph then gets the argument as not given). It
// reports false when that ancestor is of a context type the input has no
// source for: the object is another fetch's.
func contextVariables(buf []byte, inputs []*planner.ContextInput, obj *jsonvalue.Value, ancestors []*jsonvalue.Value) ([]byte, bool) {
	typename := obj.Get("__typename").Str()
	for _, in := range inputs {
		if typename != "" && typename != in.TypeName {
			continue
		}
		// The object itself (last) does not count, a context is set by
		// an ancestor, unless the field is selected below it.
		i := len(ancestors) - 2
		if in.Self {
			i++
		}
		for ; i >= 0; i-- {
			typename := ancestors[i].Get("__typename").Str()
			src := contextSource(in, typename)
			if src == nil {
				if slices.Contains(in.Types, typename) {
					return buf, false
				}
				continue
			}
			start := len(buf)
			if start > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendQuote(buf, in.Variable)
			buf = append(buf, ':')
			var ok bool
			if buf, ok = appendContextValue(buf, ancestors[i], src.Fields); !ok {
				buf = buf[:start]
			}
			break
		}
	}
	return buf, true
}

func contextSource(in *planner.ContextInput, typename string) *planner.ContextSource {
	if typename == "" {
		return nil
	}
	for _, s := range in.Sources {
		if s.TypeName == typename {
			return s
		}
	}
	return nil
}

// appendContextValue writes the value fields select in v: the one field
// they name, down to its leaf, lists kept. It reports false when a value
// on the way is missing.
func appendContextValue(buf []byte, v *jsonvalue.Value, fields []*planner.RequiredField) ([]byte, bool) {
	if len(fields) == 0 {
		return v.AppendJSON(buf), true
	}
	switch v.Type() {
	case jsonvalue.TypeObject:
		typename := ""
		for _, rf := range fields {
			if rf.Name == "__typename" && rf.TypeCondition == "" {
				continue
			}
			if rf.TypeCondition != "" {
				if typename == "" {
					typename = v.Get("__typename").Str()
				}
				if rf.TypeCondition != typename {
					continue
				}
			}
			c := v.Get(rf.Key)
			if c == nil {
				return buf, false
			}
			return appendContextValue(buf, c, rf.Fields)
		}
		return buf, false
	case jsonvalue.TypeArray:
		buf = append(buf, '[')
		for i, x := range v.Array() {
			if i > 0 {
				buf = append(buf, ',')
			}
			var ok bool
			if buf, ok = appendContextValue(buf, x, fields); !ok {
				return buf, false
			}
		}
		return append(buf, ']'), true
	}
	// null: the value is null.
	return v.AppendJSON(buf), true
}

// containPanic, deferred in a goroutine of the execution, keeps a panic
// there (a hook's at a Subgraph stage, inside the transport) to this
// request as an error of the response, as a Parallel branch and a
// deferred part do: uncaught in a goroutine, it ends the process.
func (e *execution) containPanic() {
	if p := recover(); p != nil {
		e.addError(&Error{Message: "internal error executing the plan", Extensions: map[string]any{"code": "INTERNAL_SERVER_ERROR"}})
	}
}
