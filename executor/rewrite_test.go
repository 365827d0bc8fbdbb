package executor

import (
	"github.com/fedgate/gateway/internal/jsonvalue"
	"testing"

	"github.com/fedgate/gateway/planner"
)

func TestApplyRewrites(t *testing.T) {
	cases := []struct {
		name, in, want string
		rewrites       []*planner.OutputRewrite
	}{
		{"top level", `{"_fed_t0_a":1,"b":2}`, `{"b":2,"a":1}`,
			[]*planner.OutputRewrite{{From: "_fed_t0_a", To: "a"}}},
		{"lists at every level", `{"x":[{"y":[{"_fed_t0_id":"1"},{"id":"2"}]},{"y":null}]}`, `{"x":[{"y":[{"id":"1"},{"id":"2"}]},{"y":null}]}`,
			[]*planner.OutputRewrite{{Path: []string{"x", "y"}, From: "_fed_t0_id", To: "id"}}},
		{"absent key untouched", `{"x":{"a":1}}`, `{"x":{"a":1}}`,
			[]*planner.OutputRewrite{{Path: []string{"x"}, From: "_fed_t0_b", To: "b"}}},
		{"two rewrites", `[{"_fed_t0_a":1,"_fed_t1_a":2}]`, `[{"a":2}]`,
			[]*planner.OutputRewrite{{From: "_fed_t0_a", To: "a"}, {From: "_fed_t1_a", To: "a"}}},
	}
	for _, c := range cases {
		v, err := new(jsonvalue.Parser).Parse([]byte(c.in))
		if err != nil {
			t.Fatal(err)
		}
		applyRewrites(v, c.rewrites)
		if got := v.String(); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
}
