package config

import (
	"regexp"
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

// zeroRefusedNumbers lists the number keys whose 0 the file may not
// write, for the same reason: the engine read an explicit 0 as its
// default (subscriptions.buffer: 0 was 64 messages, burst_bytes: 0 was
// 32MiB) while 0 means none at other number keys (server.max_inflight_requests:
// 0 is unlimited, auth.jwt.cache_size: 0 is off). A number key whose 0
// makes no sense and never meant a default is refused by its section's
// validation instead ("must be positive").
var zeroRefusedNumbers = []struct {
	key *regexp.Regexp
	// meant is what 0 gave; instead is what to write for it.
	meant, instead string
}{
	{regexp.MustCompile(`^subscriptions\.max_per_client$`), "the default, 100", "leave the key out or write 100"},
	{regexp.MustCompile(`^subscriptions\.subscribe_rate$`), "the default, 10", "leave the key out or write 10"},
	{regexp.MustCompile(`^subscriptions\.subscribe_burst$`), "the default, 20", "leave the key out or write 20"},
	{regexp.MustCompile(`^subscriptions\.connect_rate$`), "the default, 10", "leave the key out or write 10"},
	{regexp.MustCompile(`^subscriptions\.connect_burst$`), "the default, max_connections_per_client", "leave the key out"},
	{regexp.MustCompile(`^subscriptions\.max_connections$`), "the default, 20000", "leave the key out or write 20000"},
	{regexp.MustCompile(`^subscriptions\.max_connections_per_client$`), "the default, 100", "leave the key out or write 100"},
	{regexp.MustCompile(`^subscriptions\.buffer$`), "the default, 64", "leave the key out or write 64"},
	{regexp.MustCompile(`^subscriptions\.buffer_bytes$`), "the default, 1048576 (1 MiB)", "leave the key out or write 1048576"},
	{regexp.MustCompile(`^subscriptions\.burst_bytes$`), "the default, 33554432 (32 MiB)", "leave the key out or write 33554432"},
	{regexp.MustCompile(`^subscriptions\.max_pending$`), "the default, 256", "leave the key out or write 256"},
	{regexp.MustCompile(`^subscriptions\.max_variable_bytes_per_client$`), "the default, 1048576 (1 MiB)", "leave the key out or write 1048576"},
	{regexp.MustCompile(`^subscriptions\.max_reservations$`), "the default, 10", "leave the key out or write 10"},
	{regexp.MustCompile(`^subscriptions\.max_inflight_per_connection$`), "the default, 100", "leave the key out or write 100"},
	{regexp.MustCompile(`^subscriptions\.upstream\.max_streams_per_connection$`), "the default, 1000", "leave the key out or write 1000"},
	{regexp.MustCompile(`^limits\.clients\.ipv6_prefix$`), "the default, 64", "leave the key out or write 64"},
	{regexp.MustCompile(`^coprocessor\.max_idle_conns$`), "the default, 64", "leave the key out or write 64"},
}

// zeroProblem is the message refusing a 0 duration at key when key may
// not be 0; "" when it may.
func zeroProblem(key string) string {
	for _, z := range zeroRefused {
		if z.key.MatchString(key) {
			return "0 is refused here: it meant " + z.meant + ", while 0 means none for other durations (server.request_timeout); " + z.instead
		}
	}
	return ""
}

// zeroNumberProblem is the message refusing a 0 number at key when key
// may not be 0; "" when it may.
func zeroNumberProblem(key string) string {
	for _, z := range zeroRefusedNumbers {
		if z.key.MatchString(key) {
			return "0 is refused here: it meant " + z.meant + ", while 0 means none for other limits (server.max_inflight_requests); " + z.instead
		}
	}
	return ""
}
