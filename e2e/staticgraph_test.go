package e2e

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// staticGraph is a small subgraph over fixed data: it answers root fields
// from root and _entities from entities (by __typename and id), following
// the selection it is sent (aliases, inline fragments by __typename,
// fragment spreads). Arguments other than representations are ignored.
// It records every query and the headers it came with.
type staticGraph struct {
	root     map[string]any
	entities map[string]map[string]map[string]any

	mu      sync.Mutex
	queries []string
	headers []http.Header
}

func (g *staticGraph) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	g.queries = append(g.queries, req.Query)
	g.headers = append(g.headers, r.Header.Clone())
	g.mu.Unlock()
	doc, err := parser.ParseQuery(&ast.Source{Input: req.Query})
	if err != nil || len(doc.Operations) != 1 {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"errors":[{"message":"static subgraph: cannot parse the query"}]}`))
		return
	}
	res := &resolver{g: g, doc: doc, vars: req.Variables}
	data := res.set(doc.Operations[0].SelectionSet, g.root, true)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"data": data})
}

// Queries returns the queries received so far.
func (g *staticGraph) Queries() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.queries...)
}

// Headers returns the headers of the requests received so far.
func (g *staticGraph) Headers() []http.Header {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]http.Header(nil), g.headers...)
}

// Reset forgets what was recorded.
func (g *staticGraph) Reset() {
	g.mu.Lock()
	g.queries, g.headers = nil, nil
	g.mu.Unlock()
}

type resolver struct {
	g    *staticGraph
	doc  *ast.QueryDocument
	vars map[string]any
}

func (r *resolver) set(sel ast.SelectionSet, obj map[string]any, root bool) map[string]any {
	out := map[string]any{}
	typename, _ := obj["__typename"].(string)
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			key := s.Alias
			if key == "" {
				key = s.Name
			}
			switch {
			case s.Name == "__typename":
				if root {
					out[key] = "Query"
				} else {
					out[key] = typename
				}
			case root && s.Name == "_entities":
				out[key] = r.entities(s)
			default:
				out[key] = r.value(s.SelectionSet, obj[s.Name])
			}
		case *ast.InlineFragment:
			if s.TypeCondition == "" || s.TypeCondition == typename {
				for k, v := range r.set(s.SelectionSet, obj, root) {
					out[k] = v
				}
			}
		case *ast.FragmentSpread:
			if f := r.doc.Fragments.ForName(s.Name); f != nil && (f.TypeCondition == typename || root) {
				for k, v := range r.set(f.SelectionSet, obj, root) {
					out[k] = v
				}
			}
		}
	}
	return out
}

func (r *resolver) value(sel ast.SelectionSet, v any) any {
	switch t := v.(type) {
	case map[string]any:
		return r.set(sel, t, false)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = r.value(sel, e)
		}
		return out
	}
	return v
}

func (r *resolver) entities(f *ast.Field) []any {
	reps, _ := r.vars["representations"].([]any)
	out := make([]any, 0, len(reps))
	for _, rep := range reps {
		m, _ := rep.(map[string]any)
		typename, _ := m["__typename"].(string)
		id, _ := m["id"].(string)
		obj := r.g.entities[typename][id]
		if obj == nil {
			out = append(out, nil)
			continue
		}
		out = append(out, r.set(f.SelectionSet, obj, false))
	}
	return out
}
