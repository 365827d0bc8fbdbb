package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// zeroMeansNone are the duration keys whose 0 in the file means zero: no
// timeout, no delay, no wait, no caching, no leeway, off. Every other
// duration key refuses 0, either because it must be positive or because
// its 0 once meant its default (zeroRefused).
var zeroMeansNone = map[string]bool{
	"server.request_timeout":                     true, // no deadline
	"server.drain_delay":                         true, // no drain
	"server.shutdown_timeout":                    true, // exit at once
	"server.tcp_user_timeout":                    true, // off
	"subgraphs.all.retry.backoff":                true, // retry at once
	"subgraphs.all.bulkhead.max_wait":            true, // fail at once
	"auth.jwt.leeway":                            true, // no clock skew allowed
	"auth.cors.max_age":                          true, // no Access-Control-Max-Age
	"cache.response.default_max_age":             true, // not cached
	"cache.response.hints.NAME.max_age":          true, // not cached
	"limits.tiers.NAME.window":                   true, // a tier without limits
	"subgraphs.overrides.NAME.retry.backoff":     true,
	"subgraphs.overrides.NAME.bulkhead.max_wait": true,
}

// durationKeys lists the duration keys under prefix as keys does.
func durationKeys(t reflect.Type, prefix string) []string {
	var out []string
	walkKeys(t, prefix, func(key string, ft reflect.Type) {
		if ft == durationType {
			out = append(out, key)
		}
	})
	return out
}

// nameIn is the name yamlFor gives NAME in key: "default" for a tier
// (limits.clients.default_tier names it), else "x".
func nameIn(key string) string {
	if strings.HasPrefix(key, "limits.tiers.") {
		return "default"
	}
	return "x"
}

// yamlFor writes key (as durationKeys lists it; NAME is nameIn's, a list
// gets one element) set to value.
func yamlFor(key, value string) string {
	var b strings.Builder
	indent := ""
	parts := strings.Split(key, ".")
	for i, p := range parts {
		p = strings.ReplaceAll(p, "NAME", nameIn(key))
		list := strings.HasSuffix(p, "[]")
		p = strings.TrimSuffix(p, "[]")
		if i == len(parts)-1 {
			b.WriteString(indent + p + ": " + value + "\n")
			break
		}
		b.WriteString(indent + p + ":\n")
		indent += "  "
		if i == 0 && p == "uploads" {
			b.WriteString(indent + "enabled: true\n") // checked only when on
		}
		if list {
			b.WriteString(indent + "- ")
			b.WriteString("url: https://idp.example/keys\n") // a list element needs a first key
			indent += "  "
		}
	}
	return b.String()
}

