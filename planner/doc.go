// Package planner turns a client operation into a query plan for a
// supergraph.
//
// A newcomer reads the files in the order of the passes:
//
//	operation.go   Normalize: fragments inlined, @skip/@include applied, the
//	               fields of every selection collected per possible concrete
//	               type (the spec's CollectFields). The Operation is never
//	               changed afterwards, by this package or any other.
//	datakeys.go    data keys: the key under which every field is merged into
//	               the response tree, one per field for the whole plan; the
//	               reserved namespace (ReservedPrefix) for the fields the
//	               planner adds (keys, @requires inputs), which no client
//	               alias can reach.
//	schemaview.go  supergraph lookups routing asks (resolvable, keys,
//	               possible types); candidates.go the subgraphs that could
//	               resolve a shareable path (union members all of them have).
//	route.go       route: each field placed in a fetch group - in its parent's
//	               subgraph when it resolves it, else through an entity jump
//	               (cost.go estimates the extra fetches of each choice, with a
//	               memoized key reachability; keychain.go the fewest fetches
//	               over key chains where one jump finds no key, a shortest-path
//	               search; provides.go, requires.go, context.go and
//	               interfaceobject.go for those features). Routing's scope
//	               is a value passed down, routeCtx (jump depth, the
//	               fetches whose representation is being planned), with
//	               the estimates' costScope (avoided subgraphs, key
//	               estimates in progress); route_test.go calls the steps
//	               with chosen scopes. rootchoice.go chooses the root
//	               fields' subgraphs together (fewest jumps, then shared
//	               root fetches, then ties).
//	group.go       fetch groups: one subgraph fetch each, with its paths,
//	               selection, representations and dependencies.
//	merge.go       merge: same-level entity fetches to one subgraph joined
//	               when their selections agree.
//	tree.go        tree: Sequence / Parallel / Flatten from the dependencies.
//	emit.go        emit: subgraph operation text, variables, representations
//	               (input rewrites), output rewrites (conflicts.go), names.
//	shape.go       shape: the render shape the executor writes the
//	               response from (response and data keys, nullability per
//	               list level, enum sets, possible types, __typename and
//	               introspection, authorization denials); defer.go splits
//	               it (and the plan) for @defer.
//	keys.go        keys, the last pass: the set of keys the executor looks
//	               up in subgraph answers (Plan.Keys), one string per text
//	               in the whole plan, which answers are parsed against.
//	plan.go        the immutable Plan and its JSON / text forms.
//
// Planner.Plan (planner.go) runs them in that order. Planning counts its
// work against Options.Budget and fails with an over-budget *Error instead
// of running away. The authorization result is an input (Options.Authorized
// and Denied): the plan is built from the authorized operation, and its
// shape is the client's operation with the denied fields marked (they
// render null with an error).
//
// Plans and @skip/@include: the variable values of @skip/@include are
// applied during normalization, so a plan is specific to them. The plan
// cache key therefore holds the operation, its name and the values of the
// variables used by @skip/@include (see server), and never the other
// variables. Plans are immutable once built: the executor only reads them,
// so one cached plan serves concurrent requests.
package planner
