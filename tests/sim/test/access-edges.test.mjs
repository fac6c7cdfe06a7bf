// Access edges with their settings (expiresAt, securityPolicy,
// usageBasedAutolockDurationDays, approvalMode, accessPolicy):
// resourceAccessAdd upserts one edge (omitted = kept, null = cleared),
// resourceAccessSet replaces all, expired edges are never listed; and the
// resource-wide defaults.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSim, byName } from '../testkit.mjs';

let s;
let T;
before(async () => {
  s = await startSim(['--size', 'small', '--rate-read', '0', '--rate-write', '0']);
  T = (await s.sim('/_sim/tenant')).body;
});
after(() => s.stop());

const m = async (q, v) => Object.values(await s.data(q, v))[0];
const EDGE = 'node { __typename ... on Group { name } ... on ServiceAccount { name } } securityPolicy { name } expiresAt usageBasedAutolockDurationDays approvalMode accessPolicy { mode durationSeconds }';
const edgesOf = async (rid) => {
  const d = await s.data(`{ resource(id:"${rid}") { access(first: 100) { totalCount edges { ${EDGE} } } } }`);
  return Object.fromEntries(d.resource.access.edges.map((e) => [e.node.name, e]));
};
const settings = (e) => e && {
  securityPolicy: e.securityPolicy?.name ?? null, expiresAt: e.expiresAt,
  usageBasedAutolockDurationDays: e.usageBasedAutolockDurationDays, approvalMode: e.approvalMode, accessPolicy: e.accessPolicy,
};
const ADD = 'mutation($r: ID!, $a: [AccessInput!]!) { resourceAccessAdd(resourceId: $r, access: $a) { ok error } }';
const SET = 'mutation($r: ID!, $a: [AccessInput!]!) { resourceAccessSet(resourceId: $r, access: $a) { ok error } }';

test('generated edges and resources carry settings and defaults', async () => {
  const db = byName(T.resources, 'prod-db');
  const e = await edgesOf(db.id);
  assert.deepEqual(settings(e['Ops / SRE']), {
    securityPolicy: 'Require MFA', expiresAt: null, usageBasedAutolockDurationDays: null,
    approvalMode: 'MANUAL', accessPolicy: { mode: 'ACCESS_REQUEST', durationSeconds: 28800 },
  });
  assert.deepEqual(settings(e.Engineering), { securityPolicy: null, expiresAt: null, usageBasedAutolockDurationDays: null, approvalMode: null, accessPolicy: null });
  const tokyo = await edgesOf(byName(T.resources, '東京 ファイルサーバ').id);
  assert.equal(tokyo['東京 チーム'].expiresAt, '2032-01-25T00:00:00.000000+00:00', 'a future expiry is listed');
  const graf = await edgesOf(byName(T.resources, 'grafana').id);
  assert.deepEqual(settings(graf['Ops / SRE']).accessPolicy, { mode: 'AUTO_LOCK', durationSeconds: 604800 });
  assert.equal(graf['Ops / SRE'].usageBasedAutolockDurationDays, 30);
  const d = await s.data(`{ resource(id:"${db.id}") { approvalMode accessPolicy { mode durationSeconds } usageBasedAutolockDurationDays } }`);
  assert.deepEqual(d.resource, { approvalMode: 'MANUAL', accessPolicy: { mode: 'ACCESS_REQUEST', durationSeconds: 14400 }, usageBasedAutolockDurationDays: null });
  // An edge generated with an expiry long past is nowhere: not on the
  // resource, not on the group, not in the snapshot.
  const wiki = byName(T.resources, 'Intranet / Wiki');
  const okta = byName(T.groups, 'Okta Admins');
  assert.equal((await edgesOf(wiki.id))['Okta Admins'], undefined);
  const g = await s.data(`{ group(id:"${okta.id}") { resources(first: 50) { edges { node { name } } } } }`);
  assert.ok(!g.group.resources.edges.some((x) => x.node.name === 'Intranet / Wiki'));
  assert.ok(!T.access.some((x) => x.resourceId === wiki.id && x.principalId === okta.id));
});

