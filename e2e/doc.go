// Package e2e holds the gateway's end-to-end tests: response goldens, fault
// cases and the hostile request corpus, all over real HTTP against the demo
// subgraphs (or small fault handlers) started by internal/gatewaytest. It
// has no non-test code.
package e2e
