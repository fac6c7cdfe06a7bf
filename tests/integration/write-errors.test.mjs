// write-errors.test.mjs - writes that must fail, and fail cleanly
// (DESIGN.md §3, §7, §9): values refused before any request, refusals from
// the API, read-only fields, tokens without the permission, a -o ro mount,
// server failures and a lost reply, moves across folders, bad links; and
// what must not fail: reads never write, a 429 or the client's own pacing
// is waited out.  After every failure the tenant is unchanged and the
// files show what it holds.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSim, mount, sh, shStatus, tempDir, rmSync, teardown } from './lib.mjs';
import { q, setup, mountAs, assertChanges, assertUnchanged, cost, assertNoMutation,
         run, fails, pyWrite, together, lines, labelOf } from './writes.mjs';

const EINVAL = /Invalid argument/;
const EACCES = /Permission denied/;

describe('values refused before any request: EINVAL', () => {
  let sim, m, t;
  before(async () => {
    ({ sim, m } = await setup());
    t = await sim.tenant();
  });
  after(() => teardown(m, sim));

  const dev = () => `devices/${t.devices[1].id}`;
  // [file, bytes written with one write(2), what it is]
  const BAD = [
    ['networks/AWS prod/is-active', 'maybe\n', 'not a boolean'],
    ['networks/AWS prod/location', 'nowhere\n', 'not a location'],
    ['networks/AWS prod/name', 'a\nb\n', 'two lines for a one-line field'],
    ['networks/AWS prod/name', '\n', 'an empty name'],
    ['networks/AWS prod/name', 'x\0y\n', 'a NUL byte'],
    ['networks/AWS prod/name', Buffer.from([0x41, 0xff, 0xfe, 0x0a]), 'invalid UTF-8'],
    ['resources/prod-db/is-visible', 'yes\n', 'not a boolean'],
    ['users/ada.lovelace@example.com/role', 'king\n', 'not a role'],
    [() => `${dev()}/trust`, 'maybe\n', 'not trusted/untrusted'],
    [() => `${dev()}/state`, 'deleted\n', 'not a device state'],
  ];
  // Multi-line fields are parsed at close.
  const BAD_AT_CLOSE = [
    ['resources/prod-db/protocols', 'icmp: allow\ntcp: 70000\nudp: allow-all\n', 'a port over 65535'],
    ['resources/prod-db/protocols', 'icmp: maybe\ntcp: allow-all\nudp: allow-all\n', 'bad icmp'],
    ['resources/prod-db/protocols', 'tcp: allow-all\n', 'a line missing'],
  ];

  for (const [file, bytes, what] of [...BAD, ...BAD_AT_CLOSE]) {
    const atClose = BAD_AT_CLOSE.some((b) => b[1] === bytes);
    test(`${what} (${JSON.stringify(String(bytes))}) fails ${atClose ? 'close' : 'write'}(2) with EINVAL`,
      async () => {
        const f = typeof file === 'function' ? file() : file;
        const was = sh(`cat ${q(f)}`, m.dir);
        const { r, st } = await cost(sim, () => pyWrite(m.dir, f, bytes));
        assert.match(r, atClose ? /^(close|fsync) EINVAL$/ : /^write EINVAL$/);
        assertNoMutation(st, what);
        assert.equal(sh(`cat ${q(f)}`, m.dir), was, 'the file shows the tenant value');
        await assertUnchanged(sim, t, what);
      });
  }

  test('the shell reports "Invalid argument" for echo maybe > is-active', async () => {
    fails("echo maybe > 'networks/AWS prod/is-active'", m.dir, EINVAL);
    assert.equal(sh("cat 'networks/AWS prod/is-active'", m.dir), 'true\n');
    await assertUnchanged(sim, t);
  });
});

