package e2e

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/config"
	"github.com/fedgate/gateway/internal/listenlog"
	"github.com/fedgate/gateway/internal/syncbuf"
	"github.com/fedgate/gateway/internal/testsys"
)

// docBlock is one fenced shell block of a Markdown file.
type docBlock struct {
	file string
	line int // of the opening fence
	// mode is how the test runs it, from a "<!-- doctest: MODE -->"
	// comment on the line before the fence:
	//
	//	(none)             run in a fresh copy of the repository
	//	demo               run while `gateway demo` serves; the block's
	//	                   localhost:4000 and 127.0.0.1:9090 point at it
	//	registry           run while `gateway serve` serves with
	//	                   registry.enabled; FEDGATE_ADMIN_URL and
	//	                   FEDGATE_ADMIN_TOKEN point at its admin API
	//	skip: REASON       not run (needs Docker, a cluster, serves until
	//	                   stopped...); only its syntax is checked
	mode, reason string
	script       string
}

var (
	doctestMarker = regexp.MustCompile(`^<!--\s*doctest:\s*([a-z]+)(?::\s*(.*?))?\s*-->$`)
	fenceOpen     = regexp.MustCompile("^```([A-Za-z]*)\\s*$")
	// commandLine is a line of a plain fenced block that looks like a
	// command someone would paste: such blocks must be ```sh.
	commandLine = regexp.MustCompile(`^(gateway|make|go|curl|docker|kubectl|npm|node|cp|export) `)
)

// readDocBlocks returns the shell blocks of a Markdown file, and an error
// for a plain block that holds commands or a marker the test does not know.
func readDocBlocks(path string) ([]docBlock, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var blocks []docBlock
	var problems []string
	lines := strings.Split(string(data), "\n")
	prev := ""
	for i := 0; i < len(lines); i++ {
		m := fenceOpen.FindStringSubmatch(lines[i])
		if m == nil {
			if t := strings.TrimSpace(lines[i]); t != "" {
				prev = t
			}
			continue
		}
		start := i
		var body []string
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
			body = append(body, lines[i])
		}
		b := docBlock{file: filepath.Base(path), line: start + 1, script: strings.Join(body, "\n") + "\n"}
		if mm := doctestMarker.FindStringSubmatch(prev); mm != nil {
			b.mode, b.reason = mm[1], mm[2]
		}
		prev = ""
		switch m[1] {
		case "sh", "bash", "shell":
		case "":
			for _, l := range body {
				if commandLine.MatchString(l) {
					problems = append(problems, fmt.Sprintf("%s:%d: a block of commands must be ```sh (so this test runs it or says why not)", b.file, b.line))
					break
				}
			}
			continue
		default:
			continue
		}
		switch {
		case b.mode == "", b.mode == "demo", b.mode == "registry":
		case b.mode == "skip" && b.reason != "":
		default:
			problems = append(problems, fmt.Sprintf("%s:%d: doctest marker %q: want demo, registry or skip: REASON", b.file, b.line, prev))
		}
		blocks = append(blocks, b)
	}
	if len(problems) > 0 {
		return blocks, fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	return blocks, nil
}

// TestDocCommands runs the shell blocks of README.md and docs/*.md as a
// reader would, in order, in a fresh copy of the repository's files (one
// per Markdown file), with the gateway built from that copy on PATH as
// `gateway`. Blocks that need a running gateway get one on free loopback
// ports; blocks that need what a test machine lacks (Docker, a cluster)
// or that serve until stopped are marked skip with a reason, and only
// their syntax is checked. Every block must exit 0 within its time.
func TestDocCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gateway and runs the documentation's commands")
	}
	for _, tool := range []string{"bash", "git", "make", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed (scripts/install-deps.sh installs curl)", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	docs, _ := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	docs = append([]string{filepath.Join(repoRoot, "README.md")}, docs...)
	var all [][]docBlock
	for _, doc := range docs {
		blocks, err := readDocBlocks(doc)
		if err != nil {
			t.Error(err)
		}
		for _, b := range blocks {
			if out, err := exec.Command("bash", "-n", "-c", b.script).CombinedOutput(); err != nil {
				t.Errorf("%s:%d: not valid shell: %s", b.file, b.line, out)
			}
		}
		all = append(all, blocks)
	}
	if t.Failed() {
		return
	}

	work := newDocCopy(t)
	for i, blocks := range all {
		var runnable []docBlock
		for _, b := range blocks {
			if b.mode != "skip" {
				runnable = append(runnable, b)
			}
		}
		if len(runnable) == 0 {
			continue
		}
		t.Run(filepath.Base(docs[i]), func(t *testing.T) {
			dir := work.fresh(t)
			var demoAddr string
			var registryEnv []string
			for _, b := range runnable {
				script, env := b.script, []string{}
				switch b.mode {
				case "demo":
					if demoAddr == "" {
						demoAddr = work.startDemo(t, ctx)
					}
					script = pointAt(script, demoAddr)
				case "registry":
					if registryEnv == nil {
						registryEnv = work.startRegistry(t, ctx)
					}
					env = registryEnv
				}
				work.run(t, ctx, dir, b, script, env)
			}
		})
	}
}

