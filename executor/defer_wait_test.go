package executor_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2"

	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/planner"
)

// hangingTransport answers from canned, except a fetch whose body holds
// hang: it blocks until its context ends (a subgraph that never answers).
type hangingTransport struct {
	canned *cannedTransport
	hang   string
}

func (t *hangingTransport) Fetch(ctx context.Context, subgraph string, req *executor.Request) (*executor.Response, error) {
	if strings.Contains(string(req.Body), t.hang) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return t.canned.Fetch(ctx, subgraph, req)
}

// TestDeferLastPayloadEndsTheRun: once the last payload with entries went
// out (hasNext false), the parts left have nothing the client can get
// (here the primary nulled the object of one, yet its fetch has that
// object's representation to send): the run must end there, not wait for
// their fetches until the request deadline, holding the handler, its
// admission slots and the connection.
func TestDeferLastPayloadEndsTheRun(t *testing.T) {
	sg := demoGraph(t)
	query := `{ a: product(upc: "1") { upc price ... @defer(label: "a") { inStock } } b: product(upc: "2") { upc ... @defer(label: "b") { inStock } } }`
	doc, errs := gqlparser.LoadQuery(sg.API, query)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	op, err := planner.Normalize(sg.API, doc, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := planner.New(sg).Plan(op, planner.Options{})
	if err != nil || p.Defer == nil {
		t.Fatalf("plan: %v (defer split %v)", err, p != nil && p.Defer != nil)
	}
	tr := &hangingTransport{hang: `"s1"`, canned: &cannedTransport{answers: map[string][]string{
		// a's price is null: a non-null violation nulls a in the
		// initial payload, while the raw data still holds the object.
		"products":  {`{"data":{"a":{"__typename":"Product","upc":"1","sku":"s1","price":null},"b":{"__typename":"Product","upc":"2","sku":"s2"}}}`},
		"inventory": {`{"data":{"_entities":[{"inStock":true}]}}`},
	}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out []string
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		executor.ExecuteIncremental(ctx, p, executor.Input{}, tr, func(payload []byte) bool {
			out = append(out, string(payload))
			return true
		})
	}()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		cancel()
		<-ended
		t.Fatalf("the run went on after its last payload:\n%s", strings.Join(out, "\n"))
	}
	if len(out) != 2 || !strings.Contains(out[0], `"a":null`) || !strings.HasPrefix(out[1], `{"hasNext":false,"incremental":[{"data":{"inStock":true},"path":["b"]`) {
		t.Errorf("payloads\n%s", strings.Join(out, "\n"))
	}
}
