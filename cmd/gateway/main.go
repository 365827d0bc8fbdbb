// Command gateway is the federation gateway: serve a supergraph, run the
// demo, or print a query plan (the command line lives in pkg/fedgate, so
// that a team can build its own binary with compiled-in hooks).
package main

import "github.com/fedgate/gateway/pkg/fedgate"

func main() { fedgate.Main() }
