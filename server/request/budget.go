package request

import "sync/atomic"

// Budget is a count of bytes shared by the request bodies being read at
// once (Options.Budget). A nil *Budget is unlimited.
type Budget struct {
	size int64
	left atomic.Int64
}

// NewBudget returns a budget of n bytes; n <= 0 returns nil, no budget.
func NewBudget(n int64) *Budget {
	if n <= 0 {
		return nil
	}
	b := &Budget{size: n}
	b.left.Store(n)
	return b
}

// Left returns the bytes not taken.
func (b *Budget) Left() int64 {
	if b == nil {
		return -1
	}
	return b.left.Load()
}

// InUse returns the bytes taken: 0 for a nil (unlimited) budget, which
// counts nothing.
func (b *Budget) InUse() int64 {
	if b == nil {
		return 0
	}
	return b.size - b.left.Load()
}

// Take takes n bytes if they are left, without waiting; Give them back.
// Decode takes a body's bytes as they arrive; memory held outside it (a
// WebSocket message in progress) may take from the same budget.
func (b *Budget) Take(n int64) bool {
	if b == nil {
		return true
	}
	if b.left.Add(-n) < 0 {
		b.left.Add(n)
		return false
	}
	return true
}

// Give gives back n bytes taken with Take.
func (b *Budget) Give(n int64) {
	if b != nil && n > 0 {
		b.left.Add(n)
	}
}
