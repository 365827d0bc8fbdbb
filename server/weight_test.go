package server

import "testing"

func TestNextWeight(t *testing.T) {
	for _, tc := range []struct {
		name            string
		old, used, want int64
	}{
		{"first run", 0, 1 << 20, 1 << 20},
		{"grows at once", 1 << 20, 4 << 20, 4 << 20},
		{"same", 1 << 20, 1 << 20, 1 << 20},
		{"a small run lowers it by a quarter", 1 << 20, 1 << 10, 3 << 18},
		{"a bit smaller: the run's figure", 1 << 20, 900 << 10, 900 << 10},
	} {
		if got := nextWeight(tc.old, tc.used); got != tc.want {
			t.Errorf("%s: nextWeight(%d, %d) = %d, want %d", tc.name, tc.old, tc.used, got, tc.want)
		}
	}
	// Repeated small runs bring the weight down within a few runs.
	w := int64(16 << 20)
	n := 0
	for ; w > 64<<10 && n < 100; n++ {
		w = nextWeight(w, 64<<10)
	}
	if n > 25 {
		t.Errorf("%d runs to come down from 16 MiB to 64 KiB", n)
	}
}
