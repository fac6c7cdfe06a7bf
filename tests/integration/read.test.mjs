// read.test.mjs - reading networks and connectors through a real mount:
// what ls, cat, stat and find show against what the simulator holds, over
// several pages, with awkward names, and what it costs in requests.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSim, mount, sh, shStatus, entryNames, utc, teardown, exactCounts } from './lib.mjs';
import { expectTree, childrenOf } from './expect.mjs';

const lines = (s) => s.split('\n').filter((l) => l !== '');
const sorted = (a) => [...a].sort();

// What each field file of a network / connector shows, from the tenant.
const text = (v) => (v === null || v === undefined ? '' : `${v}\n`);
const lower = (v) => text(v === null ? null : String(v).toLowerCase());
const networkFiles = (n) => ({
  id: text(n.id), name: text(n.name), location: lower(n.location),
  type: lower(n.networkType), 'is-active': text(n.isActive),
  'created-at': utc(n.createdAt), 'updated-at': utc(n.updatedAt),
});
const connectorFiles = (c) => ({
  id: text(c.id), name: text(c.name), state: lower(c.state),
  hostname: text(c.hostname), version: text(c.version),
  'public-ip': text(c.publicIP),
  'private-ips': c.privateIPs.map((ip) => `${ip}\n`).join(''),
  'last-heartbeat-at': utc(c.lastHeartbeatAt),
  'status-notifications': text(c.hasStatusNotificationsEnabled),
  tokens: '',
});

