package fedgate

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/internal/listenlog"
	"github.com/fedgate/gateway/internal/redistest"
	"github.com/fedgate/gateway/internal/syncbuf"
)

// servedProcess is `gateway serve` running as a child process (this test
// binary, through TestMain), with its log.
type servedProcess struct {
	cmd    *exec.Cmd
	log    *syncbuf.Buffer
	exited chan struct{}
	err    error // Wait's, once exited is closed
}

// startServe starts `gateway serve args...` with the configuration yaml
// (its listener on 127.0.0.1:0, no metrics listener) and waits for its
// "gateway listening" line. The process is killed when the test ends.
func startServe(t *testing.T, yaml string, args ...string) *servedProcess {
	t.Helper()
	return startCommand(t, "serve", yaml, args...)
}

// startCommand is startServe for another command (demo).
func startCommand(t *testing.T, command, yaml string, args ...string) *servedProcess {
	t.Helper()
	p := launchCommand(t, command, yaml, args...)
	if _, err := listenlog.Wait(p.log.String, listenlog.Gateway, p.exited, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	return p
}

// launchCommand is startCommand without waiting for the listener.
func launchCommand(t *testing.T, command, yaml string, args ...string) *servedProcess {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "gateway.yaml")
	yaml += "server:\n  listen: 127.0.0.1:0\ntelemetry:\n  metrics:\n    prometheus:\n      listen: \"\"\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &servedProcess{log: &syncbuf.Buffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], append([]string{command, "--config", cfg}, args...)...)
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

// TestRedisCheckedAtStart: a redis.url nothing answers at is logged as a
// warning at start (the gateway serves without Redis and says nothing per
// request, so a mistyped URL went unnoticed); a real redis-server is
// logged as answering.
func TestRedisCheckedAtStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	p := startServe(t, "redis:\n  url: redis://"+closed+"/0\n", "--supergraph", "../../gateway.graphql")
	p.waitLog(t, "redis.url does not answer; serving without Redis", 1)
	if strings.Contains(p.log.String(), "redis://"+closed) {
		t.Error("the log holds the Redis URL (it may hold a password)")
	}
	// go-redis's own messages (the pool that cannot dial) come through the
	// configured logger too, not as text lines of its own.
	for _, line := range strings.Split(strings.TrimSpace(p.log.String()), "\n") {
		if !strings.HasPrefix(line, "{") {
			t.Errorf("a line not in the configured (JSON) format: %s", line)
		}
	}
	p.stop(t)

	srv := redistest.Start(t)
	p = startServe(t, "redis:\n  url: "+srv.URL()+"\n", "--supergraph", "../../gateway.graphql")
	if strings.Contains(p.log.String(), "does not answer") {
		t.Errorf("a running redis-server reported as not answering:\n%s", p.log.String())
	}
	p.waitLog(t, `"msg":"redis answering"`, 1)
	p.stop(t)
}

// TestStartLogSaysWhatItServes: the start-up log names the build, the
// supergraph file and version, and each subgraph with the URL it calls
// (the --subgraph-url one where given), every line in the configured
// format.
func TestStartLogSaysWhatItServes(t *testing.T) {
	p := startServe(t, "", "--supergraph", "../../gateway.graphql", "--subgraph-url", "products=http://127.0.0.1:4999/graphql",
		"--debug-listen", "127.0.0.1:0")
	log := p.log.String()
	if strings.Contains(log, "server.debug_listen is not a loopback address") {
		t.Errorf("a loopback debug listener warned about:\n%s", log)
	}
	for _, want := range []string{
		`"msg":"starting","build":"fedgate `,
		`"msg":"debug listening","addr":"127.0.0.1:`,
		`"msg":"subgraph","name":"accounts","url":"http://127.0.0.1:4101/graphql"`,
		`"msg":"subgraph","name":"products","url":"http://127.0.0.1:4999/graphql"`,
		`"supergraph":"../../gateway.graphql","supergraph_version":"`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the start-up log lacks %s:\n%s", want, log)
		}
	}
	p.stop(t)
	if want := `"msg":"shutting down","signal":"terminated","in_flight":0,"drain_delay":"0s","shutdown_timeout":"10s"`; !strings.Contains(p.log.String(), want) {
		t.Errorf("the shutdown line lacks %s:\n%s", want, p.log.String())
	}
	// The demo's subgraph lines were written before the configured
	// logger was set: text lines among JSON ones.
	p = startCommand(t, "demo", "")
	log = p.log.String()
	if n := strings.Count(log, `"msg":"demo subgraph"`); n != 4 {
		t.Errorf("%d demo subgraph lines in JSON, want 4:\n%s", n, log)
	}
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		if !strings.HasPrefix(line, "{") {
			t.Errorf("a line not in the configured (JSON) format: %s", line)
		}
	}
	p.stop(t)
}

// TestSighupWhileStarting: a SIGHUP that arrives while the gateway sets
// up (here a Redis that accepts the connection and never answers, so the
// start-up PING waits its 2 s), after the supergraph file was loaded and
// then changed, is held: once serving, the gateway reloads the changed
// file. Before, the SIGHUP handler was installed only after the set-up,
// so this SIGHUP killed the process (its default action), and the file
// was read again after the set-up as the "served" version, so the change
// made meanwhile was taken for none ("SIGHUP: supergraph unchanged").
func TestSighupWhileStarting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c // held open, never answered
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for {
			select {
			case c := <-accepted:
				c.Close()
			default:
				return
			}
		}
	})
	path := filepath.Join(t.TempDir(), "supergraph.graphql")
	if err := os.WriteFile(path, []byte(gateway.DemoSupergraph), 0o644); err != nil {
		t.Fatal(err)
	}
	p := launchCommand(t, "serve", "redis:\n  url: redis://"+ln.Addr().String()+"/0\n  timeout: 1s\n", "--supergraph", path)
	select {
	case c := <-accepted: // the start-up PING is under way
		accepted <- c
	case <-p.exited:
		t.Fatalf("the gateway exited (%v):\n%s", p.err, p.log.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("the gateway never asked Redis:\n%s", p.log.String())
	}
	if err := os.WriteFile(path, []byte(otherSupergraph(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if _, err := listenlog.Wait(p.log.String, listenlog.Gateway, p.exited, 30*time.Second); err != nil {
		t.Fatalf("after a SIGHUP while starting: %v (exit: %v)\n%s", err, p.err, p.log.String())
	}
	p.waitLog(t, `"msg":"supergraph reloaded"`, 1)
	p.stop(t)
}
