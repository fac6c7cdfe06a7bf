// walk.test.mjs - a walk sees one snapshot, fetched once (issue 22 item
// 2, cache/tg_cache.h "Walks"): the calls one process makes without
// pausing are a walk, served the cache as it was when the walk began, so
// a walk longer than cache_ttl costs what the same walk done quickly
// costs, and a second one right after it costs nothing.  A change made
// through the mount goes into the snapshot (the walk sees it); a change
// made elsewhere shows once the walk is over and its data has aged past
// cache_ttl.  Each walk here outlasts cache_ttl: through a slow API, or
// by reading on (pacing) until it has.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSim, mount, sh, shStatus, teardown, tempDir, rmSync, waitFor, startWalker,
         exactCounts, entryNames } from './lib.mjs';

const NO_PACING = ['rate_read=0', 'rate_write=0'];
const TTL = 2;
const q = (s) => `'${s.replace(/'/g, "'\\''")}'`;

describe('a walk through a slow API, longer than cache_ttl', () => {
  const LATENCY_MS = 400;
  let sim, dest;
  before(async () => {
    sim = await startSim(['--size', 'small', '--rate-read', '0', '--rate-write', '0',
      '--latency-ms', String(LATENCY_MS)]);
    dest = tempDir();
  });
  after(async () => {
    await teardown(sim);
    rmSync(dest, { recursive: true, force: true });
  });

  const rsync = (m) => {
    const t0 = Date.now();
    const r = shStatus(`rsync -a ${q(`${m.dir}/`)} ${q(`${dest}/`)}`);
    assert.equal(r.status, 0, `rsync exited ${r.status}: ${r.stderr}`);
    assert.equal(r.stderr, '');
    return Date.now() - t0;
  };

  test('rsync -a costs what a cold find costs, and again at once nothing', { skip: !exactCounts() },
    async (ctx) => {
    // The walk done quickly, as far as the cache can tell.
    // Pages of 2, so that the walk takes many requests (lists of one
    // page come together, first.c).
    const quick = await mount(sim, { opts: [...NO_PACING, 'cache_ttl=600', 'page_size=2'] });
    let cold;
    try {
      await sim.resetStats();
      sh('find . > /dev/null', quick.dir);
      cold = await sim.stats();
    } finally {
      await quick.unmount();
    }
    const m = await mount(sim, { opts: [...NO_PACING, `cache_ttl=${TTL}`, 'page_size=2'] });
    try {
      await sim.resetStats();
      const ms = rsync(m);
      const st = await sim.stats();
      ctx.diagnostic(`cold find: ${cold.queries} queries; rsync -a with cache_ttl=${TTL}: ` +
        `${st.queries} queries in ${ms} ms ${JSON.stringify(st.operations)}`);
      // Each request takes LATENCY_MS: the walk outlasts cache_ttl twice.
      assert.ok(ms > 2 * TTL * 1000, `rsync took ${ms} ms`);
      assert.ok(cold.queries >= 2 * TTL * 1000 / LATENCY_MS, `${cold.queries} queries`);
      assert.equal(st.mutations, 0);
      assert.equal(st.queries, cold.queries, 'as many queries as a cold find');
      assert.deepEqual(st.operations, cold.operations, 'the same ones');
      await sim.resetStats();
      rsync(m);
      const again = await sim.stats();
      assert.equal(again.requests, 0, 'right after: nothing asked again');
    } finally {
      await m.unmount();
    }
  });
});

