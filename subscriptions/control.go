package subscriptions

import "time"

// Control messages (ping, pong, complete) start no operation, so no rate
// limit or pause of the subscribes paces them. A client sending pings of
// 900 KB as fast as it could made the gateway parse each and queue a pong
// echoing it: 50 such WebSockets of one address, not reading the pongs,
// took 2.2 s of CPU in 3 s and 268 MB of RSS, and made real clients wait
// up to 10 s (the attack suite's TestWebSocketPingFlood). A connection's control messages now pass at
// controlRate bytes per second past a burst of controlBurst: past it the
// reader waits (after handling the message that went past it, so that a
// lone large ping is answered at once), and the client's
// further messages wait in its socket. A pong echoes a ping's payload
// only up to maxEchoedPayload bytes (graphql-ws's own server echoes it
// whole; the protocol makes the payload optional).
const (
	controlRate      = 64 << 10
	controlBurst     = 64 << 10
	maxEchoedPayload = 1 << 10
)

// pongPayload is the payload of the pong answering a ping's.
func pongPayload(ping []byte) []byte {
	if len(ping) > maxEchoedPayload {
		return nil
	}
	return ping
}

// controlPace is a token bucket of control message bytes, used by the
// connection's reader only. Its zero value is a full bucket.
type controlPace struct {
	spent float64 // bytes taken beyond the refill, at most controlBurst
	at    time.Time
	// now and sleep are time.Now and time.Sleep unless a test sets them.
	now   func() time.Time
	sleep func(time.Duration)
}

// wait takes n bytes from the bucket, first waiting for them when it
// holds fewer.
func (p *controlPace) wait(n int) {
	now := time.Now()
	if p.now != nil {
		now = p.now()
	}
	if !p.at.IsZero() {
		p.spent = max(0, p.spent-now.Sub(p.at).Seconds()*controlRate)
	}
	p.at = now
	p.spent += float64(n)
	over := p.spent - controlBurst
	if over <= 0 {
		return
	}
	d := time.Duration(over / controlRate * float64(time.Second))
	if p.sleep != nil {
		p.sleep(d)
	} else {
		time.Sleep(d)
	}
	p.spent = controlBurst
	p.at = now.Add(d)
}
