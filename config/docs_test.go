package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// keys lists every configuration key under prefix, as dotted paths; a
// slice or map of structs adds "[]" or ".NAME" before its element's keys.
func keys(t reflect.Type, prefix string) []string {
	var out []string
	walkKeys(t, prefix, func(key string, _ reflect.Type) { out = append(out, key) })
	return out
}

// walkKeys calls visit with every configuration key under prefix (as keys
// lists it) and its type, pointers taken away, parents before children.
func walkKeys(t reflect.Type, prefix string, visit func(key string, ft reflect.Type)) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		key := tag
		if prefix != "" {
			key = prefix + "." + tag
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		visit(key, ft)
		switch {
		case ft.Kind() == reflect.Struct && ft != durationType:
			walkKeys(ft, key, visit)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			walkKeys(ft.Elem(), key+"[]", visit)
		case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
			walkKeys(ft.Elem(), key+".NAME", visit)
		}
	}
}

// TestEveryKeyDocumented fails when docs/config.md does not document a key
// of Config: a leaf key is written in full (`auth.jwt.leeway`), or, inside
// a list or map of blocks, the block is (`auth.jwt.keys[]`,
// `auth.authorization.policies.<name>`) and the leaf is named (`kid`).
func TestEveryKeyDocumented(t *testing.T) {
	raw, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.ReplaceAll(string(raw), ".<name>", ".NAME")
	has := func(k string) bool { return strings.Contains(doc, "`"+k+"`") }
	for _, k := range keys(reflect.TypeOf(Config{}), "") {
		if has(k) {
			continue
		}
		parent, leaf := k[:max(strings.LastIndex(k, "."), 0)], k[strings.LastIndex(k, ".")+1:]
		if strings.HasSuffix(parent, "[]") || strings.HasSuffix(parent, ".NAME") {
			if (has(parent) || has(strings.TrimSuffix(parent, "[]"))) && has(leaf) {
				continue
			}
		}
		if isBlock(k) {
			continue
		}
		t.Errorf("docs/config.md does not document `%s`", k)
	}
}

// isBlock reports whether key k holds a block of keys (a struct), which is
// documented through its leaves.
func isBlock(k string) bool {
	t := reflect.TypeOf(Config{})
	for _, part := range strings.Split(k, ".") {
		name := strings.TrimSuffix(part, "[]")
		if name == "NAME" {
			continue
		}
		f, ok := fieldByTag(t, name)
		if !ok {
			return false
		}
		t = f.Type
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
	}
	return t.Kind() == reflect.Struct && t != reflect.TypeOf(time.Duration(0))
}

func fieldByTag(t reflect.Type, tag string) (reflect.StructField, bool) {
	if t.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == tag {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

// TestExampleParses keeps the example configuration valid.
func TestExampleParses(t *testing.T) {
	data, err := os.ReadFile("../gateway.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(data, func(string) (string, bool) { return "", false }); err != nil {
		t.Fatal(err)
	}
}
