package subgraphs

import "time"

// windowSlots is the number of slots a rolling window is counted in.
const windowSlots = 10

// rollingPair counts two kinds of events (successes and failures,
// requests and retries) over a rolling window, in windowSlots slots: old
// slots are cleared as time moves on. It is not safe for concurrent use;
// its owner locks.
type rollingPair struct {
	window time.Duration
	slot   int64
	a, b   [windowSlots]int
}

// advance moves the window to now, clearing the slots that fell out of
// it, and returns the current slot's index.
func (w *rollingPair) advance(now time.Time) int {
	width := max(w.window/windowSlots, 1)
	slot := now.UnixNano() / int64(width)
	if gap := min(slot-w.slot, windowSlots); gap > 0 {
		for k := int64(1); k <= gap; k++ {
			i := (w.slot + k) % windowSlots
			w.a[i], w.b[i] = 0, 0
		}
		w.slot = slot
	}
	return int(w.slot % windowSlots)
}

// addA and addB count one event of each kind now.
func (w *rollingPair) addA(now time.Time) { w.a[w.advance(now)]++ }
func (w *rollingPair) addB(now time.Time) { w.b[w.advance(now)]++ }

// sums returns the events of each kind in the window as of now.
func (w *rollingPair) sums(now time.Time) (a, b int) {
	w.advance(now)
	for i := range windowSlots {
		a += w.a[i]
		b += w.b[i]
	}
	return a, b
}

// clear forgets every event.
func (w *rollingPair) clear() { w.a, w.b = [windowSlots]int{}, [windowSlots]int{} }
