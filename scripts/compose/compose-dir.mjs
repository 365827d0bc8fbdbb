// Composes every *.graphql file of a directory into one supergraph, for the
// planner's test corpus (testdata/compose/<case>/ -> testdata/supergraphs/<case>.graphql).
//
//   cd scripts/compose && npm ci
//   node scripts/compose/compose-dir.mjs testdata/compose/<case> testdata/supergraphs/<case>.graphql
//
// The subgraph name is the file name without .graphql; its routing URL is
// http://127.0.0.1:4999/<name>. Subgraphs are composed in name order.
// Composition errors fail the script (exit status 1) and write nothing;
// hints are printed on stderr.
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

import { composeServices } from "@apollo/composition";
import { parse } from "graphql";

function fail(message) {
  console.error(`compose-dir: ${message}`);
  process.exit(1);
}

const [dirArg, outArg] = process.argv.slice(2);
if (!dirArg || !outArg) fail("usage: compose-dir.mjs <dir> <out>");
const dir = resolve(dirArg);
const out = resolve(outArg);

let files;
try {
  files = readdirSync(dir).filter((f) => f.endsWith(".graphql") && f !== "supergraph.graphql").sort();
} catch (err) {
  fail(err.message);
}
if (files.length === 0) fail(`no *.graphql files in ${dir}`);

const services = files.map((file) => {
  const name = basename(file, ".graphql");
  const sdl = readFileSync(join(dir, file), "utf8");
  let typeDefs;
  try {
    typeDefs = parse(sdl);
  } catch (err) {
    fail(`${name}: ${err.message}`);
  }
  return { name, url: `http://127.0.0.1:4999/${name}`, typeDefs };
});

const result = composeServices(services);
if (result.errors && result.errors.length > 0) {
  for (const err of result.errors) {
    const code = err.extensions?.code ? `[${err.extensions.code}] ` : "";
    console.error(`compose-dir: ${code}${err.message}`);
  }
  fail(`${dirArg}: composition failed with ${result.errors.length} error(s)`);
}
for (const hint of result.hints ?? []) {
  console.error(`compose-dir: hint [${hint.definition.code}] ${hint.message}`);
}

const header = `# Composed by scripts/compose/compose-dir.mjs from ${files.length} subgraphs: ${files
  .map((f) => basename(f, ".graphql"))
  .join(", ")}\n`;
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, header + result.supergraphSdl.trimEnd() + "\n");
console.error(`compose-dir: wrote ${outArg}`);
