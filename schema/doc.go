// Package schema loads an Apollo Federation v2 supergraph SDL into a typed,
// immutable model: which subgraphs (join__Graph values) can resolve every type
// and field, with which keys, @requires, @provides, @external and @override
// settings. It also derives the client-facing API schema, from which the
// federation machinery and every @inaccessible element are removed.
//
// The supergraph formats read are those produced by rover, @apollo/composition
// and Hive: core schema @link v1.0 (or the older @core) with the join spec
// v0.1 to v0.5 under its own name or a renamed prefix (@link(as:)).
//
// A Supergraph is never modified after Load returns, so one value can serve
// any number of concurrent requests; a reload builds a new one.
package schema
