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

	"github.com/coder/websocket"
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
	flag.Parse()
	cfg.spread = min(max(cfg.spread, 1), 5)
	if cfg.conns <= 0 || cfg.conns > cfg.n {
		cfg.conns = cfg.n
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "subload:", err)
		os.Exit(1)
	}
}

// recorder collects event latencies.
type recorder struct {
	mu        sync.Mutex
	lat       []time.Duration
	measuring atomic.Bool
	events    atomic.Int64
	errors    atomic.Int64
}

func (r *recorder) add(d time.Duration) {
	r.events.Add(1)
	if !r.measuring.Load() {
		return
	}
	r.mu.Lock()
	r.lat = append(r.lat, d)
	r.mu.Unlock()
}

func run(cfg config) error {
	wsURL := strings.Replace(cfg.url, "http", "ws", 1)
	rssBase := rss(cfg.pid)
	rec := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	perConn := (cfg.n + cfg.conns - 1) / cfg.conns
	var opened atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	sem := make(chan struct{}, 64) // dials in flight
	var dialErr atomic.Value
	for c := 0; c < cfg.conns; c++ {
		first := c * perConn
		count := min(perConn, cfg.n-first)
		if count <= 0 {
			break
		}
		sem <- struct{}{}
		conn, err := open(ctx, wsURL)
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
			if err := conn.Write(ctx, websocket.MessageText, m); err != nil {
				return fmt.Errorf("subscribe %d: %w", i, err)
			}
			opened.Add(1)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			read(ctx, conn, rec, &dialErr)
		}()
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
	cpu0 := cpuTime(cfg.pid)
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
	cpu := cpuTime(cfg.pid) - cpu0
	delivered := rec.events.Load() - ev0
	rec.mu.Lock()
	lat := rec.lat
	rec.mu.Unlock()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	want := int64(emitted) * int64(cfg.n)
	fmt.Printf("events: %d periods x %d subscriptions (one event each per period) = %d expected, %d delivered (%.0f/s), errors %d\n",
		emitted, cfg.n, want, delivered, float64(delivered)/elapsed.Seconds(), rec.errors.Load())
	fmt.Printf("latency subgraph->client: p50 %v p90 %v p99 %v max %v\n", pct(0.5).Round(100*time.Microsecond),
		pct(0.9).Round(100*time.Microsecond), pct(0.99).Round(100*time.Microsecond), pct(1).Round(100*time.Microsecond))
	if cfg.pid > 0 {
		fmt.Printf("gateway: peak RSS %.1f MiB, CPU %.2f cores (%.0f us per delivered event)\n", mib(peakRSS),
			cpu.Seconds()/elapsed.Seconds(), float64(cpu.Microseconds())/float64(max(delivered, 1)))
	}
	printMetrics(cfg.metrics)
	if delivered < want*99/100 {
		return fmt.Errorf("only %d of %d events delivered", delivered, want)
	}
	return nil
}

func open(ctx context.Context, url string) (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(dctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(1 << 20)
	if err := c.Write(dctx, websocket.MessageText, []byte(`{"type":"connection_init"}`)); err != nil {
		return nil, err
	}
	_, b, err := c.Read(dctx)
	if err != nil || !bytes.Contains(b, []byte("connection_ack")) {
		return nil, fmt.Errorf("no connection_ack: %s %v", b, err)
	}
	return c, nil
}

// read receives events and records their latency from the time in body.
func read(ctx context.Context, c *websocket.Conn, rec *recorder, failed *atomic.Value) {
	var m struct {
		Type    string
		Payload struct {
			Data struct {
				ReviewAdded struct {
					Body    string
					Product struct{ Name string }
				}
			}
			Errors json.RawMessage
		}
	}
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return
		}
		now := time.Now()
		m.Type = ""
		m.Payload.Errors = nil
		if err := json.Unmarshal(b, &m); err != nil {
			continue
		}
		switch m.Type {
		case "ping":
			_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"pong"}`))
		case "next":
			ts, err := strconv.ParseInt(m.Payload.Data.ReviewAdded.Body, 10, 64)
			if err != nil || m.Payload.Errors != nil || m.Payload.Data.ReviewAdded.Product.Name == "" {
				rec.errors.Add(1)
				continue
			}
			rec.add(now.Sub(time.Unix(0, ts)))
		case "error", "complete":
			failed.Store(string(b))
		}
	}
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
