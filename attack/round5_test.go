//go:build attack

package attack

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/testsys"
)

// TestUnreadBatches: 150 connections of one address each send a batch of
// ten introspections of 25 aliases (410 KB each, a 4.1 MB answer) with a
// 4 KiB receive window, and never read. Reported: peak RSS, the entries
// refused by server.max_writing_bytes, real clients (another address)
// meanwhile; without the budget (max_writing_bytes: 0, as before it
// existed) too, where a batch held its entries while it waited for the
// execution budget, and its answer until write_timeout, counted by
// nothing (200 such connections took the RSS to 1.5 GB).
func TestUnreadBatches(t *testing.T) {
	for _, tc := range []struct {
		name, server string
		bounded      bool
	}{
		{name: "without the writing budget", server: "  max_writing_bytes: 0"},
		{name: "with the default writing budget", bounded: true},
	} {
		t.Run(tc.name, func(t *testing.T) { unreadBatches(t, startWithServer(t, tc.server), tc.name, tc.bounded) })
	}
}

func unreadBatches(t *testing.T, g *gateway, what string, bounded bool) {
	const n = 150 // under the suite's max_inflight_requests (200)
	g.measureCalm(t)
	var q strings.Builder
	q.WriteString("{")
	for i := range 25 {
		fmt.Fprintf(&q, " a%d: __schema { types { name description fields { name description args { name type { name kind } } type { name kind ofType { name kind } } } } }", i)
	}
	q.WriteString(" }")
	one := fmt.Sprintf(`{"query":%q}`, q.String())
	batch := "[" + strings.Repeat(one+",", 9) + one + "]"
	req := fmt.Sprintf("POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(batch), batch)
	d := net.Dialer{Control: testsys.ReceiveBuffer(4096)}
	for range n {
		c, err := d.Dial("tcp", g.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	time.AfterFunc(5*time.Second, func() { close(stop) })
	lat, failed := g.realClients(4, stop)
	peak := g.status("VmHWM")
	t.Logf("FIGURE %d unread batches of 4.1 MB, %s: peak RSS %d MB, real clients: %d served, %d failed, p99 %v (%v before the attack)",
		n, what, peak>>10, len(lat), failed, p99(lat), g.calm)
	if !bounded {
		return
	}
	if peak > 300<<10 {
		t.Errorf("peak RSS %d MB, want under 300 MB", peak>>10)
	}
	if failed > 0 || len(lat) == 0 {
		t.Errorf("%d real requests failed (%d served)", failed, len(lat))
	}
}
