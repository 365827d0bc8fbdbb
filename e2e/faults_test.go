package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/subgraphs"
)

// The fault fixture (testdata/supergraphs/fault.graphql) has two subgraphs:
// main serves Query.things, side serves Thing.extra, Thing.extraCount and
// Query.sideInfo. main always answers; side answers in one of these modes.
const (
	faultNone     = ""        // side answers correctly
	fault500      = "500"     // HTTP 500 with a text body
	faultBadJSON  = "badjson" // HTTP 200 with a truncated JSON body
	faultHang     = "hang"    // no answer until the client gives up
	faultErrors   = "errors"  // HTTP 200, GraphQL errors and a null entity
	faultFixture  = "testdata/supergraphs/fault.graphql"
	faultTimeout  = 300 * time.Millisecond // the subgraph client's timeout in fault tests
	hangUpperTime = 10 * time.Second       // a hanging handler gives up by itself after this
)

// faultClient is the subgraph client of a fault test in mode: only a
// hanging side has the short faultTimeout. Every other answer, main's
// included, has the default timeout, so a loaded machine cannot turn a
// slow answer into a timeout the case does not expect (CI saw main time
// out at 300 ms and the whole answer become null).
func faultClient(mode string) gatewaytest.Option {
	cfg := subgraphs.DefaultConfig()
	if mode == faultHang {
		side := cfg.All
		side.Timeout = faultTimeout
		cfg.Overrides = map[string]subgraphs.Settings{"side": side}
	}
	return gatewaytest.WithClientOptions(subgraphs.Options{Config: &cfg})
}

// mainHandler answers every request with the same two things; the gateway
// renders only what the client selected.
func mainHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":{"things":[` +
			`{"__typename":"Thing","id":"1","name":"One"},` +
			`{"__typename":"Thing","id":"2","name":"Two"}]}}`))
	})
}

// sideHandler answers _entities for Thing and Query.sideInfo, failing as
// mode says.
func sideHandler(mode string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Query     string `json:"query"`
			Variables struct {
				Representations []struct {
					Typename string `json:"__typename"`
					ID       string `json:"id"`
				} `json:"representations"`
			} `json:"variables"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		entities := strings.Contains(req.Query, "_entities")
		switch mode {
		case fault500:
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		case faultBadJSON:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"data":{"_entities":[{"__typename":"Thing",`))
			return
		case faultHang:
			select {
			case <-r.Context().Done():
			case <-time.After(hangUpperTime):
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if !entities {
			if mode == faultErrors {
				_, _ = w.Write([]byte(`{"data":{"sideInfo":null},"errors":[{"message":"side info is unavailable","path":["sideInfo"],"extensions":{"code":"UNAVAILABLE"}}]}`))
				return
			}
			_, _ = w.Write([]byte(`{"data":{"sideInfo":"from side"}}`))
			return
		}
		type entity struct {
			Typename   string  `json:"__typename"`
			Extra      *string `json:"extra"`
			ExtraCount int     `json:"extraCount"`
		}
		out := make([]*entity, 0, len(req.Variables.Representations))
		for _, rep := range req.Variables.Representations {
			extra := "extra-" + rep.ID
			out = append(out, &entity{Typename: rep.Typename, Extra: &extra, ExtraCount: len(rep.ID) * 10})
		}
		resp := map[string]any{"data": map[string]any{"_entities": out}}
		if mode == faultErrors && len(out) > 0 {
			// The first entity's extra fails, as a resolver error would.
			out[0].Extra = nil
			resp["errors"] = []any{map[string]any{
				"message":    "thing " + req.Variables.Representations[0].ID + " is broken",
				"path":       []any{"_entities", 0, "extra"},
				"extensions": map[string]any{"code": "BROKEN"},
			}}
		}
		_ = json.NewEncoder(w).Encode(resp)
	})
}

// TestFaultsCostOnlyTheirFields checks the promise of DESIGN.md: a subgraph
// that fails costs only its own fields. Whatever side does, main's data is
// served, side's fields are null, and the error carries the path, a code
// and the subgraph's name. The goldens fault_*.json hold the exact answers.
func TestFaultsCostOnlyTheirFields(t *testing.T) {
	sdl, err := os.ReadFile(filepath.Join(repoRoot, faultFixture))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ mode, code string }{
		{fault500, "SUBREQUEST_HTTP_ERROR"},
		{faultBadJSON, "SUBREQUEST_MALFORMED_RESPONSE"},
		{faultHang, "SUBREQUEST_TIMEOUT"},
		{faultErrors, "BROKEN"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			g := gatewaytest.Start(t,
				gatewaytest.WithSupergraph(string(sdl)),
				gatewaytest.WithHandler("main", mainHandler()),
				gatewaytest.WithHandler("side", sideHandler(tc.mode)),
				faultClient(tc.mode))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			start := time.Now()
			resp, err := g.Post(ctx, []byte(`{"query":"{ things { id name extra } }"}`))
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > faultTimeout+2*time.Second {
				t.Errorf("the answer took %v; the subgraph timeout is %v", d, faultTimeout)
			}
			if resp.Status != http.StatusOK {
				t.Fatalf("status %d: %s", resp.Status, resp.Body)
			}
			var body struct {
				Data struct {
					Things []struct {
						ID    string  `json:"id"`
						Name  string  `json:"name"`
						Extra *string `json:"extra"`
					} `json:"things"`
				} `json:"data"`
				Errors []struct {
					Message    string         `json:"message"`
					Path       []any          `json:"path"`
					Extensions map[string]any `json:"extensions"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(resp.Body, &body); err != nil {
				t.Fatal(err)
			}
			if len(body.Data.Things) != 2 || body.Data.Things[0].Name != "One" || body.Data.Things[1].Name != "Two" {
				t.Errorf("main's data is lost: %s", resp.Body)
			}
			if len(body.Data.Things) > 0 && body.Data.Things[0].Extra != nil {
				t.Errorf("things[0].extra = %q, want null", *body.Data.Things[0].Extra)
			}
			if len(body.Errors) == 0 {
				t.Fatalf("no error: %s", resp.Body)
			}
			for _, e := range body.Errors {
				if len(e.Path) == 0 || e.Path[0] != "things" {
					t.Errorf("error %q has path %v, want one under things", e.Message, e.Path)
				}
				if e.Extensions["code"] != tc.code {
					t.Errorf("error %q has code %v, want %s", e.Message, e.Extensions["code"], tc.code)
				}
				if e.Extensions["serviceName"] != "side" {
					t.Errorf("error %q has serviceName %v, want side", e.Message, e.Extensions["serviceName"])
				}
			}
		})
	}
}
