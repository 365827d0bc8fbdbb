package subscriptions

import (
	"encoding/json"
	"math"
	"net/http"
	"sort"
	"sync/atomic"
	"time"
)

// Timings are where an event's time goes inside the gateway, measured
// from its arrival from the subgraph (the upstream client handing it to
// its group):
//
//   - Complete: until its completion (the rest of the plan) is done;
//   - Delivery: until the write carrying it to one client returned,
//     once per client message;
//   - FanOut: until the last of those writes returned, once per event.
//
// They are histograms over fixed buckets (TimingBounds), cumulative since
// the engine started; two reads subtracted give an interval's.
type Timings struct {
	Complete, Delivery, FanOut histogram
}

// timingBuckets is the number of histogram buckets: bucket i counts
// durations up to TimingBounds[i], the last one everything longer.
const timingBuckets = 90

// TimingBounds are the upper bounds of the histogram buckets: 20 µs
// growing by a fifth per bucket (about 3 min at the last finite bound).
var TimingBounds = func() [timingBuckets]time.Duration {
	var b [timingBuckets]time.Duration
	for i := range b {
		b[i] = time.Duration(20e3 * math.Pow(1.2, float64(i)))
	}
	b[timingBuckets-1] = math.MaxInt64
	return b
}()

type histogram struct{ counts [timingBuckets]atomic.Int64 }

// observe counts d.
func (h *histogram) observe(d time.Duration) {
	i := sort.Search(timingBuckets-1, func(i int) bool { return TimingBounds[i] >= d })
	h.counts[i].Add(1)
}

func (h *histogram) snapshot() []int64 {
	out := make([]int64, timingBuckets)
	for i := range out {
		out[i] = h.counts[i].Load()
	}
	return out
}

// TimingsSnapshot is Timings read at one moment, as TimingsHandler
// serves it: counts per bucket, bounds in microseconds (the last bucket
// is unbounded, shown as -1).
type TimingsSnapshot struct {
	BoundsMicros []int64 `json:"bounds_us"`
	Complete     []int64 `json:"complete"`
	Delivery     []int64 `json:"delivery"`
	FanOut       []int64 `json:"fanout"`
}

// Snapshot reads the timings.
func (t *Timings) Snapshot() TimingsSnapshot {
	s := TimingsSnapshot{Complete: t.Complete.snapshot(), Delivery: t.Delivery.snapshot(), FanOut: t.FanOut.snapshot()}
	for _, b := range TimingBounds {
		us := b.Microseconds()
		if b == math.MaxInt64 {
			us = -1
		}
		s.BoundsMicros = append(s.BoundsMicros, us)
	}
	return s
}

// TimingsHandler serves the engine's Timings as JSON (a debug endpoint:
// the load harness reads it before and after a run).
func (e *Engine) TimingsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(e.Timings.Snapshot())
	})
}

// fanTrace follows one event's fan-out: when it arrived and how many of
// its client messages are not written yet.
type fanTrace struct {
	t       *Timings
	arrived time.Time
	left    atomic.Int64
}

// written counts n client messages of the event as written (or dropped)
// now.
func (f *fanTrace) written(n int, ok bool) {
	if f == nil || n == 0 {
		return
	}
	d := time.Since(f.arrived)
	if ok {
		for range n {
			f.t.Delivery.observe(d)
		}
	}
	if f.left.Add(int64(-n)) == 0 {
		f.t.FanOut.observe(d)
	}
}
