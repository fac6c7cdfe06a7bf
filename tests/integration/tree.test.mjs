// tree.test.mjs - the whole read-only tree (DESIGN.md §2) through a real
// mount, against the model in expect.mjs: every kind's listing, field
// files, sizes, modes, mtimes, symlinks and object.json; a find over all of
// it; the hidden status folder; and what each walk costs in requests
// (DESIGN.md §9).  Run on the small tenant two objects a page (so every
// collection spans pages) and on a generated one at the default page size.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { startSim, mount, sh, shStatus, tempDir, rmSync, waitFor, teardown, exactCounts } from './lib.mjs';
import { expectTree, findExactly, diffTree, childrenOf, KINDS, TOP_KINDS, TOP_DIRS,
         listingBound, walkBound, collectionRequests, nestedOverflow } from './expect.mjs';

const lines = (s) => s.split('\n').filter((l) => l !== '');
const sorted = (a) => [...a].sort();
const q = (s) => `'${s.replace(/'/g, "'\\''")}'`;
const PORTS = '(allow-all|deny-all|\\d+(-\\d+)?(,\\d+(-\\d+)?)*)';
const PROTOCOLS = new RegExp(`^icmp: (allow|deny)\\ntcp: ${PORTS}\\nudp: ${PORTS}\\n$`);
const report = (bad) => (bad.length <= 40 ? bad : [...bad.slice(0, 40),
  `... and ${bad.length - 40} more`]).join('\n');

// No client pacing and no simulator rate limit: these tests walk the
// tenant cold several times a minute, which is not what they are about.
const SIM_ARGS = ['--rate-read', '0'];
const NO_PACING = 'rate_read=100000';

// At most @n objects of a list, spread over it, always the first and last.
function spread(list, n) {
  if (list.length <= n) return list;
  const out = [];
  for (let i = 0; i < n; i++) out.push(list[Math.round((i * (list.length - 1)) / (n - 1))]);
  return [...new Set(out)];
}

// Mounts, runs fn(m), unmounts whatever happens.
async function withMount(sim, opts, env, fn) {
  const m = await mount(sim, { opts, env });
  try {
    return await fn(m);
  } finally {
    await m.unmount();
  }
}

// The requests @cmd costs on mount @m.
async function cost(sim, m, cmd) {
  await sim.resetStats();
  sh(cmd, m.dir);
  return sim.stats();
}

