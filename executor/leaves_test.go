package executor_test

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// leafError is the response of a nullable root field whose value is
// invalid for its type: null, and the field error at its path.
func leafError(field, msg string) string {
	return `{"data":{"` + field + `":null},"errors":[{"message":` + strconv.Quote(msg) + `,"path":["` + field +
		`"],"extensions":{"code":"INVALID_SUBGRAPH_RESPONSE"}}]}`
}

// TestLeafCoercion: the result coercion of leaf values (spec 3.5) on the
// leaf_coercion graph, for each built-in scalar, an enum and a custom
// scalar, and the JSON shapes a subgraph may answer. A well-formed value
// is written as the subgraph wrote it; an ID answered as an integer is
// written as a string (as Hive Gateway and graphql-js write it); any
// other value of the wrong shape is null (both references null it too)
// with graphql-js's serializer message and INVALID_SUBGRAPH_RESPONSE, in
// extensions.valueCompletion or, with subgraphs.invalid_values: errors,
// as a field error (checkBothModes); a custom scalar takes any value. Before, every one of these values was
// passed through (only Int was checked, for its range).
func TestLeafCoercion(t *testing.T) {
	sg := loadSupergraph(t, "../testdata/supergraphs/leaf_coercion.graphql")
	type leafCase struct {
		field, raw string
		// want is the value written, or "" for a field error with msg.
		want, msg string
	}
	cases := []leafCase{
		{"string", `"abc"`, `"abc"`, ""},
		{"string", `"a\"b\n\u00e9"`, `"a\"b\né"`, ""},
		{"string", `""`, `""`, ""},
		{"string", `5`, "", "String cannot represent value: 5"},
		{"string", `1.5e3`, "", "String cannot represent value: 1.5e3"},
		{"string", `true`, "", "String cannot represent value: true"},
		{"string", `{"a":1,"b":"x"}`, "", `String cannot represent value: { a: 1, b: "x" }`},
		{"string", `{}`, "", `String cannot represent value: {}`},
		{"string", `[1,"x"]`, "", `String cannot represent value: [1, "x"]`},
		{"string", `[]`, "", `String cannot represent value: []`},
		{"string", `[[["x"]]]`, "", `String cannot represent value: [[[Array]]]`},
		{"string", `{"a":{"b":{"c":1}}}`, "", `String cannot represent value: { a: { b: [Object] } }`},
		{"string", `[1,2,3,4,5,6,7,8,9,10,11,12]`, "", `String cannot represent value: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, ... 2 more items]`},
		{"string", `[1,2,3,4,5,6,7,8,9,10,11]`, "", `String cannot represent value: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, ... 1 more item]`},

		{"int", `5`, `5`, ""},
		{"int", `-2147483648`, `-2147483648`, ""},
		{"int", `1e3`, `1000`, ""},
		{"int", `5.0`, `5`, ""},
		{"int", `-0.0`, `0`, ""},
		{"int", `"12"`, "", `Int cannot represent non-integer value: "12"`},
		{"int", `true`, "", `Int cannot represent non-integer value: true`},
		{"int", `1.5`, "", `Int cannot represent non-integer value: 1.5`},
		{"int", `2147483648`, "", `Int cannot represent non 32-bit signed integer value: 2147483648`},
		{"int", `{}`, "", `Int cannot represent non-integer value: {}`},
		{"int", `[5]`, "", `Int cannot represent non-integer value: [5]`},

		{"float", `1.5`, `1.5`, ""},
		{"float", `5`, `5`, ""},
		{"float", `12345678901234567890`, `12345678901234567890`, ""},
		{"float", `1.5e300`, `1.5e300`, ""},
		{"float", `1e400`, "", `Float cannot represent non numeric value: 1e400`},
		{"float", `-1` + strings.Repeat("0", 400), "", `Float cannot represent non numeric value: -1` + strings.Repeat("0", 198) + "..."},
		{"float", `"1.5"`, "", `Float cannot represent non numeric value: "1.5"`},
		{"float", `false`, "", `Float cannot represent non numeric value: false`},
		{"float", `{"x":[1]}`, "", `Float cannot represent non numeric value: { x: [1] }`},

		{"boolean", `true`, `true`, ""},
		{"boolean", `false`, `false`, ""},
		{"boolean", `0`, "", `Boolean cannot represent a non boolean value: 0`},
		{"boolean", `"true"`, "", `Boolean cannot represent a non boolean value: "true"`},
		{"boolean", `[true]`, "", `Boolean cannot represent a non boolean value: [true]`},

		{"id", `"x"`, `"x"`, ""},
		{"id", `5`, `"5"`, ""},
		{"id", `-0`, `"0"`, ""},
		{"id", `12345678901234567890`, `"12345678901234567890"`, ""},
		{"id", `5.0`, `"5"`, ""},
		{"id", `1e3`, `"1000"`, ""},
		{"id", `1e21`, `"1e+21"`, ""},
		{"id", `-1.5e300`, `"-1.5e+300"`, ""},
		{"id", `1.5`, "", `ID cannot represent value: 1.5`},
		{"id", `1e400`, "", `ID cannot represent value: 1e400`},
		{"id", `true`, "", `ID cannot represent value: true`},
		{"id", `{"a":1}`, "", `ID cannot represent value: { a: 1 }`},

		{"color", `"RED"`, `"RED"`, ""},
		{"color", `"HIDDEN"`, "", `Enum "Color" cannot represent a value that is not one of its values`},
		{"color", `"PURPLE"`, "", `Enum "Color" cannot represent a value that is not one of its values`},
		{"color", `"red"`, "", `Enum "Color" cannot represent a value that is not one of its values`},
		{"color", `1`, "", `Enum "Color" cannot represent value: 1`},
		{"color", `["RED"]`, "", `Enum "Color" cannot represent value: ["RED"]`},

		{"json", `{"a":[1,{"b":null}],"c":"d"}`, `{"a":[1,{"b":null}],"c":"d"}`, ""},
		{"json", `[[["x"]]]`, `[[["x"]]]`, ""},
		{"json", `"x"`, `"x"`, ""},
		{"json", `1e400`, `1e400`, ""},
		{"json", `false`, `false`, ""},
	}
	for _, c := range cases {
		t.Run(c.field+" "+c.raw, func(t *testing.T) {
			want := `{"data":{"` + c.field + `":` + c.want + `}}`
			if c.want == "" {
				want = leafError(c.field, c.msg)
			}
			checkBothModes(t, sg, map[string][]string{"leaves": {`{"data":{"` + c.field + `":` + c.raw + `}}`}}, `{ `+c.field+`(shape: "s") }`, want)
		})
	}
}

