package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Disk is a Store in a directory: versions/NNNNNNNNNN.json holds each
// version and the file "current" the current number. Every file is written
// to a temporary file, fsynced and renamed, then the directory is fsynced,
// so a crash leaves the previous or the new version, never a torn file.
type Disk struct {
	dir  string
	poll time.Duration
	mu   sync.Mutex
}

// NewDisk opens (creating) the store in dir; Watch polls the current
// version every poll for writers in other processes.
func NewDisk(dir string, poll time.Duration) (*Disk, error) {
	if err := os.MkdirAll(filepath.Join(dir, "versions"), 0o755); err != nil {
		return nil, fmt.Errorf("registry dir: %w", err)
	}
	if poll <= 0 {
		poll = time.Second
	}
	return &Disk{dir: dir, poll: poll}, nil
}

func (d *Disk) versionPath(n int64) string {
	return filepath.Join(d.dir, "versions", fmt.Sprintf("%010d.json", n))
}

func (d *Disk) currentNumber() (int64, error) {
	data, err := os.ReadFile(filepath.Join(d.dir, "current"))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("registry: read current: %w", err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("registry: current: %w", err)
	}
	return n, nil
}

// Current implements Store.
func (d *Disk) Current(ctx context.Context) (*Version, error) {
	n, err := d.currentNumber()
	if err != nil || n == 0 {
		return nil, err
	}
	return d.Get(ctx, n)
}

// Get implements Store.
func (d *Disk) Get(_ context.Context, n int64) (*Version, error) {
	data, err := os.ReadFile(d.versionPath(n))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("registry: read version %d: %w", n, err)
	}
	var v Version
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("registry: version %d: %w", n, err)
	}
	return &v, nil
}

// History implements Store. Versions written after the current one by a
// commit that crashed before switching "current" are left out.
func (d *Disk) History(ctx context.Context) ([]*Version, error) {
	cur, err := d.currentNumber()
	if err != nil {
		return nil, err
	}
	names, err := filepath.Glob(filepath.Join(d.dir, "versions", "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []*Version
	for _, name := range names {
		n, err := strconv.ParseInt(strings.TrimSuffix(filepath.Base(name), ".json"), 10, 64)
		if err != nil || n > cur {
			continue
		}
		v, err := d.Get(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Commit implements Store. Commits are serialized within the process by a
// mutex and across processes sharing the directory by a flock on
// dir/lock, so the compare-and-set on "current" holds for both.
func (d *Disk) Commit(_ context.Context, prev int64, v *Version) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	unlock, err := lockDir(d.dir)
	if err != nil {
		return err
	}
	defer unlock()
	cur, err := d.currentNumber()
	if err != nil {
		return err
	}
	if cur != prev || v.Number != prev+1 {
		return ErrConflict
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("registry: encode version: %w", err)
	}
	if err := writeAtomic(d.versionPath(v.Number), data); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(d.dir, "current"), []byte(strconv.FormatInt(v.Number, 10)+"\n"))
}

// Watch implements Store by polling the current number.
func (d *Disk) Watch(ctx context.Context, notify func(int64)) {
	t := time.NewTicker(d.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := d.currentNumber(); err == nil && n > 0 {
			notify(n)
		}
	}
}

// writeAtomic replaces path with data: temporary file, fsync, rename,
// fsync of the directory.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("registry: write %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("registry: write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("registry: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("registry: write %s: %w", path, err)
	}
	df, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("registry: sync %s: %w", dir, err)
	}
	defer df.Close()
	if err := df.Sync(); err != nil {
		return fmt.Errorf("registry: sync %s: %w", dir, err)
	}
	return nil
}
