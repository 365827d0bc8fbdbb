package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/listenlog"
	"github.com/fedgate/gateway/internal/syncbuf"
	"github.com/fedgate/gateway/subgraphs/demo"
	"github.com/fedgate/gateway/subgraphs/demo/products"
)

// uploadSize is the file streamed by TestUpload200MBMemory.
const uploadSize = 200 << 20

// TestUpload200MBMemory streams a generated 200 MB file through a gateway
// process (bin built here, `gateway serve`) to the products subgraph,
// served by this test process, and reads the gateway's peak resident
// memory (VmHWM) from /proc: it must stay under 60 MB, since the file is
// streamed and never held. The subgraph checks the bytes by SHA-256.
func TestUpload200MBMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gateway and streams 200 MB")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc")
	}
	bin := buildGateway(t)
	sub := httptest.NewServer(products.NewHandler())
	t.Cleanup(sub.Close)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gateway.yaml")
	yaml := fmt.Sprintf(`server:
  listen: 127.0.0.1:0
  request_timeout: 2m
supergraph:
  path: %s
subgraphs:
  all:
    timeout: 2m
  overrides:
    products:
      url: %s
uploads:
  enabled: true
  max_file_bytes: %d
  max_total_bytes: %d
telemetry:
  metrics:
    prometheus:
      listen: ""
  logging:
    requests: false
`, filepath.Join(absRoot(t), "gateway.graphql"), sub.URL+demo.Path, 256<<20, 256<<20)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &syncbuf.Buffer{}
	cmd := exec.Command(bin, "serve", "--config", cfg)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	listen := listenAddr(t, logs, listenlog.Gateway, exited)
	waitFor(t, "the gateway to listen", func() bool {
		resp, err := http.Get("http://" + listen + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
	before := vmHWM(t, cmd.Process.Pid)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	sum := make(chan string, 1)
	go func() {
		h := sha256.New()
		err := func() error {
			if err := mw.WriteField("operations", `{"query":"mutation($f: Upload!) { uploadProductImage(upc: \"1\", file: $f) { size sha256 } }","variables":{"f":null}}`); err != nil {
				return err
			}
			if err := mw.WriteField("map", `{"0":["variables.f"]}`); err != nil {
				return err
			}
			w, err := mw.CreateFormFile("0", "big.bin")
			if err != nil {
				return err
			}
			// One random block, numbered as it repeats: cheap to make
			// (also under the race detector), and no two blocks alike.
			buf := make([]byte, 64<<10)
			_, _ = rand.NewChaCha8([32]byte{7}).Read(buf)
			for i, left := 0, uploadSize; left > 0; i, left = i+1, left-len(buf) {
				binary.LittleEndian.PutUint64(buf, uint64(i))
				h.Write(buf)
				if _, err := w.Write(buf); err != nil {
					return err
				}
			}
			return mw.Close()
		}()
		sum <- hex.EncodeToString(h.Sum(nil))
		pw.CloseWithError(err)
	}()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+listen+"/graphql", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Apollo-Require-Preflight", "true")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, logs.String())
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	took := time.Since(start)
	var ans struct {
		Data struct {
			UploadProductImage struct {
				Size   int
				Sha256 string
			}
		}
	}
	if err := json.Unmarshal(raw, &ans); err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, raw)
	}
	if got := ans.Data.UploadProductImage; got.Size != uploadSize || got.Sha256 != <-sum {
		t.Fatalf("the subgraph received %d bytes, sha256 %s: %s", got.Size, got.Sha256, raw)
	}
	after := vmHWM(t, cmd.Process.Pid)
	t.Logf("200 MB upload in %v; gateway VmHWM %d kB before, %d kB after", took.Round(time.Millisecond), before, after)
	if after > 60<<10 {
		t.Fatalf("the gateway's peak RSS reached %d kB streaming 200 MB (limit 60 MB)", after)
	}
}

// vmHWM is the peak resident set of process pid, in kB.
func vmHWM(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

func absRoot(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
