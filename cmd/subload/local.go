package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fedgate/gateway/internal/listenlog"
	"github.com/fedgate/gateway/subgraphs/demo"
)

// With -gateway, subload runs the demo subgraphs in its own process and
// the gateway (`gateway serve`) as a child, optionally pinned to other
// CPUs: the gateway's time is then its own, and the reviews subgraph
// stamps each event when it writes it to the gateway's upstream
// connection (emits), so latency is measured from the subgraph's emit to
// the client's read, besides from the mutation's send.

// emits are the times the reviews subgraph wrote each event, by the
// event's review body (the mutation's send time in nanoseconds). With out
// set (the subgraphs' own process, -serve-subgraphs), each is also
// printed there as "emit BODY UNIXNANO".
type emits struct {
	m   sync.Map
	mu  sync.Mutex
	out io.Writer
}

func (e *emits) stamp(body int64, at time.Time) {
	if _, loaded := e.m.LoadOrStore(body, at); loaded || e.out == nil {
		return
	}
	e.mu.Lock()
	fmt.Fprintf(e.out, "emit %d %d\n", body, at.UnixNano())
	e.mu.Unlock()
}

func (e *emits) at(body int64) (time.Time, bool) {
	v, ok := e.m.Load(body)
	if !ok {
		return time.Time{}, false
	}
	return v.(time.Time), true
}

// stampListener stamps the events written on its connections.
type stampListener struct {
	net.Listener
	e *emits
}

func (l stampListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return stampConn{c, l.e}, nil
}

type stampConn struct {
	net.Conn
	e *emits
}

var bodyField = []byte(`"body":"`)

// Write records the time of each `"body":"<digits>"` written (an event
// of reviewAdded or the answer of addReview, whichever comes first: the
// mutation selects no body, so it is the event).
func (c stampConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	now := time.Now()
	for rest := p; ; {
		i := bytes.Index(rest, bodyField)
		if i < 0 {
			break
		}
		rest = rest[i+len(bodyField):]
		j := bytes.IndexByte(rest, '"')
		if j < 0 {
			break
		}
		if ts, perr := strconv.ParseInt(string(rest[:j]), 10, 64); perr == nil {
			c.e.stamp(ts, now)
		}
	}
	return n, err
}

// startSubgraphs serves the demo subgraphs on loopback until ctx ends,
// the reviews one stamping its events into e; it returns their URLs by
// name.
func startSubgraphs(ctx context.Context, e *emits) (map[string]string, error) {
	urls := map[string]string{}
	for name, h := range demo.Handlers() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("listen for %s: %w", name, err)
		}
		if name == "reviews" {
			ln = stampListener{ln, e}
		}
		mux := http.NewServeMux()
		mux.Handle(demo.Path, h)
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		go func() { <-ctx.Done(); _ = srv.Close() }()
		urls[name] = "http://" + ln.Addr().String() + demo.Path
	}
	return urls, nil
}

// serveSubgraphs is the -serve-subgraphs mode: the demo subgraphs in this
// process, their URLs printed as "subgraph NAME URL" lines then "ready",
// each event's emit as an "emit" line, until stdin closes.
func serveSubgraphs() error {
	out := bufio.NewWriter(os.Stdout)
	flushing := &flushWriter{w: out}
	urls, err := startSubgraphs(context.Background(), &emits{out: flushing})
	if err != nil {
		return err
	}
	flushing.mu.Lock()
	for name, u := range urls {
		fmt.Fprintf(out, "subgraph %s %s\n", name, u)
	}
	fmt.Fprintln(out, "ready")
	_ = out.Flush()
	flushing.mu.Unlock()
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

// flushWriter flushes after each write.
type flushWriter struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func (f *flushWriter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.w.Write(p)
	if err == nil {
		err = f.w.Flush()
	}
	return n, err
}

// startSubgraphsApart runs the demo subgraphs in a child process (this
// binary with -serve-subgraphs), pinned to cpus when set, and copies the
// emits it reports into e; it returns their URLs by name and the child's
// pid. The child ends with ctx.
func startSubgraphsApart(ctx context.Context, cpus string, e *emits) (map[string]string, int, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, 0, err
	}
	name, args := self, []string{"-serve-subgraphs"}
	if cpus != "" {
		name, args = "taskset", append([]string{"-c", cpus, self}, args...)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, 0, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, 0, err
	}
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("start the subgraphs: %w", err)
	}
	go func() { <-ctx.Done(); _ = stdin.Close() }()
	sc := bufio.NewScanner(stdout)
	urls := map[string]string{}
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 1 && f[0] == "ready" {
			break
		}
		if len(f) == 3 && f[0] == "subgraph" {
			urls[f[1]] = f[2]
		}
	}
	if len(urls) == 0 {
		return nil, 0, fmt.Errorf("the subgraphs' process reported no URLs")
	}
	go func() {
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 3 || f[0] != "emit" {
				continue
			}
			body, err1 := strconv.ParseInt(f[1], 10, 64)
			at, err2 := strconv.ParseInt(f[2], 10, 64)
			if err1 == nil && err2 == nil {
				e.m.LoadOrStore(body, time.Unix(0, at))
			}
		}
	}()
	return urls, cmd.Process.Pid, nil
}

