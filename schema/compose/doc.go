// Package compose composes Apollo Federation subgraph schemas into a
// supergraph SDL that Apollo Gateway, Apollo Router and this project's
// schema.Load accept.
//
// Input subgraphs are Federation v2 schemas (an @link to
// https://specs.apollo.dev/federation/v2.x, with imported, renamed or
// namespaced federation directives) or Federation v1 schemas (no @link:
// `extend type`, @key, @external, every field implicitly shareable). The
// output links join v0.3, v0.4 or v0.5 (as Apollo's composition does for
// the highest federation version used) and carries @tag, @inaccessible,
// @authenticated, @requiresScopes, @policy, @cost, @listSize and directives
// named by @composeDirective on the elements they were applied to.
//
// Errors use Apollo's composition error codes (INVALID_FIELD_SHARING,
// KEY_INVALID_FIELDS, SATISFIABILITY_ERROR, ...) and name the subgraph and
// the schema coordinate involved.
package compose
