package registry

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/redistest"
)

func TestRedisStore(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rs := redistest.Start(t)
	a := NewRedis(rs.Client(), "t:", 50*time.Millisecond)
	if v, err := a.Current(ctx); err != nil || v != nil {
		t.Fatalf("empty: %v %v", v, err)
	}
	seen := make(chan int64, 100)
	go a.Watch(ctx, func(n int64) { seen <- n })
	time.Sleep(50 * time.Millisecond) // subscribed
	if err := a.Commit(ctx, 0, version(1)); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(ctx, 0, version(1)); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale commit: %v", err)
	}
	waitSeen(t, seen, 1)

	// A version set without a pub/sub message (a missed message) is
	// found by the poll.
	data, _ := json.Marshal(version(2))
	c := rs.Client()
	c.Set(ctx, "t:version:2", data, 0)
	c.Set(ctx, "t:current", "2", 0)
	waitSeen(t, seen, 2)
	hist, err := a.History(ctx)
	if err != nil || len(hist) != 2 || hist[1].Number != 2 {
		t.Fatalf("history: %v %v", hist, err)
	}
}

func waitSeen(t *testing.T, seen chan int64, want int64) {
	t.Helper()
	deadline := time.After(2 * time.Second)
	for {
		select {
		case n := <-seen:
			if n == want {
				return
			}
		case <-deadline:
			t.Fatalf("watch did not report version %d", want)
		}
	}
}
