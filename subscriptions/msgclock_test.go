package subscriptions

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/fedgate/gateway/server/request"
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

// chunkConn is a net.Conn whose reads return chunks in order, recording
// the read deadlines set on it.
type chunkConn struct {
	net.Conn
	chunks    [][]byte
	deadlines []time.Time
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	c.chunks = c.chunks[1:]
	return n, nil
}

func (c *chunkConn) SetReadDeadline(t time.Time) error {
	c.deadlines = append(c.deadlines, t)
	return nil
}

func (c *chunkConn) Close() error { return nil }

// TestMessageClockGivesBackEndedMessages: a read that ends one message
// and begins the next gives back what the ended one took and takes only
// the next one's bytes, and the next one's deadline starts afresh. Before,
// a client whose reads never ended on a message boundary (pipelined
// pings or messages, split mid-frame) kept every byte it sent taken from
// the read budget, past MaxMessageBytes up to the whole budget (503s
// for every plain request), and the first message's deadline cut the
// connection however fast each message came.
func TestMessageClockGivesBackEndedMessages(t *testing.T) {
	ping := clientFrame(true, 0x9, 10) // 16 bytes
	var stream []byte
	for range 100 {
		stream = append(stream, ping...)
	}
	// Reads of 16 bytes from the middle of the first ping on: each ends
	// one ping and begins the next, never on a boundary.
	chunks := [][]byte{stream[:8]}
	for i := 8; i+16 <= len(stream); i += 16 {
		chunks = append(chunks, stream[i:i+16])
	}
	const total = 1 << 20
	budget := request.NewBudget(total)
	cc := &chunkConn{chunks: chunks}
	m := &messageClock{Conn: cc, timeout: time.Hour, budget: budget}
	buf := make([]byte, 64)
	for i := range chunks {
		if _, err := m.Read(buf); err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if held := total - budget.Left(); held > int64(len(ping)) {
			t.Fatalf("after read %d: %d bytes taken, more than the %d-byte message in progress", i, held, len(ping))
		}
	}
	// Each read after the first waits for the rest of a message begun
	// in the one before it: each arms a deadline of its own.
	armed := 0
	for _, d := range cc.deadlines {
		if !d.IsZero() {
			armed++
		}
	}
	if want := len(chunks) - 1; armed != want {
		t.Errorf("%d deadlines armed over %d reads, want %d", armed, len(chunks), want)
	}
	_ = m.Close()
	if budget.Left() != total {
		t.Errorf("after Close: %d bytes left, want %d", budget.Left(), total)
	}
}

// TestMessageClockGivesBackOnce: on every path (a message that arrives,
// Close mid-message, a read after Close, reads refused by the budget,
// Close twice) the budget is whole after Close, and never above its size
// before.
func TestMessageClockGivesBackOnce(t *testing.T) {
	text := clientFrame(true, 0x1, 100) // 106 bytes
	cases := []struct {
		name   string
		budget int64
		// steps: 'r' reads, 'c' closes.
		steps string
		// held is what the budget holds before the final Close;
		// refused: a read was refused by the budget.
		held    int64
		refused bool
	}{
		{"a message arrives", 1000, "rrr", 0, false},
		{"mid-message", 1000, "r", 50, false},
		{"a read after Close", 1000, "rcr", 0, false},
		{"Close twice mid-message", 1000, "rc", 0, false},
		{"refused at once", 40, "r", 0, true},
		{"refused after a first part", 80, "rr", 50, true},
		// The connection is being closed (1013): what it still reads is
		// dropped by the close handshake, and takes nothing.
		{"a read after a refusal", 80, "rrr", 50, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			budget := request.NewBudget(c.budget)
			m := &messageClock{Conn: &chunkConn{chunks: [][]byte{text[:50], text[50:100], text[100:]}}, timeout: time.Hour, budget: budget}
			buf := make([]byte, 64)
			refused := false
			for _, st := range c.steps {
				switch st {
				case 'r':
					if _, err := m.Read(buf); err == errReadBudget {
						refused = true
					}
				case 'c':
					_ = m.Close()
				}
				if budget.Left() > c.budget {
					t.Fatalf("after %c: %d bytes left of %d", st, budget.Left(), c.budget)
				}
			}
			if refused != c.refused {
				t.Errorf("refused %v, want %v", refused, c.refused)
			}
			if held := c.budget - budget.Left(); held != c.held {
				t.Errorf("before Close: %d bytes held, want %d", held, c.held)
			}
			_ = m.Close()
			_ = m.Close()
			if got := budget.Left(); got != c.budget {
				t.Errorf("after Close: %d bytes left of %d", got, c.budget)
			}
		})
	}
}

