//go:build !unix

package difftest

import (
	"os"
	"os/exec"
)

// ownGroup does nothing where there are no process groups to signal
// (Windows): the reference is one node process.
func ownGroup(*exec.Cmd) {}

// terminateGroup ends p: Windows has no SIGTERM to send.
func terminateGroup(p *os.Process) { _ = p.Kill() }

// killGroup ends p.
func killGroup(p *os.Process) { _ = p.Kill() }
