package compose

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/fedgate/gateway/internal/golden"
)

// randomSubgraphs builds 2 or 3 random subgraphs over a small pool of
// entities, value types, an enum, an interface and a union, with random
// federation directives. Most sets compose; many do not.
func randomSubgraphs(r *rand.Rand) []Subgraph {
	n := 2 + r.Intn(2)
	names := []string{"a", "b", "c"}[:n]
	scalars := []string{"Int", "String", "Int!", "[String]", "V", "Color", "Color!"}
	keys := map[string]string{}
	for _, e := range []string{"E1", "E2"} {
		keys[e] = []string{"id", "id", "id code", "code"}[r.Intn(4)]
	}
	var subs []Subgraph
	for _, name := range names {
		var b strings.Builder
		fed1 := r.Intn(8) == 0
		if !fed1 {
			minor := []int{3, 7, 9}[r.Intn(3)]
			fmt.Fprintf(&b, "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.%d\", import: [\"@key\", \"@shareable\", \"@external\", \"@requires\", \"@provides\", \"@override\", \"@inaccessible\", \"@tag\"])\n", minor)
		}
		shareable := func() string {
			if !fed1 && r.Intn(2) == 0 {
				return " @shareable"
			}
			return ""
		}
		b.WriteString("type Query {\n")
		for q := 0; q < 1+r.Intn(2); q++ {
			target := []string{"E1", "E2", "V", "I", "U", "[E1]"}[r.Intn(6)]
			fmt.Fprintf(&b, "  q%s%d(arg: %s): %s%s\n", name, q, []string{"Int", "Color", "String!"}[r.Intn(3)], target, map[bool]string{true: " @shareable", false: ""}[!fed1 && r.Intn(4) == 0])
		}
		b.WriteString("}\n")
		for _, e := range []string{"E1", "E2"} {
			key := keys[e]
			if r.Intn(6) == 0 {
				key = "id"
			}
			ext := ""
			if r.Intn(5) == 0 {
				ext = "extend "
			}
			res := ""
			if !fed1 && r.Intn(6) == 0 {
				res = ", resolvable: false"
			}
			fmt.Fprintf(&b, "%stype %s implements I @key(fields: %q%s) {\n  id: ID!%s\n  code: String!%s\n", ext, e, key, res, map[bool]string{true: " @shareable", false: ""}[!fed1], map[bool]string{true: " @shareable", false: ""}[!fed1 && r.Intn(12) > 0])
			seen := map[string]bool{}
			for f := 0; f < 1+r.Intn(3); f++ {
				field := "f" + strconv.Itoa(r.Intn(4))
				if seen[field] {
					continue
				}
				seen[field] = true
				typ := scalars[int(field[1]-'0')%len(scalars)]
				if r.Intn(8) == 0 {
					typ = scalars[r.Intn(len(scalars))]
				}
				dirs := shareable()
				if !fed1 && r.Intn(10) > 0 {
					dirs = " @shareable"
				}
				switch r.Intn(14) {
				case 0:
					dirs = " @external"
					fmt.Fprintf(&b, "  %s: %s%s\n  need%s: Int @requires(fields: %q)\n", field, typ, dirs, field, field)
					continue
				case 1:
					if !fed1 {
						dirs += fmt.Sprintf(" @override(from: %q)", names[r.Intn(n)])
					}
				case 2:
					if !fed1 {
						dirs += " @inaccessible"
					}
				case 3:
					if !fed1 {
						dirs += " @tag(name: \"t\")"
					}
				}
				fmt.Fprintf(&b, "  %s: %s%s\n", field, typ, dirs)
			}
			b.WriteString("}\n")
		}
		fmt.Fprintf(&b, "interface I {\n  id: ID!\n}\n")
		vShareable := ""
		if !fed1 && r.Intn(20) > 0 {
			vShareable = " @shareable"
		}
		fmt.Fprintf(&b, "type V%s {\n  x: Int\n  y: Int\n}\n", vShareable)
		if r.Intn(4) > 0 {
			fmt.Fprintf(&b, "enum Color {\n  RED\n  GREEN\n}\n")
		} else {
			fmt.Fprintf(&b, "enum Color {\n  RED\n  BLUE\n}\n")
		}
		fmt.Fprintf(&b, "union U = V\n")
		subs = append(subs, Subgraph{Name: name, URL: "http://127.0.0.1:4999/" + name, SDL: b.String()})
	}
	return subs
}

