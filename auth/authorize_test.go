package auth

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

func loadAuthSupergraph(t testing.TB) *schema.Supergraph {
	t.Helper()
	sdl, err := os.ReadFile("../testdata/supergraphs/auth.graphql")
	if err != nil {
		t.Fatal(err)
	}
	sg, err := schema.Load(string(sdl))
	if err != nil {
		t.Fatal(err)
	}
	return sg
}

func normalize(t testing.TB, sg *schema.Supergraph, query string) *planner.Operation {
	t.Helper()
	doc, errs := gqlparser.LoadQuery(sg.API, query)
	if errs != nil {
		t.Fatalf("query: %v", errs)
	}
	op, err := planner.Normalize(sg.API, doc, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return op
}

// printSelection writes a selection compactly; abstract positions list
// each concrete type, unauthorized fields are marked with "!".
func printSelection(b *strings.Builder, sel *planner.SelectionSet, denied map[*planner.Field]bool) {
	b.WriteString("{")
	for i, tf := range sel.ByType {
		if sel.Abstract {
			if i > 0 {
				b.WriteString(" ")
			}
			b.WriteString(tf.Type + ":{")
		}
		for j, f := range tf.Fields {
			if j > 0 {
				b.WriteString(" ")
			}
			if denied[f] {
				b.WriteString("!")
			}
			b.WriteString(f.ResponseKey)
			if f.Selection != nil && !denied[f] {
				printSelection(b, f.Selection, denied)
			}
		}
		if sel.Abstract {
			b.WriteString("}")
		}
	}
	b.WriteString("}")
}

func printOp(op *planner.Operation, denied map[*planner.Field]bool) string {
	var b strings.Builder
	printSelection(&b, op.Selection, denied)
	return b.String()
}

// fingerprint prints every field of op with all its values (pointers as
// addresses), so that any change to it, in place or by replacing a
// pointer, shows.
func fingerprint(op *planner.Operation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%+v\n", *op)
	var walk func(*planner.SelectionSet)
	walk = func(sel *planner.SelectionSet) {
		fmt.Fprintf(&b, "%p %+v\n", sel, *sel)
		for _, tf := range sel.ByType {
			fmt.Fprintf(&b, "%p %+v\n", tf, *tf)
			for _, f := range tf.Fields {
				fmt.Fprintf(&b, "%p %+v\n", f, *f)
				if f.Selection != nil {
					walk(f.Selection)
				}
			}
		}
	}
	walk(op.Selection)
	return b.String()
}

func claimsCaller(scopes string, claims map[string]any) *Caller {
	c := &Caller{Authenticated: true, Subject: "u", Scopes: strings.Fields(scopes), Claims: map[string]any{"sub": "u"}}
	for k, v := range claims {
		c.Claims[k] = v
	}
	return c
}

var (
	anonymous   = &Caller{}
	plainUser   = claimsCaller("", nil)
	scopeA      = claimsCaller("a", nil)
	scopeB      = claimsCaller("b", nil)
	scopeBC     = claimsCaller("b c read:email", nil)
	finance     = claimsCaller("", map[string]any{"role": "finance"})
	financeList = claimsCaller("", map[string]any{"groups": []any{"staff", "payroll"}})
	notFinance  = claimsCaller("a b c read:email vault tokens", map[string]any{"role": "engineer"})
)

var testPolicies = map[string]PolicyConfig{
	"finance": {Claim: "role", Equals: "finance"},
	"admin":   {Claim: "groups", OneOf: []string{"admin", "root"}},
}

func TestAuthorizeOperation(t *testing.T) {
	sg := loadAuthSupergraph(t)
	a := NewAuthorizer(sg, AuthorizationConfig{Policies: testPolicies})
	cases := []struct {
		name   string
		query  string
		caller *Caller
		// plan is the operation planned, render the operation rendered
		// (unauthorized fields marked "!"), denied the denial paths.
		plan, render, denied string
	}{
		{"public field, anonymous", `{ publicNote users { id name } }`, anonymous,
			`{publicNote users{id name}}`, `{publicNote users{id name}}`, ``},
		{"@authenticated root field, anonymous", `{ me { id name } publicNote }`, anonymous,
			`{publicNote}`, `{!me publicNote}`, `me`},
		{"@authenticated root field, authenticated", `{ me { id name } }`, plainUser,
			`{me{id name}}`, `{me{id name}}`, ``},
		{"only unauthorized root field keeps __typename", `{ me { id } }`, anonymous,
			`{__typename}`, `{!me}`, `me`},
		{"@requiresScopes OR: a suffices", `{ users { ssn } }`, scopeA,
			`{users{ssn}}`, `{users{ssn}}`, ``},
		{"@requiresScopes AND: b alone is not enough", `{ users { id ssn } }`, scopeB,
			`{users{id}}`, `{users{id !ssn}}`, `users.@.ssn`},
		{"@requiresScopes AND: b and c", `{ users { ssn email } }`, scopeBC,
			`{users{ssn email}}`, `{users{ssn email}}`, ``},
		{"empty object keeps __typename", `{ users { email } }`, plainUser,
			`{users{__typename}}`, `{users{!email}}`, `users.@.email`},
		{"aliases are the paths", `{ all: users { mail: email n: name } }`, anonymous,
			`{all{n}}`, `{all{!mail n}}`, `all.@.mail`},
		{"@policy granted by an equal claim", `{ users { salary } }`, finance,
			`{users{salary}}`, `{users{salary}}`, ``},
		{"@policy refused on another claim value", `{ users { salary } }`, notFinance,
			`{users{__typename}}`, `{users{!salary}}`, `users.@.salary`},
		{"@policy refused to anonymous", `{ users { id salary } }`, anonymous,
			`{users{id}}`, `{users{id !salary}}`, `users.@.salary`},
		{"type-level @authenticated protects the field returning it", `{ users { badge { level } } }`, anonymous,
			`{users{__typename}}`, `{users{!badge}}`, `users.@.badge`},
		{"type-level @authenticated, authenticated", `{ users { badge { level } } }`, plainUser,
			`{users{badge{level}}}`, `{users{badge{level}}}`, ``},
		{"scalar with @requiresScopes", `{ token publicNote }`, scopeA,
			`{publicNote}`, `{!token publicNote}`, `token`},
		{"scalar with @requiresScopes, granted", `{ token }`, claimsCaller("tokens", nil),
			`{token}`, `{token}`, ``},
		{"enum with @policy", `{ roles }`, finance,
			`{__typename}`, `{!roles}`, `roles`},
		{"enum with @policy, granted by a list claim", `{ roles }`, claimsCaller("", map[string]any{"groups": []any{"x", "root"}}),
			`{roles}`, `{roles}`, ``},
		{"union member type protected", `{ search(text: "x") { __typename ... on User { name } ... on Vault { id contents } } }`, plainUser,
			`{search{User:{__typename name} Vault:{__typename}}}`, `{search{User:{__typename name} Vault:{__typename !id !contents}}}`,
			`search.@.id search.@.contents`},
		{"union member type, granted", `{ search(text: "x") { ... on Vault { contents } } }`, claimsCaller("vault", nil),
			`{search{User:{} Vault:{contents}}}`, `{search{User:{} Vault:{contents}}}`, ``},
		// Composition puts Vault's requirement on the interface Node too,
		// so a field returning Node needs it.
		{"interface carrying its implementation's requirement", `{ node(id: "1") { id } }`, anonymous,
			`{__typename}`, `{!node}`, `node`},
		{"interface: implementation field protected", `{ node(id: "1") { id ... on User { email } } }`, claimsCaller("vault", nil),
			`{node{User:{id} Vault:{id}}}`, `{node{User:{id !email} Vault:{id}}}`, `node.email`},
		{"nested list under entity field", `{ users { reviews { body internalNote } } }`, plainUser,
			`{users{reviews{body}}}`, `{users{reviews{body !internalNote}}}`, `users.@.reviews.@.internalNote`},
		{"protected field above a protected field reports the top one", `{ users { reviews { internalNote } } }`, anonymous,
			`{users{__typename}}`, `{users{!reviews}}`, `users.@.reviews`},
		{"fragments and aliases merge before authorization", `{ users { ...F e2: email } } fragment F on User { email id }`, anonymous,
			`{users{id}}`, `{users{!email id !e2}}`, `users.@.email users.@.e2`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			op := normalize(t, sg, c.query)
			before := fingerprint(op)
			res := a.Authorize(op, a.Grants(c.caller))
			if fingerprint(op) != before {
				t.Error("Authorize changed the client's operation")
			}
			if got := printOp(res.Plan, nil); got != c.plan {
				t.Errorf("planned  %s\n want    %s", got, c.plan)
			}
			if got := printOp(op, res.DeniedFields); got != c.render {
				t.Errorf("rendered %s\n want    %s", got, c.render)
			}
			var paths []string
			for _, d := range res.Denied {
				var parts []string
				for _, p := range d.Path {
					parts = append(parts, fmt.Sprint(p))
				}
				paths = append(paths, strings.Join(parts, "."))
			}
			if got := strings.Join(paths, " "); got != c.denied {
				t.Errorf("denied %q, want %q", got, c.denied)
			}
			if (res.Plan == op) != (c.denied == "") {
				t.Error("the planned operation must be a copy exactly when something was denied")
			}
		})
	}
}

