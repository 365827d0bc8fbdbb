package cache

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// Config is the "cache" section of the gateway configuration.
type Config struct {
	// Response is the whole-response cache.
	Response ResponseConfig `yaml:"response"`
	// Entity is the cache of _entities results.
	Entity EntityConfig `yaml:"entity"`
	// APQ is automatic persisted queries.
	APQ APQConfig `yaml:"apq"`
	// TrustedDocuments is the manifest of allowed operations.
	TrustedDocuments TrustedDocumentsConfig `yaml:"trusted_documents"`
	// Dedupe shares one subgraph call between identical concurrent query
	// fetches.
	Dedupe bool `yaml:"dedupe"`
	// InboundDedupe shares one execution, and its serialized answer,
	// between identical concurrent client queries from callers whose
	// answers cannot differ.
	InboundDedupe bool `yaml:"inbound_dedupe"`
}

// ResponseConfig configures the response cache.
type ResponseConfig struct {
	// Enabled turns the response cache on. A response is stored only when
	// its policy allows it: with the defaults, only operations whose every
	// root field carries a @cacheControl(maxAge) hint are cached.
	Enabled bool `yaml:"enabled"`
	// DefaultMaxAge is the maxAge of root fields, and of fields returning
	// an object type, that carry no hint (Apollo's defaultMaxAge).
	DefaultMaxAge time.Duration `yaml:"default_max_age"`
	// VaryHeaders are request headers whose values change the answer;
	// they are part of the key.
	VaryHeaders []string `yaml:"vary_headers"`
	// Hints set or override hints by "Type.field" (or "Type" for every
	// field returning it), as @cacheControl would in the schema.
	Hints map[string]Hint `yaml:"hints"`
	// MaxBytes bounds the in-process (L1) cache.
	MaxBytes int64 `yaml:"max_bytes"`
	// Redis stores responses in Redis too (L2) when redis.url is set.
	Redis bool `yaml:"redis"`
}

// Hint is a cache hint set in the configuration.
type Hint struct {
	// MaxAge is the hint's maxAge; 0 with InheritMaxAge unset means 0.
	MaxAge time.Duration `yaml:"max_age"`
	// Scope is PUBLIC (default) or PRIVATE.
	Scope string `yaml:"scope"`
	// InheritMaxAge takes the parent field's maxAge.
	InheritMaxAge bool `yaml:"inherit_max_age"`
}

// EntityConfig configures the entity cache.
type EntityConfig struct {
	// Enabled turns the entity cache on for every subgraph unless
	// Subgraphs says otherwise.
	Enabled bool `yaml:"enabled"`
	// TTL is how long an entity is kept, unless the subgraph's
	// Cache-Control max-age is shorter.
	TTL time.Duration `yaml:"ttl"`
	// Subgraphs override Enabled and TTL per subgraph name.
	Subgraphs map[string]SubgraphEntityConfig `yaml:"subgraphs"`
	// L1 keeps entities in process as well as in Redis; without Redis the
	// in-process cache is the only one and is always used.
	L1 bool `yaml:"l1"`
	// MaxBytes bounds the in-process entity cache.
	MaxBytes int64 `yaml:"max_bytes"`
}

// SubgraphEntityConfig is the entity cache setting of one subgraph.
type SubgraphEntityConfig struct {
	// Enabled turns the cache on or off for the subgraph; nil follows
	// entity.enabled.
	Enabled *bool `yaml:"enabled"`
	// TTL replaces entity.ttl; 0 keeps it.
	TTL time.Duration `yaml:"ttl"`
}

// APQConfig configures automatic persisted queries.
type APQConfig struct {
	// Enabled accepts Apollo's extensions.persistedQuery protocol.
	Enabled bool `yaml:"enabled"`
	// TTL is how long Redis keeps a registered query.
	TTL time.Duration `yaml:"ttl"`
	// MaxBytes bounds the in-process store.
	MaxBytes int64 `yaml:"max_bytes"`
	// MaxDocumentBytes is the largest document registered; a larger one
	// runs but is not stored.
	MaxDocumentBytes int64 `yaml:"max_document_bytes"`
	// MaxRedisBytes bounds the bytes of the documents registered in
	// Redis per TTL (by every gateway sharing it); past it a document
	// is kept in process only. 0 is no bound.
	MaxRedisBytes int64 `yaml:"max_redis_bytes"`
}

// Trusted document modes.
const (
	// TrustedOff ignores the manifest.
	TrustedOff = "off"
	// TrustedAllow resolves manifest ids; other operations still run.
	TrustedAllow = "allow"
	// TrustedSafelist runs only operations whose text is in the manifest,
	// sent by id or in full.
	TrustedSafelist = "safelist"
	// TrustedIDsOnly runs only manifest operations sent by id: a request
	// carrying a query text is refused.
	TrustedIDsOnly = "ids_only"
)

