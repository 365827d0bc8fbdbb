package timerslack

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "", want: Default},
		{in: "0", want: 0},
		{in: "off", want: 0},
		{in: " 1ms ", want: time.Millisecond},
		{in: "250us", want: 250 * time.Microsecond},
		{in: "10ms", want: Max},
		{in: "11ms", wantErr: true},
		{in: "-1ms", wantErr: true},
		{in: "250", wantErr: true},
		{in: "fast", wantErr: true},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
