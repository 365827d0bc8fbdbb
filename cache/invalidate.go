package cache

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// maxInvalidationBody bounds an invalidation request.
const maxInvalidationBody = 1 << 20

// InvalidationHandler serves entity cache invalidation for the admin
// listener: a POST whose JSON body is one Invalidation or an array of
// them, in Apollo Router's shape:
//
//	[{"kind":"subgraph","subgraph":"accounts"},
//	 {"kind":"type","subgraph":"products","type":"Product"},
//	 {"kind":"entity","subgraph":"products","type":"Product","key":{"upc":"1"}}]
//
// It answers {"count":N} with the number of Redis entries deleted, 400
// with {"error":...} naming the bad item, or 502 when Redis fails (the
// in-process entries are invalidated anyway).
func InvalidationHandler(c *EntityCache) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": "use POST"})
			return
		}
		var raw json.RawMessage
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxInvalidationBody)).Decode(&raw); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "the body must be a JSON object or array: " + err.Error()})
			return
		}
		var list []Invalidation
		if len(raw) > 0 && raw[0] == '[' {
			if err := json.Unmarshal(raw, &list); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
				return
			}
		} else {
			var one Invalidation
			if err := json.Unmarshal(raw, &one); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
				return
			}
			list = []Invalidation{one}
		}
		for i, inv := range list {
			if _, _, err := inv.scope(); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]any{"error": fmt.Sprintf("[%d].%v", i, err)})
				return
			}
		}
		total := 0
		for _, inv := range list {
			n, err := c.Invalidate(r.Context(), inv)
			total += n
			if err != nil {
				writeJSON(w, http.StatusBadGateway, map[string]any{"error": err.Error(), "count": total})
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"count": total})
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
