package difftest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/fedgate/gateway/internal/opgen"
)

// HasDefer reports whether op's document has a @defer.
func HasDefer(op opgen.Operation) bool {
	return strings.Contains(op.Query, "@defer")
}

// StripDefer returns op without its @defer directives, the variables that
// only they used dropped from every operation (and from the values sent).
// A @defer changes when data arrives, never what it is (spec RFC
// "incremental delivery": the merged payloads are the answer without
// @defer), so the references, which do not deliver incrementally as the
// test starts them, are asked this; ok is false when op has no @defer.
func StripDefer(op opgen.Operation) (stripped opgen.Operation, ok bool) {
	if !HasDefer(op) {
		return op, false
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: op.Query})
	if err != nil {
		return op, false
	}
	strip := func(dirs ast.DirectiveList) ast.DirectiveList {
		var out ast.DirectiveList
		for _, d := range dirs {
			if d.Name == "defer" {
				ok = true
				continue
			}
			out = append(out, d)
		}
		return out
	}
	var walk func(set ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				s.Directives = strip(s.Directives)
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				s.Directives = strip(s.Directives)
			}
		}
	}
	for _, o := range doc.Operations {
		walk(o.SelectionSet)
	}
	for _, f := range doc.Fragments {
		walk(f.SelectionSet)
	}
	if !ok {
		return op, false
	}
	values := op.Variables
	for _, o := range doc.Operations {
		used := usedVariables(doc, o.SelectionSet, map[string]bool{}, map[string]bool{})
		var kept ast.VariableDefinitionList
		for _, d := range o.VariableDefinitions {
			if used[d.Variable] {
				kept = append(kept, d)
				continue
			}
			if o.Name == op.OperationName || op.OperationName == "" {
				values = without(values, d.Variable)
			}
		}
		o.VariableDefinitions = kept
	}
	return opgen.Operation{Query: opgen.Print(doc), OperationName: op.OperationName, Variables: values}, true
}

// without is m less key, copied (m is shared with the original operation).
func without(m map[string]any, key string) map[string]any {
	if _, has := m[key]; !has {
		return m
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

// usedVariables adds to used the variables set uses, through the named
// fragments it spreads (each once: visited, which ends up naming every
// fragment set spreads).
func usedVariables(doc *ast.QueryDocument, set ast.SelectionSet, used, visited map[string]bool) map[string]bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			for _, a := range s.Arguments {
				valueVariables(a.Value, used)
			}
			directiveVariables(s.Directives, used)
			usedVariables(doc, s.SelectionSet, used, visited)
		case *ast.InlineFragment:
			directiveVariables(s.Directives, used)
			usedVariables(doc, s.SelectionSet, used, visited)
		case *ast.FragmentSpread:
			directiveVariables(s.Directives, used)
			if visited[s.Name] {
				continue
			}
			visited[s.Name] = true
			if f := doc.Fragments.ForName(s.Name); f != nil {
				usedVariables(doc, f.SelectionSet, used, visited)
			}
		}
	}
	return used
}

// directiveVariables adds to used the variables the arguments of dirs use.
func directiveVariables(dirs ast.DirectiveList, used map[string]bool) {
	for _, d := range dirs {
		for _, a := range d.Arguments {
			valueVariables(a.Value, used)
		}
	}
}

// valueVariables adds to used the variables v is or holds.
func valueVariables(v *ast.Value, used map[string]bool) {
	if v == nil {
		return
	}
	if v.Kind == ast.Variable {
		used[v.Raw] = true
	}
	for _, c := range v.Children {
		valueVariables(c.Value, used)
	}
}

// incrementalAccept is the Accept header of a client that takes @defer
// incrementally (Apollo Client, Relay), as docs/defer.md describes.
const incrementalAccept = "multipart/mixed;deferSpec=20220824, application/json"

// MergeIncremental reads an incremental (multipart/mixed) response and
// returns it as one GraphQL response body: the initial payload's data with
// every subsequent payload's incremental entries merged in at their paths,
// and every payload's errors. A body of another content type comes back
// as it is. The body says in "incrementalPayloads" how many payloads there
// were.
func MergeIncremental(contentType string, body []byte) ([]byte, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		return body, nil
	}
	r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	var data any
	var errs []any
	payloads := 0
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("multipart: %w", err)
		}
		b, err := io.ReadAll(part)
		if err != nil {
			return nil, fmt.Errorf("multipart part: %w", err)
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		var p struct {
			Data        any   `json:"data"`
			Errors      []any `json:"errors"`
			Incremental []struct {
				Data   any   `json:"data"`
				Path   []any `json:"path"`
				Errors []any `json:"errors"`
			} `json:"incremental"`
		}
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, fmt.Errorf("payload %d: %w: %.200s", payloads, err, b)
		}
		if payloads == 0 {
			data = p.Data
		}
		payloads++
		errs = append(errs, p.Errors...)
		for _, inc := range p.Incremental {
			errs = append(errs, inc.Errors...)
			if inc.Data != nil {
				mergeAt(data, inc.Path, inc.Data)
			}
		}
	}
	if payloads == 0 {
		return nil, fmt.Errorf("multipart response without a payload")
	}
	out := map[string]any{"data": data, "incrementalPayloads": payloads}
	if len(errs) > 0 {
		out["errors"] = errs
	}
	return json.Marshal(out)
}

// mergeAt merges the object from into the object at path in tree; a path
// that leads nowhere (an object nulled since) merges nothing.
func mergeAt(tree any, path []any, from any) {
	at := tree
	for _, p := range path {
		switch node := at.(type) {
		case map[string]any:
			k, ok := p.(string)
			if !ok {
				return
			}
			at = node[k]
		case []any:
			i, ok := p.(float64)
			if !ok || int(i) < 0 || int(i) >= len(node) {
				return
			}
			at = node[int(i)]
		default:
			return
		}
	}
	deepMerge(at, from)
}

// deepMerge merges the entry from into the response tree into: objects key
// by key, lists of one length item by item.
func deepMerge(into, from any) {
	switch dst := into.(type) {
	case map[string]any:
		src, ok := from.(map[string]any)
		if !ok {
			return
		}
		for k, v := range src {
			if cur, has := dst[k]; has && mergeable(cur, v) {
				deepMerge(cur, v)
				continue
			}
			dst[k] = v
		}
	case []any:
		// Item by item, also the items of a list of lists.
		src, ok := from.([]any)
		if !ok || len(src) != len(dst) {
			return
		}
		for i := range dst {
			deepMerge(dst[i], src[i])
		}
	}
}

// mergeable reports whether deepMerge merges from into into (two objects,
// or two lists of one length) rather than replacing it.
func mergeable(into, from any) bool {
	switch a := into.(type) {
	case map[string]any:
		_, ok := from.(map[string]any)
		return ok
	case []any:
		b, ok := from.([]any)
		return ok && len(a) == len(b)
	}
	return false
}

// SameUnordered reports whether a and b have the same data (object keys in
// any order: a merged incremental answer puts deferred fields last) and
// the same error paths. An answer that is no GraphQL response (Failure: a
// body that does not parse, a broken connection, a truncated multipart
// stream) equals nothing, not even another such answer: two failures do not
// show that two requests were answered alike, and a gateway that gives no
// GraphQL answer at all is a finding of its own.
func SameUnordered(a, b Result) bool {
	if a.Failure != "" || b.Failure != "" {
		return false
	}
	return sortedJSON(a.Data) == sortedJSON(b.Data) && strings.Join(a.Errors, ",") == strings.Join(b.Errors, ",")
}

func sortedJSON(s string) string {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}
