package difftest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/opgen"
)

// TestReferenceExitsWithItsStdin: a reference whose test process is gone
// (its stdin closes) exits by itself, so a killed run leaves no node
// processes behind.
func TestReferenceExitsWithItsStdin(t *testing.T) {
	script := "../../e2e/difftest/js/refgw.mjs"
	if _, err := os.Stat("../../e2e/difftest/js/node_modules/@apollo/gateway"); err != nil {
		t.Skip("Apollo Gateway is not installed: run scripts/install-deps.sh")
	}
	r, err := StartReference("apollo", script, t.TempDir(), ReferenceOptions{StartTimeout: 60 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	p := r.current()
	select {
	case <-p.done:
		t.Fatal("exited before its stdin closed")
	default:
	}
	_ = p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10s after its stdin closed")
	}
}

// fakeReference starts testdata/fakeref.mjs behind a front with a short
// deadline and a small heap.
func fakeReference(t *testing.T) *Reference {
	t.Helper()
	return fakeReferenceWithin(t, time.Second)
}

// fakeReferenceWithin is fakeReference with the front's deadline.
func fakeReferenceWithin(t *testing.T, deadline time.Duration) *Reference {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	r, err := StartReference("fake", "testdata/fakeref.mjs", t.TempDir(),
		ReferenceOptions{StartTimeout: 30 * time.Second, Deadline: deadline, HeapMB: 32})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

type fakeAnswer struct {
	status int
	died   string
	pid    float64
}

// askFake posts query to r's front; without the front's deadline a
// runaway request would never be answered, so the test gives up after
// 30 s and fails.
func askFake(t *testing.T, r *Reference, query string) fakeAnswer {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	body, _ := json.Marshal(map[string]string{"query": query})
	resp, err := client.Post(r.URL("g"), "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Errorf("%s: no answer: %v", query, err)
		return fakeAnswer{}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out struct {
		Data struct {
			Pid float64 `json:"pid"`
		} `json:"data"`
	}
	_ = json.Unmarshal(b, &out)
	return fakeAnswer{status: resp.StatusCode, died: resp.Header.Get(DiedHeader), pid: out.Data.Pid}
}

// TestReferenceSurvivesRunawayRequests: a request on which the reference
// hangs or grows past its heap cap is answered within the deadline with
// DiedHeader, the process is replaced, and the next request is answered
// by the fresh one.
func TestReferenceSurvivesRunawayRequests(t *testing.T) {
	for _, tc := range []struct {
		query, died string
		status      int
		// restarts: a request that timed out alone is not asked again;
		// one whose process died is (another request may have killed it).
		restarts int
		// deadline: the growing process must reach its heap cap before
		// it, also on a loaded machine, where 1 s was seen to be short.
		deadline time.Duration
	}{
		{"{ hang }", "timed out after 1s", http.StatusGatewayTimeout, 1, time.Second},
		{"{ grow }", "crashed", http.StatusBadGateway, 2, 20 * time.Second},
	} {
		t.Run(tc.query, func(t *testing.T) {
			r := fakeReferenceWithin(t, tc.deadline)
			before := askFake(t, r, "{ ok }")
			if before.status != 200 || before.pid == 0 {
				t.Fatalf("first answer %+v", before)
			}
			start := time.Now()
			got := askFake(t, r, tc.query)
			if got.status != tc.status || !strings.HasPrefix(got.died, tc.died) {
				t.Errorf("runaway answer: HTTP %d, %s %q; want HTTP %d, %q", got.status, DiedHeader, got.died, tc.status, tc.died)
			}
			t.Logf("%s answered in %s: %s", tc.query, time.Since(start).Round(time.Millisecond), got.died)
			after := askFake(t, r, "{ ok }")
			if after.status != 200 || after.pid == 0 || after.pid == before.pid {
				t.Errorf("after the runaway: %+v, want an answer from a new process (not pid %v)", after, before.pid)
			}
			if n, why := r.Restarts(); n != tc.restarts {
				t.Errorf("%d restarts, want %d; last: %s", n, tc.restarts, why)
			}
			if tc.died == "crashed" && !strings.Contains(got.died, "heap") {
				t.Errorf("the crash's reason does not name the heap: %s", got.died)
			}
		})
	}
}

// TestReferenceRetriesTheRequestsARunawayStalled: a request in flight
// beside one that hangs the reference is answered (asked again alone on a
// fresh process), not counted as a crash.
func TestReferenceRetriesTheRequestsARunawayStalled(t *testing.T) {
	r := fakeReference(t)
	var wg sync.WaitGroup
	var hang, slow fakeAnswer
	wg.Add(2)
	go func() { defer wg.Done(); hang = askFake(t, r, "{ hang }") }()
	go func() {
		defer wg.Done()
		// Behind the hang in the event loop, and half the 1 s deadline
		// after it: the hang's restart must end the process well before
		// this request's own deadline, even on a loaded machine.
		time.Sleep(500 * time.Millisecond)
		slow = askFake(t, r, "{ slow }")
	}()
	wg.Wait()
	if hang.died == "" {
		t.Errorf("the hanging request: %+v, want %s", hang, DiedHeader)
	}
	if slow.status != 200 || slow.died != "" || slow.pid == 0 {
		t.Errorf("the stalled request: %+v, want its answer", slow)
	}
}

// TestReferenceKeepAliveRaceIsNoCrash: node closes an idle keep-alive
// connection just as the front sends the next request on it ("connection
// reset by peer" from a live process); the front asks again on the same
// process instead of restarting it and counting a crash.
func TestReferenceKeepAliveRaceIsNoCrash(t *testing.T) {
	t.Setenv("FAKEREF_DROP_SECOND", "1")
	r := fakeReference(t)
	for i := 0; i < 6; i++ {
		if got := askFake(t, r, "{ ok }"); got.status != 200 || got.died != "" {
			t.Fatalf("request %d: %+v", i, got)
		}
	}
	if n, why := r.Restarts(); n != 0 {
		t.Errorf("%d restarts of a live process: %s", n, why)
	}
}

type fixedGen []opgen.Operation

func (g fixedGen) Generate(seed uint64) (opgen.Operation, error) {
	return g[seed&0xffffff], nil
}

// TestRunCountsARunawayReference: Run gives an operation a reference died
// on its own verdict, RefDied, and goes on with the next.
func TestRunCountsARunawayReference(t *testing.T) {
	r := fakeReference(t)
	fed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":{"x":1}}`)
	}))
	defer fed.Close()
	g := &Graph{Name: "g", Gen: fixedGen{{Query: "{ hang }"}, {Query: "{ ok }"}},
		Fedgate: Endpoint{Name: "fedgate", URL: fed.URL},
		Refs:    []Endpoint{{Name: "fake", URL: r.URL("g")}}}
	runner := &Runner{Workers: 1, ShrinkBudget: -1, Timeout: 30 * time.Second, Keep: []Verdict{RefDied}}
	cases, st := runner.Run(context.Background(), g, 0, 2, nil)
	if st.RefsDied != 1 || st.Review != 1 {
		t.Errorf("stats %+v, want one RefDied (the hang) and one Review (the other answers differ)", st)
	}
	if len(cases) == 0 || cases[0].Verdict != RefDied || cases[0].Answers[1].Result.Died == "" {
		t.Errorf("cases %+v, want operation 0 with verdict %q", cases, RefDied)
	}
}