function suite(label, { size, pageSize, batch = 10, perKind }) {
  const opts = [NO_PACING, ...(pageSize ? [`page_size=${pageSize}`] : [])];
  const P = pageSize || 100;

  describe(`the tree of the ${label}`, () => {
    let sim, m, t, tree, state;
    before(async () => {
      sim = await startSim(['--size', size, ...SIM_ARGS]);
      t = await sim.tenant();
      tree = expectTree(t);
      state = tempDir();
      m = await mount(sim, { opts, env: { XDG_STATE_HOME: state } });
    });
    after(async () => {
      await teardown(m, sim);
      if (state) rmSync(state, { recursive: true, force: true });
    });

    test('the root lists the top folders (one a kind) and nothing else', () => {
      assert.deepEqual(sorted(lines(sh('ls -1A', m.dir))), sorted(TOP_DIRS));
      const all = lines(sh('ls -1a', m.dir));
      assert.ok(!all.includes('.twingatefs'), 'the status folder is not listed');
    });

    test('each top folder lists every object of its kind, all pages', () => {
      for (const kind of TOP_KINDS) {
        const want = tree.byKind[kind.key].map((r) => r.name);
        if (pageSize) assert.ok(want.length > pageSize, `${kind.dir} spans pages`);
        assert.deepEqual(sorted(lines(sh(`ls -1A ${kind.dir}`, m.dir))), sorted(want), kind.dir);
      }
    });

    test('each network lists its connectors and each service account its keys', () => {
      for (const kind of KINDS.filter((k) => k.parent)) {
        for (const p of tree.byKind[kind.parent.key]) {
          const dir = `${p.path}/${kind.dir}`;
          assert.deepEqual(sorted(lines(sh(`ls -1A ${q(dir)}`, m.dir))),
            sorted(childrenOf(tree, dir)), dir);
        }
      }
    });

    for (const kind of KINDS) {
      test(`${kind.key}: field files, sizes, modes, mtimes, links and object.json match the tenant`, () => {
        const recs = tree.byKind[kind.key];
        assert.ok(recs.length > 0, `the tenant has ${kind.key}`);
        const owners = new Set(spread(recs, perKind).map((r) => r.path));
        const bad = diffTree(m.dir, tree, { owners, tenant: t });
        assert.deepEqual(bad, [], report(bad));
      });
    }

    test('a null field is an empty file of size 0; a key or connector token is empty, 0600', () => {
      const dev = tree.byKind.devices.find((r) => r.obj.lastFailedLoginAt === null);
      assert.ok(dev, 'some device never failed a login');
      const f = `${dev.path}/last-failed-login-at`;
      assert.equal(sh(`stat -c '%s' ${q(f)}`, m.dir).trim(), '0');
      assert.equal(sh(`cat ${q(f)}`, m.dir), '');
      for (const [kindKey, file] of [['connectors', 'tokens'], ['serviceAccountKeys', 'token']]) {
        const r = tree.byKind[kindKey][0];
        assert.equal(sh(`stat -c '%s %a' ${q(`${r.path}/${file}`)}`, m.dir).trim(), '0 600');
      }
    });

    test('protocols and tags show as the contract says', () => {
      for (const r of tree.byKind.resources) {
        const p = readFileSync(join(m.dir, r.path, 'protocols'), 'utf8');
        assert.match(p, PROTOCOLS, r.path);
      }
      if (label === 'small tenant') {
        assert.equal(sh("cat 'resources/東京 ファイルサーバ/protocols'", m.dir),
          'icmp: allow\ntcp: 445,137-139\nudp: allow-all\n');
        assert.equal(sh("cat 'resources/VPC subnet/tags'", m.dir), 'env=prod\nteam=platform\n');
        assert.equal(sh("cat 'resources/prod-db/tags'", m.dir), '');
      }
    });

    test('every symlink resolves to the folder it names (readlink -f, find -xtype l)', () => {
      assert.equal(sh('find . -xtype l', m.dir), '', 'no dangling links');
      const links = [...tree.entries].filter(([, e]) => e.type === 'link');
      assert.ok(links.length > 0);
      for (const [p, e] of spread(links, 60)) {
        assert.equal(sh(`readlink ${q(p)}`, m.dir), `${e.target}\n`, p);
        assert.equal(sh(`readlink -f ${q(p)}`, m.dir), `${join(m.dir, e.to)}\n`, p);
        assert.equal(shStatus(`test -d ${q(p)}`, m.dir).status, 0, `${p} is a folder through the link`);
      }
      // A resource without a security policy has no such link.
      const none = tree.byKind.resources.find((r) => r.obj.securityPolicyId === null);
      assert.ok(!readdirSync(join(m.dir, none.path)).includes('security-policy'));
    });

    test('find walks the whole tree: exit 0, no errors, exactly the expected entries', () => {
      findExactly(m.dir, tree);
      const l = shStatus('ls -lR . > /dev/null', m.dir);
      assert.equal(l.status, 0, l.stderr);
      assert.equal(l.stderr, '');
    });

    test('the status folder is hidden from ls -a and find, but readable by path', () => {
      assert.ok(!lines(sh('ls -1a', m.dir)).includes('.twingatefs'));
      assert.ok(!sh('find .', m.dir).includes('.twingatefs'));
      assert.equal(shStatus('test -d .twingatefs', m.dir).status, 0);
      assert.notEqual(sh('cat .twingatefs/status', m.dir), '', 'status says something');
      assert.notEqual(sh('cat .twingatefs/stats', m.dir), '', 'stats says something');
      assert.equal(shStatus('cat .twingatefs/errors', m.dir).status, 0);
      assert.match(shStatus('cat .twingatefs/nothing', m.dir).stderr, /No such file/);
    });

    test('reads never change the tenant', async () => {
      await sim.resetStats();
      sh('find . -type f -exec cat {} + > /dev/null; cat .twingatefs/status > /dev/null', m.dir);
      assert.equal((await sim.stats()).mutations, 0);
      assert.deepEqual(await sim.tenant(), t);
    });

    test('writing refresh drops the cache: the next listing asks the API again', { skip: !exactCounts() }, async () => {
      sh('ls -1A devices > /dev/null', m.dir);
      await sim.resetStats();
      sh('ls -1A devices > /dev/null', m.dir);
      assert.equal((await sim.stats()).requests, 0, 'warm');
      sh('echo 1 > .twingatefs/refresh', m.dir);
      const st = await cost(sim, m, 'ls -1A devices > /dev/null');
      assert.ok(st.requests >= 1, 'asked again after refresh');
      assert.ok(st.requests <= listingBound(t, 'devices', P, batch));
      assert.equal(st.mutations, 0);
      assert.deepEqual(sorted(lines(sh('ls -1A devices', m.dir))),
        sorted(tree.byKind.devices.map((r) => r.name)));
    });
  });

  describe(`requests for the ${label} (page size ${P}, ${batch} pages a request)`, () => {
    let sim, t, state;
    const env = () => ({ XDG_STATE_HOME: state });
    const cold = [...opts, `batch_pages=${batch}`, 'cache_ttl=600'];
    before(async () => {
      sim = await startSim(['--size', size, ...SIM_ARGS]);
      t = await sim.tenant();
      state = tempDir();
    });
    after(async () => {
      await sim?.stop();
      if (state) rmSync(state, { recursive: true, force: true });
    });

    test('cold ls and ls -l of each top folder cost its pages at most, none per object', { skip: !exactCounts() }, async () => {
      await withMount(sim, cold, env(), async (m) => {
        for (const kind of TOP_KINDS) {
          const st = await cost(sim, m, `ls ${kind.dir} > /dev/null; ls -l ${kind.dir} > /dev/null`);
          const bound = listingBound(t, kind.key, P, batch);
          assert.ok(st.requests <= bound, `ls ${kind.dir}: ${st.requests} requests > ${bound}`);
          assert.equal(st.mutations, 0);
        }
      });
    });

    test('cold ls -l devices/*/trust and cat devices/*/object.json cost the device pages at most', { skip: !exactCounts() }, async () => {
      await withMount(sim, cold, env(), async (m) => {
        const st = await cost(sim, m,
          'ls -l devices/*/trust > /dev/null; cat devices/*/object.json > /dev/null');
        const bound = listingBound(t, 'devices', P, batch);
        assert.ok(st.requests <= bound, `${st.requests} requests > ${bound}`);
        assert.equal(st.mutations, 0);
      });
    });

    test('cold ls groups costs the group pages only; members past a group\'s first page come when they are needed', { skip: !exactCounts() }, async () => {
      const tree = expectTree(t);
      const big = tree.byKind.groups.reduce((a, b) => (b.obj.userIds.length > a.obj.userIds.length ? b : a));
      assert.ok(big.obj.userIds.length > P, `the biggest group has ${big.obj.userIds.length} members, not more than a page`);
      // The member listed last, on a page of its own past the first.
      const lastId = big.obj.userIds.filter((u) => t.users.some((x) => x.id === u)).at(-1);
      const last = tree.byKind.users.find((r) => r.obj.id === lastId);
      const groupsPages = collectionRequests(t.groups.length, P, batch);
      const upTo = groupsPages + nestedOverflow(t, 'groups', P) + collectionRequests(t.users.length, P, batch);
      const usersDir = `${big.path}/users`;
      await withMount(sim, cold, env(), async (m) => {
        let st = await cost(sim, m, 'ls groups > /dev/null; ls -l groups > /dev/null');
        assert.equal(st.requests, groupsPages, 'ls and ls -l of groups: their pages, no member pages');
        await sim.resetStats();
        const members = lines(sh(`ls -1A ${q(usersDir)}`, m.dir));
        st = await sim.stats();
        assert.ok(st.requests > 0 && st.requests <= upTo, `${st.requests} requests, not in 1..${upTo}`);
        assert.deepEqual(sorted(members), sorted(childrenOf(tree, usersDir)),
          'every member, past the first page too');
        assert.ok(sh(`cat ${q(`${big.path}/object.json`)}`, m.dir).includes(`"${lastId}"`),
          'object.json holds the last member');
      });
      // One page a request: entering the biggest group asks for its own
      // pages, not every group's.
      const own = Math.ceil((big.obj.userIds.length - P) / P);
      assert.ok(nestedOverflow(t, 'groups', P) > own, 'another group overflows a page too');
      await withMount(sim, [...cold, 'batch_pages=1'], env(), async (m) => {
        await cost(sim, m, 'ls groups > /dev/null');
        await sim.resetStats();
        sh(`ls -1A ${q(usersDir)} > /dev/null`, m.dir);
        const st = await sim.stats();
        assert.equal(st.operations.tgfsNested_groups, own,
          `nested pages of ${big.name} only: ${JSON.stringify(st.operations)}`);
      });
      await withMount(sim, cold, env(), async (m) => {
        await cost(sim, m, 'ls groups > /dev/null');
        // The other way round, from a listing that left the members out.
        await sim.resetStats();
        const memberOf = lines(sh(`ls -1A ${q(`${last.path}/groups`)}`, m.dir));
        const st = await sim.stats();
        assert.ok(st.requests <= upTo, `${st.requests} requests > ${upTo}`);
        assert.ok(memberOf.includes(big.name), `${last.path}/groups shows ${big.name}`);
      });
    });

    test('cold cat devices/<id>/trust costs one request', { skip: !exactCounts() }, async () => {
      const d = expectTree(t).byKind.devices.at(-1);
      await withMount(sim, cold, env(), async (m) => {
        await sim.resetStats();
        assert.equal(sh(`cat ${q(`${d.path}/trust`)}`, m.dir), d.obj.isTrusted ? 'trusted\n' : 'untrusted\n');
        const st = await sim.stats();
        assert.ok(st.requests <= 1, `${st.requests} requests`);
        assert.equal(st.mutations, 0);
      });
    });

    test('a walk that never reads a device\'s user link does not fetch the users; reading it does', { skip: !exactCounts() }, async () => {
      const tree = expectTree(t);
      const d = tree.byKind.devices.find((r) => childrenOf(tree, r.path).includes('user'));
      assert.ok(d, 'a device with a user');
      await withMount(sim, cold, env(), async (m) => {
        await sim.resetStats();
        const found = sh("grep -r --include=trust -c . devices | wc -l; find devices -type l | wc -l", m.dir);
        let st = await sim.stats();
        // No request of the walk is the users' own: at most their first
        // page came along with the devices' first (first.c), dropped as
        // the list has more.
        assert.ok(!Object.keys(st.operations).some((o) => /_users$/.test(o)),
          `users fetched by grep and find: ${JSON.stringify(st.operations)}`);
        assert.ok((st.fields.users ?? 0) <= 1, `users asked more than along: ${JSON.stringify(st.fields)}`);
        const devices = tree.byKind.devices.length;
        const links = tree.byKind.devices.filter((r) => childrenOf(tree, r.path).includes('user')).length;
        assert.equal(found, `${devices}\n${links}\n`, 'every trust file and every user link, listed');
        // Listed with its type and inode, the link reads as any other.
        const ino = readdirSync(join(m.dir, d.path), { withFileTypes: true }).find((e) => e.name === 'user');
        assert.ok(ino && ino.isSymbolicLink(), 'user is listed as a symlink');
        await sim.resetStats();
        const target = sh(`readlink ${q(`${d.path}/user`)}`, m.dir).trim();
        st = await sim.stats();
        assert.ok((st.fields.users ?? 0) > 0, 'readlink reads the users');
        const user = tree.byKind.users.find((u) => u.obj.id === d.obj.userId);
        assert.equal(target, `../../users/${user.name}`);
        assert.equal(lstatSync(join(m.dir, d.path, 'user')).size, target.length, 'the size a symlink has: its target\'s length');
      });
    });

    test('a cold walk of everything costs the pages of every collection at most; again, none', { skip: !exactCounts() }, async () => {
      const walk = "find . -printf '%y %s %T@ %p\\n' > /dev/null && "
        + 'find . -type f -exec cat {} + > /dev/null && find . -type l -exec readlink {} + > /dev/null';
      await withMount(sim, cold, env(), async (m) => {
        let st = await cost(sim, m, walk);
        const bound = walkBound(t, P, batch);
        assert.ok(st.requests <= bound, `${st.requests} requests > ${bound}`);
        assert.equal(st.mutations, 0);
        st = await cost(sim, m, `${walk} && ls -lR . > /dev/null`);
        assert.equal(st.requests, 0, 'the same walk within cache_ttl');
        assert.equal(st.mutations, 0);
      });
    });
  });
}