// zeroNumberMeansNone are the number keys whose 0 in the file means
// none: no limit, no budget, off, nothing kept, nothing sampled. Every
// other number key refuses 0, either because it must be positive or
// because its 0 once meant its default (zeroRefusedNumbers).
var zeroNumberMeansNone = map[string]bool{
	"server.max_inflight_bytes":                             true, // no memory budget
	"server.max_inflight_requests":                          true, // unlimited
	"server.max_inflight_per_client":                        true, // unlimited
	"server.max_reading_bytes":                              true, // no read budget
	"server.max_writing_bytes":                              true, // no writing budget
	"subgraphs.max_answer_bytes":                            true, // no answer budget
	"server.max_connections_per_address":                    true, // unlimited
	"server.max_header_count":                               true, // unlimited
	"redis.pool_size":                                       true, // the documented default: go-redis's own size
	"subgraphs.all.pool.max_idle_conns":                     true, // no idle connection kept
	"subgraphs.all.retry.budget_ratio":                      true, // only the floor
	"subgraphs.all.retry.min_per_second":                    true, // no floor
	"subgraphs.all.breaker.consecutive_failures":            true, // rule off
	"subgraphs.all.bulkhead.max_concurrent":                 true, // unlimited
	"subgraphs.overrides.NAME.pool.max_idle_conns":          true,
	"subgraphs.overrides.NAME.retry.budget_ratio":           true,
	"subgraphs.overrides.NAME.retry.min_per_second":         true,
	"subgraphs.overrides.NAME.breaker.consecutive_failures": true,
	"subgraphs.overrides.NAME.bulkhead.max_concurrent":      true,
	"auth.jwt.cache_size":                                   true, // no token cache
	"limits.max_tokens":                                     true, // each static limit: off
	"limits.max_depth":                                      true,
	"limits.max_aliases":                                    true,
	"limits.max_fields":                                     true,
	"limits.max_root_fields":                                true,
	"limits.max_directives_per_field":                       true,
	"limits.max_nesting":                                    true,
	"limits.max_fragment_depth":                             true,
	"limits.max_field_merges":                               true,
	"limits.max_field_cycles":                               true,
	"limits.cost.max":                                       true, // no cost ceiling
	"limits.tiers.NAME.requests":                            true, // unlimited
	"limits.tiers.NAME.cost":                                true, // unlimited
	"cache.apq.max_document_bytes":                          true, // no size cap on registered documents
	"cache.apq.max_redis_bytes":                             true, // no bound on the documents registered in Redis
	"telemetry.tracing.sampling":                            true, // no new trace recorded
	"uploads.max_spool_bytes":                               true, // no process-wide spool budget
}

// numberKeys lists the integer and float keys under prefix as keys does.
func numberKeys(t reflect.Type, prefix string) []string {
	var out []string
	walkKeys(t, prefix, func(key string, ft reflect.Type) {
		if ft != durationType && isNumber(ft) {
			out = append(out, key)
		}
	})
	return out
}

// TestZeroMeansNoneOrIsRefused: in the file, a duration's or a number's
// 0 means none (no timeout, no delay, unlimited, off) or is refused with
// a message saying what to write; no key takes 0 for its default any
// more. Before, subscriptions.write_timeout: 0 was 10s,
// uploads.idle_timeout: 0 followed server.read_timeout,
// subscriptions.buffer: 0 was 64 messages and limits.clients.ipv6_prefix:
// 0 was 64 bits, while server.request_timeout: 0 is no deadline and
// server.max_inflight_requests: 0 unlimited: a reader of one key could not
// tell what 0 meant at another. Every duration and number key of Config
// must be classified (a new key fails this test until it is).
func TestZeroMeansNoneOrIsRefused(t *testing.T) {
	config := reflect.TypeOf(Config{})
	for _, kind := range []struct {
		name      string
		keys      []string
		atLeast   int // keys found, so that a broken walk cannot pass
		zeros     []string
		meansNone map[string]bool
		listed    string // meansNone's name, for the messages
	}{
		{"durations", durationKeys(config, ""), 40, []string{"0", "0s"}, zeroMeansNone, "zeroMeansNone"},
		{"numbers", numberKeys(config, ""), 60, []string{"0", "0.0"}, zeroNumberMeansNone, "zeroNumberMeansNone"},
	} {
		t.Run(kind.name, func(t *testing.T) {
			if len(kind.keys) < kind.atLeast {
				t.Fatalf("only %d keys found: %v", len(kind.keys), kind.keys)
			}
			for key := range kind.meansNone {
				if !slices.Contains(kind.keys, key) {
					t.Errorf("%s lists %s, not one of these keys", kind.listed, key)
				}
			}
			for _, key := range kind.keys {
				for _, zero := range kind.zeros {
					y := yamlFor(key, zero)
					_, err := Parse([]byte(y), env(nil))
					msg := ""
					if err != nil {
						msg = err.Error()
					}
					if zero == "0.0" && strings.Contains(msg, "want a whole number") {
						continue // an integer key refuses 0.0 whatever it means
					}
					named := strings.ReplaceAll(strings.ReplaceAll(key, "NAME", nameIn(key)), "[]", "[0]")
					refused := strings.Contains(msg, named+":")
					switch {
					case kind.meansNone[key] && err != nil:
						t.Errorf("%s: %s refused, but it means none there:\n%s", key, zero, msg)
					case !kind.meansNone[key] && !refused:
						t.Errorf("%s: %s accepted, but the key is not listed as meaning none (%s) (%v)\n%s", key, zero, kind.listed, err, y)
					}
				}
			}
		})
	}
}

