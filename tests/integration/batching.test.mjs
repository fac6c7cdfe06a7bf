// batching.test.mjs - pages per request adapt to the API (issue 22 item
// 3): against a simulator with a node limit on one request (--max-nodes,
// as an API with a query cost limit), a cold find still walks the whole
// tree, exactly, in a bounded number of requests; without the limit, the
// window grows and a cold find costs fewer requests than fixed batches of
// batch_pages would.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startSim, mount, teardown, exactCounts, FAULTS } from './lib.mjs';
import { expectTree, walkBound, findExactly } from './expect.mjs';

const lines = (s) => s.split('\n').filter((l) => l !== '');
const SIM_ARGS = ['--size', '2000', '--rate-read', '0'];
// In fault mode a mount's timeout is 2 s (lib.mjs), the bound of a whole
// operation: a folder whose list takes dozens of small pages under the
// node limit, one of them faulted, would fail for that bound alone.
const OPTS = ['rate_read=100000', 'cache_ttl=600', ...(FAULTS ? ['timeout=20'] : [])];

// The smallest page size the client can end at against a limit of @max
// nodes: it halves from 100 until one page, nested pages of the same size
// inside each node, fits (n + n x n nodes).
function smallestPage(max) {
  let p = 100;
  while (p > 1 && p + p * p > max) p = Math.floor(p / 2);
  return p;
}

describe('a cold find against an API with a node limit', () => {
  let sim, t, tree;
  before(async () => {
    sim = await startSim(SIM_ARGS);
    t = await sim.tenant();
    tree = expectTree(t);
  });
  after(() => teardown(sim));

  for (const max of [2000, 300]) {
    test(`--max-nodes ${max}: exact entries, exit 0, requests bounded`, async () => {
      await sim.config({ maxNodes: max });
      const m = await mount(sim, { opts: OPTS });
      try {
        await sim.resetStats();
        findExactly(m.dir, tree);
        const st = await sim.stats();
        assert.ok(st.overNodeLimit > 0, `the limit was hit: ${JSON.stringify(st)}`);
        assert.equal(st.mutations, 0);
        if (exactCounts()) {
          // Each request answered holds a page at least, of the smallest
          // size or bigger; each refused one halves the window or the
          // page size of one listing, so the refusals are few.
          const p = smallestPage(max);
          const bound = walkBound(t, p, 1);
          const served = st.requests - st.overNodeLimit;
          assert.ok(served <= bound, `${served} requests served > ${bound} (pages of ${p})`);
          assert.ok(st.overNodeLimit <= 20, `${st.overNodeLimit} requests refused`);
          console.log(`# --max-nodes ${max}: ${st.requests} requests, ${st.overNodeLimit} refused, bound ${bound}`);
        }
      } finally {
        await sim.config({ maxNodes: 0 });
        await m.unmount();
      }
    });
  }

  test('without a limit the window grows: fewer requests than fixed batches of batch_pages', { skip: !exactCounts() }, async () => {
    const m = await mount(sim, { opts: [...OPTS, 'batch_pages=2'] });
    try {
      await sim.resetStats();
      findExactly(m.dir, tree);
      const st = await sim.stats();
      assert.equal(st.overNodeLimit, 0);
      const fixed = walkBound(t, 100, 2);
      assert.ok(st.requests < fixed, `${st.requests} requests, not under ${fixed} (2 pages a request)`);
      console.log(`# no limit, batch_pages=2: ${st.requests} requests; fixed batches: ${fixed}`);
    } finally {
      await m.unmount();
    }
  });
});

