// Package subscriptions serves GraphQL subscriptions to clients over
// graphql-transport-ws (the graphql-ws library's WebSocket protocol),
// GraphQL over SSE (the graphql-sse protocol, distinct and single
// connection modes) and Apollo's multipart HTTP subscriptions, and runs
// the event loop:
// each subscription's primary fetch is streamed from the subgraph that
// owns the root field (package subgraphs/wsclient, which shares upstream
// streams and connections), and each event is completed with the rest of
// the plan (entity fetches to other subgraphs) before it is sent.
//
// Identical subscriptions (same plan, variables and forwarded headers)
// share the completion of each event: it is executed once and its
// response fanned out.
//
// The WebSocket and SSE state machines are written here: the maintained
// Go servers of these protocols (gqlgen's transports) run a gqlgen
// ExecutableSchema, not a federated plan. The WebSocket handshake, reads
// and control frames are github.com/coder/websocket; the protocol's
// messages are framed and written here (wsio.go), so that an event fanned
// out to thousands of sockets costs one non-blocking write each and no
// goroutine.
package subscriptions

import (
	"context"
	"net/http"
	"time"

	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/server/request"
	"github.com/vektah/gqlparser/v2/ast"
)

// Gateway is what the transports need from the gateway's request
// pipeline (server.Server implements it).
type Gateway interface {
	// Admit runs CORS (w may be nil), CSRF when csrf is set, and
	// authentication of r's token; it returns r with the caller in its
	// context.
	Admit(w http.ResponseWriter, r *http.Request, csrf bool) (*http.Request, Identity, *RequestError)
	// ClientOf is the key of the per-client limits for r before it is
	// authenticated (a WebSocket's upgrade, whose token may arrive in
	// connection_init): as the rate limits identify an anonymous caller
	// (API key, address).
	ClientOf(r *http.Request) string
	// ReadRequests reads and decodes the GraphQL request in r's body (at
	// most maxBytes) as the gateway reads a plain request's: under its
	// body deadline and its budget of the bodies being read at once.
	ReadRequests(w http.ResponseWriter, r *http.Request, maxBytes int64) ([]request.Request, error)
	// ReadBudget is the gateway's budget of the bytes being read at once
	// (nil: none); WebSocket messages in progress take from it.
	ReadBudget() *request.Budget
	// Prepare executes a query or mutation, or validates, authorizes,
	// admits and plans a subscription, for the caller of r.
	Prepare(ctx context.Context, r *http.Request, req request.Request) (*Prepared, *RequestError)
}

// Handler serves the requests it claims.
type Handler interface {
	http.Handler
	// Claims reports whether r is a stream request: a WebSocket upgrade,
	// or a request that accepts text/event-stream or multipart/mixed.
	Claims(r *http.Request) bool
	// Reload is told the API schema of a supergraph swapped in (a hot
	// reload); see Engine.Reload.
	Reload(api *ast.Schema)
}

// Identity is who a stream belongs to.
type Identity struct {
	// Client is the key of the per-client limits, as the gateway's rate
	// limits identify the caller ("jwt:…", "key:…", "address:…").
	Client string
	// Expires is when the caller's token expires (zero: no expiry); the
	// caller's subscriptions end with UNAUTHENTICATED then.
	Expires time.Time
}

// RequestError is an answer refusing a request: the HTTP status and a
// GraphQL response body ({"errors":[...]}).
type RequestError struct {
	Status int
	Body   []byte
	// RetryAfter is when a refused client may try again (a rate limit's
	// refusal); zero when it does not say.
	RetryAfter time.Duration
}

// Prepared is an operation ready to run.
type Prepared struct {
	// Result is the response of a query or mutation; nil for a
	// subscription.
	Result []byte
	// Incremental, when set in place of Result, runs a query with @defer:
	// it gives each payload (the initial one, then the subsequent ones)
	// to emit, each sent as a next message, and stops when emit returns
	// false.
	Incremental func(emit func(payload []byte) bool)
	// Plan, Input and Transport run a subscription's events.
	Plan          *planner.SubscriptionPlan
	Input         executor.Input
	Transport     executor.Transport
	OperationName string
	// API is the API schema the subscription was planned against (a
	// reload may replace it before the subscription starts).
	API *ast.Schema
	// Key identifies what the completion of an event depends on besides
	// the variables and forwarded headers (document, operation,
	// authorization grants, plan): subscriptions with equal keys,
	// variables and headers share each event's completion.
	Key string
	// Respond, when set, runs on each completed event of this
	// subscription before it is sent (the gateway's response hooks, with
	// this subscriber's hook state): out replaces the event, and errs,
	// when not nil (a JSON list of GraphQL errors), ends the subscription
	// with those errors instead. ctx ends when the event's group of
	// subscriptions stops. It runs once per subscriber and event, for up
	// to 64 subscribers of one event at once (each on a goroutine of its
	// own), and the next event waits until it ran for every subscriber.
	Respond func(ctx context.Context, event []byte) (out, errs []byte)
}
