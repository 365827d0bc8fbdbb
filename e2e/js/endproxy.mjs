// startEndProxy runs a loopback HTTP proxy in front of the gateway that can
// hold back the end of a multipart/mixed answer, as a slow network or a
// buffering proxy does: the close delimiter ("--" after the last part's
// delimiter) and the end of the body wait until the test releases them.
// Everything else, streams included, passes as it comes.
//
// No timer is involved: the end is sent when the test calls release(), and
// the proxy reports what happened to the answer from its own side of the
// connection, so a test's checks hold however slowly the machine runs.
//
// It resolves to {origin, url, hold(), close()}. hold() returns a Held for
// the next multipart answer:
//   held.tail     resolves once everything but the held-back end has been
//                 written to the client, with tailAt: the performance.now()
//                 taken just before the last of those bytes were written;
//   held.release() sends the end;
//   held.outcome  resolves to {delivered, tailAt, closedAt}: delivered is
//                 true when the whole body was written before the client's
//                 connection closed, false when the client went away first
//                 (aborted the request); times are performance.now().
import http from 'node:http';
import { performance } from 'node:perf_hooks';

// The close delimiter of the gateway's multipart answers (boundary "-"):
// the last part's delimiter "\r\n---" followed by "--\r\n".
const CLOSE = '\r\n-----\r\n';
const CLOSE_TAIL = 4; // "--\r\n", the bytes held back

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

// newHeld makes the handle one held answer reports through.
function newHeld() {
  const held = {};
  let resolveTail;
  let resolveOutcome;
  let resolveRelease;
  held.tail = new Promise((r) => (resolveTail = r));
  held.outcome = new Promise((r) => (resolveOutcome = r));
  held.released = new Promise((r) => (resolveRelease = r));
  held.release = () => resolveRelease();
  held.reachedTail = (at) => resolveTail((held.tailAt = at));
  held.finish = (delivered) => resolveOutcome({ delivered, tailAt: held.tailAt, closedAt: performance.now() });
  return held;
}

export function startEndProxy(target) {
  const upstream = new URL(target);
  let next = null; // the Held waiting for the next multipart answer
  const open = new Set(); // every Held not yet finished, released on close()

  const server = http.createServer((req, res) => {
    const headers = { ...req.headers };
    delete headers.connection;
    const out = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (up) => {
        const hdrs = Object.fromEntries(Object.entries(up.headers).filter(([k]) => !HOP.has(k)));
        res.writeHead(up.statusCode, up.statusMessage, hdrs);
        res.flushHeaders();
        let held = null;
        if (next && /^multipart\/mixed/.test(up.headers['content-type'] || '')) {
          held = next;
          next = null;
          let done = false;
          const finish = (delivered) => {
            if (done) return;
            done = true;
            open.delete(held);
            held.finish(delivered);
          };
          res.on('finish', () => finish(true));
          res.on('close', () => finish(res.writableFinished));
        }
        let tail = ''; // the last bytes of the body so far
        let heldBytes = null;
        // When the last bytes before the held-back end were given to the
        // socket, taken before the write: the client cannot have read
        // them earlier.
        let lastWriteAt = 0;
        up.on('data', (chunk) => {
          if (!held) return res.write(chunk);
          lastWriteAt = performance.now();
          tail = (tail + chunk.toString('latin1')).slice(-CLOSE.length);
          if (tail === CLOSE && chunk.length >= CLOSE_TAIL) {
            res.write(chunk.subarray(0, chunk.length - CLOSE_TAIL));
            heldBytes = chunk.subarray(chunk.length - CLOSE_TAIL);
          } else {
            res.write(chunk);
          }
        });
        up.on('end', async () => {
          if (held) {
            // Written to the socket (or the client already left).
            await new Promise((r) => (res.writableNeedDrain ? res.once('drain', r).once('close', r) : r()));
            held.reachedTail(lastWriteAt);
            await held.released;
          }
          if (res.destroyed) return;
          if (heldBytes) res.write(heldBytes);
          res.end();
        });
        up.on('error', () => res.destroy());
      },
    );
    out.on('error', () => res.destroy());
    res.on('close', () => out.destroy());
    req.pipe(out);
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const origin = `http://127.0.0.1:${server.address().port}`;
      resolve({
        origin,
        url: `${origin}/graphql`,
        hold() {
          next = newHeld();
          open.add(next);
          return next;
        },
        close() {
          for (const h of open) h.release();
          next = null;
          server.closeAllConnections();
          return new Promise((r) => server.close(() => r()));
        },
      });
    });
  });
}