describe('reading the small tenant, two objects a page', () => {
  let sim, m, tenant, nets, netNames;
  before(async () => {
    sim = await startSim(['--size', 'small']);
    tenant = await sim.tenant();
    nets = tenant.remoteNetworks;
    netNames = entryNames(nets);
    m = await mount(sim, { opts: ['page_size=2', 'batch_pages=10'] });
  });
  after(async () => {
    await teardown(m, sim);
  });

  test('the root shows a folder per kind, and hides the status folder', () => {
    assert.deepEqual(sorted(lines(sh('ls -1A', m.dir))),
      ['access-requests', 'devices', 'groups', 'networks', 'resources', 'security-policies',
        'serial-numbers', 'service-accounts', 'users']);
    assert.match(sh('cat .twingatefs/status', m.dir), /^endpoint: /);
  });

  test('ls networks lists every network, all pages, in two requests', { skip: !exactCounts() }, async () => {
    await sim.resetStats();
    const got = lines(sh('ls -1A networks', m.dir));
    assert.deepEqual(sorted(got), sorted(netNames));
    const st = await sim.stats();
    const pages = Math.ceil(nets.length / 2);
    assert.ok(pages >= 3, 'the tenant spans several pages');
    assert.equal(st.fields.remoteNetworks, pages, 'every page was asked for');
    // page 1 alone (it tells the total), then the rest batched as aliases
    assert.equal(st.requests, 2);
    assert.equal(st.mutations, 0);
  });

  test('awkward names are shown as DESIGN.md §2 says', () => {
    const got = lines(sh('ls -1A networks', m.dir));
    assert.ok(got.includes('Office \uFF0F HQ'), got.join(','));
    assert.ok(got.includes('Zürich Büro'));
    assert.ok(got.includes('.hidden-net'));
    assert.ok(got.includes('AWS prod'));
    const dups = got.filter((n) => n.startsWith('Duplicate~'));
    assert.equal(dups.length, 2);
    assert.ok(!got.includes('Duplicate'));
  });

  test('the same walk again within the TTL costs no request', async () => {
    sh('ls -lR networks > /dev/null', m.dir);
    await sim.resetStats();
    sh('ls -lR networks > /dev/null; cat networks/*/name > /dev/null', m.dir);
    assert.equal((await sim.stats()).requests, 0);
  });

  test('every network field file shows the tenant value', () => {
    nets.forEach((n, i) => {
      const want = networkFiles(n);
      const dir = `networks/${netNames[i]}`;
      assert.deepEqual(sorted(lines(sh(`ls -1A '${dir}'`, m.dir))),
        sorted([...Object.keys(want), 'object.json', 'connectors', 'resources']));
      for (const [f, v] of Object.entries(want)) {
        assert.equal(sh(`cat '${dir}/${f}'`, m.dir), v, `${dir}/${f}`);
      }
    });
  });

  test('stat shows exact sizes, modes, and updatedAt as the mtime', () => {
    nets.forEach((n, i) => {
      const dir = `networks/${netNames[i]}`;
      for (const [f, v] of Object.entries(networkFiles(n))) {
        const [size, mode, mtime] = sh(`stat -c '%s %a %Y' '${dir}/${f}'`, m.dir)
          .trim().split(' ');
        assert.equal(Number(size), Buffer.byteLength(v), `${dir}/${f} size`);
        assert.equal(mode, ['name', 'location', 'is-active'].includes(f) ? '644' : '444');
        assert.equal(Number(mtime), Math.floor(Date.parse(n.updatedAt) / 1000));
      }
      assert.equal(sh(`stat -c %F '${dir}'`, m.dir).trim(), 'directory');
    });
  });

  test('object.json parses and matches the tenant', () => {
    nets.forEach((n, i) => {
      const got = JSON.parse(sh(`cat 'networks/${netNames[i]}/object.json'`, m.dir));
      assert.deepEqual(got, n);
    });
  });

  test('each network lists its own connectors with their fields', () => {
    nets.forEach((n, i) => {
      const conns = tenant.connectors.filter((c) => c.remoteNetworkId === n.id);
      const names = entryNames(conns);
      const dir = `networks/${netNames[i]}/connectors`;
      assert.deepEqual(sorted(lines(sh(`ls -1A '${dir}'`, m.dir))), sorted(names));
      conns.forEach((c, j) => {
        for (const [f, v] of Object.entries(connectorFiles(c))) {
          assert.equal(sh(`cat '${dir}/${names[j]}/${f}'`, m.dir), v, `${dir}/${names[j]}/${f}`);
        }
        const sz = sh(`stat -c %s '${dir}/${names[j]}/private-ips'`, m.dir).trim();
        assert.equal(Number(sz), Buffer.byteLength(connectorFiles(c)['private-ips']));
        assert.equal(sh(`stat -c %a '${dir}/${names[j]}/tokens'`, m.dir).trim(), '600');
      });
    });
    // The tenant has a network with two connectors of one name.
    const dupConn = tenant.connectors.filter((c, _, all) =>
      all.filter((d) => d.name === c.name && d.remoteNetworkId === c.remoteNetworkId).length > 1);
    assert.ok(dupConn.length >= 2);
  });

  test('find walks the networks without errors', () => {
    const out = lines(sh("find networks -path '*/resources/*' -prune -o -print", m.dir));
    // per network: its folder, 7 fields, object.json, connectors/, resources/;
    // per connector: its folder, 10 fields, object.json
    assert.equal(out.length, 1 + nets.length * 11 + tenant.connectors.length * 12);
  });

  test('inode numbers are stable and distinct', () => {
    const a = sh("find networks -printf '%i %p\\n' | sort", m.dir);
    const b = sh("find networks -printf '%i %p\\n' | sort", m.dir);
    assert.equal(a, b);
    const inos = lines(a).map((l) => l.split(' ')[0]);
    assert.equal(new Set(inos).size, inos.length);
  });

  test('a read-only token cannot change anything: EACCES', { skip: !exactCounts() }, async () => {
    const dir = `networks/${netNames[0]}`;
    await sim.resetStats();
    let r = shStatus(`echo x > '${dir}/name'`, m.dir);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Permission denied/);
    r = shStatus('mkdir networks/new-net', m.dir);
    assert.match(r.stderr, /Permission denied/);
    assert.equal(sh(`cat '${dir}/name'`, m.dir), `${nets[0].name}\n`);
    assert.deepEqual((await sim.tenant()).remoteNetworks, nets);
  });

  test('names that are not there are ENOENT', () => {
    const r = shStatus('cat networks/no-such-network/name', m.dir);
    assert.match(r.stderr, /No such file or directory/);
    assert.match(shStatus('ls nothing-here', m.dir).stderr, /No such file/);
    assert.match(shStatus(`cat 'networks/${netNames[0]}/nofield'`, m.dir).stderr,
      /No such file/);
  });
});