// TrustedDocumentsConfig configures trusted documents.
type TrustedDocumentsConfig struct {
	// Mode is off, allow, safelist or ids_only.
	Mode string `yaml:"mode"`
	// Manifest is the path of an Apollo persisted query manifest
	// (format "apollo-persisted-query-manifest", version 1).
	Manifest string `yaml:"manifest"`
}

// DefaultConfig returns the defaults of the section: response cache on
// (it stores nothing without hints), entity cache off, APQ on, trusted
// documents off, dedupe on.
func DefaultConfig() Config {
	return Config{
		Response: ResponseConfig{Enabled: true, MaxBytes: 64 << 20, Redis: true},
		Entity:   EntityConfig{TTL: time.Minute, L1: true, MaxBytes: 32 << 20},
		APQ:      APQConfig{Enabled: true, TTL: 24 * time.Hour, MaxBytes: 16 << 20, MaxDocumentBytes: 64 << 10, MaxRedisBytes: 64 << 20},
		TrustedDocuments: TrustedDocumentsConfig{
			Mode: TrustedOff,
		},
		Dedupe:        true,
		InboundDedupe: true,
	}
}

// Validate checks the section; errors name the key.
func (c Config) Validate() error {
	var errs []error
	if c.Response.DefaultMaxAge < 0 {
		errs = append(errs, errors.New("cache.response.default_max_age: must not be negative"))
	}
	if c.Response.MaxBytes <= 0 {
		errs = append(errs, errors.New("cache.response.max_bytes: must be positive"))
	}
	for i, h := range c.Response.VaryHeaders {
		if h == "" {
			errs = append(errs, fmt.Errorf("cache.response.vary_headers[%d]: must not be empty", i))
		}
	}
	for name, h := range c.Response.Hints {
		if !validHintName(name) {
			errs = append(errs, fmt.Errorf("cache.response.hints.%s: want Type or Type.field", name))
		}
		if h.MaxAge < 0 {
			errs = append(errs, fmt.Errorf("cache.response.hints.%s.max_age: must not be negative", name))
		}
		if _, ok := parseScope(h.Scope); !ok {
			errs = append(errs, fmt.Errorf("cache.response.hints.%s.scope: must be PUBLIC or PRIVATE", name))
		}
	}
	if c.Entity.TTL <= 0 {
		errs = append(errs, errors.New("cache.entity.ttl: must be positive"))
	}
	if c.Entity.MaxBytes <= 0 {
		errs = append(errs, errors.New("cache.entity.max_bytes: must be positive"))
	}
	for name, s := range c.Entity.Subgraphs {
		if s.TTL < 0 {
			errs = append(errs, fmt.Errorf("cache.entity.subgraphs.%s.ttl: must not be negative", name))
		}
	}
	if c.APQ.TTL <= 0 {
		errs = append(errs, errors.New("cache.apq.ttl: must be positive"))
	}
	if c.APQ.MaxBytes <= 0 {
		errs = append(errs, errors.New("cache.apq.max_bytes: must be positive"))
	}
	if c.APQ.MaxDocumentBytes < 0 {
		errs = append(errs, errors.New("cache.apq.max_document_bytes: must not be negative"))
	}
	if c.APQ.MaxRedisBytes < 0 {
		errs = append(errs, errors.New("cache.apq.max_redis_bytes: must not be negative"))
	}
	switch c.TrustedDocuments.Mode {
	case TrustedOff, "":
	case TrustedAllow, TrustedSafelist, TrustedIDsOnly:
		if c.TrustedDocuments.Manifest == "" {
			errs = append(errs, fmt.Errorf("cache.trusted_documents.manifest: required in mode %s", c.TrustedDocuments.Mode))
		} else if _, err := os.Stat(c.TrustedDocuments.Manifest); err != nil {
			errs = append(errs, fmt.Errorf("cache.trusted_documents.manifest: %w", err))
		}
	default:
		errs = append(errs, fmt.Errorf("cache.trusted_documents.mode: %q is not one of off, allow, safelist, ids_only", c.TrustedDocuments.Mode))
	}
	return errors.Join(errs...)
}

// EntitySubgraph returns whether the entity cache is on for subgraph and
// its TTL.
func (c EntityConfig) EntitySubgraph(subgraph string) (bool, time.Duration) {
	on, ttl := c.Enabled, c.TTL
	if s, ok := c.Subgraphs[subgraph]; ok {
		if s.Enabled != nil {
			on = *s.Enabled
		}
		if s.TTL > 0 {
			ttl = s.TTL
		}
	}
	return on, ttl
}

func validHintName(s string) bool {
	dots := 0
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '.':
			dots++
			if i == 0 || i == len(s)-1 {
				return false
			}
		case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return dots <= 1
}

// AnySubgraph reports whether the entity cache may be on for some
// subgraph: on for all, or turned on for one of them.
func (c EntityConfig) AnySubgraph() bool {
	if c.Enabled {
		return true
	}
	for _, s := range c.Subgraphs {
		if s.Enabled != nil && *s.Enabled {
			return true
		}
	}
	return false
}
