package fedgate

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSubgraphCmdExitErrors(t *testing.T) {
	var gotPath, gotAuth string
	var gotSet struct {
		Subgraphs []struct{ Name, URL, SDL string }
	}
	const demoRover = "../../subgraphs/demo/supergraph.yaml"
	admin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotAuth = r.URL.RequestURI(), r.Header.Get("Authorization")
		if strings.HasPrefix(r.URL.Path, "/supergraph/") && r.URL.Path != "/supergraph/rollback" {
			gotSet.Subgraphs = nil
			if err := json.NewDecoder(r.Body).Decode(&gotSet); err != nil || len(gotSet.Subgraphs) != 4 {
				t.Errorf("set body: %v %+v", err, gotSet)
			}
			for _, s := range gotSet.Subgraphs {
				if s.URL == "" || !strings.Contains(s.SDL, "type ") {
					t.Errorf("set member %+v", s)
				}
			}
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.Contains(r.URL.Path, "broken"):
			w.WriteHeader(http.StatusUnprocessableEntity)
			w.Write([]byte(`{"ok":false,"errors":[{"code":"INVALID_GRAPHQL","message":"Unknown type Year"}],"changes":[]}`))
		case strings.Contains(r.URL.Path, "breaking"):
			w.WriteHeader(http.StatusConflict)
			w.Write([]byte(`{"ok":false,"breaking":1,"changes":[{"severity":"BREAKING","kind":"FIELD_REMOVED","coordinate":"User.age","message":"field User.age was removed"}]}`))
		case r.URL.Path == "/subgraphs" && r.Method == http.MethodGet:
			w.Write([]byte(`{"version":3,"subgraphs":[{"name":"a","url":"http://a","revision":2}]}`))
		case strings.HasSuffix(r.URL.Path, "/check"):
			w.Write([]byte(`{"ok":true,"published":false,"version":3,"changes":[{"severity":"SAFE","kind":"FIELD_ADDED","coordinate":"Query.b","message":"field Query.b was added"}]}`))
		case strings.Contains(r.URL.Path, "missing"):
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":{"code":"NOT_FOUND","message":"no such subgraph"}}`))
		default:
			w.Write([]byte(`{"ok":true,"published":true,"version":4,"changes":[]}`))
		}
	}))
	defer admin.Close()
	schemaFile := filepath.Join(t.TempDir(), "a.graphql")
	if err := os.WriteFile(schemaFile, []byte("type Query { a: Int }"), 0o644); err != nil {
		t.Fatal(err)
	}
	common := []string{"--admin", admin.URL, "--token", "tok"}
	tests := []struct {
		name     string
		args     []string
		want     error // nil, errCheckFailed or errUsage
		wantPath string
		wantOut  string
	}{
		{"no action", nil, errUsage, "", ""},
		{"unknown action", []string{"frobnicate"}, errUsage, "", ""},
		{"publish without url", []string{"publish", "--name", "a", "--schema", schemaFile}, errUsage, "", ""},
		{"publish with schema and introspect", []string{"publish", "--name", "a", "--url", "http://a", "--schema", schemaFile, "--introspect"}, errUsage, "", ""},
		{"rollback without version", []string{"rollback"}, errUsage, "", ""},
		{"publish ok", []string{"publish", "--name", "a", "--url", "http://a", "--schema", schemaFile, "--force"}, nil, "/subgraphs/a?force=true", "serving version 4"},
		{"check ok", []string{"check", "--name", "a", "--url", "http://a", "--introspect"}, nil, "/subgraphs/a/check", "check: ok (1 change(s), 0 breaking)"},
		{"composition error", []string{"publish", "--name", "broken", "--url", "http://a", "--schema", schemaFile}, errCheckFailed, "/subgraphs/broken", "error[INVALID_GRAPHQL]"},
		{"breaking", []string{"publish", "--name", "breaking", "--url", "http://a", "--schema", schemaFile}, errCheckFailed, "/subgraphs/breaking", "BREAKING  User.age"},
		{"breaking names the flag", []string{"delete", "--name", "breaking"}, errCheckFailed, "/subgraphs/breaking", "delete: refused: 1 breaking change(s); run it again with --force"},
		{"check of breaking", []string{"check", "--name", "breaking", "--url", "http://a", "--schema", schemaFile}, errCheckFailed, "/subgraphs/breaking/check", "check: 1 breaking change(s); a publish needs --force"},
		{"not found", []string{"delete", "--name", "missing"}, errUsage, "/subgraphs/missing", ""},
		{"list", []string{"list"}, nil, "/subgraphs", "a     2"},
		{"rollback", []string{"rollback", "--version", "2"}, nil, "/supergraph/rollback", "version 4"},
		{"seed", []string{"publish", "--config", demoRover, "--force"}, nil, "/supergraph/publish?force=true", "serving version 4"},
		{"check set", []string{"check", "--config", demoRover}, nil, "/supergraph/check", "check: ok"},
		{"config and name", []string{"publish", "--config", demoRover, "--name", "a"}, errUsage, "", ""},
		{"config missing", []string{"publish", "--config", "nosuch.yaml"}, errUsage, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotPath = ""
			args := tt.args
			if len(args) > 0 {
				args = append(append([]string{args[0]}, common...), args[1:]...)
			}
			var stdout, stderr bytes.Buffer
			err := subgraphCmd(args, &stdout, &stderr)
			if !errors.Is(err, tt.want) && !(tt.want == nil && err == nil) {
				t.Fatalf("err %v, want %v\nstdout %s\nstderr %s", err, tt.want, stdout.String(), stderr.String())
			}
			if gotPath != tt.wantPath {
				t.Errorf("requested %q, want %q", gotPath, tt.wantPath)
			}
			if tt.wantPath != "" && gotAuth != "Bearer tok" {
				t.Errorf("Authorization %q", gotAuth)
			}
			if !strings.Contains(stdout.String(), tt.wantOut) {
				t.Errorf("stdout %q does not contain %q", stdout.String(), tt.wantOut)
			}
		})
	}
	// A mistyped action is named as the mistake, not the missing token.
	t.Setenv("FEDGATE_ADMIN_TOKEN", "")
	var stderr bytes.Buffer
	if err := subgraphCmd([]string{"lst"}, &bytes.Buffer{}, &stderr); !errors.Is(err, errUsage) || !strings.Contains(stderr.String(), "subgraph lst: unknown action") {
		t.Errorf("gateway subgraph lst: %v, stderr %q", err, stderr.String())
	}
	// Connection refused: exit 2.
	admin.Close()
	if err := subgraphCmd([]string{"list", "--admin", admin.URL, "--token", "tok"}, &bytes.Buffer{}, &bytes.Buffer{}); !errors.Is(err, errUsage) {
		t.Fatalf("connection error: %v", err)
	}
	if err := subgraphCmd([]string{"-h"}, &bytes.Buffer{}, &bytes.Buffer{}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
}
