package auth

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// CORS answers preflights and adds CORS headers for allowed origins.
type CORS struct {
	cfg     CORSConfig
	any     bool
	origins map[string]bool
}

// NewCORS returns the CORS handling of cfg, or nil when it is disabled.
func NewCORS(cfg CORSConfig) *CORS {
	if !cfg.Enabled {
		return nil
	}
	c := &CORS{cfg: cfg, origins: map[string]bool{}}
	for _, o := range cfg.AllowOrigins {
		if o == "*" {
			c.any = true
			continue
		}
		c.origins[strings.TrimSuffix(strings.ToLower(o), "/")] = true
	}
	return c
}

// Handle adds the CORS headers to w for an allowed origin. It answers a
// preflight (OPTIONS with Access-Control-Request-Method) itself and
// returns true; the caller then writes nothing more. A request from an
// origin not allowed gets no CORS headers, so the browser hides the
// answer from the page; a preflight from it is answered 403.
func (c *CORS) Handle(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if c == nil {
		return false
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	if origin == "" {
		return false
	}
	if !c.any && !c.origins[strings.ToLower(origin)] {
		if preflight {
			w.WriteHeader(http.StatusForbidden)
			return true
		}
		return false
	}
	if c.any && !c.cfg.AllowCredentials {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
	}
	if c.cfg.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if len(c.cfg.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(c.cfg.ExposeHeaders, ", "))
	}
	if !preflight {
		return false
	}
	method := strings.ToUpper(r.Header.Get("Access-Control-Request-Method"))
	if !slices.Contains([]string{http.MethodGet, http.MethodPost}, method) {
		w.WriteHeader(http.StatusForbidden)
		return true
	}
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	if len(c.cfg.AllowHeaders) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(c.cfg.AllowHeaders, ", "))
	} else if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
		h.Add("Vary", "Access-Control-Request-Headers")
	}
	if c.cfg.MaxAge > 0 {
		h.Set("Access-Control-Max-Age", strconv.Itoa(int(c.cfg.MaxAge.Seconds())))
	}
	w.WriteHeader(http.StatusNoContent)
	return true
}
