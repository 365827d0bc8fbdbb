package coprocessor

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway/pkg/hooks"
)

func TestExchangeOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answer  string
		outcome string
		brk     *hooks.Break
		header  string // X-Set after the exchange
	}{
		{"continue unchanged", `{"version":1,"stage":"RouterRequest","control":"continue","id":"r1"}`, "continue", nil, "old"},
		{"continue, headers replaced", `{"version":1,"control":"continue","headers":{"x-set":["new"]}}`, "continue", nil, "new"},
		{"break with an object body", `{"version":1,"control":{"break":401},"body":{"errors":[{"message":"no","extensions":{"code":"ERR_X"}}]}}`, "break",
			&hooks.Break{Status: 401, Code: "ERR_X", Message: "no"}, "old"},
		{"break with a string body", `{"version":1,"control":{"break":403},"body":"{\"errors\":[{\"message\":\"denied\"}]}"}`, "break",
			&hooks.Break{Status: 403, Code: "COPROCESSOR_BREAK", Message: "denied"}, "old"},
		{"break without a body", `{"version":1,"control":{"break":429}}`, "break",
			&hooks.Break{Status: 429, Code: "COPROCESSOR_BREAK", Message: "Too Many Requests"}, "old"},
		{"unknown control", `{"version":1,"control":"stop"}`, "failed", nil, "old"},
		{"no version", `{"control":"continue"}`, "failed", nil, "old"},
		{"another id", `{"version":1,"control":"continue","id":"r2"}`, "failed", nil, "old"},
		{"not JSON", `<html>`, "failed", nil, "old"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(tc.answer)) }))
			defer srv.Close()
			var mu sync.Mutex
			var outcomes []string
			c, err := New(Config{URL: srv.URL, Router: Stages{Request: &Selection{Headers: true}}},
				Options{Observe: func(_ context.Context, stage, outcome string, _ time.Duration) {
					mu.Lock()
					outcomes = append(outcomes, stage+" "+outcome)
					mu.Unlock()
				}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			call := &hooks.Call{Stage: hooks.RouterRequest, ID: "r1", Header: http.Header{"X-Set": {"old"}}, Context: map[string]any{}}
			err = c.Hooks().RouterRequest(context.Background(), call)
			var b *hooks.Break
			switch {
			case tc.outcome == "continue" && err != nil, tc.outcome == "failed" && (err == nil || errors.As(err, &b)):
				t.Fatalf("err = %v, want outcome %s", err, tc.outcome)
			case tc.brk != nil && (!errors.As(err, &b) || *b != *tc.brk):
				t.Fatalf("err = %#v, want %#v", err, tc.brk)
			}
			if got := call.Header.Get("X-Set"); got != tc.header {
				t.Fatalf("X-Set = %q, want %q", got, tc.header)
			}
			if len(outcomes) != 1 || outcomes[0] != "RouterRequest "+tc.outcome {
				t.Fatalf("observed %v", outcomes)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []Config{
		{URL: "ftp://x"},
		{URL: "http://x", Timeout: -1},
		{URL: "http://x", Execution: Stages{Response: &Selection{Timeout: -1}}},
		{URL: "http://x", Subgraph: SubgraphStages{Subgraphs: map[string]Stages{"a": {Request: &Selection{Timeout: -1}}}}},
		{URL: "http://x", Subgraph: SubgraphStages{Subgraphs: map[string]Stages{"": {}}}},
	} {
		if c.Validate() == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if (Config{}).Validate() != nil || (Config{URL: "http://127.0.0.1:1"}).Validate() != nil {
		t.Error("a valid config refused")
	}
}
