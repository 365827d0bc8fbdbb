package registry

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
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
	c.Set(ctx, "{t}:version:2", data, 0)
	c.Set(ctx, "{t}:current", "2", 0)
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

// Versions stored by an earlier release under keys without a hash tag
// are copied to the new keys on first use, and commits go on from there.
func TestRedisStoreMigratesLegacyKeys(t *testing.T) {
	ctx := context.Background()
	rs := redistest.Start(t)
	c := rs.Client()
	for n := int64(1); n <= 2; n++ {
		data, _ := json.Marshal(version(n))
		c.Set(ctx, "fedgate:registry:version:"+strconv.FormatInt(n, 10), data, 0)
	}
	c.Set(ctx, "fedgate:registry:current", "2", 0)
	a := NewRedis(c, "fedgate:registry:", time.Second)
	v, err := a.Current(ctx)
	if err != nil || v == nil || v.Number != 2 {
		t.Fatalf("current after migration: %+v %v", v, err)
	}
	if err := a.Commit(ctx, 2, version(3)); err != nil {
		t.Fatalf("commit after migration: %v", err)
	}
	hist, err := a.History(ctx)
	if err != nil || len(hist) != 3 {
		t.Fatalf("history: %d versions, %v", len(hist), err)
	}
	if got, _ := c.Get(ctx, "{fedgate:registry}:current").Result(); got != "3" {
		t.Fatalf("current under the new key: %q", got)
	}
	// A second store (another instance) finds the migrated keys and does
	// not copy again over newer data.
	b := NewRedis(c, "fedgate:registry:", time.Second)
	if v, err := b.Current(ctx); err != nil || v.Number != 3 {
		t.Fatalf("second instance: %+v %v", v, err)
	}
}
