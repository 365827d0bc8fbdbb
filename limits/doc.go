// Package limits holds the static request limits the gateway checks before
// anything expensive happens to a GraphQL document.
//
// The checks run in this order, each bounded by the size of its input:
//
//	Prescan  one linear pass over the raw text: UTF-8, nesting of { ( [
//	Parse    gqlparser with a token limit (Parse runs Prescan first)
//	Check    one walk of the AST: depth, aliases, fields, root fields and
//	         directives per field, with fragment spreads expanded by
//	         memoisation and saturating counters; 32-bit Int literals
//
// Prescan exists because gqlparser's parser is recursive: a document nested
// deeply enough can exhaust the goroutine stack, a fatal error that recover
// cannot catch. Check exists because validation is quadratic in repeated
// fields and because fragments that spread each other several times expand
// exponentially: a 1.3 KB document can stand for 2^30 selections. Check
// computes the expanded counts per fragment once, so its cost is linear in
// the document, never in its expansion.
//
// Every error is an *Error carrying a GraphQL extensions code and an HTTP
// status. Messages are short and never echo more than a few dozen bytes of
// the input.
//
// A Static value is immutable configuration; its methods may be called from
// any number of goroutines.
package limits
