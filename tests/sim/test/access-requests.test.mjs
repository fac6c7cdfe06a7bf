// Access requests (just-in-time access): the generated ones, the filters,
// approve (the user gets the access asked for: membership of the group the
// request goes through; then the request is gone) and reject (gone, nothing
// else changes).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSim, byName } from '../testkit.mjs';

let s;
let T;
before(async () => {
  s = await startSim(['--size', 'small', '--rate-read', '0', '--rate-write', '0']);
  T = (await s.sim('/_sim/tenant?all=1')).body;
});
after(() => s.stop());

const m = async (q, v, token) => Object.values(await s.data(q, v, { token }))[0];
const LIST = '{ accessRequests(first: 50) { totalCount edges { node { id reason requestedAt user { email firstName } resource { __typename name } } } } }';
const userByEmail = (e) => T.users.find((u) => u.email === e);
/** Names of the resources a user reaches through their groups. */
async function reach(userId) {
  const d = await s.data(`{ user(id:"${userId}") { groups(first: 50) { edges { node { name resources(first: 100) { edges { node { name } } } } } } } }`);
  const out = new Set();
  for (const g of d.user.groups.edges) for (const r of g.node.resources.edges) out.add(r.node.name);
  return out;
}

test('the small tenant has pending requests, each with its user, resource, reason and time', async () => {
  const d = await s.data(LIST);
  assert.equal(d.accessRequests.totalCount, 3);
  assert.deepEqual(d.accessRequests.edges.map(({ node: n }) => [n.user.email, n.resource.name, n.reason]), [
    ['yuki.tanaka@example.com', 'prod-db', 'on call this week'],
    ['margaret.hamilton@example.com', 'grafana', null],
    [null, 'Web App (staging)', 'quarterly access review'],
  ]);
  assert.equal(d.accessRequests.edges[2].node.user.firstName, 'Service');
  // Nobody asks for what they already reach.
  for (const q of T.accessRequests) {
    const name = T.resources.find((r) => r.id === q.resourceId).name;
    assert.ok(!(await reach(q.userId)).has(name), name);
  }
  for (const { node } of d.accessRequests.edges) {
    assert.match(node.requestedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    assert.match(Buffer.from(node.id, 'base64').toString(), /^AccessRequest:\d+$/);
  }
  assert.equal(T.accessRequests.length, 3, '/_sim/tenant?all=1 has them');
  assert.equal((await s.sim('/_sim/tenant')).body.accessRequests, undefined, 'the plain snapshot does not');
  // One by id; an unknown id is null.
  const one = await s.data(`{ a: accessRequest(id:"${T.accessRequests[1].id}") { reason user { firstName } resource { name } }
    b: accessRequest(id:"${Buffer.from('AccessRequest:1').toString('base64')}") { id } }`);
  assert.deepEqual(one, { a: { reason: null, user: { firstName: 'Margaret' }, resource: { name: 'grafana' } }, b: null });
  const bad = await s.gql(`{ accessRequest(id:"${T.users[0].id}") { id } }`);
  assert.equal(bad.body.errors[0].message, "{'id': ['Unable to parse global ID']}");
});

test('filters: by resource ids and by user ids', async () => {
  const db = byName(T.resources, 'prod-db');
  const stg = byName(T.resources, 'Web App (staging)');
  const margaret = userByEmail('margaret.hamilton@example.com');
  const q = 'query($f: AccessRequestFilterInput) { accessRequests(filter: $f) { totalCount edges { node { user { firstName } } } } }';
  let d = await s.data(q, { f: { resourceId: { in: [db.id, stg.id] } } });
  assert.deepEqual(d.accessRequests.edges.map((e) => e.node.user.firstName), ['Yuki', 'Service']);
  d = await s.data(q, { f: { userId: { in: [margaret.id] } } });
  assert.deepEqual(d.accessRequests.edges.map((e) => e.node.user.firstName), ['Margaret']);
  d = await s.data(q, { f: { userId: { in: [margaret.id] }, resourceId: { in: [db.id] } } });
  assert.equal(d.accessRequests.totalCount, 0);
  d = await s.data(q, { f: { userId: null, resourceId: { in: null } } });
  assert.equal(d.accessRequests.totalCount, 3);
});

test('approve: the user gets the access asked for, then the request is gone', async () => {
  const yuki = userByEmail('yuki.tanaka@example.com');
  const req = T.accessRequests.find((q) => q.userId === yuki.id);
  const ops = byName(T.groups, 'Ops / SRE');
  assert.equal(req.groupId, ops.id);
  const before_ = await reach(yuki.id);
  assert.ok(!before_.has('prod-db') && !before_.has('corp wildcard'));
  await s.sim('/_sim/stats/reset', 'POST');
  const r = await m(`mutation { accessRequestApprove(id:"${req.id}") { ok error } }`);
  assert.deepEqual(r, { ok: true, error: null });
  const st = (await s.sim('/_sim/stats')).body;
  assert.deepEqual([st.mutations, st.fields.accessRequestApprove], [1, 1]);
  const after_ = await reach(yuki.id);
  assert.ok(after_.has('prod-db') && after_.has('corp wildcard'), 'through Ops / SRE');
  const g = await s.data(`{ group(id:"${ops.id}") { users(first: 50) { edges { node { email } } } } }`);
  assert.ok(g.group.users.edges.some((e) => e.node.email === 'yuki.tanaka@example.com'));
  const d = await s.data(`{ accessRequest(id:"${req.id}") { id } accessRequests { totalCount } }`);
  assert.deepEqual(d, { accessRequest: null, accessRequests: { totalCount: 2 } });
  assert.ok(!(await s.sim('/_sim/tenant?all=1')).body.accessRequests.some((q) => q.id === req.id));
  // Approving it again: it does not exist any more.
  const again = await m(`mutation { accessRequestApprove(id:"${req.id}") { ok error } }`);
  assert.deepEqual(again, { ok: false, error: `AccessRequest with id '${req.id}' does not exist` });
});

test('reject: the request is gone and nothing else changes', async () => {
  const margaret = userByEmail('margaret.hamilton@example.com');
  const req = T.accessRequests.find((q) => q.userId === margaret.id);
  const t0 = (await s.sim('/_sim/tenant')).body;
  const before_ = await reach(margaret.id);
  const r = await m(`mutation { accessRequestReject(id:"${req.id}") { ok error } }`);
  assert.deepEqual(r, { ok: true, error: null });
  assert.deepEqual(await reach(margaret.id), before_);
  assert.deepEqual((await s.sim('/_sim/tenant')).body, t0, 'groups, edges, users: all as they were');
  assert.equal((await s.data(`{ accessRequest(id:"${req.id}") { id } }`)).accessRequest, null);
  const again = await m(`mutation { accessRequestReject(id:"${req.id}") { ok error } }`);
  assert.equal(again.ok, false);
  assert.match(again.error, /does not exist/);
});

test('a request whose access is gone cannot be approved; a read token cannot decide; cascades', async () => {
  const desk = T.users.find((u) => u.email === null);
  const req = T.accessRequests.find((q) => q.userId === desk.id);
  const perm = await s.gql(`mutation { accessRequestApprove(id:"${req.id}") { ok } }`, null, { token: 'sim-read' });
  assert.match(perm.body.errors[0].message, /does not have the 'read write' permission/);
  // The group no longer reaches the resource: refused, request kept.
  const rm = await m(`mutation { resourceAccessRemove(resourceId:"${req.resourceId}", principalIds:["${req.groupId}"]) { ok } }`);
  assert.equal(rm.ok, true);
  const r = await m(`mutation { accessRequestApprove(id:"${req.id}") { ok error } }`);
  assert.deepEqual(r, { ok: false, error: 'This access request can no longer be approved: the access it asks for is gone.' });
  assert.ok(!(await reach(desk.id)).has('Web App (staging)'));
  assert.equal((await s.data(`{ accessRequest(id:"${req.id}") { id } }`)).accessRequest.id, req.id);
  // Deleting the resource takes its requests along.
  const del = await m(`mutation { resourceDelete(id:"${req.resourceId}") { ok } }`);
  assert.equal(del.ok, true);
  assert.equal((await s.data(`{ accessRequest(id:"${req.id}") { id } }`)).accessRequest, null);
  // And in a big tenant, requests exist too.
  const big = await startSim(['--size', '300']);
  try {
    const d = await big.data('{ accessRequests { totalCount edges { node { user { state } resource { name } } } } }');
    assert.ok(d.accessRequests.totalCount >= 1);
    for (const e of d.accessRequests.edges) assert.equal(e.node.user.state, 'ACTIVE');
  } finally {
    await big.stop();
  }
});
