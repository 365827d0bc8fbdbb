package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	tests := []struct{ want, got, line string }{
		{"a\nb\n", "a\nb\n", ""},
		{"a\nb\n", "a\nc\n", "line 2"},
		{"a\n", "a\nextra\n", "line 2"},
	}
	for _, tt := range tests {
		d := Diff(tt.want, tt.got)
		if (tt.line == "") != (d == "") || !strings.Contains(d, tt.line) {
			t.Errorf("Diff(%q, %q) = %q, want mention of %q", tt.want, tt.got, d, tt.line)
		}
	}
}

func TestCheckUpdateRespectsPins(t *testing.T) {
	dir := t.TempDir()
	free, pinned := filepath.Join(dir, "free.json"), filepath.Join(dir, "kept.json")
	for _, p := range []string{free, pinned} {
		if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	Check(t, free, []byte("new"), true, nil)
	Check(t, pinned, []byte("old"), true, Pinned{"kept": "hand-written"})
	if b, _ := os.ReadFile(free); string(b) != "new" {
		t.Errorf("update did not rewrite an unpinned golden: %q", b)
	}
	if b, _ := os.ReadFile(pinned); string(b) != "old" {
		t.Errorf("update rewrote a pinned golden: %q", b)
	}
}
