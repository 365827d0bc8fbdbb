package cache

import (
	"strconv"
	"testing"
	"time"
)

// TestInvalidationMarksPrune: the in-process invalidation marks older
// than any entity's lifetime are dropped, and marks younger than it cost
// a pass over all of them only when their count has doubled (before:
// every mark past 10,000 did, 100,000 fresh marks took minutes).
func TestInvalidationMarksPrune(t *testing.T) {
	for _, tc := range []struct {
		name      string
		old, new  int
		wantMarks int
		maxPasses int
	}{
		// 10,000 old marks: the pass at the next one drops them all.
		{"old marks dropped", 10000, 1, 1, 1},
		// Fresh marks stay; passes at 10,001, 20,002, 40,004, 80,008.
		{"fresh marks kept, passes doubling", 0, 100000, 100000, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewEntityCache(EntityConfig{TTL: time.Minute}, nil, &Stats{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			now := time.Now()
			for i := range tc.old {
				c.markInvalid("sg|T|old"+strconv.Itoa(i), now.Add(-2*time.Minute))
			}
			for i := range tc.new {
				c.markInvalid("sg|T|"+strconv.Itoa(i), now)
			}
			if len(c.invalidated) != tc.wantMarks || c.prunes > tc.maxPasses {
				t.Errorf("%d marks after %d passes, want %d after at most %d", len(c.invalidated), c.prunes, tc.wantMarks, tc.maxPasses)
			}
		})
	}
}

// TestInvalidationMarksPruneAfterABurst: marks left from a burst go at
// the first mark after the longest TTL, though far fewer new marks come
// than would double their count.
func TestInvalidationMarksPruneAfterABurst(t *testing.T) {
	c, err := NewEntityCache(EntityConfig{TTL: time.Minute}, nil, &Stats{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	now := time.Now()
	for i := range 50000 {
		c.markInvalid("sg|T|"+strconv.Itoa(i), now)
	}
	later := now.Add(2 * time.Minute)
	c.markInvalid("sg|T|later", later)
	if len(c.invalidated) != 1 {
		t.Errorf("%d marks a TTL after the burst, want 1", len(c.invalidated))
	}
}
