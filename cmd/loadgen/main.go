// Command loadgen is a small closed-loop load generator for the gateway:
// c keep-alive connections each POST the same GraphQL request as fast as
// answers come back, for a duration and up to a count. Every answer must
// be HTTP 200 with a body equal to the first answer; anything else is
// counted. It prints throughput, latency percentiles and, given the
// gateway's pid, the gateway's CPU time per request.
//
// With -jwt-alg every request carries a signed JWT; with -unique N each
// request carries its own (N are signed before the run, and the run ends
// when they are used up), so no cache or dedupe keyed by caller can help.
//
//	loadgen -url http://127.0.0.1:4000/graphql -query q.graphql -c 50 -d 10s [-max N] [-pid PID]
//	loadgen ... -jwt-alg RS256 -jwt-key private.pem -jwt-kid rs -unique 60000
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat:
// 100 on every Linux architecture Go supports.
const clockTicks = 100

type config struct {
	url       string
	query     string
	operation string
	variables string
	conns     int
	duration  time.Duration
	warmup    time.Duration
	max       int64
	timeout   time.Duration
	wait      time.Duration
	pid       int
	jwt       tokenConfig
}

func main() {
	var cfg config
	var queryFile string
	flag.StringVar(&cfg.url, "url", "http://127.0.0.1:4000/graphql", "GraphQL endpoint")
	flag.StringVar(&queryFile, "query", "", "file with the GraphQL document to send (required)")
	flag.StringVar(&cfg.operation, "operation", "", "operationName to send")
	flag.StringVar(&cfg.variables, "variables", "", "variables to send, a JSON object")
	flag.IntVar(&cfg.conns, "c", 50, "concurrent connections (closed loop, no think time)")
	flag.DurationVar(&cfg.duration, "d", 10*time.Second, "measurement duration")
	flag.DurationVar(&cfg.warmup, "warmup", 0, "warm-up duration before measuring (not counted)")
	flag.Int64Var(&cfg.max, "max", 0, "stop after this many measured requests (0: no limit)")
	flag.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "timeout of one request")
	flag.DurationVar(&cfg.wait, "wait", 0, "first wait up to this long for the endpoint to answer at all")
	flag.IntVar(&cfg.pid, "pid", 0, "gateway pid: report its CPU time per request from /proc/PID/stat; fail if it is not running")
	flag.StringVar(&cfg.jwt.alg, "jwt-alg", "", "sign a JWT for the Authorization header: HS256 or RS256 (empty: no token)")
	flag.StringVar(&cfg.jwt.secret, "jwt-secret", "", "HS256 secret (at least 32 bytes)")
	flag.StringVar(&cfg.jwt.keyFile, "jwt-key", "", "RS256 private key file (PEM)")
	flag.StringVar(&cfg.jwt.kid, "jwt-kid", "", "kid header of the tokens")
	flag.StringVar(&cfg.jwt.issuer, "jwt-issuer", "", "iss claim of the tokens")
	flag.StringVar(&cfg.jwt.audience, "jwt-audience", "", "aud claim of the tokens")
	flag.IntVar(&cfg.jwt.unique, "unique", 0, "sign this many distinct tokens before the run, one per request (warm-up included); the run ends when they are used up (0: one token for all)")
	flag.Parse()
	if queryFile == "" || cfg.conns < 1 || cfg.duration <= 0 {
		fmt.Fprintln(os.Stderr, "loadgen: -query FILE is required; -c and -d must be positive")
		flag.Usage()
		os.Exit(2)
	}
	q, err := os.ReadFile(queryFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	cfg.query = string(q)
	res, err := run(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	res.print(os.Stdout, cfg)
	if res.ok == 0 || res.failed > 0 || res.non200 > 0 || res.mismatches > 0 || res.cpuErr != nil {
		os.Exit(1)
	}
}

// body builds the JSON request body.
func (c config) body() ([]byte, error) {
	req := map[string]any{"query": c.query}
	if c.operation != "" {
		req["operationName"] = c.operation
	}
	if c.variables != "" {
		if !json.Valid([]byte(c.variables)) {
			return nil, errors.New("-variables is not valid JSON")
		}
		req["variables"] = json.RawMessage(c.variables)
	}
	return json.Marshal(req)
}

type result struct {
	elapsed    time.Duration
	ok         int64
	non200     int64
	failed     int64
	mismatches int64
	latencies  []time.Duration
	statuses   map[int]int64
	firstError string
	respBytes  int
	cpu        time.Duration
	cpuErr     error
	tokensUsed int64
	signing    time.Duration
}

func run(ctx context.Context, cfg config) (*result, error) {
	body, err := cfg.body()
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        cfg.conns,
		MaxIdleConnsPerHost: cfg.conns,
		MaxConnsPerHost:     cfg.conns,
		DisableCompression:  true,
		IdleConnTimeout:     90 * time.Second,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: cfg.timeout}
	l := &loop{cfg: cfg, client: client, body: body}
	var signing time.Duration
	if cfg.jwt.enabled() {
		t0 := time.Now()
		if l.tokens, err = signTokens(cfg.jwt, t0); err != nil {
			return nil, err
		}
		signing = time.Since(t0)
	}
	l.reset()
	if cfg.wait > 0 {
		if err := l.waitReady(ctx); err != nil {
			return nil, err
		}
	}
	if cfg.warmup > 0 {
		wctx, cancel := context.WithTimeout(ctx, cfg.warmup)
		l.phase(wctx, 0)
		cancel()
	}
	l.reset()
	cpu0, cpuErr := processCPU(cfg.pid)
	mctx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	start := time.Now()
	lats := l.phase(mctx, cfg.max)
	elapsed := time.Since(start)
	res := &result{elapsed: elapsed, ok: l.ok.Load(), non200: l.non200.Load(), failed: l.failed.Load(),
		mismatches: l.mismatches.Load(), latencies: lats, statuses: l.statuses, firstError: l.firstError}
	res.tokensUsed, res.signing = l.tokens.used(), signing
	if ref := l.reference.Load(); ref != nil {
		res.respBytes = len(*ref)
	}
	if cfg.pid != 0 {
		if cpuErr == nil {
			var cpu1 time.Duration
			cpu1, cpuErr = processCPU(cfg.pid)
			res.cpu = cpu1 - cpu0
		}
		res.cpuErr = cpuErr
	}
	return res, nil
}

