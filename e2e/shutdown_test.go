package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/listenlog"
	"github.com/fedgate/gateway/internal/syncbuf"
)

// binaryGateway is the built gateway binary running `serve` over the
// fault fixture.
type binaryGateway struct {
	base   string
	cmd    *exec.Cmd
	exited chan error
	logs   *syncbuf.Buffer
	client *http.Client
}

// startBinary builds the gateway, serves the fault fixture with the given
// main handler and a healthy side, and waits until it answers /health.
// The process is killed at cleanup if it is still running.
func startBinary(t *testing.T, main http.Handler, drainDelay string) *binaryGateway {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "gateway")
	build := exec.Command("go", "build", "-o", bin, "./cmd/gateway")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	mainSrv := httptest.NewServer(main)
	t.Cleanup(mainSrv.Close)
	sideSrv := httptest.NewServer(sideHandler(faultNone))
	t.Cleanup(sideSrv.Close)

	cfg := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(cfg, []byte("server:\n  shutdown_timeout: 5s\ntelemetry:\n  metrics:\n    prometheus:\n      listen: \"\"\n  logging:\n    requests: false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := &binaryGateway{exited: make(chan error, 1), logs: &syncbuf.Buffer{},
		client: &http.Client{Timeout: 10 * time.Second}}
	g.cmd = exec.Command(bin, "serve", "--supergraph", filepath.Join(repoRoot, faultFixture),
		"--subgraph-url", "main="+mainSrv.URL+"/graphql", "--subgraph-url", "side="+sideSrv.URL+"/graphql",
		"--listen", "127.0.0.1:0", "--config", cfg, "--drain-delay", drainDelay, "--dedupe=false")
	g.cmd.Stdout, g.cmd.Stderr = g.logs, g.logs
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var done atomic.Bool
	ended := make(chan struct{})
	go func() {
		err := g.cmd.Wait()
		done.Store(true)
		close(ended)
		g.exited <- err
	}()
	t.Cleanup(func() {
		if !done.Load() {
			_ = g.cmd.Process.Kill()
		}
	})
	g.base = "http://" + listenAddr(t, g.logs, listenlog.Gateway, ended)
	waitFor(t, "the gateway to listen", func() bool { return g.status("/health") == 200 })
	return g
}

// status GETs path and returns the status, 0 when the request failed.
func (g *binaryGateway) status(path string) int {
	resp, err := g.client.Get(g.base + path)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// query posts the fault fixture's query and checks the answer is whole.
func (g *binaryGateway) query() error {
	resp, err := g.client.Post(g.base+"/graphql", "application/json", strings.NewReader(`{"query":"{ things { id name extra } }"}`))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != 200 || !strings.Contains(b.String(), `"name":"Two"`) || strings.Contains(b.String(), `"errors"`) {
		return fmt.Errorf("%d %s", resp.StatusCode, b.String())
	}
	return nil
}

// waitExit waits for the process and fails unless it exits 0 in time.
func (g *binaryGateway) waitExit(t *testing.T) {
	t.Helper()
	select {
	case err := <-g.exited:
		if err != nil {
			t.Fatalf("the gateway exited with %v\n%s", err, g.logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the gateway did not exit\n%s", g.logs.String())
	}
	if g.status("/health") != 0 {
		t.Error("the gateway still answers after exit")
	}
	for _, want := range []string{`"msg":"shutting down"`, `"msg":"stopped"`} {
		if !strings.Contains(g.logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, g.logs.String())
		}
	}
}

// TestGracefulShutdown runs the built gateway binary over a slow main
// subgraph, sends SIGTERM while twenty requests are in flight, and
// checks that /ready turns 503 at once, a request arriving during the
// drain delay is still served, every in-flight request completes with its
// data, and the process exits 0.
func TestGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gateway binary")
	}
	t.Parallel()
	var inMain atomic.Int64
	slowMain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inMain.Add(1)
		defer inMain.Add(-1)
		time.Sleep(600 * time.Millisecond)
		mainHandler().ServeHTTP(w, r)
	})
	g := startBinary(t, slowMain, "300ms")
	if s := g.status("/ready"); s != 200 {
		t.Fatalf("/ready before shutdown: %d", s)
	}
	// A plan's first run reserves an eighth of the memory budget; warm it.
	if err := g.query(); err != nil {
		t.Fatalf("warm-up: %v", err)
	}
	const n = 20
	results := make(chan error, n+1)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- g.query()
		}()
	}
	waitFor(t, "twenty requests at main", func() bool { return inMain.Load() == n })
	start := time.Now()
	if err := g.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Draining: /ready is 503, new requests are still served.
	waitFor(t, "/ready to turn 503", func() bool { return g.status("/ready") == http.StatusServiceUnavailable })
	if time.Since(start) < 300*time.Millisecond {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- g.query()
		}()
	}
	wg.Wait()
	close(results)
	served := 0
	for err := range results {
		if err != nil {
			t.Errorf("a request in flight at SIGTERM was not served: %v", err)
			continue
		}
		served++
	}
	g.waitExit(t)
	t.Logf("SIGTERM with %d requests in flight: %d served, exit 0 after %v", n, served, time.Since(start).Round(time.Millisecond))
}

// TestGracefulShutdownUnderLoad sends SIGTERM while eight clients keep
// querying through a stand-in load balancer: each client stops sending
// once /ready (polled every 20ms) fails, as a load balancer stops
// routing. No request may fail, and the process exits 0.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gateway binary")
	}
	t.Parallel()
	// Fast requests: between two polls of /ready each client sends
	// several, so without the drain delay some would meet a closed
	// listener.
	main := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond)
		mainHandler().ServeHTTP(w, r)
	})
	g := startBinary(t, main, "500ms")
	var ready atomic.Bool
	ready.Store(true)
	stopPoll := make(chan struct{})
	defer close(stopPoll)
	go func() {
		for {
			select {
			case <-stopPoll:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if g.status("/ready") != 200 {
				ready.Store(false)
			}
		}
	}()
	var served, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ready.Load() {
				if err := g.query(); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				served.Add(1)
			}
		}()
	}
	time.Sleep(time.Second)
	before := served.Load()
	start := time.Now()
	if err := g.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	g.waitExit(t)
	t.Logf("SIGTERM under load: %d requests served (%d after SIGTERM), %d failed, exit 0 after %v",
		served.Load(), served.Load()-before, failed.Load(), time.Since(start).Round(time.Millisecond))
	if failed.Load() > 0 {
		t.Errorf("%d requests failed, first: %v", failed.Load(), firstErr.Load())
	}
	if before == 0 {
		t.Error("no request was served before SIGTERM")
	}
}
