//go:build !unix

package registry

// lockDir is a no-op where flock is not available: commits are serialized
// within the process only.
func lockDir(string) (func(), error) { return func() {}, nil }
