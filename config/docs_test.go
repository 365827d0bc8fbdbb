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
		out = append(out, key)
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Duration(0)):
			out = append(out, keys(ft, key)...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			out = append(out, keys(ft.Elem(), key+"[]")...)
		case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
			out = append(out, keys(ft.Elem(), key+".NAME")...)
		}
	}
	return out
}

// TestEveryKeyDocumented fails when docs/config.md does not mention a key
// of Config (written as `key` in the text, full dotted path).
func TestEveryKeyDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys(reflect.TypeOf(Config{}), "") {
		if !strings.Contains(string(doc), "`"+k+"`") {
			t.Errorf("docs/config.md does not document `%s`", k)
		}
	}
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
