package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// run is the harness, in the order its steps run: with -gateway, start
// the subgraphs and the gateway (startLocal); open the subscriptions
// (connect); report the gateway's idle memory (reportIdle); then, unless
// -idle, send the events (measure), report them (report) and check that
// they all arrived, completed and in order (check).
func run(cfg config) error {
	rec := &recorder{last: make([]int64, cfg.n)}
	subgraphsPid := 0 // with -subgraphs-apart
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if cfg.gateway != "" {
		gw, pid, err := startLocal(ctx, &cfg, rec)
		if err != nil {
			return err
		}
		defer gw.stop()
		subgraphsPid = pid
	}
	rssBase := rss(cfg.pid)
	cl, err := connect(ctx, cfg, rec)
	if err != nil {
		return err
	}
	defer cl.stop()
	if err := reportIdle(cfg, cl, rssBase); err != nil {
		return err
	}
	if cfg.idleOnly {
		time.Sleep(cfg.hold)
		return nil
	}
	m, err := measure(cfg, rec, subgraphsPid)
	if err != nil {
		return err
	}
	report(cfg, rec, m, cl.poll != nil)
	return check(cfg, rec, m)
}

// startLocal runs the demo subgraphs (here, or in their own process with
// -subgraphs-apart; their emits are stamped into rec) and the gateway
// binary cfg.gateway, and points cfg at it (url, pid, metrics). It
// returns the gateway, to be stopped, and the subgraphs' process id (0
// when they run here).
func startLocal(ctx context.Context, cfg *config, rec *recorder) (*gatewayChild, int, error) {
	rec.emits = &emits{}
	var urls map[string]string
	subgraphsPid := 0
	var err error
	if cfg.subgraphsApart {
		urls, subgraphsPid, err = startSubgraphsApart(ctx, cfg.subgraphsCPUs, rec.emits)
	} else {
		urls, err = startSubgraphs(ctx, rec.emits)
	}
	if err != nil {
		return nil, 0, err
	}
	gw, err := startGateway(ctx, cfg.gateway, cfg.gatewayCPUs, cfg.supergraph, cfg.gatewayConfig, cfg.gatewayLog, urls)
	if err != nil {
		return nil, 0, err
	}
	cfg.url, cfg.pid, cfg.metrics = gw.url, gw.pid(), gw.metricsURL
	where := "here"
	if cfg.subgraphsApart {
		where = fmt.Sprintf("in their own process (cpus %q)", cfg.subgraphsCPUs)
	}
	fmt.Printf("gateway pid %d at %s (cpus %q), subgraphs %s; log %s\n", cfg.pid, cfg.url, cfg.gatewayCPUs, where, cfg.gatewayLog)
	return gw, subgraphsPid, nil
}

// clients are the open subscriptions' connections and their readers.
type clients struct {
	// poll reads every socket (-poll); nil when each has its own
	// goroutine.
	poll *poller
	// failed holds the first error a reader met.
	failed *atomic.Value
	// stop ends the poller.
	stop func()
}

// connect opens cfg.n subscriptions over cfg.conns WebSockets (at most
// 64 dials at once) and starts reading them into rec.
func connect(ctx context.Context, cfg config, rec *recorder) (*clients, error) {
	wsURL := strings.Replace(cfg.url, "http", "ws", 1)
	perConn := (cfg.n + cfg.conns - 1) / cfg.conns
	var opened atomic.Int64
	start := time.Now()
	sem := make(chan struct{}, 64) // dials in flight
	cl := &clients{failed: &atomic.Value{}, stop: func() {}}
	if cfg.poll > 0 && pollSupported {
		var err error
		if cl.poll, err = newPoller(cfg.poll); err != nil {
			return nil, err
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
			return nil, fmt.Errorf("connection %d: %w", c, err)
		}
		for i := first; i < first+count; i++ {
			if err := conn.send(subscribeMessage(cfg, i)); err != nil {
				return nil, fmt.Errorf("subscribe %d: %w", i, err)
			}
			opened.Add(1)
		}
		if cl.poll != nil {
			if err := cl.poll.add(conn); err != nil {
				return nil, fmt.Errorf("connection %d: %w", c, err)
			}
			continue
		}
		go conn.read(rec, cl.failed)
	}
	if cl.poll != nil {
		done := make(chan struct{})
		cl.stop = func() { close(done) }
		go cl.poll.run(done, rec, cl.failed)
	}
	fmt.Printf("opened %d subscriptions on %d connections in %v\n", opened.Load(), cfg.conns, time.Since(start).Round(time.Millisecond))
	return cl, nil
}

