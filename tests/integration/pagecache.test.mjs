// pagecache.test.mjs - warm reads and listings come from the kernel's
// caches, and a value or a folder that changed (out of band, or through the
// mount) is never read cut, padded or stale: the kernel holds a size and
// pages per file and entries per folder, and twingatefs tells it whether
// they still hold: a file's at each open, a folder's by the generation in
// its mtime and by dropping them after a change (fs/kcache.c, fs/ll.c).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSim, mount, sh, teardown, exactCounts } from './lib.mjs';

// The counters of /.twingatefs/stats that tell how reads were served.
function readStats(dir) {
  const out = {};
  for (const l of sh('cat .twingatefs/stats', dir).split('\n')) {
    const m = l.match(/^(opens-direct|opens-page-fill|opens-page-keep|reads|opendirs-fill|opendirs-keep|readdirs): (\d+)$/);
    if (m) out[m[1]] = Number(m[2]);
  }
  assert.equal(Object.keys(out).length, 7, 'stats show how reads were served');
  return out;
}

const diff = (a, b) => Object.fromEntries(Object.keys(a).map((k) => [k, b[k] - a[k]]));

describe('reads through the kernel page cache', () => {
  let sim, m, net, dir, tenant;
  // Sets the network's location behind the mount's back, then drops the
  // mount's cache (the kernel keeps its own: cache_ttl is an hour).
  async function setLocation(v, id = net.id) {
    const r = await sim.gql(
      'mutation($id: ID!, $l: RemoteNetworkLocation!) { remoteNetworkUpdate(id: $id, location: $l) { ok error } }',
      { id, l: v });
    assert.equal(r.body.data?.remoteNetworkUpdate?.ok, true, JSON.stringify(r.body));
    sh('echo 1 > .twingatefs/refresh', m.dir);
  }
  before(async () => {
    sim = await startSim(['--size', 'small']);
    tenant = await sim.tenant();
    net = tenant.remoteNetworks.find((n) => /^[A-Za-z0-9 _.-]+$/.test(n.name));
    assert.ok(net, 'a network with a plain name');
    m = await mount(sim, { token: 'sim-write', opts: ['rate_read=0', 'rate_write=0', 'cache_ttl=3600'] });
    dir = `networks/${net.name}`;
  });
  after(async () => {
    await teardown(m, sim);
  });

  test('a warm cat is an open and no read: the kernel serves the bytes', { skip: !exactCounts() }, () => {
    // A first open reads direct; once a getattr has told the kernel the
    // size, the next fills the page cache, and the ones after keep it.
    const s00 = readStats(m.dir);
    // (stat with its default format asks for the atime, which the direct
    // read made stale: a GETATTR)
    const want = sh(`cat "${dir}/name"; stat "${dir}/name" > /dev/null; cat "${dir}/name"`, m.dir);
    assert.equal(want, `${net.name}\n${net.name}\n`);
    const w = diff(s00, readStats(m.dir));
    assert.equal(w['opens-direct'], 1, JSON.stringify(w));
    assert.equal(w['opens-page-fill'], 1, JSON.stringify(w));
    const s0 = readStats(m.dir);
    for (let i = 0; i < 3; i++) assert.equal(sh(`cat "${dir}/name"`, m.dir), `${net.name}\n`);
    const d = diff(s0, readStats(m.dir));
    // reading the stats file itself is one direct open with its reads
    assert.equal(d['opens-page-keep'], 3, JSON.stringify(d));
    assert.equal(d['opens-page-fill'], 0, JSON.stringify(d));
    assert.equal(d.reads, 2, `only the stats file was read by the daemon: ${JSON.stringify(d)}`);
  });

  test('a value changed to another of the same length is read anew', async () => {
    await setLocation('AZURE');
    assert.equal(sh(`cat "${dir}/location"`, m.dir), 'azure\n');
    assert.equal(sh(`cat "${dir}/location"`, m.dir), 'azure\n'); // from the page cache
    await setLocation('OTHER');
    assert.equal(sh(`cat "${dir}/location"`, m.dir), 'other\n');
    assert.equal(sh(`cat "${dir}/location"`, m.dir), 'other\n');
  });

  test('a value that grew or shrank is read whole while the kernel holds the old size', async () => {
    await setLocation('AZURE');
    assert.equal(sh(`cat "${dir}/location"`, m.dir), 'azure\n');
    assert.equal(sh(`stat -c %s "${dir}/location"`, m.dir), '6\n');
    await setLocation('ON_PREMISE');
    // cat before any stat: the kernel's size is still 6
    assert.equal(sh(`cat "${dir}/location"`, m.dir), 'on_premise\n');
    assert.equal(sh(`cat "${dir}/location"`, m.dir), 'on_premise\n');
    assert.equal(sh(`stat -c %s "${dir}/location"`, m.dir), '11\n');
    assert.equal(sh(`cat "${dir}/location"`, m.dir), 'on_premise\n');
    await setLocation('AWS');
    assert.equal(sh(`cat "${dir}/location"`, m.dir), 'aws\n');
    assert.equal(sh(`head -c 100 "${dir}/location" | od -c | head -1`, m.dir).trim(),
      '0000000   a   w   s  \\n');
    assert.equal(sh(`cat "${dir}/location"`, m.dir), 'aws\n');
  });

  test('a file opened before a change reads what it held at its open', async () => {
    // Files are rendered at their first read from the object as it was
    // at the open (fs/fileops.c): a change in between must not show
    // through the open file, and must show in the next open.
    const other = tenant.remoteNetworks.find((n) => n.id !== net.id && /^[A-Za-z0-9 _.-]+$/.test(n.name) &&
      tenant.remoteNetworks.filter((o) => o.name === n.name).length === 1);
    assert.ok(other, 'a second network with a plain name of its own');
    const d2 = join(m.dir, 'networks', other.name);
    const was = other.location;
    const now = was === 'OTHER' ? 'AWS' : 'OTHER';
    const loc = openSync(join(d2, 'location'), 'r');
    const obj = openSync(join(d2, 'object.json'), 'r');
    try {
      await setLocation(now, other.id);
      assert.equal(readFileSync(loc, 'utf8'), `${was.toLowerCase()}\n`);
      const shown = JSON.parse(readFileSync(obj, 'utf8'));
      assert.equal(shown.location, was);
      assert.equal(shown.id, other.id);
    } finally {
      closeSync(loc);
      closeSync(obj);
    }
    assert.equal(readFileSync(join(d2, 'location'), 'utf8'), `${now.toLowerCase()}\n`);
    assert.equal(JSON.parse(readFileSync(join(d2, 'object.json'), 'utf8')).location, now);
  });

  test('a write through the mount is read back at once, with the object\'s other files', () => {
    for (let i = 0; i < 2; i++) {
      sh(`cat "${dir}/location" "${dir}/object.json" > /dev/null`, m.dir);
    }
    sh(`echo google_cloud > "${dir}/location"`, m.dir);
    assert.equal(sh(`cat "${dir}/location"`, m.dir), 'google_cloud\n');
    assert.equal(JSON.parse(sh(`cat "${dir}/object.json"`, m.dir)).location, 'GOOGLE_CLOUD');
    sh(`echo other > "${dir}/location"`, m.dir);
    assert.equal(sh(`cat "${dir}/location"`, m.dir), 'other\n');
    assert.equal(JSON.parse(sh(`cat "${dir}/object.json"`, m.dir)).location, 'OTHER');
    assert.equal(sh(`wc -c < "${dir}/location"`, m.dir).trim(), '6');
  });

  test('a write shows in the sizes stat reports for the object\'s other files at once', () => {
    // The kernel keeps a file's attributes for cache_ttl (an hour here):
    // only the daemon's word (an inval of the inode) makes it ask again.
    const size = (f) => Number(sh(`stat -c %s "${dir}/${f}"`, m.dir));
    const bytes = (f) => Number(sh(`wc -c < "${dir}/${f}"`, m.dir));
    for (const loc of ['aws', 'google_cloud', 'aws']) {
      assert.equal(size('object.json'), bytes('object.json'), 'before');
      assert.equal(size('location'), bytes('location'), 'before');
      sh(`echo ${loc} > "${dir}/location"`, m.dir);
      assert.equal(JSON.parse(sh(`cat "${dir}/object.json"`, m.dir)).location, loc.toUpperCase());
      assert.equal(size('object.json'), bytes('object.json'), `object.json after ${loc}`);
      assert.equal(size('location'), loc.length + 1, `location after ${loc}`);
    }
  });

  test('a warm ls neither opens nor lists the folder: the kernel keeps the entries', { skip: !exactCounts() }, () => {
    const want = sh('ls -1 networks', m.dir);
    sh('ls -1 networks', m.dir);
    const s0 = readStats(m.dir);
    for (let i = 0; i < 3; i++) assert.equal(sh('ls -1 networks', m.dir), want);
    const d = diff(s0, readStats(m.dir));
    assert.equal(d['opendirs-keep'] + d['opendirs-fill'], 0, JSON.stringify(d));
    assert.equal(d.readdirs, 0, JSON.stringify(d));
  });

  test('a folder whose entries changed out of band is listed anew', async () => {
    const before = sh('ls -1 networks', m.dir).split('\n').filter(Boolean);
    sh('ls -1 networks', m.dir); // the kernel holds this listing
    const r = await sim.gql('mutation { remoteNetworkCreate(name: "pagecache-new") { ok entity { id } } }');
    const id = r.body.data.remoteNetworkCreate.entity.id;
    sh('echo 1 > .twingatefs/refresh', m.dir);
    assert.deepEqual(sh('ls -1 networks', m.dir).split('\n').filter(Boolean).sort(),
      [...before, 'pagecache-new'].sort());
    assert.equal(sh('ls -1 networks', m.dir).split('\n').filter(Boolean).length, before.length + 1);
    await sim.gql('mutation($id: ID!) { remoteNetworkDelete(id: $id) { ok } }', { id });
    sh('echo 1 > .twingatefs/refresh', m.dir);
    assert.deepEqual(sh('ls -1 networks', m.dir).split('\n').filter(Boolean).sort(), [...before].sort());
  });

  test('mkdir and rmdir through the mount show in the next ls at once', () => {
    sh('ls -1 networks; ls -1 networks', m.dir);
    sh('mkdir networks/pagecache-mk', m.dir);
    assert.ok(sh('ls -1 networks', m.dir).split('\n').includes('pagecache-mk'));
    sh('rmdir networks/pagecache-mk', m.dir);
    assert.ok(!sh('ls -1 networks', m.dir).split('\n').includes('pagecache-mk'));
    assert.ok(!sh('ls -1 networks', m.dir).split('\n').includes('pagecache-mk'));
  });

  test('status files are never page-cached: each read asks the daemon and shows the counters now', { skip: !exactCounts() }, () => {
    const a = readStats(m.dir);
    const b = readStats(m.dir);
    const c = readStats(m.dir);
    // each read of stats is two READs (the text, then end of file) ...
    assert.equal(b.reads - a.reads, 2, 'the second read of stats saw the first one\'s reads');
    assert.equal(c.reads - b.reads, 2);
    // ... through an open that never goes by the page-cache records
    for (const k of ['opens-direct', 'opens-page-fill', 'opens-page-keep']) {
      assert.equal(c[k], a[k], `${k} moved while only stats was read`);
    }
  });

});
