// Package limits protects the gateway from expensive requests: static
// limits on the document, cost analysis of operations, and per-client rate
// limits.
//
// Static limits run before anything expensive happens to a document, each
// bounded by the size of its input:
//
//	Prescan  one linear pass over the raw text: UTF-8, nesting of { ( [
//	Parse    gqlparser with a token limit (Parse runs Prescan first)
//	Check    one walk of the AST: depth, aliases, fields, root fields,
//	         directives per field and chains of fragment spreads, with
//	         fragment spreads expanded by memoisation and saturating
//	         counters
//
// IntRangeRule, a validation rule, refuses Int literals beyond 32 bits in
// Int positions (validation knows a literal's position; Check does not).
//
// Prescan exists because gqlparser's parser is recursive: a document nested
// deeply enough can exhaust the goroutine stack, a fatal error that recover
// cannot catch. Check exists because validation is quadratic in repeated
// fields and because fragments that spread each other several times expand
// exponentially: a 1.3 KB document can stand for 2^30 selections. Check
// computes the expanded counts per fragment once, so its cost is linear in
// the document, never in its expansion.
//
// Cost analysis (CostModel) reads @cost and @listSize from the supergraph
// and scores a normalized operation before it runs (Estimate) and from its
// response (Actual), following IBM's cost directive spec with Apollo
// Router's defaults.
//
// Per-client limits (Policy) identify the client of a request (a JWT claim,
// an API key, the remote address), place it in a tier and count requests
// and cost points per window with GCRA, in Redis (RedisLimiter: one Lua
// script call per request, shared by every gateway instance, local limits
// while Redis is unreachable) or in memory (MemoryLimiter).
//
// Every error is an *Error carrying a GraphQL extensions code and an HTTP
// status. Messages are short and never echo more than a few dozen bytes of
// the input.
//
// Static values and CostModels are immutable; Policy and the limiters are
// safe for concurrent use.
package limits
