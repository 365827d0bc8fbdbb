package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func TestParse(t *testing.T) {
	cfg, err := Parse([]byte(`
server:
  listen: ${HOST:-0.0.0.0}:${PORT}
  max_body_bytes: 4MiB
  shutdown_timeout: 3s
  introspection: true
  max_planning_options: 5000
redis:
  url: redis://127.0.0.1:6379/0
`), env(map[string]string{"PORT": "8080"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Listen != "0.0.0.0:8080" {
		t.Errorf("listen = %q", cfg.Server.Listen)
	}
	if cfg.Server.MaxBodyBytes != 4<<20 {
		t.Errorf("max_body_bytes = %d", cfg.Server.MaxBodyBytes)
	}
	if cfg.Server.ShutdownTimeout != 3*time.Second || !cfg.Server.Introspection {
		t.Errorf("server = %+v", cfg.Server)
	}
	if cfg.Server.MaxPlanningOptions != 5000 {
		t.Errorf("max_planning_options = %d", cfg.Server.MaxPlanningOptions)
	}
	if cfg.Server.MaxBatch != Default().Server.MaxBatch || cfg.Redis.Timeout != Default().Redis.Timeout {
		t.Errorf("defaults lost: %+v %+v", cfg.Server, cfg.Redis)
	}
	if cfg.Redis.URL != "redis://127.0.0.1:6379/0" {
		t.Errorf("redis.url = %q", cfg.Redis.URL)
	}
}

// TestInvalidValuesSetting: subgraphs.invalid_values defaults to
// extensions (the reference gateways' answer) and takes errors.
func TestInvalidValuesSetting(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"server: {}\n", "extensions"},
		{"subgraphs:\n  invalid_values: errors\n", "errors"},
		{"subgraphs:\n  invalid_values: extensions\n  all:\n    timeout: 1s\n", "extensions"},
	} {
		cfg, err := Parse([]byte(tc.yaml), env(nil))
		if err != nil {
			t.Fatalf("%q: %v", tc.yaml, err)
		}
		if cfg.Subgraphs.InvalidValues != tc.want {
			t.Errorf("%q: invalid_values %q, want %q", tc.yaml, cfg.Subgraphs.InvalidValues, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown key", "server:\n  listn: x\n", "line 2: server.listn: unknown key (did you mean listen?)"},
		{"a subgraph's name under subgraphs", "subgraphs:\n  products:\n    timeout: 5s\n",
			"line 2: subgraphs.products: unknown key: one subgraph's settings go under subgraphs.overrides.products, every subgraph's under subgraphs.all"},
		{"a typo under subgraphs", "subgraphs:\n  al:\n    timeout: 5s\n", "line 2: subgraphs.al: unknown key (did you mean all?)"},
		{"unset variable", "redis:\n  url: ${REDIS_URL}\n", "line 2: environment variable REDIS_URL is not set"},
		{"bad listen", "server:\n  listen: nowhere\n", "server.listen:"},
		{"listen port out of range", "server:\n  listen: 127.0.0.1:99999\n", `line 2: server.listen: "127.0.0.1:99999": the port is not a number from 0 to 65535`},
		{"bad size", "server:\n  max_body_bytes: lots\n", "not a size"},
		{"bad redis", "redis:\n  url: http://x\n", "redis.url: must be"},
		{"watch without path", "supergraph:\n  watch: true\n", "supergraph.watch: needs supergraph.path"},
		{"registry without token", "registry:\n  enabled: true\n", "registry.token: required"},
		{"registry short token", "registry:\n  enabled: true\n  token: short\n", "registry.token: must be at least 16"},
		{"registry bad listen", "registry:\n  listen: nowhere\n", "registry.listen:"},
		{"registry slow poll", "registry:\n  poll_interval: 5s\n", "registry.poll_interval:"},
		{"registry and watch", "supergraph:\n  path: x.graphql\n  watch: true\nregistry:\n  enabled: true\n  token: 0123456789abcdef\n", "supergraph.watch: not with registry.enabled"},
		{"negative timeout", "server:\n  request_timeout: -1s\n", "server.request_timeout:"},
		{"bad duration", "server:\n  shutdown_timeout: soon\n", `line 2: server.shutdown_timeout: "soon" is not a duration`},
		{"negative size", "server:\n  max_body_bytes: -5\n", "line 2: server.max_body_bytes: must be positive"},
		{"negative spool budget", "uploads:\n  enabled: true\n  max_spool_bytes: -1\n", "uploads.max_spool_bytes: must not be negative"},
		{"zero planning budget", "server:\n  max_planning_options: 0\n", "server.max_planning_options: must be at least 1"},
		{"word for a number", "server:\n  max_batch: many\n", "line 2: server.max_batch: want a whole number, got many"},
		{"list for a bool", "server:\n  playground: [1]\n", "line 2: server.playground: want true or false"},
		{"scalar for a section", "server: 5\n", "line 1: server: want a block of keys"},
		{"top level not a mapping", "- a\n", "(top level): want a block of keys"},
		{"two documents", "server: {}\n---\nredis: {}\n", "several"},
		{"syntax", "server:\n  listen: [\n", "["},
		{"unknown invalid_values", "subgraphs:\n  invalid_values: drop\n", `subgraphs.invalid_values: "drop" is none of "extensions", "errors"`},
		{"emptied override", "subgraphs:\n  overrides:\n    products:\n      retry:\n        attempts: x\n  all:\n    timeout: 1s\n", "line 5: subgraphs.overrides.products.retry.attempts: want a whole number, got x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), env(nil))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestEscapedDollar(t *testing.T) {
	cfg, err := Parse([]byte("supergraph:\n  path: /tmp/$${x}.graphql\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Supergraph.Path != "/tmp/${x}.graphql" {
		t.Errorf("path = %q", cfg.Supergraph.Path)
	}
}

func TestEmptyIsDefault(t *testing.T) {
	cfg, err := Parse(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Errorf("empty file differs from defaults")
	}
}

// TestParseReportsEverything: one file with an unknown key, bad values
// of several kinds and an invalid value gets every problem at once, in
// file order, each with its line and key.
func TestParseReportsEverything(t *testing.T) {
	yaml := `server:
  request_timeout: banana
  max_body_bytes: -5
  listn: 127.0.0.1:4000
  max_batch: lots
redis:
  timeout: 0s
subgraphs:
  all:
    timeout: forever
  overrides:
    products:
      retry:
        attempts: x
limits:
  bogus: 1
telemetry:
  logging:
    level: loud
`
	_, err := Parse([]byte(yaml), env(nil))
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		`line 2: server.request_timeout: "banana" is not a duration (write 150ms, 10s, 5m)`,
		`line 3: server.max_body_bytes: must be positive`,
		`line 4: server.listn: unknown key (did you mean listen?)`,
		`line 5: server.max_batch: want a whole number, got lots`,
		`line 7: redis.timeout: must be positive`,
		`line 10: subgraphs.all.timeout: "forever" is not a duration (write 150ms, 10s, 5m)`,
		`line 14: subgraphs.overrides.products.retry.attempts: want a whole number, got x`,
		`line 16: limits.bogus: unknown key`,
		`line 19: telemetry.logging.level:`,
	}
	got := strings.Split(err.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d problems, want %d:\n%v", len(got), len(want), err)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
}

// TestParseHostile: deep nesting, huge keys, anchors and aliases neither
// panic nor hang, and end in an error or a valid configuration.
func TestParseHostile(t *testing.T) {
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	for _, doc := range []string{
		"server: " + deep + "\n",
		"server:\n  " + strings.Repeat("k", 100000) + ": 1\n",
		"x: &a {server: 1}\nserver: *a\n",
		"server: &s\n  listen: 127.0.0.1:1\nlimits: *s\n",
		"server:\n  <<: {listen: 127.0.0.1:5}\n",
		"? [a]\n: 1\n",
		"server: !!binary aGVsbG8=\n",
		"server:\n  max_body_bytes: 99999999999999999999999\n",
		"server:\n  request_timeout: 9999999999h\n",
	} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			if _, err := Parse([]byte(doc), env(nil)); err != nil && len(err.Error()) > 4096 {
				t.Errorf("a %d-byte error for %.60q", len(err.Error()), doc)
			}
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("Parse hangs on %.60q", doc)
		}
	}
}

// TestTCPUserTimeout: server.tcp_user_timeout is the kernel timeout's
// own knob; unset it follows write_timeout (the default is unchanged), 0
// turns it off while the write deadline stays, which before only
// write_timeout: 0 (refused by validation) could do.
func TestTCPUserTimeout(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       time.Duration
	}{
		{"unset follows write_timeout", "server:\n  write_timeout: 20s\n", 0},
		{"off", "server:\n  tcp_user_timeout: 0s\n", -1},
		{"its own value", "server:\n  tcp_user_timeout: 45s\n", 45 * time.Second},
		{"off as a bare 0", "server:\n  tcp_user_timeout: 0\n", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tc.yaml), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Server.UserTimeout(); got != tc.want {
				t.Fatalf("UserTimeout() = %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := Parse([]byte("server:\n  tcp_user_timeout: -1s\n"), env(nil)); err == nil || !strings.Contains(err.Error(), "server.tcp_user_timeout: must not be negative") {
		t.Fatalf("negative: %v", err)
	}
}

// TestAssignNamesUsersOfAnIssuer: a tier assignment of a bare token
// subject ("jwt:alice") is accepted only when the gateway trusts one
// issuer; with several (or any) the error says what to write instead.
func TestAssignNamesUsersOfAnIssuer(t *testing.T) {
	const tiers = "limits:\n  tiers:\n    default: {requests: 10, window: 1s}\n    gold: {requests: 100, window: 1s}\n  clients:\n"
	key := func(issuers string) string {
		return "auth:\n  jwt:\n    keys:\n      - {kid: k, secret: s3cret-s3cret-s3cret-s3cret-s3cret, issuers: " + issuers + "}\n"
	}
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"one issuer listed", "auth:\n  jwt:\n    issuers: [https://a.example]\n    keys:\n      - {kid: k, secret: s3cret-s3cret-s3cret-s3cret-s3cret}\n" +
			tiers + "    assign: {\"jwt:alice\": gold}\n", ""},
		{"every key bound to one issuer", key("[https://a.example]") + tiers + "    assign: {\"jwt:alice\": gold}\n", ""},
		{"no token verification", tiers + "    assign: {\"jwt:alice\": gold}\n", ""},
		{"two issuers", key("[https://a.example, https://b.example]") + tiers + "    assign: {\"jwt:alice\": gold}\n",
			`limits.clients.assign.jwt:alice: names a token subject without its issuer, and auth.jwt verifies tokens of 2 issuers (https://a.example, https://b.example); write it as limits.clients.assign_jwt: [{issuer: https://a.example, sub: alice, tier: gold}]`},
		{"any issuer", key("[]") + tiers + "    assign: {\"jwt:alice\": gold}\n",
			"limits.clients.assign.jwt:alice: names a token subject without its issuer, and auth.jwt verifies tokens of any issuer"},
		{"by issuer", key("[https://a.example, https://b.example]") + tiers +
			"    assign_jwt:\n      - {issuer: https://a.example, sub: alice, tier: gold}\n      - {issuer: https://b.example, sub: alice, tier: default}\n", ""},
		{"an issuer no key signs for", key("[https://a.example, https://b.example]") + tiers +
			"    assign_jwt:\n      - {issuer: https://c.example, sub: alice, tier: gold}\n",
			`limits.clients.assign_jwt[0].issuer: "https://c.example" is not an issuer auth.jwt verifies`},
		{"without issuer", key("[]") + tiers + "    assign_jwt:\n      - {sub: alice, tier: gold}\n",
			"limits.clients.assign_jwt[0].issuer: must not be empty"},
		{"twice", key("[]") + tiers + "    assign_jwt:\n      - {issuer: a, sub: alice, tier: gold}\n      - {issuer: a, sub: alice, tier: default}\n",
			"limits.clients.assign_jwt[1]: places the same caller as limits.clients.assign_jwt[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), env(nil))
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestBareZeroDuration: a duration written as a bare 0 decodes, as the
// checker accepts it; before it passed the check and failed to decode,
// so `request_timeout: 0` ("none" in docs/config.md) was refused.
func TestBareZeroDuration(t *testing.T) {
	cfg, err := Parse([]byte("server:\n  request_timeout: 0\n  shutdown_timeout: 3s\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.RequestTimeout != 0 || cfg.Server.ShutdownTimeout != 3*time.Second {
		t.Fatalf("request_timeout %v, shutdown_timeout %v", cfg.Server.RequestTimeout, cfg.Server.ShutdownTimeout)
	}
}
