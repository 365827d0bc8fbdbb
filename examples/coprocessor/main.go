// Command coprocessor is a small coprocessor in the shape of Apollo
// Router's documented examples (docs/extending.md): it answers every stage
// with the object it received, after adding a header at SubgraphRequest
// and, with -require-header, stopping RouterRequests that lack it with 401.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"strings"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8081", "`ADDR` to listen on")
	require := flag.String("require-header", "", "stop RouterRequests without this `HEADER` with 401")
	flag.Parse()
	log.Fatal(http.ListenAndServe(*listen, handler(strings.ToLower(*require))))
}

func handler(require string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p map[string]any
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<20)).Decode(&p); err != nil {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		headers, _ := p["headers"].(map[string]any)
		switch p["stage"] {
		case "RouterRequest":
			if _, ok := headers[require]; require != "" && !ok {
				p["control"] = map[string]any{"break": 401}
				p["body"] = map[string]any{"errors": []any{map[string]any{
					"message": "missing " + require, "extensions": map[string]any{"code": "UNAUTHENTICATED"}}}}
			}
		case "SubgraphRequest":
			if headers != nil {
				headers["x-coprocessed"] = []any{p["serviceName"]}
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(p)
	})
}
