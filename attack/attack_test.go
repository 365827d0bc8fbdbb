//go:build attack

// Package attack is the adversarial suite (make attack): it builds the
// gateway binary, runs `gateway demo` with every feature on (auth, Redis
// shared by rate limits, response and entity caches and APQ, batching,
// rate limits) on loopback ports, attacks it as a hostile client would,
// and prints the figure each attack is bounded by: peak RSS, CPU per
// request, latency of real clients, Redis bytes. Every test is bounded in
// connections and time.
package attack

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/hammer"
	"github.com/fedgate/gateway/internal/listenlog"
	"github.com/fedgate/gateway/internal/redistest"
)

// gateway is a running gateway process.
type gateway struct {
	cmd   *exec.Cmd
	addr  string
	url   string
	redis *redistest.Server
	log   *lockedBuffer
	// calm is real clients' p99 before the attack (measureCalm), 0 when
	// not measured.
	calm time.Duration
}

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fedgate-attack")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "gateway")
	build := exec.Command("go", "build", "-o", binary, "../cmd/gateway")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// secret signs the tokens of the suite's callers.
const secret = "attack-suite-secret-of-at-least-32-bytes"

// start runs `gateway demo` with every feature on and extra YAML appended
// (top-level keys not set here). The default tier allows 100 requests per
// 10s; with rateLimited false, 100000 per second (the limiter still runs
// against Redis, but real clients of the slow-client tests are not
// refused).
func start(t *testing.T, extra string, rateLimited ...bool) *gateway {
	t.Helper()
	tiers := "limits:\n  tiers:\n    default: {requests: 100, window: 10s}"
	if len(rateLimited) > 0 && !rateLimited[0] {
		tiers = "limits:\n  tiers:\n    default: {requests: 100000, window: 1s}"
	}
	return startLimits(t, tiers, extra)
}

// startLimits is start with limits, the YAML of the limits section.
func startLimits(t *testing.T, tiers, extra string) *gateway {
	t.Helper()
	return startConfig(t, tiers, "", extra)
}

// startWithServer is start (not rate limited) with more keys of the server
// section, each line indented by two spaces.
func startWithServer(t *testing.T, serverKeys string) *gateway {
	t.Helper()
	return startConfig(t, "limits:\n  tiers:\n    default: {requests: 100000, window: 1s}", serverKeys, "")
}

// startConfig is startLimits with more keys of the server section.
func startConfig(t *testing.T, tiers, serverKeys, extra string) *gateway {
	t.Helper()
	return startConfigFDs(t, tiers, serverKeys, extra, 0)
}

// startWithServerFDs is startWithServer for a gateway started with at
// most fds file descriptors (prlimit, soft and hard; 0 leaves the limit
// alone). The limit is set before the process starts, as a container's
// or systemd's is: the gateway reads it at start (the per-address
// connection bound applies from half of it, server.ConnectionsBusyAt).
func startWithServerFDs(t *testing.T, serverKeys string, fds int) *gateway {
	t.Helper()
	return startConfigFDs(t, "limits:\n  tiers:\n    default: {requests: 100000, window: 1s}", serverKeys, "", fds)
}

// startConfigFDs is startConfig with the gateway's descriptor limit
// (startWithServerFDs).
func startConfigFDs(t *testing.T, tiers, serverKeys, extra string, fds int) *gateway {
	t.Helper()
	rs := redistest.Start(t)
	// The gateway binds a free port itself and logs it: a port found free
	// here and handed over could be taken by another process meanwhile.
	cfg := fmt.Sprintf(`
server:
  listen: 127.0.0.1:0
  batching: true
  max_inflight_requests: 200
  read_timeout: 5s
  read_header_timeout: 5s
%s
redis:
  url: %s
  timeout: 1s
auth:
  jwt:
    keys:
      - kid: k1
        secret: %s
        algorithms: [HS256]
        issuers: [attack-suite]
  headers:
    all:
      forward: ["*"]
      claims:
        - {claim: sub, header: X-User-Id}
%s
cache:
  response: {default_max_age: 10s}
  entity: {enabled: true}
%s`, serverKeys, rs.URL(), secret, tiers, extra)
	path := filepath.Join(t.TempDir(), "gateway.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{b: &bytes.Buffer{}}
	g := &gateway{redis: rs, log: logs}
	g.cmd = exec.Command(binary, "demo", "--config", path)
	if fds > 0 {
		// prlimit sets the limit and execs the gateway: the pid is the
		// gateway's.
		prlimit, err := exec.LookPath("prlimit")
		if err != nil {
			t.Skipf("prlimit: %v", err)
		}
		g.cmd = exec.Command(prlimit, fmt.Sprintf("--nofile=%d:%d", fds, fds), binary, "demo", "--config", path)
	}
	g.cmd.Stdout, g.cmd.Stderr = io.Discard, logs
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = g.cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = g.cmd.Process.Kill()
		<-exited
	})
	addr, err := listenlog.Wait(logs.String, listenlog.Gateway, exited, 20*time.Second)
	if err != nil {
		t.Fatalf("the gateway did not start: %v", err)
	}
	g.addr, g.url = addr, "http://"+addr+"/graphql"
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + g.addr + "/health")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway does not answer: %s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return g
}

type lockedBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 {
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// status reads a /proc/PID/status field in kB.
func (g *gateway) status(field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", g.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field+":") {
			f := strings.Fields(line)
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return -1
}

// io reads a /proc/PID/io field (rchar: the bytes its read calls
// returned, sockets included).
func (g *gateway) io(field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", g.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+": "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return -1
}

// demand returns the time the process's threads ran or waited to run
// (/proc/PID/task/*/schedstat): unlike CPU time it grows as fast when
// the machine is busy and the process waits for a core, so it tells a
// process with work to do from an idle one at any load average.
func (g *gateway) demand() time.Duration {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", g.cmd.Process.Pid))
	var ns int64
	for _, p := range tasks {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) < 2 {
			continue
		}
		run, _ := strconv.ParseInt(f[0], 10, 64)
		wait, _ := strconv.ParseInt(f[1], 10, 64)
		ns += run + wait
	}
	return time.Duration(ns)
}

// cpu returns the process's user+system CPU time.
func (g *gateway) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", g.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

const realQuery = `{"query":"{ topProducts(first: 2) { upc name } }"}`

// realClients sends real requests one after another until stop is closed
// and returns their latencies and failures.
func (g *gateway) realClients(n int, stop <-chan struct{}) (lat []time.Duration, failed int) {
	return g.realClientsOf(n, stop, realQuery)
}

// realClientsOf is realClients sending body.
func (g *gateway) realClientsOf(n int, stop <-chan struct{}, body string) (lat []time.Duration, failed int) {
	var mu sync.Mutex
	// Real clients come from an address of their own: the attacks come
	// from 127.0.0.1, and one address holds at most
	// server.max_connections_per_address connections.
	clients := make([]*http.Client, n)
	for i := range clients {
		clients[i] = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext}}
	}
	hammer.Run(n, stop, func(i int) bool {
		start := time.Now()
		req, _ := http.NewRequest(http.MethodPost, g.url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := clients[i].Do(req)
		ok := err == nil && resp.StatusCode == 200
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		d := time.Since(start)
		mu.Lock()
		if ok {
			lat = append(lat, d)
		} else {
			failed++
		}
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		return true
	})()
	return lat, failed
}

// median is the middle of lat (sorted in place).
func median(lat []time.Duration) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat[len(lat)/2]
}

func p99(lat []time.Duration) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat[len(lat)*99/100]
}

// dialMany opens n connections and writes prefix on each.
func dialMany(t *testing.T, addr string, n int, prefix string) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial after %d connections: %v", len(conns), err)
		}
		if prefix != "" {
			if _, err := c.Write([]byte(prefix)); err != nil {
				t.Fatal(err)
			}
		}
		conns = append(conns, c)
	}
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	return conns
}

// measureCalm measures real clients' p99 for a second before an attack
// begins: underAttack's bound on their p99 under attack is 100 ms, or
// three times this when the machine is so busy that the gateway alone
// does not make it (at load average 13 the suite's real clients had a
// p99 of 0.36-0.77 s with no attack at all: its processes run at idle
// priority and stall together).
func (g *gateway) measureCalm(t *testing.T) {
	t.Helper()
	stop := make(chan struct{})
	time.AfterFunc(time.Second, func() { close(stop) })
	lat, failed := g.realClients(4, stop)
	if failed > 0 || len(lat) == 0 {
		t.Fatalf("before the attack: %d real requests failed (%d served)", failed, len(lat))
	}
	g.calm = p99(lat)
}

