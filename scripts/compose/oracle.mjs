// Composes every *.graphql file of each directory given (except
// supergraph.graphql) with @apollo/composition, in file name order with
// the routing URL http://127.0.0.1:4999/<name>, the way schema/compose's
// corpus test does.
//
//   node scripts/compose/oracle.mjs DIR            the supergraph SDL, or "ERROR <code> <message>" lines
//   node scripts/compose/oracle.mjs --json DIR...  one JSON object a line: {dir, codes, errors, supergraph, api}
//                                                  (codes ["THROWN"] where @apollo/composition throws)
//
// A reference for the Go composer (schema/compose TestCorpusApollo); the
// committed expectations are the Go composer's reviewed output.
import { readFileSync, readdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { composeServices } from "@apollo/composition";
import {
  parse, isObjectType, isInterfaceType, isUnionType, isEnumType, isInputObjectType,
} from "graphql";

const builtins = new Set(["String", "Int", "Float", "Boolean", "ID"]);

// apiSummary lists the API schema one element a line, sorted, in the
// format schema/compose's test prints its own API schema in.
function apiSummary(schema) {
  const lines = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith("__") || builtins.has(type.name)) continue;
    const kind = isObjectType(type) ? "OBJECT" : isInterfaceType(type) ? "INTERFACE" : isUnionType(type) ? "UNION"
      : isEnumType(type) ? "ENUM" : isInputObjectType(type) ? "INPUT_OBJECT" : "SCALAR";
    lines.push(`type ${type.name} ${kind}`);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const i of type.getInterfaces()) lines.push(`implements ${type.name} ${i.name}`);
    }
    if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
      for (const f of Object.values(type.getFields())) {
        const args = (f.args ?? []).map((a) => `${a.name}: ${a.type}`).sort().join(", ");
        lines.push(`field ${type.name}.${f.name}(${args}): ${f.type}`);
      }
    }
    if (isUnionType(type)) for (const m of type.getTypes()) lines.push(`member ${type.name} ${m.name}`);
    if (isEnumType(type)) for (const v of type.getValues()) lines.push(`value ${type.name}.${v.name}`);
  }
  return lines.sort();
}

function composeDir(dirArg) {
  const dir = resolve(dirArg);
  const files = readdirSync(dir).filter((f) => f.endsWith(".graphql") && f !== "supergraph.graphql").sort();
  const services = [];
  for (const file of files) {
    const name = basename(file, ".graphql");
    try {
      services.push({ name, url: `http://127.0.0.1:4999/${name}`, typeDefs: parse(readFileSync(join(dir, file), "utf8")) });
    } catch (err) {
      return { dir: dirArg, codes: ["INVALID_GRAPHQL"], errors: [`${name}: ${err.message}`] };
    }
  }
  const result = composeServices(services);
  if (result.errors && result.errors.length > 0) {
    const codes = [...new Set(result.errors.map((e) => e.extensions?.code ?? "UNKNOWN"))].sort();
    return { dir: dirArg, codes, errors: result.errors.map((e) => `${e.extensions?.code} ${e.message}`) };
  }
  const api = apiSummary(result.schema.toAPISchema().toGraphQLJSSchema());
  return { dir: dirArg, codes: [], supergraph: result.supergraphSdl, api };
}

const args = process.argv.slice(2);
if (args[0] === "--json") {
  for (const dir of args.slice(1)) {
    // A composer that throws (a bug of its own) is one case's answer, not
    // the end of the batch.
    let r;
    try {
      r = composeDir(dir);
    } catch (err) {
      r = { dir, codes: ["THROWN"], errors: [`THROWN ${err.message.split("\n").slice(0, 4).join(" ")}`] };
    }
    console.log(JSON.stringify(r));
  }
} else {
  const r = composeDir(args[0]);
  if (r.errors) for (const e of r.errors) console.log(`ERROR ${e}`);
  else console.log(r.supergraph);
}
