package cache

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

// Scope says who may share a cached answer.
type Scope uint8

const (
	// Public answers are the same for every caller.
	Public Scope = iota
	// Private answers belong to one caller: they are keyed by its
	// identity, and never stored for a caller without one.
	Private
)

func (s Scope) String() string {
	if s == Private {
		return "PRIVATE"
	}
	return "PUBLIC"
}

func parseScope(s string) (Scope, bool) {
	switch strings.ToUpper(s) {
	case "", "PUBLIC":
		return Public, true
	case "PRIVATE":
		return Private, true
	}
	return Public, false
}

// Unlimited is the MaxAge of a policy nothing has restricted yet.
const Unlimited = time.Duration(math.MaxInt64)

// Policy is how long, and for whom, an answer may be cached. The zero
// value is "not cacheable".
type Policy struct {
	MaxAge time.Duration
	Scope  Scope
}

// Cacheable reports whether an answer under p may be stored.
func (p Policy) Cacheable() bool { return p.MaxAge > 0 && p.MaxAge != Unlimited }

// Restrict returns the policy allowing what both p and o allow: the
// shorter maxAge, and PRIVATE if either is.
func (p Policy) Restrict(o Policy) Policy {
	return Policy{MaxAge: min(p.MaxAge, o.MaxAge), Scope: max(p.Scope, o.Scope)}
}

// Header is the Cache-Control value of an answer under p; a cached
// answer also carries its Age.
func (p Policy) Header() string {
	if !p.Cacheable() {
		return "no-store"
	}
	return "max-age=" + strconv.FormatInt(int64(p.MaxAge/time.Second), 10) + ", " + strings.ToLower(p.Scope.String())
}

// ParseCacheControl reads a subgraph's Cache-Control header. ok is false
// when there is no header, which restricts nothing. no-store and no-cache
// make the answer uncacheable; s-maxage wins over max-age, as for any
// shared cache.
func ParseCacheControl(header string) (p Policy, ok bool) {
	if strings.TrimSpace(header) == "" {
		return Policy{MaxAge: Unlimited}, false
	}
	p = Policy{MaxAge: Unlimited}
	sMaxAge := time.Duration(-1)
	for _, part := range strings.Split(header, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(part), "=")
		value = strings.Trim(strings.TrimSpace(value), `"`)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "no-store", "no-cache":
			return Policy{}, true
		case "private":
			p.Scope = Private
		case "max-age":
			p.MaxAge = min(p.MaxAge, seconds(value))
		case "s-maxage":
			sMaxAge = seconds(value)
		}
	}
	if sMaxAge >= 0 {
		p.MaxAge = sMaxAge
	}
	return p, true
}

// seconds reads a delta-seconds value; anything malformed is 0.
func seconds(v string) time.Duration {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	if n > int64(Unlimited/time.Second)-1 {
		return Unlimited - 1
	}
	return time.Duration(n) * time.Second
}

// hint is one @cacheControl hint; nil fields are unset.
type hint struct {
	maxAge  *time.Duration
	scope   *Scope
	inherit bool
}

// Hints are the cache hints of one supergraph: @cacheControl directives
// of its full schema (fields and types) with the configured ones on top.
// A Hints is read-only once built and safe for concurrent use.
type Hints struct {
	schema        *ast.Schema
	fields        map[string]hint // "Type.field"
	types         map[string]hint
	defaultMaxAge time.Duration
}

// NewHints reads the @cacheControl(maxAge, scope, inheritMaxAge)
// directives of schema (a supergraph's full schema, where composed custom
// directives are kept) and adds the configured hints, which win.
func NewHints(schema *ast.Schema, cfg ResponseConfig) *Hints {
	h := &Hints{schema: schema, fields: map[string]hint{}, types: map[string]hint{}, defaultMaxAge: cfg.DefaultMaxAge}
	for name, def := range schema.Types {
		if d := def.Directives.ForName("cacheControl"); d != nil {
			h.types[name] = directiveHint(d)
		}
		for _, f := range def.Fields {
			if d := f.Directives.ForName("cacheControl"); d != nil {
				h.fields[name+"."+f.Name] = directiveHint(d)
			}
		}
	}
	for name, c := range cfg.Hints {
		ch := hint{inherit: c.InheritMaxAge}
		if !c.InheritMaxAge {
			age := c.MaxAge
			ch.maxAge = &age
		}
		if c.Scope != "" {
			s, _ := parseScope(c.Scope)
			ch.scope = &s
		}
		if strings.Contains(name, ".") {
			h.fields[name] = ch
		} else {
			h.types[name] = ch
		}
	}
	return h
}

