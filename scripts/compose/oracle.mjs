// Composes every *.graphql file of a directory with @apollo/composition and
// prints the supergraph SDL, or the error codes and messages (one a line).
// A development aid for comparing with the Go composer (schema/compose).
//
//   node scripts/compose/oracle.mjs testdata/compose/<case> [--api]
import { readFileSync, readdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { composeServices } from "@apollo/composition";
import { parse, printSchema, lexicographicSortSchema, buildSchema } from "graphql";

const dir = resolve(process.argv[2]);
const api = process.argv.includes("--api");
const files = readdirSync(dir).filter((f) => f.endsWith(".graphql") && f !== "supergraph.graphql").sort();
const services = [];
for (const file of files) {
  const name = basename(file, ".graphql");
  try {
    services.push({ name, url: `http://127.0.0.1:4999/${name}`, typeDefs: parse(readFileSync(join(dir, file), "utf8")) });
  } catch (err) {
    console.log(`ERROR INVALID_GRAPHQL ${name}: ${err.message}`);
    process.exit(0);
  }
}
const result = composeServices(services);
if (result.errors && result.errors.length > 0) {
  for (const err of result.errors) console.log(`ERROR ${err.extensions?.code} ${err.message}`);
  process.exit(0);
}
if (api) {
  console.log(printSchema(lexicographicSortSchema(result.schema.toAPISchema().toGraphQLJSSchema())));
} else {
  console.log(result.supergraphSdl);
}
for (const hint of result.hints ?? []) console.error(`hint [${hint.definition.code}] ${hint.message}`);