// One bash process (one walk): reads every network's name and device's
// trust, says so, then reads on (looks up a new missing name every 0.1 s)
// until it has gone on longer than cache_ttl and the test says go, then
// reads each device's object.json.  A walk that comes back to a file it
// read is a new pass (tg_cache.h): this one opens no file twice and lists
// no folder twice.  Builtins only: no other process touches the mount.
const WALK = `
set -u
cd "$MNT" || exit 1
exec 9<>"$W/fifo"
devs=(devices/*/)
for d in "\${devs[@]}"; do read -r v < "$d/trust"; printf '%s %s\\n' "\${d%/}" "$v"; done > "$W/before"
for f in networks/*/name; do read -r v < "$f"; done
now() { local t=\${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }
start=$(now)
: > "$W/ready"
i=0
while [ ! -e "$W/go" ] || (( $(now) - start < PACE_MS )); do
  [ -e "networks/.walk-$((i++))" ]
  read -t 0.1 -u 9 _ || true
done
for d in "\${devs[@]}"; do
  v=
  while IFS= read -r l; do
    case $l in *'"isTrusted":'*true*) v=trusted;; *'"isTrusted":'*false*) v=untrusted;; esac
  done < "$d/object.json"
  printf '%s %s\\n' "\${d%/}" "$v"
done > "$W/after"
echo $(( $(now) - start )) > "$W/ms"
`;

const untilExit = (p) => new Promise((res) => p.once('exit', (code, sig) => res({ code, sig })));

