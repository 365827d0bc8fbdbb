package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/listenlog"
	"github.com/fedgate/gateway/internal/syncbuf"
)

// The tokens docs/extending.md shows (HS256, the example secret).
const (
	acmeToken    = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImV4YW1wbGUiLCJ0eXAiOiJKV1QifQ.eyJwbGFuIjoicHJvIiwic3ViIjoidTEiLCJ0ZW5hbnQiOiJhY21lIn0.fRppRRWpgtLg-EVNIEIfqD2rXSbkQmD2Acbh6sGzchk"
	blockedToken = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImV4YW1wbGUiLCJ0eXAiOiJKV1QifQ.eyJzdWIiOiJ1MiIsInRlbmFudCI6ImJsb2NrZWQifQ.iWbo4jdvQz4mrYEJKGUJULfWPyS8Dfib3iwpb7ab4pY"
)

// TestExample builds the example binary, runs its demo with the example
// configuration and checks what the hook does over real HTTP.
func TestExample(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "tenant")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfg, err := os.ReadFile("gateway.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The metrics listener on a port of its own choosing: tests never
	// take a fixed port.
	cfg = append(cfg, "telemetry:\n  metrics:\n    prometheus:\n      listen: 127.0.0.1:0\n  logging:\n    requests: false\n"...)
	cfgPath := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The example binds a free port itself (127.0.0.1:0) and logs it: a
	// port found free here and handed over could be taken meanwhile.
	cmd := exec.CommandContext(ctx, bin, "demo", "--listen", "127.0.0.1:0", "--config", cfgPath)
	stderr := &syncbuf.Buffer{}
	cmd.Stderr = stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	defer func() { cancel(); <-exited }()
	addr, err := listenlog.Wait(stderr.String, listenlog.Gateway, exited, 90*time.Second)
	if err != nil {
		t.Fatalf("the example did not start: %v", err)
	}
	url := "http://" + addr + "/graphql"
	post := func(token string, extra map[string]string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"query":"{ topProducts { name } }"}`))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for k, v := range extra {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		if resp, _ := post("", nil); resp != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the example does not answer: %s", stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	resp, body := post(acmeToken, nil)
	if resp.StatusCode != 200 || resp.Header.Get("X-Tenant") != "acme;plan=pro" || !strings.Contains(body, `"topProducts"`) {
		t.Fatalf("acme: %d X-Tenant=%q %s", resp.StatusCode, resp.Header.Get("X-Tenant"), body)
	}
	resp, body = post(blockedToken, nil)
	var a struct {
		Errors []struct {
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	_ = json.Unmarshal([]byte(body), &a)
	if resp.StatusCode != 403 || len(a.Errors) != 1 || a.Errors[0].Extensions["code"] != "TENANT_BLOCKED" {
		t.Fatalf("blocked: %d %s", resp.StatusCode, body)
	}
	// An anonymous client cannot forge the header.
	resp, body = post("", map[string]string{"X-Tenant": "acme;plan=enterprise"})
	if resp.StatusCode != 200 || resp.Header.Get("X-Tenant") != "" {
		t.Fatalf("anonymous: %d X-Tenant=%q %s", resp.StatusCode, resp.Header.Get("X-Tenant"), body)
	}
	// The request metrics carry the tenant label (hooks.Hooks.Labels).
	maddr, err := listenlog.Wait(stderr.String, listenlog.Metrics, exited, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	mresp, err := http.Get("http://" + maddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	for _, want := range []string{
		`fedgate_requests_total{operation="anonymous",status="200",tenant="acme"} 1`,
		`fedgate_requests_total{operation="anonymous",status="403",tenant="blocked"} 1`,
		`fedgate_requests_total{operation="anonymous",status="200",tenant=""}`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
