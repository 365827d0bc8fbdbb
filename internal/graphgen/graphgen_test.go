package graphgen

import (
	"regexp"
	"strings"
	"testing"
)

func TestDeterministic(t *testing.T) {
	for seed := int64(0); seed < 20; seed++ {
		a, b := Generate(seed).Text(), Generate(seed).Text()
		if a != b {
			t.Fatalf("seed %d gives two graphs", seed)
		}
	}
	if Generate(1).Text() == Generate(2).Text() {
		t.Fatal("seeds 1 and 2 give one graph")
	}
}

// TestFeatures: over 100 seeds, each shape the generator is for occurs
// in several graphs.
func TestFeatures(t *testing.T) {
	features := []struct {
		name string
		re   *regexp.Regexp
	}{
		{"single key", regexp.MustCompile(`@key\(fields: "id"\)`)},
		{"compound key", regexp.MustCompile(`@key\(fields: "id sku"\)`)},
		{"nested key", regexp.MustCompile(`@key\(fields: "id loc \{ code zone \}"\)`)},
		{"two keys", regexp.MustCompile(`@key\(fields: "[^"]+"\) @key\(fields: "upc"\)`)},
		{"upc key alone", regexp.MustCompile(`(?m)^type \w+ @key\(fields: "upc"\) \{`)},
		{"resolvable false", regexp.MustCompile(`resolvable: false`)},
		{"shareable field", regexp.MustCompile(`(?m)^  \w+(\(.*\))?: .* @shareable`)},
		{"shareable value type", regexp.MustCompile(`type Point @shareable`)},
		{"split value type", regexp.MustCompile(`type \w+Stats @shareable`)},
		{"requires", regexp.MustCompile(`@requires\(fields: "\w+"\)`)},
		{"requires nested", regexp.MustCompile(`@requires\(fields: "[^"]*\{[^"]*"\)`)},
		{"requires arguments", regexp.MustCompile(`@requires\(fields: "[^"]*\(\w+: [^"]*"\)`)},
		{"requires two fields", regexp.MustCompile(`@requires\(fields: "\w+(\([^)]*\))?( \{[^}]*\})? \w+`)},
		{"provides", regexp.MustCompile(`@provides\(fields: "\w+"\)`)},
		{"override", regexp.MustCompile(`@override\(from: "\w"\)`)},
		{"progressive override", regexp.MustCompile(`@override\(from: "\w", label: "percent\(\d+\)"\)`)},
		{"inaccessible", regexp.MustCompile(`(?m)^  .*@inaccessible`)},
		{"entity interface", regexp.MustCompile(`interface Account @key`)},
		{"interfaceObject", regexp.MustCompile(`@interfaceObject \{`)},
		{"value interface", regexp.MustCompile(`interface Media \{`)},
		{"entity implementing Media", regexp.MustCompile(`(?m)^type (Product|User|Review|Store|Order) implements Media`)},
		{"union", regexp.MustCompile(`union Result = \w+ \|`)},
		{"list of lists", regexp.MustCompile(`\[\[\w+!\]\]`)},
		{"non-null list of non-null", regexp.MustCompile(`\[\w+!\]!`)},
		{"argument default", regexp.MustCompile(`\(x: Int = 3\)`)},
		{"input object default", regexp.MustCompile(`f: Filter = \{min: 1\}`)},
		{"enum", regexp.MustCompile(`enum Color`)},
		{"mutation", regexp.MustCompile(`type Mutation`)},
		{"requires an entity key", regexp.MustCompile(`@requires\(fields: "[^"]*\{ id \}[^"]*"\)`)},
		{"nullable copy of a shared field", regexp.MustCompile(`(?m)^  \w+(\(.*\))?: [^!\s]*[^!\s] @shareable`)},
		{"argument of one subgraph", regexp.MustCompile(`extra: Int\)`)},
		{"input field of one subgraph", regexp.MustCompile(`(?m)^  max: Int$`)},
		{"requires chain", regexp.MustCompile(`@requires\(fields: "[^"]*needs\d+`)},
		{"entity interface below an entity", regexp.MustCompile(`(?m)^  [a-z]\d+(\(.*\))?: \[*Account`)},
		{"shareable root field", regexp.MustCompile(`(?m)^  shared\w+: .* @shareable`)},
		{"interface Node", regexp.MustCompile(`(?m)^type \w+ implements (\w+ & )*Node\b`)},
		{"interface implementing an interface", regexp.MustCompile(`interface Named implements Node`)},
		{"entity interface implementing Node", regexp.MustCompile(`interface Account implements Node @key`)},
		{"entity interface in two subgraphs", regexp.MustCompile(`(?s)interface Account @key.*# subgraph.*interface Account (implements Node )?@key`)},
		{"requires on an interfaceObject", regexp.MustCompile(`rated\d+: .* @requires\(fields: "handle`)},
		{"input field default in some subgraphs", regexp.MustCompile(`(?m)^  color: Color$`)},
		{"argument default in some copies", regexp.MustCompile(`(?m)^  \w+\((x: Int|c: Color, n: Int|f: Filter, s: String)(, extra: Int)?\): .*@shareable`)},
		{"nested provides", regexp.MustCompile(`@provides\(fields: "\w+ \{ \w+ \}"\)`)},
		{"tag", regexp.MustCompile(`@tag\(name: "[\w-]+"\)`)},
		{"tag on an enum value", regexp.MustCompile(`(?m)^  [A-Z]+ @tag`)},
		{"deprecated field", regexp.MustCompile(`(?m)^  \w+(\(.*\))?: .*@deprecated`)},
		{"deprecated argument", regexp.MustCompile(`= [^,)]+ @deprecated[^,)]*[,)]`)},
		{"deprecated enum value", regexp.MustCompile(`(?m)^  [A-Z]+ .*@deprecated`)},
		{"cost", regexp.MustCompile(`@cost\(weight: \d+\)`)},
		{"listSize slicing", regexp.MustCompile(`@listSize\(slicingArguments: \["first"\]`)},
		{"listSize assumed", regexp.MustCompile(`@listSize\(assumedSize: \d+\)`)},
		{"authenticated", regexp.MustCompile(`@authenticated`)},
		{"requiresScopes", regexp.MustCompile(`@requiresScopes\(scopes:`)},
		{"policy", regexp.MustCompile(`@policy\(policies:`)},
		{"context", regexp.MustCompile(`@context\(name: "shelf"\)`)},
		{"fromContext", regexp.MustCompile(`@fromContext\(field: "\$shelf`)},
		{"inaccessible type", regexp.MustCompile(`(?m)^type \w+Secret @inaccessible \{`)},
		{"requires of an inaccessible field", regexp.MustCompile(`@requires\(fields: "secret\d+ \{ code`)},
		{"external type", regexp.MustCompile(`(?m)^type \w+Secret @external \{`)},
		{"requires through a list of values", regexp.MustCompile(`@requires\(fields: "list\d+ \{ (x|tags)`)},
		{"requires through a list of entities", regexp.MustCompile(`@requires\(fields: "list\d+ \{ id \}"\)`)},
		{"list of lists in requires", regexp.MustCompile(`(?m)^  list\d+: \[\[Point!\]\] @external`)},
		{"provides on an abstract type", regexp.MustCompile(`@provides\(fields: "\.\.\. on \w+ \{ \w+ \}"\)`)},
		{"provides on an entity interface", regexp.MustCompile(`: \[*Account[!\]]* @provides\(fields: "\.\.\. on`)},
		{"mutations in two subgraphs", regexp.MustCompile(`(?s)type Mutation \{.*# subgraph.*type Mutation \{`)},
		{"mutation returning lists of lists", regexp.MustCompile(`(?m)^  batch[A-E]\d+\(n: Int! = 2\): \[\[`)},
		{"inaccessible argument", regexp.MustCompile(`\(\w+: [^)]*[\w\]\}"] @inaccessible`)},
		{"inaccessible input field", regexp.MustCompile(`(?m)^  tags: \[String!\] @inaccessible`)},
		{"inaccessible implementation", regexp.MustCompile(`(?m)^type [A-Z][a-z]+ implements Media( @tag\(name: "[\w-]+"\))?( @cost\(weight: \d+\))? @inaccessible \{`)},
		{"inaccessible key field", regexp.MustCompile(`(?m)^  upc: String! .*@inaccessible`)},
		{"provides on a mutation field", regexp.MustCompile(`(?m)^  (create|batch|touch)\w+\(.*\): .* @provides\(`)},
		{"inaccessible enum value", regexp.MustCompile(`(?m)^  VIOLET @inaccessible$`)},
		{"key chain id to sn", regexp.MustCompile(`type Part @key\(fields: "id"\) @key\(fields: "sn"\)`)},
		{"key chain sn to code", regexp.MustCompile(`type Part @key\(fields: "sn"\) @key\(fields: "code"\)`)},
		{"key chain of four", regexp.MustCompile(`(?m)^type Part @key\(fields: "code"\) \{`)},
		{"key chain back", regexp.MustCompile(`(?m)^  next\d+: \[*Part`)},
		{"key through an entity", regexp.MustCompile(`@key\(fields: "(id )?org \{ id \}( num)?"\)`)},
		{"key through an entity's value type", regexp.MustCompile(`@key\(fields: "(id )?org \{ id region \{ code \} \}( num)?"\)`)},
		{"input enum values differing", regexp.MustCompile(`(?s)enum Size \{\n  SMALL\n  MEDIUM\n\}.*enum Size \{\n  SMALL\n  MEDIUM\n  [LH]|enum Size \{\n  SMALL\n  MEDIUM\n  [LH].*enum Size \{\n  SMALL\n  MEDIUM\n\}`)},
		{"input object fields differing", regexp.MustCompile(`(?s)input Dims \{\n  w: Int!\n  h: Int\n.*input Dims \{\n  w: Int!\n  [^h]|input Dims \{\n  w: Int!\n  [^h].*input Dims \{\n  w: Int!\n  h: Int\n`)},
		{"custom override label", regexp.MustCompile(`@override\(from: "\w", label: "(beta|feature:newPrices|canary\.v2-b)"\)`)},
		{"fractional percent label", regexp.MustCompile(`label: "percent\(\d+\.\d+\)"`)},
		{"composeDirective", regexp.MustCompile(`@composeDirective\(name: "@audit"\)`)},
		{"composed directive applied", regexp.MustCompile(`(?m)^  \w+.* @audit`)},
		{"composed directive defined differently", regexp.MustCompile(`directive @audit\(level: Int = 1, note: String\)`)},
		{"composed directive of a later version", regexp.MustCompile(`https://fedgate\.dev/audit/v1\.1`)},
		{"context on an interface", regexp.MustCompile(`interface Holder @context\(name: "holder"\)`)},
		{"context on a union", regexp.MustCompile(`union Holder @context\(name: "holder"\)`)},
		{"context on two objects", regexp.MustCompile(`type Crate @key\(fields: "id"\) @context\(name: "holder"\)`)},
		{"context two hops down", regexp.MustCompile(`tag\((n: Int = 1, )?in: String @fromContext`)},
		{"provides three levels deep", regexp.MustCompile(`@provides\(fields: "\w+ \{ \w+ \{ \w+ \} \}"\)`)},
		{"key fields from two subgraphs", regexp.MustCompile(`type Crew @key\(fields: "(id berth \{ code \}|berth \{ code \} id)"\)`)},
		{"scopes differing per subgraph", regexp.MustCompile(`(?s)@shareable[^\n]*@requiresScopes\(scopes: (\[\[[^\n]*\]\])\).*@shareable[^\n]*@requiresScopes\(scopes: (\[\[[^\n]*\]\])\)`)},
	}
	counts := map[string]int{}
	subgraphCounts := map[int]int{}
	for seed := int64(0); seed < 100; seed++ {
		g := GenerateWith(seed, All)
		subgraphCounts[len(g.Subgraphs)]++
		text := g.Text()
		for _, f := range features {
			if f.re.MatchString(text) {
				counts[f.name]++
			}
		}
	}
	for _, f := range features {
		if counts[f.name] < 3 {
			t.Errorf("%s: in %d of 100 graphs, want at least 3", f.name, counts[f.name])
		}
	}
	for n := 2; n <= 5; n++ {
		if subgraphCounts[n] == 0 {
			t.Errorf("no graph of %d subgraphs", n)
		}
	}
	t.Logf("graphs with each feature (of 100): %v; by subgraph count: %v", counts, subgraphCounts)
}

