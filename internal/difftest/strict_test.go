package difftest

import (
	"strings"
	"testing"
)

func TestErrorDetailsDiffer(t *testing.T) {
	const (
		varDefAndUse     = `{"errors":[{"message":"Variable \"$v\" of type \"Int\" used in position expecting type \"Int!\".","locations":[{"line":1,"column":8},{"line":1,"column":30}],"extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]}`
		varUseOnly       = `{"errors":[{"message":"Variable \"$v\" of type \"Int\" used in position expecting type \"Int!\".","locations":[{"line":1,"column":30}],"extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]}`
		otherCode        = `{"errors":[{"message":"Variable \"$v\" of type \"Int\" used in position expecting type \"Int!\".","locations":[{"line":1,"column":8},{"line":1,"column":30}],"extensions":{"code":"BAD_USER_INPUT"}}]}`
		otherWording     = `{"errors":[{"message":"Variable \"v\" of type \"Int\" used in position expecting type \"Int!\".","locations":[{"line":1,"column":8},{"line":1,"column":30}],"extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]}`
		fieldErr         = `{"data":{"a":null},"errors":[{"message":"boom","path":["a"],"locations":[{"line":1,"column":3}]}]}`
		fieldErrElsewhe  = `{"data":{"a":null},"errors":[{"message":"boom","path":["a"],"locations":[{"line":9,"column":9}],"extensions":{"code":"X"}}]}`
		fieldErrOtherMsg = `{"data":{"a":null},"errors":[{"message":"Cannot return null","path":["a"]}]}`
		noCode           = `{"errors":[{"message":"Variable \"$v\" of type \"Int\" used in position expecting type \"Int!\".","locations":[{"line":1,"column":8},{"line":1,"column":30}]}]}`
		noErrors         = `{"data":{"a":1}}`
	)
	p := func(body string) Result { return Parse(200, []byte(body)) }
	for _, tc := range []struct {
		name    string
		fedgate string
		refs    []string
		want    bool
		diff    string // a line the differences must hold
	}{
		{"alike", varDefAndUse, []string{varDefAndUse, varDefAndUse}, false, ""},
		{"a request error's locations count", varUseOnly, []string{varDefAndUse, varDefAndUse}, true, "references: request"},
		{"a request error's code counts", otherCode, []string{varDefAndUse, varDefAndUse}, true, "code BAD_USER_INPUT"},
		{"a request error's message counts", otherWording, []string{varDefAndUse, varDefAndUse}, true, `fedgate: request "Variable \"v\"`},
		{"references that disagree judge nothing", varUseOnly, []string{varDefAndUse, otherWording}, false, ""},
		{"references that disagree on the code only: the rest is judged", varUseOnly, []string{varDefAndUse, otherCode}, true, "references: request"},
		{"references that disagree on the code only: the code is not", otherCode, []string{varDefAndUse, noCode}, false, ""},
		{"one reference judges nothing", varUseOnly, []string{varDefAndUse}, false, ""},
		{"a reference without a GraphQL answer judges nothing", varUseOnly, []string{varDefAndUse, "oops"}, false, ""},
		{"a field error's message counts", fieldErrOtherMsg, []string{fieldErr, fieldErr}, true, `field a: "boom"`},
		{"a field error's locations and code do not count", fieldErrElsewhe, []string{fieldErr, fieldErr}, false, ""},
		{"no errors anywhere", noErrors, []string{noErrors, noErrors}, false, ""},
		{"an error the references lack", fieldErr, []string{noErrors, noErrors}, true, `fedgate: field a: "boom"`},
	} {
		refs := make([]Result, len(tc.refs))
		for i, r := range tc.refs {
			refs[i] = p(r)
		}
		got, diff := ErrorDetailsDiffer(p(tc.fedgate), refs)
		if got != tc.want {
			t.Errorf("%s: got %v, want %v (%q)", tc.name, got, tc.want, diff)
			continue
		}
		if tc.diff != "" && !strings.Contains(strings.Join(diff, "\n"), tc.diff) {
			t.Errorf("%s: differences %q lack %q", tc.name, diff, tc.diff)
		}
	}
}

func TestStrictClassBlanksNames(t *testing.T) {
	c := Case{Verdict: ErrorsDiffer, Answers: []Answer{
		{Gateway: "fedgate", Result: Parse(200, []byte(`{"errors":[{"message":"Variable \"$v\" is bad.","locations":[{"line":2,"column":30}],"extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]}`))},
		{Gateway: "apollo", Result: Parse(400, []byte(`{"errors":[{"message":"Variable \"$v\" is bad.","locations":[{"line":1,"column":8},{"line":2,"column":30}],"extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]}`))},
		{Gateway: "hive", Result: Parse(400, []byte(`{"errors":[{"message":"Variable \"$v\" is bad.","locations":[{"line":1,"column":8},{"line":2,"column":30}],"extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]}`))},
	}}
	got := StrictClass(c)
	want := `references request "Variable X is bad." at [N:N N:N] code GRAPHQL_VALIDATION_FAILED / fedgate request "Variable X is bad." at [N:N] code GRAPHQL_VALIDATION_FAILED`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if !strings.Contains(c.Report(), "references: request") {
		t.Fatalf("the report must list the differing details:\n%s", c.Report())
	}
}
