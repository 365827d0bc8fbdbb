package redistest

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestStartStopRestart(t *testing.T) {
	s := Start(t)
	c := s.Client()
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("ping succeeded with the server stopped")
	}
	s.Restart()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("ping after restart: %v", err)
	}
	if n, _ := c.Exists(ctx, "k").Result(); n != 0 {
		t.Errorf("data survived a restart without persistence")
	}
}

// A cluster serves keys in every slot, and a failover (coordinated, then
// a killed master) moves a slot to the replica, which kept the data.
func TestCluster(t *testing.T) {
	c := StartCluster(t)
	cl := c.Client()
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c", "{x}1", "{x}2"} {
		if err := cl.Set(ctx, k, "v-"+k, 0).Err(); err != nil {
			t.Fatalf("set %s: %v", k, err)
		}
	}
	old := c.Master("a")
	if now := c.Failover("a"); now == old || c.Master("a") != now {
		t.Fatalf("failover: master of a was %s, is %s", old, c.Master("a"))
	}
	// WAIT: the replica has the write before its master dies.
	if err := cl.Set(ctx, "a", "v2", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := cl.Do(ctx, "WAIT", 1, 2000).Err(); err != nil {
		t.Logf("WAIT: %v", err)
	}
	prev := c.Master("a")
	if now := c.KillMaster("a"); now == prev {
		t.Fatalf("kill: master of a is still %s", now)
	}
	fresh := c.Client()
	if v, err := fresh.Get(ctx, "a").Result(); err != nil || v != "v2" {
		t.Fatalf("a after the failovers: %q %v", v, err)
	}
	if v, err := fresh.Get(ctx, "{x}2").Result(); err != nil || v != "v-{x}2" {
		t.Fatalf("{x}2: %q %v", v, err)
	}
}

// The Sentinel finds the master and, after a failover, the new one; a
// failover client follows it.
func TestSentinel(t *testing.T) {
	s := StartSentinel(t)
	ctx := context.Background()
	cl := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: SentinelMaster, SentinelAddrs: []string{s.Addr()}})
	defer cl.Close()
	if err := cl.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := cl.Do(ctx, "WAIT", 1, 2000).Err(); err != nil {
		t.Fatal(err)
	}
	old := s.Master()
	if now := s.Failover(); now == old {
		t.Fatalf("failover: still %s", now)
	}
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if err = cl.Set(ctx, "k2", "v2", 0).Err(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("write after failover: %v", err)
	}
	if v, err := cl.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("k after failover: %q %v", v, err)
	}
}
