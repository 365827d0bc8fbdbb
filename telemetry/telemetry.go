package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Span names of the request pipeline. The server starts one span per
// stage under the request's root span; the subgraph client starts the
// fetch spans.
const (
	SpanRequest   = "request"
	SpanParse     = "parse"
	SpanValidate  = "validate"
	SpanAuthorize = "authorize"
	SpanPlan      = "plan"
	SpanExecute   = "execute"
	SpanFetch     = "fetch"
	SpanAttempt   = "subgraph_request"
	SpanMerge     = "merge"
	// SpanDeferPart covers one @defer part of an incremental response,
	// from its start to its payload (attributes defer.id, defer.label,
	// defer.path, defer.errors).
	SpanDeferPart = "defer_part"
)

// Propagator reads and writes the W3C traceparent and tracestate headers.
var Propagator propagation.TextMapPropagator = propagation.TraceContext{}

// Options are what New needs besides the configuration.
type Options struct {
	// SpanExporter, when set, receives every span (tests pass an
	// in-memory exporter); it replaces the OTLP exporter.
	SpanExporter sdktrace.SpanExporter
	// LogOutput is where logs go; nil is stderr.
	LogOutput io.Writer
	// Version is the service.version resource attribute.
	Version string
}

// Telemetry is the set-up of traces, metrics and logs for one process.
type Telemetry struct {
	// Tracer starts the spans of the pipeline; a no-op tracer when no
	// exporter is configured (trace context is still propagated).
	Tracer trace.Tracer
	// Metrics holds the gateway's instruments.
	Metrics *Metrics
	// Logger is the process logger.
	Logger *slog.Logger
	// Propagate says whether subgraph requests carry the traceparent.
	Propagate bool

	cfg     Config
	tp      *sdktrace.TracerProvider
	mp      *sdkmetric.MeterProvider
	metrics http.Handler
}

// New sets up telemetry as cfg says.
func New(ctx context.Context, cfg Config, opts Options) (*Telemetry, error) {
	t := &Telemetry{cfg: cfg, Propagate: cfg.Tracing.Propagate}
	logger, err := NewLogger(cfg.Logging, opts.LogOutput)
	if err != nil {
		return nil, err
	}
	t.Logger = logger
	res := resource.NewSchemaless(attribute.String("service.name", cfg.ServiceName), attribute.String("service.version", opts.Version))

	exporter := opts.SpanExporter
	if exporter == nil && cfg.Tracing.OTLP.Enabled {
		exporter, err = otlpExporter(ctx, cfg.Tracing.OTLP)
		if err != nil {
			return nil, err
		}
	}
	if exporter != nil {
		var proc sdktrace.SpanProcessor
		if opts.SpanExporter != nil {
			proc = sdktrace.NewSimpleSpanProcessor(exporter)
		} else {
			proc = sdktrace.NewBatchSpanProcessor(exporter)
		}
		t.tp = sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithSpanProcessor(proc),
			sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.Tracing.Sampling))))
		t.Tracer = t.tp.Tracer("github.com/fedgate/gateway")
	} else {
		t.Tracer = noop.NewTracerProvider().Tracer("")
	}

	if cfg.Metrics.Prometheus.Enabled {
		reg := prometheus.NewRegistry()
		// The process's and the Go runtime's own metrics, which operators
		// expect beside the gateway's (resident memory, open descriptors:
		// server.max_connections_per_address applies past half the limit;
		// goroutines, collector pauses).
		reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
		exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
		if err != nil {
			return nil, fmt.Errorf("telemetry: prometheus exporter: %w", err)
		}
		t.mp = sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(exp))
		t.metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
		t.Metrics, err = NewMetrics(t.mp.Meter("github.com/fedgate/gateway"))
		if err != nil {
			return nil, err
		}
	}
	return t, nil
}

func otlpExporter(ctx context.Context, c OTLP) (sdktrace.SpanExporter, error) {
	var client otlptrace.Client
	insecure := strings.HasPrefix(c.Endpoint, "http://")
	switch c.Protocol {
	case "grpc":
		o := []otlptracegrpc.Option{otlptracegrpc.WithEndpointURL(c.Endpoint), otlptracegrpc.WithTimeout(c.Timeout), otlptracegrpc.WithHeaders(c.Headers)}
		if insecure {
			o = append(o, otlptracegrpc.WithInsecure())
		}
		client = otlptracegrpc.NewClient(o...)
	default:
		o := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(c.Endpoint), otlptracehttp.WithTimeout(c.Timeout), otlptracehttp.WithHeaders(c.Headers)}
		if insecure {
			o = append(o, otlptracehttp.WithInsecure())
		}
		client = otlptracehttp.NewClient(o...)
	}
	exp, err := otlptrace.New(ctx, client)
	if err != nil {
		return nil, fmt.Errorf("telemetry: OTLP exporter: %w", err)
	}
	return exp, nil
}

// MetricsHandler serves the Prometheus text format; nil when Prometheus
// is off.
func (t *Telemetry) MetricsHandler() http.Handler { return t.metrics }

// MetricsListen is the address of the metrics listener; empty means the
// public listener serves MetricsPath.
func (t *Telemetry) MetricsListen() string { return t.cfg.Metrics.Prometheus.Listen }

// MetricsPath is the path of the metrics endpoint.
func (t *Telemetry) MetricsPath() string { return t.cfg.Metrics.Prometheus.Path }

// RequestLog is the logger of the per-request lines, nil when they are off.
func (t *Telemetry) RequestLog() *slog.Logger {
	if !t.cfg.Logging.Requests {
		return nil
	}
	return t.Logger
}

// Shutdown flushes spans that are still buffered and stops the providers.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	var errs []error
	if t.tp != nil {
		errs = append(errs, t.tp.Shutdown(ctx))
	}
	if t.mp != nil {
		errs = append(errs, t.mp.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// NewLogger returns a slog logger writing to w (stderr when nil) in the
// configured format and level.
func NewLogger(c LoggingConfig, w io.Writer) (*slog.Logger, error) {
	level, err := parseLevel(c.Level)
	if err != nil {
		return nil, fmt.Errorf("telemetry.logging.level: %w", err)
	}
	if w == nil {
		w = os.Stderr
	}
	o := &slog.HandlerOptions{Level: level}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(w, o)), nil
	}
	return slog.New(slog.NewJSONHandler(w, o)), nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("%q is not debug, info, warn or error", s)
	}
	return l, nil
}
