package registry

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// Config is the `registry` section of the gateway configuration.
type Config struct {
	// Enabled serves the registry's current supergraph and the admin API.
	Enabled bool `yaml:"enabled"`
	// Listen is the admin API's address, never the public one.
	Listen string `yaml:"listen"`
	// Token is the admin bearer token (usually ${FEDGATE_ADMIN_TOKEN}).
	Token string `yaml:"token"`
	// Dir is where versions are stored when redis.url is not set.
	Dir string `yaml:"dir"`
	// PollInterval is how often the current version is re-read, as a
	// fallback to Redis pub/sub (or the only signal with a shared Dir).
	PollInterval time.Duration `yaml:"poll_interval"`
	// IntrospectHosts are the hosts (name or IP, optionally host:port)
	// an introspect publish may fetch the SDL from; empty refuses
	// introspect publishes, so the admin API is no request oracle.
	IntrospectHosts []string `yaml:"introspect_hosts"`
	// MaxSDLBytes caps a published subgraph schema.
	MaxSDLBytes int `yaml:"max_sdl_bytes"`
}

// DefaultConfig returns the defaults: off, admin on 127.0.0.1:4001.
func DefaultConfig() Config {
	return Config{Listen: "127.0.0.1:4001", Dir: "fedgate-registry", PollInterval: 500 * time.Millisecond, MaxSDLBytes: DefaultMaxSDLBytes}
}

// Validate checks the section; errors name the key.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("registry.listen: %q is not host:port", c.Listen))
	}
	if c.Enabled && c.Token == "" {
		errs = append(errs, errors.New("registry.token: required when registry.enabled (set it from ${FEDGATE_ADMIN_TOKEN})"))
	}
	if c.Enabled && len(c.Token) < 16 && c.Token != "" {
		errs = append(errs, errors.New("registry.token: must be at least 16 characters"))
	}
	if c.Dir == "" {
		errs = append(errs, errors.New("registry.dir: must not be empty"))
	}
	if c.MaxSDLBytes <= 0 {
		errs = append(errs, errors.New("registry.max_sdl_bytes: must be positive"))
	}
	if c.PollInterval <= 0 || c.PollInterval > time.Second {
		errs = append(errs, errors.New("registry.poll_interval: must be positive and at most 1s"))
	}
	return errors.Join(errs...)
}
