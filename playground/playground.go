// Package playground serves the gateway's GraphiQL playground: the bundle
// that `make playground` builds from this folder (package.json, src/) into
// dist/, committed and embedded in the binary, so that neither the build
// nor the browser fetches anything from elsewhere.
package playground

import (
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"html"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
)

//go:embed all:dist
var dist embed.FS

// AssetPrefix is the path under which the page loads its scripts, styles,
// workers and fonts (build.mjs builds them for this path).
const AssetPrefix = "/playground/"

// ContentSecurityPolicy lets the page load and connect to its own origin
// only. Monaco, the editor, injects style elements, and GraphiQL's
// stylesheet inlines its fonts, hence the two exceptions; neither can load
// anything from another origin.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; worker-src 'self'; " +
	"style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler serves the page and its assets. The zero value is not usable;
// call New.
type Handler struct {
	files fs.FS
	index []byte
	gz    sync.Map // name -> *gzipped
}

type gzipped struct {
	once sync.Once
	data []byte
}

// Options configure the page.
type Options struct {
	// DefaultQuery is the operation the editor shows on a first visit
	// (later visits restore the user's own tabs); empty means a short
	// welcome comment.
	DefaultQuery string
}

// New returns a handler for the embedded bundle. It fails when the bundle
// has no index.html (dist/ was not built).
func New(opts Options) (*Handler, error) {
	files, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, fmt.Errorf("playground bundle: %w", err)
	}
	index, err := fs.ReadFile(files, "index.html")
	if err != nil {
		return nil, fmt.Errorf("playground bundle: %w (run make playground)", err)
	}
	if opts.DefaultQuery != "" {
		// The page reads its settings from meta elements: no inline script,
		// so the Content-Security-Policy needs no exception for it.
		meta := `<meta name="fedgate-default-query" content="` + html.EscapeString(opts.DefaultQuery) + `" />` + "\n  </head>"
		if !bytes.Contains(index, []byte("</head>")) {
			return nil, fmt.Errorf("playground bundle: index.html has no </head>")
		}
		index = bytes.Replace(index, []byte("</head>"), []byte(meta), 1)
	}
	return &Handler{files: files, index: index}, nil
}

// ServePage writes the playground's HTML page, whatever the path.
func (h *Handler) ServePage(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	setSecurityHeaders(hd)
	hd.Set("Content-Type", "text/html; charset=utf-8")
	// The page names its assets by content hash; the page itself must be
	// fetched again after an upgrade.
	hd.Set("Cache-Control", "no-cache")
	hd.Add("Vary", "Accept")
	h.write(w, r, "index.html", h.index)
}

// ServeAsset serves a file of the bundle below AssetPrefix; anything else
// is 404.
func (h *Handler) ServeAsset(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, AssetPrefix)
	if name == r.URL.Path || name == "" || name == "index.html" || !fs.ValidPath(name) {
		http.NotFound(w, r)
		return
	}
	data, err := fs.ReadFile(h.files, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	setSecurityHeaders(hd)
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	hd.Set("Content-Type", ctype)
	if strings.HasPrefix(name, "assets/") {
		// build.mjs puts a content hash in every asset name.
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	h.write(w, r, name, data)
}

func setSecurityHeaders(hd http.Header) {
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// write sends data, gzipped (once, then from memory) when the client
// accepts it and it is worth it.
func (h *Handler) write(w http.ResponseWriter, r *http.Request, name string, data []byte) {
	hd := w.Header()
	if compressible(hd.Get("Content-Type")) && len(data) > 1024 {
		hd.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			v, _ := h.gz.LoadOrStore(name, &gzipped{})
			g := v.(*gzipped)
			g.once.Do(func() { g.data = compress(data) })
			data = g.data
			hd.Set("Content-Encoding", "gzip")
		}
	}
	hd.Set("Content-Length", strconv.Itoa(len(data)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(data)
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "javascript") ||
		strings.Contains(ctype, "json") || strings.HasPrefix(ctype, "font/ttf")
}

func compress(data []byte) []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	_, _ = zw.Write(data)
	_ = zw.Close()
	return b.Bytes()
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip.
func acceptsGzip(ae string) bool {
	for ae != "" {
		var item string
		item, ae, _ = strings.Cut(ae, ",")
		coding, params, _ := strings.Cut(item, ";")
		coding = strings.TrimSpace(coding)
		if !strings.EqualFold(coding, "gzip") && coding != "*" {
			continue
		}
		params = strings.ReplaceAll(params, " ", "")
		return params != "q=0" && params != "q=0.0" && params != "q=0.00" && params != "q=0.000"
	}
	return false
}
