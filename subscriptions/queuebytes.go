package subscriptions

import "sync/atomic"

// DefaultBurstBytes is the default of Options.BurstBytes.
const DefaultBurstBytes = 32 << 20

// queueBytes is the byte count of one connection's queue (the messages
// waiting for it and those being written): up to Options.BufferBytes its
// own, beyond that borrowed from the engine's burst allowance
// (Options.BurstBytes), shared by every connection. A client that reads
// steadily but slower than a burst of large events arrives (five 256 KiB
// events at once on a slow link) keeps its stream while the allowance
// lasts, and is let go when a write of what it has queued does not finish
// within WriteTimeout, as a client that does not read at all is; before,
// it was let go as soon as the burst passed BufferBytes. The memory held
// stays bounded: BufferBytes per connection plus BurstBytes in all. Its
// owner keeps it under the owner's lock.
type queueBytes struct {
	held     int64
	borrowed int64
}

// add counts a message of n bytes when it fits: always when nothing is
// held (one message larger than the bound still goes out), within
// BufferBytes, or beyond it with the part past the bound borrowed from
// the burst allowance. false, and nothing counted, when it does not fit.
// force counts it in any case (a close), borrowing nothing.
func (q *queueBytes) add(o *Options, n int64, force bool) bool {
	if force || q.held == 0 || q.held+n <= o.BufferBytes {
		q.held += n
		return true
	}
	extra := q.held + n - o.BufferBytes - q.borrowed
	if extra > 0 && !o.borrow(extra) {
		return false
	}
	q.held += n
	q.borrowed += max(extra, 0)
	return true
}

// sub uncounts n bytes, written or dropped, giving back what the queue
// no longer needs of what it borrowed.
func (q *queueBytes) sub(o *Options, n int64) {
	q.set(o, max(q.held-n, 0))
}

// set makes held bytes the count (0: the queue is empty or dropped).
func (q *queueBytes) set(o *Options, held int64) {
	q.held = held
	if keep := min(q.borrowed, max(held-o.BufferBytes, 0)); keep < q.borrowed {
		o.burst.Add(keep - q.borrowed)
		q.borrowed = keep
	}
}

// borrow takes n bytes of the burst allowance; false when it has not
// that many left.
func (o *Options) borrow(n int64) bool {
	if o.burst == nil {
		return false
	}
	for {
		used := o.burst.Load()
		if used+n > o.BurstBytes {
			return false
		}
		if o.burst.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// burstPool is the engine's count of the bytes borrowed beyond
// BufferBytes (queueBytes), shared by the Options copies of one engine.
type burstPool = atomic.Int64
