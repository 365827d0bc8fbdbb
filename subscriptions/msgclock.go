package subscriptions

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/fedgate/gateway/server/request"
)

// messageClock is the connection under a client WebSocket's read buffer;
// it bounds the time a message takes to arrive. The WebSocket library reads a
// message whole before it returns it, handling the control frames (ping,
// pong, close) that arrive before and between its fragments itself; a
// read deadline around its Read would cut a connection idle after a
// ping (the library waits on for a data frame), and none lets a client
// begin a message and send the rest a byte at a time, holding what it
// sent (up to MaxMessageBytes) and its connection for as long as it
// likes.
//
// So the clock follows the frames in the bytes read from the socket
// (RFC 6455 5.2: a 2-byte header, 2 or 8 bytes of length, 4 of masking
// key, the payload). A message is in progress from the first byte of
// its first data frame to the last byte of its final one, control
// frames between included; while one is, the connection has a read
// deadline of timeout after the first read that waited for its rest
// (not after its first byte arrived: the gateway may have been busy with
// the message before it, which the client could not help). Between
// messages, a whole control frame included, the connection has none.
//
// The bytes of a message in progress are held by the library until the
// message is whole, so they are taken from the gateway's budget of the
// bytes being read at once (server.max_reading_bytes, as request bodies
// are); a connection whose next bytes do not fit is refused: its Read
// reports errReadBudget, the connection is closed with 1013 (Try Again
// Later), and until then (the close handshake, refusedLinger at most) what
// the client sends is read and dropped without taking from the budget. A
// message's bytes are given back once it has arrived (or the connection
// closes).
type messageClock struct {
	net.Conn
	timeout time.Duration
	budget  *request.Budget
	// mu guards taken and closed: the reading goroutine takes, Close
	// (from any goroutine) gives back.
	mu sync.Mutex
	// taken is what the message in progress took from budget.
	taken int64
	// closed: Close gave taken back; nothing is taken after it.
	closed bool

	// hdr collects the current frame's header; hn bytes of it so far.
	hdr [14]byte
	hn  int
	// left is the payload the current frame still owes once its header
	// is whole.
	left uint64
	// fragmented: a data frame without FIN ended, its message goes on.
	fragmented bool
	// armed: the connection has a read deadline.
	armed bool
	// refused: the budget refused the message in progress (account);
	// reported: Read returned errReadBudget for it; drained: the bytes
	// read since. Only the reading goroutine touches them.
	refused, reported bool
	drained           int

	// controls counts the control frames (ping, pong, close) followed
	// since the last Read paced them (framePace); done is closed by
	// Close, ending a pacing wait.
	controls  int
	pace      framePace
	done      chan struct{}
	closeOnce sync.Once
}

// The WebSocket library answers the protocol's own control frames
// itself, below graphql-transport-ws (a ping with a pong), and nothing
// paced them: 50 connections of one address sending 6-byte ping frames as
// fast as they could (and reading the pongs) took 3.4 s of the gateway's
// CPU in 3 s, and real clients were served 4 requests in 3 s with a p99
// of 5.6 s (TestWebSocketControlFrameFlood in make attack). The clock
// counts them as it follows the frames, and past controlFrameBurst a
// connection's reader waits so that they pass at controlFrameRate a
// second: its further bytes wait in its socket. The rate was 100 a second
// (burst 100): 50 connections still had 5,000 pings a second answered,
// each pong a write of its own, some 40 ms of the gateway's CPU a second;
// at load average 50, where the gateway got little more than that, real
// clients' median latency grew 3 to 35 times during the flood (17 of 20
// runs) where 50 idle connections grew it at most 3 times. Clients send a
// keep-alive ping every few seconds at most, and browsers none.
const (
	controlFrameRate  = 10
	controlFrameBurst = 20
)

// framePace is a token bucket of control frames; its zero value is full.
type framePace struct {
	used float64 // frames taken beyond the refill, at most the burst
	at   time.Time
	// now and wait are time.Now and a timer that the connection's
	// Close ends, unless a test sets them.
	now  func() time.Time
	wait func(time.Duration)
}

// take takes n frames at now and returns how long to wait for them.
func (p *framePace) take(n int, now time.Time) time.Duration {
	// at may be ahead of now: the end of the last wait.
	if p.at.IsZero() {
		p.at = now
	} else if now.After(p.at) {
		p.used = max(0, p.used-now.Sub(p.at).Seconds()*controlFrameRate)
		p.at = now
	}
	p.used += float64(n)
	over := p.used - controlFrameBurst
	if over <= 0 {
		return 0
	}
	// The wait refills what went over: the bucket is empty after it.
	d := time.Duration(over / controlFrameRate * float64(time.Second))
	p.used = controlFrameBurst
	p.at = p.at.Add(d)
	return p.at.Sub(now)
}

