package subgraphs

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"time"

	"github.com/fedgate/gateway/internal/yamlduration"
	"github.com/goccy/go-yaml"
)

// Config is the "subgraphs" section of the gateway configuration: the
// settings of every subgraph (All) and per-subgraph overrides. An
// override names only the keys it changes; the rest come from All.
type Config struct {
	// All applies to every subgraph.
	All Settings `yaml:"all"`
	// Overrides are per subgraph name, merged key by key over All when
	// decoded from YAML. Built in code, an entry must be complete: start
	// from a copy of All.
	Overrides map[string]Settings `yaml:"overrides"`
	// MaxAnswerBytes bounds the bytes of subgraph answers read and held
	// at once, by every subgraph together, past the first 64 KiB of each
	// (the usual answers take nothing); an answer whose next bytes do
	// not fit fails with SUBREQUEST_HTTP_ERROR. 0 is no bound.
	MaxAnswerBytes int64 `yaml:"max_answer_bytes"`
	// InvalidValues says where a response reports the values of subgraph
	// answers that the API schema cannot represent (a leaf of the wrong
	// shape, an enum value it lacks or hides, an object of a runtime
	// type it hides or lacks), which are null in the response:
	// InvalidValuesExtensions (the default) or InvalidValuesErrors.
	InvalidValues string `yaml:"invalid_values"`
}

// The values of Config.InvalidValues.
const (
	// InvalidValuesExtensions lists them in the response's
	// extensions.valueCompletion and leaves "errors" alone, as Apollo
	// Gateway does (Hive Gateway reports them nowhere): clients see the
	// same data and errors from fedgate as from either.
	InvalidValuesExtensions = "extensions"
	// InvalidValuesErrors makes each a field error in "errors" (code
	// INVALID_SUBGRAPH_RESPONSE), as the spec's result coercion asks.
	InvalidValuesErrors = "errors"
)

// Settings configure the requests to one subgraph.
type Settings struct {
	// URL replaces the routing URL from the supergraph (overrides only).
	URL string `yaml:"url"`
	// Timeout bounds one attempt: connect, send, and read the answer.
	Timeout time.Duration `yaml:"timeout"`
	// MaxResponseBytes bounds a response body; larger answers fail with
	// SUBREQUEST_HTTP_ERROR without being read to the end.
	MaxResponseBytes int64 `yaml:"max_response_bytes"`
	// Pool sizes the connection pool.
	Pool Pool `yaml:"pool"`
	// Retry retries failed queries (never mutations).
	Retry Retry `yaml:"retry"`
	// Breaker is the circuit breaker.
	Breaker Breaker `yaml:"breaker"`
	// Bulkhead bounds the concurrent requests.
	Bulkhead Bulkhead `yaml:"bulkhead"`
	// HealthCheck probes the subgraph in the background.
	HealthCheck HealthCheck `yaml:"health_check"`
	// IncludeErrors passes the errors the subgraph writes to clients as
	// written. Off, they are redacted: a generic message with the path
	// and extensions.code only, since subgraphs put internal host names
	// and stack traces in messages and extensions.
	IncludeErrors bool `yaml:"include_errors"`
}

// Pool configures the HTTP connection pool of a subgraph.
type Pool struct {
	// MaxIdleConns is the number of idle keep-alive connections kept.
	MaxIdleConns int `yaml:"max_idle_conns"`
	// IdleTimeout closes a connection idle this long.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// DialTimeout bounds establishing a connection.
	DialTimeout time.Duration `yaml:"dial_timeout"`
}

