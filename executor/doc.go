// Package executor runs query plans: it sends the plan's fetches to the
// subgraphs through a Transport (independent fetches concurrently, entity
// representations batched and deduplicated per fetch), merges the answers
// into one response tree and renders the client's response from it in the
// order of the client's selection, with aliases, __typename, GraphQL null
// propagation and subgraph errors re-pathed into the client's paths.
//
// Subgraph answers are parsed with internal/jsonvalue and merged in
// place: a fetch parses into its own parser, which the request keeps until
// the response is written, so no intermediate map trees are built. An
// entity fetch with contextual arguments (@fromContext, contexts.go) reads
// each object's values from its nearest ancestor that sets the context and
// asks for the objects whose values differ in aliased _entities fields of
// one request, as Apollo Router does. The plan is only read; all
// per-request state lives in an unexported execution value.
package executor
