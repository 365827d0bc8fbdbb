package cache

import (
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestOpenRedisClient(t *testing.T) {
	for _, tc := range []struct {
		url  string
		kind string // "server", "cluster", "sentinel", or "" for an error
		err  string
	}{
		{"redis://127.0.0.1:6379/0", "server", ""},
		{"rediss://user:pw@127.0.0.1:6380/2", "server", ""},
		{"unix:///run/redis.sock?db=1", "server", ""},
		{"redis+cluster://127.0.0.1:7000?addr=127.0.0.1:7001&addr=127.0.0.1:7002", "cluster", ""},
		{"rediss+cluster://user:pw@127.0.0.1:7000", "cluster", ""},
		{"redis+sentinel://127.0.0.1:26379/0?master_name=mymaster&addr=127.0.0.1:26380&password=p", "sentinel", ""},
		{"redis+sentinel://127.0.0.1:26379/0", "", "master_name"},
		{"redis+cluster://127.0.0.1:7000?bogus=1", "", "unexpected option"},
		{"redis+sentinel://127.0.0.1:26379/x?master_name=m", "", "database"},
		{"http://127.0.0.1:6379", "", "scheme"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			c, err := OpenRedisClient(tc.url, ClientOptions{})
			if tc.kind == "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one mentioning %q", err, tc.err)
				}
				if ValidRedisURL(tc.url) != strings.HasPrefix(tc.url, "redis") {
					t.Fatalf("ValidRedisURL(%q) = %v", tc.url, ValidRedisURL(tc.url))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if !ValidRedisURL(tc.url) {
				t.Fatalf("ValidRedisURL(%q) = false", tc.url)
			}
			kind := "server"
			switch c := c.(type) {
			case *redis.ClusterClient:
				kind = "cluster"
			case *redis.Client:
				if c.Options().Addr == "FailoverClient" { // go-redis' name for a client behind Sentinel
					kind = "sentinel"
				}
			}
			if kind != tc.kind {
				t.Fatalf("client %T (%v), want a %s client", c, c, tc.kind)
			}
		})
	}
}
