// Rate limits: per token, separate read/write buckets, 429 + Retry-After.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startSim } from '../testkit.mjs';

let s;
before(async () => {
  s = await startSim(['--size', 'tiny', '--rate-read', '3', '--rate-write', '2']);
});
after(() => s.stop());
beforeEach(async () => {
  await s.sim('/_sim/config', 'POST', { rateRead: 3, rateWrite: 2 });
  await s.sim('/_sim/ratelimit/reset', 'POST');
  await s.sim('/_sim/stats/reset', 'POST');
});

const Q = '{ users { totalCount } }';
const M = 'mutation { remoteNetworkCreate(name:"rl") { ok } }';

test('reads over the limit get 429 with Retry-After and the fixed body', async () => {
  for (let i = 0; i < 3; i++) assert.equal((await s.gql(Q, null, { token: 'sim-read' })).status, 200);
  const r = await s.gql(Q, null, { token: 'sim-read' });
  assert.equal(r.status, 429);
  assert.deepEqual(r.body, { errors: [{ message: '429 Too Many Requests' }] });
  const ra = Number(r.headers.get('retry-after'));
  assert.ok(Number.isInteger(ra) && ra >= 1 && ra <= 60, `Retry-After ${ra}`);
  const st = (await s.sim('/_sim/stats')).body;
  assert.equal(st.rateLimited, 1);
  assert.equal(st.requests, 4);
  assert.equal(st.queries, 3);
});

test('read and write buckets are separate; limits are per token', async () => {
  for (let i = 0; i < 3; i++) await s.gql(Q, null, { token: 'sim-write' });
  assert.equal((await s.gql(Q, null, { token: 'sim-write' })).status, 429);
  assert.equal((await s.gql(M, null, { token: 'sim-write' })).status, 200, 'write bucket untouched by reads');
  assert.equal((await s.gql(M, null, { token: 'sim-write' })).status, 200);
  assert.equal((await s.gql(M, null, { token: 'sim-write' })).status, 429);
  assert.equal((await s.gql(Q, null, { token: 'sim-read' })).status, 200, 'another token has its own windows');
  assert.equal((await s.gql(M, null, { token: 'sim-provision' })).status, 200);
});

test('a request with several aliased root fields counts once', async () => {
  const r = await s.gql('{ a: users { totalCount } b: users { totalCount } c: devices { totalCount } d: groups { totalCount } }', null, { token: 'sim-read' });
  assert.equal(r.status, 200);
  assert.equal((await s.gql(Q, null, { token: 'sim-read' })).status, 200);
  assert.equal((await s.gql(Q, null, { token: 'sim-read' })).status, 200);
  assert.equal((await s.gql(Q, null, { token: 'sim-read' })).status, 429);
});

test('429s do not consume slots; bad tokens are not rate-limited', async () => {
  for (let i = 0; i < 3; i++) await s.gql(Q, null, { token: 'sim-read' });
  for (let i = 0; i < 5; i++) assert.equal((await s.gql(Q, null, { token: 'sim-read' })).status, 429);
  assert.equal((await s.gql(Q, null, { token: 'bogus' })).status, 401);
  // Window holds exactly 3 entries; one more slot makes the next request pass.
  await s.sim('/_sim/config', 'POST', { rateRead: 4 });
  assert.equal((await s.gql(Q, null, { token: 'sim-read' })).status, 200);
  assert.equal((await s.gql(Q, null, { token: 'sim-read' })).status, 429);
});

test('rate 0 turns a limit off; stats reset keeps windows; ratelimit reset clears them', async () => {
  for (let i = 0; i < 3; i++) await s.gql(Q, null, { token: 'sim-read' });
  await s.sim('/_sim/stats/reset', 'POST');
  assert.equal((await s.gql(Q, null, { token: 'sim-read' })).status, 429, 'stats reset does not clear windows');
  await s.sim('/_sim/ratelimit/reset', 'POST');
  assert.equal((await s.gql(Q, null, { token: 'sim-read' })).status, 200);
  await s.sim('/_sim/config', 'POST', { rateRead: 0 });
  for (let i = 0; i < 10; i++) assert.equal((await s.gql(Q, null, { token: 'sim-read' })).status, 200);
});

test('/_sim endpoints are never limited nor counted', async () => {
  for (let i = 0; i < 20; i++) assert.equal((await s.sim('/_sim/stats')).status, 200);
  const st = (await s.sim('/_sim/stats')).body;
  assert.equal(st.requests, 0);
});