// TestMessageClockDrainsARefusedConnectionBriefly: after the budget
// refused a connection, its reads (the close handshake's) take nothing
// from the budget, and end after refusedDrain bytes: a client that goes
// on sending at full speed is not read for the whole linger.
func TestMessageClockDrainsARefusedConnectionBriefly(t *testing.T) {
	text := clientFrame(true, 0x1, 4*refusedDrain)
	var chunks [][]byte
	for i := 0; i < len(text); i += 64 << 10 {
		chunks = append(chunks, text[i:min(i+64<<10, len(text))])
	}
	budget := request.NewBudget(100 << 10)
	m := &messageClock{Conn: &chunkConn{chunks: chunks}, timeout: time.Hour, budget: budget}
	buf := make([]byte, 64<<10)
	var err error
	for err == nil {
		_, err = m.Read(buf)
	}
	if err != errReadBudget {
		t.Fatalf("first error %v, want errReadBudget", err)
	}
	held := 100<<10 - budget.Left()
	drained := 0
	for {
		n, err := m.Read(buf)
		drained += n
		if err != nil {
			if err != errReadBudget {
				t.Fatalf("drain ended with %v, want errReadBudget", err)
			}
			break
		}
		if drained > 2*refusedDrain {
			t.Fatalf("drained %d bytes and still reading", drained)
		}
	}
	if drained != refusedDrain {
		t.Errorf("drained %d bytes, want %d", drained, refusedDrain)
	}
	if got := 100<<10 - budget.Left(); got != held {
		t.Errorf("the drain took %d bytes from the budget", got-held)
	}
}

// TestControlFramesPaced: the clock counts the control frames it follows
// (ping, pong, close) and makes Read wait so that past a burst of
// controlFrameBurst they pass at controlFrameRate a second; data frames
// are not paced. Before, nothing paced the frames the WebSocket library
// answers itself (TestWebSocketControlFrameFlood in make attack).
func TestControlFramesPaced(t *testing.T) {
	ping, pong, text := clientFrame(true, 0x9, 0), clientFrame(true, 0xA, 4), clientFrame(true, 0x1, 20)
	repeat := func(f []byte, n int) (out []byte) {
		for range n {
			out = append(out, f...)
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		frames []byte
		reads  int
		want   time.Duration // waited in all, within 10%
	}{
		{"a burst of pings", repeat(ping, controlFrameBurst), 5, 0},
		{"five seconds of pings", repeat(ping, controlFrameBurst+5*controlFrameRate), 10, 5 * time.Second},
		{"pongs", repeat(pong, controlFrameBurst+2*controlFrameRate), 10, 2 * time.Second},
		{"text messages", repeat(text, 20*controlFrameBurst), 10, 0},
		{"pings among messages", append(repeat(text, 1000), repeat(ping, controlFrameBurst)...), 10, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var chunks [][]byte
			size := (len(tc.frames) + tc.reads - 1) / tc.reads
			for i := 0; i < len(tc.frames); i += size {
				chunks = append(chunks, tc.frames[i:min(i+size, len(tc.frames))])
			}
			var waited time.Duration
			clock := time.Unix(0, 0)
			m := &messageClock{Conn: &chunkConn{chunks: chunks}, timeout: time.Hour}
			m.pace.now = func() time.Time { return clock }
			m.pace.wait = func(d time.Duration) { waited += d; clock = clock.Add(d) }
			buf := make([]byte, size)
			for range chunks {
				if _, err := m.Read(buf); err != nil {
					t.Fatal(err)
				}
			}
			if lo, hi := tc.want-tc.want/10, tc.want+tc.want/10; waited < lo || waited > hi {
				t.Errorf("waited %v, want %v", waited, tc.want)
			}
		})
	}
}

// TestControlPaceEndsWithTheConnection: a reader waiting for its control
// frames' pace returns once the connection is closed.
func TestControlPaceEndsWithTheConnection(t *testing.T) {
	pings := make([]byte, 0)
	for range 10 * controlFrameBurst {
		pings = append(pings, clientFrame(true, 0x9, 0)...)
	}
	m := &messageClock{Conn: &chunkConn{chunks: [][]byte{pings}}, timeout: time.Hour, done: make(chan struct{})}
	read := make(chan struct{})
	go func() {
		_, _ = m.Read(make([]byte, len(pings)))
		close(read)
	}()
	time.Sleep(50 * time.Millisecond)
	_ = m.Close()
	select {
	case <-read:
	case <-time.After(5 * time.Second):
		t.Fatal("the read still waits for its pings' pace after Close")
	}
}