// pointAt rewrites the documented local addresses to addr.
func pointAt(script, addr string) string {
	for _, a := range []string{"localhost:4000", "127.0.0.1:4000", "localhost:9090", "127.0.0.1:9090"} {
		script = strings.ReplaceAll(script, a, addr)
	}
	return script
}

// docCopy is where the documentation's commands run: a copy of the
// repository's files (tracked, and new ones not ignored) at a path that is
// the same on every run for this checkout, so the Go build cache, which
// keys compiled packages by their directory, serves `make build` there.
type docCopy struct {
	dir   string // the copy
	bin   string // holds gateway, first on PATH
	files []string
	tmp   string
}

func newDocCopy(t *testing.T) *docCopy {
	t.Helper()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("not a git checkout (%v): the fresh copy needs git ls-files", err)
	}
	sum := sha256.Sum256([]byte(root))
	w := &docCopy{
		dir: filepath.Join(os.TempDir(), fmt.Sprintf("fedgate-doctest-%x", sum[:6]), "repo"),
		tmp: t.TempDir(),
	}
	w.bin = filepath.Join(w.tmp, "bin")
	for _, f := range strings.Split(string(out), "\x00") {
		if f != "" {
			w.files = append(w.files, f)
		}
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(w.dir)) })
	w.copyFiles(t, root)
	build := exec.Command("go", "build", "-o", filepath.Join(w.bin, "gateway"), "./cmd/gateway")
	build.Dir = w.dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return w
}

// fresh makes the copy pristine again and returns it.
func (w *docCopy) fresh(t *testing.T) string {
	t.Helper()
	root, _ := filepath.Abs(repoRoot)
	w.copyFiles(t, root)
	return w.dir
}

