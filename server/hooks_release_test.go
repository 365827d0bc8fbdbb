package server

import (
	"bytes"
	"context"
	"testing"

	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/pkg/hooks"
)

// pooledTransport answers every fetch with body in a buffer of spare
// capacity, as the subgraph client's pooled answer buffers are, and
// counts the releases.
type pooledTransport struct {
	body     string
	released int
}

func (p *pooledTransport) Fetch(context.Context, string, *executor.Request) (*executor.Response, error) {
	buf := make([]byte, 0, len(p.body)+64)
	buf = append(buf, p.body...)
	return &executor.Response{Body: buf, Release: func() { p.released++ }}, nil
}

// TestHookTransportKeepsAliasedAnswer: a SubgraphResponse hook that
// assigns a slice of the subgraph's answer (trimmed, or appended to in
// the buffer's spare capacity) does not get the answer's pooled buffer
// released while the response still reads it: released, the buffer goes
// to another fetch, which writes its own answer over this one's. The
// buffer is released once, by the response's Release. A body of its own
// releases the answer at once.
func TestHookTransportKeepsAliasedAnswer(t *testing.T) {
	const answer = `{"data":{"a":1}}` + "\n"
	tests := []struct {
		name    string
		rewrite func([]byte) []byte
		want    string
		aliased bool
	}{
		{name: "trimmed", rewrite: bytes.TrimSpace, want: `{"data":{"a":1}}`, aliased: true},
		{name: "tail cut", rewrite: func(b []byte) []byte { return b[:len(b)-1] }, want: `{"data":{"a":1}}`, aliased: true},
		{name: "appended in place", rewrite: func(b []byte) []byte { return append(b, ' ') }, want: answer + " ", aliased: true},
		{name: "head cut", rewrite: func(b []byte) []byte { return b[1:] }, want: answer[1:], aliased: true},
		{name: "own copy", rewrite: func(b []byte) []byte { return append([]byte(nil), bytes.TrimSpace(b)...) }, want: `{"data":{"a":1}}`},
		{name: "unchanged", rewrite: func(b []byte) []byte { return b }, want: answer, aliased: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := &pooledTransport{body: answer}
			h := hooks.Hooks{
				Bodies: []hooks.Stage{hooks.SubgraphResponse},
				SubgraphResponse: func(_ context.Context, c *hooks.Call) error {
					c.Body = tt.rewrite(c.Body)
					return nil
				},
			}
			x := &extensions{hooks: []hooks.Hooks{h}, bodies: map[hooks.Stage]bool{hooks.SubgraphResponse: true}}
			tr := hookTransport{x: x, next: next, resp: true}
			resp, err := tr.Fetch(context.Background(), "a", &executor.Request{Body: []byte(`{}`)})
			if err != nil {
				t.Fatal(err)
			}
			if string(resp.Body) != tt.want {
				t.Fatalf("body %q, want %q", resp.Body, tt.want)
			}
			if tt.aliased {
				if next.released != 0 {
					t.Fatalf("the answer's buffer was released %d times while the response reads it", next.released)
				}
				if resp.Release == nil {
					t.Fatal("the response has no Release: the buffer is never given back")
				}
			}
			if resp.Release != nil {
				resp.Release()
			}
			if next.released != 1 {
				t.Errorf("released %d times, want once", next.released)
			}
		})
	}
}
