// Subscription conformance with the npm clients users run: graphql-ws
// (graphql-transport-ws over WebSocket), graphql-sse (distinct connections
// and single connection modes) and Apollo Client's HttpLink (multipart HTTP subscriptions), each
// subscribing through `gateway demo` to reviews' reviewAdded, whose product
// resolves through the products and inventory subgraphs. addReview
// mutations sent through the gateway produce the events.
//
// Usage: node clients.mjs [path/to/gateway]   (default ../../bin/gateway)
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createClient as createWSClient } from 'graphql-ws';
import { createClient as createSSEClient } from 'graphql-sse';
import { ApolloClient, InMemoryCache, HttpLink, gql } from '@apollo/client/core/index.js';
import { startGateway } from '../js/gateway.mjs';

const bin = process.argv[2] || new URL('../../bin/gateway', import.meta.url).pathname;
const deadline = setTimeout(() => {
  console.error('subscriptions: timed out after 120 s');
  process.exit(1);
}, 120000);

const SUBSCRIPTION = `subscription Added($upc: String) {
  reviewAdded(productUpc: $upc) { id body rating product { upc name inStock } author { username } }
}`;
const EXPECTED_NAME = { 1: 'Table', 2: 'Couch', 3: 'Chair' };

const gw = await startGateway(bin);
const failures = [];