func (w *docCopy) copyFiles(t *testing.T, root string) {
	t.Helper()
	if err := os.RemoveAll(w.dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range w.files {
		src := filepath.Join(root, f)
		info, err := os.Lstat(src)
		if err != nil || !info.Mode().IsRegular() {
			continue // deleted in the work tree, or a symlink
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(w.dir, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}

func (w *docCopy) env(extra ...string) []string {
	env := append(os.Environ(), "PATH="+w.bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return append(env, extra...)
}

// run runs one block with bash -eo pipefail in dir; it must exit 0 within
// three minutes (the first `make build` of a copy compiles).
func (w *docCopy) run(t *testing.T, ctx context.Context, dir string, b docBlock, script string, env []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-eo", "pipefail", "-c", script)
	cmd.Dir = dir
	cmd.Env = w.env(env...)
	testsys.KillGroupOnCancel(cmd)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("%s:%d: %v\n--- script\n%s--- output\n%s", b.file, b.line, err, script, tail(out, 40))
		return
	}
	t.Logf("%s:%d: ok\n%s", b.file, b.line, tail(out, 8))
}

func tail(out []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"…"}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n") + "\n"
}

// startGateway starts the built gateway with args on 127.0.0.1:0 and a
// configuration that serves metrics on the public listener (no fixed port
// 9090), waits until it answers /health, and stops it when the test ends.
// It returns the address it listens on and its log (listenAddr reads the
// other listeners there). The test fails when the gateway exits first or
// does not answer in 30 s.
func (w *docCopy) startGateway(t *testing.T, ctx context.Context, yaml string, args ...string) (string, *syncbuf.Buffer) {
	t.Helper()
	cfg := filepath.Join(w.tmp, fmt.Sprintf("gateway-%d.yaml", time.Now().UnixNano()))
	yaml += "telemetry:\n  metrics:\n    prometheus:\n      listen: \"\"\n  logging:\n    requests: false\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(w.bin, "gateway"), append(args, "--config", cfg, "--listen", "127.0.0.1:0")...)
	cmd.Dir = w.dir
	logs := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	addr := listenAddr(t, logs, listenlog.Gateway, exited)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/health")
		if err == nil {
			resp.Body.Close()
			return addr, logs
		}
		select {
		case <-exited:
			t.Fatalf("gateway %v exited before answering on %s:\n%s", args, addr, logs.String())
		default:
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("gateway %v does not answer on %s:\n%s", args, addr, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startDemo starts `gateway demo` and returns its address.
func (w *docCopy) startDemo(t *testing.T, ctx context.Context) string {
	addr, _ := w.startGateway(t, ctx, "", "demo")
	return addr
}

// startRegistry starts `gateway serve` with an empty registry and returns
// the environment that points the CLI at its admin API.
func (w *docCopy) startRegistry(t *testing.T, ctx context.Context) []string {
	const token = "doctest-admin-token-0123456789"
	yaml := fmt.Sprintf("registry:\n  enabled: true\n  listen: 127.0.0.1:0\n  token: %s\n  dir: %s\n", token, filepath.Join(w.tmp, "registry"))
	_, logs := w.startGateway(t, ctx, yaml, "serve")
	admin := listenAddr(t, logs, listenlog.Admin, nil)
	return []string{"FEDGATE_ADMIN_URL=http://" + admin, "FEDGATE_ADMIN_TOKEN=" + token}
}

// TestDocFacts checks numbers the documentation states against the code
// and the repository.
func TestDocFacts(t *testing.T) {
	read := func(path string) string {
		data, err := os.ReadFile(filepath.Join(repoRoot, path))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(strings.Fields(string(data)), " ")
	}
	number := func(path, pattern string) int {
		m := regexp.MustCompile(pattern).FindStringSubmatch(read(path))
		if m == nil {
			t.Fatalf("%s does not say %s", path, pattern)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}

	entries, err := os.ReadDir(filepath.Join(repoRoot, "testdata", "compose"))
	if err != nil {
		t.Fatal(err)
	}
	cases := 0
	for _, e := range entries {
		if e.IsDir() {
			cases++
		}
	}
	if n := number("README.md", "on the (\\d+) cases in `testdata/compose`"); n != cases {
		t.Errorf("README.md counts %d composition cases; testdata/compose has %d", n, cases)
	}
	if n := number("docs/playground.md", "`server.max_batch` caps the array \\(default (\\d+)"); n != config.Default().Server.MaxBatch {
		t.Errorf("docs/playground.md: batch cap default %d; config says %d", n, config.Default().Server.MaxBatch)
	}
}

// TestReadDocBlocks: the extraction finds blocks and markers, and refuses
// a plain block of commands and an unknown marker.
func TestReadDocBlocks(t *testing.T) {
	md := "# x\n\n```sh\nmake build\n```\n\n<!-- doctest: skip: needs Docker -->\n```sh\ndocker build .\n```\n" +
		"<!-- doctest: demo -->\n\n```bash\ncurl -s localhost:4000/graphql\n```\n```yaml\nmake: this is yaml\n```\n"
	path := filepath.Join(t.TempDir(), "a.md")
	os.WriteFile(path, []byte(md), 0o644)
	blocks, err := readDocBlocks(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ mode, reason, script string }{
		{"", "", "make build\n"},
		{"skip", "needs Docker", "docker build .\n"},
		{"demo", "", "curl -s localhost:4000/graphql\n"},
	}
	if len(blocks) != len(want) {
		t.Fatalf("%d blocks: %+v", len(blocks), blocks)
	}
	for i, w := range want {
		if b := blocks[i]; b.mode != w.mode || b.reason != w.reason || b.script != w.script {
			t.Errorf("block %d: %+v, want %+v", i, b, w)
		}
	}
	if got := pointAt(blocks[2].script, "127.0.0.1:5555"); got != "curl -s 127.0.0.1:5555/graphql\n" {
		t.Errorf("pointAt: %q", got)
	}
	for _, bad := range []string{
		"```\ngateway serve --config x\n```\n",
		"<!-- doctest: maybe -->\n```sh\nls\n```\n",
		"<!-- doctest: skip -->\n```sh\nls\n```\n",
	} {
		os.WriteFile(path, []byte(bad), 0o644)
		if _, err := readDocBlocks(path); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
