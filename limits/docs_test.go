package limits

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// configKeys lists the keys of a config struct as dotted paths; a map of
// structs adds ".NAME" before its element's keys.
func configKeys(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		key := prefix + "." + tag
		out = append(out, key)
		switch ft := f.Type; {
		case ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Duration(0)):
			out = append(out, configKeys(ft, key)...)
		case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
			out = append(out, configKeys(ft.Elem(), key+".NAME")...)
		}
	}
	return out
}

// TestEveryKeyDocumented keeps docs/config/limits.md complete.
func TestEveryKeyDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/config/limits.md")
	if err != nil {
		t.Fatal(err)
	}
	keys := configKeys(reflect.TypeOf(Config{}), "limits")
	if len(keys) < 30 {
		t.Fatalf("only %d keys found", len(keys))
	}
	for _, k := range keys {
		if !strings.Contains(string(doc), "`"+k+"`") {
			t.Errorf("docs/config/limits.md does not document `%s`", k)
		}
	}
}
