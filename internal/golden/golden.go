// Package golden compares test output with golden files under testdata/.
// A golden is rewritten only when the test runs with -update, and a
// missing golden fails: it is never created silently.
package golden

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Pinned names goldens written by hand as the correct answer while the
// code got it wrong; -update leaves them alone. The value says why.
type Pinned map[string]string

// Check compares got with the golden at path, or rewrites it when update
// is set (unless the golden is pinned).
func Check(t testing.TB, path string, got []byte, update bool, pinned Pinned) {
	t.Helper()
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	name = strings.TrimSuffix(name, ".plan")
	reason, isPinned := pinned[name]
	if update && isPinned {
		t.Logf("%s is pinned, not rewritten: %s", path, reason)
	} else if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s: %v (run the test with -update to create it)", path, err)
	}
	if bytes.Equal(want, got) {
		return
	}
	if isPinned {
		t.Errorf("%s differs; it is pinned (the expected answer, written by hand): %s", path, reason)
	}
	t.Errorf("%s differs (-update rewrites it)\n%s", path, Diff(string(want), string(got)))
}

// Diff shows the first line where want and got differ, then got whole.
func Diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("first difference at line %d:\n  want: %s\n  got:  %s\n--- got ---\n%s", i+1, wl, gl, got)
		}
	}
	return ""
}