// READDIRPLUS (issue 22 item 4): entries go with attributes to a process
// that looks at what it lists, as names alone to one that only walks, so
// that a find does not leave the daemon a node for every file.
describe('listings with attributes, to the processes that look at them', () => {
  let sim, tree, m;
  before(async () => {
    sim = await startSim(['--size', 'small', '--rate-read', '0']);
    tree = expectTree(await sim.tenant());
    m = await mount(sim, { opts: OPTS });
  });
  after(() => teardown(m, sim));

  const dirsOf = (t) => [...t.entries.values()].filter((e) => e.type === 'dir').length;
  const kernelNodes = () => {
    const r = spawnSync('cat', ['.twingatefs/stats'], { cwd: m.dir, encoding: 'utf8' });
    return Number(r.stdout.match(/^kernel-nodes: (\d+)/m)[1]);
  };

  test('find: exact entries, and a node for each folder only', () => {
    findExactly(m.dir, tree);
    const dirs = [...tree.entries.values()].filter((e) => e.type === 'dir').length;
    const n = kernelNodes();
    // (the root, the status folder and its files looked at by the test)
    assert.ok(n <= dirs + 5, `${n} kernel nodes after find, more than the ${dirs} folders`);
    assert.ok(tree.entries.size > 3 * dirs, 'files outnumber folders');
  });

  test('ls -lR: every entry with its attributes, as lstat has them', () => {
    const r = spawnSync('bash', ['-c', 'ls -lR . > /dev/null && find . -type f -printf "%s %m %p\\n" | sort'],
      { cwd: m.dir, encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, r.stderr);
    const files = [...tree.entries].filter(([, e]) => e.type === 'file');
    assert.equal(lines(r.stdout).length, files.length);
    // What the listing gave the kernel is what a LOOKUP gives: stat agrees.
    const s = spawnSync('bash', ['-c', 'find . -type f -exec stat -c "%s %a ./%n" {} + | sed "s#^\\([0-9]*\\) \\([0-9]*\\) \\./\\./#\\1 \\2 ./#" | sort'],
      { cwd: m.dir, encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(s.status, 0, s.stderr);
    assert.deepEqual(lines(s.stdout), lines(r.stdout));
    const n = kernelNodes();
    assert.ok(n > 3 * dirsOf(tree), `${n} kernel nodes: ls -l looked at the files`);
  });
});

// Lists that fit in one page come together (issue 22 item 3): the first
// list fetched cold brings the first pages of the others not yet held,
// as aliases of the same request; those that came whole are cached as if
// listed alone.  The small tenant's lists each fit in one page: before,
// a cold find cost one request a list (10); now one.
describe('first pages of several lists in one request', () => {
  let sim, t;
  before(async () => {
    sim = await startSim(['--size', 'small', '--rate-read', '0']);
    t = await sim.tenant();
  });
  after(() => teardown(sim));

  const stat = (m, name) => {
    const r = spawnSync('cat', ['.twingatefs/stats'], { cwd: m.dir, encoding: 'utf8' });
    const hit = r.stdout.match(new RegExp(`^${name}: (\\d+)$`, 'm'));
    return hit ? Number(hit[1]) : 0;
  };
  const groupNames = () => [...expectTree(t).entries.keys()].filter((p) => /^groups\/[^/]+$/.test(p))
    .map((p) => p.slice('groups/'.length)).sort();
  const ls = (m, dir) => {
    const r = spawnSync('ls', ['-1A', dir], { cwd: m.dir, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
    assert.equal(r.status, 0, r.stderr);
    return lines(r.stdout).sort();
  };

  test('a cold find of the small tenant: one request, the exact tree', { skip: !exactCounts() }, async () => {
    const m = await mount(sim, { opts: OPTS });
    try {
      await sim.resetStats();
      findExactly(m.dir, expectTree(t));
      const st = await sim.stats();
      // Every list fits in a page: all ten came with the first.
      assert.equal(Object.values(st.fields).reduce((a, b) => a + b, 0), 10, JSON.stringify(st.fields));
      assert.equal(st.requests, 1, JSON.stringify(st.operations));
      assert.equal(st.mutations, 0);
      assert.equal(stat(m, 'requests'), 1);
      console.log(`# cold find, small tenant: ${st.requests} request (10 before: one a list)`);
    } finally {
      await m.unmount();
    }
  });

  test('a cold ls costs one request, as before; the lists it brought cost none', { skip: !exactCounts() }, async () => {
    const m = await mount(sim, { token: 'sim-write', opts: OPTS });
    try {
      await sim.resetStats();
      assert.deepEqual(ls(m, 'groups'), groupNames());
      let st = await sim.stats();
      assert.equal(st.requests, 1);
      assert.deepEqual(st.operations, { tgfsList_groups: 1 });
      assert.equal(stat(m, 'requests tgfsList_groups'), 1);
      // Asked along: served from the cache, with what the tenant holds.
      assert.deepEqual(ls(m, 'serial-numbers').sort(), t.serialNumbers.map((s) => s.serialNumber).sort());
      assert.equal(ls(m, 'security-policies').length, t.securityPolicies.length);
      assert.equal(ls(m, 'access-requests').length, t.accessRequests.length);
      st = await sim.stats();
      assert.equal(st.requests, 1, JSON.stringify(st.operations));
      // A change made through the mount is seen in what came along.
      const sn = `BATCH-${process.pid}`;
      const r = spawnSync('mkdir', [`serial-numbers/${sn}`], { cwd: m.dir, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.ok(ls(m, 'serial-numbers').includes(sn));
      st = await sim.stats();
      assert.equal(st.mutations, 1);
      assert.equal(st.queries, 1);
      assert.ok((await sim.tenant()).serialNumbers.some((s) => s.serialNumber === sn));
      const rm = spawnSync('rmdir', [`serial-numbers/${sn}`], { cwd: m.dir, encoding: 'utf8' });
      assert.equal(rm.status, 0, rm.stderr);
    } finally {
      await m.unmount();
    }
  });

  test('an expired list is listed alone, and brings nothing it need not', { skip: !exactCounts() }, async () => {
    const m = await mount(sim, { opts: OPTS });
    try {
      ls(m, 'groups');
      // A refresh marks every list held expired: none is asked along.
      const r = spawnSync('bash', ['-c', 'echo 1 > .twingatefs/refresh'], { cwd: m.dir, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      await sim.resetStats();
      assert.deepEqual(ls(m, 'groups'), groupNames());
      const st = await sim.stats();
      assert.equal(st.requests, 1);
      assert.deepEqual(st.fields, { groups: 1 }, 'only groups were asked');
    } finally {
      await m.unmount();
    }
  });

  test('introspection refused: nothing is asked along (a field the API might lack would fail all)', { skip: !exactCounts() }, async () => {
    await sim.faults({ match: '__schema', status: 400, count: 100 });
    const m = await mount(sim, { opts: OPTS });
    try {
      await sim.faults([]);
      await sim.resetStats();
      findExactly(m.dir, expectTree(t));
      const st = await sim.stats();
      assert.equal(st.requests, 10, JSON.stringify(st.operations));
    } finally {
      await sim.faults([]);
      await m.unmount();
    }
  });
});

describe('first pages together against an API without the 2026 lists', () => {
  let sim, t;
  before(async () => {
    sim = await startSim(['--size', 'small', '--rate-read', '0', '--schema-variant', 'no-2026-lists']);
    t = await sim.tenant();
  });
  after(() => teardown(sim));

  test('the lists the schema has come in one request; the others show empty', { skip: !exactCounts() }, async () => {
    const m = await mount(sim, { opts: OPTS });
    try {
      await sim.resetStats();
      findExactly(m.dir, expectTree({ ...t, serialNumbers: [], accessRequests: [] }));
      const st = await sim.stats();
      assert.equal(st.requests, 1, JSON.stringify(st.operations));
      assert.equal(st.errors ?? 0, 0);
    } finally {
      await m.unmount();
    }
  });
});
