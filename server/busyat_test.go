package server

import (
	"errors"
	"io/fs"
	"testing"
)

func TestBusyAt(t *testing.T) {
	for _, c := range []struct {
		name   string
		halfFD int
		memory int64
		want   int
	}{
		{"descriptors only", 524288, 0, 524288},
		{"container: 512 MiB under a 1,048,576 descriptor limit", 524288, 512 << 20, 6553},
		{"memory allows more than the descriptors", 512, 8 << 30, 512},
		{"descriptors unknown", 0, 512 << 20, 6553},
		{"tiny memory still counts one", 100, 1 << 10, 1},
		{"nothing known: the bound always applies", 0, 0, 0},
	} {
		if got := busyAt(c.halfFD, c.memory); got != c.want {
			t.Errorf("%s: busyAt(%d, %d) = %d, want %d", c.name, c.halfFD, c.memory, got, c.want)
		}
	}
}

func TestCgroupMemoryLimit(t *testing.T) {
	files := func(m map[string]string) func(string) ([]byte, error) {
		return func(p string) ([]byte, error) {
			if s, ok := m[p]; ok {
				return []byte(s), nil
			}
			return nil, fs.ErrNotExist
		}
	}
	for _, c := range []struct {
		name  string
		files map[string]string
		want  int64
	}{
		{"v2 limit", map[string]string{"/sys/fs/cgroup/memory.max": "536870912\n"}, 512 << 20},
		{"v2 no limit", map[string]string{"/sys/fs/cgroup/memory.max": "max\n"}, 0},
		{"v1 limit", map[string]string{"/sys/fs/cgroup/memory/memory.limit_in_bytes": "268435456\n"}, 256 << 20},
		{"v1 no limit", map[string]string{"/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n"}, 0},
		{"garbage", map[string]string{"/sys/fs/cgroup/memory.max": "lots"}, 0},
		{"no cgroup files", nil, 0},
	} {
		if got := cgroupMemoryLimit(files(c.files)); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	unreadable := func(string) ([]byte, error) { return nil, errors.New("permission denied") }
	if got := cgroupMemoryLimit(unreadable); got != 0 {
		t.Errorf("unreadable: %d, want 0", got)
	}
}

func TestParseGoMemLimit(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"536870912", 512 << 20, true},
		{"512MiB", 512 << 20, true},
		{"1GiB", 1 << 30, true},
		{"64KiB", 64 << 10, true},
		{"100B", 100, true},
		{"off", 0, false},
		{"", 0, false},
		{"-1", 0, false},
		{"12XB", 0, false},
		{"99999999999TiB", 0, false},
	} {
		got, ok := parseGoMemLimit(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("parseGoMemLimit(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
