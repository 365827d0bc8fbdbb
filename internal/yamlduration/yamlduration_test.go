package yamlduration

import (
	"testing"
	"time"
)

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"150ms", 150 * time.Millisecond, true},
		{"0", 0, true},
		{"'0'", 0, true},
		{" 0 ", 0, true},
		{"0s", 0, true},
		{"-1s", -time.Second, true},
		{"10", 0, false}, // a number other than 0 has no unit
		{"soon", 0, false},
	} {
		d := time.Duration(-42)
		err := Decode(&d, []byte(tc.in))
		if (err == nil) != tc.ok || tc.ok && d != tc.want {
			t.Errorf("Decode(%q) = %v, %v; want %v, ok %v", tc.in, d, err, tc.want, tc.ok)
		}
	}
}
