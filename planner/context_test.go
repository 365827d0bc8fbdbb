package planner_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/fedgate/gateway/planner"
)

// contextInputs describes the contextual inputs of the plan's fetches,
// one line per input: "path: $variable Type of Entity <- Ancestor.field<-key ..."
// ("at Entity" when the entity the fetch is for may hold the context).
func contextInputs(p *planner.Plan) []string {
	var out []string
	var walk func(n planner.Node, path string)
	walk = func(n planner.Node, path string) {
		switch n := n.(type) {
		case *planner.Sequence:
			for _, c := range n.Nodes {
				walk(c, path)
			}
		case *planner.Parallel:
			for _, c := range n.Nodes {
				walk(c, path)
			}
		case *planner.Flatten:
			walk(n.Node, strings.Join(n.Path, "."))
		case *planner.Fetch:
			for _, in := range n.Contexts {
				line := path + ": $" + in.Variable + " " + in.Type + " of " + in.TypeName + " <-"
				if in.Self {
					line = path + ": $" + in.Variable + " " + in.Type + " at " + in.TypeName + " <-"
				}
				for _, s := range in.Sources {
					for _, f := range s.Fields {
						line += " " + s.TypeName + "." + f.Name + "<-" + f.Key
					}
				}
				out = append(out, line)
			}
		}
	}
	walk(p.Root, "")
	return out
}

// TestPlanContexts checks where the planner reads contextual arguments:
// the nearest ancestor that sets the context, under the planner's own
// data key when the client aliases another field with the context field's
// name, with a variable no client variable can take the place of.
func TestPlanContexts(t *testing.T) {
	cases := []struct {
		name, supergraph, query string
		want                    []string
		// in and notIn are texts the subgraph operations must hold or not.
		in, notIn []string
		usages    []string
	}{
		{name: "one context type", supergraph: "context_basic",
			query: `{ users { posts { title } } }`,
			want:  []string{"users.@: $contextualArgument_2_0 String at User <- User.locale<-locale"},
			in:    []string{"title(locale:$contextualArgument_2_0)", "$contextualArgument_2_0:String"}},
		{name: "the client aliases another field as the context field", supergraph: "context_basic",
			query: `{ users { locale: name posts { title } } }`,
			want:  []string{"users.@: $contextualArgument_2_0 String at User <- User.locale<-_fed_k0_locale"}},
		{name: "a client variable of the contextual variable's name", supergraph: "context_basic",
			query:  `query Named($contextualArgument_2_0: Boolean) { users { posts { title(upper: $contextualArgument_2_0) } } }`,
			want:   []string{"users.@: $_fed_contextualArgument_2_0 String at User <- User.locale<-locale"},
			in:     []string{"title(upper:$contextualArgument_2_0,locale:$_fed_contextualArgument_2_0)", "$contextualArgument_2_0:Boolean"},
			usages: []string{"contextualArgument_2_0"}},
		{name: "the field twice with other arguments", supergraph: "context_basic",
			query: `{ users { posts { a: title(upper: true) b: title(upper: false) } } }`,
			want:  []string{"users.@: $contextualArgument_2_0 String at User <- User.locale<-locale"},
			in:    []string{"title(upper:true,locale:$contextualArgument_2_0)", "title(upper:false,locale:$contextualArgument_2_0)"}},
		{name: "the nearest of two context types", supergraph: "context_multi",
			query: `{ shops { books { label } featured { books { label } } } }`,
			want: []string{
				"shops.@.books.@: $contextualArgument_2_0 String of Book <- Shop.currency<-currency",
				"shops.@.featured.books.@: $contextualArgument_2_0 String of Book <- Library.lang<-lang",
			}},
		{name: "below an abstract position: a fetch per parent type at one path", supergraph: "context_multi",
			query: `{ owners { books { label } } }`,
			want: []string{
				"owners.@.books.@: $contextualArgument_2_0 String of Book <- Library.lang<-lang",
				"owners.@.books.@: $contextualArgument_2_0 String of Book <- Shop.currency<-currency",
			}},
		{name: "no contextual field, no context read", supergraph: "context_multi",
			query: `{ shops { books { title } } }`,
			notIn: []string{"contextualArgument", "currency"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := corpusPlan(t, c.supergraph, c.query, planner.Options{})
			if got := contextInputs(p); !slices.Equal(got, c.want) {
				t.Errorf("context inputs\n got %q\nwant %q\n%s", got, c.want, p)
			}
			var ops string
			var usages []string
			for _, f := range corpusFetches(p.Root) {
				ops += f.Operation + "\n"
				usages = append(usages, f.VariableUsages...)
				if len(f.Contexts) > 0 {
					// The template's pieces, put together for one set of
					// values, are the operation.
					tm := f.ContextTemplate
					op := tm.Head + "($representations:[_Any!]!"
					for _, in := range f.Contexts {
						op += ",$" + in.Variable + ":" + in.Type
					}
					op += tm.Vars + "){_entities(representations:$representations){"
					for i, part := range tm.Parts {
						op += part
						if i < len(tm.Uses) {
							op += "$" + f.Contexts[tm.Uses[i]].Variable
						}
					}
					if op += "}}"; op != f.Operation {
						t.Errorf("template\n%s\nis not the operation\n%s", op, f.Operation)
					}
				}
			}
			for _, s := range c.in {
				if !strings.Contains(ops, s) {
					t.Errorf("no %q in the operations:\n%s", s, ops)
				}
			}
			for _, s := range c.notIn {
				if strings.Contains(ops, s) {
					t.Errorf("%q in the operations:\n%s", s, ops)
				}
			}
			if !slices.Equal(usages, c.usages) {
				t.Errorf("variable usages %q, want %q (contextual variables are the gateway's)", usages, c.usages)
			}
			if b, err := json.Marshal(p); err != nil || (len(c.want) > 0) != strings.Contains(string(b), `"contextRewrites"`) {
				t.Errorf("JSON form (%v): %s", err, b)
			}
		})
	}
}
