package redistest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelMaster is the master name the Sentinel of StartSentinel monitors.
const SentinelMaster = "fedgate"

// Sentinel is a master, one replica and one Sentinel (quorum 1) on
// loopback ports, owned by one test.
type Sentinel struct {
	t       testing.TB
	servers []*Server
	port    int
}

// StartSentinel starts a master, a replica of it and a Sentinel watching
// them, and waits until the Sentinel knows the replica. Everything stops
// when the test ends.
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	master := Start(t)
	replica := start(t, holdPort, serverArgs("--replicaof", "127.0.0.1", strconv.Itoa(master.port)))
	sentinel := start(t, holdPort, func(port int, dir, log string) ([]string, error) {
		conf := filepath.Join(dir, "sentinel.conf")
		text := fmt.Sprintf(`port %d
bind 127.0.0.1
dir %s
logfile %s
loglevel warning
sentinel monitor %s 127.0.0.1 %d 1
sentinel down-after-milliseconds %[4]s 1000
sentinel failover-timeout %[4]s 5000
sentinel parallel-syncs %[4]s 1
`, port, dir, log, SentinelMaster, master.port)
		return []string{conf, "--sentinel"}, os.WriteFile(conf, []byte(text), 0o600)
	})
	s := &Sentinel{t: t, servers: []*Server{master, replica}, port: sentinel.port}
	waitFor(t, 20*time.Second, func(ctx context.Context) error {
		sc := s.sentinelClient()
		defer sc.Close()
		reps, err := sc.Replicas(ctx, SentinelMaster).Result()
		if err != nil {
			return err
		}
		for _, r := range reps {
			if r["port"] == strconv.Itoa(replica.port) && r["flags"] == "slave" && r["master-link-status"] == "ok" {
				return nil
			}
		}
		return fmt.Errorf("the sentinel does not know the replica yet: %v", reps)
	}, "the sentinel to find the replica")
	return s
}

func (s *Sentinel) sentinelClient() *redis.SentinelClient {
	return redis.NewSentinelClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1})
}

// Addr is the Sentinel's host:port.
func (s *Sentinel) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// URL is the redis+sentinel:// URL of the master.
func (s *Sentinel) URL() string {
	return "redis+sentinel://" + s.Addr() + "/0?master_name=" + SentinelMaster
}

// Master returns the address the Sentinel names as the master.
func (s *Sentinel) Master() string {
	s.t.Helper()
	sc := s.sentinelClient()
	defer sc.Close()
	addr, err := sc.GetMasterAddrByName(context.Background(), SentinelMaster).Result()
	if err != nil {
		s.t.Fatalf("sentinel: %v", err)
	}
	return strings.Join(addr, ":")
}

// Failover asks the Sentinel to fail the master over (SENTINEL FAILOVER)
// and waits until it names the replica as master and the replica says it
// is one. It returns the new master's address.
func (s *Sentinel) Failover() string {
	s.t.Helper()
	old := s.Master()
	sc := s.sentinelClient()
	defer sc.Close()
	if err := sc.Failover(context.Background(), SentinelMaster).Err(); err != nil {
		s.t.Fatalf("SENTINEL FAILOVER: %v", err)
	}
	var now string
	waitFor(s.t, 30*time.Second, func(ctx context.Context) error {
		addr, err := sc.GetMasterAddrByName(ctx, SentinelMaster).Result()
		if err != nil {
			return err
		}
		now = strings.Join(addr, ":")
		if now == old {
			return fmt.Errorf("the sentinel still names %s", old)
		}
		cl := redis.NewClient(&redis.Options{Addr: now, MaxRetries: -1})
		defer cl.Close()
		info, err := cl.Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "role:master") {
			return fmt.Errorf("%s is not a master yet", now)
		}
		return nil
	}, "the sentinel failover")
	return now
}
