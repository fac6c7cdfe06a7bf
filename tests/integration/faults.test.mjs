// faults.test.mjs - reads when the API misbehaves (DESIGN.md §6, §7, §9):
// a 429 is waited out, a 500 or a dropped connection is retried, a server
// that does not answer in time is an EIO, and with the API gone cached data
// is still served, the status file says so, and uncached reads are EIO.
//
// Every case starts from a cold mount, so the read it watches really asks
// the API; the simulator's fault list (POST /_sim/faults) is set after the
// mount, so the check at mount is never the request that fails.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSim, mount, sh, shStatus, tempDir, rmSync, waitFor, teardown } from './lib.mjs';
import { expectTree, childrenOf } from './expect.mjs';

const lines = (s) => s.split('\n').filter((l) => l !== '');
const sorted = (a) => [...a].sort();
const q = (s) => `'${s.replace(/'/g, "'\\''")}'`;

// What the status file says when the API cannot be reached, and when it
// serves cached data past its time.
const UNREACHABLE = /(^|\n)\s*reachable:\s*(no|false)\b|unreachable|not reachable/i;
const STALE = /stale:\s*(yes|true)\b|serving stale/i;

const NO_PACING = 'rate_read=100000';

describe('reads through API faults', () => {
  let sim, t, tree, state;
  before(async () => {
    sim = await startSim(['--size', 'small', '--rate-read', '0']);
    t = await sim.tenant();
    tree = expectTree(t);
    state = tempDir();
  });
  after(async () => {
    await sim?.stop();
    if (state) rmSync(state, { recursive: true, force: true });
  });

  // Mounts cold, arms @faults, runs fn(m), unmounts whatever happens.
  async function withFaults(faults, fn, opts = []) {
    const m = await mount(sim, { opts: [NO_PACING, ...opts], env: { XDG_STATE_HOME: state } });
    try {
      assert.equal(await sim.faults(faults), 200, 'the fault list was taken');
      await sim.resetStats();
      return await fn(m);
    } finally {
      await sim.faults([]);
      await m.unmount();
    }
  }

  const dev = () => tree.byKind.devices[3];
  const trustOf = (r) => (r.obj.isTrusted ? 'trusted\n' : 'untrusted\n');

  test('a 429 with Retry-After 1 is waited out and the read succeeds', async () => {
    await withFaults([{ match: 'query', status: 429, retryAfter: 1 }], async (m) => {
      const t0 = Date.now();
      assert.equal(sh(`cat ${q(`${dev().path}/trust`)}`, m.dir), trustOf(dev()));
      const waited = Date.now() - t0;
      const st = await sim.stats();
      assert.equal(st.faults, 1, 'the 429 was served');
      assert.ok(st.requests >= 2, 'asked again after the 429');
      assert.ok(waited >= 900, `Retry-After honoured (waited ${waited} ms)`);
      assert.equal(st.mutations, 0);
    });
  });

  test('a 429 in the middle of a paged listing is waited out; the listing is complete', async () => {
    // Page 1 goes alone, the rest follow: the second request is refused.
    await withFaults([{ match: 'query', skip: 1, status: 429, retryAfter: 1 }], async (m) => {
      assert.deepEqual(sorted(lines(sh('ls -1A devices', m.dir))),
        sorted(childrenOf(tree, 'devices')));
      assert.equal((await sim.stats()).faults, 1);
    }, ['page_size=2', 'batch_pages=2']);
  });

  test('a 500 on a read is retried and the read succeeds', async () => {
    await withFaults([{ match: 'query', status: 500 }], async (m) => {
      assert.equal(sh(`cat ${q(`${dev().path}/trust`)}`, m.dir), trustOf(dev()));
      const st = await sim.stats();
      assert.equal(st.faults, 1);
      assert.ok(st.requests >= 2 && st.requests <= 3, `${st.requests} requests`);
    });
  });

  test('a 500 on one page of a paged listing is retried; the listing is complete', async () => {
    await withFaults([{ match: 'query', skip: 1, status: 500 }], async (m) => {
      assert.deepEqual(sorted(lines(sh('ls -1A devices', m.dir))),
        sorted(childrenOf(tree, 'devices')));
      assert.equal((await sim.stats()).faults, 1);
    }, ['page_size=2', 'batch_pages=2']);
  });

  test('a dropped connection on a read is retried and the read succeeds', async () => {
    await withFaults([{ match: 'query', drop: true }], async (m) => {
      assert.equal(sh(`cat ${q(`${dev().path}/trust`)}`, m.dir), trustOf(dev()));
      assert.deepEqual(sorted(lines(sh('ls -1A users', m.dir))), sorted(childrenOf(tree, 'users')));
      assert.equal((await sim.stats()).faults, 1);
    });
  });

  test('a server that does not answer within the timeout: EIO, then fine once it answers', async () => {
    await withFaults([{ match: 'query', delayMs: 20000, count: 50 }], async (m) => {
      const t0 = Date.now();
      const r = shStatus('ls devices', m.dir);
      const took = Date.now() - t0;
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /Input\/output error/);
      // timeout=2 and retries=1: two tries; far less than the delay.
      assert.ok(took < 15000, `gave up after ${took} ms`);
      assert.notEqual(sh('cat .twingatefs/errors', m.dir), '', 'the failure is in errors');
      await sim.faults([]);
      assert.deepEqual(sorted(lines(sh('ls -1A devices', m.dir))),
        sorted(childrenOf(tree, 'devices')));
    }, ['timeout=2', 'retries=1']);
  });
});

