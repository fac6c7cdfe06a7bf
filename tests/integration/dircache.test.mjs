// dircache.test.mjs - folders listed from the kernel's cache (fs/ll.c,
// fs/kcache.c): the daemon answers OPENDIR with ENOSYS, so the kernel
// lists a folder it holds entries of without asking, until the folder's
// generation (its mtime's nanoseconds) changes because what the entries
// were made of went stale, or until a change made here drops them.  Each
// test checks what a user sees: a warm walk lists nothing again, a change
// made elsewhere shows once the cache's TTL has passed, and a change made
// here, or a refresh, shows at the next ls with no wait.  -o dir_open
// keeps the old way (an OPENDIR for every open).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startSim, mount, sh, teardown, waitFor, entryNames } from './lib.mjs';

const FW = '\uFF0F'; // how '/' shows in a name
const NO_PACING = ['rate_read=0', 'rate_write=0'];

const stats = (dir) => {
  const out = {};
  for (const l of readFileSync(`${dir}/.twingatefs/stats`, 'utf8').split('\n')) {
    const m = l.match(/^(readdirs|opendirs-fill|opendirs-keep|requests): (\d+)$/);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
};

describe('folders listed from the kernel cache', () => {
  let sim, m;
  before(async () => {
    sim = await startSim(['--size', 'small', '--rate-read', '0', '--rate-write', '0']);
    m = await mount(sim, { token: 'sim-write', opts: NO_PACING });
  });
  after(() => teardown(m, sim));

  test('a warm walk lists no folder again and opens none', () => {
    const first = sh('find . | sort', m.dir);
    const s1 = stats(m.dir);
    assert.ok(s1.readdirs > 100, JSON.stringify(s1));
    for (let i = 0; i < 3; i++) assert.equal(sh('find . | sort', m.dir), first);
    const s2 = stats(m.dir);
    assert.equal(s2.readdirs, s1.readdirs, 'every folder came from the kernel');
    assert.equal(s2.requests, s1.requests, 'no request to the API');
    assert.equal(s2['opendirs-fill'] + s2['opendirs-keep'], 0, 'no folder was opened');
  });

  test('changes made here show at the next ls: a rename by a name file, a member in both its folders', () => {
    sh('ls networks groups users "groups/Ops ' + FW + ' SRE/users" users/alan.turing@example.com/groups > /dev/null', m.dir);
    // the name field renames the folder; no folder operation the kernel saw
    sh('echo "Edge Net" > "networks/Office ' + FW + ' HQ/name"', m.dir);
    const before = stats(m.dir).requests;
    const nets = sh('ls networks', m.dir).split('\n');
    // listed again from the daemon's cache, which the mutation's answer
    // updated: the drop costs no request
    assert.equal(stats(m.dir).requests, before, 'no request to list again');
    assert.ok(nets.includes('Edge Net'), nets.join(','));
    assert.ok(!nets.includes(`Office ${FW} HQ`), nets.join(','));
    // a member added in the group's folder shows in the user's too
    sh(`ln -s ../../../users/alan.turing@example.com "groups/Ops ${FW} SRE/users/alan.turing@example.com"`, m.dir);
    assert.match(sh('ls users/alan.turing@example.com/groups', m.dir), new RegExp(`^Ops ${FW} SRE$`, 'm'));
    sh(`rm "groups/Ops ${FW} SRE/users/alan.turing@example.com"`, m.dir);
    assert.doesNotMatch(sh('ls users/alan.turing@example.com/groups', m.dir), new RegExp(`^Ops ${FW} SRE$`, 'm'));
  });

  test('a draft shows in its kind folder and its network at once, and goes with rmdir', () => {
    const net = sh('ls networks | head -1', m.dir).trim();
    sh(`ls resources "networks/${net}/resources" > /dev/null`, m.dir);
    sh(`mkdir "networks/${net}/resources/dircache-draft"`, m.dir);
    assert.match(sh('ls resources', m.dir), /^dircache-draft$/m);
    assert.match(sh(`ls "networks/${net}/resources"`, m.dir), /^dircache-draft$/m);
    sh('rmdir resources/dircache-draft', m.dir);
    assert.doesNotMatch(sh(`ls "networks/${net}/resources"`, m.dir), /^dircache-draft$/m);
  });
});

describe('a folder of 2,000 entries, read in pieces', () => {
  let sim, m, want;
  before(async () => {
    sim = await startSim(['--size', '2000', '--rate-read', '0', '--rate-write', '0']);
    want = entryNames((await sim.tenant()).devices, (d) => d.id).sort();
    m = await mount(sim, { opts: NO_PACING });
  });
  after(() => teardown(m, sim));

  test('is listed whole, once, from one listing kept while the kernel reads it', () => {
    sh('ls networks > /dev/null', m.dir); // the mount's first listing
    const s0 = stats(m.dir).readdirs;
    const got = sh('ls -f devices', m.dir).split('\n').filter((n) => n && n !== '.' && n !== '..');
    assert.equal(got.length, 2000);
    assert.deepEqual(got.sort(), want);
    // ~90 KB of entries, which the kernel reads in 4 READDIRs here (perf
    // record -e fuse:fuse_request_send): made once, not per piece
    assert.equal(stats(m.dir).readdirs - s0, 1, 'one listing for all the pieces');
  });

  test('four readers at once after the entries were dropped each get all of them', () => {
    sh('echo 1 > .twingatefs/refresh', m.dir);
    const out = sh('for i in 1 2 3 4; do (ls -f devices | grep -vc "^\\.\\.\\?$") & done; wait', m.dir);
    assert.deepEqual(out.split('\n').filter(Boolean), ['2000', '2000', '2000', '2000']);
  });
});

describe('changes made elsewhere', () => {
  let sim, reader, writer;
  before(async () => {
    sim = await startSim(['--size', 'tiny', '--rate-read', '0', '--rate-write', '0']);
    reader = await mount(sim, { opts: [...NO_PACING, 'cache_ttl=2'] });
    writer = await mount(sim, { token: 'sim-write', opts: NO_PACING });
  });
  after(() => teardown(reader, writer, sim));

  test('show in a folder the kernel holds once the TTL has passed', async () => {
    const before = sh('ls networks', reader.dir);
    assert.doesNotMatch(before, /^made-elsewhere$/m);
    sh('mkdir networks/made-elsewhere', writer.dir);
    // ls as a user would run it again; the kernel lists from its cache
    // until the entries' generation goes stale (2 s here)
    await waitFor(() => /^made-elsewhere$/m.test(sh('ls networks', reader.dir)), 15000,
      'the new network in the reader\'s listing');
    sh('rmdir networks/made-elsewhere', writer.dir);
    await waitFor(() => !/^made-elsewhere$/m.test(sh('ls networks', reader.dir)), 15000,
      'the network gone from the reader\'s listing');
  });

  test('show at once after a refresh, whatever the TTL', async () => {
    const r = await mount(sim, { opts: [...NO_PACING, 'cache_ttl=600'] });
    try {
      assert.doesNotMatch(sh('ls networks', r.dir), /^refresh-me$/m);
      sh('mkdir networks/refresh-me', writer.dir);
      assert.doesNotMatch(sh('ls networks', r.dir), /^refresh-me$/m, 'held for the TTL');
      sh('echo 1 > .twingatefs/refresh', r.dir);
      assert.match(sh('ls networks', r.dir), /^refresh-me$/m);
    } finally {
      await r.unmount();
    }
  });
});

describe('-o dir_open', () => {
  let sim, m;
  before(async () => {
    sim = await startSim(['--size', 'tiny', '--rate-read', '0', '--rate-write', '0']);
    m = await mount(sim, { opts: [...NO_PACING, 'dir_open'] });
  });
  after(() => teardown(m, sim));

  test('opens every folder: the kernel keeps its entries while they hold', () => {
    const first = sh('ls -R | sort', m.dir);
    const s1 = stats(m.dir);
    assert.equal(sh('ls -R | sort', m.dir), first);
    const s2 = stats(m.dir);
    assert.equal(s2.readdirs, s1.readdirs, 'nothing listed again');
    assert.ok(s2['opendirs-keep'] > s1['opendirs-keep'], JSON.stringify([s1, s2]));
  });
});
