package executor

import (
	"slices"
	"strconv"
	"sync"

	"github.com/fedgate/gateway/planner"
	"github.com/valyala/fastjson"
)

// Entity fetches with contextual arguments (Federation 2.8 @fromContext):
// each object's variables are read from its nearest ancestor whose type
// sets the context (planner.ContextInput). One _entities call takes one
// value per variable, so the objects are grouped by their values and each
// group is sent as its own call; the calls of one fetch run at most
// maxContextCalls at a time.

// maxContextCalls bounds the concurrent calls of one contextual fetch.
const maxContextCalls = 8

// contextGroup is the objects of one contextual fetch that share their
// variables' values.
type contextGroup struct {
	// vars are the members of the variables object ("name":value,...).
	vars string
	objs []*fastjson.Value
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
			walkAncestors(e.data, p, nil, func(obj *fastjson.Value, ancestors []*fastjson.Value) {
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
			if j, ok := batch.index[string(scratch)]; ok {
				batch.add(obj, j)
				continue
			}
			batch.index[string(scratch)] = batch.count
			if batch.count > 0 {
				batch.reps = append(batch.reps, ',')
			}
			batch.reps = append(batch.reps, scratch...)
			batch.add(obj, batch.count)
			batch.count++
		}
		batches[i] = batch
	}
	e.mu.Unlock()
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxContextCalls)
	for i, g := range groups {
		wg.Add(1)
		slots <- struct{}{}
		go func(batch *entityBatch, vars []byte) {
			defer wg.Done()
			defer func() { <-slots }()
			defer batch.release()
			e.fetchEntities(n, paths, batch, false, vars)
		}(batches[i], []byte(g.vars))
	}
	wg.Wait()
}

// walkAncestors calls fn for every non-null object at path below v, as
// walkPath does, with the objects passed on the way there (v first when
// it is an object, the object itself last).
func walkAncestors(v *fastjson.Value, path []string, ancestors []*fastjson.Value, fn func(*fastjson.Value, []*fastjson.Value)) {
	if v == nil {
		return
	}
	switch v.Type() {
	case fastjson.TypeArray:
		if len(path) == 0 || path[0] == "@" {
			rest := path
			if len(rest) > 0 {
				rest = rest[1:]
			}
			for _, x := range v.GetArray() {
				walkAncestors(x, rest, ancestors, fn)
			}
		}
	case fastjson.TypeObject:
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
func contextVariables(buf []byte, inputs []*planner.ContextInput, obj *fastjson.Value, ancestors []*fastjson.Value) ([]byte, bool) {
	typename := string(stringBytes(obj.Get("__typename")))
	for _, in := range inputs {
		if typename != "" && typename != in.TypeName {
			continue
		}
		// The object itself (last) does not count: a context is set by
		// an ancestor.
		for i := len(ancestors) - 2; i >= 0; i-- {
			typename := string(stringBytes(ancestors[i].Get("__typename")))
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
func appendContextValue(buf []byte, v *fastjson.Value, fields []*planner.RequiredField) ([]byte, bool) {
	if len(fields) == 0 {
		return v.MarshalTo(buf), true
	}
	switch v.Type() {
	case fastjson.TypeObject:
		typename := ""
		for _, rf := range fields {
			if rf.Name == "__typename" && rf.TypeCondition == "" {
				continue
			}
			if rf.TypeCondition != "" {
				if typename == "" {
					typename = string(stringBytes(v.Get("__typename")))
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
	case fastjson.TypeArray:
		buf = append(buf, '[')
		for i, x := range v.GetArray() {
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
	return v.MarshalTo(buf), true
}