// Retry configures retries of queries. A query is retried when the
// connection failed (refused, reset, closed before an answer) or the
// subgraph answered 502, 503 or 504; never after a timeout (the attempt
// already used its time), never for mutations.
type Retry struct {
	// Attempts is the most attempts per fetch, the first included; 1
	// turns retries off.
	Attempts int `yaml:"attempts"`
	// Backoff is the wait before the first retry; it doubles for each
	// further retry, up to MaxBackoff, and is jittered (a random wait
	// between half and all of it).
	Backoff time.Duration `yaml:"backoff"`
	// MaxBackoff caps the wait between attempts.
	MaxBackoff time.Duration `yaml:"max_backoff"`
	// BudgetRatio caps retries at this share of the requests of the
	// last BudgetWindow (plus MinPerSecond), so a failing subgraph does
	// not receive a multiple of its load.
	BudgetRatio float64 `yaml:"budget_ratio"`
	// MinPerSecond retries per second are always allowed, so that a
	// subgraph with little traffic can still be retried.
	MinPerSecond float64 `yaml:"min_per_second"`
	// BudgetWindow is the window over which requests and retries are
	// counted.
	BudgetWindow time.Duration `yaml:"budget_window"`
}

// Breaker configures the circuit breaker. Closed, it counts the outcomes
// of the last Window; it opens when at least MinRequests were made and
// the share of failures reaches FailureRatio, or after
// ConsecutiveFailures failures in a row. Open, it fails every request at
// once with SUBREQUEST_CIRCUIT_OPEN for OpenTimeout, then lets
// HalfOpenRequests probes through: if they all succeed it closes, if one
// fails it opens again. Failures are connection errors, timeouts, 5xx
// answers and bodies that are not JSON; GraphQL errors in a 200 answer
// are not.
type Breaker struct {
	// Enabled turns the breaker on.
	Enabled bool `yaml:"enabled"`
	// Window is the period over which outcomes are counted.
	Window time.Duration `yaml:"window"`
	// MinRequests is the least number of requests in Window before the
	// failure ratio is considered.
	MinRequests int `yaml:"min_requests"`
	// FailureRatio opens the breaker when reached (0..1).
	FailureRatio float64 `yaml:"failure_ratio"`
	// ConsecutiveFailures opens the breaker after that many failures in
	// a row; 0 disables this rule.
	ConsecutiveFailures int `yaml:"consecutive_failures"`
	// OpenTimeout is how long the breaker stays open before probing.
	OpenTimeout time.Duration `yaml:"open_timeout"`
	// HalfOpenRequests is the number of probes let through half-open,
	// all of which must succeed to close the breaker.
	HalfOpenRequests int `yaml:"half_open_requests"`
}

// Bulkhead bounds the requests in flight to one subgraph, so that a slow
// subgraph cannot tie up every connection and goroutine of the gateway.
// A request beyond MaxConcurrent waits up to MaxWait for a slot, then
// fails with SUBREQUEST_BULKHEAD_FULL (its fields are null).
type Bulkhead struct {
	// MaxConcurrent is the most requests in flight; 0 is unlimited.
	MaxConcurrent int `yaml:"max_concurrent"`
	// MaxWait is how long a request may wait for a slot; 0 fails at once.
	MaxWait time.Duration `yaml:"max_wait"`
}

// HealthCheck configures an active health check: a GraphQL query POSTed
// to the subgraph (or a GET of URL) every Interval. After
// UnhealthyThreshold failures in a row the breaker is forced open (if it
// is enabled) and the subgraph is reported unhealthy at /ready; the first
// success lets the breaker probe again.
type HealthCheck struct {
	// Enabled turns the check on.
	Enabled bool `yaml:"enabled"`
	// Interval is the time between checks.
	Interval time.Duration `yaml:"interval"`
	// Timeout bounds one check.
	Timeout time.Duration `yaml:"timeout"`
	// Query is the GraphQL query sent; the check passes on a 2xx JSON
	// answer without errors.
	Query string `yaml:"query"`
	// URL, when set, is fetched with GET instead; the check passes on 2xx.
	URL string `yaml:"url"`
	// UnhealthyThreshold is the number of failures in a row that make the
	// subgraph unhealthy.
	UnhealthyThreshold int `yaml:"unhealthy_threshold"`
}

