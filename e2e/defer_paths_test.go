package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/subgraphs/demo"
)

// step is one subgraph request of a deferred part, held or signalled.
type step struct {
	// subgraph serves the request whose body contains match.
	subgraph, match string
	// after names the step whose answer this request waits for ("" for
	// none; "client" for the client's second payload); with arrival, the
	// step's request arriving is enough.
	after   string
	arrival bool
}

// orderedSubgraphs serves the demo subgraphs, holding the requests of
// steps until the step they follow is answered (each step has a channel
// closed once it is, and one closed when its request arrives, under the
// name "arrived:"+step). Requests of no step pass through.
type orderedSubgraphs struct {
	// failing names the subgraph whose entity fetches fail.
	failing string
	steps   map[string]step
	done    map[string]chan struct{}
	once    map[string]*sync.Once
}

func newOrdered(steps map[string]step) *orderedSubgraphs {
	o := &orderedSubgraphs{steps: steps, done: map[string]chan struct{}{"client": make(chan struct{})}, once: map[string]*sync.Once{"client": {}}}
	for name := range steps {
		for _, n := range []string{name, "arrived:" + name} {
			o.done[n] = make(chan struct{})
			o.once[n] = &sync.Once{}
		}
	}
	return o
}

// mark closes the channel of step name (once).
func (o *orderedSubgraphs) mark(name string) { o.once[name].Do(func() { close(o.done[name]) }) }

// release closes every channel: a failed test does not leave requests held.
func (o *orderedSubgraphs) release() {
	for name := range o.done {
		o.mark(name)
	}
}

// options replaces the demo subgraphs the steps name.
func (o *orderedSubgraphs) options() []gatewaytest.Option {
	var opts []gatewaytest.Option
	seen := map[string]bool{}
	for _, s := range o.steps {
		if seen[s.subgraph] {
			continue
		}
		seen[s.subgraph] = true
		sub := s.subgraph
		h := demo.Handlers()[sub]
		opts = append(opts, gatewaytest.WithHandler(sub, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			for name, s := range o.steps {
				if s.subgraph != sub || !bytes.Contains(body, []byte(s.match)) {
					continue
				}
				o.mark("arrived:" + name)
				if s.after != "" {
					wait := o.done[s.after]
					if s.arrival {
						wait = o.done["arrived:"+s.after]
					}
					select {
					case <-wait:
					case <-r.Context().Done():
						return
					case <-time.After(10 * time.Second):
					}
				}
				if sub == o.failing {
					w.Header().Set("Content-Type", "application/json")
					n := bytes.Count(body, []byte(`"__typename"`))
					_, _ = w.Write([]byte(`{"data":{"_entities":[` + strings.TrimSuffix(strings.Repeat("null,", n), ",") + `]},"errors":[{"message":"down"}]}`))
				} else {
					h.ServeHTTP(w, r)
				}
				o.mark(name)
				return
			}
			h.ServeHTTP(w, r)
		})))
	}
	return opts
}

