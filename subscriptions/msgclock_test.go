package subscriptions

import (
	"encoding/binary"
	"testing"
)

// clientFrame is a masked client frame header and payload.
func clientFrame(fin bool, opcode byte, n int) []byte {
	b0 := opcode
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0}
	switch {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = binary.BigEndian.AppendUint16(append(b, 0x80|126), uint16(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, 0x80|127), uint64(n))
	}
	return append(append(b, 1, 2, 3, 4), make([]byte, n)...)
}

func TestMessageClockFollowsFrames(t *testing.T) {
	cat := func(bs ...[]byte) (out []byte) {
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	text, ping := clientFrame(true, 0x1, 20), clientFrame(true, 0x9, 4)
	long, huge := clientFrame(true, 0x1, 300), clientFrame(true, 0x2, 70000)
	first, cont, last := clientFrame(false, 0x1, 3), clientFrame(false, 0x0, 3), clientFrame(true, 0x0, 3)
	cases := []struct {
		name string
		in   []byte
		want bool // a message in progress after in
	}{
		{"nothing", nil, false},
		{"a whole text frame", text, false},
		{"a whole ping", ping, false},
		{"pings and messages", cat(ping, text, ping, long, huge, ping), false},
		{"one header byte", text[:1], true},
		{"a header without its length", long[:3], true},
		{"a header without its mask", text[:4], true},
		{"a payload short of one byte", text[:len(text)-1], true},
		{"a 16-bit length frame short of one byte", long[:len(long)-1], true},
		{"a 64-bit length frame short of one byte", huge[:len(huge)-1], true},
		{"a ping after a whole message, short", cat(text, ping[:len(ping)-1]), true},
		{"a first fragment", first, true},
		{"fragments with a ping between", cat(first, ping, cont), true},
		{"a fragmented message ended", cat(first, ping, cont, last), false},
		{"a fragmented message ended, then a ping", cat(first, cont, last, ping), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, step := range []int{1, 7, len(c.in) + 1} {
				var m messageClock
				for i := 0; i < len(c.in); i += step {
					m.follow(c.in[i:min(i+step, len(c.in))])
				}
				if got := m.inMessage(); got != c.want {
					t.Errorf("in %d-byte reads: in message %v, want %v", step, got, c.want)
				}
			}
		})
	}
}
