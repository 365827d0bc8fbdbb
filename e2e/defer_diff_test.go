package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	gateway "github.com/fedgate/gateway"
	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/internal/opgen"
	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// addDefers wraps runs of selections in `... @defer(label:)` fragments
// at random places of every selection set of doc (operations and
// fragments), and returns how many it added.
func addDefers(doc *ast.QueryDocument, r *rand.Rand) int {
	n := 0
	var walk func(ast.SelectionSet) ast.SelectionSet
	walk = func(set ast.SelectionSet) ast.SelectionSet {
		for _, s := range set {
			switch s := s.(type) {
			case *ast.Field:
				s.SelectionSet = walk(s.SelectionSet)
			case *ast.InlineFragment:
				s.SelectionSet = walk(s.SelectionSet)
			}
		}
		if len(set) == 0 || r.IntN(3) != 0 {
			return set
		}
		i := r.IntN(len(set))
		j := i + 1 + r.IntN(len(set)-i)
		label := "d" + strconv.Itoa(n)
		n++
		frag := &ast.InlineFragment{SelectionSet: append(ast.SelectionSet(nil), set[i:j]...),
			Directives: ast.DirectiveList{{Name: "defer", Arguments: ast.ArgumentList{{Name: "label",
				Value: &ast.Value{Kind: ast.StringValue, Raw: label}}}}}}
		out := append(append(append(ast.SelectionSet(nil), set[:i]...), frag), set[j:]...)
		return out
	}
	for _, op := range doc.Operations {
		op.SelectionSet = walk(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		f.SelectionSet = walk(f.SelectionSet)
	}
	return n
}

func postOp(t *testing.T, g *gatewaytest.Gateway, op opgen.Operation, accept string) *gatewaytest.Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": op.Query, "operationName": op.OperationName, "variables": op.Variables})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	resp, err := g.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestDeferDifferential: for generated operations (internal/opgen) with
// @defer added at random places, the payloads of the multipart answer,
// merged as a client merges them, equal the answer without @defer
// splitting (the same document with a JSON Accept), whenever that answer
// has no error.
func TestDeferDifferential(t *testing.T) {
	sg, err := schema.Load(gateway.DemoSupergraph)
	if err != nil {
		t.Fatal(err)
	}
	gen := opgen.New(sg.API, opgen.HintsFrom(sg), opgen.Options{MaxOperations: 1})
	g := gatewaytest.Start(t)
	const ops = 150
	split, compared := 0, 0
	for seed := uint64(1); seed <= ops; seed++ {
		op, err := gen.Generate(seed)
		if err != nil {
			t.Fatal(err)
		}
		doc, errs := gqlparser.LoadQuery(sg.API, op.Query)
		if len(errs) > 0 {
			t.Fatalf("seed %d: generated document does not validate: %v", seed, errs)
		}
		if addDefers(doc, rand.New(rand.NewPCG(seed, 7))) == 0 {
			continue
		}
		op.Query = opgen.Print(doc)
		if _, errs := gqlparser.LoadQuery(sg.API, op.Query); len(errs) > 0 {
			continue // a wrapped selection conflicts in a way the validator refuses
		}
		whole := postOp(t, g, op, "application/json")
		var w map[string]any
		if err := json.Unmarshal(whole.Body, &w); err != nil {
			t.Fatalf("seed %d: %v: %s", seed, err, clip(whole.Body))
		}
		if _, ok := w["errors"]; ok {
			continue
		}
		resp := postOp(t, g, op, deferAccept)
		var merged any
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/") {
			split++
			var errs []any
			merged, errs = mergeParts(t, parts(t, resp))
			if len(errs) > 0 {
				t.Fatalf("seed %d: errors in the payloads, none unsplit: %v\n%s", seed, errs, op.Query)
			}
		} else if err := json.Unmarshal(resp.Body, &w); err == nil {
			merged = w["data"]
		}
		compared++
		var unsplit map[string]any
		_ = json.Unmarshal(whole.Body, &unsplit)
		if !reflect.DeepEqual(merged, unsplit["data"]) {
			a, _ := json.Marshal(merged)
			b, _ := json.Marshal(unsplit["data"])
			t.Fatalf("seed %d: merged payloads differ from the unsplit answer\n%s\nmerged %s\nwhole  %s", seed, op.Query, a, b)
		}
	}
	t.Logf("%d operations compared, %d of them answered in several parts", compared, split)
	if split < ops/4 {
		t.Fatalf("only %d of %d operations were split: the test checks too little", split, ops)
	}
}
