// Prints the query plan Apollo's query planner (the one Apollo Gateway runs)
// makes for an operation over a supergraph file: to read why Apollo Gateway
// routed a field where fedgate did not, without starting gateways.
//
//   node e2e/difftest/js/apollo-plan.mjs SUPERGRAPH.graphql 'query { ... }' [OPERATION_NAME]
//
// @apollo/query-planner and @apollo/federation-internals are @apollo/gateway's
// own dependencies, at the versions package-lock.json pins for it.
// APOLLO_FEDERATION_DEBUG=true prints the planner's trace (options per
// branch, the cost of each plan it evaluated) to stderr.
import { readFileSync } from "node:fs";
import { Supergraph, operationFromDocument } from "@apollo/federation-internals";
import { QueryPlanner, prettyFormatQueryPlan } from "@apollo/query-planner";
import { parse } from "graphql";

const [file, query, operationName] = process.argv.slice(2);
if (!file || !query) {
  console.error("usage: apollo-plan.mjs SUPERGRAPH.graphql QUERY [OPERATION_NAME]");
  process.exit(2);
}
const supergraph = Supergraph.build(readFileSync(file, "utf8"));
const operation = operationFromDocument(supergraph.schema, parse(query), { operationName, validate: true });
console.log(prettyFormatQueryPlan(new QueryPlanner(supergraph).buildQueryPlan(operation)));
