package executor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/schema"
	"github.com/fedgate/gateway/schema/compose"
)

var updateInvalid = flag.Bool("update-invalid", false, "rewrite testdata/invalid_values/*.golden from the executor's answers")

// invalidModes are the two settings of subgraphs.invalid_values, by the
// name the goldens and subtests use.
var invalidModes = []struct {
	name     string
	asErrors bool
}{{"extensions", false}, {"errors", true}}

// executeIn is execute with Input.InvalidValuesAsErrors set to asErrors.
func executeIn(t *testing.T, sg *schema.Supergraph, tr executor.Transport, query string, asErrors bool) string {
	t.Helper()
	p := planQuery(t, sg, query)
	return string(executor.Execute(context.Background(), p, executor.Input{InvalidValuesAsErrors: asErrors}, tr, nil))
}

// asValueCompletion turns the response want, written as the errors
// setting answers it (every invalid value a field error with code
// INVALID_SUBGRAPH_RESPONSE), into the response of the default setting:
// those errors listed, in their order, in extensions.valueCompletion at
// the start of the body, every other error left in "errors", the data
// byte for byte the same.
func asValueCompletion(t *testing.T, want string) string {
	t.Helper()
	var r struct {
		Data   json.RawMessage   `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	dec := json.NewDecoder(strings.NewReader(want))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("%s: %v", want, err)
	}
	var invalid, rest []string
	for _, e := range r.Errors {
		if bytes.Contains(e, []byte(`"code":"INVALID_SUBGRAPH_RESPONSE"`)) {
			invalid = append(invalid, string(e))
		} else {
			rest = append(rest, string(e))
		}
	}
	out := "{"
	if len(invalid) > 0 {
		out += `"extensions":{"valueCompletion":[` + strings.Join(invalid, ",") + `]},`
	}
	out += `"data":` + string(r.Data)
	if len(rest) > 0 {
		out += `,"errors":[` + strings.Join(rest, ",") + `]`
	}
	return out + "}"
}

// checkBothModes runs query against canned subgraph answers under each
// setting of subgraphs.invalid_values, and compares with want, written as
// the errors setting answers (asValueCompletion makes the default's).
func checkBothModes(t *testing.T, sg *schema.Supergraph, answers map[string][]string, query, want string) {
	t.Helper()
	for _, mode := range invalidModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Helper()
			fresh := map[string][]string{}
			for k, v := range answers {
				fresh[k] = append([]string(nil), v...)
			}
			tr := &cannedTransport{answers: fresh}
			w := want
			if !mode.asErrors {
				w = asValueCompletion(t, want)
			}
			if got := executeIn(t, sg, tr, query, mode.asErrors); got != w {
				t.Errorf("got  %s\nwant %s\nsent %v", got, w, tr.sent)
			}
		})
	}
}

// TestInvalidValues: the values of a subgraph answer the API schema
// cannot represent (a built-in scalar of the wrong shape; an enum value
// it hides, lacks, in another case or as a number; an object whose
// __typename is a type it hides or does not have, in interfaces and
// unions) are null, at nullable and non-null positions and in lists,
// under both settings of subgraphs.invalid_values. By default ("extensions",
// as both reference gateways, docs/differential.md "Values the API schema
// does not have"): "errors" holds no entry for them, not even "Cannot
// return null" where the null propagates (Apollo Gateway writes none; Hive
// Gateway does, the references disagree), each is listed in
// extensions.valueCompletion with its path and code
// INVALID_SUBGRAPH_RESPONSE; a subgraph's own errors and the gateway's
// other errors are in "errors" as before. "errors": each is a field error
// (fedgate's behaviour until session 18). The answers are goldens,
// testdata/invalid_values/{extensions,errors}.golden (-update-invalid
// rewrites them; a missing one fails).
func TestInvalidValues(t *testing.T) {
	sdl, err := os.ReadFile("testdata/invalid_values/subgraph.graphql")
	if err != nil {
		t.Fatal(err)
	}
	res, err := compose.Compose([]compose.Subgraph{{Name: "p", URL: "http://127.0.0.1:4999/p", SDL: string(sdl)}})
	if err != nil {
		t.Fatal(err)
	}
	sg := res.Supergraph
	cases := []struct{ name, query, answer string }{
		{"enum value hidden", `{ color }`, `{"data":{"color":"HIDDEN"}}`},
		{"enum value unknown", `{ color }`, `{"data":{"color":"PURPLE"}}`},
		{"enum value in another case", `{ color }`, `{"data":{"color":"red"}}`},
		{"enum value a number", `{ color }`, `{"data":{"color":1}}`},
		{"String a number", `{ string }`, `{"data":{"string":5}}`},
		{"Int a string", `{ int }`, `{"data":{"int":"12"}}`},
		{"several in one answer", `{ a: string b: int c: color d: color }`, `{"data":{"a":5,"b":"x","c":"HIDDEN","d":"RED"}}`},
		{"nullable enum items", `{ colors }`, `{"data":{"colors":["RED","HIDDEN",1,"GREEN","red"]}}`},
		{"non-null enum items of a non-null root list", `{ colorsNN }`, `{"data":{"colorsNN":["RED","HIDDEN",1]}}`},
		{"non-null leaf", `{ strict { string color name } }`, `{"data":{"strict":{"string":5,"color":"RED","name":"n"}}}`},
		{"non-null objects in a list", `{ stricts { string color } }`,
			`{"data":{"stricts":[{"string":"a","color":"RED"},{"string":5,"color":"RED"},{"string":"c","color":"HIDDEN"}]}}`},
		{"nullable objects in a list", `{ strictsN { string color } }`,
			`{"data":{"strictsN":[{"string":"a","color":"RED"},{"string":5,"color":"RED"},{"string":"c","color":"HIDDEN"}]}}`},
		{"non-null chain", `{ wrap { inner { s } n } }`, `{"data":{"wrap":{"inner":{"s":5},"n":1}}}`},
		{"hidden runtime type", `{ one { title } }`, `{"data":{"one":{"__typename":"Book","title":"b"}}}`},
		{"unknown runtime type", `{ one { title } }`, `{"data":{"one":{"__typename":"Nope","title":"b"}}}`},
		{"visible runtime type", `{ one { title } }`, `{"data":{"one":{"__typename":"Movie","title":"m"}}}`},
		{"hidden runtime type at a non-null root field", `{ oneNN { title } }`, `{"data":{"oneNN":{"__typename":"Book","title":"b"}}}`},
		{"hidden runtime type below non-null fields", `{ wrap { inner { m { title } } n } }`,
			`{"data":{"wrap":{"inner":{"m":{"__typename":"Book","title":"b"}},"n":1}}}`},
		{"hidden runtime types in a non-null list of non-null items", `{ media { title } }`,
			`{"data":{"media":[{"__typename":"Movie","title":"m"},{"__typename":"Book","title":"b"},{"__typename":"Book","title":"c"}]}}`},
		{"hidden runtime types in a list of nullable items", `{ mediaN { __typename ... on Movie { title } } }`,
			`{"data":{"mediaN":[{"__typename":"Movie","title":"m"},{"__typename":"Book","title":"b"},{"__typename":"Book","title":"c"}]}}`},
		{"hidden runtime types in a nullable list of non-null items", `{ mediaNN { title } }`,
			`{"data":{"mediaNN":[{"__typename":"Movie","title":"m"},{"__typename":"Book","title":"b"}]}}`},
		{"hidden union member and a bad leaf", `{ search { ... on Movie { title } } }`,
			`{"data":{"search":[{"__typename":"Movie","title":"m"},{"__typename":"Song","title":"s"},{"__typename":"Movie","title":5}]}}`},
		{"hidden union member at a non-null item", `{ searchNN { __typename ... on Movie { title } } }`,
			`{"data":{"searchNN":[{"__typename":"Movie","title":"m"},{"__typename":"Song","title":"s"}]}}`},
		{"a subgraph error next to an invalid value", `{ color string }`,
			`{"data":{"color":"HIDDEN","string":null},"errors":[{"message":"boom","path":["string"],"extensions":{"code":"BOOM"}}]}`},
		{"a null at a non-null field next to an invalid value", `{ strict { string name } wrap { s n } }`,
			`{"data":{"strict":{"string":true,"name":"n"},"wrap":{"s":null,"n":1}}}`},
	}
	for _, mode := range invalidModes {
		t.Run(mode.name, func(t *testing.T) {
			var got strings.Builder
			for _, c := range cases {
				tr := &cannedTransport{answers: map[string][]string{"p": {c.answer}}}
				out := executeIn(t, sg, tr, c.query, mode.asErrors)
				if !json.Valid([]byte(out)) {
					t.Errorf("%s: not JSON: %s", c.name, out)
				}
				if !mode.asErrors && strings.Contains(out, `"errors"`) && strings.Contains(out[strings.Index(out, `"errors"`):], "INVALID_SUBGRAPH_RESPONSE") {
					t.Errorf("%s: an invalid value in errors: %s", c.name, out)
				}
				got.WriteString("### " + c.name + "\n" + c.query + "\n" + c.answer + "\n" + out + "\n")
			}
			golden := filepath.Join("testdata", "invalid_values", mode.name+".golden")
			if *updateInvalid {
				if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test ./executor -run TestInvalidValues -update-invalid writes it)", err)
			}
			if got.String() != string(want) {
				gotCases, wantCases := strings.Split(got.String(), "### "), strings.Split(string(want), "### ")
				for i := range gotCases {
					if i >= len(wantCases) || gotCases[i] != wantCases[i] {
						w := ""
						if i < len(wantCases) {
							w = wantCases[i]
						}
						t.Errorf("got\n%s\nwant\n%s", gotCases[i], w)
					}
				}
				if len(wantCases) > len(gotCases) {
					t.Errorf("%d cases, the golden has %d", len(gotCases), len(wantCases))
				}
			}
		})
	}
}

// TestInvalidValuesAreBounded: a subgraph answering 100,000 values the
// API schema cannot represent gets them all null, and a response that
// lists the first 100 (maxInvalidValues) and one entry counting the rest,
// under both settings; without the bound it listed every one, 100,000
// errors in a 13.1 MB response.
func TestInvalidValuesAreBounded(t *testing.T) {
	sg := loadSupergraph(t, "../testdata/supergraphs/leaf_coercion.graphql")
	const n = 100_000
	var answer strings.Builder
	answer.WriteString(`{"data":{"strings":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			answer.WriteByte(',')
		}
		answer.WriteString(strconv.Itoa(i))
	}
	answer.WriteString(`]}}`)
	for _, mode := range invalidModes {
		t.Run(mode.name, func(t *testing.T) {
			tr := &cannedTransport{answers: map[string][]string{"leaves": {answer.String()}}}
			out := executeIn(t, sg, tr, `{ strings(shape: "s") }`, mode.asErrors)
			var r struct {
				Data struct {
					Strings []*string `json:"strings"`
				} `json:"data"`
				Errors     []json.RawMessage `json:"errors"`
				Extensions struct {
					ValueCompletion []json.RawMessage `json:"valueCompletion"`
				} `json:"extensions"`
			}
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("%v: %.300s", err, out)
			}
			if len(r.Data.Strings) != n || r.Data.Strings[0] != nil || r.Data.Strings[n-1] != nil {
				t.Fatalf("data: %d items, want %d nulls", len(r.Data.Strings), n)
			}
			entries := r.Extensions.ValueCompletion
			if mode.asErrors {
				entries = r.Errors
			}
			if len(entries) != 101 {
				t.Fatalf("%d entries, want 100 and one for the rest", len(entries))
			}
			const last = `{"message":"99900 more values the API schema cannot represent are not listed","extensions":{"code":"INVALID_SUBGRAPH_RESPONSE"}}`
			if string(entries[100]) != last {
				t.Errorf("last entry %s, want %s", entries[100], last)
			}
			if string(entries[99]) != `{"message":"String cannot represent value: 99","path":["strings",99],"extensions":{"code":"INVALID_SUBGRAPH_RESPONSE"}}` {
				t.Errorf("entry 100: %s", entries[99])
			}
			if size := len(out) - len(`null,`)*n; size > 20_000 {
				t.Errorf("%d bytes beside the nulls", size)
			}
		})
	}
}

