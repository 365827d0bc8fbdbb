package playground

import (
	"bytes"
	"compress/gzip"
	"html"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestBundleLoadsOnlyItsOwnFiles checks the committed bundle: every file
// the page and its stylesheets load is a file of the bundle under
// AssetPrefix (or an inline data: URI), never another origin.
func TestBundleLoadsOnlyItsOwnFiles(t *testing.T) {
	h, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(string(h.index), -1)
	if len(refs) < 2 {
		t.Fatalf("index.html names %d files; want the script and the stylesheet at least", len(refs))
	}
	var scripts int
	for _, m := range refs {
		ref := m[1]
		switch {
		case strings.HasPrefix(ref, "data:"):
		case strings.HasPrefix(ref, AssetPrefix):
			if _, err := fs.Stat(h.files, strings.TrimPrefix(ref, AssetPrefix)); err != nil {
				t.Errorf("index.html loads %s, which the bundle lacks", ref)
			}
			if strings.HasSuffix(ref, ".js") {
				scripts++
			}
		default:
			t.Errorf("index.html loads %q from outside the bundle", ref)
		}
	}
	if scripts == 0 {
		t.Error("index.html loads no script from the bundle")
	}
	cssURL := regexp.MustCompile(`url\(\s*['"]?([^'")]+)`)
	err = fs.WalkDir(h.files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasSuffix(name, ".map") {
			t.Errorf("%s: the bundle ships without source maps", name)
		}
		data, err := fs.ReadFile(h.files, name)
		if err != nil {
			return err
		}
		switch {
		case strings.HasSuffix(name, ".css"):
			for _, m := range cssURL.FindAllStringSubmatch(string(data), -1) {
				if u := m[1]; !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, AssetPrefix) && !strings.HasPrefix(u, "#") {
					t.Errorf("%s loads %q", name, clip(u))
				}
			}
		case strings.HasSuffix(name, ".js"):
			// Dynamic imports and workers name bundle files, never URLs.
			for _, bad := range []string{`import("http`, `importScripts("http`, `new Worker("http`, `//cdn.`, `unpkg.com`, `jsdelivr`, `esm.sh/`} {
				if bytes.Contains(data, []byte(bad)) {
					t.Errorf("%s contains %q", name, bad)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

func TestHandler(t *testing.T) {
	h, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var script string
	if m := regexp.MustCompile(`src="(/playground/assets/[^"]+\.js)"`).FindSubmatch(h.index); m != nil {
		script = string(m[1])
	} else {
		t.Fatal("index.html names no script")
	}
	tests := []struct {
		name        string
		serve       func(http.ResponseWriter, *http.Request)
		method      string
		path        string
		gzip        bool
		status      int
		contentType string
		contains    string
	}{
		{"page", h.ServePage, "GET", "/", false, 200, "text/html; charset=utf-8", "<title>fedgate playground</title>"},
		{"page", h.ServePage, "GET", "/graphql", false, 200, "text/html; charset=utf-8", script},
		{"page HEAD", h.ServePage, "HEAD", "/", false, 200, "text/html; charset=utf-8", ""},
		{"script", h.ServeAsset, "GET", script, false, 200, "javascript", "GraphiQL"},
		{"script gzipped", h.ServeAsset, "GET", script, true, 200, "javascript", "Query plan"},
		{"unknown asset", h.ServeAsset, "GET", "/playground/assets/nope.js", false, 404, "", ""},
		{"index is not an asset", h.ServeAsset, "GET", "/playground/index.html", false, 404, "", ""},
		{"folder", h.ServeAsset, "GET", "/playground/assets", false, 404, "", ""},
		{"escape", h.ServeAsset, "GET", "/playground/../playground.go", false, 404, "", ""},
		{"dot segment", h.ServeAsset, "GET", "/playground/./index.html", false, 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "http://gw.test"+"/", nil)
			req.URL.Path = tt.path
			if tt.gzip {
				req.Header.Set("Accept-Encoding", "br, gzip;q=0.8")
			}
			rec := httptest.NewRecorder()
			tt.serve(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			if tt.status != 200 {
				return
			}
			hd := rec.Header()
			if ct := hd.Get("Content-Type"); !strings.Contains(ct, tt.contentType) {
				t.Errorf("Content-Type %q, want %q", ct, tt.contentType)
			}
			if csp := hd.Get("Content-Security-Policy"); csp != ContentSecurityPolicy {
				t.Errorf("Content-Security-Policy %q", csp)
			}
			if hd.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}
			body := rec.Body.Bytes()
			if tt.method == "HEAD" {
				if len(body) != 0 || hd.Get("Content-Length") == "" {
					t.Errorf("HEAD: %d body bytes, Content-Length %q", len(body), hd.Get("Content-Length"))
				}
				return
			}
			if got := hd.Get("Content-Encoding") == "gzip"; got != tt.gzip {
				t.Fatalf("gzip %v, want %v", got, tt.gzip)
			}
			if tt.gzip {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Contains(body, []byte(tt.contains)) {
				t.Errorf("body lacks %q", tt.contains)
			}
		})
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := map[string]bool{
		"":                     false,
		"gzip":                 true,
		"deflate, gzip":        true,
		"br;q=1.0, gzip;q=0.8": true,
		"gzip;q=0":             false,
		"gzip; q=0.000":        false,
		"*":                    true,
		"identity":             false,
		"x-gzip":               false,
	}
	for ae, want := range tests {
		if got := acceptsGzip(ae); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", ae, got, want)
		}
	}
}

// TestDefaultQuery checks that the page carries the default query in a
// meta element, escaped, so a query can never become markup.
func TestDefaultQuery(t *testing.T) {
	const query = "# \"quoted\" & <b>\n{ a }\"><script>alert(1)</script>"
	h, err := New(Options{DefaultQuery: query})
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<meta name="fedgate-default-query" content="([^"]*)" />`).FindSubmatch(h.index)
	if m == nil {
		t.Fatalf("no meta element in %s", h.index)
	}
	if got := html.UnescapeString(string(m[1])); got != query {
		t.Errorf("content unescapes to %q, want %q", got, query)
	}
	if bytes.Contains(h.index, []byte("<script>alert")) || bytes.Contains(h.index, []byte("<b>")) {
		t.Error("the query became markup")
	}
	plain, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(plain.index, []byte("fedgate-default-query")) {
		t.Error("a meta element without a default query")
	}
}