// randomEntityGraph builds 2 to 4 subgraphs sharing entities E1..E3 under
// random keys (some not resolvable), with entity references between them
// and @requires: every field is shareable and typed alike, so what decides
// the verdict is mostly satisfiability.
func randomEntityGraph(r *rand.Rand) []Subgraph {
	n := 2 + r.Intn(3)
	entities := []string{"E1", "E2", "E3"}
	nextOf := map[string]string{"E1": "E2", "E2": "E3", "E3": "E1"}
	keyChoices := []string{"id", "sku", "id sku"}
	type field struct {
		name     string
		external bool
	}
	type entity struct {
		keys   []string
		fields []field
		next   bool
	}
	defined := make([]map[string]*entity, n)
	resolved := map[string]bool{} // E.d resolved somewhere
	for i := range defined {
		defined[i] = map[string]*entity{}
		for _, e := range entities {
			if r.Intn(3) == 0 && !(e == "E1" && len(defined[i]) == 0) {
				continue
			}
			ent := &entity{}
			for k := 0; k < 1+r.Intn(2); k++ {
				key := fmt.Sprintf("@key(fields: %q", keyChoices[r.Intn(len(keyChoices))])
				if r.Intn(6) == 0 {
					key += ", resolvable: false"
				}
				ent.keys = append(ent.keys, key+")")
			}
			seen := map[string]bool{}
			for f := 0; f < r.Intn(4); f++ {
				name := "d" + strconv.Itoa(r.Intn(4))
				if seen[name] {
					continue
				}
				seen[name] = true
				ext := r.Intn(4) == 0
				ent.fields = append(ent.fields, field{name, ext})
				if !ext {
					resolved[e+"."+name] = true
				}
			}
			ent.next = r.Intn(2) == 0
			defined[i][e] = ent
		}
	}
	var subs []Subgraph
	for i := 0; i < n; i++ {
		name := string(rune('a' + i))
		var b strings.Builder
		b.WriteString(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@external", "@requires", "@provides", "@override"])` + "\n")
		var names []string
		for _, e := range entities {
			if defined[i][e] != nil {
				names = append(names, e)
			}
		}
		b.WriteString("type Query {\n")
		for q := 0; q < 1+r.Intn(2); q++ {
			fmt.Fprintf(&b, "  q%s%d: %s @shareable\n", name, q, names[r.Intn(len(names))])
		}
		b.WriteString("}\n")
		for _, e := range names {
			ent := defined[i][e]
			fmt.Fprintf(&b, "type %s %s {\n  id: ID! @shareable\n  sku: String! @shareable\n", e, strings.Join(ent.keys, " "))
			for _, f := range ent.fields {
				if f.external && resolved[e+"."+f.name] {
					fmt.Fprintf(&b, "  %s: Int @external\n  need%s: Int @requires(fields: %q) @shareable\n", f.name, f.name, f.name)
					continue
				}
				fmt.Fprintf(&b, "  %s: Int @shareable\n", f.name)
			}
			if ent.next && defined[i][nextOf[e]] != nil {
				provides := ""
				for _, f := range defined[i][nextOf[e]].fields {
					if f.external && resolved[nextOf[e]+"."+f.name] && r.Intn(2) == 0 {
						provides = fmt.Sprintf(" @provides(fields: %q)", f.name)
						break
					}
				}
				fmt.Fprintf(&b, "  next: %s @shareable%s\n", nextOf[e], provides)
			}
			if i > 0 && r.Intn(5) == 0 {
				label := ""
				if r.Intn(2) == 0 {
					label = `, label: "percent(25)"`
				}
				fmt.Fprintf(&b, "  moved: Int @override(from: %q%s)\n", string(rune('a'+r.Intn(i))), label)
			} else if r.Intn(4) == 0 {
				fmt.Fprintf(&b, "  moved: Int @shareable\n")
			}
			b.WriteString("}\n")
		}
		subs = append(subs, Subgraph{Name: name, URL: "http://127.0.0.1:4999/" + name, SDL: b.String()})
	}
	return subs
}

// randomAbstractGraph builds 2 to 4 subgraphs around an interface Node
// (with or without @key), its implementations A1..A3, @interfaceObject
// copies of Node, and a union Result.
func randomAbstractGraph(r *rand.Rand) []Subgraph {
	n := 2 + r.Intn(3)
	impls := []string{"A1", "A2", "A3"}
	var subs []Subgraph
	for i := 0; i < n; i++ {
		name := string(rune('a' + i))
		var b strings.Builder
		b.WriteString(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@interfaceObject", "@external"])` + "\n")
		root := []string{"Node", "[Node]", "Result", "A1", "A2"}
		fmt.Fprintf(&b, "type Query {\n  q%s: %s @shareable\n}\n", name, root[r.Intn(len(root))])
		mode := r.Intn(4)
		if i == 0 {
			mode = 0
		}
		var here []string
		switch mode {
		case 0, 1: // the interface with some implementations
			key := ""
			if r.Intn(2) == 0 {
				key = ` @key(fields: "id")`
			}
			fmt.Fprintf(&b, "interface Node%s {\n  id: ID!\n  label: String\n}\n", key)
			for _, impl := range impls {
				if r.Intn(3) == 0 && !(i == 0 && impl == "A1") {
					continue
				}
				here = append(here, impl)
				fmt.Fprintf(&b, "type %s implements Node @key(fields: \"id\") {\n  id: ID!\n  label: String @shareable\n  only%s%s: Int\n}\n", impl, impl, name)
			}
		case 2: // an @interfaceObject
			fmt.Fprintf(&b, "type Node @key(fields: \"id\") @interfaceObject {\n  id: ID!\n  extra%s: Int\n}\n", name)
		case 3: // implementations only, as entities
			for _, impl := range impls {
				if r.Intn(2) == 0 {
					continue
				}
				here = append(here, impl)
				fmt.Fprintf(&b, "type %s @key(fields: \"id\") {\n  id: ID!\n  more%s%s: Int\n}\n", impl, impl, name)
			}
		}
		if len(here) > 0 && r.Intn(2) == 0 {
			fmt.Fprintf(&b, "union Result = %s\n", strings.Join(here, " | "))
		}
		sdl := b.String()
		for _, t := range []string{"Node", "Result", "A1", "A2"} {
			if !strings.Contains(sdl, "type "+t+" ") && !strings.Contains(sdl, "interface "+t+" ") && !strings.Contains(sdl, "union "+t+" ") {
				sdl = strings.ReplaceAll(sdl, ": "+t+" @shareable", ": Int @shareable")
				sdl = strings.ReplaceAll(sdl, ": ["+t+"] @shareable", ": Int @shareable")
			}
		}
		subs = append(subs, Subgraph{Name: name, URL: "http://127.0.0.1:4999/" + name, SDL: sdl})
	}
	return subs
}

// TestRandomDifferential composes COMPOSE_RANDOM random subgraph sets with
// this package and with @apollo/composition, and reports where the verdict,
// the error codes or the supergraph differ. A development aid: it runs
// only when COMPOSE_RANDOM is set (and node with the oracle is there).
func TestRandomDifferential(t *testing.T) {
	count, _ := strconv.Atoi(os.Getenv("COMPOSE_RANDOM"))
	if count == 0 {
		t.Skip("COMPOSE_RANDOM not set")
	}
	if _, err := os.Stat("../../scripts/compose/node_modules/@apollo/composition"); err != nil {
		t.Skip("no @apollo/composition")
	}
	seed, _ := strconv.ParseInt(os.Getenv("COMPOSE_SEED"), 10, 64)
	r := rand.New(rand.NewSource(seed))
	dir := t.TempDir()
	if keep := os.Getenv("COMPOSE_RANDOM_DIR"); keep != "" {
		dir = keep
	}
	sets := make([][]Subgraph, count)
	args := []string{"../../scripts/compose/oracle.mjs", "--json"}
	for i := range sets {
		switch os.Getenv("COMPOSE_RANDOM_KIND") {
		case "entities":
			sets[i] = randomEntityGraph(r)
		case "abstract":
			sets[i] = randomAbstractGraph(r)
		default:
			sets[i] = randomSubgraphs(r)
		}
		d := filepath.Join(dir, strconv.Itoa(i))
		os.MkdirAll(d, 0o755)
		for _, s := range sets[i] {
			os.WriteFile(filepath.Join(d, s.Name+".graphql"), []byte(s.SDL), 0o644)
		}
		args = append(args, d)
	}
	cmd := exec.Command("node", args...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	valid, agree, exact := 0, 0, 0
	for i, line := range lines {
		var apollo struct {
			Codes      []string `json:"codes"`
			Supergraph string   `json:"supergraph"`
			Errors     []string `json:"errors"`
		}
		json.Unmarshal(line, &apollo)
		res, cerr := Compose(sets[i])
		var list Errors
		errors.As(cerr, &list)
		ours := strings.Join(list.Codes(), " ")
		theirs := strings.Join(apollo.Codes, " ")
		shared := false
		for _, c := range list.Codes() {
			shared = shared || containsString(apollo.Codes, c)
		}
		switch {
		case (cerr == nil) != (len(apollo.Codes) == 0) || (cerr != nil && !shared):
			t.Errorf("case %d: codes ours [%s] Apollo [%s]\nApollo: %s\nours: %v", i, ours, theirs, strings.Join(apollo.Errors, "\n"), cerr)
		case cerr == nil && strings.TrimSpace(res.SDL) != strings.TrimSpace(apollo.Supergraph):
			t.Errorf("case %d: supergraphs differ\n%s", i, golden.Diff(strings.TrimSpace(apollo.Supergraph), strings.TrimSpace(res.SDL)))
		default:
			agree++
			if ours == theirs {
				exact++
			}
		}
		if len(apollo.Codes) == 0 {
			valid++
		}
	}
	t.Logf("%d of %d random cases agree on the verdict and a shared error code, %d on the exact code set (%d valid for Apollo)", agree, len(lines), exact, valid)
}

// TestDirsDifferential composes every directory matching COMPOSE_DIFF_DIRS
// (a glob; each directory holds subgraph *.graphql files) with this package
// and with @apollo/composition, and reports disagreements. A development
// aid for schemas that may not be committed.
func TestDirsDifferential(t *testing.T) {
	pattern := os.Getenv("COMPOSE_DIFF_DIRS")
	if pattern == "" {
		t.Skip("COMPOSE_DIFF_DIRS not set")
	}
	dirs, _ := filepath.Glob(pattern)
	args := []string{"../../scripts/compose/oracle.mjs", "--json"}
	sets := map[string][]Subgraph{}
	for _, d := range dirs {
		files, _ := filepath.Glob(filepath.Join(d, "*.graphql"))
		sort.Strings(files)
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".graphql")
			data, _ := os.ReadFile(f)
			sets[d] = append(sets[d], Subgraph{Name: name, URL: "http://127.0.0.1:4999/" + name, SDL: string(data)})
		}
		args = append(args, d)
	}
	out, err := exec.Command("node", args...).Output()
	if err != nil {
		t.Fatal(err)
	}
	agree, valid := 0, 0
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var apollo struct {
			Dir        string   `json:"dir"`
			Codes      []string `json:"codes"`
			Supergraph string   `json:"supergraph"`
			Errors     []string `json:"errors"`
		}
		json.Unmarshal(line, &apollo)
		res, cerr := Compose(sets[apollo.Dir])
		var list Errors
		errors.As(cerr, &list)
		shared := false
		for _, c := range list.Codes() {
			shared = shared || containsString(apollo.Codes, c)
		}
		switch {
		case (cerr == nil) != (len(apollo.Codes) == 0) || (cerr != nil && !shared):
			t.Errorf("%s: codes ours %v Apollo %v\nApollo: %s\nours: %v", apollo.Dir, list.Codes(), apollo.Codes, strings.Join(apollo.Errors, "\n"), cerr)
		case cerr == nil && strings.TrimSpace(res.SDL) != strings.TrimSpace(apollo.Supergraph):
			t.Errorf("%s: supergraphs differ\n%s", apollo.Dir, golden.Diff(strings.TrimSpace(apollo.Supergraph), strings.TrimSpace(res.SDL)))
		default:
			agree++
		}
		if len(apollo.Codes) == 0 {
			valid++
		}
	}
	t.Logf("%d of %d directories agree (%d valid for Apollo)", agree, len(dirs), valid)
}
