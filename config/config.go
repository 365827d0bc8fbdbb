// Package config loads the gateway's one YAML configuration file: every
// option has a default, `${VAR}` and `${VAR:-default}` expand from the
// environment, unknown keys are errors, and validation errors name the key.
//
// Each concern owns its section type in its own package (auth.Config,
// limits.Config, cache.Config, subgraphs.Config, telemetry.Config); this
// package puts them together and checks them.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/cache"
	"github.com/fedgate/gateway/coprocessor"
	"github.com/fedgate/gateway/internal/yamlduration"
	"github.com/fedgate/gateway/limits"
	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/respheaders"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs"
	"github.com/fedgate/gateway/subgraphs/registry"
	"github.com/fedgate/gateway/subscriptions"
	"github.com/fedgate/gateway/telemetry"
	"github.com/fedgate/gateway/uploads"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Config is the whole gateway configuration.
type Config struct {
	Server     Server           `yaml:"server"`
	Supergraph Supergraph       `yaml:"supergraph"`
	Redis      Redis            `yaml:"redis"`
	Subgraphs  subgraphs.Config `yaml:"subgraphs"`
	Auth       auth.Config      `yaml:"auth"`
	Limits     limits.Config    `yaml:"limits"`
	Cache      cache.Config     `yaml:"cache"`
	Telemetry  telemetry.Config `yaml:"telemetry"`
	Registry   registry.Config  `yaml:"registry"`
	// Subscriptions configures subscriptions (docs/subscriptions.md).
	Subscriptions subscriptions.Config `yaml:"subscriptions"`
	// ResponseHeaders propagates subgraph response headers to clients
	// (docs/config.md).
	ResponseHeaders respheaders.Config `yaml:"response_headers"`
	// Coprocessor sends request stages to an HTTP coprocessor
	// (docs/extending.md).
	Coprocessor coprocessor.Config `yaml:"coprocessor"`
	// Uploads accepts file uploads of the GraphQL multipart request spec
	// (docs/config.md).
	Uploads uploads.Config `yaml:"uploads"`
}

// Server configures the public HTTP listener and the request pipeline.
type Server struct {
	// Listen is the address of the GraphQL endpoint.
	Listen string `yaml:"listen"`
	// MaxBodyBytes caps a request body after decompression.
	MaxBodyBytes ByteSize `yaml:"max_body_bytes"`
	// MaxInflightBytes is the memory budget of the plans executing at
	// once; 0 disables it.
	MaxInflightBytes ByteSize `yaml:"max_inflight_bytes"`
	// Introspection answers __schema and __type queries.
	Introspection bool `yaml:"introspection"`
	// ExposePlan returns the query plan in extensions when a request
	// carries "Fedgate-Include-Plan: true".
	ExposePlan bool `yaml:"expose_plan"`
	// MaxPlanningOptions bounds the options the query planner evaluates
	// for one operation (fields placed, subgraph choices estimated); an
	// operation needing more gets 400 QUERY_PLANNING_FAILED.
	MaxPlanningOptions int `yaml:"max_planning_options"`
	// Playground serves GraphiQL at / and to browsers at the endpoint.
	Playground bool `yaml:"playground"`
	// Batching accepts a JSON array of requests, at most MaxBatch.
	Batching bool `yaml:"batching"`
	// MaxBatch caps the requests of one batch.
	MaxBatch int `yaml:"max_batch"`
	// DebugListen serves Go profiling (pprof) on this address; empty is off.
	DebugListen string `yaml:"debug_listen"`
	// MaxInflightRequests caps the client requests served at once; more
	// get a fast 503. 0 is unlimited.
	MaxInflightRequests int `yaml:"max_inflight_requests"`
	// MaxInflightPerClient caps one client's requests served at once
	// while the gateway is busy; more get 429 CLIENT_INFLIGHT_LIMIT. 0 is
	// unlimited.
	MaxInflightPerClient int `yaml:"max_inflight_per_client"`
	// RequestTimeout is the deadline of one client request; 0 is none.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// DrainDelay is how long, after SIGTERM, /ready answers 503 while new
	// requests are still served, before the listener closes.
	DrainDelay time.Duration `yaml:"drain_delay"`
	// ShutdownTimeout bounds how long in-flight requests may finish after
	// SIGTERM.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// ReadHeaderTimeout is the time a client has to send its headers.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout is the time a client has to send its body.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// IdleTimeout closes keep-alive connections idle that long.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// WriteTimeout is the time a client has to read an answer.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// TCPUserTimeout is each public connection's TCP_USER_TIMEOUT (Linux):
	// unset follows WriteTimeout, 0 turns it off.
	TCPUserTimeout *time.Duration `yaml:"tcp_user_timeout"`
	// MaxHeaderBytes caps the request line and headers.
	MaxHeaderBytes ByteSize `yaml:"max_header_bytes"`
	// MaxReadingBytes is the memory of the request bodies being read at
	// once; 0 disables the budget.
	MaxReadingBytes ByteSize `yaml:"max_reading_bytes"`
	// MaxWritingBytes is the memory of the answers (64 KiB or more) being
	// written at once; 0 disables the budget.
	MaxWritingBytes ByteSize `yaml:"max_writing_bytes"`
	// MaxConnectionsPerAddress caps the connections one address holds
	// open on the public listener (trusted proxies' are not counted); 0
	// is unlimited.
	MaxConnectionsPerAddress int `yaml:"max_connections_per_address"`
	// MaxHeaderCount caps a request's header lines; 0 is unlimited.
	MaxHeaderCount int `yaml:"max_header_count"`
}

