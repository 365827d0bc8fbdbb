package difftest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/difftest"
	"github.com/fedgate/gateway/internal/fixturesub"
	"github.com/fedgate/gateway/internal/opgen"
)

// shapes are the answers the leaf_coercion subgraph plants, by the name
// a field's shape argument gives.
var shapes = map[string]string{
	"string": `"abc"`, "numeric": `"12"`, "decimal": `"1.5"`, "empty": `""`, "spaced": `" 12 "`,
	"hex": `"0x10"`, "infinity": `"Infinity"`, "blank": `"  "`, "exp-string": `"1e3"`, "true-string": `"true"`,
	"int": `5`, "zero": `0`, "negzero": `-0`, "float": `1.5`, "exp": `1e3`, "intfloat": `5.0`, "big": `12345678901234567890`,
	"huge": `1e21`, "tiny": `1e-7`, "small": `0.000001`, "beyond": `2147483648`, "bigfloat": `1.7976931348623157e308`,
	"true": `true`, "false": `false`, "object": `{"a":1,"b":"x"}`, "emptyobject": `{}`, "list": `[1,"x"]`,
	"emptylist": `[]`, "nested": `[[["x"]]]`, "deepobject": `{"a":{"b":{"c":{"d":1}}}}`, "longlist": `[1,2,3,4,5,6,7,8,9,10,11,12]`,
	"RED": `"RED"`, "HIDDEN": `"HIDDEN"`, "PURPLE": `"PURPLE"`, "red": `"red"`, "null": `null`,
	"escaped": `"a\"b\n"`, "items": `["a",1,true,null,{"x":1},[2]]`, "iditems": `[[1,"x",1.5],[true]]`,
	"intitems": `[1,"2",true,1.5]`, "coloritems": `["RED","HIDDEN",1]`,
	"thingobj": `{"name":"n"}`, "thinglist": `[{"name":"n"}]`, "thingstring": `"n"`,
}

func TestLeafCoercionExplore(t *testing.T) {
	if _, err := os.Stat("js/node_modules/@apollo/gateway"); err != nil {
		t.Skip("no apollo")
	}
	sdl, err := os.ReadFile(filepath.Join("..", "..", "testdata", "supergraphs", "leaf_coercion.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	plant := func(typ, field, args string) (string, bool) {
		var a struct{ Shape string }
		if json.Unmarshal([]byte(args), &a) != nil || a.Shape == "" {
			return "", false
		}
		raw, ok := shapes[a.Shape]
		return raw, ok
	}
	g, err := start(t, graphSource{name: "leaf_coercion", sdl: string(sdl)}, fixturesub.WithAnswers(plant))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, g.name+".graphql"), []byte(g.refSDL), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := difftest.ReferenceOptions{StartTimeout: 120 * time.Second, Deadline: 20 * time.Second}
	apollo, err := difftest.StartReference("apollo", "js/refgw.mjs", dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(apollo.Stop)
	hive, err := difftest.StartReference("hive", "hive/refgw.mjs", dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hive.Stop)
	dg := &difftest.Graph{Name: g.name, Fedgate: difftest.Endpoint{Name: "fedgate", URL: g.fedgate},
		Refs: []difftest.Endpoint{{Name: "apollo", URL: apollo.URL(g.name)}, {Name: "hive", URL: hive.URL(g.name)}}}
	r := &difftest.Runner{}
	fields := []string{"string", "int", "float", "boolean", "id", "color", "json"}
	var queries []string
	for _, f := range fields {
		for s := range shapes {
			if len(s) > 4 && (s[:4] == "thin" || s[len(s)-5:] == "items") {
				continue
			}
			queries = append(queries, `{ `+f+`(shape: "`+s+`") }`)
		}
	}
	for _, f := range fields {
		for _, s := range []string{"int", "string", "object", "true", "HIDDEN", "float", "numeric"} {
			queries = append(queries, `{ strict { `+f+`(shape: "`+s+`") } }`)
		}
	}
	for _, f := range []string{"strings", "ints", "ids", "colors"} {
		for _, s := range []string{"items", "iditems", "intitems", "coloritems", "string", "int", "object", "emptylist"} {
			queries = append(queries, `{ `+f+`(shape: "`+s+`") }`)
		}
	}
	for _, f := range []string{"thing", "things"} {
		for _, s := range []string{"thingobj", "thinglist", "thingstring", "int", "emptylist", "nested"} {
			queries = append(queries, `{ `+f+`(shape: "`+s+`") { name } }`)
		}
	}
	for _, q := range queries {
		op := opgen.Operation{Query: q}
		f := r.Ask(context.Background(), dg, op)
		a := difftestPost(r, dg.Refs[0].URL, op)
		h := difftestPost(r, dg.Refs[1].URL, op)
		t.Logf("Q %s\n  F %s\n  A %s\n  H %s", q, f.Body, a.Body, h.Body)
	}
}

func difftestPost(r *difftest.Runner, url string, op opgen.Operation) difftest.Result {
	g := &difftest.Graph{Fedgate: difftest.Endpoint{URL: url}}
	return r.Ask(context.Background(), g, op)
}
