package difftest

import (
	"strings"
	"testing"

	"github.com/fedgate/gateway/internal/opgen"
)

func TestParseKeepsOrderAndNormalizesNumbers(t *testing.T) {
	a := Parse(200, []byte(`{"data":{"b":1.0,"a":[1,2e0]},"errors":[{"message":"x","path":["b"],"extensions":{"code":"C"}}]}`))
	if a.Data != `{"b":1,"a":[1,2]}` {
		t.Fatalf("data %s", a.Data)
	}
	if len(a.Errors) != 1 || a.Errors[0] != "b" || a.Codes[0] != "C" {
		t.Fatalf("errors %v codes %v", a.Errors, a.Codes)
	}
	b := Parse(200, []byte(`{"data":{"a":[1,2],"b":1}}`))
	if a.Data == b.Data {
		t.Fatal("key order must count")
	}
	if Parse(500, []byte("oops")).Failure == "" {
		t.Fatal("a body that is not JSON must be a failure")
	}
}

func TestJudge(t *testing.T) {
	ok := Parse(200, []byte(`{"data":{"a":1}}`))
	other := Parse(200, []byte(`{"data":{"a":2}}`))
	errPath := Parse(200, []byte(`{"data":{"a":null},"errors":[{"message":"m","path":["a"]}]}`))
	errPathOtherMessage := Parse(200, []byte(`{"data":{"a":null},"errors":[{"message":"different","path":["a"]}]}`))
	crashed := Parse(400, []byte(`{"errors":[{"message":"boom","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`))
	rejected := Parse(200, []byte(`{"data":null,"errors":[{"message":"conflict","extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]}`))
	rejectedNoCode := Parse(200, []byte(`{"data":{"me":null},"errors":[{"message":"Fields \"a\" conflict because \"b\" and \"c\" are different fields.","path":["me"]}]}`))
	for _, tc := range []struct {
		name    string
		fedgate Result
		refs    []Result
		want    Verdict
	}{
		{"all agree", ok, []Result{ok, ok}, Agree},
		{"fedgate differs", other, []Result{ok, ok}, Differs},
		{"error messages do not count", errPath, []Result{errPathOtherMessage, errPathOtherMessage}, Agree},
		{"error paths count", errPath, []Result{ok, ok}, Differs},
		{"one reference alone: review", other, []Result{ok}, Review},
		{"a reference crashed: review", other, []Result{ok, crashed}, Review},
		{"a reference sent an invalid subgraph query: review", other, []Result{rejected, ok}, Review},
		{"references disagree, fedgate matches one", ok, []Result{ok, other}, Agree},
		{"references disagree, fedgate matches none", errPath, []Result{ok, other}, RefsDisagree},
		{"every reference crashed", ok, []Result{crashed, rejected}, RefsCrashed},
		{"references disagree, fedgate agrees with each where the other errs",
			Parse(200, []byte(`{"data":{"a":1,"b":2}}`)),
			[]Result{Parse(200, []byte(`{"data":{"a":1,"b":3}}`)), Parse(200, []byte(`{"data":{"a":4,"b":2}}`))}, RefsSplit},
		{"references disagree, fedgate differs where they agree",
			Parse(200, []byte(`{"data":{"a":5,"b":2}}`)),
			[]Result{Parse(200, []byte(`{"data":{"a":1,"b":3}}`)), Parse(200, []byte(`{"data":{"a":1,"b":2}}`))}, RefsDisagree},
		{"one reference nulls a list with an error, the other answers another value beside it",
			Parse(200, []byte(`{"data":{"s":[{"m":1,"t":2.5}],"n":72}}`)),
			[]Result{Parse(200, []byte(`{"data":{"s":[{"m":1,"t":2.5}],"n":61}}`)),
				Parse(200, []byte(`{"data":{"s":null,"n":72},"errors":[{"message":"Cannot return null","path":["s",0,"m"]}]}`))}, RefsSplit},
		{"references disagree, fedgate has an error neither has",
			Parse(200, []byte(`{"data":{"a":1,"b":null},"errors":[{"message":"x","path":["b"]}]}`)),
			[]Result{Parse(200, []byte(`{"data":{"a":1,"b":3}}`)), Parse(200, []byte(`{"data":{"a":4,"b":null}}`))}, RefsDisagree},
		{"references disagree, fedgate lacks an error both have",
			Parse(200, []byte(`{"data":{"a":1,"b":null}}`)),
			[]Result{Parse(200, []byte(`{"data":{"a":1,"b":null},"errors":[{"message":"x","path":["b"]}]}`)), Parse(200, []byte(`{"data":{"a":4,"b":null},"errors":[{"message":"x","path":["b"]}]}`))}, RefsDisagree},
		{"references disagree on list lengths, fedgate has a third",
			Parse(200, []byte(`{"data":{"l":[1]}}`)),
			[]Result{Parse(200, []byte(`{"data":{"l":[1,2]}}`)), Parse(200, []byte(`{"data":{"l":[]}}`))}, RefsDisagree},
		{"a member only one reference has",
			Parse(200, []byte(`{"data":{"a":1,"b":2}}`)),
			[]Result{Parse(200, []byte(`{"data":{"a":1}}`)), Parse(200, []byte(`{"data":{"a":3,"b":2}}`))}, RefsSplit},
		{"a subgraph validation message without a code is a crash", other, []Result{ok, rejectedNoCode}, Review},
	} {
		if got := Judge(tc.fedgate, tc.refs); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestClassify(t *testing.T) {
	api := demoAPI(t)
	hints := opgen.Hints{AliasNames: map[string][]string{"Product": {"upc"}}}
	c := Case{
		Min:     opgen.Operation{Query: `{ topProducts { upc: name __typename: sku } a: topProducts { upc } }`},
		Answers: []Answer{{Gateway: "fedgate", Result: Parse(500, []byte(`{"errors":[{"message":"no subgraph can resolve Query.topProducts at 3","extensions":{"code":"QUERY_PLANNING_FAILED"}}]}`))}},
	}
	got := Classify(api, hints, c)
	want := "error QUERY_PLANNING_FAILED: no subgraph can resolve X at N [alias, alias __typename, alias named like a key/@requires field, one field under two aliases]"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestRenameAliasesAndBack(t *testing.T) {
	op := opgen.Operation{Query: `query Q { a: me { __typename: id b: name } ...F } fragment F on Query { a: me { id } }`, OperationName: "Q"}
	renamed, back, ok := RenameAliases(op)
	if !ok || strings.Contains(renamed.Query, "__typename:") || strings.Contains(renamed.Query, " a:") {
		t.Fatalf("not renamed: %v\n%s", ok, renamed.Query)
	}
	if err := opgen.Validate(demoAPI(t), renamed); err != nil {
		t.Fatalf("renamed operation invalid: %v\n%s", err, renamed.Query)
	}
	// The answer to the renamed operation, with its keys renamed back, is
	// the answer to the original.
	var a, tn, b string
	for fresh, orig := range back {
		switch orig {
		case "a":
			a = fresh
		case "__typename":
			tn = fresh
		case "b":
			b = fresh
		}
	}
	res := Parse(200, []byte(`{"data":{"`+a+`":{"`+tn+`":"1","`+b+`":"Ada","id":"1"}},"errors":[{"message":"m","path":["`+a+`","`+b+`"]}]}`))
	got := res.Renamed(back)
	if got.Data != `{"a":{"__typename":"1","b":"Ada","id":"1"}}` || got.Errors[0] != "a.b" {
		t.Fatalf("renamed back: %s %v", got.Data, got.Errors)
	}
	if _, _, ok := RenameAliases(opgen.Operation{Query: `{ me { id } }`}); ok {
		t.Fatal("an operation without aliases has nothing to rename")
	}
}
