package registry_test

import (
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/redistest"
	"github.com/fedgate/gateway/subgraphs/registry"
)

// Three gateway instances share one real redis-server: a publish on one
// is served by all three within a second.
func TestRedisInstancesPickUpPublish(t *testing.T) {
	d := startDemo(t)
	rs := redistest.Start(t)
	var instances []*instance
	for i := 0; i < 3; i++ {
		instances = append(instances, startInstance(t, registry.NewRedis(rs.Client(), "fedgate:registry:", 500*time.Millisecond)))
	}
	publishAll(t, instances[0], d)

	for round, field := range []string{"email", "nickname"} {
		sdl := strings.Replace(d.sdls["accounts"], "birthYear: Int", "birthYear: Int\n  "+field+": String", 1)
		publisher := instances[round+1]
		start := time.Now()
		var out registry.Outcome
		if code := call(t, "POST", publisher.admin+"/subgraphs/accounts?force=true", map[string]any{"url": d.urls["accounts"], "sdl": sdl}, &out); code != 200 || !out.Published {
			t.Fatalf("publish: %d %+v", code, out)
		}
		for i, in := range instances {
			for !has(typeFields(t, in.gql, "User"), field) {
				if time.Since(start) > time.Second {
					t.Fatalf("round %d: instance %d does not serve User.%s 1s after the publish", round, i, field)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		t.Logf("round %d: all 3 instances serve version %d %v after the publish was sent", round, out.Version, time.Since(start).Round(time.Millisecond))
	}
}

// Two instances publishing concurrently: both commit (one retries after
// the other's version), and every version number is used once.
func TestRedisConcurrentPublishes(t *testing.T) {
	d := startDemo(t)
	rs := redistest.Start(t)
	a := startInstance(t, registry.NewRedis(rs.Client(), "fedgate:registry:", 500*time.Millisecond))
	b := startInstance(t, registry.NewRedis(rs.Client(), "fedgate:registry:", 500*time.Millisecond))
	publishAll(t, a, d)
	errs := make(chan string, 2)
	for i, in := range []*instance{a, b} {
		go func() {
			field := []string{"email", "nickname"}[i]
			sdl := strings.Replace(d.sdls["accounts"], "birthYear: Int", "birthYear: Int\n  "+field+": String", 1)
			var out registry.Outcome
			code := call(t, "POST", in.admin+"/subgraphs/accounts?force=true", map[string]any{"url": d.urls["accounts"], "sdl": sdl}, &out)
			if code != 200 || !out.Published {
				errs <- "publish failed"
				return
			}
			errs <- ""
		}()
	}
	for range 2 {
		if e := <-errs; e != "" {
			t.Fatal(e)
		}
	}
	var hist struct{ Versions []struct{ Version int64 } }
	call(t, "GET", a.admin+"/supergraph/history", nil, &hist)
	if len(hist.Versions) != 6 {
		t.Fatalf("history has %d versions, want 6", len(hist.Versions))
	}
	for i, v := range hist.Versions {
		if v.Version != int64(i+1) {
			t.Fatalf("history: %+v", hist.Versions)
		}
	}
}

// Redis goes away: publishes answer 503 and clients are still served;
// Redis comes back empty (no persistence): the first publish is checked
// against what is served (breaking: needs force), and every instance
// picks up the new version 1 although it served version 4.
func TestRedisOutageAndDataLoss(t *testing.T) {
	d := startDemo(t)
	rs := redistest.Start(t)
	var instances []*instance
	for i := 0; i < 2; i++ {
		instances = append(instances, startInstance(t, registry.NewRedis(rs.Client(), "fedgate:registry:", 200*time.Millisecond)))
	}
	publishAll(t, instances[0], d)
	rs.Stop()
	if code := call(t, "POST", instances[1].admin+"/subgraphs/accounts", map[string]any{"url": d.urls["accounts"], "sdl": d.sdls["accounts"] + "\n"}, nil); code != 503 {
		t.Fatalf("publish while Redis is down: %d, want 503", code)
	}
	for _, in := range instances {
		if got := query(t, in.gql, `{ user(id: "1") { name } }`); strings.Contains(got, "errors") {
			t.Fatalf("query while Redis is down: %s", got)
		}
	}
	rs.Restart()
	var out registry.Outcome
	if code := call(t, "POST", instances[1].admin+"/subgraphs/accounts", map[string]any{"url": d.urls["accounts"], "sdl": d.sdls["accounts"]}, &out); code != 409 || out.Breaking == 0 {
		t.Fatalf("first publish into an emptied Redis: %d %+v", code, out)
	}
	start := time.Now()
	if code := call(t, "POST", instances[1].admin+"/subgraphs/accounts?force=true", map[string]any{"url": d.urls["accounts"], "sdl": d.sdls["accounts"]}, &out); code != 200 || out.Version != 1 {
		t.Fatalf("forced publish into an emptied Redis: %d %+v", code, out)
	}
	for i, in := range instances {
		for typeFields(t, in.gql, "Review") != nil {
			if time.Since(start) > 2*time.Second {
				t.Fatalf("instance %d still serves the lost version 4", i)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
