package executor

import (
	"context"

	"github.com/fedgate/gateway/internal/jsonvalue"
	"github.com/fedgate/gateway/planner"
)

// ExecuteEvent completes one subscription event and appends the JSON
// response to buf. payload is the event as the subgraph streamed it (a
// GraphQL response object: data and errors) for the subscription's
// primary fetch to subgraph; its data becomes the root result, then rest
// (the plan below the primary fetch, nil when there is none) runs on it
// like any query plan, and the response is rendered from plan.Shape:
// client field order, aliases, authorization denials and null
// propagation.
func ExecuteEvent(ctx context.Context, plan *planner.Plan, rest planner.Node, subgraph string, payload []byte, in Input, transport Transport, buf []byte) []byte {
	e := &execution{ctx: ctx, transport: transport, header: in.Header, headerFor: in.HeaderFor, stats: in.Stats != nil,
		keys: plan.Keys}
	defer e.release()
	e.redact = in.RedactErrors
	e.invalidAsErrors = in.InvalidValuesAsErrors
	if len(in.Variables) > 0 {
		if v, err := e.parse(in.Variables); err == nil {
			e.vars = v
		}
	}
	v, err := e.parse(payload)
	if err != nil || v.Type() != jsonvalue.TypeObject {
		e.addError(&Error{Message: "invalid JSON event from subgraph '" + subgraph + "'",
			Extensions: map[string]any{"code": "SUBREQUEST_MALFORMED_RESPONSE", "serviceName": subgraph}})
	} else {
		if data := v.Get("data"); data.Type() == jsonvalue.TypeObject {
			if sp, err := planner.SplitSubscription(plan); err == nil {
				applyRewrites(data, sp.Primary.OutputRewrites)
			}
			e.data = data
			e.pos.reset()
		}
		for _, ev := range v.Get("errors").Array() {
			e.errors = append(e.errors, e.subgraphError(ev, subgraph, func(p []*jsonvalue.Value) []any { return jsonPath(nil, p) }))
		}
	}
	if e.data != nil && rest != nil {
		e.run(rest)
	}
	var nerrs int
	buf, nerrs = e.render(buf, plan.Shape, in.Introspect)
	if in.Stats != nil {
		in.Stats.SubgraphBytes = e.bytes.Load()
		in.Stats.Errors = nerrs
		in.Stats.InvalidValues = e.invalidValues
	}
	return buf
}
