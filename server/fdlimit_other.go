//go:build !unix

package server

// halfDescriptorLimit is 0 where the descriptor limit is not read: the
// per-address bound then always applies.
func halfDescriptorLimit() int { return 0 }
