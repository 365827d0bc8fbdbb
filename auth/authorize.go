package auth

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// UnauthorizedCode is the extensions.code of a field the caller may not
// see.
const UnauthorizedCode = "UNAUTHORIZED_FIELD_OR_TYPE"

// UnauthorizedMessage is the message of such an error.
const UnauthorizedMessage = "Unauthorized field or type"

// IntrospectionDeniedMessage is the message of the refusal of an
// operation that selects __schema without the introspection scope.
const IntrospectionDeniedMessage = "Introspection is not allowed for this caller: __schema needs a scope the request does not carry"

// Grants are the facts about a caller that authorization depends on,
// narrowed to what the schema asks about. Two callers with equal Grants
// get the same authorization outcome for every operation, so Key can
// take part in a plan cache key.
type Grants struct {
	Authenticated bool
	// Scopes holds the caller's scopes that the schema names.
	Scopes map[string]bool
	// Policies holds the policies the schema names that the caller is
	// granted.
	Policies map[string]bool
	// Introspection is true when the caller may introspect.
	Introspection bool
	// Key is a canonical form of the grants; "" when the authorizer has
	// nothing to check.
	Key string
}

// Authorizer applies a supergraph's authorization directives and the
// configured policies to operations.
type Authorizer struct {
	rules              *Rules
	policies           map[string]PolicyConfig
	introspectionScope string
	reject             bool
}

// NewAuthorizer reads the directives of sg.
func NewAuthorizer(sg *schema.Supergraph, cfg AuthorizationConfig) *Authorizer {
	return &Authorizer{rules: NewRules(sg), policies: cfg.Policies, introspectionScope: cfg.IntrospectionScope,
		reject: cfg.RejectUnauthorized}
}

// Active reports whether anything is checked: the schema has directives
// or introspection is restricted.
func (a *Authorizer) Active() bool {
	return a != nil && (!a.rules.Empty() || a.introspectionScope != "")
}

// Rules returns the schema's requirements.
func (a *Authorizer) Rules() *Rules { return a.rules }

// Grants computes what c is granted, as far as the schema asks.
func (a *Authorizer) Grants(c *Caller) Grants {
	if !a.Active() {
		return Grants{Introspection: true}
	}
	g := Grants{Scopes: map[string]bool{}, Policies: map[string]bool{}, Introspection: true}
	if c != nil && c.Authenticated {
		g.Authenticated = true
		for _, s := range a.rules.scopes {
			if c.HasScope(s) {
				g.Scopes[s] = true
			}
		}
		for _, p := range a.rules.policies {
			if pc, ok := a.policies[p]; ok && policyGranted(pc, c.Claims) {
				g.Policies[p] = true
			}
		}
	}
	if a.introspectionScope != "" {
		g.Introspection = c.HasScope(a.introspectionScope)
	}
	var key strings.Builder
	fmt.Fprintf(&key, "auth:%t:%t", g.Authenticated, g.Introspection)
	for _, s := range a.rules.scopes {
		if g.Scopes[s] {
			key.WriteString("|s:" + s)
		}
	}
	for _, p := range a.rules.policies {
		if g.Policies[p] {
			key.WriteString("|p:" + p)
		}
	}
	g.Key = key.String()
	return g
}

// policyGranted evaluates a policy rule on verified claims.
func policyGranted(p PolicyConfig, claims map[string]any) bool {
	v, ok := claimValue(claims, p.Claim)
	if !ok {
		return false
	}
	accept := func(s string) bool {
		if p.Equals != "" {
			return s == p.Equals
		}
		for _, o := range p.OneOf {
			if s == o {
				return true
			}
		}
		return false
	}
	switch t := v.(type) {
	case string:
		return accept(t)
	case []any:
		for _, e := range t {
			if s, isStr := e.(string); isStr && accept(s) {
				return true
			}
		}
	}
	return false
}

// Denial is one field the caller may not see.
type Denial struct {
	// Path is the field's response path in the operation: response keys,
	// with "@" for each list level above it.
	Path []any
	// Coordinate is the schema coordinate, Type.field.
	Coordinate string
}

// Result is the outcome of authorizing one operation.
type Result struct {
	// Plan is the operation to plan: the fields the caller may not see
	// are removed. It is the input operation when nothing was removed.
	Plan *planner.Operation
	// Denied lists the removed fields, one per path, in operation order.
	Denied []Denial
	// DeniedFields are the fields of the authorized operation that were
	// removed: the plan renders them as null with an error
	// (planner.Options.Denied). Nil when nothing was removed.
	DeniedFields map[*planner.Field]bool
}

// Rejection is the error answered, in reject mode, to an operation that
// selects fields the caller may not see; nil when nothing was denied or
// the mode is off.
//
// Whatever the mode, an operation that selects __schema without the
// introspection scope is refused: __schema is non-null, so its null would
// null the whole answer (every other root field with it) and leave the
// client guessing; a denied __type, which is nullable, answers null
// beside the rest.
func (a *Authorizer) Rejection(r *Result) *RejectionError {
	if a == nil || len(r.Denied) == 0 {
		return nil
	}
	if a.reject {
		return &RejectionError{Denied: r.Denied}
	}
	for _, d := range r.Denied {
		if len(d.Path) == 1 && strings.HasSuffix(d.Coordinate, ".__schema") {
			return &RejectionError{Denied: []Denial{d}, Introspection: true}
		}
	}
	return nil
}