// Supergraph says where the supergraph SDL comes from.
type Supergraph struct {
	// Path is a supergraph SDL file; empty serves the embedded demo
	// supergraph (gateway.graphql).
	Path string `yaml:"path"`
	// Watch reloads the file when it changes.
	Watch bool `yaml:"watch"`
}

// Redis configures the shared Redis used by rate limits, caches and the
// registry; an empty URL keeps everything in process.
type Redis struct {
	// URL is a redis://, rediss://, unix://, redis+cluster:// or
	// redis+sentinel:// URL (see cache.OpenRedisClient); empty disables
	// Redis.
	URL string `yaml:"url"`
	// Timeout bounds one Redis command; past it the gateway goes on
	// without Redis for that request.
	Timeout time.Duration `yaml:"timeout"`
	// PoolSize is the number of connections per gateway instance; 0 lets
	// go-redis choose (10 per CPU).
	PoolSize int `yaml:"pool_size"`
}

// serverDefaults and httpDefaults are the server package's defaults: the
// server section's defaults are set there, in one place.
var (
	serverDefaults = server.DefaultOptions()
	httpDefaults   = serverDefaults.HTTP
)

// Default returns the configuration used when a key is absent.
func Default() Config {
	return Config{
		Server: Server{
			Listen:           "127.0.0.1:4000",
			MaxBodyBytes:     ByteSize(serverDefaults.MaxBodyBytes),
			MaxInflightBytes: ByteSize(serverDefaults.MaxInflightBytes),
			Introspection:    serverDefaults.Introspection,
			ExposePlan:       serverDefaults.ExposePlan,
			Playground:       serverDefaults.Playground,
			Batching:         serverDefaults.AllowBatch,
			MaxBatch:         serverDefaults.MaxBatch,
			RequestTimeout:   60 * time.Second,
			ShutdownTimeout:  10 * time.Second,

			ReadHeaderTimeout:    httpDefaults.ReadHeaderTimeout,
			ReadTimeout:          httpDefaults.ReadTimeout,
			IdleTimeout:          httpDefaults.IdleTimeout,
			WriteTimeout:         httpDefaults.WriteTimeout,
			MaxInflightPerClient: httpDefaults.MaxInflightPerClient,
			MaxHeaderBytes:       ByteSize(httpDefaults.MaxHeaderBytes),
			MaxReadingBytes:      ByteSize(httpDefaults.MaxReadingBytes),
			MaxWritingBytes:      ByteSize(httpDefaults.MaxWritingBytes),

			MaxConnectionsPerAddress: httpDefaults.MaxConnectionsPerAddress,
			MaxHeaderCount:           httpDefaults.MaxHeaderCount,

			MaxPlanningOptions: planner.DefaultBudget,
		},
		Redis:     Redis{Timeout: 50 * time.Millisecond},
		Subgraphs: subgraphs.DefaultConfig(),
		Auth:      serverDefaults.Auth,
		Limits:    limits.DefaultConfig(),
		Cache:     serverDefaults.Cache,
		Telemetry: telemetry.DefaultConfig(),
		Registry:  registry.DefaultConfig(),

		Subscriptions: subscriptions.DefaultConfig(),
		Uploads:       uploads.DefaultConfig(),
	}
}

// Load reads the file at path over the defaults. An empty path gives the
// defaults.
func Load(path string) (Config, error) { return LoadOver(Default(), path) }

