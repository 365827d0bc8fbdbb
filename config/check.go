package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// problem is one mistake in the file: its line (0 when unknown), its
// key as a dotted path, and what is wrong.
type problem struct {
	line int
	key  string
	msg  string
}

func (p problem) String() string {
	if p.line > 0 {
		return fmt.Sprintf("line %d: %s: %s", p.line, p.key, p.msg)
	}
	return p.key + ": " + p.msg
}

// problemsError lists every problem, one a line, in file order.
func problemsError(ps []problem) error {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].line < ps[j].line })
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return errors.New(strings.Join(lines, "\n"))
}

var durationType = reflect.TypeOf(time.Duration(0))

// checker walks the YAML tree along the Config type and records every
// unknown key and every value that does not decode into its field, each
// with its line, removing them from the tree, so that what is left
// decodes and the rest can still be validated: one run reports all the
// mistakes of a file.
type checker struct {
	problems []problem
}

// checkNode checks node against type t at key path; it returns false when
// the value is bad or left empty (its entry is then removed by the
// caller).
func (c *checker) checkNode(node ast.Node, t reflect.Type, path string) bool {
	node = unwrap(node)
	if node == nil {
		return true
	}
	switch node.(type) {
	case *ast.NullNode, *ast.AliasNode:
		return true // null leaves the default; an alias is checked where it is defined
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		return c.checkDuration(node, path)
	case t.Kind() == reflect.Struct && !hasUnmarshaler(t) || t.Kind() == reflect.Struct && hasFields(t):
		return c.checkStruct(node, t, path)
	case t.Kind() == reflect.Map && t.Elem().Kind() == reflect.Struct:
		m, ok := node.(*ast.MappingNode)
		if !ok {
			c.add(node, path, "want a mapping of names to blocks")
			return false
		}
		had := len(m.Values)
		kept := m.Values[:0]
		for _, mv := range m.Values {
			if c.checkNode(mv.Value, t.Elem(), path+"."+clip(keyString(mv))) {
				kept = append(kept, mv)
			}
		}
		m.Values = kept
		return had == 0 || len(kept) > 0
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		seq, ok := node.(*ast.SequenceNode)
		if !ok {
			c.add(node, path, "want a list")
			return false
		}
		ok = true
		for i, v := range seq.Values {
			if !c.checkNode(v, t.Elem(), fmt.Sprintf("%s[%d]", path, i)) {
				ok = false
			}
		}
		return ok
	}
	return c.checkLeaf(node, t, path)
}

// checkStruct checks a mapping against a struct's fields: unknown keys
// are problems and removed; bad values are problems and removed.
func (c *checker) checkStruct(node ast.Node, t reflect.Type, path string) bool {
	m, ok := node.(*ast.MappingNode)
	if !ok {
		c.add(node, path, fmt.Sprintf("want a block of keys (%s)", strings.Join(fieldNames(t), ", ")))
		return false
	}
	had := len(m.Values)
	kept := m.Values[:0]
	for _, mv := range m.Values {
		if mv.Key != nil && mv.Key.IsMergeKey() {
			kept = append(kept, mv)
			continue
		}
		key := clip(keyString(mv))
		sub := key
		if path != "" {
			sub = path + "." + key
		}
		f, found := fieldByKey(t, key)
		if !found {
			msg := "unknown key" + suggest(key, fieldNames(t))
			if path == "subgraphs" && !strings.Contains(msg, "did you mean") {
				// A subgraph's name where its settings do not go.
				msg = fmt.Sprintf("unknown key: one subgraph's settings go under subgraphs.overrides.%s, every subgraph's under subgraphs.all", key)
			}
			c.add(mv.Key, sub, msg)
			continue
		}
		if c.checkNode(mv.Value, f.Type, sub) {
			kept = append(kept, mv)
		}
	}
	m.Values = kept
	// A block left empty by the removals goes too: an empty block
	// prints as nothing, and a section decoding its own text would read
	// the next key as its value.
	return had == 0 || len(kept) > 0
}

func (c *checker) checkDuration(node ast.Node, path string) bool {
	s, ok := scalar(node)
	if !ok {
		c.add(node, path, "want a duration such as 150ms, 10s or 5m")
		return false
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		if n, perr := strconv.ParseInt(s, 10, 64); perr != nil || n != 0 {
			c.add(node, path, fmt.Sprintf("%q is not a duration (write 150ms, 10s, 5m)", s))
			return false
		}
		d = 0 // a bare 0
	}
	if d != 0 {
		return true
	}
	if msg := zeroProblem(path); msg != "" {
		c.add(node, path, msg)
		return false
	}
	return true
}

// checkLeaf decodes node into a fresh value of type t; a failure is a
// problem that says what the key wants.
func (c *checker) checkLeaf(node ast.Node, t reflect.Type, path string) bool {
	v := reflect.New(t)
	err := yaml.NodeToValue(node, v.Interface(), yaml.Strict())
	if err == nil {
		if isNumber(t) && v.Elem().IsZero() {
			if msg := zeroNumberProblem(path); msg != "" {
				c.add(node, path, msg)
				return false
			}
		}
		return true
	}
	c.add(node, path, leafMessage(node, t, err))
	return false
}

