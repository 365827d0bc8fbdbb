// Composes the demo subgraph schemas into the supergraph at gateway.graphql.
//
//   cd scripts/compose && npm ci && node compose.mjs          # write gateway.graphql
//   node scripts/compose/compose.mjs --check                  # fail if it is stale
//
// The first line of gateway.graphql is
//
//   # Composed from subgraphs with hash: <sha256>
//
// where <sha256> is the hex SHA-256 of the four subgraphs/demo/<name>/schema.graphqls
// files concatenated in name order. A Go test recomputes it, so editing a
// subgraph schema without recomposing fails the build.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { composeServices } from "@apollo/composition";
import { parse } from "graphql";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const output = join(root, "gateway.graphql");

// Routing URLs baked into the supergraph, in name order.
const subgraphs = [
  { name: "accounts", url: "http://127.0.0.1:4101/graphql" },
  { name: "inventory", url: "http://127.0.0.1:4102/graphql" },
  { name: "products", url: "http://127.0.0.1:4103/graphql" },
  { name: "reviews", url: "http://127.0.0.1:4104/graphql" },
];

function fail(message) {
  console.error(`compose: ${message}`);
  process.exit(1);
}

const check = process.argv.includes("--check");

const hash = createHash("sha256");
const services = subgraphs.map(({ name, url }) => {
  const file = join(root, "subgraphs", "demo", name, "schema.graphqls");
  if (!existsSync(file)) fail(`missing ${file}`);
  const sdl = readFileSync(file, "utf8");
  hash.update(sdl, "utf8");
  let typeDefs;
  try {
    typeDefs = parse(sdl);
  } catch (err) {
    fail(`${name}: ${err.message}`);
  }
  return { name, url, typeDefs };
});

const result = composeServices(services);
if (result.errors && result.errors.length > 0) {
  for (const err of result.errors) {
    const code = err.extensions?.code ? `[${err.extensions.code}] ` : "";
    console.error(`compose: ${code}${err.message}`);
  }
  fail(`composition failed with ${result.errors.length} error(s)`);
}
for (const hint of result.hints ?? []) {
  console.error(`compose: hint [${hint.definition.code}] ${hint.message}`);
}

const supergraph =
  `# Composed from subgraphs with hash: ${hash.digest("hex")}\n` +
  result.supergraphSdl.trimEnd() +
  "\n";

if (check) {
  const current = existsSync(output) ? readFileSync(output, "utf8") : "";
  if (current !== supergraph) fail("gateway.graphql is stale; run `make compose`");
  console.error("compose: gateway.graphql is up to date");
} else {
  writeFileSync(output, supergraph);
  console.error(`compose: wrote ${output}`);
}