// gatewayChild is the gateway subload started.
type gatewayChild struct {
	cmd        *exec.Cmd
	url        string
	metricsURL string
}

// startGateway runs `bin serve` on a free loopback port with the
// supergraph, the configuration and the subgraph URLs, pinned to cpus
// (taskset) when set, and waits until it answers. The gateway binds the
// port itself (127.0.0.1:0) and its log names it: a port found free here
// and handed over could be taken meanwhile. Its output goes to logPath.
func startGateway(ctx context.Context, bin, cpus, supergraph, configPath, logPath string, urls map[string]string) (*gatewayChild, error) {
	args := []string{"serve", "--supergraph", supergraph, "--listen", "127.0.0.1:0"}
	if configPath != "" {
		args = append(args, "--config", configPath)
	}
	for name, u := range urls {
		args = append(args, "--subgraph-url", name+"="+u)
	}
	name := bin
	if cpus != "" {
		args = append([]string{"-c", cpus, bin}, args...)
		name = "taskset"
	}
	cmd := exec.CommandContext(ctx, name, args...)
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = logf, io.MultiWriter(logf, pw)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start gateway: %w", err)
	}
	g := &gatewayChild{cmd: cmd}
	listening, metrics := make(chan string, 1), make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			for _, l := range []struct {
				msg string
				to  chan string
			}{{listenlog.Gateway, listening}, {listenlog.Metrics, metrics}} {
				if addr, ok := listenlog.Find(sc.Text(), l.msg); ok {
					select {
					case l.to <- addr:
					default: // a later line of the same listener
					}
				}
			}
		}
	}()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	select {
	case addr := <-listening:
		g.url = "http://" + addr + "/graphql"
	case <-deadline.C:
		g.stop()
		return nil, fmt.Errorf("the gateway did not log where it listens in 30 s (log %s)", logPath)
	}
	for {
		resp, err := http.Post(g.url, "application/json", strings.NewReader(`{"query":"{__typename}"}`))
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case <-deadline.C:
			g.stop()
			return nil, fmt.Errorf("the gateway did not answer on %s (log %s)", g.url, logPath)
		case <-time.After(100 * time.Millisecond):
		}
	}
	select {
	case m := <-metrics:
		g.metricsURL = "http://" + m + "/metrics"
	case <-time.After(2 * time.Second):
	}
	return g, nil
}

// stop ends the gateway (SIGTERM, then kill after 10 s).
func (g *gatewayChild) stop() {
	if g.cmd.Process == nil {
		return
	}
	_ = g.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = g.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = g.cmd.Process.Kill()
		<-done
	}
}

// pid is the gateway's process id (taskset execs it in place).
func (g *gatewayChild) pid() int { return g.cmd.Process.Pid }

// timings is the gateway's /debug/subscriptions/timings.
type timings struct {
	Bounds   []int64 `json:"bounds_us"`
	Complete []int64 `json:"complete"`
	Delivery []int64 `json:"delivery"`
	FanOut   []int64 `json:"fanout"`
}

func readTimings(metricsURL string) (*timings, error) {
	if metricsURL == "" {
		return nil, fmt.Errorf("no metrics URL")
	}
	u := strings.TrimSuffix(metricsURL, "/metrics") + "/debug/subscriptions/timings"
	resp, err := http.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("%s: %s", u, resp.Status)
	}
	var t timings
	return &t, json.NewDecoder(resp.Body).Decode(&t)
}

// histPercentiles reads percentiles off the difference of two cumulative
// histograms: each the upper bound of the bucket it falls in.
func histPercentiles(bounds, before, after []int64, ps ...float64) (n int64, out []string) {
	diff := make([]int64, len(after))
	for i := range after {
		diff[i] = after[i]
		if i < len(before) {
			diff[i] -= before[i]
		}
		n += diff[i]
	}
	for _, p := range ps {
		target := int64(p * float64(n))
		var seen int64
		s := "-"
		for i, c := range diff {
			seen += c
			if seen > target {
				if bounds[i] < 0 {
					s = ">" + time.Duration(bounds[i-1]*1e3).String()
				} else {
					s = "≤" + time.Duration(bounds[i]*1e3).Round(10*time.Microsecond).String()
				}
				break
			}
		}
		out = append(out, s)
	}
	return n, out
}