// TestLeafCoercionPropagates: an invalid leaf value is a null like any
// other: at a non-null field it nulls the parent (one entry, the
// coercion's, and no "Cannot return null" for it), in a list it nulls the item or,
// for a non-null item, the list; a list level keeps coercing (an ID
// answered as an integer in a list of lists).
func TestLeafCoercionPropagates(t *testing.T) {
	sg := loadSupergraph(t, "../testdata/supergraphs/leaf_coercion.graphql")
	const ext = `"extensions":{"code":"INVALID_SUBGRAPH_RESPONSE"}`
	cases := []struct {
		name, query, answer, want string
	}{
		{"non-null field", `{ strict { id(shape: "s") int(shape: "s") } }`, `{"data":{"strict":{"id":"1","int":"x"}}}`,
			`{"data":{"strict":null},"errors":[{"message":"Int cannot represent non-integer value: \"x\"","path":["strict","int"],` + ext + `}]}`},
		{"non-null enum", `{ strict { color(shape: "s") } }`, `{"data":{"strict":{"color":"HIDDEN"}}}`,
			`{"data":{"strict":null},"errors":[{"message":"Enum \"Color\" cannot represent a value that is not one of its values","path":["strict","color"],` + ext + `}]}`},
		{"non-null field coerced", `{ strict { id(shape: "s") json(shape: "s") } }`, `{"data":{"strict":{"id":7,"json":[{}]}}}`,
			`{"data":{"strict":{"id":"7","json":[{}]}}}`},
		{"nullable items", `{ strings(shape: "s") }`, `{"data":{"strings":["a",1,null,"b"]}}`,
			`{"data":{"strings":["a",null,null,"b"]},"errors":[{"message":"String cannot represent value: 1","path":["strings",1],` + ext + `}]}`},
		{"non-null items", `{ ints(shape: "s") }`, `{"data":{"ints":[1,"2",3]}}`,
			`{"data":{"ints":null},"errors":[{"message":"Int cannot represent non-integer value: \"2\"","path":["ints",1],` + ext + `}]}`},
		{"lists of lists", `{ ids(shape: "s") }`, `{"data":{"ids":[[1,"x",1.5],null,[true]]}}`,
			`{"data":{"ids":[["1","x",null],null,[null]]},"errors":[{"message":"ID cannot represent value: 1.5","path":["ids",0,2],` + ext +
				`},{"message":"ID cannot represent value: true","path":["ids",2,0],` + ext + `}]}`},
		{"non-null list of non-null enums", `{ colors(shape: "s") }`, `{"data":{"colors":["RED","GREEN",2]}}`,
			`{"data":null,"errors":[{"message":"Enum \"Color\" cannot represent value: 2","path":["colors",2],` + ext + `}]}`},
		{"an object's leaves", `{ things(shape: "s") { name } }`, `{"data":{"things":[{"name":"a"},{"name":false}]}}`,
			`{"data":{"things":[{"name":"a"},{"name":null}]},"errors":[{"message":"String cannot represent value: false","path":["things",1,"name"],` + ext + `}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkBothModes(t, sg, map[string][]string{"leaves": {c.answer}}, c.query, c.want)
		})
	}
}

// TestLeafCoercionHostileAnswers: a subgraph answering a huge object, a
// huge string or deeply nested lists where a scalar is due gets a short
// message (the start of the value, cut) and costs about what reading the
// answer costs: the message is built from its first 200 bytes.
func TestLeafCoercionHostileAnswers(t *testing.T) {
	sg := loadSupergraph(t, "../testdata/supergraphs/leaf_coercion.graphql")
	var wide strings.Builder
	wide.WriteString(`{`)
	for i := 0; i < 50000; i++ {
		if i > 0 {
			wide.WriteByte(',')
		}
		wide.WriteString(`"k` + strconv.Itoa(i) + `":[1,2,3,4,5,6,7,8,9,10,11]`)
	}
	wide.WriteString(`}`)
	// As deep as a subgraph answer may nest (jsonvalue.MaxDepth, the
	// data and the field's object being two levels).
	deep := strings.Repeat("[", 298) + strings.Repeat("]", 298)
	long := `"` + strings.Repeat("x", 4<<20) + `"`
	cases := []struct{ name, field, raw string }{
		{"wide object for an Int", "int", wide.String()},
		{"deep lists for a String", "string", deep},
		{"long string for a Boolean", "boolean", long},
		{"wide object for an enum", "color", wide.String()},
		{"long number for an Int", "int", strings.Repeat("9", 1<<20)},
		{"long number for an ID", "id", strings.Repeat("9", 1<<20) + ".5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := &cannedTransport{answers: map[string][]string{"leaves": {`{"data":{"` + c.field + `":` + c.raw + `}}`}}}
			start := time.Now()
			got := execute(t, sg, tr, `{ `+c.field+`(shape: "s") }`)
			if len(got) > 400 || !strings.Contains(got, `"data":{"`+c.field+`":null}`) || !strings.Contains(got, "INVALID_SUBGRAPH_RESPONSE") {
				t.Fatalf("answer of %d bytes: %.500s", len(got), got)
			}
			t.Logf("%d-byte answer: %s in %v", len(c.raw), got, time.Since(start))
		})
	}
}
