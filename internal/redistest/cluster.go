package redistest

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/freeport"
	"github.com/redis/go-redis/v9"
)

// Cluster is a Redis Cluster of three masters with one replica each, on
// loopback ports, owned by one test.
type Cluster struct {
	t     testing.TB
	nodes []*Server
}

// clusterNodeTimeout is how long a master may be unreachable before its
// replica takes over; short, so a test that kills a master is short.
const clusterNodeTimeout = 1000 * time.Millisecond

// StartCluster starts six redis-server nodes in cluster mode, joins them
// with `redis-cli --cluster create --cluster-replicas 1`, and waits until
// every slot is served and every replica is in sync. The nodes stop when
// the test ends.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Fatalf("redis-cli is not installed (apt-get install redis-server): %v", err)
	}
	c := &Cluster{t: t}
	addrs := make([]string, 6)
	for i := range addrs {
		n := start(t, clusterPorts, serverArgs("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", strconv.Itoa(int(clusterNodeTimeout/time.Millisecond)),
			// A replica may always take over, however long it was cut off.
			"--cluster-replica-validity-factor", "0"))
		c.nodes = append(c.nodes, n)
		addrs[i] = n.Addr()
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	c.WaitHealthy()
	return c
}

// clusterPorts holds a free port whose cluster bus port (+10000) is free
// too, and the bus port.
func clusterPorts() (int, func(), error) {
	for range 100 {
		h, err := freeport.ReserveAt(0)
		if err != nil {
			return 0, nil, err
		}
		if h.Port()+10000 <= 65535 {
			if bus, err := freeport.ReserveAt(h.Port() + 10000); err == nil {
				return h.Port(), func() { h.Release(); bus.Release() }, nil
			}
		}
		h.Release()
	}
	return 0, nil, errors.New("no free port pair for a cluster node")
}

// Addrs returns host:port of every node that runs.
func (c *Cluster) Addrs() []string {
	var out []string
	for _, n := range c.nodes {
		if n.running() {
			out = append(out, n.Addr())
		}
	}
	return out
}

// URL is the redis+cluster:// URL of the cluster, naming every node.
func (c *Cluster) URL() string {
	addrs := c.Addrs()
	u := "redis+cluster://" + addrs[0]
	for i, a := range addrs[1:] {
		if i == 0 {
			u += "?"
		} else {
			u += "&"
		}
		u += "addr=" + a
	}
	return u
}

// Client returns a cluster client, closed when the test ends.
func (c *Cluster) Client() *redis.ClusterClient {
	cl := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	c.t.Cleanup(func() { _ = cl.Close() })
	return cl
}

// node returns the running node at addr.
func (c *Cluster) node(addr string) *Server {
	for _, n := range c.nodes {
		if n.Addr() == addr {
			return n
		}
	}
	c.t.Fatalf("no cluster node %s", addr)
	return nil
}

// slotOwners returns the master and replica addresses serving key's slot,
// as the node at via sees them.
func slotOwners(ctx context.Context, via, key string) (master string, replicas []string, err error) {
	cl := redis.NewClient(&redis.Options{Addr: via, MaxRetries: -1})
	defer cl.Close()
	slot, err := cl.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		return "", nil, err
	}
	ranges, err := cl.ClusterSlots(ctx).Result()
	if err != nil {
		return "", nil, err
	}
	for _, r := range ranges {
		if int64(r.Start) <= slot && slot <= int64(r.End) && len(r.Nodes) > 0 {
			for _, n := range r.Nodes[1:] {
				replicas = append(replicas, n.Addr)
			}
			return r.Nodes[0].Addr, replicas, nil
		}
	}
	return "", nil, fmt.Errorf("slot %d of %q is not served", slot, key)
}

// Master returns the address of the master serving key.
func (c *Cluster) Master(key string) string {
	c.t.Helper()
	m, _, err := slotOwners(context.Background(), c.Addrs()[0], key)
	if err != nil {
		c.t.Fatalf("cluster: %v", err)
	}
	return m
}

