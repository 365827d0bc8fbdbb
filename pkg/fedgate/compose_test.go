package fedgate

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestComposeCmd(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a.graphql": `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { user: User } type User @key(fields: "id") { id: ID! name: String }`,
	}
	for name, sdl := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(sdl), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Subgraph b is served over HTTP and asked for `_service { sdl }`.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"data":{"_service":{"sdl":"extend schema @link(url: \"https://specs.apollo.dev/federation/v2.3\", import: [\"@key\"])\ntype User @key(fields: \"id\") { id: ID! age: Int }"}}}`))
	}))
	defer srv.Close()
	config := filepath.Join(dir, "supergraph.yaml")
	yaml := "federation_version: =2.3.0\nsubgraphs:\n  a:\n    routing_url: http://a.example/graphql\n    schema:\n      file: a.graphql\n  b:\n    routing_url: http://b.example/graphql\n    schema:\n      subgraph_url: " + srv.URL + "\n"
	if err := os.WriteFile(config, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "supergraph.graphql")
	var stdout, stderr bytes.Buffer
	if err := composeCmd([]string{"--config", config, "-o", out}, &stdout, &stderr); err != nil {
		t.Fatalf("compose: %v\n%s", err, stderr.String())
	}
	sdl, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`B @join__graph(name: "b", url: "http://b.example/graphql")`, "age: Int @join__field(graph: B)"} {
		if !strings.Contains(string(sdl), want) {
			t.Errorf("supergraph lacks %q:\n%s", want, sdl)
		}
	}
	// With -o, what was written and what to run next, on stderr.
	if want := "compose: wrote " + out + ": 2 subgraphs, "; !strings.Contains(stderr.String(), want) || stdout.Len() != 0 {
		t.Errorf("stderr %q lacks %q (stdout %q)", stderr.String(), want, stdout.String())
	}

	// A composition error is reported with its code.
	os.WriteFile(filepath.Join(dir, "a.graphql"), []byte(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { user: User } type User @key(fields: "id") { id: ID! age: Int }`), 0o644)
	stderr.Reset()
	if err := composeCmd([]string{"--config", config}, &stdout, &stderr); err == nil {
		t.Fatal("composed conflicting subgraphs")
	}
	if !strings.Contains(stderr.String(), "error[INVALID_FIELD_SHARING]") {
		t.Errorf("stderr %q lacks the error code", stderr.String())
	}

	// A bad config names the key.
	os.WriteFile(config, []byte("federation_version: 1\nsubgraphs:\n  a:\n    routing_url: x\n    schema:\n      file: a.graphql\n"), 0o644)
	if err := composeCmd([]string{"--config", config}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "federation_version") {
		t.Fatalf("err = %v, want a federation_version error", err)
	}
}
