// @defer with the npm clients users run: the meros multipart parser and
// Apollo Client's HttpLink, reading deferred responses through
// `gateway demo`. Each test checks that the primary part comes first
// without the deferred fields, that the last part ends the stream, and that
// what the client ends with equals the answer without incremental delivery.
//
// Usage: node clients.mjs [path/to/gateway]   (default ../../bin/gateway)
import assert from 'node:assert/strict';
// meros/browser reads a fetch Response (meros/node an http.IncomingMessage).
import { meros } from 'meros/browser';
import { ApolloClient, InMemoryCache, HttpLink, gql } from '@apollo/client/core/index.js';
import { startGateway } from '../js/gateway.mjs';

const bin = process.argv[2] || new URL('../../bin/gateway', import.meta.url).pathname;
const deadline = setTimeout(() => {
  console.error('defer: timed out after 120 s');
  process.exit(1);
}, 120000);

const QUERY = `query Top {
  topProducts(first: 3) {
    upc
    name
    ... @defer(label: "stock") { inStock shippingEstimate }
    ... @defer(label: "reviews") { reviews { body author { name } } }
  }
}`;

const gw = await startGateway(bin);
const failures = [];

async function test(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (err) {
    failures.push(name);
    console.log(`FAIL ${name}: ${err.stack || err}`);
  }
}

// whole is the answer without incremental delivery.
async function whole(query) {
  const res = await fetch(gw.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query }),
  });
  assert.match(res.headers.get('content-type'), /^application\/json/);
  return res.json();
}

function mergeAt(data, path, part) {
  let target = data;
  for (const step of path) target = target[step];
  const merge = (dst, src) => {
    for (const [k, v] of Object.entries(src)) {
      if (v && typeof v === 'object' && !Array.isArray(v) && dst[k] && typeof dst[k] === 'object') merge(dst[k], v);
      else if (Array.isArray(v) && Array.isArray(dst[k]) && v.length === dst[k].length) v.forEach((x, i) => (x && typeof x === 'object' ? merge(dst[k][i], x) : (dst[k][i] = x)));
      else dst[k] = v;
    }
  };
  merge(target, part);
}

try {
  await test('meros reads the multipart parts; merged they equal the unsplit answer', async () => {
    const res = await fetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'multipart/mixed;deferSpec=20220824,application/json' },
      body: JSON.stringify({ query: QUERY }),
    });
    assert.equal(res.status, 200);
    const parts = await meros(res);
    assert.notEqual(typeof parts[Symbol.asyncIterator], 'undefined', `not multipart: ${res.headers.get('content-type')}`);
    const got = [];
    for await (const part of parts) {
      assert.ok(part.json, 'a part is not JSON');
      got.push(part.body);
    }
    assert.ok(got.length >= 2, `${got.length} parts`);
    assert.equal(got[0].hasNext, true);
    assert.equal(got.at(-1).hasNext, false);
    for (const p of got[0].data.topProducts) {
      assert.equal(p.inStock, undefined, 'the primary part holds a deferred field');
      assert.equal(p.reviews, undefined, 'the primary part holds a deferred field');
    }
    const data = structuredClone(got[0].data);
    const labels = new Set();
    for (const p of got.slice(1)) {
      for (const inc of p.incremental ?? []) {
        labels.add(inc.label);
        mergeAt(data, inc.path, inc.data);
      }
    }
    assert.deepEqual([...labels].sort(), ['reviews', 'stock']);
    const want = await whole(QUERY);
    assert.deepEqual(data, want.data);
  });

  await test('Apollo Client (HttpLink) sees the primary result, then the complete one', async () => {
    const client = new ApolloClient({ link: new HttpLink({ uri: gw.url }), cache: new InMemoryCache() });
    const results = [];
    await new Promise((resolve, reject) => {
      const sub = client.watchQuery({ query: gql(QUERY), fetchPolicy: 'network-only' }).subscribe({
        next: (r) => {
          results.push(structuredClone(r.data));
          if (r.data?.topProducts?.[0]?.reviews && r.data?.topProducts?.[0]?.inStock !== undefined) {
            sub.unsubscribe();
            resolve();
          }
        },
        error: reject,
      });
    });
    assert.ok(results.length >= 2, `${results.length} results: Apollo Client did not see an incremental delivery`);
    assert.equal(results[0].topProducts[0].inStock, undefined, 'the first result holds a deferred field');
    const want = await whole(QUERY);
    const last = results.at(-1);
    assert.deepEqual(JSON.parse(JSON.stringify(last, (k, v) => (k === '__typename' ? undefined : v))), want.data);
  });
} finally {
  await gw.stop();
  clearTimeout(deadline);
}
if (failures.length > 0) {
  console.error(`defer: ${failures.length} test(s) failed`);
  process.exit(1);
}
