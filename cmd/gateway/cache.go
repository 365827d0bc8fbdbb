package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/fedgate/gateway/cache"
	"github.com/fedgate/gateway/server"
)

// cacheFlags are the cache options of serve and demo until the YAML
// configuration (section "cache") is wired into the command.
type cacheFlags struct {
	maxAge   *time.Duration
	redisURL *string
	entities *bool
	dedupe   *bool
}

func addCacheFlags(fs *flag.FlagSet) *cacheFlags {
	return &cacheFlags{
		maxAge:   fs.Duration("cache-default-max-age", 0, "maxAge of root and object fields without a @cacheControl hint (0: only hinted operations are cached)"),
		redisURL: fs.String("redis-url", "", "Redis shared by the caches (redis://host:port/db); empty keeps them in process"),
		entities: fs.Bool("entity-cache", false, "cache _entities results of every subgraph"),
		dedupe:   fs.Bool("dedupe", true, "share one subgraph call between identical concurrent query fetches"),
	}
}

// apply sets the cache options from the flags.
func (c *cacheFlags) apply(opts *server.Options) error {
	opts.Cache.Response.DefaultMaxAge = *c.maxAge
	opts.Cache.Entity.Enabled = *c.entities
	opts.Cache.Dedupe = *c.dedupe
	if err := opts.Cache.Validate(); err != nil {
		return err
	}
	if *c.redisURL != "" {
		r, err := cache.NewRedis(cache.RedisOptions{URL: *c.redisURL})
		if err != nil {
			return fmt.Errorf("--redis-url: %w", err)
		}
		opts.Redis = r
	}
	return nil
}
