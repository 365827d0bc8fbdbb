package difftest

import (
	"os"
	"testing"
	"time"
)

// TestReferenceExitsWithItsStdin: a reference whose test process is gone
// (its stdin closes) exits by itself, so a killed run leaves no node
// processes behind.
func TestReferenceExitsWithItsStdin(t *testing.T) {
	script := "../../e2e/difftest/js/refgw.mjs"
	if _, err := os.Stat("../../e2e/difftest/js/node_modules/@apollo/gateway"); err != nil {
		t.Skip("Apollo Gateway is not installed: run scripts/install-deps.sh")
	}
	r, err := StartReference("apollo", script, t.TempDir(), 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	if dead, _ := r.Exited(); dead {
		t.Fatal("exited before its stdin closed")
	}
	_ = r.stdin.Close()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if dead, _ := r.Exited(); dead {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("still running 10s after its stdin closed")
}