// waitReady sends the request until any HTTP answer comes back.
func (l *loop) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(l.cfg.wait)
	for {
		if _, err := processCPU(l.cfg.pid); err != nil {
			return fmt.Errorf("process %d is not running: %v", l.cfg.pid, err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.cfg.url, bytes.NewReader(l.body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		if l.tokens != nil {
			req.Header.Set("Authorization", "Bearer "+l.tokens.list[0])
		}
		resp, err := l.client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer from %s within %v: %v", l.cfg.url, l.cfg.wait, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// loop is the state shared by the workers of a run.
type loop struct {
	cfg    config
	client *http.Client
	body   []byte
	tokens *tokens // nil: no Authorization header

	reference  atomic.Pointer[[]byte] // the first 200 answer
	sent       atomic.Int64
	ok         atomic.Int64
	non200     atomic.Int64
	failed     atomic.Int64
	mismatches atomic.Int64

	mu         sync.Mutex
	statuses   map[int]int64
	firstError string
}

func (l *loop) reset() {
	l.sent.Store(0)
	l.ok.Store(0)
	l.non200.Store(0)
	l.failed.Store(0)
	l.mismatches.Store(0)
	l.mu.Lock()
	l.statuses = map[int]int64{}
	l.firstError = ""
	l.mu.Unlock()
}

func (l *loop) noteError(msg string) {
	l.mu.Lock()
	if l.firstError == "" {
		l.firstError = msg
	}
	l.mu.Unlock()
}

// phase runs the workers until ctx ends or max requests were sent (0: no
// limit) and returns the latencies of the answered requests.
func (l *loop) phase(ctx context.Context, max int64) []time.Duration {
	var wg sync.WaitGroup
	per := make([][]time.Duration, l.cfg.conns)
	for i := range l.cfg.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lats := make([]time.Duration, 0, 4096)
			for ctx.Err() == nil {
				if max > 0 && l.sent.Add(1) > max {
					break
				}
				authz, err := l.tokens.take()
				if err != nil {
					break // every distinct token was sent
				}
				d, ok := l.one(ctx, authz)
				if ok {
					lats = append(lats, d)
				}
			}
			per[i] = lats
		}()
	}
	wg.Wait()
	var all []time.Duration
	for _, p := range per {
		all = append(all, p...)
	}
	return all
}

// one sends one request; it reports the latency and whether the request
// was answered (by any status) before the phase ended.
func (l *loop) one(ctx context.Context, authz string) (time.Duration, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.cfg.url, bytes.NewReader(l.body))
	if err != nil {
		l.failed.Add(1)
		l.noteError(err.Error())
		return 0, false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json, application/json")
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	start := time.Now()
	resp, err := l.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, false // the phase ended mid-request: not a failure
		}
		l.failed.Add(1)
		l.noteError(err.Error())
		return 0, false
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		if ctx.Err() != nil {
			return 0, false
		}
		l.failed.Add(1)
		l.noteError("reading the answer: " + err.Error())
		return 0, false
	}
	l.mu.Lock()
	l.statuses[resp.StatusCode]++
	l.mu.Unlock()
	if resp.StatusCode != http.StatusOK {
		l.non200.Add(1)
		l.noteError(fmt.Sprintf("status %d: %.200s", resp.StatusCode, b))
		return d, true
	}
	if !l.reference.CompareAndSwap(nil, &b) {
		if ref := l.reference.Load(); !bytes.Equal(*ref, b) {
			l.mismatches.Add(1)
			l.noteError(fmt.Sprintf("body differs from the first answer: %.200s", b))
			return d, true
		}
	}
	l.ok.Add(1)
	return d, true
}

