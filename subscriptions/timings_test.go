package subscriptions

import (
	"testing"
	"time"
)

// TestHistogramBuckets checks that a duration lands in the first bucket
// whose bound is at or above it.
func TestHistogramBuckets(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{
		{0, 0},
		{20 * time.Microsecond, 0},
		{21 * time.Microsecond, 1},
		{24 * time.Microsecond, 1},
		{25 * time.Microsecond, 2},
		{time.Second, 60},
		{time.Hour, timingBuckets - 1},
	} {
		var h histogram
		h.observe(tc.d)
		for i := range h.counts {
			if got := h.counts[i].Load(); (i == tc.want) != (got == 1) {
				t.Errorf("%v: bucket %d (≤ %v) has %d", tc.d, i, TimingBounds[i], got)
			}
		}
	}
}

// TestFanTraceLastWrite checks that a fan-out is timed once, at its last
// message, and that dropped messages count toward it but not as
// deliveries.
func TestFanTraceLastWrite(t *testing.T) {
	var tm Timings
	f := &fanTrace{t: &tm, arrived: time.Now()}
	f.left.Store(3)
	f.written(1, true)
	f.written(1, false)
	if n := sum(tm.FanOut.snapshot()); n != 0 {
		t.Fatalf("fan-out timed before its last message: %d", n)
	}
	f.written(1, true)
	if n := sum(tm.FanOut.snapshot()); n != 1 {
		t.Fatalf("fan-out timed %d times, want 1", n)
	}
	if n := sum(tm.Delivery.snapshot()); n != 2 {
		t.Fatalf("%d deliveries, want 2", n)
	}
}

func sum(c []int64) (n int64) {
	for _, v := range c {
		n += v
	}
	return n
}
