package difftest

import (
	"reflect"
	"strings"
	"testing"

	"github.com/fedgate/gateway/internal/opgen"
)

func TestStripDefer(t *testing.T) {
	for _, tc := range []struct {
		name      string
		op        opgen.Operation
		ok        bool
		wantQuery []string // parts of the stripped document
		notQuery  []string
		wantVars  map[string]any
	}{
		{
			name: "no defer",
			op:   opgen.Operation{Query: "{ me { id } }"},
		},
		{
			name:      "inline and spread, label kept nowhere",
			op:        opgen.Operation{Query: `{ me { ... @defer(label: "a") { id } ...F @defer } } fragment F on User { name }`},
			ok:        true,
			wantQuery: []string{"... F", "name"},
			notQuery:  []string{"@defer", `"a"`},
		},
		{
			name: "a variable only @defer used goes, with its value",
			op: opgen.Operation{Query: `query Q($d: Boolean = true, $s: Boolean!) { me { ... @defer(if: $d) { id @skip(if: $s) } } }`,
				OperationName: "Q", Variables: map[string]any{"d": nil, "s": false}},
			ok:        true,
			wantQuery: []string{"$s: Boolean!", "@skip(if: $s)"},
			notQuery:  []string{"$d"},
			wantVars:  map[string]any{"s": false},
		},
		{
			name: "a variable used elsewhere too stays",
			op: opgen.Operation{Query: `query Q($d: Boolean!) { me { ...F @defer(if: $d) } } fragment F on User { id @include(if: $d) }`,
				OperationName: "Q", Variables: map[string]any{"d": true}},
			ok:        true,
			wantQuery: []string{"$d: Boolean!", "@include(if: $d)"},
			wantVars:  map[string]any{"d": true},
		},
		{
			name: "another operation's variables are dropped from its definition only",
			op: opgen.Operation{Query: `query A($x: Boolean!) { me { ... @defer(if: $x) { id } } } query B($y: Boolean!) { me { ... @defer(if: $y) { id } } }`,
				OperationName: "A", Variables: map[string]any{"x": true}},
			ok:       true,
			notQuery: []string{"$x", "$y"},
			wantVars: map[string]any{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(tc.op.Variables)
			got, ok := StripDefer(tc.op)
			if len(tc.op.Variables) != before {
				t.Fatalf("the original operation's variables changed: %v", tc.op.Variables)
			}
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				if !reflect.DeepEqual(got, tc.op) {
					t.Fatalf("changed an operation without @defer: %+v", got)
				}
				return
			}
			for _, w := range tc.wantQuery {
				if !strings.Contains(got.Query, w) {
					t.Errorf("stripped document lacks %q:\n%s", w, got.Query)
				}
			}
			for _, w := range tc.notQuery {
				if strings.Contains(got.Query, w) {
					t.Errorf("stripped document still has %q:\n%s", w, got.Query)
				}
			}
			if !reflect.DeepEqual(got.Variables, tc.wantVars) {
				t.Errorf("variables %v, want %v", got.Variables, tc.wantVars)
			}
		})
	}
}

func TestMergeIncremental(t *testing.T) {
	const ct = `multipart/mixed;boundary="-";deferSpec=20220824`
	part := func(json string) string {
		return "\r\n---\r\nContent-Type: application/json; charset=utf-8\r\n\r\n" + json
	}
	for _, tc := range []struct {
		name, contentType, body string
		wantData                string
		wantErrors              []string
		wantErr                 bool
	}{
		{
			name:        "one JSON body stays",
			contentType: "application/json",
			body:        `{"data":{"a":1}}`,
			wantData:    `{"a":1}`,
		},
		{
			name:        "entries merge at their paths, list indexes included, nested objects deeply",
			contentType: ct,
			body: part(`{"data":{"l":[{"id":1,"o":{"x":1}},{"id":2}]},"hasNext":true}`) +
				part(`{"incremental":[{"data":{"n":"a","o":{"y":2}},"path":["l",0]},{"data":{"n":"b"},"path":["l",1],"label":"d1"}],"hasNext":true}`) +
				part(`{"incremental":[{"data":{"m":true},"path":[]}],"hasNext":false}`) + "\r\n-----\r\n",
			wantData: `{"l":[{"id":1,"n":"a","o":{"x":1,"y":2}},{"id":2,"n":"b"}],"m":true}`,
		},
		{
			// A root entry of a list of lists (fixture client_shapes:
			// { grid { id } ... @defer { grid { __typename } } }).
			name:        "lists of lists merge item by item",
			contentType: ct,
			body: part(`{"data":{"g":[[{"id":1}],[{"id":2},{"id":3}]]},"hasNext":true}`) +
				part(`{"incremental":[{"data":{"g":[[{"t":"C"}],[{"t":"C"},{"t":"D"}]]},"path":[]}],"hasNext":false}`) + "\r\n-----\r\n",
			wantData: `{"g":[[{"id":1,"t":"C"}],[{"id":2,"t":"C"},{"id":3,"t":"D"}]]}`,
		},
		{
			name:        "errors of every payload, an entry under a nulled object merges nothing",
			contentType: ct,
			body: part(`{"data":{"a":null},"errors":[{"message":"x","path":["a"]}],"hasNext":true}`) +
				part(`{"incremental":[{"data":{"b":1},"path":["a"],"errors":[{"message":"y","path":["a","c"]}]}],"hasNext":false}`) + "\r\n-----\r\n",
			wantData:   `{"a":null}`,
			wantErrors: []string{"a", "a.c"},
		},
		{
			name:        "no payload",
			contentType: ct,
			body:        "\r\n-----\r\n",
			wantErr:     true,
		},
		{
			name:        "a payload that is no JSON",
			contentType: ct,
			body:        part(`{"data":`) + "\r\n-----\r\n",
			wantErr:     true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := MergeIncremental(tc.contentType, []byte(tc.body))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want an error: %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			r := Parse(200, b)
			if sortedJSON(r.Data) != sortedJSON(tc.wantData) {
				t.Errorf("data %s, want %s", r.Data, tc.wantData)
			}
			if strings.Join(r.Errors, " ") != strings.Join(tc.wantErrors, " ") {
				t.Errorf("errors %v, want %v", r.Errors, tc.wantErrors)
			}
		})
	}
}

func TestSameUnordered(t *testing.T) {
	a := Parse(200, []byte(`{"data":{"x":1,"y":{"a":1,"b":2}}}`))
	b := Parse(200, []byte(`{"data":{"y":{"b":2,"a":1},"x":1}}`))
	c := Parse(200, []byte(`{"data":{"y":{"b":2,"a":1},"x":2}}`))
	d := Parse(200, []byte(`{"data":{"x":1,"y":{"a":1,"b":2}},"errors":[{"message":"e","path":["x"]}]}`))
	if !SameUnordered(a, b) {
		t.Error("key order counted")
	}
	if SameUnordered(a, c) || SameUnordered(a, d) {
		t.Error("a different value or error not counted")
	}
	// Two answers that are no GraphQL responses say nothing about
	// whether the requests were answered alike.
	broken := Parse(500, []byte("panic: runtime error"))
	cut := Parse(200, []byte(`{"data":{"x":`))
	if SameUnordered(broken, broken) || SameUnordered(broken, cut) || SameUnordered(a, broken) {
		t.Error("failed answers counted as the same answer")
	}
}
