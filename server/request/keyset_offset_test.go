//go:build unix

package request

import (
	"fmt"
	"syscall"
	"testing"
)

// TestKeySetFarOffsets: keys found beyond 2 GiB into a body (a
// server.max_body_bytes of 3GiB is accepted by the configuration) are
// told apart and repeated ones found, as anywhere else. The offsets of
// the key set's spans have 31 bits: a key starting past 2 GiB set the
// bit that marks an escaped key, and the next key compared with it
// sliced the (empty) escaped keys' buffer out of range, a panic. The
// body is a sparse mapping: only the pages the keys are on are touched.
func TestKeySetFarOffsets(t *testing.T) {
	const size = 5 << 30
	data, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		t.Skipf("no sparse mapping of 5 GiB: %v", err)
	}
	defer syscall.Munmap(data)
	for _, base := range []int{1<<31 - 8, 1 << 31, 3<<30 + 5, 1<<32 + 17} {
		t.Run(fmt.Sprint(base), func(t *testing.T) {
			var ks keySet
			ks.reset()
			var keys []string
			for i := range 2 * keySetLinear {
				keys = append(keys, fmt.Sprintf("key%d", i))
			}
			// Each key twice: first new, then a repeat.
			for pass, want := range []bool{true, false} {
				at := base + pass*4096
				for _, k := range keys {
					copy(data[at:], k)
					if got := ks.add(data, data[at:at+len(k)], at, at+len(k), false); got != want {
						t.Fatalf("pass %d, key %s at %d: new %v, want %v", pass, k, at, got, want)
					}
					at += len(k) + 1
				}
			}
		})
	}
}