suite('small tenant', { size: 'small', pageSize: 2, perKind: Infinity });
suite('generated tenant of 300 devices', { size: '300', perKind: 40 });

describe('device mtimes: first seen here, kept across mounts', () => {
  let sim, t, tree, state, m;
  before(async () => {
    sim = await startSim(['--size', 'small', ...SIM_ARGS]);
    t = await sim.tenant();
    tree = expectTree(t);
    state = tempDir();
  });
  after(async () => {
    await teardown(m, sim);
    if (state) rmSync(state, { recursive: true, force: true });
  });

  const deviceTimes = (dir) => {
    const out = {};
    for (const [p, e] of tree.entries) {
      if (e.owner && e.owner.startsWith('devices/') && e.type !== 'link') {
        out[p] = Math.floor(lstatSync(join(dir, p)).mtimeMs / 1000);
      }
    }
    return out;
  };

  test('a device shows the time this machine first saw it, the same after a remount', async () => {
    const t0 = Math.floor(Date.now() / 1000);
    m = await mount(sim, { opts: [NO_PACING], env: { XDG_STATE_HOME: state } });
    const first = deviceTimes(m.dir);
    const t1 = Math.ceil(Date.now() / 1000);
    for (const [p, s] of Object.entries(first)) {
      assert.ok(s >= t0 && s <= t1, `${p}: mtime ${s} not within this mount's life ${t0}..${t1}`);
    }
    await m.unmount();
    m = null;
    // Let the clock pass the first-seen second, so "now" would show.
    const latest = Math.max(...Object.values(first));
    await waitFor(() => Date.now() / 1000 >= latest + 2, 5000, 'the clock to move on');
    m = await mount(sim, { opts: [NO_PACING], env: { XDG_STATE_HOME: state } });
    assert.deepEqual(deviceTimes(m.dir), first);
  });

  test('the state file holds no device values', () => {
    const dir = join(state, 'twingatefs');
    const files = readdirSync(dir, { recursive: true })
      .filter((f) => lstatSync(join(dir, f)).isFile());
    assert.ok(files.length > 0, 'a state file under $XDG_STATE_HOME/twingatefs/');
    const text = files.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
    for (const d of t.devices) {
      for (const v of [d.serialNumber, d.hostname, d.name, d.username]) {
        if (v && v.length >= 4) assert.ok(!text.includes(v), `state file holds ${v}`);
      }
    }
  });
});