func directiveHint(d *ast.Directive) hint {
	var h hint
	if a := d.Arguments.ForName("maxAge"); a != nil && a.Value != nil {
		if n, err := strconv.ParseInt(a.Value.Raw, 10, 64); err == nil && n >= 0 {
			age := time.Duration(n) * time.Second
			h.maxAge = &age
		}
	}
	if a := d.Arguments.ForName("scope"); a != nil && a.Value != nil {
		if s, ok := parseScope(a.Value.Raw); ok {
			h.scope = &s
		}
	}
	if a := d.Arguments.ForName("inheritMaxAge"); a != nil && a.Value != nil && a.Value.Raw == "true" {
		h.inherit = true
	}
	return h
}

// Operation computes the policy of a validated operation of doc, the way
// Apollo Server does: every field's hint comes from its return type's
// hint overridden by its own; a root field, or a field returning a
// composite type, without a maxAge (and not inheriting it) gets the
// default maxAge; the overall maxAge is the least of all, and the scope is
// PRIVATE if any field's is. Every field the document may select counts,
// whatever @skip and @include say, so the policy is never looser than the
// answer's.
func (h *Hints) Operation(doc *ast.QueryDocument, op *ast.OperationDefinition) Policy {
	root := h.rootType(op.Operation)
	if root == "" {
		return Policy{}
	}
	w := walker{h: h, doc: doc, policy: Policy{MaxAge: Unlimited}}
	w.selection(root, op.SelectionSet, true, 0)
	if w.policy.MaxAge == Unlimited {
		// Only __typename or introspection: Apollo gives no policy.
		w.policy.MaxAge = 0
	}
	return w.policy
}

// Scope returns the scope of the fields selected by set on typeName (a
// subgraph fetch's selection, for example): PRIVATE if any field's hint,
// or the hint of the type it returns, says so.
func (h *Hints) Scope(typeName string, set ast.SelectionSet) Scope {
	w := walker{h: h, policy: Policy{MaxAge: Unlimited}}
	w.selection(typeName, set, false, 0)
	return w.policy.Scope
}

func (h *Hints) rootType(op ast.Operation) string {
	switch op {
	case ast.Query, "":
		if h.schema.Query != nil {
			return h.schema.Query.Name
		}
	case ast.Mutation:
		if h.schema.Mutation != nil {
			return h.schema.Mutation.Name
		}
	}
	return ""
}

type walker struct {
	h      *Hints
	doc    *ast.QueryDocument
	policy Policy
}

// maxDepth bounds the walk; the static limits keep real operations far
// below it.
const maxDepth = 256

func (w *walker) selection(parent string, set ast.SelectionSet, root bool, depth int) {
	if depth > maxDepth {
		w.policy.MaxAge = 0
		return
	}
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			w.field(parent, sel, root, depth)
		case *ast.InlineFragment:
			t := parent
			if sel.TypeCondition != "" {
				t = sel.TypeCondition
			}
			w.selection(t, sel.SelectionSet, root, depth+1)
		case *ast.FragmentSpread:
			var def *ast.FragmentDefinition
			if w.doc != nil {
				def = w.doc.Fragments.ForName(sel.Name)
			}
			if def != nil {
				w.selection(def.TypeCondition, def.SelectionSet, root, depth+1)
			}
		}
	}
}

func (w *walker) field(parent string, f *ast.Field, root bool, depth int) {
	if strings.HasPrefix(f.Name, "__") {
		return
	}
	pdef := w.h.schema.Types[parent]
	if pdef == nil {
		return
	}
	fdef := pdef.Fields.ForName(f.Name)
	if fdef == nil {
		return
	}
	target := w.h.schema.Types[fdef.Type.Name()]
	composite := target != nil && (target.Kind == ast.Object || target.Kind == ast.Interface || target.Kind == ast.Union)
	var eff hint
	inherit := false
	if composite {
		if th, ok := w.h.types[target.Name]; ok {
			eff = th
			inherit = th.inherit
		}
	}
	if fh, ok := w.h.fields[parent+"."+f.Name]; ok {
		if fh.inherit {
			eff.maxAge, inherit = nil, true
		} else if fh.maxAge != nil {
			eff.maxAge, inherit = fh.maxAge, false
		}
		if fh.scope != nil {
			eff.scope = fh.scope
		}
	}
	p := Policy{MaxAge: Unlimited}
	switch {
	case eff.maxAge != nil:
		p.MaxAge = *eff.maxAge
	case root || (composite && !inherit):
		p.MaxAge = w.h.defaultMaxAge
	}
	if eff.scope != nil {
		p.Scope = *eff.scope
	}
	w.policy = w.policy.Restrict(p)
	if len(f.SelectionSet) > 0 && target != nil {
		w.selection(target.Name, f.SelectionSet, false, depth+1)
	}
}
