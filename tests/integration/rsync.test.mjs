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
