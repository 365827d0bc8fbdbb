// Command coprocessor is a small coprocessor in the shape of Apollo
// Router's documented examples (docs/extending.md): it answers every stage
// with the object it received, after adding a header at SubgraphRequest
// and, with -require-header, stopping RouterRequests that lack it with 401.
// With -block-introspection it reads the GraphQL request's body at
// SupergraphRequest (body: true) and stops documents that ask for
// __schema with 403.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"strings"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8081", "`ADDR` to listen on")
	require := flag.String("require-header", "", "stop RouterRequests without this `HEADER` with 401")
	introspection := flag.Bool("block-introspection", false, "stop SupergraphRequests whose body asks for __schema with 403")
	flag.Parse()
	srv := newServer(*listen, handler(strings.ToLower(*require), *introspection))
	log.Printf("coprocessor listening on %s", *listen)
	log.Fatal(srv.ListenAndServe())
}

// newServer is the coprocessor's HTTP server with deadlines: a copy of
// this example put in front of real traffic must not let a peer hold a
// connection by sending its headers slowly (http.ListenAndServe has none).
// The gateway bounds each exchange with the stage's timeout; these bound
// what reaches the coprocessor from anywhere else.
func newServer(addr string, h http.Handler) *http.Server {
	return &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
}

func handler(require string, blockIntrospection bool) http.Handler {
	// The gateway sends header names in lower case: -require-header
	// X-Api-Key names the header x-api-key.
	require = strings.ToLower(require)
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
		case "SupergraphRequest":
			body, _ := p["body"].(map[string]any)
			if q, _ := body["query"].(string); blockIntrospection && strings.Contains(q, "__schema") {
				p["control"] = map[string]any{"break": 403}
				p["body"] = map[string]any{"errors": []any{map[string]any{
					"message": "introspection is not allowed", "extensions": map[string]any{"code": "INTROSPECTION_BLOCKED"}}}}
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
