// Fault injection: every kind, matching, counting, and whether the
// operation ran.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startSim } from '../testkit.mjs';

let s;
before(async () => {
  s = await startSim(['--size', 'small', '--rate-read', '0', '--rate-write', '0']);
});
after(() => s.stop());
beforeEach(async () => {
  await s.sim('/_sim/faults', 'DELETE');
  await s.sim('/_sim/stats/reset', 'POST');
});

const Q = '{ users { totalCount } }';
const netCount = async () => (await s.sim('/_sim/tenant')).body.remoteNetworks.length;

/** Raw HTTP POST that reports what actually arrived (for truncate). */
function rawPost(body) {
  return new Promise((resolve) => {
    const req = http.request(s.url, { method: 'POST', agent: false, headers: { 'X-API-KEY': 'sim-write', 'Content-Type': 'application/json' } }, (res) => {
      let got = 0;
      res.on('data', (c) => { got += c.length; });
      res.on('end', () => resolve({ status: res.statusCode, length: Number(res.headers['content-length']), got, complete: res.complete }));
      res.on('error', () => resolve({ status: res.statusCode, length: Number(res.headers['content-length']), got, complete: false }));
      res.on('aborted', () => {});
    });
    req.on('error', (e) => resolve({ error: e.code }));
    req.end(JSON.stringify({ query: body }));
  });
}

test('status fault: next N matching requests, then normal; counted', async () => {
  await s.sim('/_sim/faults', 'POST', [{ status: 503, count: 2 }]);
  assert.equal((await s.sim('/_sim/faults')).body.length, 1);
  const r1 = await s.gql(Q);
  assert.equal(r1.status, 503);
  assert.ok(Array.isArray(r1.body.errors));
  assert.equal((await s.gql(Q)).status, 503);
  assert.equal((await s.gql(Q)).status, 200);
  assert.deepEqual((await s.sim('/_sim/faults')).body, []);
  const st = (await s.sim('/_sim/stats')).body;
  assert.equal(st.faults, 2);
  assert.equal(st.requests, 3);
  assert.equal(st.queries, 1, 'faulted requests are not executed');
});

test('429 fault carries the given Retry-After', async () => {
  await s.sim('/_sim/faults', 'POST', [{ status: 429, retryAfter: 7 }]);
  const r = await s.gql(Q);
  assert.equal(r.status, 429);
  assert.equal(r.headers.get('retry-after'), '7');
  assert.deepEqual(r.body, { errors: [{ message: '429 Too Many Requests' }] });
});

test('skip lets N matching requests through first', async () => {
  await s.sim('/_sim/faults', 'POST', { status: 500, skip: 2 });
  assert.equal((await s.gql(Q)).status, 200);
  assert.equal((await s.gql(Q)).status, 200);
  assert.equal((await s.gql(Q)).status, 500);
  assert.equal((await s.gql(Q)).status, 200);
});

test('match by operation type and by root field name', async () => {
  await s.sim('/_sim/faults', 'POST', [{ match: 'devices', status: 502 }, { match: 'mutation', status: 500 }]);
  assert.equal((await s.gql('{ groups { totalCount } }')).status, 200);
  assert.equal((await s.gql('{ a: groups { totalCount } b: devices { totalCount } }')).status, 502);
  const n = await netCount();
  assert.equal((await s.gql(Q)).status, 200);
  assert.equal((await s.gql('mutation { remoteNetworkCreate(name:"f") { ok } }')).status, 500);
  assert.equal(await netCount(), n, 'a faulted mutation did not run');
});

test('after:true runs the mutation, then fails the answer', async () => {
  const n = await netCount();
  await s.sim('/_sim/faults', 'POST', [{ match: 'remoteNetworkCreate', status: 500, after: true }]);
  assert.equal((await s.gql('mutation { remoteNetworkCreate(name:"committed") { ok } }')).status, 500);
  assert.equal(await netCount(), n + 1, 'state changed although the reply was lost');
  await s.sim('/_sim/faults', 'POST', [{ match: 'mutation', drop: true, after: true }]);
  await assert.rejects(s.gql('mutation { remoteNetworkCreate(name:"committed 2") { ok } }'));
  assert.equal(await netCount(), n + 2);
});

test('delay fault slows the answer but executes normally', async () => {
  await s.sim('/_sim/faults', 'POST', [{ delayMs: 300 }]);
  const t0 = Date.now();
  const r = await s.gql(Q);
  assert.ok(Date.now() - t0 >= 290);
  assert.equal(r.status, 200);
  assert.equal(r.body.data.users.totalCount, 10);
  const st = (await s.sim('/_sim/stats')).body;
  assert.deepEqual([st.faults, st.errors, st.queries], [1, 0, 1]);
});

test('drop destroys the connection without an answer', async () => {
  await s.sim('/_sim/faults', 'POST', [{ drop: true }]);
  await assert.rejects(s.gql(Q));
  assert.equal((await s.gql(Q)).status, 200);
  const r = await rawPost(Q);
  assert.equal(r.status, 200);
});

