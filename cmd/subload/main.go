// Command subload is the subscription load harness: it opens n
// graphql-transport-ws subscriptions to the gateway's demo reviewAdded
// (whose product resolves through the products and inventory subgraphs),
// spread over c WebSocket connections, then sends one addReview mutation
// per period through the gateway, so every subscription receives one event
// per period, and measures each event's latency from the mutation's send
// time (carried in the review body) to its arrival. Given the gateway's
// pid it reports the gateway's RSS (idle and under load) and CPU; given
// its metrics URL, the upstream connections and streams.
//
// With -distinct every subscription has its own operation name, so each
// completes its events separately (one entity fetch chain per
// subscription and event); otherwise identical subscriptions share one
// completion per event.
//
//	subload -url http://127.0.0.1:4000/graphql -n 10000 -c 10000 -d 30s [-distinct] [-pid PID] [-metrics URL]
//
// With -gateway BIN it runs the demo subgraphs itself and BIN (`gateway
// serve`) as a child, pinned with taskset to -gateway-cpus when given, so
// that the gateway's CPU is not shared with the load generator's when
// subload is pinned elsewhere:
//
//	taskset -c 1 subload -gateway bin/gateway -gateway-cpus 0 -n 10000 -spread 5 -d 20s
//
// Then it also reports the latency from the reviews subgraph's write of
// each event (emit) to its read, split at the kernel's receipt of the
// event on the client's socket (emit->socket is the gateway's share,
// socket->read the load generator's), the gateway's own timings
// (/debug/subscriptions/timings: from an event's arrival to its
// completion, to each client write, to the last write of its fan-out),
// and how long the gateway, the subgraphs and subload waited for a CPU
// (their threads' run queue delay), which other work on the machine
// makes most of the latency.
//
// Every event is checked: completed through the products subgraph (a
// product name, no errors) and, per subscription, in order. On Linux one
// goroutine reads all sockets through an epoll set it polls without
// waiting in it (-poll, the sleep when no socket is readable), so that
// the gateway's writes do not pay for waking the clients (poll_linux.go);
// -poll 0 gives each socket its own reading goroutine.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type config struct {
	url      string
	metrics  string
	n, conns int
	duration time.Duration
	period   time.Duration
	distinct bool
	pid      int
	idleOnly bool
	settle   time.Duration
	hold     time.Duration
	spread   int

	gateway, gatewayCPUs, supergraph, gatewayConfig, gatewayLog string
	subgraphsApart                                              bool
	subgraphsCPUs                                               string
	poll                                                        time.Duration
}

func main() {
	var cfg config
	flag.StringVar(&cfg.url, "url", "http://127.0.0.1:4000/graphql", "gateway GraphQL endpoint (http)")
	flag.StringVar(&cfg.metrics, "metrics", "", "gateway Prometheus metrics URL, for upstream connections")
	flag.IntVar(&cfg.n, "n", 1000, "subscriptions")
	flag.IntVar(&cfg.conns, "c", 0, "WebSocket connections the subscriptions are spread over (0: one each)")
	flag.DurationVar(&cfg.duration, "d", 20*time.Second, "measurement duration")
	flag.DurationVar(&cfg.period, "period", time.Second, "time between events (each subscription gets one per period)")
	flag.BoolVar(&cfg.distinct, "distinct", false, "give every subscription its own operation (no shared completion)")
	flag.IntVar(&cfg.pid, "pid", 0, "gateway pid, for RSS and CPU")
	flag.BoolVar(&cfg.idleOnly, "idle", false, "only open the subscriptions and report memory (no events)")
	flag.DurationVar(&cfg.settle, "settle", 3*time.Second, "wait after opening before measuring idle memory")
	flag.IntVar(&cfg.spread, "spread", 1, "spread the subscriptions over this many products (1-5), whose events are emitted evenly over the period")
	flag.DurationVar(&cfg.hold, "hold", 0, "with -idle, keep the subscriptions open this long after measuring")
	flag.StringVar(&cfg.gateway, "gateway", "", "run this gateway binary (`gateway serve`) and the demo subgraphs here, instead of using -url")
	flag.StringVar(&cfg.gatewayCPUs, "gateway-cpus", "", "with -gateway, pin the gateway to these CPUs (taskset -c)")
	flag.StringVar(&cfg.supergraph, "supergraph", "gateway.graphql", "with -gateway, the demo supergraph")
	flag.StringVar(&cfg.gatewayConfig, "gateway-config", "testdata/bench/subscriptions.yaml", "with -gateway, its configuration")
	flag.StringVar(&cfg.gatewayLog, "gateway-log", os.TempDir()+"/subload-gateway.log", "with -gateway, where its output goes")
	flag.BoolVar(&cfg.subgraphsApart, "subgraphs-apart", false, "with -gateway, run the subgraphs in a process of their own (not among the clients)")
	flag.StringVar(&cfg.subgraphsCPUs, "subgraphs-cpus", "", "with -subgraphs-apart, pin the subgraphs' process to these CPUs")
	flag.DurationVar(&cfg.poll, "poll", 500*time.Microsecond, "read all sockets from one goroutine polling an epoll set, sleeping this long when none is readable (Linux; 0: a goroutine per socket)")
	serveOnly := flag.Bool("serve-subgraphs", false, "only serve the demo subgraphs (the process -subgraphs-apart starts)")
	flag.Parse()
	if *serveOnly {
		if err := serveSubgraphs(); err != nil {
			fmt.Fprintln(os.Stderr, "subload:", err)
			os.Exit(1)
		}
		return
	}
	cfg.spread = min(max(cfg.spread, 1), 5)
	if cfg.conns <= 0 || cfg.conns > cfg.n {
		cfg.conns = cfg.n
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "subload:", err)
		os.Exit(1)
	}
}

