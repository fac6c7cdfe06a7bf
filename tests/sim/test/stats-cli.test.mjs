// Stats counting, /_sim/tenant, determinism, sizes and the command line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startSim } from '../testkit.mjs';

const SERVER = fileURLToPath(new URL('../server.mjs', import.meta.url));

let s;
before(async () => {
  s = await startSim(['--size', 'small', '--rate-read', '0', '--rate-write', '0']);
});
after(() => s.stop());

test('stats count requests, operations, root fields (aliases separately), errors', async () => {
  await s.sim('/_sim/stats/reset', 'POST');
  await s.data('query ListDevices { a: devices(first:5) { totalCount } b: devices(first:5) { totalCount } c: devices { totalCount } users { totalCount } user(id:"VXNlcjox") { id } }');
  await s.data('query ListDevices { devices { totalCount } }');
  await s.data('mutation Make { x: remoteNetworkCreate(name:"s1") { ok } y: remoteNetworkCreate(name:"s2") { ok } }');
  await s.gql('{ users { totalCount } }', null, { token: 'nope' }); // 401
  await s.gql('{ users { '); // 400
  await s.gql('{ device(id:"bad") { id } }'); // 200 with errors[]
  const st = (await s.sim('/_sim/stats')).body;
  assert.equal(st.requests, 6);
  assert.equal(st.queries, 3);
  assert.equal(st.mutations, 1);
  assert.equal(st.errors, 3);
  assert.equal(st.rateLimited, 0);
  assert.equal(st.faults, 0);
  assert.deepEqual(st.fields, { devices: 4, users: 1, user: 1, remoteNetworkCreate: 2, device: 1 });
  assert.deepEqual(st.operations, { ListDevices: 2, Make: 1, '(anonymous)': 1 });
  assert.equal(st.pages, 5, 'root-level connection fields');
  assert.ok(st.nodes >= 0);
  const z = (await s.sim('/_sim/stats/reset', 'POST')).body;
  assert.equal(z.requests, 0);
  assert.deepEqual(z.fields, {});
});

test('maxInFlight is the most GraphQL requests open at once since the reset', async () => {
  await s.sim('/_sim/config', 'POST', { latencyMs: 100 });
  try {
    await s.sim('/_sim/stats/reset', 'POST');
    await s.data('{ users { totalCount } }');
    await s.data('{ users { totalCount } }');
    assert.equal((await s.sim('/_sim/stats')).body.maxInFlight, 1, 'one after another');
    await s.sim('/_sim/stats/reset', 'POST');
    // Each is held 100 ms by the latency: all three are open together.
    await Promise.all([1, 2, 3].map(() => s.data('{ users { totalCount } }')));
    assert.equal((await s.sim('/_sim/stats')).body.maxInFlight, 3, 'three at once');
  } finally {
    await s.sim('/_sim/config', 'POST', { latencyMs: 0 });
  }
});

test('/_sim/tenant has every collection, API field names, relation ids, no secrets', async () => {
  const t = (await s.sim('/_sim/tenant')).body;
  for (const k of ['remoteNetworks', 'connectors', 'resources', 'groups', 'users', 'devices', 'serviceAccounts', 'serviceAccountKeys', 'securityPolicies', 'access']) {
    assert.ok(Array.isArray(t[k]), k);
  }
  assert.ok(t.connectors.every((c) => c.remoteNetworkId && !('accessToken' in c)));
  assert.ok(t.groups.every((g) => Array.isArray(g.userIds) && g.securityPolicyId));
  assert.ok(t.devices.every((d) => d.userId && !('createdAt' in d)));
  assert.ok(t.serviceAccountKeys.every((k) => k.serviceAccountId && !('token' in k)));
  assert.ok(t.access.every((e) => e.resourceId && e.principalId && ['GROUP', 'SERVICE_ACCOUNT'].includes(e.principalType)));
});

test('small tenant has the awkward names the filesystem must survive', async () => {
  const t = (await s.sim('/_sim/tenant')).body;
  const nets = t.remoteNetworks.map((n) => n.name);
  for (const n of ['AWS prod', 'Office / HQ', 'Zürich Büro', '.hidden-net']) assert.ok(nets.includes(n), n);
  assert.equal(nets.filter((n) => n === 'Duplicate').length, 2);
  const aws = t.remoteNetworks.find((n) => n.name === 'AWS prod');
  const conns = t.connectors.filter((c) => c.remoteNetworkId === aws.id).map((c) => c.name);
  assert.ok(conns.length >= 4);
  assert.equal(new Set(conns).size, conns.length - 1, 'two connectors share a name');
  const all = [...t.connectors, ...t.resources, ...t.groups].map((x) => x.name);
  assert.ok(all.some((n) => n.includes('/')));
  assert.ok(all.some((n) => n.startsWith('.')));
  assert.ok(all.some((n) => n.includes(' ')));
  assert.ok(all.some((n) => /[^\x00-\x7f]/.test(n)));
  assert.ok(t.groups.some((g) => g.type === 'SYSTEM' && g.name === 'Everyone'));
  assert.equal(t.securityPolicies.filter((p) => p.policyType === 'DEFAULT_RESOURCE').length, 1);
});