describe('refusals from the API, read-only fields, bad links, moves across folders', () => {
  let sim, m;
  before(async () => { ({ sim, m } = await setup()); });
  after(() => teardown(m, sim));

  // Runs @cmd, which must fail with @msg; the tenant must not change and
  // /.twingatefs/errors must name @path and hold @apiMsg (when given).
  async function refused(cmd, msg, { path, apiMsg, mutations } = {}) {
    const t = await sim.tenant();
    const { st } = await cost(sim, () => fails(cmd, m.dir, msg));
    if (mutations !== undefined) assert.equal(st.mutations, mutations, JSON.stringify(st.fields));
    await assertUnchanged(sim, t, cmd);
    if (apiMsg) {
      const errors = sh('cat .twingatefs/errors', m.dir);
      assert.ok(errors.includes(apiMsg), `errors holds the API's message: ${errors}`);
      assert.ok(errors.includes(path), `errors names ${path}: ${errors}`);
      // One line per error: its time (RFC 3339, UTC), the path, the message.
      const line = errors.split('\n').filter((l) => l.includes(path) && l.includes(apiMsg)).pop();
      const at = line.match(/^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) (.*?): (.*)$/);
      assert.ok(at, `"time path: message": ${line}`);
      assert.ok(Math.abs(Date.parse(at[1]) - Date.now()) < 120000, `a recent time: ${at[1]}`);
      assert.equal(at[2], path);
    }
  }

  test('stats counts requests per GraphQL operation', async () => {
    const before = sh('cat .twingatefs/stats', m.dir);
    const n = (text, op) => Number((text.match(new RegExp(`^requests ${op}: (\\d+)$`, 'm')) || [0, 0])[1]);
    const was = n(before, 'tgfs_groupUpdate');
    fails('echo All > groups/Everyone/name', m.dir, /./);
    const now = sh('cat .twingatefs/stats', m.dir);
    assert.equal(n(now, 'tgfs_groupUpdate'), was + 1, now);
    assert.match(now, /^requests tgfs(List|Find)_\w+: \d+$/m);
  });

  test('disabling a PENDING user: the API refuses, EINVAL, the file shows pending', async () => {
    const u = 'users/barbara.liskov@example.com';
    await refused(`echo disabled > ${u}/state`, EINVAL,
      { path: `/${u}/state`, apiMsg: 'User in PENDING state', mutations: 1 });
    assert.equal(sh(`cat ${u}/state`, m.dir), 'pending\n');
  });

  test('renaming the system group: the API refuses, the name stays', async () => {
    await refused('echo All > groups/Everyone/name', /./,
      { path: '/groups/Everyone/name', apiMsg: 'system group', mutations: 1 });
    assert.equal(sh('cat groups/Everyone/name', m.dir), 'Everyone\n');
  });

  test('bypass routing on a resource with port restrictions: the API refuses, EINVAL', async () => {
    await refused('echo bypass_twingate > resources/grafana/routing-mode', EINVAL,
      { path: '/resources/grafana/routing-mode', apiMsg: 'port restrictions', mutations: 1 });
    assert.equal(sh('cat resources/grafana/routing-mode', m.dir), 'through_twingate\n');
  });

  test('mkdir of a user whose email is taken (other case) is EEXIST', async () => {
    await refused('mkdir users/ADA.LOVELACE@example.com', /File exists/,
      { path: '/users/ADA.LOVELACE@example.com', apiMsg: 'already exists' });
  });

  test('writing a read-only field is EACCES and sends nothing', async () => {
    const t = await sim.tenant();
    for (const f of ['networks/AWS prod/id', 'networks/AWS prod/type', 'networks/AWS prod/created-at',
      'users/ada.lovelace@example.com/email', `devices/${t.devices[0].id}/name`,
      'service-accounts/ci-runner/keys/gitlab/status']) {
      await refused(`echo x > ${q(f)}`, EACCES, { mutations: 0 });
    }
  });

  test('an object.json edit that changes a read-only field is EACCES and changes nothing', async () => {
    const f = 'networks/AWS prod/object.json';
    const was = sh(`cat ${q(f)}`, m.dir);
    const id = JSON.parse(was).id;
    await refused(`sed -i 's/${id}/UmVtb3RlTmV0d29yazo5OTk5OTk=/' ${q(f)}`, /./, { mutations: 0 });
    await refused(`sed -i -e 's/"createdAt": "2022/"createdAt": "2021/' -e 's/"AWS prod"/"AWS"/' ${q(f)}`,
      /./, { mutations: 0 });
    assert.equal(sh(`cat ${q(f)}`, m.dir), was);
    assert.deepEqual(lines(sh("ls -A 'networks/AWS prod'", m.dir)).filter((n) => n.startsWith('sed')), [],
      'no temporary file of sed left');
  });

  test('object.json that is not JSON fails close(2) with EINVAL', async () => {
    const t = await sim.tenant();
    const f = 'groups/Engineering/object.json';
    const was = sh(`cat ${q(f)}`, m.dir);
    const { r, st } = await cost(sim, () => pyWrite(m.dir, f, '{"name": "Eng'));
    assert.match(r, /^(close|fsync) EINVAL$/);
    assertNoMutation(st, 'invalid JSON');
    assert.equal(sh(`cat ${q(f)}`, m.dir), was);
    await assertUnchanged(sim, t);
  });

  test('a link to an object that does not exist is ENOENT', async () => {
    await refused("ln -s ../../../users/nobody@example.com 'groups/Engineering/users/nobody@example.com'",
      /No such file/, { mutations: 0 });
    await refused("ln -s '../../../../groups/No Such' 'resources/prod-db/access/groups/No Such'",
      /No such file/, { mutations: 0 });
  });

  test('a link named otherwise than its target is EINVAL', async () => {
    await refused("ln -s ../../../users/yuki.tanaka@example.com 'groups/Engineering/users/yuki'",
      EINVAL, { mutations: 0 });
  });

  // mv that falls back to copy-and-delete (EXDEV) would create objects
  // with mkdir: nothing may be created or deleted.
  for (const [from, to] of [
    ['networks/AWS prod/connectors/brisk otter', 'networks/Zürich Büro/connectors/brisk otter'],
    ['resources/grafana', 'groups/grafana'],
    ['service-accounts/ci-runner/keys/gitlab', 'service-accounts/Backup Bot/keys/gitlab'],
    ['groups/Engineering', 'networks/AWS prod/connectors/Engineering'],
  ]) {
    test(`mv ${from} to another folder fails; nothing created or deleted`, async () => {
      const t = await sim.tenant();
      const r = shStatus(`mv ${q(from)} ${q(to)}`, m.dir);
      assert.notEqual(r.status, 0, 'mv fails');
      await assertUnchanged(sim, t, 'mv across folders');
      assert.equal(shStatus(`test -d ${q(from)}`, m.dir).status, 0, 'the object is still there');
    });
  }
});