// TestDeferPathsPointIntoSentData: every incremental entry's path names an
// object of the data sent before it, also when subgraph answers come in
// the order that used to break it, and the merged payloads equal the
// answer without incremental delivery. The order is forced with held
// subgraph requests, not timed.
func TestDeferPathsPointIntoSentData(t *testing.T) {
	for _, c := range []struct {
		name, query string
		steps       map[string]step
		// order is the labels in the order their entries first come.
		order string
		// failing names a subgraph that answers every entity fetch with
		// nulls and an error: the payloads must carry errors, and are
		// not compared with the unsplit answer.
		failing string
	}{{
		// a1 is products on a Bundle (primary) and reviews on a Product
		// (only in "outer"): "inner" has entries under the Bundles' a1
		// only. The Products' reviews are in the gateway before "inner"
		// is fetched (the authors' fetch, which follows them, has
		// arrived) and "outer" is held on that fetch until the client
		// has the next payload, so an "inner" entry under a Product's a1
		// would name data never sent.
		name: "alias_on_two_types",
		query: `{ items { ... on Bundle { a1: products { upc ... @defer(label: "inner") { name } } }
		  ... @defer(label: "outer") { ... on Product { a1: reviews { body author { name } } } } } }`,
		steps: map[string]step{
			"authors": {subgraph: "accounts", match: "_entities", after: "client"},
			"inner":   {subgraph: "products", match: "_entities", after: "authors", arrival: true},
		},
		order: "inner,outer",
	}, {
		// A nested @defer whose fetch is done first waits for its
		// parent's payload (its parent's fetch is held until then).
		name:  "nested_child_first",
		query: `{ me { id ... @defer(label: "outer") { reviews { body } ... @defer(label: "inner") { name } } } }`,
		steps: map[string]step{
			"inner": {subgraph: "accounts", match: "_entities"},
			"outer": {subgraph: "reviews", match: "_entities", after: "inner"},
		},
		order: "outer,inner",
	}, {
		// The same under a list, with a deeper @defer under a list of
		// the inner part.
		name: "nested_under_lists",
		query: `{ topProducts(first: 3) { upc ... @defer(label: "outer") { inStock
		  ... @defer(label: "inner") { reviews { body ... @defer(label: "deep") { author { name } } } } } } }`,
		steps: map[string]step{
			"inner": {subgraph: "reviews", match: "_entities"},
			"outer": {subgraph: "inventory", match: "_entities", after: "inner"},
		},
		order: "outer,inner,deep",
	}, {
		// The parent's fetch fails and its non-null inStock nulls its
		// entries: the nested fragment's entries, under the parent's
		// reviews the client never got, are not delivered (as
		// graphql-js drops the fragments nested in a failed one).
		name: "parent_fails",
		query: `{ topProducts(first: 2) { upc ... @defer(label: "outer") { inStock
		  reviews { body ... @defer(label: "inner") { author { name } } } } } }`,
		steps: map[string]step{
			"outer": {subgraph: "inventory", match: "_entities"},
		},
		failing: "inventory",
		order:   "outer",
	}} {
		t.Run(c.name, func(t *testing.T) {
			o := newOrdered(c.steps)
			o.failing = c.failing
			defer o.release()
			g := gatewaytest.Start(t, o.options()...)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			s := openParts(t, ctx, g.URL, c.query, "")
			ps := []map[string]any{s.next()}
			for ps[len(ps)-1]["hasNext"] == true {
				p := s.next()
				if len(ps) == 1 {
					o.mark("client")
				}
				ps = append(ps, p)
			}
			for name := range c.steps {
				// The handler marks its step just after answering.
				select {
				case <-o.done[name]:
				case <-ctx.Done():
					t.Fatalf("no request of step %q reached its subgraph: the test forces no order", name)
				}
			}
			var order []string
			seen := map[string]bool{}
			for _, p := range ps {
				for _, l := range labels(p) {
					if !seen[l] {
						seen[l] = true
						order = append(order, l)
					}
				}
			}
			if got := strings.Join(order, ","); got != c.order {
				t.Fatalf("entries came as %s, want %s", got, c.order)
			}
			merged, errs := mergeParts(t, ps)
			if c.failing != "" {
				if len(errs) == 0 {
					t.Fatalf("no error in the payloads with %s failing", c.failing)
				}
				return
			}
			if len(errs) > 0 {
				t.Fatalf("errors in the payloads: %v", errs)
			}
			o.release()
			whole := askJSON(t, g, c.query)
			if !reflect.DeepEqual(merged, whole) {
				a, _ := json.Marshal(merged)
				b, _ := json.Marshal(whole)
				t.Fatalf("merged payloads differ from the unsplit answer\nmerged %s\nwhole  %s", a, b)
			}
		})
	}
}

// askJSON returns the data of query answered as one JSON body.
func askJSON(t *testing.T, g *gatewaytest.Gateway, query string) any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, err := http.NewRequest(http.MethodPost, g.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := g.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(resp.Body, &m); err != nil || m["errors"] != nil {
		t.Fatalf("unsplit answer: %v %s", err, clip(resp.Body))
	}
	return m["data"]
}