test('same seed gives the same tenant; another seed differs', async () => {
  const [a, b, c] = await Promise.all([startSim(['--seed', '7']), startSim(['--seed', '7']), startSim(['--seed', '8'])]);
  try {
    const [ta, tb, tc] = await Promise.all([a, b, c].map(async (x) => (await x.sim('/_sim/tenant')).body));
    assert.deepEqual(ta, tb);
    assert.notDeepEqual(ta.remoteNetworks.map((n) => n.id), tc.remoteNetworks.map((n) => n.id));
    // /_sim/reset goes back to the generated tenant.
    await a.data('mutation { remoteNetworkCreate(name:"temp") { ok } }');
    await a.sim('/_sim/reset', 'POST');
    assert.deepEqual((await a.sim('/_sim/tenant')).body, ta);
  } finally {
    await Promise.all([a.stop(), b.stop(), c.stop()]);
  }
});

test('sizes: tiny, a device count, large', async () => {
  const tiny = await startSim(['--size', 'tiny']);
  try {
    const t = (await tiny.sim('/_sim/tenant')).body;
    const counts = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.length]));
    assert.deepEqual(counts, { remoteNetworks: 1, connectors: 1, resources: 1, groups: 1, users: 1, devices: 1, serviceAccounts: 1, serviceAccountKeys: 1, securityPolicies: 2, access: 2 });
  } finally {
    await tiny.stop();
  }
  const n = await startSim(['--size', '200']);
  try {
    const d = await n.data('{ devices { totalCount edges { node { id } } } users { totalCount } remoteNetworks { totalCount } }', null, { token: 'sim-read' });
    assert.equal(d.devices.totalCount, 200);
    assert.equal(d.devices.edges.length, 50, 'default page size is 50');
    assert.equal(d.users.totalCount, 100);
    assert.equal(d.remoteNetworks.totalCount, 1);
  } finally {
    await n.stop();
  }
  const t0 = Date.now();
  const big = await startSim(['--size', 'large']);
  try {
    assert.ok(Date.now() - t0 < 5000, 'large tenant starts quickly');
    const t1 = Date.now();
    const d = await big.data('{ devices(first:100) { totalCount edges { node { id user { email } } } } groups(first:50) { totalCount edges { node { users(first:100) { totalCount pageInfo { hasNextPage } } } } } }', null, { token: 'sim-read' });
    assert.ok(Date.now() - t1 < 2000);
    assert.equal(d.devices.totalCount, 20000);
    assert.equal(d.groups.totalCount, 500);
    assert.ok(d.groups.edges.filter((e) => e.node.users.totalCount > 100).length >= 2, 'some groups overflow a nested page');
    const u = await big.data('{ users { totalCount } resources { totalCount } connectors { totalCount } serviceAccounts { totalCount } securityPolicies { totalCount } remoteNetworks { totalCount } }', null, { token: 'sim-read' });
    assert.deepEqual([u.users.totalCount, u.resources.totalCount, u.connectors.totalCount, u.serviceAccounts.totalCount, u.securityPolicies.totalCount, u.remoteNetworks.totalCount], [10000, 5000, 200, 50, 10, 20]);
  } finally {
    await big.stop();
  }
});

test('latency applies to the API, not to /_sim', async () => {
  await s.sim('/_sim/config', 'POST', { latencyMs: 250 });
  try {
    let t0 = Date.now();
    await s.gql('{ __typename }');
    assert.ok(Date.now() - t0 >= 240);
    t0 = Date.now();
    await s.sim('/_sim/stats');
    assert.ok(Date.now() - t0 < 200);
  } finally {
    await s.sim('/_sim/config', 'POST', { latencyMs: 0 });
  }
  assert.equal((await s.sim('/_sim/config', 'POST', { latencyMs: -1 })).status, 400);
  assert.equal((await s.sim('/_sim/config', 'POST', { nope: 1 })).status, 400);
});

test('command line: one stdout line, clean SIGTERM, bad arguments', async () => {
  const x = await startSim(['--size', 'tiny', '--verbose', '--latency-ms', '1', '--page-max', '10', '--rate-read', '5', '--rate-write', '1', '--seed', '3']);
  await x.gql('{ users { totalCount } }');
  await x.gql('{ users(first: 11) { totalCount } }').then((r) => assert.match(r.body.errors[0].message, /limit of 10/));
  const code = new Promise((r) => x.child.once('exit', (c, sig) => r([c, sig])));
  x.child.kill('SIGTERM');
  const [c] = await code;
  assert.equal(c, 0);
  assert.match(x.getStdout(), /^http:\/\/127\.0\.0\.1:\d+\/api\/graphql\/\n$/);
  assert.ok(x.getStderr().length > 0, '--verbose logs to stderr');
  const bad = spawnSync(process.execPath, [SERVER, '--size', 'huge'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.equal(bad.stdout, '');
  const bad2 = spawnSync(process.execPath, [SERVER, '--frobnicate'], { encoding: 'utf8' });
  assert.equal(bad2.status, 2);
});
