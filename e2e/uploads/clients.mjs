// File uploads with the npm client users run: Apollo Client with
// apollo-upload-client's createUploadLink, which speaks the GraphQL
// multipart request spec (extract-files puts each File of the variables
// into the map). The files go through `gateway demo` to the products
// subgraph's uploadProductImage, which answers the size and SHA-256 of
// what it received.
//
// Usage: node clients.mjs [path/to/gateway]   (default ../../bin/gateway)
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { ApolloClient, InMemoryCache, gql } from '@apollo/client/core/index.js';
import createUploadLink from 'apollo-upload-client/createUploadLink.mjs';
import { startGateway } from '../js/gateway.mjs';

const bin = process.argv[2] || new URL('../../bin/gateway', import.meta.url).pathname;
const deadline = setTimeout(() => {
  console.error('uploads: timed out after 120 s');
  process.exit(1);
}, 120000);

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

// client is Apollo Client over the upload link; Apollo's docs have
// apps send Apollo-Require-Preflight so that CSRF prevention lets a
// multipart request through.
function client(headers = { 'Apollo-Require-Preflight': 'true' }) {
  return new ApolloClient({ link: createUploadLink({ uri: gw.url, headers }), cache: new InMemoryCache() });
}

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

const UPLOAD = gql`
  mutation Upload($upc: String!, $file: Upload!) {
    uploadProductImage(upc: $upc, file: $file) { upc filename contentType size sha256 }
  }
`;

try {
  await test('createUploadLink sends a file; the subgraph receives every byte', async () => {
    const bytes = randomBytes(3 << 20);
    const file = new File([bytes], 'cat.png', { type: 'image/png' });
    const { data } = await client().mutate({ mutation: UPLOAD, variables: { upc: '1', file } });
    const got = data.uploadProductImage;
    assert.equal(got.upc, '1');
    assert.equal(got.filename, 'cat.png');
    assert.equal(got.contentType, 'image/png');
    assert.equal(got.size, bytes.length);
    assert.equal(got.sha256, sha256(bytes));
  });

  await test('two files in one operation, one of them used twice', async () => {
    const a = randomBytes(100000);
    const b = randomBytes(200000);
    const fa = new File([a], 'a.bin');
    const { data } = await client().mutate({
      mutation: gql`
        mutation Two($a: Upload!, $b: Upload!, $again: Upload!) {
          x: uploadProductImage(upc: "1", file: $a) { sha256 }
          y: uploadProductImage(upc: "2", file: $b) { sha256 }
          z: uploadProductImage(upc: "3", file: $again) { sha256 }
        }
      `,
      variables: { a: fa, b: new File([b], 'b.bin'), again: fa },
    });
    assert.equal(data.x.sha256, sha256(a));
    assert.equal(data.y.sha256, sha256(b));
    assert.equal(data.z.sha256, sha256(a));
  });

  await test('without a preflight header the multipart request is refused (CSRF)', async () => {
    const file = new File(['x'], 'x.txt');
    await assert.rejects(client({}).mutate({ mutation: UPLOAD, variables: { upc: '1', file } }), (err) => {
      assert.equal(err.networkError?.statusCode, 400, String(err));
      assert.equal(err.networkError.result.errors[0].extensions.code, 'CSRF_ERROR');
      return true;
    });
  });

  await test('a file over uploads.max_file_bytes is refused with 413', async () => {
    const file = new File([randomBytes(11 << 20)], 'big.bin');
    await assert.rejects(client().mutate({ mutation: UPLOAD, variables: { upc: '1', file } }), (err) => {
      assert.equal(err.networkError?.statusCode, 413, String(err));
      assert.equal(err.networkError.result.errors[0].extensions.code, 'UPLOAD_FILE_TOO_LARGE');
      return true;
    });
  });
} finally {
  clearTimeout(deadline);
  await gw.stop();
}
if (failures.length > 0) {
  console.error(`uploads: ${failures.length} failed: ${failures.join(', ')}`);
  process.exit(1);
}
console.log('uploads: all passed');