func TestGrantsKey(t *testing.T) {
	sg := loadAuthSupergraph(t)
	a := NewAuthorizer(sg, AuthorizationConfig{Policies: testPolicies})
	// Scopes the schema never names do not split the plan cache; ones it
	// names do; so do authentication and policies.
	same := [][2]*Caller{
		{claimsCaller("a", nil), claimsCaller("a unrelated:scope", nil)},
		{finance, claimsCaller("", map[string]any{"role": "finance", "other": 1})},
		{plainUser, claimsCaller("x y z", nil)},
	}
	for _, p := range same {
		if ka, kb := a.Grants(p[0]).Key, a.Grants(p[1]).Key; ka != kb {
			t.Errorf("keys differ: %s vs %s", ka, kb)
		}
	}
	distinct := []*Caller{anonymous, plainUser, scopeA, scopeB, scopeBC, finance, notFinance,
		claimsCaller("", map[string]any{"groups": []any{"admin"}})}
	seen := map[string]int{}
	for i, c := range distinct {
		k := a.Grants(c).Key
		if j, dup := seen[k]; dup {
			t.Errorf("callers %d and %d share the grants key %s", j, i, k)
		}
		seen[k] = i
	}
	_ = financeList
}

func TestIntrospectionScope(t *testing.T) {
	sg := loadAuthSupergraph(t)
	a := NewAuthorizer(sg, AuthorizationConfig{IntrospectionScope: "introspect"})
	q := `{ __schema { queryType { name } } __typename publicNote }`
	op := normalize(t, sg, q)
	res := a.Authorize(op, a.Grants(plainUser))
	if got := printOp(op, res.DeniedFields); got != `{!__schema __typename publicNote}` {
		t.Errorf("without the scope: %s", got)
	}
	if len(res.Denied) != 1 {
		t.Errorf("denied %v", res.Denied)
	}
	op = normalize(t, sg, q)
	if res := a.Authorize(op, a.Grants(claimsCaller("introspect", nil))); len(res.Denied) != 0 {
		t.Errorf("with the scope: denied %v", res.Denied)
	}
}

