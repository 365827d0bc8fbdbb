package executor

import (
	"bytes"
	"testing"
)

// TestEntityBatchPoolBound: a batch whose representations grew large
// (a few objects with long keys) is not kept for the next fetch, as a
// batch of many objects is not: the pool holds little memory either way.
func TestEntityBatchPoolBound(t *testing.T) {
	for _, size := range []int{maxPooledReps + 1, 4 << 20} {
		b := newEntityBatch()
		b.reps = append(bytes.Repeat([]byte("x"), size)[:size:size], b.reps[:0]...)
		b.release()
		// Put then Get on one goroutine hands back the same batch when
		// the pool kept it.
		again := newEntityBatch()
		if cap(again.reps) > maxPooledReps {
			t.Errorf("a batch with %d bytes of representations was kept", cap(again.reps))
		}
		again.release()
	}
}
