// Loads a supergraph SDL (the Go composer's output) into Apollo Gateway and
// runs one operation through it against the subgraphs the supergraph names.
//
//   node scripts/compose/gateway-check.mjs SUPERGRAPH_FILE QUERY_FILE...
//
// Variables come from QUERY_FILE with .vars.json for .graphql, when there
// is one. Prints one JSON line per query file ({file, data, errors}); exits 1 when
// the gateway refuses the supergraph.
import { existsSync, readFileSync } from "node:fs";
import { ApolloGateway } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";

const [file, ...queries] = process.argv.slice(2);
if (!file || queries.length === 0) {
  console.error("usage: gateway-check.mjs SUPERGRAPH_FILE QUERY_FILE...");
  process.exit(2);
}
const gateway = new ApolloGateway({ supergraphSdl: readFileSync(file, "utf8"), logger: { debug() {}, info() {}, warn: console.error, error: console.error } });
const server = new ApolloServer({ gateway });
try {
  await server.start();
} catch (err) {
  console.error(`Apollo Gateway refused the supergraph: ${err.message}`);
  process.exit(1);
}
for (const queryFile of queries) {
  const varsFile = queryFile.replace(/\.graphql$/, ".vars.json");
  const variables = existsSync(varsFile) ? JSON.parse(readFileSync(varsFile, "utf8")) : undefined;
  const response = await server.executeOperation({ query: readFileSync(queryFile, "utf8"), variables });
  const body = response.body.kind === "single" ? response.body.singleResult : { errors: [{ message: "incremental response" }] };
  console.log(JSON.stringify({ file: queryFile, data: body.data ?? null, errors: body.errors ?? [] }));
}
await server.stop();
