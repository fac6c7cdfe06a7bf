// batching.test.mjs - pages per request adapt to the API (issue 22 item
// 3): against a simulator with a node limit on one request (--max-nodes,
// as an API with a query cost limit), a cold find still walks the whole
// tree, exactly, in a bounded number of requests; without the limit, the
// window grows and a cold find costs fewer requests than fixed batches of
// batch_pages would.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startSim, mount, teardown, exactCounts } from './lib.mjs';
import { expectTree, walkBound, findExactly } from './expect.mjs';

const lines = (s) => s.split('\n').filter((l) => l !== '');
const SIM_ARGS = ['--size', '2000', '--rate-read', '0'];
const OPTS = ['rate_read=100000', 'cache_ttl=600'];

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
