package fedgate

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The first `make run` compiles the gateway with every package it imports
// (README: the first build's cost). These budgets keep that from growing
// unnoticed: a new dependency that brings many packages or much code
// fails here, and raising a budget is then a decision made in review.
// Measured when they were set: 307 packages, 13.4 MiB of Go source;
// raised to 330 in session 12 for the project's own small packages
// (internal/wideint, internal/yamlduration: 321), no new dependency.
const (
	maxDepPackages    = 330
	maxDepSourceBytes = 15 << 20 // MiB
)

// TestBuildBudget counts the non-standard packages the gateway imports,
// directly or not, and the size of their Go files.
func TestBuildBudget(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f",
		`{{if not .Standard}}{{.ImportPath}}{{$d := .Dir}}{{range .GoFiles}} {{$d}}/{{.}}{{end}}{{"\n"}}{{end}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	packages, size := 0, int64(0)
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		packages++
		for _, f := range fields[1:] {
			info, err := os.Stat(filepath.Clean(f))
			if err != nil {
				t.Fatal(err)
			}
			size += info.Size()
		}
	}
	t.Logf("%d non-standard packages, %.1f MB of Go source", packages, float64(size)/(1<<20))
	if packages < 50 || size < 1<<20 {
		t.Fatalf("counted only %d packages, %d bytes: the go list template is wrong", packages, size)
	}
	// The README's count stays within a tenth of the one measured here.
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`compiles the gateway and the ~(\d+) packages it imports`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md no longer says how many packages the first build compiles (~N)")
	}
	if said, _ := strconv.Atoi(string(m[1])); said*10 < packages*9 || said*10 > packages*11 {
		t.Errorf("README.md says ~%d packages; the gateway imports %d", said, packages)
	}
	if packages > maxDepPackages {
		t.Errorf("the gateway imports %d non-standard packages, budget %d: the first build of make run grows", packages, maxDepPackages)
	}
	if size > maxDepSourceBytes {
		t.Errorf("the gateway's dependencies are %d bytes of Go source, budget %d: the first build of make run grows", size, maxDepSourceBytes)
	}
}
