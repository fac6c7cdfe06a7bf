// rsync.test.mjs - backing a tenant up with rsync -a (DESIGN.md §6): the
// copy is the tree (files, modes, mtimes, symlinks as symlinks, no status
// folder), and a second run after a remount of an unchanged tenant copies
// no file, because sizes and mtimes (devices' first-seen times included,
// kept in the state file) are stable across mounts.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readlinkSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSim, mount, sh, shStatus, tempDir, rmSync, waitFor, teardown } from './lib.mjs';
import { expectTree, diffTree } from './expect.mjs';

const q = (s) => `'${s.replace(/'/g, "'\\''")}'`;
const report = (bad) => (bad.length <= 40 ? bad : [...bad.slice(0, 40),
  `... and ${bad.length - 40} more`]).join('\n');

// "Number of regular files transferred: 12" (older rsync: "files transferred").
function transferred(stats) {
  const m = stats.match(/Number of (?:regular )?files transferred: ([\d,]+)/);
  assert.ok(m, `rsync --stats output:\n${stats}`);
  return Number(m[1].replace(/,/g, ''));
}

describe('rsync -a of the tenant', () => {
  let sim, t, tree, state, dest, m;
  const opts = ['rate_read=100000'];
  before(async () => {
    sim = await startSim(['--size', 'small', '--rate-read', '0']);
    t = await sim.tenant();
    tree = expectTree(t);
    state = tempDir();
    dest = tempDir();
    m = await mount(sim, { opts, env: { XDG_STATE_HOME: state } });
  });
  after(async () => {
    await teardown(m, sim);
    for (const d of [state, dest]) if (d) rmSync(d, { recursive: true, force: true });
  });

  const rsync = () => {
    const r = shStatus(`rsync -a --stats ${q(`${m.dir}/`)} ${q(`${dest}/`)}`);
    assert.equal(r.status, 0, `rsync exited ${r.status}: ${r.stderr}`);
    assert.equal(r.stderr, '', 'no vanished files or read errors');
    return r.stdout;
  };

  test('the first run copies the whole tree, exactly', async () => {
    await sim.resetStats();
    const files = [...tree.entries.values()].filter((e) => e.type === 'file').length;
    assert.equal(transferred(rsync()), files, 'every regular file copied');
    assert.equal((await sim.stats()).mutations, 0);
    // Contents, sizes, modes, updatedAt mtimes, listings, object.json.
    const bad = diffTree(dest, tree, { tenant: t });
    assert.deepEqual(bad, [], report(bad));
    assert.ok(!existsSync(join(dest, '.twingatefs')), 'the status folder is not copied');
  });

  test('symlinks are copied as symlinks with the same relative targets', () => {
    const links = [...tree.entries].filter(([, e]) => e.type === 'link');
    assert.ok(links.length > 0);
    for (const [p, e] of links) {
      assert.ok(lstatSync(join(dest, p)).isSymbolicLink(), p);
      assert.equal(readlinkSync(join(dest, p)), e.target, p);
    }
    // ... and resolve inside the copy.
    assert.equal(sh('find . -xtype l', dest), '', 'no dangling links in the copy');
    const r = tree.byKind.resources[0];
    assert.equal(sh(`cat ${q(`${r.path}/network/name`)}`, dest),
      readFileSync(join(m.dir, r.path, 'network', 'name'), 'utf8'));
  });

  test('spot checks: a few files read the same in the copy and in the mount', () => {
    const some = [
      `${tree.byKind.resources[2].path}/protocols`,
      `${tree.byKind.devices[0].path}/object.json`,
      `${tree.byKind.serviceAccountKeys[0].path}/expires-at`,
      `${tree.byKind.users.at(-1).path}/email`,
      `${tree.byKind.connectors[0].path}/private-ips`,
    ];
    for (const p of some) {
      assert.equal(readFileSync(join(dest, p), 'utf8'), readFileSync(join(m.dir, p), 'utf8'), p);
      assert.equal(sh(`stat -c '%s %a %Y' ${q(p)}`, dest), sh(`stat -c '%s %a %Y' ${q(p)}`, m.dir), p);
    }
    assert.equal(sh(`stat -c %a ${q(`${tree.byKind.connectors[0].path}/tokens`)}`, dest), '600\n');
  });

  test('a second run after a remount of the unchanged tenant copies no file', async () => {
    // Devices' mtimes are first-seen times: let the clock move past them,
    // so a remount that took "now" instead would show.
    const devMtime = Math.floor(lstatSync(join(m.dir, tree.byKind.devices[0].path, 'trust'))
      .mtimeMs / 1000);
    await m.unmount();
    m = null;
    await waitFor(() => Date.now() / 1000 >= devMtime + 2, 5000, 'the clock to move on');
    m = await mount(sim, { opts, env: { XDG_STATE_HOME: state } });
    await sim.resetStats();
    const out = rsync();
    assert.match(out, /Number of (regular )?files transferred: 0\b/, out);
    assert.equal(transferred(out), 0);
    assert.equal((await sim.stats()).mutations, 0);
    const bad = diffTree(dest, tree, { tenant: t });
    assert.deepEqual(bad, [], report(bad));
  });
});

