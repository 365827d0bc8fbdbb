package planner_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
)

// The corpus of testdata/compose (composed into testdata/supergraphs by
// scripts/compose/compose-dir.mjs) is checked by TestPlanGolden through
// testdata/plans/<case>_<n>.graphql. The goldens do not show everything a
// plan holds: the __typename an @interfaceObject representation carries,
// the response key a required field is read from (an alias when the
// required field's arguments clash with another selection), nor plans with
// progressive @override labels in force. These tests check those.

// corpusPlan plans query against testdata/supergraphs/<supergraph>.graphql.
func corpusPlan(t *testing.T, supergraph, query string, opts planner.Options) *planner.Plan {
	t.Helper()
	sdl, err := os.ReadFile(filepath.Join(repoRoot, "testdata", "supergraphs", supergraph+".graphql"))
	if err != nil {
		t.Fatal(err)
	}
	sg, err := schema.Load(string(sdl))
	if err != nil {
		t.Fatal(err)
	}
	p, err := planOn(t, sg, query, opts)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return p
}

// corpusFetches lists the plan's fetches in plan order.
func corpusFetches(n planner.Node) []*planner.Fetch {
	var out []*planner.Fetch
	planner.EachFetch(n, func(f *planner.Fetch) { out = append(out, f) })
	return out
}

// representations describes the Requires of every fetch to subgraph as
// "Type as RepType: name<-key name.sub<-key ...", one line per type.
func representations(p *planner.Plan, subgraph string) string {
	var lines []string
	var fields func(prefix string, fs []*planner.RequiredField, out *[]string)
	fields = func(prefix string, fs []*planner.RequiredField, out *[]string) {
		for _, f := range fs {
			*out = append(*out, prefix+f.Name+"<-"+f.Key)
			fields(prefix+f.Name+".", f.Fields, out)
		}
	}
	for _, f := range corpusFetches(p.Root) {
		if f.Subgraph != subgraph {
			continue
		}
		for _, r := range f.Requires {
			var fs []string
			fields("", r.Fields, &fs)
			lines = append(lines, r.TypeName+" as "+r.RepresentationType+": "+strings.Join(fs, " "))
		}
	}
	return strings.Join(lines, "\n")
}

func TestCorpusInterfaceObjectRepresentations(t *testing.T) {
	cases := []struct {
		name, query, subgraph, want string
	}{
		{
			// library (media) returns Books and Movies; ratings only
			// knows Media: the representations must say "Media".
			"abstract source", `{ library { title stars } }`, "ratings",
			"Book as Media: id<-id\nMovie as Media: id<-id",
		},
		{
			// loanedBooks (loans) returns the concrete Book.
			"concrete source", `{ loanedBooks { onLoan title stars } }`, "ratings",
			"Book as Media: id<-id",
		},
		{
			// ... while media knows Book and gets it as Book.
			"concrete source, concrete target", `{ loanedBooks { onLoan title stars } }`, "media",
			"Book as Book: id<-id",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := corpusPlan(t, "iface_object", c.query, planner.Options{})
			if got := representations(p, c.subgraph); got != c.want {
				t.Errorf("representations for %s:\n%s\nwant:\n%s\nplan:\n%s", c.subgraph, got, c.want, p)
			}
		})
	}
}

func TestCorpusRequiresArgumentKeys(t *testing.T) {
	cases := []struct {
		name, query, want string
	}{
		{
			// The client's price (USD, the default) holds "price" in the
			// catalog fetch: the EUR price of the representation is read
			// from the alias.
			"client field takes the name", `{ products { price shippingCostEUR } }`,
			"Product as Product: id<-id price<-_fed_k0_price weight<-weight",
		},
		{
			// Two requirements on price and weight with different
			// arguments: two fetches, each reading its own values.
			"two requirements", `{ products { shippingCostEUR shippingCostUSD } }`,
			"Product as Product: id<-id price<-price weight<-weight\n" +
				"Product as Product: id<-id price<-_fed_k0_price weight<-_fed_k1_weight",
		},
		{
			// The client's aliased price(currency: "EUR") is the required
			// field itself.
			"client alias", `{ products { eur: price(currency: "EUR") shippingCostEUR } }`,
			"Product as Product: id<-id price<-price weight<-weight",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := corpusPlan(t, "requires_args", c.query, planner.Options{})
			if got := representations(p, "shipping"); got != c.want {
				t.Errorf("representations:\n%s\nwant:\n%s\nplan:\n%s", got, c.want, p)
			}
			// Each key the representations read must be a response key
			// the catalog fetch selects.
			var catalog string
			for _, f := range corpusFetches(p.Root) {
				if f.Subgraph == "catalog" {
					catalog = f.Operation
				}
			}
			for _, line := range strings.Split(c.want, "\n") {
				for _, part := range strings.Fields(strings.SplitN(line, ": ", 2)[1]) {
					key := strings.SplitN(part, "<-", 2)[1]
					if key != "id" && !strings.Contains(catalog, key) {
						t.Errorf("the catalog fetch does not select %q: %s", key, catalog)
					}
				}
			}
		})
	}
}