// TestInvalidValuesInDeferredParts: an invalid value in a deferred
// fragment's data is listed in that incremental entry's
// extensions.valueCompletion by default, or is a field error in the
// entry's errors with subgraphs.invalid_values: errors (inStock is
// non-null: the entry's data is null, no "Cannot return null" by default).
func TestInvalidValuesInDeferredParts(t *testing.T) {
	sg := demoGraph(t)
	const query = `{ topProducts { upc ... @defer { inStock } } }`
	answers := func() map[string][]string {
		return map[string][]string{
			"products":  {`{"data":{"topProducts":[{"__typename":"Product","upc":"1","sku":"s1","price":10,"weight":2},{"__typename":"Product","upc":"2","sku":"s2","price":20,"weight":3}]}}`},
			"inventory": {`{"data":{"_entities":[{"inStock":"yes"},{"inStock":true}]}}`}}
	}
	const initial = `{"data":{"topProducts":[{"upc":"1"},{"upc":"2"}]},"hasNext":true}`
	const entry = `{"message":"Boolean cannot represent a non boolean value: \"yes\"","path":["topProducts",0,"inStock"],"extensions":{"code":"INVALID_SUBGRAPH_RESPONSE"}}`
	want := map[bool][]string{
		false: {initial, `{"hasNext":false,"incremental":[{"data":null,"path":["topProducts",0],"extensions":{"valueCompletion":[` + entry + `]}},{"data":{"inStock":true},"path":["topProducts",1]}]}`},
		true:  {initial, `{"hasNext":false,"incremental":[{"data":null,"path":["topProducts",0],"errors":[` + entry + `]},{"data":{"inStock":true},"path":["topProducts",1]}]}`},
	}
	for _, mode := range invalidModes {
		t.Run(mode.name, func(t *testing.T) {
			p := planQuery(t, sg, query)
			var got []string
			executor.ExecuteIncremental(context.Background(), p, executor.Input{InvalidValuesAsErrors: mode.asErrors}, &cannedTransport{answers: answers()}, func(payload []byte) bool {
				got = append(got, string(payload))
				return true
			})
			if strings.Join(got, "\n") != strings.Join(want[mode.asErrors], "\n") {
				t.Errorf("payloads\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want[mode.asErrors], "\n"))
			}
		})
	}
}