// isNumber reports whether t is an integer or float kind (ByteSize too).
func isNumber(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

var positionPrefix = regexp.MustCompile(`^\[\d+:\d+\]\s*`)

// leafMessage explains a value that does not decode into type t.
func leafMessage(node ast.Node, t reflect.Type, err error) string {
	got := strings.TrimSpace(node.String())
	if len(got) > 40 {
		got = got[:40] + "…"
	}
	if hasUnmarshaler(t) {
		msg := yaml.FormatError(err, false, false)
		msg, _, _ = strings.Cut(msg, "\n")
		return positionPrefix.ReplaceAllString(msg, "")
	}
	var want string
	switch t.Kind() {
	case reflect.Bool:
		want = "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		want = "a whole number"
	case reflect.Float32, reflect.Float64:
		want = "a number"
	case reflect.String:
		want = "a string"
	case reflect.Slice:
		want = "a list"
	case reflect.Map:
		want = "a mapping"
	default:
		want = "a " + t.String()
	}
	return fmt.Sprintf("want %s, got %s", want, got)
}

func (c *checker) add(node ast.Node, path, msg string) {
	if path == "" {
		path = "(top level)"
	}
	line := 0
	if node != nil && node.GetToken() != nil {
		line = node.GetToken().Position.Line
	}
	c.problems = append(c.problems, problem{line: line, key: path, msg: msg})
}

// unwrap looks through anchors and tags to the value.
func unwrap(node ast.Node) ast.Node {
	for {
		switch n := node.(type) {
		case *ast.AnchorNode:
			node = n.Value
		case *ast.TagNode:
			node = n.Value
		default:
			return node
		}
	}
}

func scalar(node ast.Node) (string, bool) {
	sn, ok := node.(ast.ScalarNode)
	if !ok {
		return "", false
	}
	if s, ok := sn.GetValue().(string); ok {
		return s, true
	}
	return fmt.Sprint(sn.GetValue()), true
}

func keyString(mv *ast.MappingValueNode) string {
	if mv.Key == nil {
		return ""
	}
	if s, ok := scalar(unwrap(mv.Key)); ok {
		return s
	}
	return mv.Key.String()
}

// yamlName is the key of a struct field: its yaml tag, else its name in
// lower case (as the decoder does); "" for a field that is not a key.
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if tag == "-" {
		return ""
	}
	if tag == "" {
		return strings.ToLower(f.Name)
	}
	return tag
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if f := t.Field(i); yamlName(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		if n := yamlName(t.Field(i)); n != "" {
			names = append(names, n)
		}
	}
	return names
}

func hasFields(t reflect.Type) bool { return len(fieldNames(t)) > 0 }

var (
	bytesUnmarshaler = reflect.TypeOf((*yaml.BytesUnmarshaler)(nil)).Elem()
	ifaceUnmarshaler = reflect.TypeOf((*yaml.InterfaceUnmarshaler)(nil)).Elem()
)

// hasUnmarshaler reports whether *t decodes itself.
func hasUnmarshaler(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return p.Implements(bytesUnmarshaler) || p.Implements(ifaceUnmarshaler)
}

// clip shortens a key for a message: a hostile file's key may be huge.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// suggest names the known key closest to key, when one is close.
func suggest(key string, known []string) string {
	best, bestDist := "", 3
	if len(key) > 64 {
		bestDist = 0 // no known key is that long: nothing is close
	}
	for _, k := range known {
		if d := editDistance(key, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return " (known: " + strings.Join(known, ", ") + ")"
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// lineOf returns the line of the value at a dotted key path
// ("subgraphs.overrides.products.timeout", "auth.jwt.keys[0].kid") in the
// tree, 0 when the file does not set it.
func lineOf(root ast.Node, path string) int {
	node := unwrap(root)
	for path != "" {
		switch n := node.(type) {
		case *ast.MappingNode:
			var next ast.Node
			for _, mv := range n.Values {
				k := keyString(mv)
				if rest, ok := strings.CutPrefix(path, k); ok && (rest == "" || rest[0] == '.' || rest[0] == '[') {
					next, path = mv.Value, strings.TrimPrefix(rest, ".")
					if path == "" {
						return mv.Key.GetToken().Position.Line
					}
					break
				}
			}
			if next == nil {
				return 0
			}
			node = unwrap(next)
		case *ast.SequenceNode:
			if path[0] != '[' {
				return 0
			}
			end := strings.IndexByte(path, ']')
			i, err := strconv.Atoi(path[1:max(end, 1)])
			if end < 0 || err != nil || i < 0 || i >= len(n.Values) {
				return 0
			}
			node, path = unwrap(n.Values[i]), strings.TrimPrefix(path[end+1:], ".")
			if path == "" {
				return node.GetToken().Position.Line
			}
		default:
			return 0
		}
	}
	return 0
}

// validationProblems turns Validate's error (one "key: message" a line)
// into problems with the line of their key in the tree.
func validationProblems(err error, root ast.Node) []problem {
	var out []problem
	for _, line := range strings.Split(err.Error(), "\n") {
		if line == "" {
			continue
		}
		key, msg, ok := strings.Cut(line, ": ")
		if !ok || strings.ContainsAny(key, " \t") {
			out = append(out, problem{key: "config", msg: line})
			continue
		}
		l := 0
		if root != nil {
			l = lineOf(root, key)
		}
		out = append(out, problem{line: l, key: key, msg: msg})
	}
	return out
}
