// Package listenlog reads the addresses a gateway process listens on from
// its log. Tests and tools start the gateway binary with its listeners on
// 127.0.0.1:0, so that the process binds a free port itself: a port found
// free by the test, closed and handed over on the command line can be
// taken by another process before the gateway binds it.
package listenlog

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// The messages of the log lines that name a listener's address.
const (
	// Gateway is the public GraphQL listener's line (server.listen, --listen).
	Gateway = "gateway listening"
	// Admin is the registry admin API's line (registry.listen).
	Admin = "registry admin API listening"
	// Metrics is the Prometheus listener's line (telemetry.metrics.prometheus.listen).
	Metrics = "metrics listening"
)

// Find returns the address named by the first line of log whose message
// is msg, in the JSON or the text log format.
func Find(log, msg string) (string, bool) {
	re := regexp.MustCompile(`msg"?[=:]"` + regexp.QuoteMeta(msg) + `"[ ,]"?addr"?[=:]"?([^", \n]+)`)
	m := re.FindStringSubmatch(log)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// Wait reads log until a line with msg names an address, and returns it.
// It gives up when exited is closed (the process ended) or after timeout,
// with an error that quotes the end of the log.
func Wait(log func() string, msg string, exited <-chan struct{}, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		if addr, ok := Find(log(), msg); ok {
			return addr, nil
		}
		select {
		case <-exited:
			if addr, ok := Find(log(), msg); ok {
				return addr, nil
			}
			return "", fmt.Errorf("the process exited before logging %q:\n%s", msg, tail(log()))
		default:
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no %q line in %v:\n%s", msg, timeout, tail(log()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// tail is the last 40 lines of log.
func tail(log string) string {
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}