describe('changes while a walk goes on', () => {
  let sim, m, work;
  before(async () => {
    sim = await startSim(['--size', 'small', '--rate-read', '0', '--rate-write', '0']);
    m = await mount(sim, { token: 'sim-write', opts: [...NO_PACING, `cache_ttl=${TTL}`] });
    work = tempDir();
  });
  after(async () => {
    await teardown(m, sim);
    rmSync(work, { recursive: true, force: true });
  });

  test('a change through the mount is seen by the walk; one made elsewhere after it began shows once it is over',
    async (ctx) => {
      const t = await sim.tenant();
      const plain = t.devices.filter((d) => /^[A-Za-z0-9_=+-]+$/.test(d.id));
      const mine = plain.find((d) => !d.isTrusted); // changed through the mount
      const theirs = plain.find((d) => d !== mine); // changed in the simulator
      assert.ok(mine && theirs, 'two devices');
      const W = join(work, 'w');
      mkdirSync(W);
      sh(`mkfifo ${q(join(W, 'fifo'))}`);
      await sim.resetStats();
      const walk = spawn('bash', ['-c', WALK], { stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, MNT: m.dir, W, PACE_MS: String(TTL * 1000 + 1000) } });
      let stderr = '';
      walk.stderr.on('data', (d) => { stderr += d; });
      const exited = untilExit(walk);
      try {
        await waitFor(() => existsSync(join(W, 'ready')) || walk.exitCode !== null, 30000,
          'the walk\'s first pass');
        assert.equal(walk.exitCode, null, `the walk ended early: ${stderr}`);
        const read = (name) => new Map(readFileSync(join(W, name), 'utf8').split('\n').filter(Boolean)
          .map((l) => l.split(' ')));
        const before = read('before');
        assert.equal(before.get(`devices/${mine.id}`), 'untrusted');
        const theirsWas = before.get(`devices/${theirs.id}`);
        assert.equal(theirsWas, theirs.isTrusted ? 'trusted' : 'untrusted');
        // Through the mount, by another process: one mutation, no read.
        const s0 = await sim.stats();
        sh(`echo trusted > ${q(`devices/${mine.id}/trust`)}`, m.dir);
        const s1 = await sim.stats();
        if (exactCounts()) {
          assert.equal(s1.mutations - s0.mutations, 1, 'one mutation');
          assert.equal(s1.queries - s0.queries, 0, 'no read for the write');
        }
        // Elsewhere: straight to the API.
        const r = await sim.gql('mutation($id: ID!, $t: Boolean!) { deviceUpdate(id: $id, isTrusted: $t) { ok error } }',
          { id: theirs.id, t: !theirs.isTrusted });
        assert.equal(r.body.data?.deviceUpdate?.ok, true, JSON.stringify(r.body));
        writeFileSync(join(W, 'go'), '');
        let timer;
        const end = await Promise.race([exited,
          new Promise((res) => { timer = setTimeout(res, 60000, null); })]);
        clearTimeout(timer);
        assert.ok(end, 'the walk ended within 60 s');
        assert.equal(end.code, 0, stderr);
        const ms = Number(readFileSync(join(W, 'ms'), 'utf8'));
        assert.ok(ms > TTL * 1000, `the walk went on ${ms} ms after its first pass`);
        const after = read('after');
        assert.equal(after.get(`devices/${mine.id}`), 'trusted', 'the walk sees the change made here');
        assert.equal(after.get(`devices/${theirs.id}`), theirsWas,
          'the walk is served the snapshot it began on');
        const st = await sim.stats();
        ctx.diagnostic(`during the walk: ${st.queries} queries ${JSON.stringify(st.operations)}, ` +
          `${st.mutations} mutation(s), walk ${ms} ms past its first pass`);
        if (exactCounts()) {
          // Ours and the test's own, straight to the API.
          assert.equal(st.mutations, 2);
          assert.equal(st.fields?.deviceUpdate, 2, JSON.stringify(st.fields));
          const reads = Object.entries(st.operations).filter(([op]) => /^tgfs(List|Nested)/.test(op));
          // Networks and devices, each once: devices alone, or along
          // with the networks' first page (first.c).
          assert.equal(st.fields?.remoteNetworks, 1, JSON.stringify(st.fields));
          assert.equal(st.fields?.devices, 1, JSON.stringify(st.fields));
          assert.ok(reads.every(([op]) => ['tgfsList_devices', 'tgfsList_remoteNetworks'].includes(op)),
            JSON.stringify(st.operations));
          for (const [op, n] of reads) assert.equal(n, 1, `${op}: fetched once`);
          assert.equal(st.queries, reads.length, 'no other read');
        }
      } finally {
        if (walk.exitCode === null) walk.kill('SIGKILL');
        await exited;
      }
      // The tenant has the change made here.
      const dev = await sim.gql('query($id: ID!) { device(id: $id) { isTrusted } }', { id: mine.id }, 'sim-read');
      assert.equal(dev.body.data?.device?.isTrusted, true, JSON.stringify(dev.body));
      assert.equal(sh(`cat ${q(`devices/${mine.id}/trust`)}`, m.dir), 'trusted\n');
      // The walk is over: what it held ages, and is asked for again.
      const want = theirs.isTrusted ? 'untrusted\n' : 'trusted\n';
      await waitFor(() => sh(`cat ${q(`devices/${theirs.id}/trust`)}`, m.dir) === want,
        15000, 'the change made elsewhere');
    });

  test('a folder listed again after the walk shows a name made elsewhere', async () => {
    const before = sh('ls networks', m.dir);
    assert.doesNotMatch(before, /^made-elsewhere$/m);
    const r = await sim.gql('mutation { remoteNetworkCreate(name: "made-elsewhere") { ok error } }');
    assert.equal(r.body.data?.remoteNetworkCreate?.ok, true, JSON.stringify(r.body));
    await waitFor(() => /^made-elsewhere$/m.test(sh('ls networks', m.dir)), 15000,
      'the new network in ls');
  });
});

const LOCATIONS = ['aws', 'azure', 'google_cloud', 'on_premise', 'other'];
const otherLocation = (l) => LOCATIONS.find((x) => x !== l.toLowerCase());

