// Package flight shares one computation between concurrent callers with the
// same key (inbound request dedupe, response cache misses).
//
// Unlike singleflight, the computation belongs to its callers: it runs
// under a context that keeps the first caller's values and deadline (so
// an abandoned computation cannot outlive the request that started it)
// and that is cancelled as soon as every caller waiting for it has left.
package flight

import (
	"context"
	"fmt"
	"sync"
)

// Group runs computations by key. The zero value is ready to use.
type Group[T any] struct {
	mu    sync.Mutex
	calls map[string]*call[T]
}

type call[T any] struct {
	done    chan struct{}
	waiters int
	// joined is set when a second caller joined: the value is shared.
	joined bool
	cancel context.CancelFunc
	val    T
	err    error
}

// Do returns the result of fn for key: a call in flight for key is joined,
// else fn starts in its own goroutine. shared reports that the result was
// computed for another caller too (the value must then be treated as read
// only). When ctx ends first, Do returns ctx.Err() and, if no other caller
// waits, cancels the computation. A panic in fn is an error for every
// caller.
func (g *Group[T]) Do(ctx context.Context, key string, fn func(ctx context.Context) (T, error)) (val T, shared bool, err error) {
	g.mu.Lock()
	if g.calls == nil {
		g.calls = map[string]*call[T]{}
	}
	c, joined := g.calls[key]
	if joined {
		c.waiters++
		c.joined = true
		g.mu.Unlock()
	} else {
		cctx := context.WithoutCancel(ctx)
		var cancel context.CancelFunc
		if d, ok := ctx.Deadline(); ok {
			cctx, cancel = context.WithDeadline(cctx, d)
		} else {
			cctx, cancel = context.WithCancel(cctx)
		}
		c = &call[T]{done: make(chan struct{}), waiters: 1, cancel: cancel}
		g.calls[key] = c
		g.mu.Unlock()
		go g.run(cctx, key, c, fn)
	}
	select {
	case <-c.done:
		g.mu.Lock()
		c.waiters--
		shared = c.joined
		g.mu.Unlock()
		return c.val, shared, c.err
	case <-ctx.Done():
		g.mu.Lock()
		c.waiters--
		if c.waiters == 0 {
			c.cancel()
			if g.calls[key] == c {
				delete(g.calls, key)
			}
		}
		g.mu.Unlock()
		var zero T
		return zero, false, ctx.Err()
	}
}

func (g *Group[T]) run(ctx context.Context, key string, c *call[T], fn func(context.Context) (T, error)) {
	defer func() {
		if p := recover(); p != nil {
			c.err = fmt.Errorf("shared computation: panic: %v", p)
		}
		g.mu.Lock()
		if g.calls[key] == c {
			delete(g.calls, key)
		}
		g.mu.Unlock()
		c.cancel()
		close(c.done)
	}()
	c.val, c.err = fn(ctx)
}

// InFlight returns the number of computations running.
func (g *Group[T]) InFlight() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.calls)
}
