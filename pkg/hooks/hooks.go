// Package hooks is the API of compiled-in gateway hooks, version 1: a team
// writes functions that run at the stages of every request, reads and
// rewrites headers, and can stop a request with a status and a GraphQL
// error. It builds its own binary with them through pkg/fedgate.Main
// (docs/extending.md).
//
// The API is small on purpose and changes only compatibly within a
// version: fields may be added to Call, never removed or changed. The
// gateway's internals stay internal.
package hooks

import (
	"context"
	"net/http"
)

// Version is the version of this API.
const Version = 1

// Stage names a point of the request pipeline; the names are those of
// Apollo Router's coprocessor stages.
type Stage string

// The stages, in the order one request passes them. The Router stages run
// once per HTTP request, the Supergraph and Execution stages once per
// GraphQL operation (several in a batch), the Subgraph stages once per
// subgraph fetch.
const (
	// RouterRequest: the client's HTTP request, once the caller is
	// authenticated and before its body is read. Header is the client's
	// request headers; changes are seen by every later stage (and by the
	// header rules that build subgraph requests).
	RouterRequest Stage = "RouterRequest"
	// SupergraphRequest: one GraphQL request of the body, before parsing.
	SupergraphRequest Stage = "SupergraphRequest"
	// ExecutionRequest: the operation validated, authorized, planned and
	// admitted (cost, rate), before it runs.
	ExecutionRequest Stage = "ExecutionRequest"
	// SubgraphRequest: one fetch to Subgraph. Header is the fetch's
	// request headers (a copy the hook may change).
	SubgraphRequest Stage = "SubgraphRequest"
	// SubgraphResponse: the subgraph's answer; Header its response
	// headers (read them; changes are not sent anywhere).
	SubgraphResponse Stage = "SubgraphResponse"
	// ExecutionResponse: the operation's answer, with its Status; also
	// each part of a @defer answer and each event of a subscription (per
	// subscriber), with Status 200.
	ExecutionResponse Stage = "ExecutionResponse"
	// SupergraphResponse: as ExecutionResponse, after it.
	SupergraphResponse Stage = "SupergraphResponse"
	// RouterResponse: the HTTP response before it is written. Header is
	// the response headers to the client, which the hook may change.
	RouterResponse Stage = "RouterResponse"
)

// Call is what a hook sees of one stage of one request.
type Call struct {
	// Stage is the stage running.
	Stage Stage
	// ID identifies the client request, the same at every stage of it.
	ID string
	// Header is the headers of the stage (see the stages).
	Header http.Header
	// Method and Path are the client request's.
	Method, Path string
	// OperationName is the GraphQL operation's name when known.
	OperationName string
	// Subgraph is the subgraph of a Subgraph stage.
	Subgraph string
	// Status is the HTTP status of a response stage.
	Status int
	// Claims are the caller's verified JWT claims; nil for an anonymous
	// caller. Read only.
	Claims map[string]any
	// Body is the stage's body, filled only at the stages a hook lists in
	// Hooks.Bodies (nil elsewhere): at RouterRequest and RouterResponse
	// the raw HTTP body (nil for a GET or a multipart upload); at
	// SupergraphRequest and ExecutionRequest the GraphQL request
	// {"query", "operationName", "variables", "extensions"}; at
	// ExecutionResponse and SupergraphResponse the GraphQL response; at
	// SubgraphRequest the subgraph request and at SubgraphResponse the
	// subgraph's answer. A hook rewrites it by assigning another slice
	// (never edit it in place; a slice of Body, such as Body trimmed, is
	// fine): the rewrite is used at every stage but ExecutionRequest,
	// where the operation is already planned. A hook must not keep Body
	// after it returns (its memory is reused).
	Body []byte
	// SDL is the supergraph schema served.
	SDL string
	// URI is the subgraph's URL at SubgraphRequest.
	URI string
	// SubgraphRequestID identifies one fetch: the same at its
	// SubgraphRequest and SubgraphResponse.
	SubgraphRequestID string
	// Context is shared by every stage of one request (and every hook):
	// a place for a hook's own values. It is not safe for concurrent
	// use from Subgraph stages, which may run in parallel: a hook that
	// writes to it there must bring its own locking. The other stages
	// never run beside a Subgraph stage's hooks (not even the
	// SupergraphResponse of a @defer answer's parts), so they may write
	// it freely.
	Context map[string]any
}