describe('without the permission, or on a -o ro mount', () => {
  let sim, ro, rd, wr, t;
  before(async () => {
    sim = await startSim(['--size', 'small', '--rate-read', '0', '--rate-write', '0']);
    t = await sim.tenant();
    rd = await mountAs(sim, 'sim-read');
    wr = await mountAs(sim, 'sim-write');
    ro = await mountAs(sim, 'sim-write', ['ro']);
  });
  after(async () => {
    await teardown(ro, rd, wr, sim);
  });

  const CHANGES = () => [
    `echo trusted > devices/${t.devices[1].id}/trust`,
    "echo 'AWS production' > 'networks/AWS prod/name'",
    'mkdir networks/new-net',
    "rmdir 'groups/.contractors'",
    'mv resources/grafana resources/grafana2',
    "ln -s ../../../users/alan.turing@example.com 'groups/.contractors/users/alan.turing@example.com'",
    "rmdir 'resources/prod-db/access/groups/Engineering'",
  ];

  test('a read-only token: every change is EACCES, the tenant unchanged', async () => {
    for (const cmd of CHANGES()) fails(cmd, rd.dir, EACCES);
    await assertUnchanged(sim, t, 'with a read-only token');
  });

  test('a read-write token cannot generate connector tokens or create keys: EACCES', async () => {
    fails("echo > 'networks/AWS prod/connectors/brisk otter/tokens'", wr.dir, EACCES);
    assert.equal(sh("cat 'networks/AWS prod/connectors/brisk otter/tokens'", wr.dir), '');
    fails('mkdir service-accounts/ci-runner/keys/new-key', wr.dir, EACCES);
    assert.ok(!lines(sh('ls -A service-accounts/ci-runner/keys', wr.dir)).includes('new-key'));
    await assertUnchanged(sim, t, 'with a read-write token');
  });

  test('-o ro: every change, scratch files too, is EROFS and sends nothing', async () => {
    const { st } = await cost(sim, () => {
      for (const cmd of [...CHANGES(), "touch 'networks/AWS prod/notes'"]) {
        fails(cmd, ro.dir, /Read-only file system/);
      }
    });
    assertNoMutation(st, '-o ro');
    await assertUnchanged(sim, t, '-o ro');
  });
});

