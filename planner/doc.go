// Package planner turns a client operation into a query plan for a
// supergraph.
//
// Normalize inlines fragments, applies @skip/@include and collects the
// fields of every selection set per possible concrete type (the spec's
// CollectFields). Plan then assigns every field to a subgraph and groups
// the fields into fetches:
//
//   - a field stays in the subgraph that resolves its parent when that
//     subgraph can resolve it (shareable fields, @provides included);
//   - otherwise the plan jumps: an entity fetch (_entities) to a subgraph
//     that resolves the field, keyed by a @key whose fields the current
//     fetch selects (or obtains through further jumps), with @requires
//     fields added to the representation;
//   - a field whose sub-selection no single subgraph resolves is split
//     between subgraphs (parent entity calls); on the query root the parts
//     become parallel root fetches;
//   - @interfaceObject positions fetch the interface's own fields from the
//     interface object and the concrete type from the subgraph that owns
//     the implementations.
//
// The choice between subgraphs is driven by an estimate of the extra
// fetches each would need for the whole sub-tree (memoized per selection),
// so plans prefer fewer sequential steps and fewer fetches.
//
// Fetches become a tree of Sequence, Parallel, Flatten and Fetch nodes in
// the shape of Apollo Router's plans (JSON and text forms).
//
// Plans and @skip/@include: the variable values of @skip/@include are
// applied during normalization, so a plan is specific to them. The plan
// cache key therefore holds the operation, its name and the values of the
// variables used by @skip/@include (see server), and never the other
// variables. Plans are immutable once built: the executor only reads them,
// so one cached plan serves concurrent requests.
package planner
