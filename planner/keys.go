package planner

import "github.com/fedgate/gateway/internal/jsonvalue"

// Keys pass, after the shape and the @defer split: the set of keys the
// executor looks up in subgraph answers (Plan.Keys).
//
// The executor parses every answer of a plan against the set, so that a
// key of the answer and the plan's string of that text share their bytes,
// and looking one up by the other compares two pointers. For that, each
// text appears in the plan as one string: the data keys of the shape, the
// Flatten paths, the keys representations are read from and the keys
// output rewrites rename are all replaced by the set's string of their
// text. Everything rewritten here was made for this plan; nothing is
// shared with another plan yet.

// wellKnownKeys are keys the executor looks up by constants of its own:
// first in the set, so that the set's string is the constant (string
// constants of one text share their bytes in a Go binary), which the
// executor's lookups then find by pointer too.
var wellKnownKeys = [...]string{"data", "errors", "_entities", "__typename"}

// internKeys makes plan.Keys and rewrites the plan's keys to its strings.
func internKeys(plan *Plan) {
	in := interner{canon: map[string]string{}, sets: map[*ShapeSet]bool{}}
	for _, s := range wellKnownKeys {
		in.key(&s)
	}
	if plan.Shape != nil {
		in.set(plan.Shape.Root)
	}
	in.node(plan.Root)
	if d := plan.Defer; d != nil {
		if d.PrimaryShape != nil {
			in.set(d.PrimaryShape.Root)
		}
		in.node(d.Primary)
		for _, part := range d.Parts {
			in.node(part.Node)
		}
		for _, views := range d.views {
			for _, v := range views {
				in.set(v)
			}
		}
	}
	plan.Keys = jsonvalue.NewKeys(in.list)
}

// interner gives each text the plan's first string of it.
type interner struct {
	canon map[string]string
	// list holds the distinct texts in the order found.
	list []string
	// sets are the shape sets done (views share them).
	sets map[*ShapeSet]bool
}

// key rewrites *s to the first string of its text.
func (in *interner) key(s *string) {
	if *s == "" {
		return
	}
	if c, ok := in.canon[*s]; ok {
		*s = c
		return
	}
	in.canon[*s] = *s
	in.list = append(in.list, *s)
}

func (in *interner) set(s *ShapeSet) {
	if s == nil || in.sets[s] {
		return
	}
	in.sets[s] = true
	for i := range s.ByType {
		fields := s.ByType[i].Fields
		for j := range fields {
			f := &fields[j]
			if f.Kind == FromData {
				in.key(&f.DataKey)
			}
			in.set(f.Selection)
		}
	}
}

func (in *interner) node(n Node) {
	switch n := n.(type) {
	case *Sequence:
		for _, c := range n.Nodes {
			in.node(c)
		}
	case *Parallel:
		for _, c := range n.Nodes {
			in.node(c)
		}
	case *Flatten:
		// The paths are rewritten in copies: a group's path may be the
		// slice of another structure.
		if len(n.Paths) > 0 {
			paths := make([][]string, len(n.Paths))
			for i, p := range n.Paths {
				paths[i] = in.path(p)
			}
			n.Paths = paths
			n.Path = paths[0]
		} else {
			n.Path = in.path(n.Path)
		}
		in.fetch(n.Node)
	case *Fetch:
		in.fetch(n)
	}
}

func (in *interner) path(p []string) []string {
	if p == nil {
		return nil
	}
	out := make([]string, len(p))
	copy(out, p)
	for i := range out {
		if out[i] != "@" {
			in.key(&out[i])
		}
	}
	return out
}

func (in *interner) fetch(f *Fetch) {
	if f == nil {
		return
	}
	for _, r := range f.Requires {
		in.required(r.Fields)
	}
	for _, rw := range f.OutputRewrites {
		in.key(&rw.From)
		in.key(&rw.To)
	}
}

func (in *interner) required(fields []*RequiredField) {
	for _, rf := range fields {
		in.key(&rf.Key)
		in.required(rf.Fields)
	}
}
