package request

import (
	"encoding/binary"
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// plainByte is plainASCII's test for one byte.
func plainByte(c byte) bool { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' }

// TestPlainASCII compares the word tests (plainASCII, and plainRun's
// count of leading plain bytes) with the byte test: every byte
// value at every position of a word of plain bytes, every pair of bytes
// that are not plain (a borrow from a lower byte must not hide or fake
// one), and random words.
func TestPlainASCII(t *testing.T) {
	check := func(w [8]byte) {
		t.Helper()
		want := true
		for _, c := range w {
			want = want && plainByte(c)
		}
		if got := plainASCII(binary.LittleEndian.Uint64(w[:])); got != want {
			t.Fatalf("plainASCII(%q) = %v, want %v", w[:], got, want)
		}
		run := 0
		for run < len(w) && plainByte(w[run]) {
			run++
		}
		if got := plainRun(binary.LittleEndian.Uint64(w[:])); got != run {
			t.Fatalf("plainRun(%q) = %d, want %d", w[:], got, run)
		}
	}
	base := [8]byte{'a', 'b', 'c', ' ', '{', '}', '~', '0'}
	for pos := range 8 {
		for c := range 256 {
			w := base
			w[pos] = byte(c)
			check(w)
		}
	}
	odd := []byte{0, 0x1f, '"', '\\', 0x7f, 0x80, 0xff, 0x20, 0x21}
	for i := range 8 {
		for j := i + 1; j < 8; j++ {
			for _, a := range odd {
				for _, b := range odd {
					w := base
					w[i], w[j] = a, b
					check(w)
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		var w [8]byte
		for k := range w {
			// Mostly plain bytes, so that whole words pass too.
			w[k] = byte(0x20 + r.IntN(0x60))
			if r.IntN(16) == 0 {
				w[k] = byte(r.IntN(256))
			}
		}
		check(w)
	}
}

// TestStringScan: strings whose byte that ends a plain run sits at every
// offset of a word are scanned and decoded as encoding/json does
// (TestDecodeStrings covers the rules; this covers the eight-byte steps).
func TestStringScan(t *testing.T) {
	for n := range 20 {
		plain := make([]byte, n)
		for i := range plain {
			plain[i] = 'a' + byte(i%26)
		}
		for _, tail := range []string{``, `\n`, `\"x`, `\\`, `é`, `\u00e9z`, `\ud83d\ude00`, `\/\b\f\r\t`, "日本\x7f", "\x01", `"`, "\xff"} {
			body := `{"query":"` + string(plain) + tail + string(plain) + `"}`
			sc := &scanner{data: []byte(body)}
			_, err := sc.value(0)
			wantErr := tail == "\x01" || tail == `"` || tail == "\xff"
			if (err != nil) != wantErr {
				t.Fatalf("%q: error %v, want error %v", body, err, wantErr)
			}
			if err != nil {
				continue
			}
			if sc.pos != len(body) {
				t.Fatalf("%q: scan stopped at %d of %d", body, sc.pos, len(body))
			}
			lit := body[len(`{"query":`) : len(body)-1]
			var want string
			if err := json.Unmarshal([]byte(lit), &want); err != nil {
				t.Fatalf("%s: encoding/json: %v", lit, err)
			}
			if got := unquote([]byte(lit)); got != want {
				t.Fatalf("%s decoded %q, encoding/json %q", lit, got, want)
			}
		}
	}
}