// DefaultSettings are the settings of a subgraph that no key changes.
func DefaultSettings() Settings {
	return Settings{
		Timeout:          30 * time.Second,
		MaxResponseBytes: 64 << 20,
		Pool:             Pool{MaxIdleConns: 256, IdleTimeout: 90 * time.Second, DialTimeout: 5 * time.Second},
		Retry: Retry{Attempts: 2, Backoff: 25 * time.Millisecond, MaxBackoff: 500 * time.Millisecond,
			BudgetRatio: 0.2, MinPerSecond: 10, BudgetWindow: 10 * time.Second},
		Breaker: Breaker{Enabled: true, Window: 10 * time.Second, MinRequests: 20, FailureRatio: 0.5,
			ConsecutiveFailures: 5, OpenTimeout: 5 * time.Second, HalfOpenRequests: 1},
		Bulkhead:    Bulkhead{MaxConcurrent: 1024, MaxWait: 20 * time.Millisecond},
		HealthCheck: HealthCheck{Interval: 10 * time.Second, Timeout: 2 * time.Second, Query: "{ __typename }", UnhealthyThreshold: 3},
	}
}

// DefaultConfig returns the defaults of the section.
func DefaultConfig() Config {
	return Config{All: DefaultSettings(), MaxAnswerBytes: 128 << 20, InvalidValues: InvalidValuesExtensions}
}

// For returns the settings of the named subgraph: All with its override.
func (c Config) For(name string) Settings {
	if s, ok := c.Overrides[name]; ok {
		return s
	}
	s := c.All
	s.URL = ""
	return s
}

// UnmarshalYAML decodes the section: "all" over the settings already in
// c (the defaults), then each override over the result, so an override
// holds All's values for every key it does not name.
func (c *Config) UnmarshalYAML(data []byte) error {
	var raw struct {
		All       yaml.RawMessage            `yaml:"all"`
		Overrides map[string]yaml.RawMessage `yaml:"overrides"`
		// A pointer: absent, the value already in c stays.
		MaxAnswerBytes *int64  `yaml:"max_answer_bytes"`
		InvalidValues  *string `yaml:"invalid_values"`
	}
	if err := yaml.UnmarshalWithOptions(data, &raw, yaml.Strict()); err != nil {
		return fmt.Errorf("subgraphs: %s", yaml.FormatError(err, false, false))
	}
	if raw.MaxAnswerBytes != nil {
		c.MaxAnswerBytes = *raw.MaxAnswerBytes
	}
	if raw.InvalidValues != nil {
		c.InvalidValues = *raw.InvalidValues
	}
	if len(raw.All) > 0 {
		if err := yaml.UnmarshalWithOptions(raw.All, &c.All, yaml.Strict(), yaml.CustomUnmarshaler(yamlduration.Decode)); err != nil {
			return fmt.Errorf("subgraphs.all: %s", yaml.FormatError(err, false, false))
		}
	}
	if len(raw.Overrides) > 0 {
		c.Overrides = map[string]Settings{}
	}
	for name, r := range raw.Overrides {
		s := c.All
		s.URL = ""
		if err := yaml.UnmarshalWithOptions(r, &s, yaml.Strict(), yaml.CustomUnmarshaler(yamlduration.Decode)); err != nil {
			return fmt.Errorf("subgraphs.overrides.%s: %s", name, yaml.FormatError(err, false, false))
		}
		c.Overrides[name] = s
	}
	return nil
}