// paceControls waits for the control frames the last read brought.
func (m *messageClock) paceControls() {
	n := m.controls
	m.controls = 0
	now := time.Now
	if m.pace.now != nil {
		now = m.pace.now
	}
	d := m.pace.take(n, now())
	if d <= 0 {
		return
	}
	if m.pace.wait != nil {
		m.pace.wait(d)
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-m.done:
	}
}

// refusedLinger and refusedDrain bound the close handshake of a
// connection refused by the read budget: long enough for the client to
// read the close frame (a socket closed with unread bytes sends a reset,
// which may destroy what the client had not read yet) and answer it
// after the rest of its message, short enough that a refused client
// holds its connection, and the gateway's reading, no longer.
const (
	refusedLinger = 500 * time.Millisecond
	refusedDrain  = 1 << 20 // a message's worth (MaxMessageBytes' default)
)

// Read implements net.Conn.
func (m *messageClock) Read(p []byte) (int, error) {
	if m.refused {
		if !m.reported {
			// Refused before the library's first Read (Hijack's bytes).
			m.reported = true
			m.linger()
			return 0, errReadBudget
		}
		if m.drained >= refusedDrain {
			return 0, errReadBudget
		}
		n, err := m.Conn.Read(p[:min(len(p), refusedDrain-m.drained)])
		m.drained += n
		return n, err
	}
	if m.inMessage() && !m.armed && m.timeout > 0 {
		_ = m.Conn.SetReadDeadline(time.Now().Add(m.timeout))
		m.armed = true
	}
	n, err := m.Conn.Read(p)
	ended, aerr := m.account(p[:n])
	if aerr != nil {
		// Not (n, aerr): a reader that got what it asked for might never
		// see the error, and read on past the budget.
		m.reported = true
		m.linger()
		return 0, aerr
	}
	// A message that ended in these bytes lifts its deadline; the next
	// one's, if they began it, starts at the next read that waits for it.
	if m.armed && ended {
		_ = m.Conn.SetReadDeadline(time.Time{})
		m.armed = false
	}
	if m.controls > 0 {
		m.paceControls()
	}
	return n, err
}

// errReadBudget ends a connection whose message in progress does not fit
// in the gateway's read budget.
var errReadBudget = errors.New("too many messages are being read; retry later")

// linger gives the refused connection refusedLinger to end.
func (m *messageClock) linger() {
	_ = m.Conn.SetReadDeadline(time.Now().Add(refusedLinger))
	m.armed = true
}

// account follows b, giving back what a message that ended in b took and
// taking the bytes of the message in progress at b's end (b may end one
// message and begin the next: only the next one's bytes are taken).
// ended reports whether a message or a control frame ended in b.
func (m *messageClock) account(b []byte) (ended bool, err error) {
	end := m.follow(b)
	ended = end > 0
	if m.budget == nil {
		return ended, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ended, nil
	}
	if end >= 0 {
		m.budget.Give(m.taken)
		m.taken = 0
		b = b[end:]
	}
	if len(b) > 0 {
		if !m.budget.Take(int64(len(b))) {
			m.refused = true
			return ended, errReadBudget
		}
		m.taken += int64(len(b))
	}
	return ended, nil
}

// Close implements net.Conn; it gives back what the message in progress
// took.
func (m *messageClock) Close() error {
	if m.done != nil {
		m.closeOnce.Do(func() { close(m.done) })
	}
	m.mu.Lock()
	m.closed = true
	m.budget.Give(m.taken)
	m.taken = 0
	m.mu.Unlock()
	return m.Conn.Close()
}

// inMessage reports whether a frame or a fragmented message is in
// progress.
func (m *messageClock) inMessage() bool {
	return m.hn > 0 || m.left > 0 || m.fragmented
}

// follow advances the frame state over b. It returns the length of b's
// part up to the last point where no message or frame was in progress
// (the bytes after it belong to the message in progress), -1 when there
// is none: b is all inside one message.
func (m *messageClock) follow(b []byte) (end int) {
	end = -1
	if !m.inMessage() {
		end = 0
	}
	for i := 0; i < len(b); {
		if m.left > 0 {
			k := min(uint64(len(b)-i), m.left)
			m.left -= k
			i += int(k)
		} else {
			m.hdr[m.hn] = b[i]
			m.hn++
			i++
			if h, n, ok := frameSize(m.hdr[:m.hn]); ok && m.hn >= h {
				m.frameHeader(n)
			}
		}
		if !m.inMessage() {
			end = i
		}
	}
	return end
}

// frameHeader takes the whole header in hdr, which announces a payload
// of n bytes: whether a data frame ends its message.
func (m *messageClock) frameHeader(n uint64) {
	fin, opcode := m.hdr[0]&0x80 != 0, m.hdr[0]&0x0f
	m.left = n
	if opcode < 0x8 { // continuation, text, binary
		m.fragmented = !fin
	} else {
		m.controls++
	}
	m.hn = 0
}