// addReviews sends addReview mutations for upc through the gateway every
// 100 ms until stop() is called; the bodies are numbered in order.
function addReviews(upc, tag) {
  let n = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      n++;
      const res = await fetch(gw.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: 'mutation($upc: String!, $body: String!) { addReview(productUpc: $upc, authorId: "1", body: $body, rating: 4) { id } }',
          variables: { upc, body: `${tag}-${n}` },
        }),
      });
      const json = await res.json();
      assert.ok(json.data?.addReview?.id, `addReview failed: ${JSON.stringify(json)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

// checkEvents asserts three complete, ordered events of upc.
function checkEvents(events, upc, tag) {
  assert.ok(events.length >= 3, `${tag}: ${events.length} events`);
  let last = 0;
  for (const ev of events) {
    assert.equal(ev.errors, undefined, `${tag}: errors ${JSON.stringify(ev.errors)}`);
    const r = ev.data.reviewAdded;
    assert.equal(r.product.upc, upc);
    assert.equal(r.product.name, EXPECTED_NAME[upc], `${tag}: product.name from the products subgraph`);
    assert.equal(typeof r.product.inStock, 'boolean', `${tag}: product.inStock from the inventory subgraph`);
    assert.equal(r.author.username, '@ada');
    const m = new RegExp(`^${tag}-(\\d+)$`).exec(r.body);
    assert.ok(m, `${tag}: body ${r.body}`);
    assert.ok(Number(m[1]) > last, `${tag}: events out of order`);
    last = Number(m[1]);
  }
}

async function test(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (err) {
    failures.push(name);
    console.log(`FAIL ${name}: ${err.stack || err}`);
  }
}

try {
  const wsURL = gw.url.replace('http://', 'ws://');

  await test('graphql-ws: subscription completed through entity fetches, in order', async () => {
    const client = createWSClient({ url: wsURL, webSocketImpl: WebSocket, retryAttempts: 0 });
    const events = [];
    const stop = addReviews('1', 'ws');
    await new Promise((resolve, reject) => {
      const dispose = client.subscribe(
        { query: SUBSCRIPTION, variables: { upc: '1' } },
        {
          next: (ev) => {
            events.push(ev);
            if (events.length === 3) {
              dispose();
              resolve();
            }
          },
          error: reject,
          complete: resolve,
        },
      );
    });
    await stop();
    await client.dispose();
    checkEvents(events, '1', 'ws');
  });

  await test('graphql-ws: query and mutation over the WebSocket', async () => {
    const client = createWSClient({ url: wsURL, webSocketImpl: WebSocket, retryAttempts: 0 });
    const q = await new Promise((resolve, reject) => {
      let got;
      client.subscribe({ query: '{ product(upc: "2") { name inStock } }' }, { next: (v) => (got = v), error: reject, complete: () => resolve(got) });
    });
    assert.deepEqual(q.data.product.name, 'Couch');
    const m = await new Promise((resolve, reject) => {
      let got;
      client.subscribe(
        { query: 'mutation { addReview(productUpc: "4", authorId: "2", body: "over ws", rating: 5) { body product { name } } }' },
        { next: (v) => (got = v), error: reject, complete: () => resolve(got) },
      );
    });
    assert.equal(m.data.addReview.body, 'over ws');
    await client.dispose();
  });

  await test('graphql-ws: an invalid subscription is an error message', async () => {
    const client = createWSClient({ url: wsURL, webSocketImpl: WebSocket, retryAttempts: 0 });
    const errs = await new Promise((resolve) => {
      client.subscribe({ query: 'subscription { reviewAdded { nope } }' }, { next: () => {}, error: resolve, complete: () => resolve(null) });
    });
    assert.ok(Array.isArray(errs) && errs[0].extensions.code === 'GRAPHQL_VALIDATION_FAILED', JSON.stringify(errs));
    await client.dispose();
  });

  await test('graphql-sse: distinct connections mode', async () => {
    const client = createSSEClient({ url: gw.url, retryAttempts: 0 });
    const events = [];
    const stop = addReviews('2', 'sse');
    for await (const ev of client.iterate({ query: SUBSCRIPTION, variables: { upc: '2' } })) {
      events.push(ev);
      if (events.length === 3) break;
    }
    await stop();
    client.dispose();
    checkEvents(events, '2', 'sse');
  });

  await test('graphql-sse: single connection mode', async () => {
    // Every request the client makes, to check the mode's shape: one
    // reservation (PUT), one event stream, a POST per operation and a
    // DELETE per subscription the client completes.
    const requests = [];
    const fetchFn = (url, init) => {
      const accept = init?.headers?.accept ?? '';
      requests.push(`${init?.method ?? 'GET'}${accept.includes('text/event-stream') ? ' stream' : ''}`);
      return fetch(url, init);
    };
    const client = createSSEClient({ url: gw.url, singleConnection: true, retryAttempts: 0, fetchFn });
    const run = async (upc, tag) => {
      const events = [];
      for await (const ev of client.iterate({ query: SUBSCRIPTION, variables: { upc } })) {
        events.push(ev);
        if (events.length === 3) break;
      }
      return events;
    };
    const stop1 = addReviews('1', 'single1');
    const stop2 = addReviews('2', 'single2');
    const [one, two, query] = await Promise.all([
      run('1'),
      run('2'),
      (async () => {
        for await (const r of client.iterate({ query: '{ product(upc: "3") { name } }' })) return r;
      })(),
    ]);
    await stop1();
    await stop2();
    checkEvents(one, '1', 'single1');
    checkEvents(two, '2', 'single2');
    assert.equal(query.data.product.name, 'Chair');
    const count = (r) => requests.filter((x) => x === r).length;
    assert.equal(count('PUT'), 1, `requests: ${requests}`);
    assert.equal(count('GET stream'), 1, `requests: ${requests}`);
    assert.equal(count('POST'), 3, `requests: ${requests}`);
    // The two subscriptions were completed by the client (DELETE).
    for (let i = 0; i < 50 && count('DELETE') < 2; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(count('DELETE'), 2, `requests: ${requests}`);
    client.dispose();
  });

  // @defer over the streaming transports: each incremental payload is a
  // next message (graphql-ws) or next event (graphql-sse); merged, they
  // equal the answer without @defer.
  const DEFERRED = `{ topProducts(first: 3) { upc name
    ... @defer(label: "stock") { inStock }
    ... @defer(label: "reviews") { reviews { body author { name } } } } }`;
  const checkIncremental = async (payloads, tag) => {
    assert.ok(payloads.length >= 2, `${tag}: ${payloads.length} payloads, want the initial one and subsequent ones`);
    assert.equal(payloads[0].hasNext, true, `${tag}: the initial payload has hasNext true`);
    assert.equal(payloads.at(-1).hasNext, false, `${tag}: the last payload ends with hasNext false`);
    for (const p of payloads[0].data.topProducts) {
      assert.equal(p.inStock, undefined, `${tag}: the initial payload holds a deferred field`);
      assert.equal(p.reviews, undefined, `${tag}: the initial payload holds a deferred field`);
    }
    const data = structuredClone(payloads[0].data);
    const seen = new Set();
    for (const p of payloads.slice(1)) {
      assert.equal(p.data, undefined, `${tag}: a subsequent payload has data`);
      for (const inc of p.incremental ?? []) {
        seen.add(inc.label);
        let target = data;
        for (const step of inc.path) target = target[step];
        Object.assign(target, inc.data);
      }
    }
    assert.deepEqual([...seen].sort(), ['reviews', 'stock']);
    const res = await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ query: DEFERRED }) });
    assert.deepEqual(data, (await res.json()).data, `${tag}: merged payloads differ from the answer without incremental delivery`);
  };

  await test('graphql-ws: @defer payloads arrive as next messages', async () => {
    const client = createWSClient({ url: wsURL, webSocketImpl: WebSocket, retryAttempts: 0 });
    const payloads = await new Promise((resolve, reject) => {
      const got = [];
      client.subscribe({ query: DEFERRED }, { next: (v) => got.push(v), error: reject, complete: () => resolve(got) });
    });
    await client.dispose();
    await checkIncremental(payloads, 'graphql-ws');
  });

  await test('graphql-sse: @defer payloads arrive as next events', async () => {
    const client = createSSEClient({ url: gw.url, retryAttempts: 0 });
    const payloads = [];
    for await (const v of client.iterate({ query: DEFERRED })) payloads.push(v);
    client.dispose();
    await checkIncremental(payloads, 'graphql-sse');
  });

  await test('Apollo Client: multipart HTTP subscription', async () => {
    const client = new ApolloClient({ link: new HttpLink({ uri: gw.url, fetch }), cache: new InMemoryCache() });
    const events = [];
    const stop = addReviews('3', 'multipart');
    await new Promise((resolve, reject) => {
      const sub = client.subscribe({ query: gql(SUBSCRIPTION), variables: { upc: '3' }, fetchPolicy: 'no-cache' }).subscribe({
        next: (ev) => {
          events.push(ev);
          if (events.length === 3) {
            sub.unsubscribe();
            resolve();
          }
        },
        error: reject,
      });
    });
    await stop();
    client.stop();
    checkEvents(events, '3', 'multipart');
  });

  await test('graphql-ws: a message refused by the read budget closes 1013, and the client retries', async () => {
    // A gateway of its own with a 256 KiB read budget, most of it held by
    // a hand-written WebSocket that sends 200 KiB of a 300 KiB message.
    const dir = mkdtempSync(join(tmpdir(), 'fedgate-subs-'));
    const config = join(dir, 'gateway.yaml');
    // Metrics on the public listener: the test waits on the read budget's
    // gauge, fedgate_reading_bytes, rather than for a guessed time.
    writeFileSync(config, 'server:\n  max_reading_bytes: 256KiB\ntelemetry:\n  metrics:\n    prometheus:\n      listen: ""\n');
    const small = await startGateway(bin, { args: ['demo', '--listen', '127.0.0.1:0', '--config', config] });
    const readingBytes = async () => {
      const text = await (await fetch(`${small.origin}/metrics`)).text();
      const m = /^fedgate_reading_bytes (\d+)$/m.exec(text);
      assert.ok(m, `/metrics lacks fedgate_reading_bytes:\n${text.slice(0, 2000)}`);
      return Number(m[1]);
    };
    const waitReading = async (ok, what) => {
      const until = Date.now() + 15000;
      let n;
      while (!ok((n = await readingBytes()))) {
        assert.ok(Date.now() < until, `fedgate_reading_bytes ${n} after 15 s waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const { hostname, port } = new URL(small.origin);
    const hog = net.connect(Number(port), hostname);
    try {
      await new Promise((resolve, reject) => hog.once('connect', resolve).once('error', reject));
      hog.write(`GET /graphql HTTP/1.1\r\nHost: ${hostname}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n');
      await new Promise((resolve) => hog.once('data', resolve)); // 101
      // A masked text frame (key 0) announcing 300 KiB, 200 KiB of it sent.
      const header = Buffer.alloc(14);
      header[0] = 0x81;
      header[1] = 0x80 | 127;
      header.writeBigUInt64BE(300n << 10n, 2);
      hog.write(Buffer.concat([header, Buffer.alloc(200 << 10, 0x20)]));
      await waitReading((n) => n >= 200 << 10, 'the 200 KiB sent to be read');
      const closes = [];
      // A wait that fails inside the client's retry would escape the test:
      // it fails the test through waitFailed.
      let failWait;
      const waitFailed = new Promise((_, reject) => (failWait = reject));
      const client = createWSClient({
        url: small.url.replace('http://', 'ws://'),
        webSocketImpl: WebSocket,
        retryAttempts: 2,
        // The budget is free again when the client retries.
        retryWait: async () => {
          hog.destroy();
          await waitReading((n) => n === 0, 'the budget to be given back').catch(failWait);
        },
        on: { closed: (ev) => closes.push(`${ev.code} ${ev.reason}`) },
      });
      try {
        const got = await Promise.race([
          new Promise((resolve, reject) => {
            let value;
            client.subscribe(
              { query: '{ product(upc: "2") { name } }', extensions: { pad: 'x'.repeat(100 << 10) } },
              { next: (v) => (value = v), error: reject, complete: () => resolve(value) },
            );
          }),
          waitFailed,
        ]);
        assert.match(closes[0] ?? '', /^1013 /, `closes: ${JSON.stringify(closes)}`);
        assert.equal(got?.data?.product?.name, 'Couch', JSON.stringify(got));
      } finally {
        await client.dispose();
      }
    } finally {
      hog.destroy();
      await small.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  await test('graphql-ws: a connection past subscriptions.connect_rate closes 1013, and the client retries', async () => {
    // A gateway of its own that lets a client set up one WebSocket at
    // once and one a second: the second client, connecting at once, is
    // refused, and graphql-ws retries it after its wait.
    const dir = mkdtempSync(join(tmpdir(), 'fedgate-subs-'));
    const config = join(dir, 'gateway.yaml');
    writeFileSync(config, 'subscriptions:\n  connect_rate: 1\n  connect_burst: 1\n');
    const paced = await startGateway(bin, { args: ['demo', '--listen', '127.0.0.1:0', '--config', config] });
    const clients = [];
    try {
      const run = async (retryWait) => {
        const closes = [];
        const client = createWSClient({
          url: paced.url.replace('http://', 'ws://'),
          webSocketImpl: WebSocket,
          retryAttempts: 2,
          retryWait,
          on: { closed: (ev) => closes.push(`${ev.code} ${ev.reason}`) },
        });
        clients.push(client);
        const got = await new Promise((resolve, reject) => {
          let value;
          client.subscribe({ query: '{ product(upc: "2") { name } }' },
            { next: (v) => (value = v), error: reject, complete: () => resolve(value) });
        });
        return { got, closes };
      };
      const first = await run(async () => {});
      assert.equal(first.got?.data?.product?.name, 'Couch', JSON.stringify(first.got));
      const second = await run(() => new Promise((r) => setTimeout(r, 1100)));
      assert.match(second.closes[0] ?? '', /^1013 /, `closes: ${JSON.stringify(second.closes)}`);
      assert.equal(second.got?.data?.product?.name, 'Couch', JSON.stringify(second.got));
    } finally {
      for (const c of clients) await c.dispose();
      await paced.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Last, as it stops the gateway: SIGTERM completes running subscriptions.
  await test('SIGTERM sends complete to subscribers, and the gateway exits cleanly', async () => {
    const client = createWSClient({ url: wsURL, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, onNonLazyError: () => {} });
    const stop = addReviews('5', 'term');
    let events = 0;
    const ended = new Promise((resolve, reject) => {
      client.subscribe({ query: SUBSCRIPTION, variables: { upc: '5' } }, {
        next: () => events++,
        error: (err) => reject(new Error(`error instead of complete: ${JSON.stringify(err?.reason ?? err)}`)),
        complete: resolve,
      });
    });
    while (events === 0) await new Promise((r) => setTimeout(r, 50));
    await stop();
    await gw.stop();
    await ended;
    assert.match(gw.log(), /"msg":"stopped"/, 'the gateway did not stop cleanly');
    assert.match(gw.log(), /"end":"shutdown"/, 'no subscription log line for the shutdown');
  });
} finally {
  await gw.stop();
  clearTimeout(deadline);
}
if (failures.length > 0) {
  console.error(`subscriptions: ${failures.length} test(s) failed`);
  process.exit(1);
}
