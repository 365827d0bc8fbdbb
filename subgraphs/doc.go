// Package subgraphs talks to subgraphs: Client is the HTTP transport the
// executor sends fetches through (connection pooling, per-request
// timeouts, bounded response bodies). The demo subgraphs live in
// subgraphs/demo.
package subgraphs