// TestChainsBounce: some entity field leads to a type resolved by another
// subgraph whose own fields lead back.
func TestChainsBounce(t *testing.T) {
	ref := regexp.MustCompile(`(?m)^  (\w+)(?:\([^)]*\))?: \[*(Product|User|Review|Store|Order)[!\]]*`)
	bounces := 0
	for seed := int64(0); seed < 50; seed++ {
		// edges[type in subgraph] -> referenced types
		for _, s := range Generate(seed).Subgraphs {
			for _, block := range strings.Split(s.SDL, "\n\n") {
				if !strings.HasPrefix(block, "type Product") && !strings.HasPrefix(block, "type User") {
					continue
				}
				if len(ref.FindAllString(block, -1)) > 0 {
					bounces++
				}
			}
		}
	}
	if bounces < 20 {
		t.Errorf("%d entity types refer to entities, want at least 20", bounces)
	}
}

// TestManySeeds generates far more graphs than the composition tests
// compose (a generator panic on a rare draw showed at seed 1954 only).
func TestManySeeds(t *testing.T) {
	for seed := int64(0); seed < 5000; seed++ {
		if len(GenerateWith(seed, All).Subgraphs) < 2 {
			t.Fatalf("seed %d: fewer than 2 subgraphs", seed)
		}
	}
}
