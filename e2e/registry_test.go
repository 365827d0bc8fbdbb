package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/listenlog"
	"github.com/fedgate/gateway/internal/redistest"
	"github.com/fedgate/gateway/internal/serial"
	"github.com/fedgate/gateway/internal/syncbuf"
	"github.com/fedgate/gateway/subgraphs/demo"
)

const registryToken = "e2e-admin-token-0123456789abcdef"

// registryBinary is `gateway serve` with the registry on a directory.
type registryBinary struct {
	bin, cfg     string
	public, admn string // where the running process listens
	cmd          *exec.Cmd
	exited       chan struct{} // closed when cmd has exited
	logs         *syncbuf.Buffer
}

// listenAddr waits until the gateway process writing logs says where its
// listener msg (listenlog.Gateway, listenlog.Admin) listens, and returns
// that address. The tests start gateways on 127.0.0.1:0, so that the
// process binds a free port itself: a port found free by the test and
// handed over can be taken by another process before the gateway binds
// it. The test fails when the process exits first.
func listenAddr(t *testing.T, logs *syncbuf.Buffer, msg string, exited <-chan struct{}) string {
	t.Helper()
	addr, err := listenlog.Wait(logs.String, msg, exited, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

func buildGateway(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gateway")
	build := exec.Command("go", "build", "-o", bin, "./cmd/gateway")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func newRegistryBinary(t *testing.T, bin string, extraYAML ...string) *registryBinary {
	t.Helper()
	dir := t.TempDir()
	g := &registryBinary{bin: bin, cfg: filepath.Join(dir, "gateway.yaml")}
	yaml := strings.Join(extraYAML, "") + "server:\n  listen: 127.0.0.1:0\n  introspection: true\nregistry:\n  enabled: true\n  introspect_hosts: [\"127.0.0.1\"]\n  listen: 127.0.0.1:0" +
		"\n  token: ${FEDGATE_ADMIN_TOKEN}\n  dir: " + filepath.Join(dir, "registry") +
		"\ntelemetry:\n  metrics:\n    prometheus:\n      listen: \"\"\n  logging:\n    requests: false\n"
	if err := os.WriteFile(g.cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return g
}

// start starts the process and waits until both its listeners answer;
// each start listens on new ports.
func (g *registryBinary) start(t *testing.T) {
	t.Helper()
	g.logs = &syncbuf.Buffer{}
	g.cmd = exec.Command(g.bin, "serve", "--config", g.cfg)
	g.cmd.Env = append(os.Environ(), "FEDGATE_ADMIN_TOKEN="+registryToken)
	g.cmd.Stdout, g.cmd.Stderr = g.logs, g.logs
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmd, exited := g.cmd, make(chan struct{})
	g.exited = exited
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	g.admn = listenAddr(t, g.logs, listenlog.Admin, exited)
	g.public = listenAddr(t, g.logs, listenlog.Gateway, exited)
	waitFor(t, "the gateway to listen", func() bool {
		resp, err := http.Get("http://" + g.public + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		c, err := net.Dial("tcp", g.admn)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

func (g *registryBinary) kill(t *testing.T, sig os.Signal) {
	t.Helper()
	_ = g.cmd.Process.Signal(sig)
	<-g.exited
}

// cli runs `gateway subgraph ARGS` and returns its exit code and output.
func (g *registryBinary) cli(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(g.bin, append([]string{"subgraph"}, append(args[:1:1], append([]string{"--admin", "http://" + g.admn}, args[1:]...)...)...)...)
	cmd.Env = append(os.Environ(), "FEDGATE_ADMIN_TOKEN="+registryToken)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

func (g *registryBinary) query(t *testing.T, q string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": q})
	resp, err := http.Post("http://"+g.public+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return string(data)
}

func startDemoSubgraphs(t *testing.T) map[string]string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	subs, err := demo.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	urls := map[string]string{}
	for _, s := range subs {
		urls[s.Name] = s.URL
	}
	return urls
}

// TestRegistryBinary drives `gateway serve` with registry.enabled through
// the `gateway subgraph` CLI: exit codes, hot reload on the public port,
// durability across a restart and across SIGKILL during publishes.
func TestRegistryBinary(t *testing.T) {
	urls := startDemoSubgraphs(t)
	g := newRegistryBinary(t, buildGateway(t))
	g.start(t)
	const userQuery = `{ user(id: "1") { name } }`

	// Usage errors and a wrong token: exit 2.
	if code, out := g.cli(t, "publish", "--name", "accounts"); code != 2 {
		t.Fatalf("publish without --url: exit %d\n%s", code, out)
	}
	if code, out := g.cli(t, "list", "--token", "wrong-token"); code != 2 || !strings.Contains(out, "401") {
		t.Fatalf("wrong token: exit %d\n%s", code, out)
	}
	// A first publish that does not compose alone fails (exit 1) and
	// points at seeding with --config.
	if code, out := g.cli(t, "publish", "--name", "inventory", "--url", urls["inventory"], "--introspect"); code != 1 || !strings.Contains(out, "--config supergraph.yaml") {
		t.Fatalf("inventory alone into an empty registry: exit %d\n%s", code, out)
	}
	// The first publish into the empty registry is not breaking, although
	// it replaces the embedded supergraph (exit 0 without --force); the
	// others follow one by one (accounts again is unchanged).
	if code, out := g.cli(t, "publish", "--name", "accounts", "--url", urls["accounts"], "--introspect"); code != 0 || strings.Contains(out, "BREAKING") || !strings.Contains(out, "serving version 1") {
		t.Fatalf("first publish: exit %d\n%s", code, out)
	}
	for _, name := range []string{"accounts", "products", "inventory", "reviews"} {
		args := []string{"publish", "--name", name, "--url", urls[name], "--introspect"}
		if code, out := g.cli(t, args...); code != 0 {
			t.Fatalf("publish %s: exit %d\n%s", name, code, out)
		}
	}
	if got := g.query(t, userQuery); !strings.Contains(got, `"name":`) || strings.Contains(got, "errors") {
		t.Fatalf("the published supergraph is not served: %s", got)
	}

	// check: a bad schema fails with its composition error code (exit 1).
	bad := filepath.Join(t.TempDir(), "bad.graphql")
	sdl, err := os.ReadFile(filepath.Join(repoRoot, "subgraphs/demo/accounts/schema.graphqls"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, bytes.Replace(sdl, []byte("birthYear: Int"), []byte("birthYear: Year"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := g.cli(t, "check", "--name", "accounts", "--url", urls["accounts"], "--schema", bad); code != 1 || !strings.Contains(out, "error[") {
		t.Fatalf("check of a bad schema: exit %d\n%s", code, out)
	}
	if code, out := g.cli(t, "list"); code != 0 || !strings.Contains(out, "version 4") || !strings.Contains(out, "reviews") {
		t.Fatalf("list: exit %d\n%s", code, out)
	}
	if code, out := g.cli(t, "delete", "--name", "reviews"); code != 1 {
		t.Fatalf("unforced delete: exit %d\n%s", code, out)
	}
	if code, out := g.cli(t, "delete", "--name", "reviews", "--force"); code != 0 {
		t.Fatalf("delete: exit %d\n%s", code, out)
	}
	if code, out := g.cli(t, "rollback", "--version", "4"); code != 0 || !strings.Contains(out, "version 6") {
		t.Fatalf("rollback: exit %d\n%s", code, out)
	}
	if code, out := g.cli(t, "history"); code != 0 || !strings.Contains(out, "rollback to 4") {
		t.Fatalf("history: exit %d\n%s", code, out)
	}

	// A restart serves the stored version at once.
	g.kill(t, syscall.SIGTERM)
	g.start(t)
	if got := g.query(t, userQuery); !strings.Contains(got, `"name":`) || strings.Contains(got, "errors") {
		t.Fatalf("after a restart: %s\n%s", got, g.logs.String())
	}

	// SIGKILL in the middle of publishes: the store is readable at some
	// version afterwards, never corrupted.
	withField := func(i int) string {
		f := filepath.Join(t.TempDir(), "accounts.graphql")
		s := bytes.Replace(sdl, []byte("birthYear: Int"), []byte("birthYear: Int\n  field"+string(rune('a'+i%26))+": String"), 1)
		if err := os.WriteFile(f, s, 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	for round := 0; round < 3; round++ {
		// The publisher has stopped before the restart (on new ports)
		// changes g's addresses.
		stop, stopped := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(stopped)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				g.cli(t, "publish", "--name", "accounts", "--url", urls["accounts"], "--schema", withField(i), "--force")
			}
		}()
		time.Sleep(time.Duration(150+100*round) * time.Millisecond)
		g.kill(t, syscall.SIGKILL)
		close(stop)
		<-stopped
		g.start(t)
		code, out := g.cli(t, "list")
		if code != 0 || !strings.Contains(out, "accounts") {
			t.Fatalf("round %d: after SIGKILL: exit %d\n%s\n%s", round, code, out, g.logs.String())
		}
		if got := g.query(t, userQuery); !strings.Contains(got, `"name":`) || strings.Contains(got, "errors") {
			t.Fatalf("round %d: after SIGKILL: %s", round, got)
		}
		t.Logf("round %d: after SIGKILL: %s", round, strings.SplitN(out, "\n", 2)[0])
	}
}

// TestRegistryBinariesShareRedis: three `gateway serve` processes with
// one real redis-server; a publish through one is served by all three
// within a second. That second is measured over real time, with four
// processes on the machine: serial.Timing.
func TestRegistryBinariesShareRedis(t *testing.T) {
	serial.Timing(t)
	urls := startDemoSubgraphs(t)
	rs := redistest.Start(t)
	bin := buildGateway(t)
	var gws []*registryBinary
	for range 3 {
		g := newRegistryBinary(t, bin, "redis:\n  url: "+rs.URL()+"\n")
		g.start(t)
		gws = append(gws, g)
	}
	// Seed the registry in one command from a rover supergraph.yaml whose
	// subgraphs are listed in an order where, one by one, inventory would
	// not compose before products.
	rover := "federation_version: =2.3.0\nsubgraphs:\n"
	for _, name := range []string{"inventory", "reviews", "accounts", "products"} {
		rover += "  " + name + ":\n    routing_url: " + urls[name] + "\n    schema:\n      subgraph_url: " + urls[name] + "\n"
	}
	roverFile := filepath.Join(t.TempDir(), "supergraph.yaml")
	if err := os.WriteFile(roverFile, []byte(rover), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := gws[0].cli(t, "publish", "--config", roverFile); code != 0 || !strings.Contains(out, "serving version 1") {
		t.Fatalf("seed: exit %d\n%s", code, out)
	}
	sdl, err := os.ReadFile(filepath.Join(repoRoot, "subgraphs/demo/accounts/schema.graphqls"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "accounts.graphql")
	if err := os.WriteFile(file, bytes.Replace(sdl, []byte("birthYear: Int"), []byte("birthYear: Int\n  email: String"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if code, out := gws[1].cli(t, "publish", "--name", "accounts", "--url", urls["accounts"], "--schema", file); code != 0 {
		t.Fatalf("publish: exit %d\n%s", code, out)
	}
	for i, g := range gws {
		for !strings.Contains(g.query(t, `{ __type(name: "User") { fields { name } } }`), `"email"`) {
			if time.Since(start) > time.Second {
				t.Fatalf("instance %d does not serve User.email 1s after the publish\n%s", i, g.logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	t.Logf("all 3 processes serve the new version %v after the CLI started publishing", time.Since(start).Round(time.Millisecond))
	if got := gws[2].query(t, `{ user(id: "1") { name } }`); !strings.Contains(got, `"name":`) || strings.Contains(got, "errors") {
		t.Fatalf("query: %s", got)
	}
}
