package subscriptions

import (
	"fmt"

	"github.com/fedgate/gateway/planner"
	"github.com/vektah/gqlparser/v2/ast"
)

// CodeSchemaChanged is the error code of a subscription ended by a
// supergraph reload that removed its root field or changed it
// incompatibly.
const CodeSchemaChanged = "SUBSCRIPTION_SCHEMA_CHANGED"

// Reload is told that the gateway now serves the API schema api (a hot
// reload). Running subscriptions keep the plan they started with, except
// those whose root field api no longer has, or has incompatibly (another
// return type, an argument they pass gone or of another type, a new
// required argument): they end with a CodeSchemaChanged error (WebSocket:
// an error message, the connection stays open; SSE: a next with errors,
// then complete; multipart: a part with errors, then the closing
// boundary). A subscribe prepared against the replaced schema and started
// after the reload is checked the same way (start).
func (e *Engine) Reload(api *ast.Schema) {
	if api == nil {
		return
	}
	e.mu.Lock()
	e.api = api
	var broken []*subscription
	var msgs [][]byte
	for _, g := range e.groups {
		if g.api == api {
			continue
		}
		if why := rootFieldBroken(g.plan, api); why != "" {
			errs := schemaChanged(why)
			for s := range g.members {
				broken = append(broken, s)
				msgs = append(msgs, errs)
			}
		} else {
			// Compatible: later reloads are checked against this one.
			g.api = api
		}
	}
	e.mu.Unlock()
	for i, s := range broken {
		s.finish(msgs[i], "schema changed")
	}
}

func schemaChanged(why string) []byte {
	return errorList(CodeSchemaChanged, "the supergraph was reloaded: "+why, nil)
}

// rootFieldBroken says why the root field of sp cannot be served by the
// API schema api, or returns "" when it can.
func rootFieldBroken(sp *planner.SubscriptionPlan, api *ast.Schema) string {
	op := sp.Plan.Operation
	fields := op.Selection.FieldsFor(op.RootType)
	if len(fields) != 1 {
		return ""
	}
	f := fields[0]
	if api.Subscription == nil {
		return fmt.Sprintf("it has no subscription root type, so no field '%s'", f.Name)
	}
	def := api.Subscription.Fields.ForName(f.Name)
	if def == nil {
		return fmt.Sprintf("the subscription field '%s' is gone", f.Name)
	}
	if f.Type != nil && def.Type.String() != f.Type.String() {
		return fmt.Sprintf("the subscription field '%s' now returns %s, not %s", f.Name, def.Type, f.Type)
	}
	for _, a := range f.Arguments {
		ad := def.Arguments.ForName(a.Name)
		if ad == nil {
			return fmt.Sprintf("the subscription field '%s' has no argument '%s' any more", f.Name, a.Name)
		}
		if a.Value != nil && a.Value.ExpectedType != nil && ad.Type.String() != a.Value.ExpectedType.String() {
			return fmt.Sprintf("the argument '%s' of subscription field '%s' is now %s, not %s", a.Name, f.Name, ad.Type, a.Value.ExpectedType)
		}
	}
	for _, ad := range def.Arguments {
		if ad.Type.NonNull && ad.DefaultValue == nil && f.Arguments.ForName(ad.Name) == nil {
			return fmt.Sprintf("the subscription field '%s' now requires the argument '%s'", f.Name, ad.Name)
		}
	}
	return ""
}
