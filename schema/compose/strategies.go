package compose

import (
	"sort"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// Some carried directives are merged into one application whose arguments
// combine every subgraph's, the way Apollo's composition does:
//
//   - @requiresScopes(scopes:) and @policy(policies:) are lists of
//     alternatives (OR) of requirements (AND); the merge is the conjunction
//     of all of them, with duplicate and subsumed alternatives dropped;
//   - @cost(weight:) takes the largest weight;
//   - @listSize takes the largest assumedSize, the union of slicingArguments
//     and sizedFields, and requireOneSlicingArgument when every application
//     requires one (true when not written), written out.
//
// Equal applications count once; one distinct application is kept as
// written.

// mergedDirective reports whether applications of name are merged into one.
func mergedDirective(name string) bool {
	switch name {
	case "requiresScopes", "policy", "cost", "listSize":
		return true
	}
	return false
}

// mergeApplications merges applications of one directive into one.
// One application is kept as written.
func mergeApplications(name string, apps []*ast.Directive) *ast.Directive {
	// Equal applications are one: a single distinct application is kept
	// as written (without the defaults a merge writes out).
	var distinct []*ast.Directive
	seen := map[string]bool{}
	for _, d := range apps {
		if text := printDirective(d); !seen[text] {
			seen[text] = true
			distinct = append(distinct, d)
		}
	}
	apps = distinct
	if len(apps) == 1 {
		return apps[0]
	}
	out := &ast.Directive{Name: name, Position: apps[0].Position}
	switch name {
	case "requiresScopes", "policy":
		arg := "scopes"
		if name == "policy" {
			arg = "policies"
		}
		var values [][][]string
		for _, d := range apps {
			values = append(values, dnfOf(d.Arguments.ForName(arg)))
		}
		out.Arguments = ast.ArgumentList{{Name: arg, Value: dnfValue(dnfConjunction(values))}}
	case "cost":
		best := 0
		for i, d := range apps {
			if w, ok := intArg(d, "weight"); ok && (i == 0 || w > best) {
				best = w
			}
		}
		out.Arguments = ast.ArgumentList{{Name: "weight", Value: &ast.Value{Kind: ast.IntValue, Raw: strconv.Itoa(best)}}}
	case "listSize":
		var size *int
		var slicing, sized []string
		slicingSet, sizedSet := false, false
		// requireOneSlicingArgument defaults to true: an application
		// without it counts as true, and the merge writes it out.
		requireOne := true
		for _, d := range apps {
			if v, ok := intArg(d, "assumedSize"); ok && (size == nil || v > *size) {
				size = &v
			}
			if a := d.Arguments.ForName("slicingArguments"); a != nil && a.Value.Kind == ast.ListValue {
				slicingSet = true
				slicing = unionStrings(slicing, stringList(a.Value))
			}
			if a := d.Arguments.ForName("sizedFields"); a != nil && a.Value.Kind == ast.ListValue {
				sizedSet = true
				sized = unionStrings(sized, stringList(a.Value))
			}
			if a := d.Arguments.ForName("requireOneSlicingArgument"); a != nil && a.Value.Kind == ast.BooleanValue {
				requireOne = requireOne && a.Value.Raw == "true"
			}
		}
		if size != nil {
			out.Arguments = append(out.Arguments, &ast.Argument{Name: "assumedSize", Value: &ast.Value{Kind: ast.IntValue, Raw: strconv.Itoa(*size)}})
		}
		if slicingSet {
			out.Arguments = append(out.Arguments, &ast.Argument{Name: "slicingArguments", Value: stringListValue(slicing)})
		}
		if sizedSet {
			out.Arguments = append(out.Arguments, &ast.Argument{Name: "sizedFields", Value: stringListValue(sized)})
		}
		out.Arguments = append(out.Arguments, &ast.Argument{Name: "requireOneSlicingArgument", Value: &ast.Value{Kind: ast.BooleanValue, Raw: strconv.FormatBool(requireOne)}})
	}
	return out
}

func intArg(d *ast.Directive, name string) (int, bool) {
	a := d.Arguments.ForName(name)
	if a == nil || a.Value == nil || a.Value.Kind != ast.IntValue {
		return 0, false
	}
	v, err := strconv.Atoi(a.Value.Raw)
	return v, err == nil
}

func stringList(v *ast.Value) []string {
	var out []string
	for _, c := range v.Children {
		if c.Value != nil {
			out = append(out, c.Value.Raw)
		}
	}
	return out
}

func unionStrings(a, b []string) []string {
	for _, s := range b {
		if !containsString(a, s) {
			a = append(a, s)
		}
	}
	return a
}

func stringListValue(list []string) *ast.Value {
	v := &ast.Value{Kind: ast.ListValue}
	for _, s := range list {
		v.Children = append(v.Children, &ast.ChildValue{Value: &ast.Value{Kind: ast.StringValue, Raw: s}})
	}
	return v
}

// dnfOf reads a [[String!]!]! argument.
func dnfOf(a *ast.Argument) [][]string {
	if a == nil || a.Value == nil {
		return nil
	}
	var out [][]string
	for _, alt := range a.Value.Children {
		if alt.Value == nil {
			continue
		}
		if alt.Value.Kind == ast.ListValue {
			out = append(out, stringList(alt.Value))
		} else {
			out = append(out, []string{alt.Value.Raw})
		}
	}
	return out
}

func dnfValue(dnf [][]string) *ast.Value {
	v := &ast.Value{Kind: ast.ListValue}
	for _, alt := range dnf {
		v.Children = append(v.Children, &ast.ChildValue{Value: stringListValue(alt)})
	}
	return v
}

func dnfKey(x any) string {
	switch x := x.(type) {
	case []string:
		return "[" + strings.Join(x, "\x00") + "]"
	case [][]string:
		parts := make([]string, len(x))
		for i, alt := range x {
			parts[i] = dnfKey(alt)
		}
		return strings.Join(parts, ",")
	}
	return ""
}

// dnfConjunction ANDs requirement sets given in disjunctive normal form.
func dnfConjunction(values [][][]string) [][]string {
	if len(values) == 0 {
		return nil
	}
	// Normalize: sorted requirements, sorted alternatives, "no
	// requirement" as one empty alternative, equal values once.
	var distinct [][][]string
	seen := map[string]bool{}
	for _, v := range values {
		var norm [][]string
		for _, alt := range v {
			c := append([]string{}, alt...)
			sort.Strings(c)
			norm = append(norm, c)
		}
		if len(norm) == 0 {
			norm = [][]string{{}}
		}
		sort.Slice(norm, func(i, j int) bool { return dnfKey(norm[i]) < dnfKey(norm[j]) })
		if k := dnfKey(norm); !seen[k] {
			seen[k] = true
			distinct = append(distinct, norm)
		}
	}
	result := distinct[0]
	for _, next := range distinct[1:] {
		var product [][]string
		keys := map[string]bool{}
		for _, a := range result {
			for _, b := range next {
				c := unionStrings(append([]string{}, a...), b)
				sort.Strings(c)
				if k := dnfKey(c); !keys[k] {
					keys[k] = true
					product = append(product, c)
				}
			}
		}
		result = dropSubsumed(product)
	}
	return result
}

// dropSubsumed removes alternatives that contain a shorter alternative.
func dropSubsumed(alts [][]string) [][]string {
	sort.SliceStable(alts, func(i, j int) bool { return len(alts[i]) < len(alts[j]) })
	var out [][]string
	for _, c := range alts {
		redundant := false
		for _, kept := range out {
			all := true
			for _, x := range kept {
				if !containsString(c, x) {
					all = false
					break
				}
			}
			if all {
				redundant = true
				break
			}
		}
		if !redundant {
			out = append(out, c)
		}
	}
	return out
}
