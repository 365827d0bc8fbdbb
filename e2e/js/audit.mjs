// The graphql-http server audit (GraphQL over HTTP, graphql.org) against
// `gateway demo`: every MUST audit has to pass; SHOULD and MAY results are
// counted and listed.
//
// Usage: node audit.mjs [path/to/gateway]   (default ../../bin/gateway)
import { serverAudits } from 'graphql-http';
import { startGateway } from './gateway.mjs';

const bin = process.argv[2] || new URL('../../bin/gateway', import.meta.url).pathname;
const deadline = setTimeout(() => {
  console.error('audit: timed out after 120 s');
  process.exit(1);
}, 120000);

const gw = await startGateway(bin);
let failedMust = 0;
try {
  // CSRF prevention is on by default (as in Apollo Router): a GET must
  // carry a preflight header, which a browser cannot add cross-site. The
  // audit is a non-browser client, so it sends one, as such clients do.
  const fetchFn = (input, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('apollo-require-preflight', 'true');
    return fetch(input, { ...init, headers });
  };
  const audits = serverAudits({ url: gw.url, fetchFn });
  const counts = { MUST: [0, 0], SHOULD: [0, 0], MAY: [0, 0] };
  const lines = [];
  for (const audit of audits) {
    const result = await audit.fn();
    const level = audit.name.split(' ')[0];
    counts[level][1]++;
    if (result.status === 'ok') {
      counts[level][0]++;
      continue;
    }
    if (level === 'MUST') failedMust++;
    let body = '';
    try {
      body = (await result.response.text()).slice(0, 300);
    } catch {}
    lines.push(`${level === 'MUST' ? 'FAIL' : 'miss'} ${audit.id} ${audit.name}: ${result.reason} [HTTP ${result.response.status} ${result.response.headers.get('content-type') || ''}] ${body}`);
  }
  for (const l of lines) console.log(l);
  for (const [level, [ok, all]] of Object.entries(counts)) console.log(`${level}: ${ok}/${all} pass`);
} finally {
  await gw.stop();
  clearTimeout(deadline);
}
if (failedMust > 0) {
  console.error(`audit: ${failedMust} MUST audit(s) failed`);
  process.exit(1);
}
