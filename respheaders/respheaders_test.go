package respheaders

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestNewRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		rule Rule
		want string
	}{
		{"cache-control keeps its aggregation", Rule{Name: "Cache-Control"}, "Cache-Control is never propagated"},
		{"hop-by-hop", Rule{Name: "transfer-encoding"}, "Transfer-Encoding is never propagated"},
		{"rename onto a body header", Rule{Name: "x-a", Rename: "content-type"}, "Content-Type is never propagated"},
		{"unknown merge", Rule{Name: "x-a", Merge: "max"}, "merge \"max\""},
		{"renamed star", Rule{Name: "*", Rename: "x"}, "cannot be renamed"},
		{"bad name", Rule{Name: "x a"}, "invalid header name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Config{Subgraphs: map[string]Rules{"s": {Propagate: []Rule{tc.rule}}}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if p, err := New(Config{}); p != nil || err != nil {
		t.Fatalf("empty config: %v %v, want nil nil", p, err)
	}
}

func TestCollectorMerge(t *testing.T) {
	p, err := New(Config{
		All: Rules{Propagate: []Rule{{Name: "x-first"}, {Name: "x-last", Merge: "last"}, {Name: "x-all", Merge: "append"},
			{Name: "set-cookie", Merge: "first"}, {Name: "x-renamed", Rename: "x-client-name"}}},
		Subgraphs: map[string]Rules{"b": {Propagate: []Rule{{Name: "x-first", Merge: "last"}, {Name: "*"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := p.NewCollector()
	c.Add("a", http.Header{"X-First": {"a"}, "X-Last": {"a"}, "X-All": {"a"}, "Set-Cookie": {"s=a"}, "X-Renamed": {"ra"}, "X-Other": {"a"}})
	c.Add("b", http.Header{"X-First": {"b"}, "X-Last": {"b"}, "X-All": {"b"}, "Set-Cookie": {"s=b"}, "X-Other": {"b"},
		"Access-Control-Allow-Origin": {"*"}, "Strict-Transport-Security": {"max-age=1"}, "Connection": {"close"}})
	c.Add("c", http.Header{"X-First": {"c"}, "X-Other": {"c"}})
	want := http.Header{
		"X-First":       {"b"}, // b's own rule is last-wins, a's and c's the first-wins of all
		"X-Last":        {"b"},
		"X-All":         {"a", "b"},
		"Set-Cookie":    {"s=a", "s=b"}, // always appended
		"X-Client-Name": {"ra"},
		"X-Other":       {"b"}, // only b propagates it ("*")
	}
	if got := c.Header(); !reflect.DeepEqual(got, want) {
		t.Fatalf("collected\n%v\nwant\n%v", got, want)
	}
}

func TestApplyKeepsGatewayHeaders(t *testing.T) {
	dst := http.Header{"Access-Control-Allow-Origin": {"https://app.example"}, "Set-Cookie": {"gw=1"}, "Ratelimit-Remaining": {"3"}}
	Apply(dst, http.Header{"Access-Control-Allow-Origin": {"*"}, "Set-Cookie": {"s=1"}, "Ratelimit-Remaining": {"99"}, "X-New": {"v"}, "Content-Length": {"1"}})
	want := http.Header{"Access-Control-Allow-Origin": {"https://app.example"}, "Set-Cookie": {"gw=1", "s=1"}, "Ratelimit-Remaining": {"3"}, "X-New": {"v"}}
	if !reflect.DeepEqual(dst, want) {
		t.Fatalf("got %v, want %v", dst, want)
	}
}