// underAttack runs real clients for d while the attack holds, and reports.
func underAttack(t *testing.T, g *gateway, what string, d time.Duration) {
	t.Helper()
	stop := make(chan struct{})
	time.AfterFunc(d, func() { close(stop) })
	lat, failed := g.realClients(4, stop)
	peak := g.status("VmHWM")
	t.Logf("FIGURE %s: peak RSS %d MB, real clients: %d served, %d failed, p99 %v (%v before the attack)", what, peak>>10, len(lat), failed, p99(lat), g.calm)
	if peak > 150<<10 {
		t.Errorf("%s: peak RSS %d MB, want under 150 MB", what, peak>>10)
	}
	if failed > 0 || len(lat) == 0 {
		t.Errorf("%s: %d real requests failed (%d served)", what, failed, len(lat))
	}
	if p, limit := p99(lat), max(100*time.Millisecond, 3*g.calm); p > limit {
		t.Errorf("%s: real clients' p99 %v, want under %v (%v before the attack)", what, p, limit, g.calm)
	}
}

// TestSlowBodies: 1,000 connections announce a 2 MiB body and send one
// byte; real clients are still served.
func TestSlowBodies(t *testing.T) {
	g := start(t, "", false)
	g.measureCalm(t)
	head := fmt.Sprintf("POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", 2<<20)
	conns := dialMany(t, g.addr, 1000, head)
	time.Sleep(time.Second)
	underAttack(t, g, "1000 slow bodies", 3*time.Second)
	// The body deadline (read_timeout 5s) closes them.
	closed := 0
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
			closed++
		}
	}
	t.Logf("FIGURE 1000 slow bodies: %d of 1000 answered 408 within the body deadline", closed)
	if closed < 1000 {
		t.Errorf("%d slow bodies were not answered within the deadline", 1000-closed)
	}
}

// TestSlowHeaders: 1,000 connections send half a request line and stop.
func TestSlowHeaders(t *testing.T) {
	g := start(t, "", false)
	g.measureCalm(t)
	conns := dialMany(t, g.addr, 1000, "POST /graphql HTTP/1.1\r\nHost: x\r\nX-Slow: ")
	time.Sleep(time.Second)
	underAttack(t, g, "1000 slow headers", 3*time.Second)
	closed := 0
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
			closed++
		}
	}
	t.Logf("FIGURE 1000 slow headers: %d of 1000 closed within read_header_timeout", closed)
	if closed < 1000 {
		t.Errorf("%d slow-header connections were still open", 1000-closed)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestIdleConnections: 1,000 keep-alive connections that made one request
// and went quiet.
func TestIdleConnections(t *testing.T) {
	g := start(t, "", false)
	g.measureCalm(t)
	req := fmt.Sprintf("POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(realQuery), realQuery)
	conns := dialMany(t, g.addr, 1000, req)
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err == nil {
			resp.Body.Close()
		}
	}
	underAttack(t, g, "1000 idle keep-alive connections", 3*time.Second)
}

// TestOneAddressManyConnections: one address opens 2,000 keep-alive
// connections (each makes one request and goes quiet, held for
// idle_timeout) to a gateway allowed 1,500 file descriptors (its subgraph
// and Redis connections need some too): unbounded
// (max_connections_per_address: 0) and with the default bound (1,000).
// Reported: what the address holds, the gateway's descriptors and peak
// RSS, and real clients (of another address) meanwhile. Unbounded, the
// address takes every descriptor: the gateway can accept nothing more and
// dial nothing, and real clients fail.
func TestOneAddressManyConnections(t *testing.T) {
	const n, fds = 2000, 1500
	req := fmt.Sprintf("POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(realQuery), realQuery)
	for _, tc := range []struct {
		name, extra string
		held        int
	}{
		{"unbounded", "  max_connections_per_address: 0", 0},
		{"default bound", "", 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The limit is the gateway's from its start: set on the
			// running process, it came after the gateway read it for
			// the per-address bound's threshold (half of it).
			g := startWithServerFDs(t, tc.extra, fds)
			g.measureCalm(t)
			conns := dialMany(t, g.addr, n, req)
			// Each connection gets its answer (200; 429
			// CLIENT_INFLIGHT_LIMIT for some, sent at once; or 429
			// CONNECTION_LIMIT and closed), or none when the gateway
			// could not accept it.
			var mu sync.Mutex
			status := map[string]int{}
			var wg sync.WaitGroup
			for _, c := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
					code := "none"
					if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
						var body struct {
							Errors []struct {
								Extensions struct{ Code string } `json:"extensions"`
							} `json:"errors"`
						}
						_ = json.NewDecoder(resp.Body).Decode(&body)
						resp.Body.Close()
						code = strconv.Itoa(resp.StatusCode)
						if len(body.Errors) > 0 {
							code += " " + body.Errors[0].Extensions.Code
						}
					}
					mu.Lock()
					status[code]++
					mu.Unlock()
				}()
			}
			wg.Wait()
			open := g.openFiles()
			t.Logf("FIGURE %d connections of one address, %s, %d descriptors: answers %v, the gateway holds %d descriptors",
				n, tc.name, fds, status, open)
			if tc.held > 0 && (status["429 CONNECTION_LIMIT"] != n-tc.held || open > tc.held+100) {
				t.Errorf("%s: answers %v, %d descriptors, want %d refused CONNECTION_LIMIT and at most %d descriptors", tc.name, status, open, n-tc.held, tc.held+100)
			}
			if tc.held == 0 {
				// Reported, not asserted: what the attack did before.
				stop := make(chan struct{})
				time.AfterFunc(3*time.Second, func() { close(stop) })
				lat, failed := g.realClients(4, stop)
				t.Logf("FIGURE %d connections of one address, %s: real clients: %d served, %d failed, p99 %v", n, tc.name, len(lat), failed, p99(lat))
				return
			}
			underAttack(t, g, fmt.Sprintf("%d connections of one address, %s", n, tc.name), 3*time.Second)
		})
	}
}