test('truncate sends status 200, the full Content-Length and half the body', async () => {
  await s.sim('/_sim/faults', 'POST', [{ truncate: true }]);
  const r = await rawPost('{ devices { edges { node { id name } } } }');
  assert.equal(r.status, 200);
  assert.ok(r.length > 100);
  assert.equal(r.got, Math.floor(r.length / 2));
  assert.equal(r.complete, false);
  await s.sim('/_sim/faults', 'POST', [{ truncate: true }]);
  await assert.rejects(s.gql(Q).then((x) => JSON.parse(x.text)));
});

test('malformed: JSON-looking garbage or an HTML page, status 200', async () => {
  await s.sim('/_sim/faults', 'POST', [{ malformed: true }, { malformed: 'html' }]);
  let r = await s.gql('{ remoteNetworks { totalCount } }');
  assert.equal(r.status, 200);
  assert.equal(r.body, null);
  assert.ok(r.text.startsWith('{"data": {"remoteNe'), r.text);
  r = await s.gql(Q);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/html/);
  assert.ok(r.text.startsWith('<!doctype html'));
});

test('faults apply before auth, and unparseable requests match only "any"', async () => {
  await s.sim('/_sim/faults', 'POST', [{ match: 'query', status: 500 }]);
  assert.equal((await s.gql('{ users { ')).status, 400, 'unparseable: "query" does not match');
  await s.sim('/_sim/faults', 'POST', [{ match: 'any', status: 500 }]);
  assert.equal((await s.gql('{ users { ')).status, 500);
  await s.sim('/_sim/faults', 'POST', [{ status: 500 }]);
  assert.equal((await s.gql(Q, null, { token: 'bad' })).status, 500);
});

test('random mode: seeded, persistent until cleared', async () => {
  await s.sim('/_sim/faults', 'POST', [{ rate: 1, kinds: ['status503'] }]);
  for (let i = 0; i < 3; i++) assert.equal((await s.gql(Q)).status, 503);
  const seq = async () => {
    await s.sim('/_sim/faults', 'POST', [{ rate: 0.5, kinds: ['status500', 'status429'], seed: 42 }]);
    const out = [];
    for (let i = 0; i < 12; i++) out.push((await s.gql(Q)).status);
    return out;
  };
  const a = await seq();
  const b = await seq();
  assert.deepEqual(a, b, 'same seed, same fault sequence');
  assert.ok(a.includes(200) && a.some((x) => x !== 200), a.join(','));
  await s.sim('/_sim/faults', 'DELETE');
  assert.equal((await s.gql(Q)).status, 200);
});

test('random storm429: runs of exactly `storm` 429s with Retry-After, seeded', async () => {
  const seq = async () => {
    await s.sim('/_sim/faults', 'POST', [{ rate: 0.2, kinds: ['storm429'], storm: 4, retryAfter: 3, seed: 7 }]);
    await s.sim('/_sim/stats/reset', 'POST');
    const out = [];
    for (let i = 0; i < 60; i++) {
      const r = await s.gql(Q);
      if (r.status === 429) assert.equal(r.headers.get('retry-after'), '3');
      out.push(r.status);
    }
    return out;
  };
  const a = await seq();
  assert.deepEqual(await seq(), a, 'same seed, same storms');
  // Maximal runs of 429: a storm may start right after another ends, so
  // each run is a whole number of storms; the last may be cut by the end.
  const runs = a.join(',').split(/,?200,?/).filter((x) => x !== '').map((x) => x.split(',').length);
  assert.ok(runs.length >= 2, a.join(','));
  for (const n of runs.slice(0, -1)) assert.equal(n % 4, 0, a.join(','));
  assert.ok(a.slice(0, 40).includes(200));
  const st = (await s.sim('/_sim/stats')).body;
  assert.equal(st.queries, a.filter((x) => x === 200).length, 'a storm executes nothing');
  assert.deepEqual((await s.sim('/_sim/faults')).body.map((f) => f.storm), [4]);
  // Not drawn unless asked for: the default kinds are unchanged.
  await s.sim('/_sim/faults', 'POST', [{ rate: 1, storm: 2 }]);
  assert.equal((await s.sim('/_sim/faults')).body[0].kinds.includes('storm429'), false);
});

test('invalid fault lists are refused with 400', async () => {
  for (const bad of [[{ status: 'x' }], [{ match: 'any' }], [{ bogus: 1, status: 500 }], [{ rate: 2 }], [{ rate: 0.1, kinds: ['nope'] }],
    [{ rate: 0.1, kinds: ['storm429'], storm: 0 }], 5]) {
    const r = await s.sim('/_sim/faults', 'POST', bad);
    assert.equal(r.status, 400, JSON.stringify(bad));
  }
  await s.sim('/_sim/faults', 'POST', []);
  assert.deepEqual((await s.sim('/_sim/faults')).body, []);
});
