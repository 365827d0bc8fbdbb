//go:build attack

package attack

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/listenlog"
	"github.com/fedgate/gateway/subgraphs/demo"
)

// startServe runs `gateway serve` on the demo supergraph with the demo
// subgraphs on loopback httptest servers, except those named in hostile,
// which are served by the given handlers instead. yaml is the whole
// configuration but server.listen, which is added.
func startServe(t *testing.T, hostile map[string]http.Handler, yaml string) *gateway {
	t.Helper()
	args := []string{"serve", "--supergraph", "../gateway.graphql"}
	for name, h := range demo.Handlers() {
		if hh, ok := hostile[name]; ok {
			h = hh
		}
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		args = append(args, "--subgraph-url", name+"="+srv.URL+"/graphql")
	}
	cfg := "server:\n  listen: 127.0.0.1:0\n" + yaml
	path := filepath.Join(t.TempDir(), "gateway.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	args = append(args, "--config", path)
	logs := &lockedBuffer{b: &bytes.Buffer{}}
	g := &gateway{log: logs}
	g.cmd = exec.Command(binary, args...)
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
	return g
}

// post sends a GraphQL request body and returns the status and body.
func (g *gateway) post(t *testing.T, body string, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, g.url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{Timeout: 60 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	return resp.StatusCode, string(b)
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + fmt.Sprintf("...(%d bytes)", len(s))
	}
	return s
}
