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
	if cfg.Server.MaxBatch != Default().Server.MaxBatch || cfg.Redis.Timeout != Default().Redis.Timeout {
		t.Errorf("defaults lost: %+v %+v", cfg.Server, cfg.Redis)
	}
	if cfg.Redis.URL != "redis://127.0.0.1:6379/0" {
		t.Errorf("redis.url = %q", cfg.Redis.URL)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown key", "server:\n  listn: x\n", `unknown field "listn"`},
		{"unset variable", "redis:\n  url: ${REDIS_URL}\n", "line 2: environment variable REDIS_URL is not set"},
		{"bad listen", "server:\n  listen: nowhere\n", "server.listen:"},
		{"bad size", "server:\n  max_body_bytes: lots\n", "not a size"},
		{"bad redis", "redis:\n  url: http://x\n", "redis.url: must be"},
		{"watch without path", "supergraph:\n  watch: true\n", "supergraph.watch: needs supergraph.path"},
		{"registry without token", "registry:\n  enabled: true\n", "registry.token: required"},
		{"registry short token", "registry:\n  enabled: true\n  token: short\n", "registry.token: must be at least 16"},
		{"registry bad listen", "registry:\n  listen: nowhere\n", "registry.listen:"},
		{"registry slow poll", "registry:\n  poll_interval: 5s\n", "registry.poll_interval:"},
		{"registry and watch", "supergraph:\n  path: x.graphql\n  watch: true\nregistry:\n  enabled: true\n  token: 0123456789abcdef\n", "supergraph.watch: not with registry.enabled"},
		{"negative timeout", "server:\n  request_timeout: -1s\n", "server.request_timeout:"},
		{"bad duration", "server:\n  shutdown_timeout: soon\n", "soon"},
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
