package fedgate

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestServeTimerSlack: `gateway serve` runs with the timer slack
// FEDGATE_TIMER_SLACK asks for (internal/timerslack), as the process that
// was started (same pid), started again only once, and serves; a value it
// refuses is reported and the gateway serves with the slack it had.
func TestServeTimerSlack(t *testing.T) {
	supergraph, err := filepath.Abs("../../gateway.graphql")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		slack     string
		wantSlack string // "" is the test process's own
		wantErr   string
	}{
		{name: "asked for", slack: "300us", wantSlack: "300000"},
		{name: "off", slack: "off"},
		{name: "refused", slack: "1h", wantErr: "FEDGATE_TIMER_SLACK"},
	}
	own, err := os.ReadFile("/proc/self/timerslack_ns")
	if err != nil {
		t.Skip("no /proc/self/timerslack_ns:", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.wantSlack
			if want == "" {
				want = strings.TrimSpace(string(own))
			}
			// The gateway picks its port and logs it: a port found free
			// here and closed could be taken before the gateway listens.
			cmd := exec.Command(os.Args[0], "serve", "--supergraph", supergraph, "--listen", "127.0.0.1:0")
			cmd.Env = append(os.Environ(), "GATEWAY_TEST_MAIN=1", "FEDGATE_TIMER_SLACK="+tt.slack)
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stdout bytes.Buffer
			cmd.Stdout = &stdout
			// The process the test starts inherits this thread's slack.
			runtime.LockOSThread()
			err = cmd.Start()
			runtime.UnlockOSThread()
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
			lines := make(chan string, 64)
			go func() {
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			var log []string
			var addr string
			deadline := time.After(30 * time.Second)
		wait:
			for {
				select {
				case l, ok := <-lines:
					if !ok {
						t.Fatalf("the gateway ended: %v\n%s", cmd.Wait(), strings.Join(log, "\n"))
					}
					log = append(log, l)
					if m := listeningAddr.FindStringSubmatch(l); m != nil {
						addr = m[1]
						break wait
					}
				case <-deadline:
					t.Fatalf("the gateway did not listen in 30 s:\n%s", strings.Join(log, "\n"))
				}
			}
			resp, err := http.Get("http://" + addr + "/health")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("/health: %d", resp.StatusCode)
			}
			b, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/timerslack_ns")
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(string(b)); got != want {
				t.Errorf("timer slack %s ns, want %s", got, want)
			}
			all := strings.Join(log, "\n")
			if tt.wantErr == "" && strings.Contains(all, "FEDGATE_TIMER_SLACK") || !strings.Contains(all, tt.wantErr) {
				t.Errorf("stderr:\n%s\nwant %q in it", all, tt.wantErr)
			}
			if n := strings.Count(all, tt.wantErr); tt.wantErr != "" && n != 1 {
				t.Errorf("the refusal was reported %d times, want once (started again?)", n)
			}
		})
	}
}

// listeningAddr finds the address in the gateway's "gateway listening"
// log line, in slog's text (addr=...) or JSON ("addr":"...") form.
var listeningAddr = regexp.MustCompile(`gateway listening.*?"?addr"?[=:]"?(127\.0\.0\.1:\d+)`)
