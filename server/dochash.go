package server

import (
	"crypto/sha256"
	"sync"
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