describe('server failures, a lost reply, 429s, pacing, reads', () => {
  let sim, m;
  before(async () => { ({ sim, m } = await setup()); });
  after(async () => { await sim?.faults([]).catch(() => {}); await teardown(m, sim); });

  test('a mutation answered 500 every time is EIO; the tenant and the file keep the old value', async () => {
    const t = await sim.tenant();
    const f = 'groups/Engineering/is-active';
    assert.equal(sh(`cat ${f}`, m.dir), 'true\n');
    // A value set is retried (retries=3 by default): four 500s in a row.
    assert.equal(await sim.faults({ match: 'mutation', status: 500, count: 4 }), 200);
    await sim.resetStats();
    fails(`echo false > ${f}`, m.dir, /Input\/output error/);
    assert.equal((await sim.stats()).mutations, 0, 'none executed');
    await sim.faults([]);
    await assertUnchanged(sim, t, 'after a 500');
    assert.equal(sh(`cat ${f}`, m.dir), 'true\n');
    assert.ok(sh('cat .twingatefs/errors', m.dir).includes('/groups/Engineering/is-active'));
  });

  test('a value set whose answer is lost is sent again, and takes effect once', async () => {
    const f = 'networks/AWS prod/location';
    const before = sh(`cat '${f}'`, m.dir);
    const want = before === 'aws\n' ? 'other' : 'aws';
    // Executed, then the connection dropped: the retry sets the same value.
    assert.equal(await sim.faults({ match: 'remoteNetworkUpdate', drop: true, after: true }), 200);
    await sim.resetStats();
    assert.equal(shStatus(`echo ${want} > '${f}'`, m.dir).status, 0);
    await sim.faults([]);
    const st = await sim.stats();
    assert.equal(st.requests, 2, 'the mutation and its retry');
    const t = await sim.tenant();
    assert.equal(t.remoteNetworks.find((n) => n.name === 'AWS prod').location, want.toUpperCase());
    assert.equal(sh(`cat '${f}'`, m.dir), `${want}\n`);
  });

  test('a create whose reply is lost never makes a duplicate', async () => {
    sh('ls networks > /dev/null', m.dir);
    assert.equal(await sim.faults({ match: 'remoteNetworkCreate', drop: true, after: true }), 200);
    shStatus('mkdir networks/lost-reply', m.dir); // fails or succeeds; either is fine
    await sim.faults([]);
    const t = await sim.tenant();
    assert.equal(t.remoteNetworks.filter((n) => n.name === 'lost-reply').length, 1,
      'exactly one network of that name');
    const shown = lines(sh('ls -A networks', m.dir)).filter((n) => n.startsWith('lost-reply'));
    assert.ok(shown.length <= 1, `shown once at most: ${shown}`);
  });

  test('a group create whose reply is lost, then the same mkdir again: EEXIST, one group, one groupCreate', async () => {
    sh('ls groups > /dev/null', m.dir);
    assert.equal(await sim.faults({ match: 'groupCreate', drop: true, after: true, count: 1 }), 200);
    await sim.resetStats();
    const first = shStatus('mkdir groups/lost-group', m.dir);
    await sim.faults([]);
    const again = shStatus('mkdir groups/lost-group', m.dir);
    const st = await sim.stats();
    // The first mkdir may fail (its answer was lost) or find its group;
    // either way the second one meets the group the first one made.
    assert.notEqual(again.status, 0, `the retry fails (first: ${first.status} ${first.stderr})`);
    assert.match(again.stderr, /File exists/);
    assert.equal(st.fields.groupCreate, 1, `one groupCreate sent (fields ${JSON.stringify(st.fields)})`);
    const t = await sim.tenant();
    assert.equal(t.groups.filter((g) => g.name === 'lost-group').length, 1, 'exactly one group');
    assert.deepEqual(lines(sh('ls groups', m.dir)).filter((n) => n.startsWith('lost-group')),
      ['lost-group'], 'shown once, under its name');
  });

  test('a 429 on a mutation is waited out and the write succeeds', async () => {
    const t = await sim.tenant();
    const f = 'resources/prod-db/is-visible';
    sh(`cat ${f}`, m.dir);
    assert.equal(await sim.faults({ match: 'mutation', status: 429, retryAfter: 1 }), 200);
    const t0 = Date.now();
    const { st } = await cost(sim, () => run(`echo false > ${f}`, m.dir));
    const waited = Date.now() - t0;
    assert.equal(st.faults, 1, 'the 429 was served');
    assert.ok(waited >= 900, `Retry-After honoured (waited ${waited} ms)`);
    await assertChanges(sim, t, ['resources prod-db isVisible: false']);
  });

  test('reads never change the tenant: rsync -a and find of the whole mount', async () => {
    const t = await sim.tenant();
    const dest = tempDir();
    try {
      const { st } = await cost(sim, () => {
        run(`rsync -a ./ ${q(`${dest}/copy`)}`, m.dir);
        run('find . -type f -exec cat {} + > /dev/null', m.dir);
      });
      assertNoMutation(st, 'rsync and find');
      await assertUnchanged(sim, t, 'rsync and find');
    } finally {
      rmSync(dest, { recursive: true, force: true });
    }
  });
});

