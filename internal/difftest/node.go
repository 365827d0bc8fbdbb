package difftest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Reference is a running reference gateway process (e2e/difftest/*/refgw.mjs)
// that serves POST /GRAPH for every supergraph file GRAPH.graphql of a
// directory.
type Reference struct {
	// Name names the reference in reports ("apollo", "hive").
	Name string
	// BaseURL is http://127.0.0.1:PORT.
	BaseURL string
	// Refused lists the graphs the reference would not load, with why.
	Refused map[string]string

	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *lockedBuffer
	done   chan struct{}
}

// StartReference runs node script dir and waits (up to timeout) for it
// to print READY. The process leads its own process group; Stop ends it.
func StartReference(name, script, dir string, timeout time.Duration) (*Reference, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("reference %s: %w", name, err)
	}
	cmd := exec.Command(node, filepath.Base(script), dir)
	cmd.Dir = filepath.Dir(script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = append(os.Environ(), "MAX_SECONDS=3600", "NODE_NO_WARNINGS=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	// The reference exits when this pipe closes, also when this process
	// dies without running Stop.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	r := &Reference{Name: name, cmd: cmd, stdin: stdin, stderr: &lockedBuffer{}, done: make(chan struct{}), Refused: map[string]string{}}
	cmd.Stderr = r.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("reference %s: %w", name, err)
	}
	go func() { _ = cmd.Wait(); close(r.done) }()
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if port, ok := strings.CutPrefix(sc.Text(), "READY "); ok {
				ready <- port
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case port := <-ready:
		r.BaseURL = "http://127.0.0.1:" + strings.TrimSpace(port)
	case <-r.done:
		return nil, fmt.Errorf("reference %s exited before it was ready: %s", name, r.stderr.String())
	case <-time.After(timeout):
		r.Stop()
		return nil, fmt.Errorf("reference %s not ready after %s: %s", name, timeout, r.stderr.String())
	}
	for _, line := range strings.Split(r.stderr.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "REFUSED "); ok {
			graph, why, _ := strings.Cut(rest, ": ")
			r.Refused[graph] = why
		}
	}
	return r, nil
}

// Exited reports whether the reference process has ended, with the end
// of what it wrote to stderr.
func (r *Reference) Exited() (bool, string) {
	select {
	case <-r.done:
		s := r.stderr.String()
		if len(s) > 4000 {
			s = s[len(s)-4000:]
		}
		return true, s
	default:
		return false, ""
	}
}

// URL returns the endpoint of graph.
func (r *Reference) URL(graph string) string { return r.BaseURL + "/" + graph }

// Stop ends the reference's process group and waits for it.
func (r *Reference) Stop() {
	if r.cmd.Process == nil {
		return
	}
	_ = r.stdin.Close()
	_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
		<-r.done
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < 1<<20 {
		l.b.Write(p)
	}
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
