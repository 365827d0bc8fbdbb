package server

import (
	"crypto/sha256"
	"strings"
	"testing"
)

// TestDocumentHash: documentHash is SHA-256 of the text, whatever
// documents of other sizes the pooled buffers held before (a larger one
// left behind must not leak into the next hash), beyond the pooled size
// too.
func TestDocumentHash(t *testing.T) {
	for _, q := range []string{
		"", "{a}", strings.Repeat("query Q { a b c }\n", 200), "{b}",
		strings.Repeat("x", maxPooledHashBuf+1), "{c}",
	} {
		if got, want := documentHash(q), sha256.Sum256([]byte(q)); got != want {
			t.Fatalf("documentHash of %d bytes = %x, want %x", len(q), got, want)
		}
	}
}
