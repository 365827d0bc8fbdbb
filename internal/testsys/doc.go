// Package testsys holds the operating system calls the tests and
// benchmarks make, one file per platform, so that every test package
// compiles for each platform the gateway builds for (make cross-build
// vets them for windows and darwin): the process's CPU time, a dialer
// with a small receive buffer, a command whose children end with it.
package testsys