// subscribeMessage is the subscribe message of subscription i: to the
// reviews of product 1+i%spread, under its own operation name with
// -distinct.
func subscribeMessage(cfg config, i int) []byte {
	op := "Added"
	if cfg.distinct {
		op = "Added" + strconv.Itoa(i)
	}
	q := fmt.Sprintf("subscription %s { reviewAdded(productUpc: \"%d\") { body product { upc name inStock } } }", op, 1+i%cfg.spread)
	p, _ := json.Marshal(map[string]any{"query": q})
	m, _ := json.Marshal(map[string]any{"id": strconv.Itoa(i), "type": "subscribe", "payload": json.RawMessage(p)})
	return m
}

// reportIdle waits cfg.settle, fails if a subscription failed meanwhile,
// and reports the gateway's RSS with the subscriptions idle (against
// rssBase, before they were opened) and its metrics.
func reportIdle(cfg config, cl *clients, rssBase int64) error {
	time.Sleep(cfg.settle)
	if e := cl.failed.Load(); e != nil {
		return fmt.Errorf("a subscription failed: %v", e)
	}
	rssIdle := rss(cfg.pid)
	if cfg.pid > 0 {
		fmt.Printf("gateway RSS: %.1f MiB before, %.1f MiB with %d idle subscriptions: %.1f KiB per subscription\n",
			mib(rssBase), mib(rssIdle), cfg.n, float64(rssIdle-rssBase)/1024/float64(cfg.n))
	}
	printMetrics(cfg.metrics)
	return nil
}

// measurement is what measure saw besides the events rec recorded.
type measurement struct {
	// emitted counts the periods, each one event per product.
	emitted   int
	elapsed   time.Duration
	delivered int64
	// cpu and self are the CPU time of the gateway and of subload.
	cpu, self time.Duration
	peakRSS   int64
	// waited is each process's run queue delay per second.
	waited    []string
	loadStart string
	// tim0 and tim1 are the gateway's timings before and after
	// (timErr: they could not be read before).
	tim0, tim1 *timings
	timErr     error
}

// emitter sends the addReview mutations that make the events.
type emitter struct {
	cfg    config
	client *http.Client
}

// one sends an addReview of product upc whose body is its send time.
func (e emitter) one(upc int) error {
	body := fmt.Sprintf(`{"query":"mutation($b: String!) { addReview(productUpc: \"%d\", authorId: \"1\", body: $b, rating: 5) { id } }","variables":{"b":"%d"}}`, upc, time.Now().UnixNano())
	resp, err := e.client.Post(e.cfg.url, "application/json", strings.NewReader(body))
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

// period sends one event per product, evenly over the period; it returns
// after the period.
func (e emitter) period() error {
	start := time.Now()
	for k := 0; k < e.cfg.spread; k++ {
		time.Sleep(time.Until(start.Add(e.cfg.period * time.Duration(k) / time.Duration(e.cfg.spread))))
		if err := e.one(1 + k); err != nil {
			return err
		}
	}
	time.Sleep(time.Until(start.Add(e.cfg.period)))
	return nil
}

// measure warms up with two periods of events, then sends events for
// cfg.duration while rec records them, reading the gateway's CPU, RSS,
// timings and the processes' run queue delays around it.
func measure(cfg config, rec *recorder, subgraphsPid int) (measurement, error) {
	var m measurement
	em := emitter{cfg: cfg, client: &http.Client{Timeout: 10 * time.Second}}
	for i := 0; i < 2; i++ {
		if err := em.period(); err != nil {
			return m, err
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
	m.loadStart = loadavg()
	m.tim0, m.timErr = readTimings(cfg.metrics)
	ev0 := rec.events.Load()
	rec.measuring.Store(true)
	t0 := time.Now()
	for time.Since(t0) < cfg.duration {
		if err := em.period(); err != nil {
			return m, err
		}
		m.emitted++
		m.peakRSS = max(m.peakRSS, rss(cfg.pid))
	}
	// Let the last events arrive.
	time.Sleep(min(cfg.period, 2*time.Second))
	rec.measuring.Store(false)
	m.elapsed = time.Since(t0)
	m.cpu, m.self = cpuTime(cfg.pid)-cpu0, cpuTime(os.Getpid())-self0
	for _, w := range waits {
		if w.pid > 0 {
			m.waited = append(m.waited, fmt.Sprintf("%s %.0f ms/s", w.name, float64((runDelay(w.pid)-w.before).Milliseconds())/m.elapsed.Seconds()))
		}
	}
	m.tim1, _ = readTimings(cfg.metrics)
	m.delivered = rec.events.Load() - ev0
	return m, nil
}

// percentiles sorts lat and returns its percentile function.
func percentiles(lat []time.Duration) func(float64) time.Duration {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))].Round(100 * time.Microsecond)
	}
}

