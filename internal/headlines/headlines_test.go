package headlines

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// TestLines: Get and Header read the lines as http.ReadResponse reads a
// head (canonical names, trimmed values, repeated names in order).
func TestLines(t *testing.T) {
	for _, tt := range []struct {
		name  string
		lines Lines
		want  http.Header
		get   map[string]string // name asked for: value wanted
	}{
		{"none", "", http.Header{}, map[string]string{"Content-Type": ""}},
		{"plain", "Content-Type: application/json\r\nContent-Length: 2\r\n",
			http.Header{"Content-Type": {"application/json"}, "Content-Length": {"2"}},
			map[string]string{"Content-Type": "application/json", "content-length": "2", "Cache-Control": ""}},
		{"lower case, spaces and tabs", "cache-control: \t max-age=5 \r\nx-empty:\r\n",
			http.Header{"Cache-Control": {"max-age=5"}, "X-Empty": {""}},
			map[string]string{"Cache-Control": "max-age=5", "X-Empty": "", "X-Emptyy": ""}},
		{"repeated", "Set-Cookie: a=1\r\nX-B: 2\r\nset-cookie: b=2\r\n",
			http.Header{"Set-Cookie": {"a=1", "b=2"}, "X-B": {"2"}},
			map[string]string{"Set-Cookie": "a=1", "X-B": "2"}},
		{"a name that is the prefix of another", "Content-Type-X: a\r\nContent-Type: b\r\n",
			http.Header{"Content-Type-X": {"a"}, "Content-Type": {"b"}},
			map[string]string{"Content-Type": "b", "Content-Type-X": "a"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.lines.Header(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Header() = %v, want %v", got, tt.want)
			}
			for name, want := range tt.get {
				if got := tt.lines.Get(name); got != want {
					t.Errorf("Get(%q) = %q, want %q", name, got, want)
				}
			}
		})
	}
}

// TestHeaderAppendKeepsOthers: appending to a repeated name's values
// does not overwrite another name's value (the values share one array).
func TestHeaderAppendKeepsOthers(t *testing.T) {
	h := Lines("X-A: 1\r\nX-B: 2\r\nX-A: 3\r\n").Header()
	h["X-A"] = append(h["X-A"], "4")
	h["X-B"] = append(h["X-B"], "5")
	if want := (http.Header{"X-A": {"1", "3", "4"}, "X-B": {"2", "5"}}); !reflect.DeepEqual(h, want) {
		t.Errorf("got %v, want %v", h, want)
	}
}

// TestCombined: a header on several lines reads as one list, its values in
// order joined by ", ", as net/http's Header.Values joined; one line reads
// as Get reads it, without allocating.
func TestCombined(t *testing.T) {
	for _, tt := range []struct {
		lines Lines
		name  string
		want  string
	}{
		{"", "Cache-Control", ""},
		{"Content-Type: a\r\n", "Cache-Control", ""},
		{"Cache-Control: max-age=60\r\n", "cache-control", "max-age=60"},
		{"Cache-Control: max-age=60\r\nX: 1\r\ncache-control:  private \r\n", "Cache-Control", "max-age=60, private"},
		{"Cache-Control:\r\nCache-Control: no-store\r\nCache-Control: max-age=1\r\n", "Cache-Control", ", no-store, max-age=1"},
		{"Cache-Control-X: private\r\nCache-Control: max-age=60\r\n", "Cache-Control", "max-age=60"},
	} {
		got := tt.lines.Combined(tt.name)
		if got != tt.want {
			t.Errorf("%q.Combined(%q) = %q, want %q", tt.lines, tt.name, got, tt.want)
		}
		if h := tt.lines.Header(); strings.Join(h.Values(tt.name), ", ") != got {
			t.Errorf("%q.Combined(%q) = %q, net/http's values %q", tt.lines, tt.name, got, h.Values(tt.name))
		}
	}
	one := Lines("Content-Type: a\r\nCache-Control: max-age=60\r\n")
	if n := testing.AllocsPerRun(10, func() { _ = one.Combined("Cache-Control") }); n != 0 {
		t.Errorf("one line: %.0f allocations", n)
	}
}

// BenchmarkCacheHeaders reads a subgraph answer's Cache-Control as the
// transport does: Get (the first line only, before) and Combined2 with
// Vary (every line of both).
func BenchmarkCacheHeaders(b *testing.B) {
	l := Lines("Content-Type: application/json\r\nDate: Mon, 07 Dec 2026 10:00:00 GMT\r\nContent-Length: 1234\r\nCache-Control: max-age=60\r\n")
	b.Run("Get", func(b *testing.B) {
		for b.Loop() {
			_ = l.Get("Cache-Control")
		}
	})
	b.Run("Combined2", func(b *testing.B) {
		for b.Loop() {
			_, _ = l.Combined2("Cache-Control", "Vary")
		}
	})
}
