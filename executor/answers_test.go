package executor_test

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/subgraphs/demo"
)

// releasingTransport hands over each answer's body with a Release that
// counts its calls and then overwrites the body, as a pooled buffer taken
// by the next fetch would be: a value read after Release would show it.
type releasingTransport struct {
	next     executor.Transport
	mu       sync.Mutex
	answers  int
	releases map[int]int // answer number -> Release calls
}

func (t *releasingTransport) Fetch(ctx context.Context, subgraph string, req *executor.Request) (*executor.Response, error) {
	resp, err := t.next.Fetch(ctx, subgraph, req)
	if err != nil {
		return nil, err
	}
	body := append([]byte(nil), resp.Body...)
	t.mu.Lock()
	n := t.answers
	t.answers++
	t.mu.Unlock()
	return &executor.Response{Body: body, Release: func() {
		t.mu.Lock()
		t.releases[n]++
		t.mu.Unlock()
		for i := range body {
			body[i] = '#'
		}
	}}, nil
}

// TestAnswersReleasedAfterRendering: answers handed over with a Release
// are parsed in their own buffers and released once each, after the
// response is written: the response is the one a transport without
// Release (whose answers are copied) gets, though each buffer is
// overwritten when released.
func TestAnswersReleasedAfterRendering(t *testing.T) {
	sg := demoGraph(t)
	const query = `{ topProducts { name price reviews { body author { name username } } } me { name } }`
	want := execute(t, sg, &handlerTransport{handlers: demo.Handlers()}, query)
	tr := &releasingTransport{next: &handlerTransport{handlers: demo.Handlers()}, releases: map[int]int{}}
	got := execute(t, sg, tr, query)
	if got != want {
		t.Fatalf("with answers released:\n%s\nwant\n%s", got, want)
	}
	if tr.answers < 3 {
		t.Fatalf("%d answers, want the plan's fetches (at least 3)", tr.answers)
	}
	for i := range tr.answers {
		if tr.releases[i] != 1 {
			t.Errorf("answer %d released %d times, want once", i, tr.releases[i])
		}
	}
}

// TestSharedAnswersUnchanged: an answer without Release may be shared
// (dedupe hands one body to several fetches): its escapes are decoded in
// a copy, never in the body itself.
func TestSharedAnswersUnchanged(t *testing.T) {
	sg := demoGraph(t)
	answer := `{"data":{"topProducts":[{"name":"T\u00e9\"ble\\\n","price":1}]}}`
	p := planQuery(t, sg, `{ topProducts { name price } }`)
	body := []byte(answer)
	shared := &sharedTransport{body: body}
	out := executor.Execute(context.Background(), p, executor.Input{}, shared, nil)
	if want := `{"data":{"topProducts":[{"name":"Té\"ble\\\n","price":1}]}}`; string(out) != want {
		t.Fatalf("response %s, want %s", out, want)
	}
	if !bytes.Equal(body, []byte(answer)) {
		t.Fatalf("the shared body became %q", body)
	}
}

// sharedTransport answers every fetch with one body, without Release.
type sharedTransport struct{ body []byte }

func (t *sharedTransport) Fetch(context.Context, string, *executor.Request) (*executor.Response, error) {
	return &executor.Response{Body: t.body}, nil
}

// TestMalformedAnswerReleased: an answer that is not JSON, parsed in its
// own buffer, is reported as malformed and still released once.
func TestMalformedAnswerReleased(t *testing.T) {
	sg := demoGraph(t)
	bad := &cannedTransport{answers: map[string][]string{"products": {`{"data":{"topProducts":[{"name":"a\u12G4"`}}}
	tr := &releasingTransport{next: bad, releases: map[int]int{}}
	out := execute(t, sg, tr, `{ topProducts { name } }`)
	if !bytes.Contains([]byte(out), []byte("SUBREQUEST_MALFORMED_RESPONSE")) {
		t.Fatalf("response %s, want a malformed-response error", out)
	}
	if tr.answers != 1 || tr.releases[0] != 1 {
		t.Fatalf("%d answers, released %v; want one, released once", tr.answers, tr.releases)
	}
}
