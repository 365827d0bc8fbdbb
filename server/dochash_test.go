package server

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestHashMemo: the memo answers every document's own SHA-256, for
// documents sent again, documents that share a slot (more documents than
// slots, in turns), documents that differ in one byte, documents too
// large to remember, and from goroutines at once (run with -race).
func TestHashMemo(t *testing.T) {
	m := newHashMemo()
	docs := []string{"", "{a}", "{a} ", "{b}", strings.Repeat("x", maxMemoDocument), strings.Repeat("x", maxMemoDocument+1)}
	for i := range 3 * hashMemoSlots {
		docs = append(docs, fmt.Sprintf("query Q%d { a }", i))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 3 {
				for i := range docs {
					q := docs[(i+g*7+round)%len(docs)]
					if got, want := m.hash(q), sha256.Sum256([]byte(q)); got != want {
						t.Errorf("hash of %.20q = %x, want %x", q, got, want)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	var none *hashMemo
	if got, want := none.hash("{a}"), sha256.Sum256([]byte("{a}")); got != want {
		t.Errorf("nil memo: %x, want %x", got, want)
	}
}