// LoadOver reads the file at path over base (the demo command's defaults
// differ from serve's). An empty path gives base, validated.
func LoadOver(base Config, path string) (Config, error) {
	if path == "" {
		return base, base.Validate()
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	cfg, err := ParseOver(base, data, os.LookupEnv)
	if err != nil {
		if msg := err.Error(); strings.Contains(msg, "\n") {
			// One problem a line, under the file's name.
			return Config{}, fmt.Errorf("config %s:\n  %s", path, strings.ReplaceAll(msg, "\n", "\n  "))
		}
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes YAML over the defaults, expanding ${VAR} through lookup,
// and validates the result.
func Parse(data []byte, lookup func(string) (string, bool)) (Config, error) {
	return ParseOver(Default(), data, lookup)
}

// ParseOver decodes YAML over base and validates the result. Every
// mistake is reported at once, one a line, each with its line in the file
// and its key: unknown keys, values that do not decode (a bad duration,
// a word where a number belongs) and values that do not validate.
func ParseOver(base Config, data []byte, lookup func(string) (string, bool)) (Config, error) {
	expanded, err := expand(data, lookup)
	if err != nil {
		return Config{}, err
	}
	cfg := base
	var root ast.Node
	var problems []problem
	if len(bytes.TrimSpace(expanded)) > 0 {
		file, err := parser.ParseBytes(expanded, 0)
		if err != nil {
			return Config{}, errors.New(yaml.FormatError(err, false, true))
		}
		if len(file.Docs) > 1 {
			return Config{}, errors.New("one YAML document expected, the file has several (---)")
		}
		if len(file.Docs) == 1 && file.Docs[0].Body != nil {
			root = file.Docs[0].Body
			c := &checker{}
			c.checkNode(root, reflect.TypeOf(Config{}), "")
			problems = c.problems
			// What is left after removing the mistakes decodes.
			if err := yaml.NodeToValue(root, &cfg, yaml.Strict(), yaml.CustomUnmarshaler(decodeDuration)); err != nil {
				problems = append(problems, problem{key: "config", msg: yaml.FormatError(err, false, false)})
				return Config{}, problemsError(problems)
			}
		}
	}
	if err := cfg.Validate(); err != nil {
		problems = append(problems, validationProblems(err, root)...)
	}
	if len(problems) > 0 {
		return Config{}, problemsError(problems)
	}
	return cfg, nil
}

// decodeDuration reads a duration as the checker accepts it: "150ms",
// "10s", or a bare 0 (before, a bare 0 passed the check and then failed
// to decode: `request_timeout: 0`, documented as "none", was refused).
var decodeDuration = yamlduration.Decode

// Validate checks every section; the error lists each problem on its own
// line, each naming its key.
func (c Config) Validate() error {
	var errs []error
	errs = append(errs, c.Server.validate(), c.Supergraph.validate(), c.Redis.validate())
	if j := c.Auth.JWT; len(j.Keys)+len(j.JWKS) > 0 {
		// Tiers assigned to token callers name users of the issuers
		// the gateway trusts.
		errs = append(errs, c.Limits.Clients.CheckIssuers(j.TrustedIssuers()))
	}
	if c.Registry.Enabled && c.Supergraph.Watch {
		errs = append(errs, errors.New("supergraph.watch: not with registry.enabled (the registry decides the supergraph)"))
	}
	for _, s := range []struct {
		key string
		err error
	}{
		{"subgraphs", c.Subgraphs.Validate()},
		{"auth", c.Auth.Validate()},
		{"limits", c.Limits.Validate()},
		{"cache", c.Cache.Validate()},
		{"telemetry", c.Telemetry.Validate()},
		{"registry", c.Registry.Validate()},
		{"subscriptions", c.Subscriptions.Validate()},
		{"response_headers", c.ResponseHeaders.Validate()},
		{"coprocessor", c.Coprocessor.Validate()},
		{"uploads", c.Uploads.Validate()},
	} {
		if s.err != nil {
			errs = append(errs, prefixed(s.key, s.err))
		}
	}
	return errors.Join(errs...)
}

// prefixed makes sure a section's error names its section.
func prefixed(key string, err error) error {
	if strings.HasPrefix(err.Error(), key+".") {
		return err
	}
	return fmt.Errorf("%s.%w", key, err)
}

func (s Server) validate() error {
	var errs []error
	if s.Listen == "" {
		errs = append(errs, errors.New("server.listen: must not be empty"))
	} else if _, _, err := splitHostPort(s.Listen); err != nil {
		errs = append(errs, fmt.Errorf("server.listen: %w", err))
	}
	if s.MaxBodyBytes <= 0 {
		errs = append(errs, errors.New("server.max_body_bytes: must be positive"))
	}
	if s.MaxInflightBytes < 0 {
		errs = append(errs, errors.New("server.max_inflight_bytes: must not be negative"))
	}
	if s.MaxPlanningOptions < 1 {
		errs = append(errs, errors.New("server.max_planning_options: must be at least 1"))
	}
	if s.MaxBatch < 1 {
		errs = append(errs, errors.New("server.max_batch: must be at least 1"))
	}
	if s.DebugListen != "" {
		if _, _, err := splitHostPort(s.DebugListen); err != nil {
			errs = append(errs, fmt.Errorf("server.debug_listen: %w", err))
		}
	}
	if s.MaxInflightRequests < 0 {
		errs = append(errs, errors.New("server.max_inflight_requests: must not be negative"))
	}
	if s.MaxInflightPerClient < 0 {
		errs = append(errs, errors.New("server.max_inflight_per_client: must not be negative (0 is unlimited)"))
	}
	if s.RequestTimeout < 0 {
		errs = append(errs, errors.New("server.request_timeout: must not be negative"))
	}
	if s.DrainDelay < 0 {
		errs = append(errs, errors.New("server.drain_delay: must not be negative"))
	}
	if s.ShutdownTimeout < 0 {
		errs = append(errs, errors.New("server.shutdown_timeout: must not be negative"))
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"read_header_timeout", s.ReadHeaderTimeout}, {"read_timeout", s.ReadTimeout}, {"idle_timeout", s.IdleTimeout}, {"write_timeout", s.WriteTimeout}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("server.%s: must be positive (a client that never finishes must not hold a connection)", d.key))
		}
	}
	if s.TCPUserTimeout != nil && *s.TCPUserTimeout < 0 {
		errs = append(errs, errors.New("server.tcp_user_timeout: must not be negative (0 turns it off)"))
	}
	if s.MaxHeaderBytes < 4<<10 {
		errs = append(errs, errors.New("server.max_header_bytes: must be at least 4KiB"))
	}
	if s.MaxHeaderCount < 0 {
		errs = append(errs, errors.New("server.max_header_count: must not be negative (0 is unlimited)"))
	}
	if s.MaxConnectionsPerAddress < 0 {
		errs = append(errs, errors.New("server.max_connections_per_address: must not be negative (0 is unlimited)"))
	}
	if s.MaxReadingBytes < 0 {
		errs = append(errs, errors.New("server.max_reading_bytes: must not be negative"))
	}
	if s.MaxWritingBytes < 0 {
		errs = append(errs, errors.New("server.max_writing_bytes: must not be negative"))
	}
	return errors.Join(errs...)
}

