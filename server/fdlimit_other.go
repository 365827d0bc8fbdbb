//go:build !unix

package server

// halfDescriptorLimit is 0 where the descriptor limit is not read: the
// busy threshold is then the memory bound alone (busyAt), and without a
// known memory limit either the per-address bound always applies.
func halfDescriptorLimit() int { return 0 }