// report prints the measurement: events, latencies, the gateway's
// timings, CPU and RSS, subload's CPU (polled says whether one poller
// read the sockets) and the processes' waits for a CPU.
func report(cfg config, rec *recorder, m measurement, polled bool) {
	lat, fromEmit, toSocket, toRead, noEmit := rec.latencies()
	pct := percentiles(lat)
	want := int64(m.emitted) * int64(cfg.n)
	fmt.Printf("load average %s at the start, %s at the end\n", m.loadStart, loadavg())
	fmt.Printf("events: %d periods x %d subscriptions (one event each per period) = %d expected, %d delivered (%.0f/s), "+
		"errors (not completed through the products subgraph) %d, out of order %d\n",
		m.emitted, cfg.n, want, m.delivered, float64(m.delivered)/m.elapsed.Seconds(), rec.errors.Load(), rec.outOfOrder.Load())
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
	if m.timErr == nil && m.tim1 != nil {
		for _, h := range []struct {
			name          string
			before, after []int64
		}{{"arrival->completed (per event)", m.tim0.Complete, m.tim1.Complete},
			{"arrival->client write returned (per message)", m.tim0.Delivery, m.tim1.Delivery},
			{"arrival->last write of the fan-out (per event)", m.tim0.FanOut, m.tim1.FanOut}} {
			n, ps := histPercentiles(m.tim1.Bounds, h.before, h.after, 0.5, 0.9, 0.99, 0.999)
			fmt.Printf("gateway %s: %d, p50 %s p90 %s p99 %s p99.9 %s\n", h.name, n, ps[0], ps[1], ps[2], ps[3])
		}
	}
	if cfg.pid > 0 {
		fmt.Printf("gateway: peak RSS %.1f MiB, CPU %.2f cores (%.0f us per delivered event)\n", mib(m.peakRSS),
			m.cpu.Seconds()/m.elapsed.Seconds(), float64(m.cpu.Microseconds())/float64(max(m.delivered, 1)))
	}
	readers := "a goroutine per socket"
	if polled {
		readers = fmt.Sprintf("one poller, %v sleeps", cfg.poll)
	}
	fmt.Printf("subload (clients%s; %s): CPU %.2f cores (%.1f us per delivered event)\n",
		map[bool]string{true: " and subgraphs"}[cfg.gateway != "" && !cfg.subgraphsApart], readers,
		m.self.Seconds()/m.elapsed.Seconds(), float64(m.self.Microseconds())/float64(max(m.delivered, 1)))
	if len(m.waited) > 0 {
		fmt.Printf("waited for a CPU (run queue, all threads): %s\n", strings.Join(m.waited, ", "))
	}
	printMetrics(cfg.metrics)
}

// check fails the run when fewer than 99% of the expected events arrived,
// or any was not completed through the products subgraph or came out of
// order.
func check(cfg config, rec *recorder, m measurement) error {
	want := int64(m.emitted) * int64(cfg.n)
	if m.delivered < want*99/100 {
		return fmt.Errorf("only %d of %d events delivered", m.delivered, want)
	}
	if n := rec.errors.Load() + rec.outOfOrder.Load(); n > 0 {
		return fmt.Errorf("%d events were not completed through the products subgraph or came out of order", n)
	}
	return nil
}
