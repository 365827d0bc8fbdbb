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
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
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

func run(cfg config) error {
	rec := &recorder{last: make([]int64, cfg.n)}
	subgraphsPid := 0 // with -subgraphs-apart
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if cfg.gateway != "" {
		rec.emits = &emits{}
		var urls map[string]string
		var err error
		if cfg.subgraphsApart {
			urls, subgraphsPid, err = startSubgraphsApart(ctx, cfg.subgraphsCPUs, rec.emits)
		} else {
			urls, err = startSubgraphs(ctx, rec.emits)
		}
		if err != nil {
			return err
		}
		gw, err := startGateway(ctx, cfg.gateway, cfg.gatewayCPUs, cfg.supergraph, cfg.gatewayConfig, cfg.gatewayLog, urls)
		if err != nil {
			return err
		}
		defer gw.stop()
		cfg.url, cfg.pid, cfg.metrics = gw.url, gw.pid(), gw.metricsURL
		where := "here"
		if cfg.subgraphsApart {
			where = fmt.Sprintf("in their own process (cpus %q)", cfg.subgraphsCPUs)
		}
		fmt.Printf("gateway pid %d at %s (cpus %q), subgraphs %s; log %s\n", cfg.pid, cfg.url, cfg.gatewayCPUs, where, cfg.gatewayLog)
	}
	wsURL := strings.Replace(cfg.url, "http", "ws", 1)
	rssBase := rss(cfg.pid)
	perConn := (cfg.n + cfg.conns - 1) / cfg.conns
	var opened atomic.Int64
	start := time.Now()
	sem := make(chan struct{}, 64) // dials in flight
	var dialErr atomic.Value
	var poll *poller
	if cfg.poll > 0 && pollSupported {
		var err error
		if poll, err = newPoller(cfg.poll); err != nil {
			return err
		}
	}
	for c := 0; c < cfg.conns; c++ {
		first := c * perConn
		count := min(perConn, cfg.n-first)
		if count <= 0 {
			break
		}
		sem <- struct{}{}
		dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
		conn, err := dial(dctx, wsURL)
		dcancel()
		<-sem
		if err != nil {
			return fmt.Errorf("connection %d: %w", c, err)
		}
		for i := first; i < first+count; i++ {
			op := "Added"
			if cfg.distinct {
				op = "Added" + strconv.Itoa(i)
			}
			q := fmt.Sprintf("subscription %s { reviewAdded(productUpc: \"%d\") { body product { upc name inStock } } }", op, 1+i%cfg.spread)
			p, _ := json.Marshal(map[string]any{"query": q})
			m, _ := json.Marshal(map[string]any{"id": strconv.Itoa(i), "type": "subscribe", "payload": json.RawMessage(p)})
			if err := conn.send(m); err != nil {
				return fmt.Errorf("subscribe %d: %w", i, err)
			}
			opened.Add(1)
		}
		if poll != nil {
			if err := poll.add(conn); err != nil {
				return fmt.Errorf("connection %d: %w", c, err)
			}
			continue
		}
		go conn.read(rec, &dialErr)
	}
	if poll != nil {
		done := make(chan struct{})
		defer close(done)
		go poll.run(done, rec, &dialErr)
	}
	fmt.Printf("opened %d subscriptions on %d connections in %v\n", opened.Load(), cfg.conns, time.Since(start).Round(time.Millisecond))
	time.Sleep(cfg.settle)
	if e := dialErr.Load(); e != nil {
		return fmt.Errorf("a subscription failed: %v", e)
	}
	rssIdle := rss(cfg.pid)
	if cfg.pid > 0 {
		fmt.Printf("gateway RSS: %.1f MiB before, %.1f MiB with %d idle subscriptions: %.1f KiB per subscription\n",
			mib(rssBase), mib(rssIdle), cfg.n, float64(rssIdle-rssBase)/1024/float64(cfg.n))
	}
	printMetrics(cfg.metrics)
	if cfg.idleOnly {
		time.Sleep(cfg.hold)
		return nil
	}
	// Warm up with two events, then measure.
	client := &http.Client{Timeout: 10 * time.Second}
	emitOne := func(upc int) error {
		body := fmt.Sprintf(`{"query":"mutation($b: String!) { addReview(productUpc: \"%d\", authorId: \"1\", body: $b, rating: 5) { id } }","variables":{"b":"%d"}}`, upc, time.Now().UnixNano())
		resp, err := client.Post(cfg.url, "application/json", strings.NewReader(body))
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || bytes.Contains(b, []byte(`"errors"`)) {
			return fmt.Errorf("addReview: %d %s", resp.StatusCode, b)
		}
		return nil
	}
	// emit sends one event per product, evenly over the period; it
	// returns after the period.
	emit := func() error {
		start := time.Now()
		for k := 0; k < cfg.spread; k++ {
			time.Sleep(time.Until(start.Add(cfg.period * time.Duration(k) / time.Duration(cfg.spread))))
			if err := emitOne(1 + k); err != nil {
				return err
			}
		}
		time.Sleep(time.Until(start.Add(cfg.period)))
		return nil
	}
	for i := 0; i < 2; i++ {
		if err := emit(); err != nil {
			return err
		}
	}
	cpu0, self0 := cpuTime(cfg.pid), cpuTime(os.Getpid())
	waits := []struct {
		name   string
		pid    int
		before time.Duration
	}{{"gateway", cfg.pid, 0}, {"subgraphs", subgraphsPid, 0}, {"subload", os.Getpid(), 0}}
	for i := range waits {
		waits[i].before = runDelay(waits[i].pid)
	}
	loadStart := loadavg()
	tim0, timErr := readTimings(cfg.metrics)
	ev0 := rec.events.Load()
	rec.measuring.Store(true)
	t0 := time.Now()
	var peakRSS int64
	emitted := 0
	for time.Since(t0) < cfg.duration {
		if err := emit(); err != nil {
			return err
		}
		emitted++
		peakRSS = max(peakRSS, rss(cfg.pid))
	}
	// Let the last events arrive.
	time.Sleep(min(cfg.period, 2*time.Second))
	rec.measuring.Store(false)
	elapsed := time.Since(t0)
	cpu, self := cpuTime(cfg.pid)-cpu0, cpuTime(os.Getpid())-self0
	var waited []string
	for _, w := range waits {
		if w.pid > 0 {
			waited = append(waited, fmt.Sprintf("%s %.0f ms/s", w.name, float64((runDelay(w.pid)-w.before).Milliseconds())/elapsed.Seconds()))
		}
	}
	tim1, _ := readTimings(cfg.metrics)
	delivered := rec.events.Load() - ev0
	lat, fromEmit, toSocket, toRead, noEmit := rec.latencies()
	percentiles := func(lat []time.Duration) func(float64) time.Duration {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		return func(p float64) time.Duration {
			if len(lat) == 0 {
				return 0
			}
			return lat[min(len(lat)-1, int(p*float64(len(lat))))].Round(100 * time.Microsecond)
		}
	}
	pct := percentiles(lat)
	want := int64(emitted) * int64(cfg.n)
	fmt.Printf("load average %s at the start, %s at the end\n", loadStart, loadavg())
	fmt.Printf("events: %d periods x %d subscriptions (one event each per period) = %d expected, %d delivered (%.0f/s), "+
		"errors (not completed through the products subgraph) %d, out of order %d\n",
		emitted, cfg.n, want, delivered, float64(delivered)/elapsed.Seconds(), rec.errors.Load(), rec.outOfOrder.Load())
	if noEmit > 0 {
		fmt.Printf("events whose emit the subgraph did not report: %d\n", noEmit)
	}
	fmt.Printf("latency mutation sent->client read: p50 %v p90 %v p99 %v max %v\n", pct(0.5), pct(0.9), pct(0.99), pct(1))
	for _, l := range []struct {
		name string
		lat  []time.Duration
	}{{"subgraph emit->client read", fromEmit}, {"subgraph emit->client socket (kernel receive)", toSocket},
		{"client socket->client read (the load generator's delay)", toRead}} {
		if len(l.lat) > 0 {
			p := percentiles(l.lat)
			fmt.Printf("latency %s (%d events): p50 %v p90 %v p99 %v max %v\n", l.name, len(l.lat), p(0.5), p(0.9), p(0.99), p(1))
		}
	}
	if timErr == nil && tim1 != nil {
		for _, h := range []struct {
			name          string
			before, after []int64
		}{{"arrival->completed (per event)", tim0.Complete, tim1.Complete},
			{"arrival->client write returned (per message)", tim0.Delivery, tim1.Delivery},
			{"arrival->last write of the fan-out (per event)", tim0.FanOut, tim1.FanOut}} {
			n, ps := histPercentiles(tim1.Bounds, h.before, h.after, 0.5, 0.9, 0.99, 0.999)
			fmt.Printf("gateway %s: %d, p50 %s p90 %s p99 %s p99.9 %s\n", h.name, n, ps[0], ps[1], ps[2], ps[3])
		}
	}
	if cfg.pid > 0 {
		fmt.Printf("gateway: peak RSS %.1f MiB, CPU %.2f cores (%.0f us per delivered event)\n", mib(peakRSS),
			cpu.Seconds()/elapsed.Seconds(), float64(cpu.Microseconds())/float64(max(delivered, 1)))
	}
	readers := "a goroutine per socket"
	if poll != nil {
		readers = fmt.Sprintf("one poller, %v sleeps", cfg.poll)
	}
	fmt.Printf("subload (clients%s; %s): CPU %.2f cores (%.1f us per delivered event)\n",
		map[bool]string{true: " and subgraphs"}[cfg.gateway != "" && !cfg.subgraphsApart], readers,
		self.Seconds()/elapsed.Seconds(), float64(self.Microseconds())/float64(max(delivered, 1)))
	if len(waited) > 0 {
		fmt.Printf("waited for a CPU (run queue, all threads): %s\n", strings.Join(waited, ", "))
	}
	printMetrics(cfg.metrics)
	if delivered < want*99/100 {
		return fmt.Errorf("only %d of %d events delivered", delivered, want)
	}
	if n := rec.errors.Load() + rec.outOfOrder.Load(); n > 0 {
		return fmt.Errorf("%d events were not completed through the products subgraph or came out of order", n)
	}
	return nil
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
