// Command tenant is a gateway binary with one compiled-in hook
// (docs/extending.md): it is the gateway's whole command line plus hooks.
package main

import "github.com/fedgate/gateway/pkg/fedgate"

func main() { fedgate.Main(fedgate.WithHooks(tenantHooks("blocked"))) }
