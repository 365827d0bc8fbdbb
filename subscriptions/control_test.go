package subscriptions

import (
	"testing"
	"time"
)

// TestControlPace: control messages pass at once within controlBurst
// bytes; past it the reader waits until the bucket, refilled at
// controlRate, holds them; time without messages refills it up to the
// burst, never beyond.
func TestControlPace(t *testing.T) {
	clock := time.Unix(1000, 0)
	var slept time.Duration
	p := controlPace{now: func() time.Time { return clock }, sleep: func(d time.Duration) { slept += d; clock = clock.Add(d) }}
	second := func(bytes int) time.Duration { return time.Duration(bytes) * time.Second / controlRate }
	for i, step := range []struct {
		advance time.Duration
		bytes   int
		wait    time.Duration
	}{
		{0, 100, 0},                             // a small ping
		{0, controlBurst - 100, 0},              // the rest of the burst
		{0, 32 << 10, second(32 << 10)},         // past it: waits for its bytes
		{0, 900 << 10, second(900 << 10)},       // a big one waits for all of its own
		{time.Hour, controlBurst, 0},            // an hour refills the burst...
		{0, 1, second(1)},                       // ...and no more
		{10 * time.Second, 1, 0},                // a ping every ten seconds never waits
		{10 * time.Second, maxEchoedPayload, 0}, // nor with a payload echoed
	} {
		clock = clock.Add(step.advance)
		slept = 0
		p.wait(step.bytes)
		if d := slept - step.wait; d > time.Millisecond || d < -time.Millisecond {
			t.Errorf("step %d (%d bytes after %v): waited %v, want %v", i, step.bytes, step.advance, slept, step.wait)
		}
	}
}

// TestPongPayload: a ping's payload is echoed up to maxEchoedPayload
// bytes, a larger one is not.
func TestPongPayload(t *testing.T) {
	for _, tc := range []struct {
		n    int
		echo bool
	}{{0, true}, {maxEchoedPayload, true}, {maxEchoedPayload + 1, false}, {900 << 10, false}} {
		p := make([]byte, tc.n)
		if got := pongPayload(p); (len(got) == tc.n) != tc.echo && tc.n > 0 {
			t.Errorf("a payload of %d bytes: echoed %d", tc.n, len(got))
		}
	}
}
