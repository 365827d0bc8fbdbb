package subgraphs

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/executor"
)

// blockingTransport counts calls and answers once released.
type blockingTransport struct {
	calls   atomic.Int64
	release chan struct{}
}

func (b *blockingTransport) Fetch(ctx context.Context, _ string, req *executor.Request) (*executor.Response, error) {
	b.calls.Add(1)
	select {
	case <-b.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return &executor.Response{Body: append([]byte("answer to "), req.Body...), CacheControl: "max-age=5"}, nil
}

func TestDedupeSharesIdenticalQueries(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reqs  func(i int) (context.Context, string, *executor.Request)
		calls int64
	}{
		{"identical queries", func(int) (context.Context, string, *executor.Request) {
			return context.Background(), "a", &executor.Request{Body: []byte(`{"query":"{x}"}`)}
		}, 1},
		{"header order does not matter", func(i int) (context.Context, string, *executor.Request) {
			h := http.Header{"X-A": {"1"}, "x-b": {"2"}}
			return context.Background(), "a", &executor.Request{Body: []byte(`{"query":"{x}"}`), Header: h}
		}, 1},
		{"mutations are never shared", func(int) (context.Context, string, *executor.Request) {
			return context.Background(), "a", &executor.Request{Body: []byte(`{"query":"mutation{x}"}`), Mutation: true}
		}, 10},
		{"bodies differ", func(i int) (context.Context, string, *executor.Request) {
			return context.Background(), "a", &executor.Request{Body: []byte{'{', byte('0' + i), '}'}}
		}, 10},
		{"subgraphs differ", func(i int) (context.Context, string, *executor.Request) {
			return context.Background(), string(rune('a' + i)), &executor.Request{Body: []byte(`{}`)}
		}, 10},
		{"headers differ", func(i int) (context.Context, string, *executor.Request) {
			return context.Background(), "a", &executor.Request{Body: []byte(`{}`), Header: http.Header{"Authorization": {string(rune('a' + i))}}}
		}, 10},
		{"header values never read as another header", func(i int) (context.Context, string, *executor.Request) {
			// Issue 15 item 8: X-A: x, X-B, v against X-A: x plus X-B: v.
			h := http.Header{"X-A": {"x", "X-B", "v"}}
			if i%2 == 1 {
				h = http.Header{"X-A": {"x"}, "X-B": {"v"}}
			}
			return context.Background(), "a", &executor.Request{Body: []byte(`{}`), Header: h}
		}, 2},
		{"callers differ", func(i int) (context.Context, string, *executor.Request) {
			ctx := auth.WithCaller(context.Background(), &auth.Caller{Authenticated: true, Subject: string(rune('a' + i))})
			return ctx, "a", &executor.Request{Body: []byte(`{}`)}
		}, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inner := &blockingTransport{release: make(chan struct{})}
			d := NewDedupe(inner, nil)
			const n = 10
			var wg sync.WaitGroup
			bodies := make([]string, n)
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					ctx, sg, req := tc.reqs(i)
					resp, err := d.Fetch(ctx, sg, req)
					if err != nil {
						t.Error(err)
						return
					}
					if resp.CacheControl != "max-age=5" {
						t.Errorf("Cache-Control %q", resp.CacheControl)
					}
					bodies[i] = string(resp.Body)
				}(i)
			}
			// Let every caller reach the shared call before it answers.
			for deadline := time.Now().Add(2 * time.Second); inner.calls.Load() < tc.calls && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(50 * time.Millisecond)
			close(inner.release)
			wg.Wait()
			if got := inner.calls.Load(); got != tc.calls {
				t.Fatalf("%d calls, want %d", got, tc.calls)
			}
			for i, b := range bodies {
				_, _, req := tc.reqs(i)
				if b != "answer to "+string(req.Body) {
					t.Fatalf("caller %d got %q", i, b)
				}
			}
		})
	}
}

// TestDedupeCallerLeaves: when the caller making a shared call leaves, its
// call is cancelled, it is answered at once, and the caller still waiting
// makes the call again and gets the answer.
func TestDedupeCallerLeaves(t *testing.T) {
	inner := &blockingTransport{release: make(chan struct{})}
	d := NewDedupe(inner, nil)
	req := &executor.Request{Body: []byte(`{}`)}
	first := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, err := d.Fetch(ctx, "a", req)
		first <- err
	}()
	for inner.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	second := make(chan error, 1)
	go func() {
		resp, err := d.Fetch(context.Background(), "a", req)
		if err == nil && string(resp.Body) != "answer to {}" {
			err = errors.New("wrong body " + string(resp.Body))
		}
		second <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the second caller join
	cancel()
	if err := <-first; err == nil {
		t.Fatal("the cancelled caller got an answer")
	}
	for inner.calls.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	close(inner.release)
	if err := <-second; err != nil {
		t.Fatalf("the other caller got %v: the first caller's cancellation reached it", err)
	}
	if n := inner.calls.Load(); n != 2 {
		t.Fatalf("%d calls, want 2 (the waiting caller calls again)", n)
	}
}

// TestDedupeWaiterLeaves: a caller that joined and leaves stops waiting at
// once; the call goes on and answers the caller making it.
func TestDedupeWaiterLeaves(t *testing.T) {
	inner := &blockingTransport{release: make(chan struct{})}
	d := NewDedupe(inner, nil)
	req := &executor.Request{Body: []byte(`{}`)}
	first := make(chan error, 1)
	go func() {
		_, err := d.Fetch(context.Background(), "a", req)
		first <- err
	}()
	for inner.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	second := make(chan error, 1)
	go func() {
		_, err := d.Fetch(ctx, "a", req)
		second <- err
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	var fe *executor.FetchError
	if err := <-second; !errors.As(err, &fe) {
		t.Fatalf("the waiter that left got %v", err)
	}
	close(inner.release)
	if err := <-first; err != nil {
		t.Fatalf("the caller making the call got %v", err)
	}
	if n := inner.calls.Load(); n != 1 {
		t.Fatalf("%d calls, want 1", n)
	}
}

// releasingTransport answers with a pooled body whose Release it counts.
type releasingTransport struct{ released atomic.Int64 }

func (r *releasingTransport) Fetch(context.Context, string, *executor.Request) (*executor.Response, error) {
	return &executor.Response{Body: []byte("solo"), Release: func() { r.released.Add(1) }}, nil
}

// TestDedupeUnsharedIsUntouched: a fetch nobody shares gets the
// transport's own answer, Release included, not a copy.
func TestDedupeUnsharedIsUntouched(t *testing.T) {
	inner := &releasingTransport{}
	d := NewDedupe(inner, nil)
	resp, err := d.Fetch(context.Background(), "a", &executor.Request{Body: []byte(`{}`)})
	if err != nil || resp.Release == nil {
		t.Fatalf("resp %+v, err %v: want the transport's answer with its Release", resp, err)
	}
	resp.Release()
	if inner.released.Load() != 1 || d.Shared() != 0 {
		t.Fatalf("released %d, shared %d", inner.released.Load(), d.Shared())
	}
}