describe('the later requests of one listing are on the wire together', () => {
  let sim, users, names, tree, groups;
  before(async () => {
    // 150 ms a request: a listing's requests overlap only if sent so
    // (at 30 ms, a loaded machine's daemon could send the third after
    // the first was answered: seen in CI).
    sim = await startSim(['--size', 'small', '--latency-ms', '150']);
    const t = await sim.tenant();
    users = t.users;
    tree = expectTree(t);
    names = childrenOf(tree, 'users');
    groups = childrenOf(tree, 'groups');
  });
  after(async () => {
    await teardown(sim);
  });

  for (const [opt, most] of [[[], 3], [['concurrency=1'], 1]]) {
    test(`${opt[0] ?? 'by default (concurrency=3)'}: ${most} at most at once, the same requests`,
      { skip: !exactCounts() }, async () => {
        const m = await mount(sim, { opts: ['page_size=2', 'batch_pages=1', ...opt] });
        try {
          await sim.resetStats();
          const got = lines(sh('ls -1A users', m.dir));
          const st = await sim.stats();
          assert.deepEqual(sorted(got), sorted(names));
          const pages = Math.ceil(users.length / 2);
          assert.ok(pages >= 5, 'the listing takes several requests');
          // batch_pages=1 is where the window starts: the first requests
          // sent ahead hold one page each; answers fast and whole let the
          // later ones hold more (issue 22), each page asked once.
          assert.equal(st.pages, pages, 'each page once');
          assert.ok(st.requests <= pages && st.requests >= Math.min(pages, 1 + most),
            `${st.requests} requests for ${pages} pages`);
          assert.equal(st.maxInFlight, most);
          // Members past a group's first page (nested pages) go the same
          // way: the biggest group first, while its window is where it starts.
          sh('ls groups > /dev/null', m.dir);
          const members = (g) => childrenOf(tree, `groups/${g}/users`).length;
          const byMembers = [...groups].sort((a, b) => members(b) - members(a));
          assert.ok(members(byMembers[0]) >= 10, 'a group with 4 member pages past its first');
          await sim.resetStats();
          for (const g of byMembers) {
            assert.deepEqual(sorted(lines(sh(`ls -1A 'groups/${g}/users'`, m.dir))),
              sorted(childrenOf(tree, `groups/${g}/users`)), g);
            if (g === byMembers[0]) assert.equal((await sim.stats()).maxInFlight, most, 'the biggest group');
          }
          const nst = await sim.stats();
          assert.ok(nst.operations.tgfsNested_groups >= 2, JSON.stringify(nst.operations));
        } finally {
          await teardown(m);
        }
      });
  }
});

// The kernel runs lookups in one folder at once only when the INIT reply
// says FUSE_PARALLEL_DIROPS, which libfuse < 3.16 leaves out (ll.c,
// io_writev puts it back): without it, these four went one after another
// (the most open at once 1, not 4).
describe('lookups of four objects in one folder are on the wire together', () => {
  let sim, m, devices;
  before(async () => {
    sim = await startSim(['--size', 'small', '--latency-ms', '300']);
    devices = (await sim.tenant()).devices.slice(0, 4);
    m = await mount(sim);
  });
  after(async () => {
    await teardown(m, sim);
  });

  test('four stat of four devices at once: four requests, open together', async () => {
    await sim.resetStats();
    const q = devices.map((d) => `'devices/${d.id}'`);
    const out = sh(`for d in ${q.join(' ')}; do stat -c %F "$d" & done; wait`, m.dir);
    assert.deepEqual(lines(out), devices.map(() => 'directory'));
    const st = await sim.stats();
    if (exactCounts()) {
      assert.equal(st.requests, 4, JSON.stringify(st.operations));
      assert.equal(st.operations.tgfsGet_device, 4, JSON.stringify(st.operations));
    }
    // 300 ms a request: four processes started together overlap unless
    // the kernel holds each lookup back for the one before.
    assert.ok(st.maxInFlight >= 2, `at most ${st.maxInFlight} open at once`);
  });
});

describe('page size refused by the API', () => {
  let sim, m;
  before(async () => {
    sim = await startSim(['--size', 'small', '--page-max', '50']);
    m = await mount(sim, { opts: ['page_size=100'] });
  });
  after(async () => {
    await teardown(m, sim);
  });

  test('the client halves its page size once and keeps it', { skip: !exactCounts() }, async () => {
    await sim.resetStats();
    const tenant = await sim.tenant();
    const got = lines(sh('ls -1A networks', m.dir));
    assert.equal(got.length, tenant.remoteNetworks.length);
    let st = await sim.stats();
    assert.equal(st.requests, 2, 'one refused, one at the halved size');
    await sim.resetStats();
    sh('ls networks/*/connectors > /dev/null', m.dir);
    st = await sim.stats();
    // (connectors came along with the networks' first page, first.c:
    // nothing left to ask, or one request at the kept size)
    assert.ok(st.requests <= 1, `${st.requests} requests`);
    assert.equal(st.errors, 0, 'the smaller size is kept');
    assert.match(sh('cat .twingatefs/status', m.dir), /^page-size: 50$/m);
  });
});
