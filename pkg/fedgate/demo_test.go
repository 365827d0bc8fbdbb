package fedgate

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/listenlog"
)

// TestDemoServesSupergraphPath: `gateway demo` with supergraph.path in
// its configuration serves that file, not the embedded supergraph: here
// one composed from two of the four demo subgraphs, whose API has no
// inventory field, while the demo subgraphs of its names answer its
// fetches. Before, the demo dropped supergraph.path and served the
// embedded supergraph whatever the file said. SIGHUP then reloads the
// file, as in gateway serve.
func TestDemoServesSupergraphPath(t *testing.T) {
	dir := t.TempDir()
	demoDir, err := filepath.Abs("../../subgraphs/demo")
	if err != nil {
		t.Fatal(err)
	}
	rover := filepath.Join(dir, "supergraph.yaml")
	yaml := "federation_version: =2.3.0\nsubgraphs:\n" +
		"  accounts:\n    routing_url: http://127.0.0.1:1/graphql\n    schema:\n      file: " + filepath.Join(demoDir, "accounts/schema.graphqls") + "\n" +
		"  products:\n    routing_url: http://127.0.0.1:1/graphql\n    schema:\n      file: " + filepath.Join(demoDir, "products/schema.graphqls") + "\n"
	if err := os.WriteFile(rover, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "supergraph.graphql")
	var stderr bytes.Buffer
	if err := composeCmd([]string{"--config", rover, "-o", path}, io.Discard, &stderr); err != nil {
		t.Fatalf("compose: %v\n%s", err, stderr.String())
	}

	p := launchCommand(t, "demo", "supergraph:\n  path: "+path+"\n")
	addr, err := listenlog.Wait(p.log.String, listenlog.Gateway, p.exited, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	log := p.log.String()
	if want := `"supergraph":"` + path + `"`; !strings.Contains(log, want) {
		t.Errorf("the start-up log does not name the file served (%s):\n%s", want, log)
	}
	if n := strings.Count(log, `"msg":"demo subgraph"`); n != 2 {
		t.Errorf("%d demo subgraphs called, want the file's 2:\n%s", n, log)
	}
	for _, tt := range []struct{ query, want string }{
		// products is the demo's: the file's routing URL (port 1) is not called.
		{`{ topProducts(first: 1) { name } }`, `{"data":{"topProducts":[{"name":`},
		// inventory is not in the file's supergraph.
		{`{ topProducts(first: 1) { inStock } }`, `"GRAPHQL_VALIDATION_FAILED"`},
	} {
		body := postQuery(t, "http://"+addr+"/graphql", tt.query)
		if !strings.Contains(body, tt.want) {
			t.Errorf("%s answered %s, want %s", tt.query, body, tt.want)
		}
	}

	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, "SIGHUP: supergraph unchanged", 1)
	p.stop(t)
}

// postQuery posts query to url and returns the answer's body.
func postQuery(t *testing.T, url, query string) string {
	t.Helper()
	req, _ := json.Marshal(map[string]string{"query": query})
	resp, err := http.Post(url, "application/json", bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
