// startEndProxy runs a loopback HTTP proxy in front of the gateway that can
// hold back the end of multipart/mixed answers, as a slow network or a
// buffering proxy does: while held, the close delimiter ("--" after the
// last part's delimiter) and the end of the body wait until release().
// Everything else, streams included, passes as it comes.
//
// It resolves to {origin, url, hold(), release(), cut(), close()}; hold()
// arms it for the multipart answers that start from then on; cut() counts
// the held answers whose client went away before their end was sent.
import http from 'node:http';

// The close delimiter of the gateway's multipart answers (boundary "-"):
// the last part's delimiter "\r\n---" followed by "--\r\n".
const CLOSE = '\r\n-----\r\n';
const CLOSE_TAIL = 4; // "--\r\n", the bytes held back

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

export function startEndProxy(target) {
  const upstream = new URL(target);
  let armed = false;
  let released = Promise.resolve();
  let releaseHeld = () => {};
  let cut = 0;

  const server = http.createServer((req, res) => {
    const headers = { ...req.headers };
    delete headers.connection;
    const out = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (up) => {
        const hdrs = Object.fromEntries(Object.entries(up.headers).filter(([k]) => !HOP.has(k)));
        res.writeHead(up.statusCode, up.statusMessage, hdrs);
        res.flushHeaders();
        const held = armed && /^multipart\/mixed/.test(up.headers['content-type'] || '');
        const gate = released;
        let tail = ''; // the last bytes of the body so far
        let heldBytes = null;
        up.on('data', (chunk) => {
          if (!held) return res.write(chunk);
          tail = (tail + chunk.toString('latin1')).slice(-CLOSE.length);
          if (tail === CLOSE && chunk.length >= CLOSE_TAIL) {
            res.write(chunk.subarray(0, chunk.length - CLOSE_TAIL));
            heldBytes = chunk.subarray(chunk.length - CLOSE_TAIL);
          } else {
            res.write(chunk);
          }
        });
        up.on('end', async () => {
          if (held) await gate;
          if (heldBytes) res.write(heldBytes);
          res.end();
        });
        if (held) {
          res.on('close', () => {
            if (!res.writableEnded) cut++;
          });
        }
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
          armed = true;
          released = new Promise((r) => {
            releaseHeld = r;
          });
        },
        release() {
          armed = false;
          releaseHeld();
        },
        cut: () => cut,
        close() {
          releaseHeld();
          server.closeAllConnections();
          return new Promise((r) => server.close(() => r()));
        },
      });
    });
  });
}