describe('another process changes what a walk holds, through the mount', () => {
  let sim, m;
  before(async () => {
    sim = await startSim(['--size', 'small', '--rate-read', '0', '--rate-write', '0']);
    m = await mount(sim, { token: 'sim-write', opts: [...NO_PACING, `cache_ttl=${TTL}`] });
  });
  after(async () => { await teardown(m, sim); });

  test('the walk sees each change when it reaches the object, passed or not; a fresh process too', async (ctx) => {
    const t = await sim.tenant();
    const names = entryNames(t.remoteNetworks);
    const plain = t.remoteNetworks.filter((n, i) => names[i] === n.name);
    assert.ok(plain.length >= 3, `three networks with plain names: ${names}`);
    const [passed, ahead, elsewhere] = plain;
    const moved = `${ahead.name}-moved`, made = 'made-during-the-walk';
    const passedLoc = otherLocation(passed.location), elsewhereLoc = otherLocation(elsewhere.location);
    await sim.resetStats();
    const a = startWalker(m);
    try {
      // A's first pass: the folder, and one file of the network it passes.
      const ls = await a.ask({ op: 'ls', path: 'networks' });
      assert.deepEqual(ls.names, [...names].sort());
      assert.equal((await a.ask({ op: 'read', path: `networks/${passed.name}/name` })).data, `${passed.name}\n`);
      const s0 = await sim.stats();
      // B, other processes: one change to the network A passed, one to a
      // network A has yet to reach, one new network; each one mutation.
      sh(`echo ${passedLoc} > ${q(`networks/${passed.name}/location`)}`, m.dir);
      sh(`mv ${q(`networks/${ahead.name}`)} ${q(`networks/${moved}`)}`, m.dir);
      sh(`mkdir ${q(`networks/${made}`)}`, m.dir);
      // Elsewhere (straight to the API): A's snapshot does not show it.
      const r = await sim.gql('mutation($id: ID!, $l: RemoteNetworkLocation!) { remoteNetworkUpdate(id: $id, location: $l) { ok error } }',
        { id: elsewhere.id, l: elsewhereLoc.toUpperCase() });
      assert.equal(r.body.data?.remoteNetworkUpdate?.ok, true, JSON.stringify(r.body));
      const s1 = await sim.stats();
      if (exactCounts()) {
        assert.equal(s1.queries - s0.queries, 0, 'no read for the changes');
        assert.deepEqual(s1.fields, { ...s0.fields, remoteNetworkUpdate: 3, remoteNetworkCreate: 1 });
      }
      // A reads on past cache_ttl, touching nothing it read before.
      const pace = await a.ask({ op: 'pace', ms: TTL * 1000 + 1000, dir: 'networks' });
      assert.ok(pace.ms > TTL * 1000 && pace.beats > 10, JSON.stringify(pace));
      // A reaches what B changed.
      assert.equal((await a.ask({ op: 'read', path: `networks/${passed.name}/location` })).data, `${passedLoc}\n`,
        'the network A passed, changed by B');
      assert.match((await a.ask({ op: 'read', path: `networks/${passed.name}/object.json` })).data,
        new RegExp(`"location":\\s*"${passedLoc.toUpperCase()}"`));
      assert.equal((await a.ask({ op: 'stat', path: `networks/${ahead.name}` })).err, 'ENOENT', 'the old name');
      assert.equal((await a.ask({ op: 'stat', path: `networks/${moved}` })).dir, true, 'the new name');
      assert.equal((await a.ask({ op: 'read', path: `networks/${moved}/name` })).data, `${moved}\n`);
      assert.equal((await a.ask({ op: 'read', path: `networks/${made}/name` })).data, `${made}\n`);
      // The snapshot is A's still: the change made elsewhere is not in it.
      assert.equal((await a.ask({ op: 'read', path: `networks/${elsewhere.name}/location` })).data,
        `${elsewhere.location.toLowerCase()}\n`, 'A is served the snapshot it began on');
      // C, a fresh process, while A goes on.
      assert.equal(sh(`cat ${q(`networks/${passed.name}/location`)} ${q(`networks/${moved}/name`)}`, m.dir),
        `${passedLoc}\n${moved}\n`);
      const cls = sh('ls networks', m.dir).split('\n').filter(Boolean);
      assert.ok(cls.includes(moved) && cls.includes(made) && !cls.includes(ahead.name), cls.join(', '));
      const st = await sim.stats();
      ctx.diagnostic(`A's walk and B's changes: ${st.queries} queries ${JSON.stringify(st.operations)}, ` +
        `mutations ${JSON.stringify(st.fields)}; A paced ${pace.ms} ms`);
      if (exactCounts()) {
        assert.equal(st.operations.tgfsList_remoteNetworks, 1, 'the networks fetched once');
        assert.equal(st.queries, 1, 'no other read');
        assert.equal(st.mutations, 4);
      }
    } finally {
      await a.stop();
    }
    // The tenant has B's changes.
    const after = (await sim.tenant()).remoteNetworks;
    assert.equal(after.find((n) => n.id === passed.id).location, passedLoc.toUpperCase());
    assert.equal(after.find((n) => n.id === ahead.id).name, moved);
    assert.equal(after.filter((n) => n.name === made).length, 1);
    // A is over: the change made elsewhere shows to the next process.
    await waitFor(() => sh(`cat ${q(`networks/${elsewhere.name}/location`)}`, m.dir) === `${elsewhereLoc}\n`,
      15000, 'the change made elsewhere, after the walk');
  });
});

