// The node limit of one request (--max-nodes, /_sim/config maxNodes):
// worked out from first/last before running, nested connections
// multiplied, aliases summed; over it: HTTP 200, an error, no data,
// nothing run, counted.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startSim } from '../testkit.mjs';

let s;
before(async () => {
  s = await startSim(['--size', 'small', '--rate-read', '0', '--rate-write', '0', '--max-nodes', '250']);
});
after(() => s.stop());
beforeEach(async () => {
  await s.sim('/_sim/config', 'POST', { maxNodes: 250 });
  await s.sim('/_sim/stats/reset', 'POST');
});

const over = (r, n) => {
  assert.equal(r.status, 200);
  assert.equal(r.body.data, undefined, 'no data');
  assert.equal(r.body.errors.length, 1);
  assert.match(r.body.errors[0].message, new RegExp(`requests up to ${n} nodes, which exceeds the maximum of 250 nodes`));
  assert.equal(r.body.errors[0].extensions.code, 'MAX_NODE_LIMIT_EXCEEDED');
};

test('config shows maxNodes (the flag), and it can be changed; 0 is off', async () => {
  assert.equal((await s.sim('/_sim/config')).body.maxNodes, 250);
  assert.equal((await s.sim('/_sim/config', 'POST', { maxNodes: 0 })).body.maxNodes, 0);
  await s.data('{ a: devices(first: 100) { totalCount } b: devices(first: 100) { totalCount } c: devices(first: 100) { totalCount } }');
  assert.equal((await s.sim('/_sim/config', 'POST', { maxNodes: -1 })).status, 400);
});

test('aliases add up: 2 x 100 passes, 3 x 100 is refused and not run', async () => {
  const d = await s.data('{ a: devices(first: 100) { totalCount } b: devices(first: 100, after: "YXJyYXljb25uZWN0aW9uOjk5") { edges { node { id } } } }');
  assert.ok(d.a.totalCount > 0);
  over(await s.gql('{ a: devices(first: 100) { totalCount } b: devices(first: 100) { totalCount } c: users(first: 51) { totalCount } }'), 251);
  const st = (await s.sim('/_sim/stats')).body;
  assert.equal(st.requests, 2);
  assert.equal(st.queries, 1, 'the refused request did not run');
  assert.equal(st.overNodeLimit, 1);
  assert.equal(st.errors, 1);
});

test('nested connections multiply; the default page size counts when first is left out', async () => {
  // 10 groups x 20 users + 10 = 210
  await s.data('{ groups(first: 10) { edges { node { users(first: 20) { edges { node { id } } } } } } }');
  // 10 + 10 x 30 = 310, through a fragment and a variable
  over(await s.gql('query($n: Int) { groups(first: 10) { edges { node { ...G } } } } fragment G on Group { users(first: $n) { totalCount } }',
    { n: 30 }), 310);
  // no first: 50 (the default) x 5 + 50 = 300
  over(await s.gql('{ groups { edges { node { users(first: 5) { totalCount } } } } }'), 300);
  // inline fragments on a union/interface: resources(first: 5) { access(first: 60) } = 5 + 300
  over(await s.gql('{ resources(first: 5) { edges { node { ... on Resource { access(first: 60) { totalCount } } } } } }'), 305);
});

test('mutations are limited alike; one under the limit runs', async () => {
  const r = await s.gql('mutation { remoteNetworkCreate(name: "cost-net") { ok entity { id } } }');
  assert.equal(r.status, 200);
  assert.equal(r.body.data.remoteNetworkCreate.ok, true);
});
