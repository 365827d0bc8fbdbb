// Introspects schemas with graphql-js, for executor's introspection test:
//   node introspect.mjs GRAPHQL_MODULE_DIR INPUT.json
// INPUT.json is {"query": "...", "schemas": {"name": "SDL", ...}}; prints
// {"name": result, ...} where result is the execution result of query
// against buildSchema(SDL).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const [moduleDir, input] = process.argv.slice(2);
const require = createRequire(join(moduleDir, "package.json"));
const { buildSchema, graphqlSync } = require("graphql");
const { query, schemas } = JSON.parse(readFileSync(input, "utf8"));
const out = {};
for (const [name, sdl] of Object.entries(schemas)) {
  try {
    out[name] = graphqlSync({ schema: buildSchema(sdl), source: query });
  } catch (err) {
    out[name] = { errors: [{ message: `graphql-js: ${err.message}` }] };
  }
}
console.log(JSON.stringify(out));