func TestCorpusProgressiveOverrideLabel(t *testing.T) {
	on := planner.Options{Labels: map[string]bool{"percent(50)": true}}
	cases := []struct {
		name, query string
		opts        planner.Options
		want        string
	}{
		{
			// Label off: legacy keeps balance.
			"off", `{ account(id: "1") { email balance } }`, planner.Options{},
			`QueryPlan {
  Fetch(service: "legacy") {
    query{account(id:"1"){email balance}}
  },
}
`,
		},
		{
			// Label on: billing resolves balance, legacy no longer does.
			"on", `{ account(id: "1") { email balance } }`, on,
			`QueryPlan {
  Sequence {
    Fetch(service: "legacy") {
      query{account(id:"1"){email __typename id}}
    },
    Flatten(path: "account") {
      Fetch(service: "billing") {
        {
          ... on Account {
            __typename
            id
          }
        } =>
        query($representations:[_Any!]!){_entities(representations:$representations){...on Account{balance}}}
      },
    },
  },
}
`,
		},
		{
			// Label on: balance and invoices share the billing fetch.
			"on, with invoices", `{ accounts { balance invoices { amount } } }`, on,
			`QueryPlan {
  Sequence {
    Fetch(service: "legacy") {
      query{accounts{__typename id}}
    },
    Flatten(path: "accounts.@") {
      Fetch(service: "billing") {
        {
          ... on Account {
            __typename
            id
          }
        } =>
        query($representations:[_Any!]!){_entities(representations:$representations){...on Account{balance invoices{amount}}}}
      },
    },
  },
}
`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := corpusPlan(t, "override", c.query, c.opts)
			if got := p.String(); got != c.want {
				t.Errorf("plan:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}
}

// TestInterfaceObjectRequires: a field an @interfaceObject subgraph adds
// with @requires gets the required field in the representation of the
// one entity fetch that asks for it, planned into the fetch that has the
// concrete objects; no fetch keyed by an interface object's answer (whose
// __typename names the interface).
func TestInterfaceObjectRequires(t *testing.T) {
	p := composedPlan(t, "interface_object_requires", `{ accounts { __typename handle } }`)
	if got, want := representations(p, "b"), "Bot as Account: id<-id name<-name\nPerson as Account: id<-id name<-name"; got != want {
		t.Errorf("representations for b:\n%s\nwant:\n%s\nplan:\n%s", got, want, p)
	}
	if p.Fetches != 2 {
		t.Errorf("%d fetches, want 2:\n%s", p.Fetches, p)
	}
}

// TestInterfaceObjectSameKeyOtherFields: under an @interfaceObject, one
// response key naming different fields on different implementations
// (name on Bot, name: handle on Person) is not one interface field: the
// concrete types are fetched and each gets its own field.
func TestInterfaceObjectSameKeyOtherFields(t *testing.T) {
	p := composedPlan(t, "interface_object_requires", `{ featured { ... on Bot { name } ... on Person { name: handle } } }`)
	var ops []string
	for _, f := range corpusFetches(p.Root) {
		ops = append(ops, f.Subgraph+": "+f.Operation)
	}
	all := strings.Join(ops, "\n")
	if !strings.Contains(all, "name:handle") || !strings.Contains(all, "...on Bot{name}") {
		t.Errorf("plan does not fetch Bot.name and Person.handle apart:\n%s", p)
	}
	if got, want := representations(p, "b"), "Person as Account: id<-id name<-_fed_k0_name"; !strings.Contains(got, want) {
		t.Errorf("representations for b:\n%s\nwant a line %q\nplan:\n%s", got, want, p)
	}
}