test('resourceAccessAdd: a new edge with every setting, then omitted settings kept and explicit nulls cleared', async () => {
  const res = byName(T.resources, 'VPC subnet');
  const tokyo = byName(T.groups, '東京 チーム');
  const trusted = byName(T.securityPolicies, 'Trusted Devices Only');
  const all = {
    principalId: tokyo.id, securityPolicyId: trusted.id, expiresAt: '2031-05-06T07:08:09Z', usageBasedAutolockDurationDays: 10,
    approvalMode: 'AUTOMATIC', accessPolicy: { mode: 'AUTO_LOCK', durationSeconds: 2 * 86400 },
  };
  assert.deepEqual(await m(ADD, { r: res.id, a: [all] }), { ok: true, error: null });
  const full = {
    securityPolicy: 'Trusted Devices Only', expiresAt: '2031-05-06T07:08:09.000000+00:00', usageBasedAutolockDurationDays: 10,
    approvalMode: 'AUTOMATIC', accessPolicy: { mode: 'AUTO_LOCK', durationSeconds: 172800 },
  };
  assert.deepEqual(settings((await edgesOf(res.id))['東京 チーム']), full);
  const others = (await edgesOf(res.id));
  delete others['東京 チーム'];

  // One setting at a time: only that one changes.
  assert.equal((await m(ADD, { r: res.id, a: [{ principalId: tokyo.id, usageBasedAutolockDurationDays: 20 }] })).ok, true);
  assert.deepEqual(settings((await edgesOf(res.id))['東京 チーム']), { ...full, usageBasedAutolockDurationDays: 20 });
  // Just the principal: nothing changes (a re-grant keeps the settings).
  assert.equal((await m(ADD, { r: res.id, a: [{ principalId: tokyo.id }] })).ok, true);
  assert.deepEqual(settings((await edgesOf(res.id))['東京 チーム']), { ...full, usageBasedAutolockDurationDays: 20 });
  // Explicit nulls clear, one by one, the rest kept.
  assert.equal((await m(ADD, { r: res.id, a: [{ principalId: tokyo.id, expiresAt: null, securityPolicyId: null }] })).ok, true);
  assert.deepEqual(settings((await edgesOf(res.id))['東京 チーム']),
    { ...full, usageBasedAutolockDurationDays: 20, expiresAt: null, securityPolicy: null });
  // The same through literals rather than variables.
  const lit = await m(`mutation { resourceAccessAdd(resourceId:"${res.id}", access:[{principalId:"${tokyo.id}", usageBasedAutolockDurationDays: null, accessPolicy: null, approvalMode: null}]) { ok error } }`);
  assert.deepEqual(lit, { ok: true, error: null });
  assert.deepEqual(settings((await edgesOf(res.id))['東京 チーム']),
    { securityPolicy: null, expiresAt: null, usageBasedAutolockDurationDays: null, approvalMode: null, accessPolicy: null });
  // The resource's other edges were never touched.
  const now = await edgesOf(res.id);
  delete now['東京 チーム'];
  assert.deepEqual(now, others);
});

