package auth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCheckCSRF: a request passes when one of its Content-Type values
// (or a part of one) is not simple, or when it carries a required
// header; the plain application/json taken without a parse passes as the
// parsed one does.
func TestCheckCSRF(t *testing.T) {
	cfg := CSRFConfig{Enabled: true, RequiredHeaders: []string{"X-Apollo-Operation-Name"}}
	for _, tt := range []struct {
		name   string
		method string
		ct     []string
		extra  string // a required header sent
		pass   bool
	}{
		{"json", http.MethodPost, []string{"application/json"}, "", true},
		{"json with a charset", http.MethodPost, []string{"application/json; charset=utf-8"}, "", true},
		{"text/plain", http.MethodPost, []string{"text/plain"}, "", false},
		{"text/plain then json in one value", http.MethodPost, []string{"text/plain, application/json"}, "", true},
		{"text/plain then json as two values", http.MethodPost, []string{"text/plain", "application/json"}, "", true},
		{"form", http.MethodPost, []string{"application/x-www-form-urlencoded"}, "", false},
		{"form with the required header", http.MethodPost, []string{"multipart/form-data"}, "X-Apollo-Operation-Name", true},
		{"malformed", http.MethodPost, []string{"text/plain; charset"}, "", true},
		{"GET without a type", http.MethodGet, nil, "", false},
		{"preflight", http.MethodOptions, []string{"text/plain"}, "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/graphql", nil)
			for _, v := range tt.ct {
				r.Header.Add("Content-Type", v)
			}
			if tt.extra != "" {
				r.Header.Set(tt.extra, "x")
			}
			if err := CheckCSRF(r, cfg); (err == nil) != tt.pass {
				t.Errorf("err %v, want pass %v", err, tt.pass)
			}
		})
	}
}

// TestCSRFErrorSaysWhatAGETNeeds: a refused GET is told of the headers
// it needs and not of a Content-Type (a GET has no body); a refused POST
// of both.
func TestCSRFErrorSaysWhatAGETNeeds(t *testing.T) {
	cfg := CSRFConfig{Enabled: true, RequiredHeaders: []string{"apollo-require-preflight", "x-apollo-operation-name"}}
	for _, tt := range []struct {
		method, ct   string
		want, absent string
	}{
		{http.MethodGet, "", "a GET operation must carry one of the headers apollo-require-preflight, x-apollo-operation-name (an address typed in a browser sends none", "Content-Type other than"},
		{http.MethodPost, "text/plain", "send a Content-Type other than application/x-www-form-urlencoded, multipart/form-data or text/plain, or one of the headers apollo-require-preflight, x-apollo-operation-name", "a GET operation"},
	} {
		t.Run(tt.method, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/graphql?query=%7B__typename%7D", nil)
			if tt.ct != "" {
				r.Header.Set("Content-Type", tt.ct)
			}
			err := CheckCSRF(r, cfg)
			if err == nil {
				t.Fatal("passed, want CSRF_ERROR")
			}
			if e := err.(*Error); e.Code != "CSRF_ERROR" || e.Status != http.StatusBadRequest || !strings.Contains(e.Message, tt.want) || strings.Contains(e.Message, tt.absent) {
				t.Errorf("%s %d %q, want CSRF_ERROR 400 saying %q and not %q", e.Code, e.Status, e.Message, tt.want, tt.absent)
			}
		})
	}
}
