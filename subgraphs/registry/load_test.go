package registry_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/hammer"
	"github.com/fedgate/gateway/subgraphs/registry"
)

// Under a bounded client load, 50 publishes and rollbacks: no client
// request fails, and each response sees one version whole (User.email and
// Query.ping arrive and leave together).
func TestSwapsUnderLoad(t *testing.T) {
	d := startDemo(t)
	store, err := registry.NewDisk(t.TempDir(), 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	in := startInstance(t, store)
	publishAll(t, in, d)
	both := strings.Replace(d.sdls["accounts"], "birthYear: Int", "birthYear: Int\n  email: String", 1)
	both = strings.Replace(both, "users: [User!]!", "users: [User!]!\n  ping: String", 1)

	const clients = 8
	const q = `{ user(id: "1") { name } q: __type(name: "Query") { fields { name } } u: __type(name: "User") { fields { name } } }`
	body, _ := json.Marshal(map[string]string{"query": q})
	var requests, failures, newer atomic.Int64
	var firstFailure atomic.Value
	stop := make(chan struct{})
	httpClient := &http.Client{Timeout: 10 * time.Second}
	wait := hammer.Run(clients, stop, func(int) bool {
		requests.Add(1)
		isNew, err := checkResponse(httpClient, in.gql, body)
		if err != nil {
			failures.Add(1)
			firstFailure.CompareAndSwap(nil, err.Error())
		} else if isNew {
			newer.Add(1)
		}
		return true
	})
	start := time.Now()
	for i := 0; i < 50; i++ {
		var out registry.Outcome
		var code int
		if i%2 == 0 {
			code = call(t, "POST", in.admin+"/subgraphs/accounts", map[string]any{"url": d.urls["accounts"], "sdl": both}, &out)
		} else {
			code = call(t, "POST", in.admin+"/supergraph/rollback", map[string]any{"version": 4}, &out)
		}
		if code != 200 || !out.Published {
			close(stop)
			wait()
			t.Fatalf("change %d: %d %+v", i, code, out)
		}
	}
	elapsed := time.Since(start)
	close(stop)
	wait()
	t.Logf("50 publishes/rollbacks in %v under %d clients: %d requests (%d saw the published version, the rest the rolled-back one), %d failed",
		elapsed.Round(time.Millisecond), clients, requests.Load(), newer.Load(), failures.Load())
	if failures.Load() > 0 {
		t.Fatalf("%d of %d client requests failed; first: %v", failures.Load(), requests.Load(), firstFailure.Load())
	}
	if requests.Load() < 50 || newer.Load() == 0 || newer.Load() == requests.Load() {
		t.Fatalf("the load did not see both versions: %d requests, %d on the published one", requests.Load(), newer.Load())
	}
}

func checkResponse(c *http.Client, url string, body []byte) (bool, error) {
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out struct {
		Data struct {
			User *struct{ Name string }
			Q    struct{ Fields []struct{ Name string } }
			U    struct{ Fields []struct{ Name string } }
		}
		Errors []any
	}
	if err := json.Unmarshal(data, &out); err != nil || resp.StatusCode != 200 || len(out.Errors) > 0 || out.Data.User == nil || out.Data.User.Name == "" {
		return false, fmt.Errorf("HTTP %d: %s", resp.StatusCode, data)
	}
	ping, email := false, false
	for _, f := range out.Data.Q.Fields {
		ping = ping || f.Name == "ping"
	}
	for _, f := range out.Data.U.Fields {
		email = email || f.Name == "email"
	}
	if ping != email {
		return false, fmt.Errorf("mixed versions: Query.ping %v, User.email %v", ping, email)
	}
	return ping, nil
}
