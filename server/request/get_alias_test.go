package request

import (
	"strings"
	"testing"
	"unsafe"
)

// within reports whether s's bytes lie inside outer's memory.
func within(s, outer string) bool {
	if len(s) == 0 || len(outer) == 0 {
		return false
	}
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	lo := uintptr(unsafe.Pointer(unsafe.StringData(outer)))
	return p >= lo && p < lo+uintptr(len(outer))
}

// TestGETStringsOwnMemory: the query and operation name of a GET request
// are copies, not substrings of the request's URL. The document cache and
// the server's hash memo keep a query for long; a substring would keep
// the whole request line alive (up to http.max_header_bytes, 64 KiB by
// default) for a document of a few bytes, which the caches charge only
// the document's length.
func TestGETStringsOwnMemory(t *testing.T) {
	pad := strings.Repeat("x", 32<<10)
	tests := []struct {
		name string
		raw  string
	}{
		{name: "query first", raw: "query={a}&operationName=Q&pad=" + pad},
		{name: "padding first", raw: "pad=" + pad + "&operationName=Q&query={a}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := getReq(tt.raw)
			reqs, _, err := Decode(r, Options{})
			if err != nil {
				t.Fatal(err)
			}
			req := reqs[0]
			if req.Query != "{a}" || req.OperationName != "Q" {
				t.Fatalf("decoded query %q, operation %q", req.Query, req.OperationName)
			}
			if within(req.Query, r.URL.RawQuery) {
				t.Errorf("the query is a substring of the URL's %d bytes", len(r.URL.RawQuery))
			}
			if within(req.OperationName, r.URL.RawQuery) {
				t.Errorf("the operation name is a substring of the URL's %d bytes", len(r.URL.RawQuery))
			}
		})
	}
	// The test above must be able to see a substring.
	if raw := "query={a}"; !within(raw[6:], raw) {
		t.Fatal("within misses a substring")
	}
}