describe('with the API gone', () => {
  let sim, t, tree, state, m;
  before(async () => {
    sim = await startSim(['--size', 'small', '--rate-read', '0']);
    t = await sim.tenant();
    tree = expectTree(t);
    state = tempDir();
    // Pages of 2: the lists of more (devices, users) are not had along
    // with the first one listed (first.c), so they stay uncached.
    m = await mount(sim, { opts: [NO_PACING, 'timeout=3', 'retries=1', 'cache_ttl=1', 'page_size=2'],
      env: { XDG_STATE_HOME: state } });
  });
  after(async () => {
    await teardown(m, sim);
    if (state) rmSync(state, { recursive: true, force: true });
  });

  test('cached reads keep working, stale, and the status file says the API is unreachable', async () => {
    const net = tree.byKind.remoteNetworks[1];
    const name = `${net.path}/name`;
    const nets = sorted(childrenOf(tree, 'networks'));
    assert.equal(sh(`cat ${q(name)}`, m.dir), `${net.obj.name}\n`);
    assert.deepEqual(sorted(lines(sh('ls -1A networks', m.dir))), nets);
    assert.match(sh('cat .twingatefs/status', m.dir), /(^|\n)\s*reachable:\s*(yes|true)\b/i);

    await sim.stop();
    // Past the TTL a read asks the API, fails, and serves what it had.
    // Every read must succeed; what we wait for is the status to change.
    let status = '';
    await waitFor(() => {
      assert.equal(sh(`cat ${q(name)}`, m.dir), `${net.obj.name}\n`, 'cached field served');
      assert.deepEqual(sorted(lines(sh('ls -1A networks', m.dir))), nets, 'cached listing served');
      status = sh('cat .twingatefs/status', m.dir);
      return UNREACHABLE.test(status);
    }, 30000, 'the status file to say the API is unreachable');
    assert.match(status, STALE, status);
  });

  test('an uncached read fails with EIO within the timeout', () => {
    const t0 = Date.now();
    const r = shStatus('ls devices', m.dir);
    const took = Date.now() - t0;
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Input\/output error/);
    assert.ok(took < 20000, `gave up after ${took} ms`);
    const r2 = shStatus(`cat ${q(`${tree.byKind.users[0].path}/email`)}`, m.dir);
    assert.notEqual(r2.status, 0);
    assert.match(r2.stderr, /Input\/output error/);
    assert.notEqual(sh('cat .twingatefs/errors', m.dir), '', 'the failure is in errors');
  });
});