describe('pacing: 5 writes at rate_write=3 (takes about a minute)', () => {
  let sim, m;
  before(async () => {
    sim = await startSim(['--size', 'small', '--rate-read', '0', '--rate-write', '3']);
    m = await mount(sim, { token: 'sim-write', opts: ['rate_read=100000', 'rate_write=3'] });
  });
  after(() => teardown(m, sim));

  test('5 writes in a row all succeed; the 4th and 5th wait for a slot', async () => {
    const t = await sim.tenant();
    const devs = t.devices.filter((d) => !d.isTrusted && d.activeState === 'ACTIVE').slice(0, 5);
    assert.equal(devs.length, 5);
    sh(`cat ${devs.map((d) => `devices/${d.id}/trust`).join(' ')} > /dev/null`, m.dir);
    const t0 = Date.now();
    // Asynchronously: a minute-long blocked event loop breaks fetch's
    // kept-alive connection to the simulator.
    const { st } = await cost(sim, async () => {
      for (const d of devs) {
        const [r] = await together([`echo trusted > devices/${d.id}/trust`], m.dir);
        assert.equal(r.status, 0, `write ${d.id}: ${r.stderr}`);
      }
    });
    const took = Date.now() - t0;
    assert.equal(st.fields.deviceUpdate, 5, JSON.stringify(st));
    assert.ok(st.rateLimited <= 1, `paced under the limit: ${st.rateLimited} answered 429`);
    assert.ok(took >= 30000, `the client waited for the rate window (${took} ms)`);
    assert.ok(took < 120000, `but not past it (${took} ms)`);
    await assertChanges(sim, t, devs.map((d) => `devices ${labelOf(d)} isTrusted: true`));
  });
});
