// Validates documents with graphql-js, for opgen's test of the documents
// the generator threw away:
//   node validate.mjs GRAPHQL_MODULE_DIR INPUT.json
// INPUT.json is {"schemas": {"name": "SDL"}, "docs": [{"graph", "query",
// "variables", "operationName"}]}; prints a JSON list with, per document,
// whether graphql-js finds it valid and its variables coerce.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const [moduleDir, input] = process.argv.slice(2);
const require = createRequire(join(moduleDir, "package.json"));
const { buildSchema, parse, validate, getOperationAST } = require("graphql");
const { getVariableValues } = require("graphql/execution/values");
const { schemas, docs } = JSON.parse(readFileSync(input, "utf8"));
const built = {};
const out = docs.map((d) => {
  try {
    built[d.graph] ??= buildSchema(schemas[d.graph]);
    const schema = built[d.graph];
    const doc = parse(d.query);
    if (validate(schema, doc).length > 0) return false;
    const op = getOperationAST(doc, d.operationName || undefined);
    if (!op) return false;
    const { errors } = getVariableValues(schema, op.variableDefinitions ?? [], d.variables ?? {});
    return !errors;
  } catch {
    return false;
  }
});
console.log(JSON.stringify(out));
