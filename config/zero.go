package config

import (
	"regexp"
	"time"
)

// zeroRefused lists the duration keys whose 0 the file may not write.
// In the file a duration of 0 means zero: no timeout, no wait, off
// (server.request_timeout, server.tcp_user_timeout,
// subgraphs.*.bulkhead.max_wait, ...). These keys once took 0 for their
// default instead, the opposite of what the same 0 means elsewhere
// (subscriptions.write_timeout: 0 was 10s while server.write_timeout: 0 is
// refused as "none"), and a zero value makes no sense for any of them;
// rather than change silently what an existing file means, the checker
// refuses the 0 and says what to write. Leaving a key out still gives its
// default.
var zeroRefused = []struct {
	key *regexp.Regexp
	// meant is what 0 gave; instead is what to write for it.
	meant, instead string
}{
	{regexp.MustCompile(`^subscriptions\.write_timeout$`), "the default, 10s", "leave the key out or write 10s"},
	{regexp.MustCompile(`^subscriptions\.init_timeout$`), "the default, 10s", "leave the key out or write 10s"},
	{regexp.MustCompile(`^subscriptions\.message_timeout$`), "the default, 10s", "leave the key out or write 10s"},
	{regexp.MustCompile(`^subscriptions\.keep_alive$`), "the default, 12s", "leave the key out or write 12s"},
	{regexp.MustCompile(`^subscriptions\.upstream\.retry_for$`), "the default, 30s", "leave the key out or write 30s; a negative duration (-1s) never retries"},
	{regexp.MustCompile(`^subscriptions\.upstream\.backoff$`), "the default, 100ms", "leave the key out or write 100ms"},
	{regexp.MustCompile(`^subscriptions\.upstream\.max_backoff$`), "the default, 5s", "leave the key out or write 5s"},
	{regexp.MustCompile(`^subscriptions\.upstream\.ping_interval$`), "the default, 15s", "leave the key out or write 15s"},
	{regexp.MustCompile(`^auth\.jwt\.jwks\[\d+\]\.refresh_interval$`), "the default, 5m", "leave the key out or write 5m"},
	{regexp.MustCompile(`^auth\.jwt\.jwks\[\d+\]\.min_refresh_interval$`), "the default, 30s", "leave the key out or write 30s"},
	{regexp.MustCompile(`^auth\.jwt\.jwks\[\d+\]\.timeout$`), "the default, 5s", "leave the key out or write 5s"},
	{regexp.MustCompile(`^coprocessor\.timeout$`), "the default, 1s", "leave the key out or write 1s"},
	{regexp.MustCompile(`^coprocessor\..+\.(request|response)\.timeout$`), "coprocessor.timeout", "leave the key out to follow coprocessor.timeout"},
	{regexp.MustCompile(`^uploads\.idle_timeout$`), "server.read_timeout", "leave the key out to follow server.read_timeout"},
	{regexp.MustCompile(`^cache\.entity\.subgraphs\..+\.ttl$`), "cache.entity.ttl", "leave the key out to follow cache.entity.ttl; enabled: false turns the entity cache off for the subgraph"},
}

// zeroProblem is the message refusing d at key when key may not be 0;
// "" when it may.
func zeroProblem(key string, d time.Duration) string {
	if d != 0 {
		return ""
	}
	for _, z := range zeroRefused {
		if z.key.MatchString(key) {
			return "0 is refused here: it meant " + z.meant + ", while 0 means none for other durations (server.request_timeout); " + z.instead
		}
	}
	return ""
}