// openFiles counts the gateway's open file descriptors.
func (g *gateway) openFiles() int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", g.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	return len(ents)
}

// TestManyHeaders: a request carrying as many tiny headers as
// server.max_header_bytes (64 KiB) holds, about 9,000, to a gateway whose
// rules forward every header ("*"): each header is copied, sorted and
// hashed for the dedupe and caller keys and sent with every subgraph
// fetch. Reported: the gateway's CPU per request beside a plain one's.
func TestManyHeaders(t *testing.T) {
	g := start(t, "", false)
	c, err := net.Dial("tcp", g.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	send := func(headers int) (int, string, int) {
		var b strings.Builder
		fmt.Fprintf(&b, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", len(realQuery))
		for i := range headers {
			fmt.Fprintf(&b, "%s:v\r\n", strconv.FormatInt(int64(i)+36, 36))
		}
		b.WriteString("\r\n" + realQuery)
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, b.String()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(body), b.Len()
	}
	for _, n := range []int{10, 9000} {
		// 60 requests: the process's CPU is read in 10 ms ticks.
		const reqs = 60
		st, body, size := send(n)
		before := g.cpu()
		for range reqs {
			send(n)
		}
		per := (g.cpu() - before) / reqs
		t.Logf("FIGURE %d headers (%d bytes) forwarded by \"*\": %d, %v CPU per request", n, size, st, per)
		if n > 100 && (st != http.StatusRequestHeaderFieldsTooLarge || !strings.Contains(body, "REQUEST_HEADERS_TOO_MANY")) {
			t.Errorf("%d headers: %d %.200s, want 431 REQUEST_HEADERS_TOO_MANY", n, st, body)
		}
		// Before max_header_count it was 19 ms; refused it is 3-6 ms on
		// a quiet 2-core VM (5 ms failed by chance).
		if n > 100 && per > 10*time.Millisecond {
			t.Errorf("%d headers: %v CPU per request, want under 10ms", n, per)
		}
	}
}

// worstDocument is the costliest document for validation found within
// the default limits: fragments that each select a nested list, spread
// side by side, as many as limits.max_field_merges allows. salt makes
// each copy distinct, so the document cache cannot help.
func worstDocument(salt int) string {
	var b strings.Builder
	const n = 70
	b.WriteString("{ me { ")
	for i := range n {
		fmt.Fprintf(&b, "...F%d_%d ", salt, i)
	}
	b.WriteString("} }")
	for i := range n {
		fmt.Fprintf(&b, " fragment F%d_%d on User { reviews { product { reviews { product { upc } } } } }", salt, i)
	}
	return b.String()
}

// TestWorstValidation measures the gateway's CPU per request for the
// worst validation document within the default limits, and checks that
// the 1,400-spread document of the issue is refused.
func TestWorstValidation(t *testing.T) {
	g := start(t, "", false)
	post := func(q string) (int, string) {
		body, _ := json.Marshal(map[string]any{"query": q})
		req, _ := http.NewRequest(http.MethodPost, g.url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/graphql-response+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, body := post(worstDocument(1000)); st != 200 {
		t.Fatalf("the worst accepted document: %d %.300s", st, body)
	}
	const n = 40
	before := g.cpu()
	start := time.Now()
	for i := range n {
		if st, body := post(worstDocument(i)); st != 200 {
			t.Fatalf("%d %.200s", st, body)
		}
	}
	per := (g.cpu() - before) / n
	t.Logf("FIGURE worst validation document within the default limits (%d bytes): %v CPU per request (wall %v)", len(worstDocument(0)), per, time.Since(start)/n)
	if per > 50*time.Millisecond {
		t.Errorf("%v of CPU per request, want under 50ms", per)
	}
	var b strings.Builder
	b.WriteString("{ me { ")
	for i := range 1400 {
		fmt.Fprintf(&b, "...F%d ", i)
	}
	b.WriteString("} }")
	for i := range 1400 {
		fmt.Fprintf(&b, " fragment F%d on User { id }", i)
	}
	before = g.cpu()
	st, body := post(b.String())
	t.Logf("FIGURE 1,400 fragment spreads (%d bytes): %d in %v CPU", b.Len(), st, g.cpu()-before)
	if st != 400 || !strings.Contains(body, "MAX_FIELD_MERGES_EXCEEDED") {
		t.Errorf("1,400 spreads: %d %.200s", st, body)
	}
}

// TestAPQFlood: one client registers as much as it can through APQ, with
// documents that do not parse, documents too large to register, and
// valid distinct documents; Redis grows only by what its rate limit
// lets through.
func TestAPQFlood(t *testing.T) {
	g := start(t, "")
	ctx := context.Background()
	rc := g.redis.Client()
	used := func() int64 {
		info, _ := rc.Info(ctx, "memory").Result()
		for _, l := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(l, "used_memory:"); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				return n
			}
		}
		return 0
	}
	before := used()
	register := func(q string) int {
		sum := sha256.Sum256([]byte(q))
		body, _ := json.Marshal(map[string]any{"query": q, "extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}})
		req, _ := http.NewRequest(http.MethodPost, g.url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	statuses := map[int]int{}
	for i := range 40 {
		statuses[register(fmt.Sprintf("{ x%d %s", i, strings.Repeat("y ", 950<<10)))]++ // 1.9 MB, does not parse
	}
	for i := range 40 {
		statuses[register(fmt.Sprintf("{ topProducts(first: %d) { upc } } #%s", i%5+1, strings.Repeat("z", 1<<20)))]++ // valid, 1 MB
	}
	for i := range 300 {
		statuses[register(fmt.Sprintf("query Q%d { topProducts(first: 1) { upc } }", i))]++ // valid, distinct
	}
	keys, _ := rc.Keys(ctx, "fedgate:1:apq:*").Result()
	grown := used() - before
	t.Logf("FIGURE APQ flood by one client (40 x 1.9 MB unparsable, 40 x 1 MB valid, 300 small valid): statuses %v, %d documents registered, Redis grew by %d KB", statuses, len(keys), grown>>10)
	if len(keys) > 100 {
		t.Errorf("%d documents registered; the client's rate limit is 100 per 10s", len(keys))
	}
	if grown > 2<<20 {
		t.Errorf("Redis grew by %d KB", grown>>10)
	}
}

// TestAPQFillsRedis: a client without a rate limit (none is configured
// by default) registers 1,500 distinct valid documents of 60 KB (a
// comment makes each distinct). Registration was bounded per client by
// its rate limit only: each document was kept in Redis for the APQ TTL
// (a day), 88 MB here and as much more as the client sends.
// cache.apq.max_redis_bytes (64 MiB per TTL) now bounds them.
func TestAPQFillsRedis(t *testing.T) {
	g := start(t, "", false)
	ctx := context.Background()
	rc := g.redis.Client()
	apqBytes := func() int64 {
		var n int64
		iter := rc.Scan(ctx, 0, "fedgate:1:apq:*", 1000).Iterator()
		for iter.Next(ctx) {
			l, _ := rc.StrLen(ctx, iter.Val()).Result()
			n += l
		}
		return n
	}
	client := &http.Client{Timeout: 10 * time.Second}
	statuses := map[int]int{}
	for i := range 1500 {
		q := fmt.Sprintf("{ topProducts(first: 1) { upc } } # %d %s", i, strings.Repeat("z", 60<<10))
		sum := sha256.Sum256([]byte(q))
		body, _ := json.Marshal(map[string]any{"query": q, "extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}})
		req, _ := http.NewRequest(http.MethodPost, g.url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		statuses[resp.StatusCode]++
	}
	stored := apqBytes()
	t.Logf("FIGURE APQ documents from one client without a rate limit (1,500 x 60 KB valid): statuses %v, %d MB of documents in Redis", statuses, stored>>20)
	if stored > 65<<20 {
		t.Errorf("%d MB of registered documents in Redis, want at most cache.apq.max_redis_bytes (64 MiB)", stored>>20)
	}
}