// Func is a hook for one stage. Returning a *Break stops the request
// (at a Subgraph stage: that fetch, whose fields get the error); any other
// error stops it as an internal error (500), whose text is logged, never
// shown.
type Func func(ctx context.Context, c *Call) error

// Hooks are the functions of one extension; nil stages are skipped.
type Hooks struct {
	RouterRequest      Func
	RouterResponse     Func
	SupergraphRequest  Func
	SupergraphResponse Func
	ExecutionRequest   Func
	ExecutionResponse  Func
	SubgraphRequest    Func
	SubgraphResponse   Func
	// Bodies lists the stages at which these hooks read Call.Body; the
	// gateway builds a body only where some hook asks for it.
	Bodies []Stage
	// Vary, when set, declares everything of a request that the
	// SubgraphRequest and SubgraphResponse hooks read besides what the
	// subgraphs send back; the response and entity caches and the
	// sharing of subscription events then tell callers apart by those
	// values only (inbound dedupe by those and, as without hooks, the
	// caller's credentials, identity and fetch headers). Call.Method and
	// Call.Path are not among what can be declared: hooks that read them
	// must leave Vary nil. Without it, while a hook runs at a Subgraph
	// stage, every caller whose credentials, method, path, Context or
	// claims differ is a caller of its own for the response and entity
	// caches (the caches cannot see beforehand what a hook will do to a
	// fetch).
	// A declaration that leaves out something a hook reads lets callers
	// share answers made for one another.
	Vary *Vary
	// Labels names Call.Context entries that label the request metrics
	// (fedgate_requests_total and fedgate_request_duration_seconds): when
	// a request ends, the string value of each entry ("" when it is not
	// set or not a string) is the value of the label of that name. A
	// name is a Prometheus label name, not operation or status. A label
	// takes at most 100 distinct values (cut to 64 bytes); the others
	// count as "other". Set the entries from what the gateway verified
	// (Claims), never from what a client sends: every distinct value is
	// a time series.
	Labels []string
}

// Vary names the parts of a request that Subgraph hooks read (Hooks.Vary).
type Vary struct {
	// Headers are the fetch headers the hooks read (Call.Header at
	// SubgraphRequest), as the header rules build them from the
	// client's request.
	Headers []string
	// Claims are the verified JWT claims the hooks read (Call.Claims).
	Claims []string
	// Context are the Call.Context entries the hooks read.
	Context []string
}

// For returns the hook of stage s, nil when none.
func (h *Hooks) For(s Stage) Func {
	switch s {
	case RouterRequest:
		return h.RouterRequest
	case RouterResponse:
		return h.RouterResponse
	case SupergraphRequest:
		return h.SupergraphRequest
	case SupergraphResponse:
		return h.SupergraphResponse
	case ExecutionRequest:
		return h.ExecutionRequest
	case ExecutionResponse:
		return h.ExecutionResponse
	case SubgraphRequest:
		return h.SubgraphRequest
	case SubgraphResponse:
		return h.SubgraphResponse
	}
	return nil
}

// Break stops a request: the client gets Status and one GraphQL error
// with Message and extensions.code Code.
type Break struct {
	// Status is the HTTP status; 0 means 403.
	Status int
	// Code is the error's extensions.code; "" means REQUEST_REJECTED.
	Code string
	// Message is shown to the client.
	Message string
}

// Error returns the message.
func (b *Break) Error() string { return b.Message }
