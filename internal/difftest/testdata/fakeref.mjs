// A stand-in reference gateway for internal/difftest's tests, with the
// protocol of e2e/difftest/*/refgw.mjs (prints "READY <port>", serves
// POST /GRAPH, exits when stdin closes) and the failures a real one shows
// on a pathological plan. The request's query decides:
//   "hang"  a synchronous endless loop (the event loop answers nothing more)
//   "grow"  keeps allocating until node's heap cap ends the process
//   "slow"  answers after 300 ms, without blocking the event loop
//   else    {"data":{"pid":PID,"query":QUERY}}
//
//   node fakeref.mjs DIR
import { createServer } from "node:http";

const http = createServer((req, res) => {
  // FAKEREF_DROP_SECOND=1: the second request on each keep-alive
  // connection finds it closed, as when node's keep-alive timeout closes
  // an idle connection just as the next request goes out on it.
  req.socket.served = (req.socket.served ?? 0) + 1;
  if (process.env.FAKEREF_DROP_SECOND && req.socket.served === 2) {
    req.socket.destroy();
    return;
  }
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const { query } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    const answer = () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ data: { pid: process.pid, query } }));
    };
    if (query.includes("hang")) {
      for (;;) {}
    }
    if (query.includes("grow")) {
      const keep = [];
      for (;;) keep.push(new Array(1 << 16).fill(keep.length));
    }
    if (query.includes("slow")) {
      setTimeout(answer, 300);
      return;
    }
    answer();
  });
});
http.listen(0, "127.0.0.1", () => console.log(`READY ${http.address().port}`));
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
