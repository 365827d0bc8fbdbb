package executor

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/fedgate/gateway/internal/jsonvalue"
)

// TestPositionsWalkMatchesWalkPath checks remembered positions against
// walking from the root: random documents over a few keys, random Flatten
// paths, and random merges into random objects in between (new keys, nulls
// becoming objects, lists replaced or filled in). After every merge, each
// path must lead to the same objects, in the same order, as walkPath.
// Each seed's positions are released at its end, so the next one walks
// with the value lists the earlier ones emptied (forgotten paths' lists
// are reused within a seed too).
func TestPositionsWalkMatchesWalkPath(t *testing.T) {
	for seed := int64(1); seed <= 300; seed++ {
		rng := rand.New(rand.NewSource(seed))
		var p jsonvalue.Parser
		root, err := p.Parse([]byte(randomJSON(rng, 0)))
		if err != nil {
			t.Fatal(err)
		}
		if root.Type() != jsonvalue.TypeObject {
			continue
		}
		var pos positions
		var srcParsers []*jsonvalue.Parser
		paths := make([][]string, 4)
		for i := range paths {
			paths[i] = randomPath(rng)
		}
		for step := 0; step < 12; step++ {
			for _, path := range paths {
				want := collectWalk(func(fn func(*jsonvalue.Value)) { walkPath(root, path, fn) })
				got := collectWalk(func(fn func(*jsonvalue.Value)) { pos.walk(root, path, fn) })
				if !samePointers(got, want) {
					t.Fatalf("seed %d step %d path %s: remembered walk found %d objects, walkPath %d\ndata %s",
						seed, step, strings.Join(path, "."), len(got), len(want), root)
				}
			}
			// Merge a random answer into a random object, as an entity
			// fetch does.
			var objs []*jsonvalue.Value
			walkAll(root, func(v *jsonvalue.Value) { objs = append(objs, v) })
			sp := new(jsonvalue.Parser)
			srcParsers = append(srcParsers, sp)
			src, err := sp.Parse([]byte(randomJSON(rng, 0)))
			if err != nil {
				t.Fatal(err)
			}
			if src.Type() == jsonvalue.TypeObject && len(objs) > 0 {
				merge(objs[rng.Intn(len(objs))], src, &pos)
			}
		}
		pos.release()
		if len(pos.entries) != 0 || pos.lists != nil {
			t.Fatalf("seed %d: released positions still hold %d entries", seed, len(pos.entries))
		}
	}
}

// TestPositionsReuse checks that a path below a remembered one starts
// from the remembered values (and a set key under the path forgets it).
func TestPositionsReuse(t *testing.T) {
	var p jsonvalue.Parser
	root := mustParse(`{"users":[{"id":"1"},{"id":"2"}]}`)
	var pos positions
	var n int
	pos.walk(root, []string{"users", "@"}, func(*jsonvalue.Value) { n++ })
	if n != 2 || len(pos.entries) != 1 {
		t.Fatalf("walked %d objects, %d entries", n, len(pos.entries))
	}
	// Merging the users' reviews sets "reviews": users.@ stays.
	users := root.Get("users").Array()
	merge(users[0], mustParse(`{"reviews":[{"product":{"upc":"a"}}]}`), &pos)
	merge(users[1], mustParse(`{"reviews":[{"product":{"upc":"b"}},{"product":null}]}`), &pos)
	if len(pos.entries) != 1 {
		t.Fatalf("entries after merge: %d, want 1 (no path key was set)", len(pos.entries))
	}
	var upcs []string
	pos.walk(root, []string{"users", "@", "reviews", "@", "product"}, func(v *jsonvalue.Value) {
		upcs = append(upcs, v.Get("upc").Str())
	})
	if fmt.Sprint(upcs) != "[a b]" || len(pos.entries) != 2 {
		t.Fatalf("products %v, entries %d", upcs, len(pos.entries))
	}
	// The null product becomes an object: every path through "product"
	// is forgotten, and the next walk finds it.
	second := users[1].Get("reviews").Array()[1]
	answer, err := p.Parse([]byte(`{"product":{"upc":"c"}}`))
	if err != nil {
		t.Fatal(err)
	}
	merge(second, answer, &pos)
	if len(pos.entries) != 1 {
		t.Fatalf("entries after a product was set: %d, want 1", len(pos.entries))
	}
	upcs = nil
	pos.walk(root, []string{"users", "@", "reviews", "@", "product"}, func(v *jsonvalue.Value) {
		upcs = append(upcs, v.Get("upc").Str())
	})
	if fmt.Sprint(upcs) != "[a b c]" {
		t.Fatalf("products after merge %v", upcs)
	}
}

var testKeys = []string{"a", "b", "c"}

func randomPath(rng *rand.Rand) []string {
	var path []string
	for n := 1 + rng.Intn(5); len(path) < n; {
		if len(path) > 0 && path[len(path)-1] != "@" && rng.Intn(2) == 0 {
			path = append(path, "@")
			continue
		}
		path = append(path, testKeys[rng.Intn(len(testKeys))])
	}
	return path
}

func randomJSON(rng *rand.Rand, depth int) string {
	if depth > 3 {
		return []string{"null", "1", `"x"`}[rng.Intn(3)]
	}
	switch r := rng.Intn(10); {
	case r < 5 || depth == 0:
		var parts []string
		for _, k := range testKeys {
			if rng.Intn(3) > 0 {
				parts = append(parts, fmt.Sprintf("%q:%s", k, randomJSON(rng, depth+1)))
			}
		}
		return "{" + strings.Join(parts, ",") + "}"
	case r < 8:
		var parts []string
		for i := rng.Intn(4); i > 0; i-- {
			parts = append(parts, randomJSON(rng, depth+1))
		}
		return "[" + strings.Join(parts, ",") + "]"
	case r < 9:
		return "null"
	default:
		return `"s"`
	}
}

func collectWalk(walk func(func(*jsonvalue.Value))) []*jsonvalue.Value {
	var out []*jsonvalue.Value
	walk(func(v *jsonvalue.Value) { out = append(out, v) })
	return out
}

func samePointers(a, b []*jsonvalue.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// walkAll calls fn for every object in v.
func walkAll(v *jsonvalue.Value, fn func(*jsonvalue.Value)) {
	switch v.Type() {
	case jsonvalue.TypeObject:
		fn(v)
		for _, m := range v.Members() {
			walkAll(m.Value, fn)
		}
	case jsonvalue.TypeArray:
		for _, x := range v.Array() {
			walkAll(x, fn)
		}
	}
}

// TestPositionsOnPath: an answer is on a remembered path when one of its
// keys is a key of such a path ("@" is none).
func TestPositionsOnPath(t *testing.T) {
	var pos positions
	root := mustParse(`{"users":[{"reviews":[]}]}`)
	pos.walk(root, []string{"users", "@", "reviews"}, func(*jsonvalue.Value) {})
	for _, tc := range []struct {
		answer string
		want   bool
	}{
		{`{"reviews":null}`, true},
		{`{"name":"a","users":1}`, true},
		{`{"name":"a","id":"1"}`, false},
		{`{"@":1}`, false},
		{`{}`, false},
		{`[1]`, false},
	} {
		if got := pos.onPath(mustParse(tc.answer)); got != tc.want {
			t.Errorf("onPath(%s) = %v, want %v", tc.answer, got, tc.want)
		}
	}
}
