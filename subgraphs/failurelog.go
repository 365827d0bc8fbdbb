package subgraphs

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/fedgate/gateway/telemetry"
)

// failureLogInterval is the least time between two log lines of one
// subgraph's failed fetches: a subgraph that is down fails every request
// that needs it, and a line for each would flood the log. The lines held
// back are counted in the next one ("not_logged_since_last", as in the
// listener's "refused" lines); every request's own log line still names
// its failed fetches and their cause.
const failureLogInterval = 10 * time.Second

// failureLog decides which of a subgraph's failed fetches get a log line
// of their own: the first, then at most one per failureLogInterval.
type failureLog struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// admit reports whether a failure at now gets a line, and how many were
// held back since the last one.
func (l *failureLog) admit(now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < failureLogInterval {
		l.suppressed++
		return false, 0
	}
	n := l.suppressed
	l.last, l.suppressed = now, 0
	return true, n
}

// logFailure writes the warning of a failed fetch, unless sg's failure
// log holds it back: the request, the subgraph and its URL, the plan's
// fetch and the cause (f.Failure, which is set).
func (c *Client) logFailure(ctx context.Context, sg *subgraph, f telemetry.FetchTiming) {
	ok, suppressed := sg.failures.admit(time.Now())
	if !ok {
		return
	}
	attrs := make([]slog.Attr, 0, 10)
	if ri := telemetry.RequestInfoFrom(ctx); ri != nil {
		attrs = append(attrs, slog.String("request_id", ri.ID))
	}
	attrs = append(attrs, slog.String("subgraph", sg.name), slog.String("url", sg.shown),
		slog.Int("fetch", f.Failure.FetchID))
	if f.Failure.Path != nil {
		attrs = append(attrs, slog.String("path", strings.Join(f.Failure.Path, ".")))
	}
	attrs = append(attrs, slog.String("code", f.Code), slog.String("error", f.Failure.Error), slog.Int("attempts", f.Attempts))
	if suppressed > 0 {
		attrs = append(attrs, slog.Int("not_logged_since_last", suppressed))
	}
	c.logger.LogAttrs(ctx, slog.LevelWarn, "subgraph fetch failed", attrs...)
}
