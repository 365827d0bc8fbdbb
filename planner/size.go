package planner

import (
	"unsafe"

	"github.com/fedgate/gateway/internal/astsize"
)

// Size estimates the bytes of memory a plan holds: its normalized
// operation, its render shape (and, with @defer, the primary shape and
// each part's views), its fetches and its set of keys. A cache of plans charges each entry
// its Size, so that a bound on the cache is a bound on memory.
//
// The estimate counts each node of the trees once (a subtree shared by
// two views counts once), by the size of its struct, the slice slots that
// point to it and the strings built for it, and the document's arguments
// and variable definitions the operation keeps; the client's query text
// (which their positions keep alive) and the enum sets shared by the
// schema are not counted.
func (p *Plan) Size() int64 {
	if p == nil {
		return 0
	}
	s := sizer{sets: map[*SelectionSet]bool{}, shapes: map[*ShapeSet]bool{}}
	s.n = int64(unsafe.Sizeof(*p)) + p.Keys.Size()
	s.node(p.Root)
	if p.Operation != nil {
		s.selection(p.Operation.Selection)
		s.n += int64(len(p.Operation.Defers)) * int64(unsafe.Sizeof(Defer{})+8)
		s.n += astsize.Variables(p.Operation.Variables)
	}
	if p.Shape != nil {
		s.shape(p.Shape.Root)
	}
	if d := p.Defer; d != nil {
		s.node(d.Primary)
		if d.PrimaryShape != nil {
			s.shape(d.PrimaryShape.Root)
		}
		for _, part := range d.Parts {
			s.n += int64(unsafe.Sizeof(*part)) + 8*int64(1+len(part.Depends))
			s.node(part.Node)
		}
		for _, views := range d.views {
			for from, to := range views {
				s.n += mapSlot
				s.shape(from)
				s.shape(to)
			}
		}
	}
	return s.n
}

// mapSlot is the estimated cost of one entry of a small map of pointers.
const mapSlot = 48

// sizer adds up the estimate, visiting each set once.
type sizer struct {
	n      int64
	sets   map[*SelectionSet]bool
	shapes map[*ShapeSet]bool
}

func (s *sizer) selection(set *SelectionSet) {
	if set == nil || s.sets[set] {
		return
	}
	s.sets[set] = true
	s.n += int64(unsafe.Sizeof(*set)) + 8*int64(len(set.conditional))
	for _, tf := range set.ByType {
		s.n += 8 + int64(unsafe.Sizeof(*tf))
		for _, f := range tf.Fields {
			s.n += 8 + int64(unsafe.Sizeof(*f)) + int64(len(f.jsonKey)+len(f.dataKey))
			s.n += astsize.Arguments(f.Arguments)
			s.selection(f.Selection)
		}
	}
}

func (s *sizer) shape(set *ShapeSet) {
	if set == nil || s.shapes[set] {
		return
	}
	s.shapes[set] = true
	s.n += int64(unsafe.Sizeof(*set))
	for _, st := range set.ByType {
		s.n += int64(unsafe.Sizeof(st))
		for i := range st.Fields {
			f := &st.Fields[i]
			s.n += int64(unsafe.Sizeof(*f)) + int64(len(f.JSONKey)+len(f.DataKey))
			s.shape(f.Selection)
		}
	}
}

func (s *sizer) node(n Node) {
	switch n := n.(type) {
	case *Sequence:
		s.n += int64(unsafe.Sizeof(*n)) + 16*int64(len(n.Nodes))
		for _, c := range n.Nodes {
			s.node(c)
		}
	case *Parallel:
		s.n += int64(unsafe.Sizeof(*n)) + 16*int64(len(n.Nodes))
		for _, c := range n.Nodes {
			s.node(c)
		}
	case *Flatten:
		s.n += int64(unsafe.Sizeof(*n)) + pathSize(n.Path)
		for _, p := range n.Paths {
			s.n += 24 + pathSize(p)
		}
		s.node(n.Node)
	case *Fetch:
		s.fetch(n)
	}
}

func (s *sizer) fetch(f *Fetch) {
	if f == nil {
		return
	}
	s.n += int64(unsafe.Sizeof(*f)) + int64(len(f.Operation)+len(f.OperationName))
	s.n += 16 * int64(len(f.VariableUsages)+len(f.RootFields))
	for _, r := range f.Requires {
		s.n += 8 + int64(unsafe.Sizeof(*r)) + 8*int64(len(r.Fields))
		for _, rf := range r.Fields {
			s.n += int64(unsafe.Sizeof(*rf))
		}
	}
	for _, rw := range f.OutputRewrites {
		s.n += 8 + int64(unsafe.Sizeof(*rw)) + pathSize(rw.Path)
	}
	for _, c := range f.Contexts {
		s.n += 8 + int64(unsafe.Sizeof(*c))
	}
	if t := f.ContextTemplate; t != nil {
		s.n += int64(unsafe.Sizeof(*t)) + int64(len(t.Head)+len(t.Vars)) + 8*int64(len(t.Uses))
		for _, p := range t.Parts {
			s.n += 16 + int64(len(p))
		}
	}
}

// pathSize is the estimate of a path of response keys.
func pathSize(p []string) int64 { return 16 * int64(len(p)) }
