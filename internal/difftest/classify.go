package difftest

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/fedgate/gateway/internal/opgen"
)

// Classify names the class of a case, so that a run's cases can be
// grouped: fedgate's error (names and numbers blanked) when it answered
// one, else "data" with the features of the minimized operation that such
// differences hinge on (kinds of alias, fragments, directives, depth).
func Classify(api *ast.Schema, hints opgen.Hints, c Case) string {
	var fedgate Result
	for _, a := range c.Answers {
		if a.Gateway == "fedgate" {
			fedgate = a.Result
		}
	}
	kind := "data"
	if len(fedgate.Errors) > 0 {
		kind = "error " + strings.Join(fedgate.Codes, ",") + ": " + errorShape(fedgate.Body)
	}
	if c.Verdict != Differs && c.Min.Query == c.Op.Query {
		// Not minimized: every feature of a random operation would show.
		return kind
	}
	doc, errs := opgen.LoadQuery(api, c.Min.Query)
	if len(errs) > 0 {
		return kind
	}
	feats := map[string]bool{}
	var walk func(set ast.SelectionSet, depth int, inFragment bool)
	walk = func(set ast.SelectionSet, depth int, inFragment bool) {
		keys := map[string]string{}
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if depth >= 4 {
					feats["depth>=4"] = true
				}
				if len(s.Directives) > 0 {
					feats["@skip/@include"] = true
				}
				if s.Alias != s.Name {
					feats[aliasKind(hints, s)] = true
				}
				if prev, ok := keys[s.Name]; ok && prev != s.Alias {
					feats["one field under two aliases"] = true
				}
				keys[s.Name] = s.Alias
				walk(s.SelectionSet, depth+1, false)
			case *ast.InlineFragment:
				if s.ObjectDefinition != nil && s.ObjectDefinition.IsAbstractType() {
					feats["fragment on an abstract type"] = true
				}
				if inFragment {
					feats["nested fragments"] = true
				}
				walk(s.SelectionSet, depth, true)
			case *ast.FragmentSpread:
				if s.ObjectDefinition != nil && s.ObjectDefinition.IsAbstractType() {
					feats["fragment on an abstract type"] = true
				}
				if inFragment {
					feats["nested fragments"] = true
				}
				if s.Definition != nil {
					walk(s.Definition.SelectionSet, depth, true)
				}
			}
		}
	}
	for _, o := range doc.Operations {
		walk(o.SelectionSet, 0, false)
	}
	list := make([]string, 0, len(feats))
	for f := range feats {
		list = append(list, f)
	}
	sort.Strings(list)
	if len(list) == 0 {
		return kind
	}
	return kind + " [" + strings.Join(list, ", ") + "]"
}

func aliasKind(hints opgen.Hints, f *ast.Field) string {
	if f.Alias == "__typename" {
		return "alias __typename"
	}
	if f.ObjectDefinition != nil {
		for _, h := range hints.AliasNames[f.ObjectDefinition.Name] {
			if h == f.Alias {
				return "alias named like a key/@requires field"
			}
		}
		if f.ObjectDefinition.Fields.ForName(f.Alias) != nil {
			return "alias named like another field"
		}
	}
	return "alias"
}

var (
	quoted  = regexp.MustCompile(`"[^"]*"|\b[A-Z][A-Za-z0-9_]*\.[A-Za-z0-9_]+\b`)
	numbers = regexp.MustCompile(`\d+`)
)

// errorShape is the first error message of a body with names and numbers
// blanked.
func errorShape(body []byte) string {
	i := strings.Index(string(body), `"message":"`)
	if i < 0 {
		return "?"
	}
	msg := string(body[i+len(`"message":"`):])
	if j := strings.Index(msg, `","`); j >= 0 {
		msg = msg[:j]
	}
	msg = strings.ReplaceAll(msg, `\"`, `"`)
	msg = quoted.ReplaceAllString(msg, "X")
	msg = numbers.ReplaceAllString(msg, "N")
	return fmt.Sprintf("%.120s", msg)
}
