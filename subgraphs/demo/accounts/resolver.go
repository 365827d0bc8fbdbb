package accounts

// This file will not be regenerated automatically.

// Resolver is the root resolver of the accounts subgraph. It is stateless:
// the data lives in package-level tables that are never written.
type Resolver struct{}