// Issue 20, item 7: a backup never misses a change.  rsync's quick check
// compares sizes and whole seconds of mtimes, so two values of one length
// written within one second must show in two different seconds; and what
// did not change keeps its mtime, in this mount and the next.  The next one
// has page_size=1: a resource's access comes in later pages (a partial
// listing), which must not move mtimes either.  The tiny tenant keeps each
// rsync short, so that both writes can fall within one second.
describe('rsync -a after two changes of equal length within one second', () => {
  let sim, state, dest, m;
  const opts = ['rate_read=100000', 'rate_write=100000'];
  const RES = 'resources/tiny-db';
  before(async () => {
    sim = await startSim(['--size', 'tiny', '--rate-read', '0', '--rate-write', '0']);
    state = tempDir();
    dest = tempDir();
    m = await mount(sim, { token: 'sim-write', opts, env: { XDG_STATE_HOME: state } });
  });
  after(async () => {
    await teardown(m, sim);
    for (const d of [state, dest]) if (d) rmSync(d, { recursive: true, force: true });
  });

  // rsync -a --itemize-changes --stats MNT/ backup/: its changes and
  // the number of files it copied.
  const rsync = () => {
    const r = shStatus(`rsync -a --itemize-changes --stats ${q(`${m.dir}/`)} ${q(`${dest}/`)}`);
    assert.equal(r.status, 0, `rsync exited ${r.status}: ${r.stderr}`);
    assert.equal(r.stderr, '', 'no vanished files or read errors');
    const changes = r.stdout.split('\n').filter((l) => /^[<>ch.*][fdLDS]/.test(l));
    return { out: r.stdout, changes, copied: transferred(r.stdout) };
  };
  const updatedAt = async () => (await sim.tenant()).resources
    .find((x) => x.name === 'tiny-db').updatedAt;
  const secondOf = (t) => t.slice(0, 19);

  test('the backup holds the second value', async () => {
    assert.ok(rsync().copied > 0, 'the first run copies the tree');
    // Both writes must land within one second of the API's clock: start
    // each try at the top of a second, and try again if they did not.
    let tries = 0;
    let u1;
    let u2;
    let second;
    for (const [a, b] of ['aaa', 'bbb', 'ccc', 'ddd', 'eee', 'fff', 'ggg', 'hhh']
      .map((x) => [`${x}1`, `${x}2`])) {
      tries++;
      await waitFor(() => Date.now() % 1000 < 50, 2000, 'the top of a second');
      sh(`echo ${a}.example.com > ${q(`${RES}/address`)}`, m.dir);
      u1 = await updatedAt();
      const first = rsync();
      assert.equal(readFileSync(join(dest, RES, 'address'), 'utf8'), `${a}.example.com\n`);
      assert.ok(first.changes.some((l) => l.startsWith('>f') && l.endsWith(`${RES}/address`)),
        first.out);
      sh(`echo ${b}.example.com > ${q(`${RES}/address`)}`, m.dir);
      u2 = await updatedAt();
      second = rsync();
      if (secondOf(u1) === secondOf(u2)) {
        // The case of the issue: the second value is copied.
        assert.equal(readFileSync(join(dest, RES, 'address'), 'utf8'), `${b}.example.com\n`,
          `updatedAt ${u1} then ${u2}:\n${second.out}`);
        break;
      }
      assert.equal(readFileSync(join(dest, RES, 'address'), 'utf8'), `${b}.example.com\n`);
    }
    assert.equal(secondOf(u1), secondOf(u2), `two writes within one second, in ${tries} tries`);
    for (const f of ['address', 'updated-at', 'object.json']) {
      assert.ok(second.changes.some((l) => l.startsWith('>f') && l.endsWith(`${RES}/${f}`)),
        `${f} copied:\n${second.out}`);
    }
    // Every file of the backup's resource reads as the mount's.
    for (const f of ['address', 'updated-at', 'object.json', 'name']) {
      assert.equal(readFileSync(join(dest, RES, f), 'utf8'),
        readFileSync(join(m.dir, RES, f), 'utf8'), f);
    }
    assert.equal(readFileSync(join(dest, RES, 'updated-at'), 'utf8'),
      `${u2.slice(0, 26)}Z\n`);
  });

  test('then a run with nothing changed copies nothing, in this mount and the next', async () => {
    let r = rsync();
    assert.equal(r.copied, 0, r.out);
    assert.deepEqual(r.changes, [], r.out);
    // mtimes past "now" or first seen here must hold across the remount:
    // let the clock move on first.
    const t = Number(lstatSync(join(m.dir, RES, 'address'), { bigint: true }).mtimeNs / 1000000n);
    await m.unmount();
    m = null;
    const until = Math.max(t, Date.now()) + 2000;
    await waitFor(() => Date.now() >= until, 5000, 'the clock to move on');
    m = await mount(sim, { token: 'sim-write', opts: [...opts, 'page_size=1'],
      env: { XDG_STATE_HOME: state } });
    await sim.resetStats();
    r = rsync();
    assert.equal(r.copied, 0, r.out);
    // No file or link changes; folders at the top show the mount's time.
    assert.deepEqual(r.changes.filter((l) => !l.startsWith('.d')), [], r.out);
    assert.equal((await sim.stats()).mutations, 0);
    r = rsync();
    assert.deepEqual(r.changes, [], r.out);
  });
});