// Validate checks the section; errors name the key.
func (c Config) Validate() error {
	var errs []error
	if c.All.URL != "" {
		errs = append(errs, errors.New("subgraphs.all.url: a URL belongs to one subgraph; set it under subgraphs.overrides.NAME.url"))
	}
	if c.MaxAnswerBytes < 0 {
		errs = append(errs, errors.New("subgraphs.max_answer_bytes: must not be negative (0 is no bound)"))
	}
	switch c.InvalidValues {
	case InvalidValuesExtensions, InvalidValuesErrors, "":
	default:
		errs = append(errs, fmt.Errorf("subgraphs.invalid_values: %q is none of %q, %q", c.InvalidValues, InvalidValuesExtensions, InvalidValuesErrors))
	}
	errs = append(errs, c.All.validate("subgraphs.all"))
	names := make([]string, 0, len(c.Overrides))
	for name := range c.Overrides {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		errs = append(errs, c.Overrides[name].validate("subgraphs.overrides."+name))
	}
	return errors.Join(errs...)
}

func (s Settings) validate(key string) error {
	var errs []error
	bad := func(sub, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: "+format, append([]any{key, sub}, args...)...))
	}
	if s.URL != "" {
		if u, err := url.Parse(s.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("url", "%q must be an http(s) URL", s.URL)
		}
	}
	if s.Timeout <= 0 {
		bad("timeout", "must be positive")
	}
	if s.MaxResponseBytes <= 0 {
		bad("max_response_bytes", "must be positive")
	}
	if s.Pool.MaxIdleConns < 0 {
		bad("pool.max_idle_conns", "must not be negative")
	}
	if s.Pool.IdleTimeout <= 0 {
		bad("pool.idle_timeout", "must be positive")
	}
	if s.Pool.DialTimeout <= 0 {
		bad("pool.dial_timeout", "must be positive")
	}
	r := s.Retry
	if r.Attempts < 1 || r.Attempts > 10 {
		bad("retry.attempts", "%d is not between 1 and 10", r.Attempts)
	}
	if r.Backoff < 0 {
		bad("retry.backoff", "must not be negative")
	}
	if r.MaxBackoff < r.Backoff {
		bad("retry.max_backoff", "must be at least retry.backoff")
	}
	if r.BudgetRatio < 0 || r.BudgetRatio > 1 {
		bad("retry.budget_ratio", "%g is not between 0 and 1", r.BudgetRatio)
	}
	if r.MinPerSecond < 0 {
		bad("retry.min_per_second", "must not be negative")
	}
	if r.BudgetWindow < time.Second {
		bad("retry.budget_window", "must be at least 1s")
	}
	b := s.Breaker
	if b.Window < time.Second {
		bad("breaker.window", "must be at least 1s")
	}
	if b.MinRequests < 1 {
		bad("breaker.min_requests", "must be at least 1")
	}
	if b.FailureRatio <= 0 || b.FailureRatio > 1 {
		bad("breaker.failure_ratio", "%g is not in (0, 1]", b.FailureRatio)
	}
	if b.ConsecutiveFailures < 0 {
		bad("breaker.consecutive_failures", "must not be negative")
	}
	if b.OpenTimeout <= 0 {
		bad("breaker.open_timeout", "must be positive")
	}
	if b.HalfOpenRequests < 1 {
		bad("breaker.half_open_requests", "must be at least 1")
	}
	if s.Bulkhead.MaxConcurrent < 0 {
		bad("bulkhead.max_concurrent", "must not be negative")
	}
	if s.Bulkhead.MaxWait < 0 {
		bad("bulkhead.max_wait", "must not be negative")
	}
	h := s.HealthCheck
	if h.Interval <= 0 {
		bad("health_check.interval", "must be positive")
	}
	if h.Timeout <= 0 {
		bad("health_check.timeout", "must be positive")
	}
	if h.Enabled && h.Query == "" && h.URL == "" {
		bad("health_check.query", "needs a query or health_check.url")
	}
	if h.URL != "" {
		if u, err := url.Parse(h.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("health_check.url", "%q must be an http(s) URL", h.URL)
		}
	}
	if h.UnhealthyThreshold < 1 {
		bad("health_check.unhealthy_threshold", "must be at least 1")
	}
	return errors.Join(errs...)
}
