package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/server"
)

// leakyUsers answers publicNote with an error that names an internal host
// and carries a stack trace, as subgraph frameworks write them.
var leakyUsers = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"data":{"publicNote":null},"errors":[{"message":"dial tcp db-7.corp.internal:5432: connection refused",` +
		`"path":["publicNote"],"extensions":{"code":"DB_UNAVAILABLE","exception":{"stacktrace":["at Pool.connect (/srv/app/db.js:12)"]},"host":"db-7.corp.internal"}}]}`))
})

// leakyReviews answers with an error without a code.
var leakyReviews = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"data":null,"errors":[{"message":"NullPointerException at com.corp.ReviewService:88","extensions":{"trace":"x"}}]}`))
})

// includePair starts two gateways with users and leakyReviews as the
// subgraphs users and reviews: def with the default options (every
// subgraph's errors redacted), incl including the errors of users.
func includePair(t *testing.T, users http.Handler) (def, incl *gatewaytest.Gateway) {
	t.Helper()
	start := func(opts server.Options) *gatewaytest.Gateway {
		return gatewaytest.Start(t, gatewaytest.WithSupergraph(authSupergraph(t)),
			gatewaytest.WithHandler("users", users), gatewaytest.WithHandler("reviews", leakyReviews),
			gatewaytest.WithServerOptions(opts))
	}
	opts := server.DefaultOptions()
	def = start(opts)
	opts.IncludeSubgraphErrors = func(name string) bool { return name == "users" }
	return def, start(opts)
}

// TestSubgraphErrorsRedacted: by default the errors a subgraph writes
// reach the client with a generic message, their path and code only; a
// subgraph configured to include its errors passes them as written, the
// others stay redacted.
func TestSubgraphErrorsRedacted(t *testing.T) {
	const query = `{ publicNote }`
	redacted := `{"data":{"publicNote":null},"errors":[{"message":"Subgraph errors redacted","path":["publicNote"],"extensions":{"code":"DB_UNAVAILABLE","serviceName":"users"}}]}`
	verbatim := `{"data":{"publicNote":null},"errors":[{"message":"dial tcp db-7.corp.internal:5432: connection refused","path":["publicNote"],` +
		`"extensions":{"code":"DB_UNAVAILABLE","exception":{"stacktrace":["at Pool.connect (/srv/app/db.js:12)"]},"host":"db-7.corp.internal","serviceName":"users"}}]}`
	reviewsRedacted := `{"data":null,"errors":[{"message":"Subgraph errors redacted","extensions":{"code":"DOWNSTREAM_SERVICE_ERROR","serviceName":"reviews"}}]}`

	def, incl := includePair(t, leakyUsers)
	for _, tc := range []struct {
		name  string
		g     *gatewaytest.Gateway
		query string
		want  string
	}{
		{"default redacts", def, query, redacted},
		{"default redacts an error without a code", def, `{ reviews { body } }`, reviewsRedacted},
		{"included subgraph", incl, query, verbatim},
		{"other subgraph stays redacted", incl, `{ reviews { body } }`, reviewsRedacted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(t, tc.g, tc.query, "", nil)
			if resp.Status != http.StatusOK || string(resp.Body) != tc.want {
				t.Errorf("status %d body %s\nwant 200 %s", resp.Status, resp.Body, tc.want)
			}
			if tc.want != verbatim {
				for _, leak := range []string{"corp", "stacktrace", "Exception", "trace"} {
					if strings.Contains(string(resp.Body), leak) {
						t.Errorf("the answer leaks %q: %s", leak, resp.Body)
					}
				}
			}
		})
	}
}

// TestSubgraphFailureCause: a fetch that fails in transport (here a 503
// that is not GraphQL) reaches the client as the gateway's words, with no
// address of the subgraph, unless the subgraph's errors are included
// (include_errors, Apollo Router's include_subgraph_errors): then the
// cause the log gives, the subgraph's URL in it, is in the message too.
func TestSubgraphFailureCause(t *testing.T) {
	down := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream connect error", http.StatusServiceUnavailable)
	})
	def, incl := includePair(t, down)
	const generic = `"message":"HTTP fetch failed from 'users': 503: Service Unavailable"`
	for _, tc := range []struct {
		name  string
		g     *gatewaytest.Gateway
		want  string
		leaks bool
	}{
		{"default", def, generic, false},
		{"included", incl, `"message":"HTTP fetch failed from 'users': 503: Service Unavailable: http://127.0.0.1:`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(t, tc.g, `{ publicNote }`, "", nil)
			body := string(resp.Body)
			if !strings.Contains(body, tc.want) || !strings.Contains(body, `"code":"SUBREQUEST_HTTP_ERROR","serviceName":"users"`) {
				t.Errorf("%s\nwant %s", body, tc.want)
			}
			if strings.Contains(body, "127.0.0.1") != tc.leaks {
				t.Errorf("the subgraph's address in the answer: %v, want %v: %s", !tc.leaks, tc.leaks, body)
			}
			if tc.leaks && !strings.Contains(body, `answered status 503 (Content-Type \"text/plain; charset=utf-8\")"`) {
				t.Errorf("the included message lacks the cause: %s", body)
			}
		})
	}
}
