package inventory

// This file will not be regenerated automatically.

// Resolver is the root resolver of the inventory subgraph. It is stateless:
// the data lives in package-level tables that are never written.
type Resolver struct{}