// UserTimeout is TCPUserTimeout as server.HTTPOptions takes it: 0 when
// unset (it follows WriteTimeout), negative when set to 0 (off).
func (s Server) UserTimeout() time.Duration {
	switch {
	case s.TCPUserTimeout == nil:
		return 0
	case *s.TCPUserTimeout == 0:
		return -1
	}
	return *s.TCPUserTimeout
}

func (s Supergraph) validate() error {
	if s.Watch && s.Path == "" {
		return errors.New("supergraph.watch: needs supergraph.path (or gateway serve --supergraph FILE)")
	}
	return nil
}

func (r Redis) validate() error {
	var errs []error
	if r.URL != "" && !cache.ValidRedisURL(r.URL) {
		errs = append(errs, errors.New("redis.url: must be a redis://, rediss://, unix://, redis+cluster:// or redis+sentinel:// URL"))
	}
	if r.Timeout <= 0 {
		errs = append(errs, errors.New("redis.timeout: must be positive"))
	}
	if r.PoolSize < 0 {
		errs = append(errs, errors.New("redis.pool_size: must not be negative"))
	}
	return errors.Join(errs...)
}

// envRef matches ${NAME} and ${NAME:-default}.
var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// expand replaces ${VAR} references; an unset variable without a default
// is an error naming it and its line. "$${" escapes a literal "${".
func expand(data []byte, lookup func(string) (string, bool)) ([]byte, error) {
	var errs []error
	lines := bytes.Split(data, []byte("\n"))
	for i, line := range lines {
		if bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			continue
		}
		const escape = "\x00fedgate-dollar\x00"
		line = bytes.ReplaceAll(line, []byte("$${"), []byte(escape))
		line = envRef.ReplaceAllFunc(line, func(ref []byte) []byte {
			m := envRef.FindSubmatch(ref)
			if v, ok := lookup(string(m[1])); ok {
				return []byte(v)
			}
			if len(m[2]) > 0 {
				return m[3]
			}
			errs = append(errs, fmt.Errorf("line %d: environment variable %s is not set (write ${%s:-default} for a default)", i+1, m[1], m[1]))
			return nil
		})
		lines[i] = bytes.ReplaceAll(line, []byte(escape), []byte("${"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return bytes.Join(lines, []byte("\n")), nil
}