test('resourceAccessAdd judges the edge as it will be, and refuses bad settings whole', async () => {
  const res = byName(T.resources, 'grafana');
  const ops = byName(T.groups, 'Ops / SRE');
  const eng = byName(T.groups, 'Engineering');
  const ci = byName(T.serviceAccounts, 'ci-runner');
  const before_ = await edgesOf(res.id);
  // Ops' edge is AUTO_LOCK + AUTOMATIC: clearing approvalMode alone breaks it.
  let r = await m(ADD, { r: res.id, a: [{ principalId: ops.id, approvalMode: null }] });
  assert.deepEqual(r, { ok: false, error: 'AUTO_LOCK access policies need an approvalMode.' });
  // A new AUTO_LOCK policy alone is fine: the edge keeps its approvalMode.
  r = await m(ADD, { r: res.id, a: [{ principalId: ops.id, accessPolicy: { mode: 'AUTO_LOCK', durationSeconds: 3 * 86400 } }] });
  assert.deepEqual(r, { ok: true, error: null });
  assert.deepEqual((await edgesOf(res.id))['Ops / SRE'].accessPolicy, { mode: 'AUTO_LOCK', durationSeconds: 259200 });
  const refusals = [
    [{ principalId: eng.id, expiresAt: '2020-01-01T00:00:00Z' }, /expiresAt '2020-01-01T00:00:00Z' is in the past/],
    [{ principalId: eng.id, expiresAt: 'tomorrow' }, /not a valid expiresAt/],
    [{ principalId: eng.id, usageBasedAutolockDurationDays: 0 }, /between 1 and 365/],
    [{ principalId: eng.id, accessPolicy: { mode: 'ACCESS_REQUEST', durationSeconds: 60 } }, /at least 1 hour/],
    [{ principalId: ci.id, approvalMode: 'MANUAL' }, /apply to Groups only/],
  ];
  for (const [a, re] of refusals) {
    // Together with a valid entry: all or nothing.
    r = await m(ADD, { r: res.id, a: [{ principalId: byName(T.groups, '.contractors').id }, a] });
    assert.equal(r.ok, false, JSON.stringify(a));
    assert.match(r.error, re);
  }
  const after_ = await edgesOf(res.id);
  assert.equal(after_['.contractors'], undefined, 'refused: no edge added');
  assert.deepEqual(Object.keys(after_).sort(), Object.keys(before_).sort());
});

test('resourceAccessSet replaces every edge: the ones not given go, the given ones get exactly the given settings', async () => {
  const res = byName(T.resources, 'prod-db');
  const ops = byName(T.groups, 'Ops / SRE');
  const dot = byName(T.groups, '.contractors');
  const backup = byName(T.serviceAccounts, 'Backup Bot');
  assert.deepEqual(Object.keys(await edgesOf(res.id)).sort(), ['Backup Bot', 'Engineering', 'Ops / SRE', 'ci-runner']);
  const r = await m(SET, { r: res.id, a: [
    { principalId: ops.id, usageBasedAutolockDurationDays: 7 },
    { principalId: dot.id, expiresAt: '2030-02-03T04:05:06.789Z' },
    { principalId: backup.id },
  ] });
  assert.deepEqual(r, { ok: true, error: null });
  const e = await edgesOf(res.id);
  assert.deepEqual(Object.keys(e).sort(), ['.contractors', 'Backup Bot', 'Ops / SRE']);
  assert.deepEqual(settings(e['Ops / SRE']), { securityPolicy: null, expiresAt: null, usageBasedAutolockDurationDays: 7, approvalMode: null, accessPolicy: null },
    'its policy and JIT settings, not given, are gone');
  assert.equal(e['.contractors'].expiresAt, '2030-02-03T04:05:06.789000+00:00');
  // The other sides follow.
  const g = await s.data(`{ group(id:"${byName(T.groups, 'Engineering').id}") { resources(first: 50) { edges { node { name } } } } }`);
  assert.ok(!g.group.resources.edges.some((x) => x.node.name === 'prod-db'));
  const t = (await s.sim('/_sim/tenant')).body;
  assert.deepEqual(t.access.filter((x) => x.resourceId === res.id).map((x) => x.principalId).sort(), [ops.id, dot.id, backup.id].sort());
  // An empty list removes every edge.
  assert.equal((await m(SET, { r: res.id, a: [] })).ok, true);
  assert.equal((await s.data(`{ resource(id:"${res.id}") { access { totalCount } } }`)).resource.access.totalCount, 0);
});

