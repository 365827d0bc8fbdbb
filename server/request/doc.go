// Package request decodes GraphQL-over-HTTP requests into Request values,
// before anything else looks at them.
//
// Decode accepts POST with an application/json body (one request object, or
// an array of them when batching is enabled), POST with an
// application/graphql body (the query itself), and GET with query,
// operationName, variables and extensions URL parameters. Every other
// method or content type is refused, so a CORS "simple request" (text/plain,
// form encodings) can never run an operation.
//
// The body is read through http.MaxBytesReader; a gzip body is decompressed
// and the cap applies again to the decompressed bytes. JSON is decoded by a
// strict decoder of this package rather than encoding/json, because the
// gateway must run exactly the document it costs and authorizes: keys match
// case-sensitively ({"query": A, "Query": B} runs A), a key repeated in any
// object is an error, invalid UTF-8 and unpaired surrogate escapes are
// errors (never replaced by U+FFFD), numbers and literals follow RFC 8259
// exactly, and nesting is bounded. Variables and extensions are returned as
// the raw bytes of their JSON objects, numbers untouched.
//
// Errors are *limits.Error values with a GraphQL extensions code and an
// HTTP status.
package request
