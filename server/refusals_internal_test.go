package server

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestRefusalLogIsRateLimited: the refusal log writes the first refusal
// of a reason at once, counts the ones within refusalLogEvery, and says
// how many it left out on the next line; reasons are limited apart.
func TestRefusalLogIsRateLimited(t *testing.T) {
	var out bytes.Buffer
	r := newRefusals(nil, slog.New(slog.NewTextHandler(&out, nil)))
	now := time.Unix(1000, 0)
	r.now = func() time.Time { return now }
	for _, step := range []struct {
		advance time.Duration
		reason  string
		want    string // the line written, "" for none
	}{
		{0, refusedConnectionLimit, "reason=connection_limit status=429 peer=192.0.2.1 not_logged_since_last=0"},
		{time.Second, refusedConnectionLimit, ""},
		{time.Second, refusedHeadersTooMany, "reason=headers_too_many status=429 peer=192.0.2.1 not_logged_since_last=0"},
		{time.Second, refusedConnectionLimit, ""},
		{refusalLogEvery - 3*time.Second, refusedConnectionLimit, "reason=connection_limit status=429 peer=192.0.2.1 not_logged_since_last=2"},
		{refusalLogEvery, refusedConnectionLimit, "reason=connection_limit status=429 peer=192.0.2.1 not_logged_since_last=0"},
	} {
		now = now.Add(step.advance)
		out.Reset()
		r.record(step.reason, "192.0.2.1", 429)
		got := strings.TrimSpace(out.String())
		if step.want == "" && got != "" || step.want != "" && !strings.HasSuffix(got, `msg=refused `+step.want) {
			t.Errorf("after %v, %s: wrote %q, want %q", step.advance, step.reason, got, step.want)
		}
	}
}
