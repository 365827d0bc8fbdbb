package server

import (
	"os"
	"strconv"
	"strings"
)

// connectionMemory is what one idle keep-alive connection on the public
// listener costs the process (its goroutine, buffers and socket),
// measured at about 17 KB; the busy threshold counts 20 KB to leave
// room.
const connectionMemory = 20 << 10

// connectionsBusyAt is the default of HTTPOptions.ConnectionsBusyAt: half
// the process's file descriptor limit, or, when the process runs under a
// memory limit (a container's cgroup, or GOMEMLIMIT), the connections a
// quarter of that memory holds if fewer. Containers commonly raise the
// descriptor limit to 1,048,576, where half of it is far more
// connections than the pod's memory allows: the per-address bound would
// never apply before the process ran out of memory.
func connectionsBusyAt() int {
	return busyAt(halfDescriptorLimit(), memoryLimit())
}

// busyAt is the threshold for halfFDs (0: unknown) and a memory limit in
// bytes (0: none known).
func busyAt(halfFDs int, memory int64) int {
	if memory <= 0 {
		return halfFDs
	}
	byMemory := int(max(memory/4/connectionMemory, 1))
	if halfFDs <= 0 || byMemory < halfFDs {
		return byMemory
	}
	return halfFDs
}

// memoryLimit is the smaller of the cgroup's memory limit and
// GOMEMLIMIT, 0 when neither is set.
func memoryLimit() int64 {
	limit := cgroupMemoryLimit(os.ReadFile)
	if v, ok := parseGoMemLimit(os.Getenv("GOMEMLIMIT")); ok && (limit == 0 || v < limit) {
		limit = v
	}
	return limit
}

// cgroupMemoryLimit reads the memory limit of the process's cgroup (v2,
// then v1), 0 when there is none or it cannot be read.
func cgroupMemoryLimit(read func(string) ([]byte, error)) int64 {
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := read(path)
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			return 0
		}
		n, err := strconv.ParseInt(s, 10, 64)
		// cgroup v1 writes a page-rounded maximum int64 for "no limit".
		if err != nil || n <= 0 || n >= 1<<62 {
			return 0
		}
		return n
	}
	return 0
}

// parseGoMemLimit reads GOMEMLIMIT's syntax (bytes with an optional
// B, KiB, MiB, GiB or TiB suffix; "off" is none).
func parseGoMemLimit(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || s == "off" {
		return 0, false
	}
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, false
	}
	return n * mult, true
}