// processCPU returns the user plus system CPU time of a process so far.
func processCPU(pid int) (time.Duration, error) {
	if pid == 0 {
		return 0, nil
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc/PID/stat format")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc/PID/stat format")
	}
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("unexpected /proc/PID/stat format")
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(p*float64(len(sorted)-1)+0.5)]
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + "ms" }

func (r *result) print(w io.Writer, cfg config) {
	sort.Slice(r.latencies, func(i, j int) bool { return r.latencies[i] < r.latencies[j] })
	answered := int64(len(r.latencies))
	fmt.Fprintf(w, "loadgen: POST %s, %d connections, %v", cfg.url, cfg.conns, cfg.duration)
	if cfg.max > 0 {
		fmt.Fprintf(w, ", at most %d requests", cfg.max)
	}
	if cfg.warmup > 0 {
		fmt.Fprintf(w, ", after %v warm-up", cfg.warmup)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  requests     %d in %v (ok %d, non-200 %d, failed %d, body mismatches %d)\n",
		answered+r.failed, r.elapsed.Round(time.Millisecond), r.ok, r.non200, r.failed, r.mismatches)
	fmt.Fprintf(w, "  throughput   %.1f req/s\n", float64(r.ok)/r.elapsed.Seconds())
	fmt.Fprintf(w, "  latency      p50 %s  p95 %s  p99 %s  max %s\n",
		ms(percentile(r.latencies, 0.50)), ms(percentile(r.latencies, 0.95)), ms(percentile(r.latencies, 0.99)), ms(percentile(r.latencies, 1)))
	fmt.Fprintf(w, "  response     %d bytes\n", r.respBytes)
	switch {
	case cfg.jwt.enabled() && cfg.jwt.unique > 0:
		fmt.Fprintf(w, "  credentials  %s, a distinct token per request (%d of %d used, warm-up included; signed in %v before the run)\n",
			cfg.jwt.alg, r.tokensUsed, cfg.jwt.unique, r.signing.Round(time.Millisecond))
		if r.tokensUsed >= int64(cfg.jwt.unique) {
			fmt.Fprintf(w, "  note         the tokens ran out before -d ended: raise -unique\n")
		}
	case cfg.jwt.enabled():
		fmt.Fprintf(w, "  credentials  %s, one token for every request\n", cfg.jwt.alg)
	}
	if len(r.statuses) > 1 || r.statuses[http.StatusOK] != answered {
		fmt.Fprintf(w, "  statuses     %v\n", r.statuses)
	}
	if r.firstError != "" {
		fmt.Fprintf(w, "  first error  %s\n", r.firstError)
	}
	if cfg.pid != 0 {
		if r.cpuErr != nil {
			fmt.Fprintf(w, "  gateway cpu  unknown: %v\n", r.cpuErr)
		} else if answered > 0 {
			fmt.Fprintf(w, "  gateway cpu  %d ms (%.3f ms/request, %.0f%% of one core; pid %d)\n",
				r.cpu.Milliseconds(), float64(r.cpu)/1e6/float64(answered), 100*r.cpu.Seconds()/r.elapsed.Seconds(), cfg.pid)
		}
	}
}
