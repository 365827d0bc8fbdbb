package server

import (
	"crypto/sha256"
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// hashBufs holds the buffers documentHash copies documents into.
var hashBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledHashBuf is the largest buffer hashBufs keeps.
const maxPooledHashBuf = 64 << 10

// documentHash is the SHA-256 of a document's text, the key of the
// document and plan caches. sha256.Sum256 takes bytes, and converting the
// string put a copy of every request's document on the heap; the copy
// goes to a pooled buffer instead.
func documentHash(query string) [32]byte {
	bp := hashBufs.Get().(*[]byte)
	b := append((*bp)[:0], query...)
	sum := sha256.Sum256(b)
	if cap(b) <= maxPooledHashBuf {
		*bp = b
		hashBufs.Put(bp)
	}
	return sum
}

// hashMemo remembers the SHA-256 of the documents hashed last, so that a
// document sent again and again (the usual client) is compared with the
// one remembered in its slot (a few hundred instructions for the
// harness's 749 bytes) instead of hashed (about 24,000). An entry is used
// only for a document equal to the one it was made from, so what it
// returns is always that document's hash; a caller sending other
// documents only takes slots over. Safe for concurrent use.
type hashMemo struct {
	seed  maphash.Seed
	slots [hashMemoSlots]atomic.Pointer[hashEntry]
}

type hashEntry struct {
	query string
	sum   [32]byte
}

const (
	hashMemoSlots = 64
	// maxMemoDocument bounds the documents remembered: the memo holds
	// at most hashMemoSlots of them.
	maxMemoDocument = 8 << 10
)

func newHashMemo() *hashMemo { return &hashMemo{seed: maphash.MakeSeed()} }

// hash returns documentHash(query); a nil memo remembers nothing.
func (m *hashMemo) hash(query string) [32]byte {
	if m == nil || len(query) > maxMemoDocument {
		return documentHash(query)
	}
	slot := &m.slots[maphash.String(m.seed, query)%hashMemoSlots]
	if e := slot.Load(); e != nil && e.query == query {
		return e.sum
	}
	sum := documentHash(query)
	slot.Store(&hashEntry{query: query, sum: sum})
	return sum
}
