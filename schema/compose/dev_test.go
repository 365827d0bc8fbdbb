package compose

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestDevCompose prints the composition of COMPOSE_DIR (a development aid).
func TestDevCompose(t *testing.T) {
	dir := os.Getenv("COMPOSE_DIR")
	if dir == "" {
		t.Skip("COMPOSE_DIR not set")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.graphql"))
	sort.Strings(files)
	var subs []Subgraph
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".graphql")
		if name == "supergraph" {
			continue
		}
		b, _ := os.ReadFile(f)
		subs = append(subs, Subgraph{Name: name, URL: "http://127.0.0.1:4999/" + name, SDL: string(b)})
	}
	res, err := Compose(subs)
	if err != nil {
		for _, e := range err.(Errors) {
			fmt.Println("ERROR", e.Code, e.Message)
		}
		return
	}
	fmt.Print(res.SDL)
}
