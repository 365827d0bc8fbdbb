// planText must print every golden plan exactly as the gateway's own
// printer (`gateway plan`, planner.Plan.String) does: the JSON of
// testdata/plans/*.plan.json against the text of *.plan.txt.
// Run: node --test playground/src/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { planSummary, planText } from './plan.js';

const dir = new URL('../../testdata/plans/', import.meta.url);
const goldens = readdirSync(dir).filter((f) => f.endsWith('.plan.json'));

test('there are golden plans', () => {
  assert.ok(goldens.length > 10, `only ${goldens.length} golden plans`);
});

for (const file of goldens) {
  test(`planText ${file}`, () => {
    const plan = JSON.parse(readFileSync(new URL(file, dir), 'utf8'));
    const want = readFileSync(new URL(file.replace(/\.json$/, '.txt'), dir), 'utf8');
    assert.equal(planText(plan), want);
  });
}

test('planSummary counts fetches, subgraphs and sequential steps', () => {
  const fetch = (s) => ({ kind: 'Fetch', serviceName: s, operation: '{a}' });
  const plan = {
    kind: 'QueryPlan',
    node: {
      kind: 'Sequence',
      nodes: [
        { kind: 'Parallel', nodes: [fetch('a'), fetch('b')] },
        { kind: 'Flatten', path: ['x'], node: fetch('c') },
        { kind: 'Parallel', nodes: [fetch('a'), { kind: 'Sequence', nodes: [fetch('b'), fetch('d')] }] },
      ],
    },
  };
  assert.deepEqual(planSummary(plan), { fetches: 6, steps: 4, services: ['a', 'b', 'c', 'd'] });
  assert.deepEqual(planSummary({ kind: 'QueryPlan', node: null }), { fetches: 0, steps: 0, services: [] });
});
