// Package telemetry sets up OpenTelemetry traces and metrics and the
// structured request log. Other packages receive what they need from it
// (a trace.Tracer, a *Metrics, a *slog.Logger) as options; nothing here
// is global.
package telemetry

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Config is the "telemetry" section of the gateway configuration.
type Config struct {
	// ServiceName is the service.name resource attribute of traces and
	// metrics.
	ServiceName string `yaml:"service_name"`
	// Tracing configures spans and their export.
	Tracing TracingConfig `yaml:"tracing"`
	// Metrics configures the Prometheus endpoint.
	Metrics MetricsConfig `yaml:"metrics"`
	// Logging configures the process log and the request log.
	Logging LoggingConfig `yaml:"logging"`
}

// TracingConfig configures the trace per request and its OTLP export.
type TracingConfig struct {
	// OTLP is the exporter; spans are only recorded when it is enabled.
	OTLP OTLP `yaml:"otlp"`
	// Sampling is the ratio (0..1) of new traces recorded; a request
	// that carries a sampled traceparent is always recorded.
	Sampling float64 `yaml:"sampling"`
	// Propagate forwards the W3C traceparent to subgraphs.
	Propagate bool `yaml:"propagate"`
}

// OTLP is an OpenTelemetry protocol exporter.
type OTLP struct {
	// Enabled turns the export on.
	Enabled bool `yaml:"enabled"`
	// Endpoint is the collector's URL, e.g. http://otel-collector:4318
	// for http/protobuf or http://otel-collector:4317 for grpc.
	Endpoint string `yaml:"endpoint"`
	// Protocol is "http/protobuf" or "grpc".
	Protocol string `yaml:"protocol"`
	// Headers are sent with every export (e.g. an API key).
	Headers map[string]string `yaml:"headers"`
	// Timeout bounds one export.
	Timeout time.Duration `yaml:"timeout"`
}

// MetricsConfig configures the Prometheus exporter.
type MetricsConfig struct {
	// Prometheus serves the metrics in the Prometheus text format.
	Prometheus Prometheus `yaml:"prometheus"`
}

// Prometheus configures the /metrics endpoint.
type Prometheus struct {
	// Enabled turns the endpoint on.
	Enabled bool `yaml:"enabled"`
	// Listen is the address of the metrics listener; empty serves the
	// endpoint on the public listener instead.
	Listen string `yaml:"listen"`
	// Path is the endpoint's path.
	Path string `yaml:"path"`
}

// LoggingConfig configures slog.
type LoggingConfig struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is json or text.
	Format string `yaml:"format"`
	// Requests writes one line per client request at info level.
	Requests bool `yaml:"requests"`
}

// DefaultConfig returns the defaults of the section: no export, metrics on
// their own loopback listener, JSON logs at info with a line per request.
func DefaultConfig() Config {
	return Config{
		ServiceName: "fedgate",
		Tracing: TracingConfig{
			OTLP:      OTLP{Protocol: "http/protobuf", Timeout: 10 * time.Second},
			Sampling:  1,
			Propagate: true,
		},
		Metrics: MetricsConfig{Prometheus: Prometheus{Enabled: true, Listen: "127.0.0.1:9090", Path: "/metrics"}},
		Logging: LoggingConfig{Level: "info", Format: "json", Requests: true},
	}
}

// Validate checks the section; errors name the key.
func (c Config) Validate() error {
	var errs []error
	if c.ServiceName == "" {
		errs = append(errs, errors.New("telemetry.service_name: must not be empty"))
	}
	t := c.Tracing
	if t.Sampling < 0 || t.Sampling > 1 {
		errs = append(errs, fmt.Errorf("telemetry.tracing.sampling: %g is not between 0 and 1", t.Sampling))
	}
	if t.OTLP.Protocol != "http/protobuf" && t.OTLP.Protocol != "grpc" {
		errs = append(errs, fmt.Errorf("telemetry.tracing.otlp.protocol: %q is not http/protobuf or grpc", t.OTLP.Protocol))
	}
	if t.OTLP.Enabled {
		if u, err := url.Parse(t.OTLP.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("telemetry.tracing.otlp.endpoint: %q must be an http(s) URL", t.OTLP.Endpoint))
		}
	}
	if t.OTLP.Timeout <= 0 {
		errs = append(errs, errors.New("telemetry.tracing.otlp.timeout: must be positive"))
	}
	p := c.Metrics.Prometheus
	if p.Listen != "" {
		if _, _, err := net.SplitHostPort(p.Listen); err != nil {
			errs = append(errs, fmt.Errorf("telemetry.metrics.prometheus.listen: %q is not host:port", p.Listen))
		}
	}
	if !strings.HasPrefix(p.Path, "/") {
		errs = append(errs, fmt.Errorf("telemetry.metrics.prometheus.path: %q must start with /", p.Path))
	}
	if _, err := parseLevel(c.Logging.Level); err != nil {
		errs = append(errs, fmt.Errorf("telemetry.logging.level: %w", err))
	}
	if c.Logging.Format != "json" && c.Logging.Format != "text" {
		errs = append(errs, fmt.Errorf("telemetry.logging.format: %q is not json or text", c.Logging.Format))
	}
	return errors.Join(errs...)
}
