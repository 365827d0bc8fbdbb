// Package registry is the schema registry: service teams publish subgraph
// schemas to a running gateway, which composes them, checks the new API
// schema for breaking changes, stores a new supergraph version durably and
// hot-swaps it in. Versions live in a directory on disk or in Redis
// (shared by every gateway instance).
package registry

import (
	"context"
	"errors"
	"time"
)

// Subgraph is one registered subgraph.
type Subgraph struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	SDL  string `json:"sdl,omitempty"`
	// Revision counts the publishes of this subgraph.
	Revision  int       `json:"revision"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Version is one supergraph version: every subgraph and the supergraph
// composed from them. Versions are numbered from 1, without gaps.
type Version struct {
	Number     int64      `json:"version"`
	CreatedAt  time.Time  `json:"created_at"`
	Reason     string     `json:"reason"`
	Subgraphs  []Subgraph `json:"subgraphs"`
	Supergraph string     `json:"supergraph"`
}

// ErrConflict is returned by Store.Commit when another writer committed
// a version first.
var ErrConflict = errors.New("registry: another version was committed concurrently")

// ErrNotFound is returned for a version the store does not have.
var ErrNotFound = errors.New("registry: no such version")

// Store keeps supergraph versions durably. Commit returns only once the
// version is durable.
type Store interface {
	// Current returns the current version, or nil when nothing was ever
	// published.
	Current(ctx context.Context) (*Version, error)
	// Get returns version n, or ErrNotFound.
	Get(ctx context.Context, n int64) (*Version, error)
	// History returns every version, oldest first.
	History(ctx context.Context) ([]*Version, error)
	// Commit stores v (whose Number must be prev+1) and makes it current,
	// unless the current version is no longer prev (ErrConflict).
	Commit(ctx context.Context, prev int64, v *Version) error
	// Watch calls notify with a version number whenever another writer may
	// have committed one, until ctx ends.
	Watch(ctx context.Context, notify func(n int64))
}
