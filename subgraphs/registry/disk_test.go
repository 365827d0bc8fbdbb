package registry

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func version(n int64) *Version {
	return &Version{Number: n, Reason: "test", Supergraph: "sdl", Subgraphs: []Subgraph{{Name: "a", URL: "http://a", SDL: "type Query { a: Int }"}}}
}

func TestDiskCommitAndConflict(t *testing.T) {
	ctx := context.Background()
	d, err := NewDisk(t.TempDir(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := d.Current(ctx); err != nil || v != nil {
		t.Fatalf("empty store: %v %v", v, err)
	}
	if err := d.Commit(ctx, 0, version(1)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		prev int64
		v    *Version
		want error
	}{
		{"stale prev", 0, version(1), ErrConflict},
		{"gap", 1, version(3), ErrConflict},
		{"next", 1, version(2), nil},
	}
	for _, tt := range tests {
		if err := d.Commit(ctx, tt.prev, tt.v); !errors.Is(err, tt.want) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.want)
		}
	}
	cur, err := d.Current(ctx)
	if err != nil || cur.Number != 2 {
		t.Fatalf("current: %+v %v", cur, err)
	}
	if _, err := d.Get(ctx, 9); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing version: %v", err)
	}
}

// A crash between writing a version and switching "current", or while a
// temporary file was half written, leaves the previous version current
// and readable.
func TestDiskCrashLeftovers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := NewDisk(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for n := int64(1); n <= 2; n++ {
		if err := d.Commit(ctx, n-1, version(n)); err != nil {
			t.Fatal(err)
		}
	}
	// The crash: version 3 written, "current" not switched; torn temp files.
	if err := writeAtomic(d.versionPath(3), []byte(`{"version":3}`)); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{".current.tmp-123", "versions/.0000000004.json.tmp-9"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(`{"vers`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d2, err := NewDisk(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := d2.Current(ctx)
	if err != nil || cur.Number != 2 || len(cur.Subgraphs) != 1 {
		t.Fatalf("current after the crash: %+v %v", cur, err)
	}
	hist, err := d2.History(ctx)
	if err != nil || len(hist) != 2 {
		t.Fatalf("history after the crash: %d versions, %v", len(hist), err)
	}
	// The next commit overwrites the orphan version 3.
	if err := d2.Commit(ctx, 2, version(3)); err != nil {
		t.Fatal(err)
	}
	if cur, _ := d2.Current(ctx); cur.Number != 3 || cur.Reason != "test" {
		t.Fatalf("after the next commit: %+v", cur)
	}
}

// Two processes sharing a directory: the other's commit is noticed by
// Watch's poll.
func TestDiskWatchPolls(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	a, _ := NewDisk(dir, 20*time.Millisecond)
	b, _ := NewDisk(dir, 20*time.Millisecond)
	seen := make(chan int64, 100)
	go a.Watch(ctx, func(n int64) { seen <- n })
	if err := b.Commit(ctx, 0, version(1)); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-seen:
		if n != 1 {
			t.Fatalf("watch saw %d, want 1", n)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("watch did not notice the other writer's commit")
	}
}

// Two stores on one directory (two processes) committing at once: the
// lock makes exactly one commit of each version number succeed.
func TestDiskConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	stores := make([]*Disk, 4)
	for i := range stores {
		stores[i], _ = NewDisk(dir, time.Second)
	}
	results := make(chan error, len(stores))
	for _, d := range stores {
		go func() { results <- d.Commit(ctx, 0, version(1)) }()
	}
	ok := 0
	for range stores {
		err := <-results
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrConflict):
			t.Fatal(err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d commits of version 1 succeeded, want 1", ok)
	}
}
