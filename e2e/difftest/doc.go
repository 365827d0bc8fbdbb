// Package difftest is the differential test of issue 14: generated valid
// operations (internal/opgen) sent to fedgate and to reference gateways
// from npm (Apollo Gateway; Hive Gateway too with DIFFTEST_HIVE=1), all in
// front of the same subgraphs, answers compared (internal/difftest).
//
// `go test ./e2e/difftest` (part of make test) runs 200 operations on the
// demo graph; make difftest runs more operations on the demo graph and on
// every composed fixture, served by internal/fixturesub. See
// docs/differential.md.
package difftest
