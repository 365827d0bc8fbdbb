// A reference gateway for the differential test (e2e/difftest): loads every
// supergraph file NAME.graphql of DIR into its own Apollo Gateway and serves
// POST /NAME (a GraphQL request body) on a free loopback port. Prints
// "READY <port>" once every gateway has started; stops after MAX_SECONDS
// (default 1800) so a crashed test never leaves it behind.
//
//   node e2e/difftest/js/refgw.mjs DIR
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { ApolloGateway } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: refgw.mjs DIR");
  process.exit(2);
}
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const servers = new Map();
for (const file of readdirSync(dir).filter((f) => f.endsWith(".graphql")).sort()) {
  const name = file.slice(0, -".graphql".length);
  const gateway = new ApolloGateway({ supergraphSdl: readFileSync(join(dir, file), "utf8"), logger: quiet });
  const server = new ApolloServer({ gateway, logger: quiet, includeStacktraceInErrorResponses: false });
  try {
    await server.start();
    servers.set(name, server);
  } catch (err) {
    console.error(`REFUSED ${name}: ${String(err.message).split("\n")[0]}`);
  }
}

async function execute(name, body) {
  const server = servers.get(name);
  if (!server) return { status: 404, json: { errors: [{ message: `no graph ${name}` }] } };
  const req = JSON.parse(body);
  const response = await server.executeOperation({ query: req.query, variables: req.variables ?? undefined, operationName: req.operationName ?? undefined });
  const result = response.body.kind === "single" ? response.body.singleResult : { errors: [{ message: "incremental response" }] };
  return { status: response.http.status ?? 200, json: result };
}

const http = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    let out;
    try {
      out = await execute(decodeURIComponent(req.url.slice(1)), Buffer.concat(chunks).toString("utf8"));
    } catch (err) {
      out = { status: 500, json: { errors: [{ message: `refgw: ${err.message}` }] } };
    }
    res.writeHead(out.status, { "content-type": "application/json" });
    res.end(JSON.stringify(out.json));
  });
});
http.listen(0, "127.0.0.1", () => console.log(`READY ${http.address().port}`));
// The test holds stdin open: when it goes away (even killed), so do we.
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
// A gateway bug on one operation must not end the whole reference.
process.on("uncaughtException", (err) => console.error(`uncaught: ${err?.stack ?? err}`));
process.on("unhandledRejection", (err) => console.error(`unhandled rejection: ${err?.stack ?? err}`));
setTimeout(() => process.exit(0), Number(process.env.MAX_SECONDS ?? 1800) * 1000).unref();
