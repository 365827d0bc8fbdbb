package serial

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestTimingSkipsOnlyWhenAsked(t *testing.T) {
	for _, tc := range []struct {
		env      string
		wantSkip bool
	}{
		{"", false},
		{"0", false},
		{"1", true},
	} {
		t.Run("env="+tc.env, func(t *testing.T) {
			t.Setenv(SkipEnv, tc.env)
			skipped := true
			t.Run("marked", func(t *testing.T) {
				Timing(t)
				skipped = false
			})
			if skipped != tc.wantSkip {
				t.Fatalf("%s=%q: skipped=%v, want %v", SkipEnv, tc.env, skipped, tc.wantSkip)
			}
		})
	}
}

// TestMakefileRunsEveryTimingTest keeps the Makefile's TIMING_TESTS list in
// agreement with the tests that call Timing: a marked test missing from the
// list would be skipped by make test's parallel run and never run after it.
func TestMakefileRunsEveryTimingTest(t *testing.T) {
	makefile, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^TIMING_TESTS \?= (.*)$`).FindSubmatch(makefile)
	if m == nil {
		t.Fatal("Makefile has no TIMING_TESTS line")
	}
	listed, err := regexp.Compile(strings.ReplaceAll(string(m[1]), "$$", "$"))
	if err != nil {
		t.Fatalf("TIMING_TESTS: %v", err)
	}
	marked := regexp.MustCompile(`func (Test\w+)\(t \*testing\.T\) \{\n\tserial\.Timing\(t\)`)
	found := 0
	err = filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, sm := range marked.FindAllSubmatch(src, -1) {
			found++
			if !listed.Match(sm[1]) {
				t.Errorf("%s: %s calls serial.Timing but the Makefile's TIMING_TESTS does not run it", path, sm[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found == 0 {
		t.Fatal("no test calls serial.Timing: the pattern of this test is out of date")
	}
}
