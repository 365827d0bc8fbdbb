package planner

import (
	"encoding/json"
	"fmt"
	"strings"
)

// SubscriptionPlan is the plan of a subscription operation, in the shape
// of Apollo Router's Subscription node: Primary is the fetch streamed
// from the subgraph that owns the root field, Rest the plan run on each
// event with the event's data as the root result (nil when the primary
// fetch answers the whole selection).
type SubscriptionPlan struct {
	Plan    *Plan
	Primary *Fetch
	Rest    Node
}

// SplitSubscription splits the plan of a subscription operation into its
// primary fetch and the rest. A subscription has one root field (the
// validator enforces it), so its plan is a root fetch, or a Sequence
// that starts with one.
func SplitSubscription(p *Plan) (*SubscriptionPlan, error) {
	switch root := p.Root.(type) {
	case *Fetch:
		return &SubscriptionPlan{Plan: p, Primary: root}, nil
	case *Sequence:
		if len(root.Nodes) > 0 {
			if f, ok := root.Nodes[0].(*Fetch); ok {
				sp := &SubscriptionPlan{Plan: p, Primary: f}
				switch len(root.Nodes) {
				case 1:
				case 2:
					sp.Rest = root.Nodes[1]
				default:
					sp.Rest = &Sequence{Nodes: root.Nodes[1:]}
				}
				return sp, nil
			}
		}
	case nil:
		return nil, &Error{Message: "a subscription must select a field of a subgraph"}
	}
	return nil, &Error{Message: fmt.Sprintf("subscription plan does not start with one root fetch (%T)", p.Root)}
}

// MarshalJSON writes {"kind":"QueryPlan","node":{"kind":"Subscription",
// "primary":...,"rest":...}}.
func (s *SubscriptionPlan) MarshalJSON() ([]byte, error) {
	type sub struct {
		Kind    string `json:"kind"`
		Primary *Fetch `json:"primary"`
		Rest    Node   `json:"rest,omitempty"`
	}
	return json.Marshal(struct {
		Kind string `json:"kind"`
		Node sub    `json:"node"`
	}{"QueryPlan", sub{"Subscription", s.Primary, s.Rest}})
}

// String prints the plan in Apollo's text form.
func (s *SubscriptionPlan) String() string {
	var b strings.Builder
	b.WriteString("QueryPlan {\n  Subscription {\n    Primary: {\n")
	writeNode(&b, s.Primary, 3)
	b.WriteString("    },\n")
	if s.Rest != nil {
		b.WriteString("    Rest: {\n")
		writeNode(&b, s.Rest, 3)
		b.WriteString("    },\n")
	}
	b.WriteString("  },\n}\n")
	return b.String()
}
