// Package auth verifies JWTs, identifies clients and applies field-level
// authorization directives.
//
//   - Verifier checks tokens (golang-jwt/jwt/v5) against keys from the
//     configuration (PEM, JWK, HMAC secret) and JSON Web Key Sets fetched
//     in the background; each key has an algorithm allowlist, so alg
//     "none" and HS/RS key confusion find no key. Verified tokens are
//     cached until they expire.
//   - Authenticator finds the token of a request (header or cookie) and
//     returns the Caller the server stores in the request context.
//   - Authorizer reads @authenticated, @requiresScopes and @policy from a
//     supergraph; Authorize marks the fields of a normalized operation the
//     caller may not see and returns the operation to plan without them.
//     Grants.Key keys plans by authorization outcome.
//   - Propagation builds the headers of subgraph requests; CheckCSRF and
//     CORS guard browser requests.
package auth
