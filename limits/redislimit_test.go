package limits

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/redistest"
	"github.com/fedgate/gateway/internal/syncbuf"
)

func TestRedisLimiter(t *testing.T) {
	srv := redistest.Start(t)
	l := NewRedisLimiter(srv.Client(), RedisLimiterOptions{Timeout: time.Second})
	ctx := context.Background()
	tier := Tier{Name: "gold", Requests: 3, Cost: 50, Window: time.Hour}

	// Three requests pass, the fourth is refused; a refusal by cost
	// counts nothing.
	for i, want := range []struct {
		cost    int64
		allowed bool
		code    string
		remain  int64
	}{
		{10, true, "", 2},
		{45, false, CodeCostLimitExceeded, 0},
		{10, true, "", 1},
		{10, true, "", 0},
		{0, false, CodeRateLimited, 0},
	} {
		v, err := l.Take(ctx, "alice", tier, want.cost)
		if err != nil {
			t.Fatal(err)
		}
		if v.Allowed != want.allowed || v.Code != want.code || v.Local {
			t.Fatalf("take %d: %+v, want allowed %v code %q from Redis", i, v, want.allowed, want.code)
		}
		if v.Allowed && v.Remaining != want.remain {
			t.Fatalf("take %d: remaining %d, want %d", i, v.Remaining, want.remain)
		}
		if !v.Allowed && (v.RetryAfter <= 0 || v.RetryAfter > time.Hour) {
			t.Fatalf("take %d: retry after %v", i, v.RetryAfter)
		}
	}
	// Another client and another tier have their own counters.
	if v, _ := l.Take(ctx, "bob", tier, 0); !v.Allowed {
		t.Fatal("bob was limited by alice's counter")
	}
	// The key expires once the allowance is whole again.
	keys, err := srv.Client().Keys(ctx, "fedgate:ratelimit:*").Result()
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys %v %v, want 2", keys, err)
	}
	ttl, err := srv.Client().PTTL(ctx, keys[0]).Result()
	if err != nil || ttl <= 0 || ttl > time.Hour+time.Second {
		t.Fatalf("ttl %v %v", ttl, err)
	}
}

// TestRedisLimiterOutage stops Redis: the limiter logs once, applies local
// limits, and returns to the shared counters when Redis is back.
func TestRedisLimiterOutage(t *testing.T) {
	srv := redistest.Start(t)
	var logs syncbuf.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	l := NewRedisLimiter(srv.Client(), RedisLimiterOptions{Timeout: 200 * time.Millisecond, Logger: logger})
	ctx := context.Background()
	tier := Tier{Name: "t", Requests: 5, Window: time.Hour}

	if v, _ := l.Take(ctx, "c", tier, 0); !v.Allowed || v.Local {
		t.Fatalf("before the outage: %+v", v)
	}
	srv.Stop()
	// Local limits: a fresh local counter allows 5, then refuses.
	allowed := 0
	for i := range 8 {
		v, err := l.Take(ctx, "c", tier, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !v.Local {
			t.Fatalf("take %d during the outage did not use local limits: %+v", i, v)
		}
		if v.Allowed {
			allowed++
		}
	}
	if allowed != 5 {
		t.Fatalf("local limits allowed %d of 8, want 5", allowed)
	}
	if n := strings.Count(logs.String(), "Redis is unreachable"); n != 1 {
		t.Fatalf("logged the outage %d times, want once:\n%s", n, logs.String())
	}

	srv.Restart() // empty: the shared counter starts again
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, _ := l.Take(ctx, "c", tier, 0)
		if !v.Local {
			if !v.Allowed {
				t.Fatalf("after recovery: %+v", v)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the limiter did not go back to Redis")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "Redis answers again") || l.Degraded() {
		t.Fatalf("recovery not logged:\n%s", logs.String())
	}
	// Shared counting resumed: the Redis key exists again.
	if n, err := srv.Client().Exists(ctx, "fedgate:ratelimit:{t:c}").Result(); err != nil || n != 1 {
		t.Fatalf("key after recovery: %d %v", n, err)
	}
}

func TestRedisLimiterFailClosed(t *testing.T) {
	srv := redistest.Start(t)
	l := NewRedisLimiter(srv.Client(), RedisLimiterOptions{Timeout: 200 * time.Millisecond, FailClosed: true,
		Logger: slog.New(slog.NewTextHandler(&syncbuf.Buffer{}, nil))})
	srv.Stop()
	v, err := l.Take(context.Background(), "c", Tier{Name: "t", Requests: 5, Window: time.Hour}, 0)
	if err != nil || v.Allowed || v.Code != CodeRateLimitUnavailable {
		t.Fatalf("fail closed: %+v %v", v, err)
	}
}

// TestRedisLimiterLocalFraction checks that the local fallback scales the
// tier.
func TestRedisLimiterLocalFraction(t *testing.T) {
	srv := redistest.Start(t)
	l := NewRedisLimiter(srv.Client(), RedisLimiterOptions{Timeout: 200 * time.Millisecond, LocalFraction: 0.25,
		Logger: slog.New(slog.NewTextHandler(&syncbuf.Buffer{}, nil))})
	srv.Stop()
	allowed := 0
	for range 20 {
		if v, _ := l.Take(context.Background(), "c", Tier{Name: "t", Requests: 12, Window: time.Hour}, 0); v.Allowed {
			allowed++
		}
	}
	if allowed != 3 {
		t.Fatalf("allowed %d, want 3 (12 × 0.25)", allowed)
	}
}