// recorder collects the events the clients read: the times of each (in
// the measurement), and checks that each subscription's events come in
// order.
type recorder struct {
	mu      sync.Mutex
	samples []sample
	// last is, per subscription, the send time of its last event: each
	// subscription's events carry increasing times.
	last       []int64
	emits      *emits
	measuring  atomic.Bool
	events     atomic.Int64
	errors     atomic.Int64
	outOfOrder atomic.Int64
}

// sample is one event read: the mutation's send time, the kernel's
// receipt of its bytes on the client's socket (0 when unknown) and its
// read, in Unix nanoseconds.
type sample struct{ sent, stamp, read int64 }

// add records the event of subscription sub read at now, received by the
// client's kernel at stamp (zero when unknown), whose mutation was sent
// at sent (Unix ns). A subscription's events are read by one goroutine.
func (r *recorder) add(sub int, now, stamp time.Time, sent int64) {
	r.events.Add(1)
	if sub < 0 || sub >= len(r.last) {
		r.errors.Add(1)
		return
	}
	if sent <= r.last[sub] {
		r.outOfOrder.Add(1)
	}
	r.last[sub] = sent
	if !r.measuring.Load() {
		return
	}
	sm := sample{sent: sent, read: now.UnixNano()}
	if !stamp.IsZero() {
		sm.stamp = stamp.UnixNano()
	}
	r.mu.Lock()
	r.samples = append(r.samples, sm)
	r.mu.Unlock()
}

// latencies are the recorded events' latencies: from the mutation's send
// to the read, and with emits (-gateway) from the subgraph's emit to the
// read (fromEmit) and to the kernel's receipt on the client's socket
// (toSocket, the gateway's share); toRead is the time the client took to
// read what its socket held. noEmit counts events whose emit was not
// reported.
func (r *recorder) latencies() (lat, fromEmit, toSocket, toRead []time.Duration, noEmit int) {
	r.mu.Lock()
	samples := r.samples
	r.mu.Unlock()
	for _, s := range samples {
		lat = append(lat, time.Duration(s.read-s.sent))
		if s.stamp != 0 {
			toRead = append(toRead, time.Duration(s.read-s.stamp))
		}
		if r.emits == nil {
			continue
		}
		emitted, ok := r.emits.at(s.sent)
		if !ok {
			noEmit++
			continue
		}
		fromEmit = append(fromEmit, time.Duration(s.read-emitted.UnixNano()))
		if s.stamp != 0 {
			toSocket = append(toSocket, time.Duration(s.stamp-emitted.UnixNano()))
		}
	}
	return lat, fromEmit, toSocket, toRead, noEmit
}

// rss is the resident set of pid in bytes (0 without a pid).
func rss(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// cpuTime is the user+system CPU time of pid.
func cpuTime(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100
}

// runDelay is the time the threads of pid spent runnable, waiting for a
// CPU (the second field of each /proc/PID/task/*/schedstat).
func runDelay(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if f := strings.Fields(string(b)); err == nil && len(f) >= 2 {
			ns, _ := strconv.ParseInt(f[1], 10, 64)
			sum += time.Duration(ns)
		}
	}
	return sum
}

// loadavg is the 1, 5 and 15 minute load averages.
func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// printMetrics prints the gateway's subscription metrics.
func printMetrics(url string) {
	if url == "" {
		return
	}
	resp, err := http.Get(url)
	if err != nil {
		fmt.Println("metrics:", err)
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "fedgate_subscriptions_") {
			out = append(out, line)
		}
	}
	fmt.Println("metrics: " + strings.Join(out, "; "))
}
