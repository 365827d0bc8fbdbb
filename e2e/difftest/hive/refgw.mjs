// The Hive Gateway reference of the differential test (e2e/difftest), the
// same protocol as ../js/refgw.mjs: every supergraph file NAME.graphql of
// DIR gets its own gateway runtime, served as POST /NAME on a free loopback
// port; prints "READY <port>"; stops after MAX_SECONDS (default 1800).
//
//   node e2e/difftest/hive/refgw.mjs DIR
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { createGatewayRuntime } from "@graphql-hive/gateway";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: refgw.mjs DIR");
  process.exit(2);
}
const runtimes = new Map();
for (const file of readdirSync(dir).filter((f) => f.endsWith(".graphql")).sort()) {
  const name = file.slice(0, -".graphql".length);
  try {
    const rt = createGatewayRuntime({ supergraph: readFileSync(join(dir, file), "utf8"), logging: false, maskedErrors: false });
    runtimes.set(name, rt);
  } catch (err) {
    console.error(`REFUSED ${name}: ${String(err.message).split("\n")[0]}`);
  }
}

const http = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    const rt = runtimes.get(decodeURIComponent(req.url.slice(1)));
    let status = 404;
    let text = JSON.stringify({ errors: [{ message: "no such graph" }] });
    try {
      if (rt) {
        const r = await rt.fetch("http://127.0.0.1/graphql", {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/graphql-response+json, application/json" },
          body: Buffer.concat(chunks),
        });
        status = r.status;
        text = await r.text();
      }
    } catch (err) {
      status = 500;
      text = JSON.stringify({ errors: [{ message: `refgw: ${err.message}` }] });
    }
    res.writeHead(status, { "content-type": "application/json" });
    res.end(text);
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
