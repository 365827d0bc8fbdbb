package difftest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DiedHeader is set on the answer the front of a Reference gives in place
// of the reference's own when the reference crashed or did not answer
// within its deadline, even when asked again alone on a fresh process; its
// value says which (Result.Died).
const DiedHeader = "X-Difftest-Reference-Died"

// ReferenceOptions bound a reference process. A reference gateway has no
// bound of its own on one request's time or memory: one pathological plan
// can run for minutes at 100% CPU and grow by gigabytes, and its event
// loop answers nothing else meanwhile.
type ReferenceOptions struct {
	// StartTimeout bounds the wait for the process to print READY
	// (default 120s).
	StartTimeout time.Duration
	// Deadline bounds one request to the process (default 20s).
	Deadline time.Duration
	// HeapMB caps node's heap (--max-old-space-size; default 4096: Hive
	// Gateway holds about 2 GB with 77 generated graphs loaded): past it,
	// node ends the process.
	HeapMB int
}

func (o ReferenceOptions) withDefaults() ReferenceOptions {
	if o.StartTimeout <= 0 {
		o.StartTimeout = 120 * time.Second
	}
	if o.Deadline <= 0 {
		o.Deadline = 20 * time.Second
	}
	if o.HeapMB <= 0 {
		o.HeapMB = 4096
	}
	return o
}

// Reference is a reference gateway (e2e/difftest/*/refgw.mjs, a node
// process serving POST /GRAPH for every supergraph file GRAPH.graphql of a
// directory) behind a front on loopback that survives it. The front
// forwards each request with a deadline; when the process does not answer
// in time or dies, the front ends it, starts a fresh one, and asks again
// with the request alone in flight (a request that only waited behind
// another's runaway plan gets its answer; one that timed out alone is not
// asked again). When that fails too, it answers
// HTTP 504 or 502 with DiedHeader set, and the run counts the operation as
// one a reference crashed or timed out on.
type Reference struct {
	// Name names the reference in reports ("apollo", "hive").
	Name string
	// BaseURL is the front's http://127.0.0.1:PORT, the same across
	// restarts.
	BaseURL string
	// Refused lists the graphs the reference would not load, with why.
	Refused map[string]string

	script, dir string
	opts        ReferenceOptions
	client      *http.Client
	front       *http.Server

	// alone is held for reading by every forwarded request and for
	// writing by a second attempt, which so runs with nothing else in
	// flight.
	alone sync.RWMutex
	// inflight counts the first attempts in flight.
	inflight atomic.Int32
	// mu guards proc, restarts, broken and lastDeath; a restart holds it,
	// so requests wait for the fresh process.
	mu        sync.Mutex
	proc      *process
	restarts  int
	broken    error
	lastDeath string
}

// process is one node process of a Reference.
type process struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *lockedBuffer
	done   chan struct{}
	url    string
}

// StartReference runs node script dir with a heap cap, waits for it to
// print READY, and serves it behind the front (BaseURL). Stop ends both.
func StartReference(name, script, dir string, opts ReferenceOptions) (*Reference, error) {
	r := &Reference{Name: name, script: script, dir: dir, opts: opts.withDefaults(), Refused: map[string]string{},
		// Idle connections are dropped before node's keep-alive timeout
		// (5 s) closes them under a request.
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 2 * time.Second}}}
	p, err := r.spawn()
	if err != nil {
		return nil, err
	}
	r.proc = p
	for _, line := range strings.Split(p.stderr.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "REFUSED "); ok {
			graph, why, _ := strings.Cut(rest, ": ")
			r.Refused[graph] = why
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		p.stop()
		return nil, fmt.Errorf("reference %s: front: %w", name, err)
	}
	r.BaseURL = "http://" + ln.Addr().String()
	r.front = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.front.Serve(ln) }()
	return r, nil
}

// spawn starts one node process and waits for READY.
func (r *Reference) spawn() (*process, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("reference %s: %w", r.Name, err)
	}
	cmd := exec.Command(node, "--max-old-space-size="+strconv.Itoa(r.opts.HeapMB), filepath.Base(r.script), r.dir)
	cmd.Dir = filepath.Dir(r.script)
	ownGroup(cmd)
	// The stdin pipe ends the process with the test; MAX_SECONDS is a
	// last resort longer than any run.
	cmd.Env = append(os.Environ(), "MAX_SECONDS=86400", "NODE_NO_WARNINGS=1")
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
	p := &process{cmd: cmd, stdin: stdin, stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("reference %s: %w", r.Name, err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
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
		p.url = "http://127.0.0.1:" + strings.TrimSpace(port)
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("reference %s exited before it was ready: %s", r.Name, p.stderr.String())
	case <-time.After(r.opts.StartTimeout):
		p.stop()
		return nil, fmt.Errorf("reference %s not ready after %s: %s", r.Name, r.opts.StartTimeout, p.stderr.String())
	}
}

