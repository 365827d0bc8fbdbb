package telemetry

import (
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(c *Config)
		want string
	}{
		{"sampling", func(c *Config) { c.Tracing.Sampling = 1.5 }, "telemetry.tracing.sampling: 1.5 is not between 0 and 1"},
		{"protocol", func(c *Config) { c.Tracing.OTLP.Protocol = "thrift" }, `telemetry.tracing.otlp.protocol: "thrift"`},
		{"endpoint", func(c *Config) { c.Tracing.OTLP.Enabled = true; c.Tracing.OTLP.Endpoint = "collector:4318" }, "telemetry.tracing.otlp.endpoint:"},
		{"listen", func(c *Config) { c.Metrics.Prometheus.Listen = "9090" }, "telemetry.metrics.prometheus.listen:"},
		{"path", func(c *Config) { c.Metrics.Prometheus.Path = "metrics" }, "telemetry.metrics.prometheus.path:"},
		{"level", func(c *Config) { c.Logging.Level = "loud" }, "telemetry.logging.level:"},
		{"format", func(c *Config) { c.Logging.Format = "xml" }, "telemetry.logging.format:"},
		{"service", func(c *Config) { c.ServiceName = "" }, "telemetry.service_name:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestValidRequestID(t *testing.T) {
	for id, want := range map[string]bool{
		"abc-123": true, "a.b_c:d": true, NewRequestID(): true,
		"": false, "has space": false, strings.Repeat("x", 129): false, "a\nb": false, "é": false,
	} {
		if got := ValidRequestID(id); got != want {
			t.Errorf("ValidRequestID(%q) = %v, want %v", id, got, want)
		}
	}
}