test('an edge past its expiresAt stops being listed everywhere; granting again starts a fresh edge', async () => {
  const res = byName(T.resources, 'Büro-Drucker');
  const eng = byName(T.groups, 'Engineering');
  const soon = new Date(Date.now() + 1500).toISOString();
  const r = await m(ADD, { r: res.id, a: [{ principalId: eng.id, expiresAt: soon, usageBasedAutolockDurationDays: 9 }] });
  assert.deepEqual(r, { ok: true, error: null });
  const q = `{ resource(id:"${res.id}") { access { totalCount edges { node { ... on Group { name } } } } groups { edges { node { name } } } }
    group(id:"${eng.id}") { resources(first: 50) { totalCount edges { node { name } } } } }`;
  let d = await s.data(q);
  assert.ok(d.resource.access.edges.some((e) => e.node.name === 'Engineering'));
  assert.ok(d.resource.groups.edges.some((e) => e.node.name === 'Engineering'));
  assert.ok(d.group.resources.edges.some((e) => e.node.name === 'Büro-Drucker'));
  const total = d.group.resources.totalCount;
  await new Promise((ok) => setTimeout(ok, 1700));
  d = await s.data(q);
  assert.ok(!d.resource.access.edges.some((e) => e.node.name === 'Engineering'));
  assert.ok(!d.resource.groups.edges.some((e) => e.node.name === 'Engineering'));
  assert.ok(!d.group.resources.edges.some((e) => e.node.name === 'Büro-Drucker'));
  assert.equal(d.group.resources.totalCount, total - 1);
  const t = (await s.sim('/_sim/tenant')).body;
  assert.ok(!t.access.some((x) => x.resourceId === res.id && x.principalId === eng.id));
  // Granting again: a new edge, the expired one's settings gone with it.
  assert.equal((await m(ADD, { r: res.id, a: [{ principalId: eng.id }] })).ok, true);
  assert.deepEqual(settings((await edgesOf(res.id)).Engineering),
    { securityPolicy: null, expiresAt: null, usageBasedAutolockDurationDays: null, approvalMode: null, accessPolicy: null });
});

test('resource defaults: resourceUpdate sets and clears approvalMode, accessPolicy and usageBasedAutolockDurationDays', async () => {
  const res = byName(T.resources, 'Web App (staging)');
  const Q = `{ resource(id:"${res.id}") { approvalMode accessPolicy { mode durationSeconds } usageBasedAutolockDurationDays } }`;
  assert.deepEqual((await s.data(Q)).resource, { approvalMode: null, accessPolicy: null, usageBasedAutolockDurationDays: null });
  let r = await m(`mutation { resourceUpdate(id:"${res.id}", approvalMode: AUTOMATIC, accessPolicy: {mode: AUTO_LOCK, durationSeconds: 86400}, usageBasedAutolockDurationDays: 45) { ok error } }`);
  assert.deepEqual(r, { ok: true, error: null });
  assert.deepEqual((await s.data(Q)).resource, { approvalMode: 'AUTOMATIC', accessPolicy: { mode: 'AUTO_LOCK', durationSeconds: 86400 }, usageBasedAutolockDurationDays: 45 });
  r = await m(`mutation { resourceUpdate(id:"${res.id}", usageBasedAutolockDurationDays: null) { ok error } }`);
  assert.deepEqual((await s.data(Q)).resource, { approvalMode: 'AUTOMATIC', accessPolicy: { mode: 'AUTO_LOCK', durationSeconds: 86400 }, usageBasedAutolockDurationDays: null });
  r = await m(`mutation { resourceUpdate(id:"${res.id}", approvalMode: null) { ok error } }`);
  assert.deepEqual(r, { ok: false, error: 'AUTO_LOCK access policies need an approvalMode.' });
  r = await m(`mutation { resourceUpdate(id:"${res.id}", approvalMode: null, accessPolicy: null) { ok error } }`);
  assert.deepEqual(r, { ok: true, error: null });
  assert.deepEqual((await s.data(Q)).resource, { approvalMode: null, accessPolicy: null, usageBasedAutolockDurationDays: null });
  // Edges keep their own settings: the defaults are the resource's.
  const t = (await s.sim('/_sim/tenant')).body;
  assert.equal(byName(t.resources, 'Web App (staging)').approvalMode, null);
});