// Failover makes the replica of the master serving key take over with
// CLUSTER FAILOVER (a coordinated switch: the master stops taking writes,
// the replica catches up and is promoted) and waits until the cluster
// routes the slot to it. It returns the new master's address.
func (c *Cluster) Failover(key string) string {
	c.t.Helper()
	ctx := context.Background()
	master, replicas, err := slotOwners(ctx, c.Addrs()[0], key)
	if err != nil || len(replicas) == 0 {
		c.t.Fatalf("cluster failover: no replica for %q: %v", key, err)
	}
	replica := replicas[0]
	cl := redis.NewClient(&redis.Options{Addr: replica, MaxRetries: -1})
	defer cl.Close()
	if err := cl.ClusterFailover(ctx).Err(); err != nil {
		c.t.Fatalf("CLUSTER FAILOVER on %s: %v", replica, err)
	}
	c.waitMaster(key, replica, master)
	return replica
}

// KillMaster kills the master serving key (no goodbye: the process is
// killed) and waits until its replica has been elected in its place. It
// returns the new master's address; the killed node stays down.
func (c *Cluster) KillMaster(key string) string {
	c.t.Helper()
	master, replicas, err := slotOwners(context.Background(), c.Addrs()[0], key)
	if err != nil || len(replicas) == 0 {
		c.t.Fatalf("cluster kill: no replica for %q: %v", key, err)
	}
	c.node(master).Stop()
	c.waitMaster(key, replicas[0], master)
	return replicas[0]
}

// waitMaster waits until every running node routes key's slot to want
// (and, when old still runs, knows old as want's replica) and reports a
// healthy cluster.
func (c *Cluster) waitMaster(key, want, old string) {
	c.t.Helper()
	oldRuns := c.node(old).running()
	c.waitFor(30*time.Second, func(ctx context.Context) error {
		for _, a := range c.Addrs() {
			m, replicas, err := slotOwners(ctx, a, key)
			if err != nil {
				return err
			}
			if m != want {
				return fmt.Errorf("%s still routes %q to %s", a, key, m)
			}
			if oldRuns && !slices.Contains(replicas, old) {
				return fmt.Errorf("%s does not list %s as a replica yet", a, old)
			}
		}
		return c.healthy(ctx)
	}, "failover of "+old+" to "+want)
}

// WaitHealthy waits until every running node reports cluster_state:ok and
// all 16384 slots served, and every replica's link to its master is up.
func (c *Cluster) WaitHealthy() {
	c.t.Helper()
	c.waitFor(30*time.Second, func(ctx context.Context) error {
		if err := c.healthy(ctx); err != nil {
			return err
		}
		// Every master has a replica, as every node sees it.
		for _, a := range c.Addrs() {
			cl := redis.NewClient(&redis.Options{Addr: a, MaxRetries: -1})
			ranges, err := cl.ClusterSlots(ctx).Result()
			cl.Close()
			if err != nil {
				return err
			}
			for _, r := range ranges {
				if len(r.Nodes) < 2 {
					return fmt.Errorf("%s: slots %d-%d have no replica yet", a, r.Start, r.End)
				}
			}
		}
		return nil
	}, "a healthy cluster")
}

func (c *Cluster) healthy(ctx context.Context) error {
	for _, a := range c.Addrs() {
		cl := redis.NewClient(&redis.Options{Addr: a, MaxRetries: -1})
		info, err := cl.ClusterInfo(ctx).Result()
		if err == nil && (!strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_slots_ok:16384")) {
			err = fmt.Errorf("%s: cluster not ok", a)
		}
		var repl string
		if err == nil {
			repl, err = cl.Info(ctx, "replication").Result()
		}
		cl.Close()
		if err != nil {
			return err
		}
		if strings.Contains(repl, "role:slave") && !strings.Contains(repl, "master_link_status:up") {
			return fmt.Errorf("%s: replica not in sync", a)
		}
	}
	return nil
}

// waitFor polls check every 50ms until it returns nil, and fails the test
// with its last error after limit.
func (c *Cluster) waitFor(limit time.Duration, check func(context.Context) error, what string) {
	c.t.Helper()
	waitFor(c.t, limit, check, what)
}

func waitFor(t testing.TB, limit time.Duration, check func(context.Context) error, what string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := check(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil
}
