package fedgate

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/internal/listenlog"
)

// servedProcess is `gateway serve` running as a child process (this test
// binary, through TestMain), with its log.
type servedProcess struct {
	cmd    *exec.Cmd
	log    *lockedBuffer
	exited chan struct{}
	err    error // Wait's, once exited is closed
}

// startServe starts `gateway serve args...` with the configuration yaml
// (its listener on 127.0.0.1:0, no metrics listener) and waits for its
// "gateway listening" line. The process is killed when the test ends.
func startServe(t *testing.T, yaml string, args ...string) *servedProcess {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "gateway.yaml")
	yaml += "server:\n  listen: 127.0.0.1:0\ntelemetry:\n  metrics:\n    prometheus:\n      listen: \"\"\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &servedProcess{log: &lockedBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], append([]string{"serve", "--config", cfg}, args...)...)
	p.cmd.Env = append(os.Environ(), "GATEWAY_TEST_MAIN=1", "FEDGATE_TIMER_SLACK=0")
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
	})
	if _, err := listenlog.Wait(p.log.String, listenlog.Gateway, p.exited, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitLog waits until the log holds n lines containing msg.
func (p *servedProcess) waitLog(t *testing.T, msg string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(p.log.String(), msg) < n {
		select {
		case <-p.exited:
			t.Fatalf("the gateway exited (%v) before logging %q:\n%s", p.err, msg, p.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log:\n%s", msg, p.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends SIGTERM and expects a clean exit.
func (p *servedProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("no exit 20s after SIGTERM:\n%s", p.log.String())
	}
	if p.err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", p.err, p.log.String())
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// otherSupergraph is the demo supergraph with another URL for accounts:
// another version.
func otherSupergraph(t *testing.T) string {
	t.Helper()
	other := strings.Replace(gateway.DemoSupergraph, "http://127.0.0.1:4101/graphql", "http://127.0.0.1:4111/graphql", 1)
	if other == gateway.DemoSupergraph {
		t.Fatal("the demo supergraph has no accounts URL 127.0.0.1:4101 to change")
	}
	return other
}

// TestSighupReloadsSupergraph: SIGHUP reads supergraph.path again and
// serves it when it changed, keeps the running version when the file does
// not load, and never ends the process (before, SIGHUP's default action
// killed the gateway at once, dropping the requests in flight). The
// process still drains and exits 0 on SIGTERM afterwards.
func TestSighupReloadsSupergraph(t *testing.T) {
	path := filepath.Join(t.TempDir(), "supergraph.graphql")
	if err := os.WriteFile(path, []byte(gateway.DemoSupergraph), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, "", "--supergraph", path)
	hup := func() {
		t.Helper()
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}

	hup() // the file has not changed
	p.waitLog(t, "SIGHUP: supergraph unchanged", 1)

	if err := os.WriteFile(path, []byte(otherSupergraph(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	hup()
	p.waitLog(t, `"msg":"supergraph reloaded"`, 1)

	if err := os.WriteFile(path, []byte("type Query { a: Int }"), 0o644); err != nil {
		t.Fatal(err)
	}
	hup()
	p.waitLog(t, "SIGHUP: supergraph reload failed; still serving the previous version", 1)
	if n := strings.Count(p.log.String(), `"msg":"supergraph reloaded"`); n != 1 {
		t.Errorf("%d reloads logged, want 1:\n%s", n, p.log.String())
	}
	p.stop(t)
}

// TestSighupWithoutFileKeepsServing: with the registry deciding the
// supergraph, SIGHUP says there is nothing to reload and the gateway goes
// on.
func TestSighupWithoutFileKeepsServing(t *testing.T) {
	yaml := "registry:\n  enabled: true\n  listen: 127.0.0.1:0\n  token: reload-test-token-0123456789abcdef\n  dir: " + filepath.Join(t.TempDir(), "registry") + "\n"
	p := startServe(t, yaml)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, "SIGHUP: nothing to reload", 1)
	p.stop(t)
}

// TestWatchWithSupergraphFlag: supergraph.watch in the file is valid when
// --supergraph gives the path (before, the file was checked without it
// and refused: "supergraph.watch: needs supergraph.path"), and a change
// of the file is served.
func TestWatchWithSupergraphFlag(t *testing.T) {
	path := filepath.Join(t.TempDir(), "supergraph.graphql")
	if err := os.WriteFile(path, []byte(gateway.DemoSupergraph), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, "supergraph:\n  watch: true\n", "--supergraph", path)
	if err := os.WriteFile(path, []byte(otherSupergraph(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, `"msg":"supergraph reloaded"`, 1)
	p.stop(t)
}

// TestServeMistakes: serving a file that is not a supergraph says what the
// file is and the command that makes a supergraph; a wrong subgraph name
// or a taken address says what to change.
func TestServeMistakes(t *testing.T) {
	dir := t.TempDir()
	rover := filepath.Join(dir, "supergraph.yaml")
	os.WriteFile(rover, []byte("federation_version: =2.3.2\nsubgraphs:\n  a:\n    routing_url: http://a\n    schema:\n      file: a.graphql\n"), 0o644)
	subgraph := filepath.Join(dir, "a.graphql")
	os.WriteFile(subgraph, []byte("type Query { a: Int }\n"), 0o644)
	for _, tt := range []struct {
		file string
		want []string
	}{
		{rover, []string{"is a rover supergraph.yaml", "gateway compose --config " + rover + " -o supergraph.graphql"}},
		{subgraph, []string{"not a supergraph", "gateway compose --config supergraph.yaml"}},
	} {
		_, stderr, code := runMain(t, "serve", "--supergraph", tt.file)
		if code != 1 {
			t.Errorf("serve --supergraph %s: exit %d, want 1", tt.file, code)
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("serve --supergraph %s: stderr does not say %q:\n%s", tt.file, w, stderr)
			}
		}
	}
	// An unknown --subgraph-url name lists the names there are.
	cfg := filepath.Join(dir, "gateway.yaml")
	os.WriteFile(cfg, []byte("server:\n  listen: 127.0.0.1:0\ntelemetry:\n  metrics:\n    prometheus:\n      listen: \"\"\n"), 0o600)
	_, stderr, code := runMain(t, "serve", "--config", cfg, "--supergraph", "../../gateway.graphql", "--subgraph-url", "product=http://127.0.0.1:1/graphql")
	if want := "its subgraphs are accounts, inventory, products, reviews"; code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("--subgraph-url product=...: exit %d, stderr does not say %q:\n%s", code, want, stderr)
	}
	// An address in use names the key and the flag that choose another.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, stderr, code = runMain(t, "serve", "--config", cfg, "--supergraph", "../../gateway.graphql", "--listen", ln.Addr().String())
	if want := "server.listen (--listen): listen tcp " + ln.Addr().String(); code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("--listen on an address in use: exit %d, stderr does not say %q:\n%s", code, want, stderr)
	}
}