// RejectionError answers a whole operation with 403 and one error per
// denied path.
type RejectionError struct {
	Denied []Denial
	// Introspection is set when the operation is refused for selecting
	// __schema without the introspection scope (Denied holds that
	// field): its message is IntrospectionDeniedMessage.
	Introspection bool
}

func (e *RejectionError) Error() string { return UnauthorizedMessage }

// ExtensionCode is the GraphQL error code.
func (e *RejectionError) ExtensionCode() string { return UnauthorizedCode }

// HTTPStatus is 403 Forbidden.
func (e *RejectionError) HTTPStatus() int { return http.StatusForbidden }

// Authorize returns the operation to plan without the fields of op that g
// may not see, and those fields. op is not changed: it stays the
// operation the response is rendered from. A selection left empty keeps
// __typename, so the subgraph query stays valid and the object still
// renders with its unauthorized fields null.
func (a *Authorizer) Authorize(op *planner.Operation, g Grants) *Result {
	res := &Result{Plan: op}
	if !a.Active() {
		return res
	}
	w := &authWalker{a: a, g: &g, seen: map[string]bool{}, fields: map[*planner.Field]bool{}}
	sel, changed := w.selection(op.Selection, nil)
	res.Denied = w.denied
	res.DeniedFields = w.fields
	if changed {
		c := *op
		c.Selection = sel
		res.Plan = &c
	}
	return res
}

type authWalker struct {
	a      *Authorizer
	g      *Grants
	denied []Denial
	seen   map[string]bool
	fields map[*planner.Field]bool
}

func (w *authWalker) deny(path []any, f *planner.Field) {
	w.fields[f] = true
	p := append(append([]any(nil), path...), f.ResponseKey)
	k := fmt.Sprint(p...)
	if w.seen[k] {
		return
	}
	w.seen[k] = true
	w.denied = append(w.denied, Denial{Path: p, Coordinate: f.ParentType + "." + f.Name})
}

// selection returns sel without the fields the caller may not see, and
// whether anything was removed.
func (w *authWalker) selection(sel *planner.SelectionSet, path []any) (*planner.SelectionSet, bool) {
	out := &planner.SelectionSet{Type: sel.Type, Abstract: sel.Abstract, ByType: make([]*planner.TypeFields, 0, len(sel.ByType))}
	changed := false
	for _, tf := range sel.ByType {
		// A type the caller may not see: none of its fields are, even
		// where it is reached through an interface or a union.
		typeDenied := !w.a.rules.types[tf.Type].satisfiedBy(w.g)
		fields := make([]*planner.Field, 0, len(tf.Fields))
		tchanged := false
		for _, f := range tf.Fields {
			if f.Name == "__typename" {
				fields = append(fields, f)
				continue
			}
			if typeDenied || !w.allowed(sel.Type, tf.Type, f) {
				w.deny(path, f)
				tchanged = true
				continue
			}
			if f.Selection != nil {
				sub := append(append([]any(nil), path...), f.ResponseKey)
				for t := f.Type; t != nil && t.Elem != nil; t = t.Elem {
					sub = append(sub, "@")
				}
				s, ch := w.selection(f.Selection, sub)
				if ch {
					fc := *f
					fc.Selection = s
					fields = append(fields, &fc)
					tchanged = true
					continue
				}
			}
			fields = append(fields, f)
		}
		if tchanged {
			changed = true
			if len(fields) == 0 {
				fields = append(fields, &planner.Field{ResponseKey: "__typename", Name: "__typename", ParentType: tf.Type,
					Type: ast.NonNullNamedType("String", nil)})
			}
			out.ByType = append(out.ByType, &planner.TypeFields{Type: tf.Type, Fields: fields})
			continue
		}
		out.ByType = append(out.ByType, tf)
	}
	return out, changed
}

// allowed checks a field selected on the concrete type concrete at a
// position of static type static: the field's own requirements, those of
// the interface field it was selected through, those of the type it
// returns (a field returning a protected type is protected), and those of
// what its @requires reads.
func (w *authWalker) allowed(static, concrete string, f *planner.Field) bool {
	if f.Name == "__schema" || f.Name == "__type" {
		return w.g.Introspection
	}
	r := w.a.rules
	if !r.fields[concrete+"."+f.Name].satisfiedBy(w.g) {
		return false
	}
	if static != concrete && !r.fields[static+"."+f.Name].satisfiedBy(w.g) {
		return false
	}
	if f.Type != nil && !r.types[f.Type.Name()].satisfiedBy(w.g) {
		return false
	}
	// A field computed from data the caller may not see is denied with
	// it: its @requires would fetch that data for the caller.
	for _, req := range r.requires[concrete+"."+f.Name] {
		if !req.satisfiedBy(w.g) {
			return false
		}
	}
	if static != concrete {
		for _, req := range r.requires[static+"."+f.Name] {
			if !req.satisfiedBy(w.g) {
				return false
			}
		}
	}
	return true
}

// DeniedCoordinates returns the sorted, distinct coordinates of r.Denied.
func (r *Result) DeniedCoordinates() []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range r.Denied {
		if !seen[d.Coordinate] {
			seen[d.Coordinate] = true
			out = append(out, d.Coordinate)
		}
	}
	sort.Strings(out)
	return out
}