func TestRejectMode(t *testing.T) {
	sg := loadAuthSupergraph(t)
	a := NewAuthorizer(sg, AuthorizationConfig{RejectUnauthorized: true})
	res := a.Authorize(normalize(t, sg, `{ me { id } publicNote }`), a.Grants(anonymous))
	rej := a.Rejection(res)
	if rej == nil || rej.HTTPStatus() != 403 || rej.ExtensionCode() != UnauthorizedCode || len(rej.Denied) != 1 {
		t.Fatalf("rejection %+v", rej)
	}
	if res := a.Authorize(normalize(t, sg, `{ publicNote }`), a.Grants(anonymous)); a.Rejection(res) != nil {
		t.Error("an allowed operation was rejected")
	}
}

// TestRenamedImports reads the directives under the names a supergraph's
// @link gives them.
func TestRenamedImports(t *testing.T) {
	sdl, err := os.ReadFile("../testdata/supergraphs/auth.graphql")
	if err != nil {
		t.Fatal(err)
	}
	s := string(sdl)
	s = strings.Replace(s, `@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)`,
		`@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", import: [{name: "@requiresScopes", as: "@needs"}], for: SECURITY)`, 1)
	s = strings.ReplaceAll(s, "@requiresScopes(", "@needs(")
	s = strings.Replace(s, "directive @needs(", "directive @needs(", 1)
	s = strings.Replace(s, `@link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)`,
		`@link(url: "https://specs.apollo.dev/authenticated/v0.1", as: "loggedIn", for: SECURITY)`, 1)
	s = strings.ReplaceAll(s, "@authenticated", "@loggedIn")
	sg, err := schema.Load(s)
	if err != nil {
		t.Fatal(err)
	}
	names := linkedNames(sg.Full)
	if names.requiresScopes != "needs" || names.authenticated != "loggedIn" || names.policy != "policy" {
		t.Fatalf("names %+v", names)
	}
	a := NewAuthorizer(sg, AuthorizationConfig{})
	op := normalize(t, sg, `{ me { id } users { email ssn } }`)
	before := printOp(op, nil)
	res := a.Authorize(op, a.Grants(anonymous))
	if got := printOp(op, res.DeniedFields); got != `{!me users{!email !ssn}}` {
		t.Errorf("rendered %s", got)
	}
	// Authorization is an input to planning: the operation is unchanged.
	if after := printOp(op, nil); after != before {
		t.Errorf("Authorize changed the operation: %s, was %s", after, before)
	}
	// The renamed directives are not in the API schema.
	for _, d := range []string{"needs", "loggedIn", "requiresScopes", "authenticated", "policy"} {
		if sg.API.Directives[d] != nil {
			t.Errorf("@%s is in the API schema", d)
		}
	}
	_ = ast.Object
}

func BenchmarkAuthorize(b *testing.B) {
	sg := loadAuthSupergraph(b)
	a := NewAuthorizer(sg, AuthorizationConfig{Policies: testPolicies})
	g := a.Grants(scopeB)
	q := `{ users { id name email ssn salary badge { level } reviews { body internalNote } } publicNote }`
	ops := make([]*planner.Operation, b.N)
	for i := range ops {
		ops[i] = normalize(b, sg, q)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a.Authorize(ops[i], g)
	}
}