// TestZeroRefusedSaysWhatToWrite: a 0 that once meant a default is
// refused with its line, what it meant and what to write; leaving the key
// out or writing a value still works.
func TestZeroRefusedSaysWhatToWrite(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"subscriptions:\n  write_timeout: 0\n", "line 2: subscriptions.write_timeout: 0 is refused here: it meant the default, 10s, while 0 means none for other durations (server.request_timeout); leave the key out or write 10s"},
		{"subscriptions:\n  upstream:\n    retry_for: 0s\n", "line 3: subscriptions.upstream.retry_for: 0 is refused here: it meant the default, 30s, while 0 means none for other durations (server.request_timeout); leave the key out or write 30s; a negative duration (-1s) never retries"},
		{"uploads:\n  idle_timeout: 0\n", "uploads.idle_timeout: 0 is refused here: it meant server.read_timeout"},
		{"cache:\n  entity:\n    subgraphs:\n      products: {ttl: 0s}\n", "cache.entity.subgraphs.products.ttl: 0 is refused here: it meant cache.entity.ttl"},
		{"auth:\n  jwt:\n    jwks:\n      - url: https://idp.example/keys\n        timeout: 0\n", "auth.jwt.jwks[0].timeout: 0 is refused here: it meant the default, 5s"},
		{"coprocessor:\n  url: http://127.0.0.1:1\n  timeout: 0\n", "coprocessor.timeout: 0 is refused here: it meant the default, 1s"},
		{"coprocessor:\n  url: http://127.0.0.1:1\n  router:\n    request: {timeout: 0}\n", "coprocessor.router.request.timeout: 0 is refused here: it meant coprocessor.timeout"},
		{"subscriptions:\n  buffer: 0\n", "line 2: subscriptions.buffer: 0 is refused here: it meant the default, 64, while 0 means none for other limits (server.max_inflight_requests); leave the key out or write 64"},
		{"subscriptions:\n  burst_bytes: 0\n", "line 2: subscriptions.burst_bytes: 0 is refused here: it meant the default, 33554432 (32 MiB)"},
		{"subscriptions:\n  subscribe_rate: 0.0\n", "subscriptions.subscribe_rate: 0 is refused here: it meant the default, 10"},
		{"subscriptions:\n  upstream:\n    max_streams_per_connection: 0\n", "line 3: subscriptions.upstream.max_streams_per_connection: 0 is refused here"},
		{"limits:\n  clients:\n    ipv6_prefix: 0\n", "line 3: limits.clients.ipv6_prefix: 0 is refused here: it meant the default, 64"},
		{"coprocessor:\n  url: http://127.0.0.1:1\n  max_idle_conns: 0\n", "coprocessor.max_idle_conns: 0 is refused here: it meant the default, 64"},
	} {
		_, err := Parse([]byte(tc.yaml), env(nil))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
	cfg, err := Parse([]byte("subscriptions:\n  write_timeout: 3s\n  buffer: 8\n  buffer_bytes: 4096\nuploads:\n  timeout: 1m\nlimits:\n  max_depth: 0\n"), env(nil))
	if err != nil || cfg.Subscriptions.WriteTimeout != 3*time.Second || cfg.Uploads.IdleTimeout != 0 ||
		cfg.Subscriptions.Buffer != 8 || cfg.Subscriptions.BufferBytes != 4096 || cfg.Subscriptions.BurstBytes != 0 || cfg.Limits.MaxDepth != 0 {
		t.Fatalf("values and keys left out: %v %+v %+v", err, cfg.Subscriptions, cfg.Uploads)
	}
}