// ServeHTTP forwards a request to the current process (see Reference).
func (r *Reference) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	path := req.URL.EscapedPath()
	r.alone.RLock()
	p := r.current()
	r.inflight.Add(1)
	resp, err := r.forward(req.Context(), p, path, body)
	// A request that timed out with nothing else in flight held the
	// process itself: asking it again would only run the same plan on.
	culprit := err != nil && errors.Is(err, context.DeadlineExceeded) && r.inflight.Load() == 1
	r.inflight.Add(-1)
	if culprit {
		// Restarted before the lock is let go: a request asked again
		// alone must never be sent to the process about to be ended.
		r.restart(p, err)
	}
	r.alone.RUnlock()
	if err != nil && !culprit && req.Context().Err() == nil {
		r.restart(p, err)
		r.alone.Lock()
		p = r.current()
		resp, err = r.forward(req.Context(), p, path, body)
		if err != nil {
			r.restart(p, err)
		}
		r.alone.Unlock()
	}
	if err != nil {
		status := http.StatusBadGateway
		if errors.Is(err, context.DeadlineExceeded) {
			status = http.StatusGatewayTimeout
		}
		msg := fmt.Sprintf("reference %s: %v (asked twice, restarted)", r.Name, err)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set(DiedHeader, firstLine(err.Error()))
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{"message": msg}}})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

type answer struct {
	status int
	body   []byte
}

// forward posts body to path of p within the deadline. An error means p
// did not answer: it timed out (wrapping context.DeadlineExceeded), died,
// or was not running.
func (r *Reference) forward(ctx context.Context, p *process, path string, body []byte) (answer, error) {
	if p == nil {
		r.mu.Lock()
		err := r.broken
		r.mu.Unlock()
		return answer{}, fmt.Errorf("not running: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.Deadline)
	defer cancel()
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url+path, bytes.NewReader(body))
		if err != nil {
			return answer{}, err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := r.client.Do(req)
		if err == nil {
			var b []byte
			b, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil {
				return answer{status: resp.StatusCode, body: b}, nil
			}
		}
		if ctx.Err() == context.DeadlineExceeded {
			return answer{}, fmt.Errorf("timed out after %s: %w", r.opts.Deadline, context.DeadlineExceeded)
		}
		// The process may still be ending; an error from a live process
		// is a broken connection to it: node closes an idle keep-alive
		// connection as the next request goes out on it. Asked once more.
		wait := 2 * time.Second
		if attempt == 0 {
			wait = 200 * time.Millisecond
		}
		select {
		case <-p.done:
			return answer{}, fmt.Errorf("crashed: %s", p.crashReason())
		case <-time.After(wait):
			if attempt > 0 {
				return answer{}, fmt.Errorf("no answer: %w", err)
			}
		}
	}
}

// crashReason is node's fatal error line when it wrote one (past the heap
// cap: "FATAL ERROR: Reached heap limit ..."), else how the process ended
// and the end of its stderr.
func (p *process) crashReason() string {
	out := p.stderr.String()
	for _, line := range strings.Split(out, "\n") {
		if i := strings.Index(line, "FATAL ERROR:"); i >= 0 {
			return strings.TrimSpace(line[i:])
		}
	}
	return fmt.Sprintf("%v; stderr: %s", p.cmd.ProcessState, tail(out, 300))
}

// current is the running process (nil when a restart failed); it waits
// for a restart under way.
func (r *Reference) current() *process {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.proc
}

// restart ends p and starts a fresh process, unless another request has
// already replaced p.
func (r *Reference) restart(p *process, why error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p == nil || r.proc != p {
		return
	}
	p.stop()
	r.lastDeath = why.Error() + "\n" + tail(p.stderr.String(), 4000)
	r.restarts++
	np, err := r.spawn()
	if err != nil {
		r.proc, r.broken = nil, err
		return
	}
	r.proc = np
}

// Restarts is how many times the process was replaced, and why the last
// one was (with the end of what it wrote to stderr).
func (r *Reference) Restarts() (int, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.restarts, r.lastDeath
}

// Broken reports why the reference could not be started again, or nil.
func (r *Reference) Broken() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.broken
}

// URL returns the endpoint of graph.
func (r *Reference) URL(graph string) string { return r.BaseURL + "/" + graph }

// Stop ends the front and the process.
func (r *Reference) Stop() {
	if r.front != nil {
		_ = r.front.Close()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc != nil {
		r.proc.stop()
		r.proc = nil
	}
	r.broken = errors.New("stopped")
}

// stop ends the process group and waits for it.
func (p *process) stop() {
	if p.cmd.Process == nil {
		return
	}
	_ = p.stdin.Close()
	terminateGroup(p.cmd.Process)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		killGroup(p.cmd.Process)
		<-p.done
	}
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	return s
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(p)
	if l.b.Len()+len(p) > 1<<20 {
		// Keep the end: a crash's reason is what the process wrote last.
		rest := l.b.String()
		if len(rest) > 1<<19 {
			rest = rest[len(rest)-1<<19:]
		}
		l.b.Reset()
		l.b.WriteString(rest)
		if len(p) > 1<<19 {
			p = p[len(p)-1<<19:]
		}
	}
	l.b.Write(p)
	return n, nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
