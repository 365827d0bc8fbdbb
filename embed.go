// Package gateway holds the embedded default supergraph: gateway.graphql,
// composed from the demo subgraphs (see subgraphs/demo and make compose).
package gateway

import _ "embed"

// DemoSupergraph is the supergraph SDL of the demo subgraphs.
//
//go:embed gateway.graphql
var DemoSupergraph string