describe('a poller: one process reading one file again and again', () => {
  const PTTL = 1;
  let sim, m;
  before(async () => {
    sim = await startSim(['--size', 'small', '--rate-read', '0', '--rate-write', '0']);
    m = await mount(sim, { opts: [...NO_PACING, `cache_ttl=${PTTL}`] });
  });
  after(async () => { await teardown(m, sim); });

  test('sees a change made elsewhere within cache_ttl and its period, at one read a cache_ttl at most', async (ctx) => {
    const t = await sim.tenant();
    const names = entryNames(t.remoteNetworks);
    const net = t.remoteNetworks.find((n, i) => names[i] === n.name);
    const path = `networks/${net.name}/location`, was = `${net.location.toLowerCase()}\n`;
    const to = otherLocation(net.location);
    const EVERY_MS = 200; // well within a walk's pause (cache_ttl here)
    const p = startWalker(m);
    try {
      // Polls for a while first: one walk, were a walk one snapshot.
      await sim.resetStats();
      const r0 = await p.ask({ op: 'poll', path, everyMs: EVERY_MS, maxMs: 3000, from: was });
      assert.equal(r0.data, was);
      assert.ok(r0.reads >= 10, JSON.stringify(r0));
      const s0 = await sim.stats();
      if (exactCounts()) {
        assert.ok(s0.queries <= Math.ceil(r0.ms / 1000 / PTTL) + 1,
          `${s0.queries} reads in ${r0.ms} ms: one a cache_ttl at most`);
      }
      const r = await sim.gql('mutation($id: ID!, $l: RemoteNetworkLocation!) { remoteNetworkUpdate(id: $id, location: $l) { ok error } }',
        { id: net.id, l: to.toUpperCase() });
      assert.equal(r.body.data?.remoteNetworkUpdate?.ok, true, JSON.stringify(r.body));
      await sim.resetStats();
      const r1 = await p.ask({ op: 'poll', path, everyMs: EVERY_MS, maxMs: 20000, from: was }, 30000);
      const st = await sim.stats();
      ctx.diagnostic(`before the change: ${s0.queries} reads in ${r0.ms} ms (${r0.reads} polls); ` +
        `the change seen after ${r1.ms} ms (${r1.reads} polls, ${st.queries} reads)`);
      assert.equal(r1.data, `${to}\n`, 'the poller sees the change');
      assert.ok(r1.ms <= PTTL * 1000 + 1500, `seen after ${r1.ms} ms`);
      if (exactCounts()) assert.equal(st.queries, 1, `one read: ${JSON.stringify(st.operations)}`);
      // The stats file says why: the poller's walks ended at each reopen.
      const passes = /^walk-passes: (\d+)$/m.exec(readFileSync(join(m.dir, '.twingatefs/stats'), 'utf8'));
      assert.ok(passes && Number(passes[1]) >= r0.reads + r1.reads - 2, `walk-passes ${passes?.[1]}`);
    } finally {
      await p.stop();
    }
  });
});
