package jsonvalue

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// appendStringBytewise is AppendString without the word-at-a-time scan
// (escaping byte by byte from the start): the reference its output must
// equal, and the baseline of BenchmarkAppendString.
func appendStringBytewise(buf []byte, s []byte) []byte {
	return appendEscaped(append(buf, '"'), s, 0)
}

// Every byte that needs escaping, at every position of strings up to 40
// bytes (each offset of the 8-byte words), among bytes that need none,
// including the bytes next to them and UTF-8.
func TestAppendStringEveryPosition(t *testing.T) {
	special := []byte{'"', '\\', 0, 0x1f, '\n', '\t', 0x7f, 0x80, 0xff, '!', '#', '[', ']', 0x20}
	for n := 0; n <= 40; n++ {
		for pos := 0; pos < n; pos++ {
			for _, c := range special {
				s := []byte(strings.Repeat("aé", n)[:n])
				s[pos] = c
				got, want := AppendString(nil, s), appendStringBytewise(nil, s)
				if !bytes.Equal(got, want) {
					t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
				}
			}
		}
	}
}

func TestAppendStringRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		s := make([]byte, r.IntN(70))
		for i := range s {
			if r.IntN(10) == 0 {
				s[i] = byte(r.IntN(256))
			} else {
				s[i] = byte('a' + r.IntN(26))
			}
		}
		if got, want := AppendString(nil, s), appendStringBytewise(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
		}
	}
}

// BenchmarkAppendString escapes strings as subgraph answers hold them:
// mostly short names and ids, some longer text, rarely a quote.
func BenchmarkAppendString(b *testing.B) {
	inputs := [][]byte{
		[]byte("1"), []byte("Product"), []byte("user-1234"), []byte("Table"),
		[]byte("A solid wooden table for four people, with a drawer"),
		[]byte("Love it! Would buy \"again\"\n"),
		[]byte("2026-12-06T08:00:00Z"),
	}
	b.Run("words", func(b *testing.B) {
		buf := make([]byte, 0, 1024)
		for b.Loop() {
			buf = buf[:0]
			for _, s := range inputs {
				buf = AppendString(buf, s)
			}
		}
	})
	b.Run("bytewise", func(b *testing.B) {
		buf := make([]byte, 0, 1024)
		for b.Loop() {
			buf = buf[:0]
			for _, s := range inputs {
				buf = appendStringBytewise(buf, s)
			}
		}
	})
}
