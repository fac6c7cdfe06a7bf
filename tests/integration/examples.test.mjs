// examples.test.mjs - every script and unit in examples/ run as a user
// would, against a real mount of the simulator, with the effect checked in
// the simulator's own state (/_sim/tenant, /_sim/stats), never only in what
// the mount shows.
//
//   nightly-backup.sh           a git commit of the tree; none when nothing changed
//   rotate-connector-tokens.sh  a 0600 env file with fresh tokens, never on argv/stdout
//   trust-user-devices.sh       every device of the user trusted, nothing else touched
//   grant-group-access.sh       access edges added, existing ones skipped (idempotent)
//   offline-connectors.sh       exactly the tenant's connectors that are not ALIVE
//   fstab                       parsed, then mounted by mount(8) -T from a copy of it
//   twingatefs@.service         systemd-analyze verify, then its ExecStart/ExecStop run
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync,
         writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { startSim, mount, sh, shStatus, tempDir, root, BIN, entryNames, utc,
         isMounted, waitFor } from './lib.mjs';

const EX = join(root, 'examples');
const SIM_ARGS = ['--size', 'small', '--rate-read', '0', '--rate-write', '0'];
const NO_PACING = ['rate_read=100000', 'rate_write=100000'];
const q = (s) => `'${String(s).replace(/'/g, "'\\''")}'`;
const lines = (s) => s.split('\n').filter((l) => l !== '');
const isRoot = process.getuid() === 0;
const have = (cmd) => spawnSync('bash', ['-c', `command -v ${cmd}`]).status === 0;

// Folders made here that may hold a mount use the harness's prefix, so a
// crashed run's mounts are cleaned by the next one (lib.mjs cleanStale).
const mountTop = () => mkdtempSync(join(tmpdir(), `tgfs-it-${process.pid}-`));

// Runs examples/@name with @args, as a user would (the file itself, not
// `bash file`): { status, stdout, stderr }.
function run(name, args = [], { env = {}, input, cwd } = {}) {
  const r = spawnSync(join(EX, name), args, {
    cwd, input, encoding: 'utf8', timeout: 120000,
    env: { ...process.env, TGFS_MNT: '', TWINGATE_NETWORK: '', ...env },
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const show = (r) => `exit ${r.status}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
function ok(r, what) {
  assert.equal(r.status, 0, `${what} failed:\n${show(r)}`);
  return r;
}

// A fresh small tenant and one mount of it with @token, its state file in
// a folder of its own.
async function setup(token, { simArgs = SIM_ARGS, opts = [] } = {}) {
  const sim = await startSim(simArgs);
  const state = tempDir();
  const m = await mount(sim, { token, opts: [...NO_PACING, ...opts],
                               env: { XDG_STATE_HOME: state } });
  return { sim, m, state };
}
// Every step is taken even when one fails (a daemon that crashed fails its
// unmount): a simulator left running keeps the test process from exiting.
async function teardown(...things) {
  let first;
  for (const t of things) {
    if (!t) continue;
    for (const step of [() => t.m?.unmount(), () => t.sim?.stop(),
      () => t.state && rmSync(t.state, { recursive: true, force: true })]) {
      try { await step(); } catch (e) { first ??= e; }
    }
  }
  if (first) throw first;
}

// Mutations the simulator executed while @fn ran: { total, fields }.
async function mutationsDuring(sim, fn) {
  await sim.resetStats();
  const out = await fn();
  const st = await sim.stats();
  const fields = Object.fromEntries(Object.entries(st.fields)
    .filter(([k]) => /(Create|Update|Delete|Add|Remove|Generate|Revoke)/.test(k)));
  return { out, total: st.mutations, fields };
}

const byName = (t, coll, name) => {
  const hits = t[coll].filter((o) => (o.name ?? o.email) === name);
  assert.equal(hits.length, 1, `one ${coll} named ${name}`);
  return hits[0];
};

// Where the daemon said why, for product failures.
const daemonLog = (m) => `\n--- daemon log (last 40 lines)\n${
  m.log().split('\n').slice(-40).join('\n')}`;
const fsErrors = (m) => {
  const r = shStatus(`cat ${q(m.path('.twingatefs/errors'))}`);
  return `\n--- .twingatefs/errors\n${r.stdout}${r.stderr}`;
};

// ---------------------------------------------------------------------------

describe('examples/nightly-backup.sh', () => {
  let env, work, repo;
  const git = (args) => sh(`git -C ${q(repo)} ${args}`);
  const commits = () => Number(git('rev-list --count HEAD').trim());
  before(async () => {
    // A short cache_ttl: a nightly run sees the tenant as it is now, as it
    // does with the default 60 s a day after the last run.
    env = await setup('sim-read', { opts: ['cache_ttl=1'] });
    work = tempDir();
    repo = join(work, 'tenant-backup'); // does not exist yet: the script makes it
  });
  after(async () => {
    await teardown(env);
    rmSync(work, { recursive: true, force: true });
  });

  test('the first run makes the repository and commits the whole tree', async () => {
    const { total } = await mutationsDuring(env.sim, () => {
      const r = ok(run('nightly-backup.sh', ['-m', env.m.dir, repo]), 'nightly-backup.sh');
      assert.match(r.stdout, /created a git repository/);
      assert.match(r.stdout, /committed [0-9a-f]+/);
    });
    assert.equal(total, 0, 'a backup changes nothing in the tenant');
    assert.equal(commits(), 1);
    assert.equal(git('status --porcelain'), '', 'everything copied is committed');
    const t = await env.sim.tenant();
    assert.equal(readFileSync(join(repo, 'networks', 'AWS prod', 'name'), 'utf8'), 'AWS prod\n');
    const files = lines(git('ls-files -z').replace(/\0/g, '\n'));
    for (const d of t.devices) {
      assert.ok(files.includes(`devices/${d.id}/trust`), `devices/${d.id}/trust is in the backup`);
    }
    assert.deepEqual(files.filter((f) => /\/(tokens|token)$/.test(f)), [],
      'no secret file is committed');
    assert.ok(!files.some((f) => f.startsWith('.twingatefs/')), 'no status folder');
  });

  test('a second run with nothing changed makes no commit', () => {
    const r = ok(run('nightly-backup.sh', [repo], { env: { TGFS_MNT: env.m.dir } }),
      'nightly-backup.sh (TGFS_MNT)');
    assert.match(r.stdout, /no changes/);
    assert.equal(commits(), 1, 'still one commit');
  });

  test('a change in the tenant is the next commit, and only it', async () => {
    const t = await env.sim.tenant();
    const dev = t.devices.find((d) => !d.isTrusted);
    const r0 = await env.sim.gql(
      'mutation($id: ID!) { deviceUpdate(id: $id, isTrusted: true) { ok error } }',
      { id: dev.id });
    assert.equal(r0.body.data?.deviceUpdate?.ok, true, JSON.stringify(r0.body));
    await new Promise((r) => setTimeout(r, 1500)); // past cache_ttl (kernel's too)
    ok(run('nightly-backup.sh', ['-m', env.m.dir, repo]), 'nightly-backup.sh');
    assert.equal(commits(), 2);
    const changed = lines(git('diff --name-only HEAD~1 HEAD'));
    assert.ok(changed.includes(`devices/${dev.id}/trust`), `changed: ${changed.join(', ')}`);
    assert.ok(changed.every((f) => f.startsWith(`devices/${dev.id}/`)),
      `only that device changed: ${changed.join(', ')}`);
    assert.equal(readFileSync(join(repo, 'devices', dev.id, 'trust'), 'utf8'), 'trusted\n');
    assert.match(git('log -1 --format=%s'), /^twingatefs backup \d{4}-\d\d-\d\dT/);
  });

  test('refuses a folder that is not mounted: no rsync --delete over the backup', () => {
    const empty = join(work, 'not-mounted');
    mkdirSync(empty);
    const r = run('nightly-backup.sh', ['-m', empty, repo]);
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, /is not a mount point/);
    assert.equal(commits(), 2, 'no commit');
    assert.ok(existsSync(join(repo, 'networks')), 'the backup is intact');
  });

  // A user who wants a fresh snapshot from a long-lived mount writes to
  // .twingatefs/refresh first: rsync's listings then re-fetch, and the
  // changed file's new size and mtime are seen by its quick check.
  test('on a long cache_ttl mount, a write to .twingatefs/refresh makes the next backup current',
    async () => {
      const m2 = await mount(env.sim, { token: 'sim-read', opts: [...NO_PACING, 'cache_ttl=600'],
                                        env: { XDG_STATE_HOME: env.state } });
      const repo2 = join(work, 'refresh-backup');
      try {
        ok(run('nightly-backup.sh', ['-m', m2.dir, repo2]), 'nightly-backup.sh');
        const t = await env.sim.tenant();
        const dev = t.devices.find((d) => !d.isTrusted);
        await env.sim.gql('mutation($id: ID!) { deviceUpdate(id: $id, isTrusted: true) { ok } }',
          { id: dev.id });
        sh(`echo > ${q(m2.path('.twingatefs/refresh'))}`);
        const r = ok(run('nightly-backup.sh', ['-m', m2.dir, repo2]), 'nightly-backup.sh');
        const size = statSync(join(m2.dir, 'devices', dev.id, 'trust')).size;
        assert.match(r.stdout, /committed/,
          `no commit after refresh; stat of devices/${dev.id}/trust says size ${size} ` +
          `for ${JSON.stringify(sh(`cat ${q(m2.path(`devices/${dev.id}/trust`))}`))}`);
      } finally {
        await m2.unmount();
      }
    });

  test('usage errors exit non-zero with the usage', () => {
    const r = run('nightly-backup.sh', ['-m', env.m.dir], { env: { TGFS_BACKUP_REPO: '' } });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Usage:/);
  });
});

// ---------------------------------------------------------------------------

describe('examples/rotate-connector-tokens.sh', () => {
  let env, work, envfile;
  const TOKENS = /^TWINGATE_ACCESS_TOKEN=(\S+)\nTWINGATE_REFRESH_TOKEN=(\S+)\n$/;
  const ENVFILE = /^TWINGATE_LOG_LEVEL=3\nTWINGATE_NETWORK=acme\nTWINGATE_ACCESS_TOKEN=(\S+)\nTWINGATE_REFRESH_TOKEN=(\S+)\n$/;
  const seen = new Set(); // every token seen so far
  before(async () => {
    env = await setup('sim-provision');
    work = tempDir();
    envfile = join(work, 'brisk-otter.env');
    // An env file from an earlier deployment, too open, with old tokens.
    writeFileSync(envfile, 'TWINGATE_NETWORK=acme\nTWINGATE_ACCESS_TOKEN=old-access\n' +
      'TWINGATE_REFRESH_TOKEN=old-refresh\nTWINGATE_LOG_LEVEL=3\n');
    chmodSync(envfile, 0o644);
    seen.add('old-access').add('old-refresh');
  });
  after(async () => {
    await teardown(env);
    rmSync(work, { recursive: true, force: true });
  });

  // Runs the script, under strace when there is one, so that every argv of
  // every program it starts can be searched for the tokens.
  function rotateTraced(args, opts = {}) {
    const trace = join(work, 'execve.trace');
    rmSync(trace, { force: true });
    const traced = have('strace');
    const cmd = traced
      ? ['strace', '-f', '-qq', '-s', '65536', '-e', 'trace=execve', '-o', trace,
         join(EX, 'rotate-connector-tokens.sh'), ...args]
      : [join(EX, 'rotate-connector-tokens.sh'), ...args];
    const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', timeout: 120000,
      env: { ...process.env, TGFS_MNT: '', TWINGATE_NETWORK: '', ...(opts.env || {}) } });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr,
             argv: traced ? readFileSync(trace, 'utf8') : null };
  }

  function checkEnvFile(r) {
    const mode = statSync(envfile).mode & 0o777;
    assert.equal(mode.toString(8), '600', 'the env file is 0600');
    const text = readFileSync(envfile, 'utf8');
    const [, access, refresh] = text.match(ENVFILE) ??
      assert.fail(`env file (tokens masked): ${text.replace(/=(\S{12})\S+/g, '=$1...')}`);
    for (const tok of [access, refresh]) {
      assert.ok(!seen.has(tok), 'a token that was never seen before');
      seen.add(tok);
      assert.ok(!r.stdout.includes(tok) && !r.stderr.includes(tok), 'not echoed');
      if (r.argv !== null) assert.ok(!r.argv.includes(tok), 'on no command line (strace execve)');
    }
    if (r.argv !== null) {
      assert.match(r.argv, /execve\("[^"]*\/mv", \["mv", "-f", "--"/, 'the trace saw the programs run');
    }
    assert.notEqual(access, refresh);
    assert.deepEqual(readdirSync(work).filter((f) => f !== 'execve.trace'), ['brisk-otter.env'],
      'no temporary file left beside it');
    return [access, refresh];
  }

  test('writes fresh tokens into a 0600 env file, keeping its other lines', async () => {
    const t = await env.sim.tenant();
    const conn = byName(t, 'connectors', 'brisk otter');
    const { out: r, total, fields } = await mutationsDuring(env.sim, () =>
      rotateTraced(['-m', env.m.dir, '-t', 'acme', 'AWS prod', 'brisk otter', envfile]));
    assert.equal(r.status, 0, show(r) + daemonLog(env.m));
    assert.deepEqual(fields, { connectorGenerateTokens: 1 }, 'one generation');
    assert.equal(total, 1);
    const [access, refresh] = checkEnvFile(r);
    // The file holds what the mount generated (the simulator keeps no secret).
    const shown = sh(`cat ${q(env.m.path('networks/AWS prod/connectors/brisk otter/tokens'))}`);
    assert.match(shown, TOKENS);
    assert.equal(shown, `TWINGATE_ACCESS_TOKEN=${access}\nTWINGATE_REFRESH_TOKEN=${refresh}\n`);
    assert.ok(conn.id, 'the connector exists in the tenant');
  });

  test('a second run replaces them with a new pair (TWINGATE_NETWORK from the environment)', async () => {
    const { out: r, fields } = await mutationsDuring(env.sim, () =>
      rotateTraced(['AWS prod', 'brisk otter', envfile],
        { env: { TGFS_MNT: env.m.dir, TWINGATE_NETWORK: 'acme' } }));
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(fields, { connectorGenerateTokens: 1 });
    checkEnvFile(r);
  });

  test('names with a slash are typed as is', async () => {
    const other = join(work, 'rack.env');
    const { out: r, fields } = await mutationsDuring(env.sim, () =>
      run('rotate-connector-tokens.sh',
        ['-m', env.m.dir, '-t', 'acme', 'Office / HQ', 'hq/rack-1', other]));
    try {
      assert.equal(r.status, 0, show(r));
      assert.deepEqual(fields, { connectorGenerateTokens: 1 });
      assert.equal((statSync(other).mode & 0o777).toString(8), '600');
      assert.match(readFileSync(other, 'utf8'),
        /^TWINGATE_NETWORK=acme\nTWINGATE_ACCESS_TOKEN=\S+\nTWINGATE_REFRESH_TOKEN=\S+\n$/);
    } finally {
      rmSync(other, { force: true });
    }
  });

  test('no tenant name: fails before generating anything', async () => {
    const before = readFileSync(envfile, 'utf8');
    const { out: r, total } = await mutationsDuring(env.sim, () =>
      run('rotate-connector-tokens.sh', ['-m', env.m.dir, 'AWS prod', 'brisk otter', envfile]));
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, /cannot tell the tenant's name/);
    assert.equal(total, 0, 'the old tokens still work');
    assert.equal(readFileSync(envfile, 'utf8'), before);
  });

  test('an unknown connector fails clearly', async () => {
    const r = run('rotate-connector-tokens.sh',
      ['-m', env.m.dir, '-t', 'acme', 'AWS prod', 'no-such-connector', envfile]);
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, /no connector 'no-such-connector'/);
  });

  test('a token without the provision permission: fails, env file untouched', async () => {
    const env2 = await setup('sim-write');
    try {
      const before = readFileSync(envfile, 'utf8');
      const r = run('rotate-connector-tokens.sh',
        ['-m', env2.m.dir, '-t', 'acme', 'AWS prod', 'brisk otter', envfile]);
      assert.equal(r.status, 1, show(r));
      assert.match(r.stderr, /could not generate tokens/);
      assert.match(r.stderr, /Permission denied/, 'the write(2) error (EACCES) is shown');
      assert.equal(readFileSync(envfile, 'utf8'), before);
      assert.deepEqual(readdirSync(work).filter((f) => f !== 'execve.trace'), ['brisk-otter.env']);
    } finally {
      await teardown(env2);
    }
  });
});

// ---------------------------------------------------------------------------

describe('examples/trust-user-devices.sh', () => {
  let env, email; // the user the tests trust the devices of
  before(async () => { env = await setup('sim-write'); });
  after(async () => { await teardown(env); });

  // A user with an email, several devices, some trusted and some not.
  const pick = (t) => t.users.find((u) => {
    const ds = t.devices.filter((d) => d.userId === u.id);
    return u.email && ds.length >= 2 && ds.some((d) => d.isTrusted) &&
      ds.some((d) => !d.isTrusted);
  }) ?? assert.fail('no user with trusted and untrusted devices in the tenant');

  test('-n only lists what it would do', async () => {
    const t = await env.sim.tenant();
    const u = pick(t);
    const { out: r, total } = await mutationsDuring(env.sim, () =>
      run('trust-user-devices.sh', ['-n', '-m', env.m.dir, u.email]));
    assert.equal(r.status, 0, show(r));
    assert.equal(total, 0);
    const untrusted = t.devices.filter((d) => d.userId === u.id && !d.isTrusted);
    assert.equal(lines(r.stdout).filter((l) => l.startsWith('would trust:')).length,
      untrusted.length);
  });

  test('trusts every device of the user and nothing else', async () => {
    const t = await env.sim.tenant();
    const u = pick(t);
    email = u.email;
    const untrusted = t.devices.filter((d) => d.userId === u.id && !d.isTrusted);
    const { out: r, total, fields } = await mutationsDuring(env.sim, () =>
      run('trust-user-devices.sh', [u.email], { env: { TGFS_MNT: env.m.dir } }));
    assert.equal(r.status, 0, show(r) + fsErrors(env.m) + daemonLog(env.m));
    assert.equal(total, untrusted.length, 'one mutation per untrusted device');
    assert.deepEqual(fields, { deviceUpdate: untrusted.length });
    const now = await env.sim.tenant();
    for (const d of now.devices) {
      const was = t.devices.find((x) => x.id === d.id);
      if (d.userId === u.id) assert.equal(d.isTrusted, true, `${d.id} of ${u.email} trusted`);
      else assert.equal(d.isTrusted, was.isTrusted, `${d.id} of another user untouched`);
    }
    assert.match(r.stdout, new RegExp(`${untrusted.length} device\\(s\\) newly trusted`));
  });

  test('a second run changes nothing', async () => {
    assert.ok(email, 'the previous test ran');
    const t = await env.sim.tenant();
    const u = t.users.find((x) => x.email === email);
    const n = t.devices.filter((d) => d.userId === u.id).length;
    const { out: r, total } = await mutationsDuring(env.sim, () =>
      run('trust-user-devices.sh', ['-m', env.m.dir, email]));
    assert.equal(r.status, 0, show(r));
    assert.equal(total, 0, show(r));
    assert.equal(lines(r.stdout).filter((l) => l.startsWith('already trusted:')).length, n);
  });

  test('an unknown user fails clearly', () => {
    const r = run('trust-user-devices.sh', ['-m', env.m.dir, 'nobody@example.com']);
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, /no user 'nobody@example.com'/);
  });

  test('a read-only token: the API refusal is an error', async () => {
    const env2 = await setup('sim-read');
    try {
      const t = await env2.sim.tenant();
      const u = pick(t);
      const r = run('trust-user-devices.sh', ['-m', env2.m.dir, u.email]);
      assert.equal(r.status, 1, show(r));
      assert.match(r.stderr, /could not trust/);
      const now = await env2.sim.tenant();
      assert.deepEqual(now.devices.map((d) => d.isTrusted), t.devices.map((d) => d.isTrusted));
    } finally {
      await teardown(env2);
    }
  });
});

// ---------------------------------------------------------------------------

describe('examples/grant-group-access.sh', () => {
  let env;
  const GROUP = 'Ops / SRE'; // typed with its slash, shown as "Ops ／ SRE"
  const LIST = ['prod-db', 'Intranet / Wiki', 'Büro-Drucker', '東京 ファイルサーバ', 'public api'];
  before(async () => { env = await setup('sim-write'); });
  after(async () => { await teardown(env); });

  const edges = (t, g) => t.access.filter((a) => a.principalId === g.id)
    .map((a) => t.resources.find((r) => r.id === a.resourceId).name).sort();

  test('grants access to the resources read from stdin, skipping existing links', async () => {
    const t = await env.sim.tenant();
    const g = byName(t, 'groups', GROUP);
    const had = edges(t, g);
    const missing = LIST.filter((r) => !had.includes(r));
    assert.ok(had.includes('prod-db') && missing.length >= 3,
      `the small tenant: ${GROUP} has ${had.join(', ')}`);
    const input = `# resources for the SRE team\n${LIST.join('\n')}\n\n`;
    const { out: r, total, fields } = await mutationsDuring(env.sim, () =>
      run('grant-group-access.sh', ['-m', env.m.dir, GROUP], { input }));
    assert.equal(r.status, 0, show(r) + fsErrors(env.m) + daemonLog(env.m));
    assert.equal(total, missing.length, `one mutation per new edge (${JSON.stringify(fields)})`);
    const now = await env.sim.tenant();
    assert.deepEqual(edges(now, g), [...new Set([...had, ...LIST])].sort());
    const old = t.access.filter((a) => a.principalId === g.id);
    for (const a of old) {
      assert.ok(now.access.some((b) => b.resourceId === a.resourceId && b.principalId === g.id &&
        b.securityPolicyId === a.securityPolicyId), 'existing edges are kept as they were');
    }
    for (const e of now.access.filter((a) => a.principalId === g.id)) {
      assert.equal(e.principalType, 'GROUP');
    }
    assert.match(r.stdout, /already granted: prod-db/);
    // The mount shows the edges, as folders holding the link.
    assert.equal(sh(`readlink ${q(env.m.path('resources/Intranet ／ Wiki/access/groups/Ops ／ SRE/group'))}`),
      '../../../../../groups/Ops ／ SRE\n');
  });

  test('a second run (names as arguments) changes nothing; an unknown resource is an error', async () => {
    const t = await env.sim.tenant();
    const { out: r, total } = await mutationsDuring(env.sim, () =>
      run('grant-group-access.sh', ['-m', env.m.dir, 'Ops ／ SRE', ...LIST, 'no-such-resource']));
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, /no resource 'no-such-resource'/);
    assert.equal(total, 0, 'idempotent');
    assert.equal(lines(r.stdout).filter((l) => l.startsWith('already granted:')).length, LIST.length);
    assert.deepEqual((await env.sim.tenant()).access, t.access);
  });

  test('an unknown group fails before anything', async () => {
    const { out: r, total } = await mutationsDuring(env.sim, () =>
      run('grant-group-access.sh', ['-m', env.m.dir, 'No Such Group', 'prod-db']));
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, /no group 'No Such Group'/);
    assert.equal(total, 0);
  });
});

// ---------------------------------------------------------------------------

describe('examples/offline-connectors.sh', () => {
  let env, tiny;
  before(async () => {
    env = await setup('sim-read');
    tiny = await setup('sim-read', { simArgs: ['--size', 'tiny', '--rate-read', '0'] });
  });
  after(async () => { await teardown(env, tiny); });

  // What the script must print, computed from the tenant: folder names as
  // DESIGN.md §2 gives them, state in lower case, the heartbeat as the field.
  function expected(t) {
    const netNames = entryNames(t.remoteNetworks);
    const out = [];
    t.remoteNetworks.forEach((n, i) => {
      const cs = t.connectors.filter((c) => c.remoteNetworkId === n.id);
      const cNames = entryNames(cs);
      cs.forEach((c, j) => {
        if (c.state !== 'ALIVE') {
          out.push([netNames[i], cNames[j], c.state.toLowerCase(),
            utc(c.lastHeartbeatAt).replace(/\n$/, '')].join('\t'));
        }
      });
    });
    return out.sort();
  }

  test('lists exactly the connectors that are not ALIVE, and exits 2', async () => {
    const t = await env.sim.tenant();
    const want = expected(t);
    assert.ok(want.length >= 2, 'the small tenant has dead connectors');
    const r = run('offline-connectors.sh', ['-m', env.m.dir]);
    assert.equal(r.status, 2, show(r));
    assert.equal(r.stderr, '');
    assert.deepEqual(lines(r.stdout).sort(), want);
  });

  test('all alive: prints nothing and exits 0', async () => {
    const t = await tiny.sim.tenant();
    assert.deepEqual(expected(t), []);
    const r = run('offline-connectors.sh', [], { env: { TGFS_MNT: tiny.m.dir } });
    assert.equal(r.status, 0, show(r));
    assert.equal(r.stdout, '');
  });

  test('not a mount: exits 1', () => {
    const d = tempDir();
    try {
      const r = run('offline-connectors.sh', ['-m', d]);
      assert.equal(r.status, 1, show(r));
      assert.match(r.stderr, /does not look like a twingatefs mount/);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------

// The one uncommented line of examples/fstab, as its six fields.
function fstabEntry() {
  const entries = readFileSync(join(EX, 'fstab'), 'utf8').split('\n')
    .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  assert.equal(entries.length, 1, 'one fstab entry');
  const f = entries[0].trim().split(/\s+/);
  assert.equal(f.length, 6, `six fields: ${entries[0]}`);
  const [spec, file, vfstype, mntops, freq, passno] = f;
  return { spec, file, vfstype, opts: mntops.split(','), freq, passno };
}

describe('examples/fstab', () => {
  let sim, top, state;
  before(async () => {
    sim = await startSim(['--size', 'small', '--rate-read', '0']);
    top = mountTop();
    state = tempDir();
  });
  after(async () => {
    for (const d of readdirSync(top)) {
      const p = join(top, d);
      if (isMounted(p)) spawnSync('fusermount3', ['-uz', p]);
    }
    await sim?.stop();
    rmSync(top, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  });

  test('the entry has the fields and options it documents', () => {
    const e = fstabEntry();
    assert.equal(e.spec, 'twingatefs');
    assert.equal(e.file, '/mnt/tg');
    assert.equal(e.vfstype, 'fuse');
    for (const o of ['_netdev', 'nofail', 'noauto', 'x-systemd.automount',
                     'allow_other', 'default_permissions']) {
      assert.ok(e.opts.includes(o), `option ${o}`);
    }
    assert.ok(e.opts.some((o) => /^api_token_file=\/\S+$/.test(o)), 'api_token_file=');
    assert.ok(e.opts.some((o) => /^network=[a-z0-9-]+$/.test(o)), 'network=');
    assert.deepEqual([e.freq, e.passno], ['0', '0']);
    const text = readFileSync(join(EX, 'fstab'), 'utf8');
    for (const o of e.opts) {
      const key = o.replace(/=.*/, '=');
      assert.ok(text.includes(`#   ${key}`) || text.includes(`# Add \`${key}`) ||
        new RegExp(`#\\s+${key.replace(/[.]/g, '\\.')}`).test(text), `option ${o} is explained`);
    }
  });

  // mount(8) reads a copy of the entry (-T: another fstab) with only what
  // must differ here: the program's absolute path (mount.fuse3 runs it with
  // no PATH, and it is not installed), the mount point, the simulator's url
  // for network=, and a token file of our own.  libmount, mount.fuse3 and
  // twingatefs then see every other option exactly as written.
  test('mount(8) mounts a copy of it with those options; other users read, never write',
    { skip: !isRoot ? 'needs root (mount -T)' : false }, async () => {
      const e = fstabEntry();
      const dir = join(top, 'fstab-mnt');
      mkdirSync(dir);
      const token = join(top, 'token');
      writeFileSync(token, 'sim-write\n', { mode: 0o600 });
      const opts = e.opts.map((o) => (o.startsWith('network=') ? `url=${sim.url}`
        : o.startsWith('api_token_file=') ? `api_token_file=${token}` : o));
      const tab = join(top, 'fstab');
      writeFileSync(tab, `${BIN} ${dir} ${e.vfstype} ${opts.join(',')} ${e.freq} ${e.passno}\n`);
      const r = spawnSync('mount', ['-T', tab, dir], { encoding: 'utf8', timeout: 60000,
        env: { ...process.env, XDG_STATE_HOME: state } });
      assert.equal(r.status, 0, `mount -T ${tab} ${dir}: exit ${r.status}: ${r.stderr}`);
      try {
        assert.ok(isMounted(dir));
        const fm = sh(`findmnt -n -o FSTYPE,OPTIONS ${q(dir)}`);
        assert.match(fm, /^fuse\.twingatefs /);
        assert.match(fm, /default_permissions/);
        assert.match(fm, /allow_other/);
        const t = await sim.tenant();
        assert.deepEqual(lines(sh(`ls -A ${q(join(dir, 'networks'))}`)).sort(),
          entryNames(t.remoteNetworks).sort());
        if (have('runuser') && spawnSync('id', ['-u', 'nobody']).status === 0) {
          chmodSync(top, 0o755);
          const who = 'nobody';
          const f = join(dir, 'groups', 'Engineering', 'name');
          assert.equal(sh(`runuser -u ${who} -- cat ${q(f)}`), 'Engineering\n', 'others read');
          const w = shStatus(`runuser -u ${who} -- sh -c ${q(`echo x > ${q(f)}`)}`);
          assert.notEqual(w.status, 0, 'others cannot write');
          assert.match(w.stderr, /Permission denied/);
          const s = shStatus(`runuser -u ${who} -- cat ${q(join(dir, 'networks', 'AWS prod',
            'connectors', 'brisk otter', 'tokens'))}`);
          assert.match(s.stderr, /Permission denied/, 'others cannot read secrets');
          assert.equal(byName(await sim.tenant(), 'groups', 'Engineering').name, 'Engineering');
        }
      } finally {
        const u = spawnSync('umount', [dir], { encoding: 'utf8' });
        assert.equal(u.status, 0, `umount: ${u.stderr}`);
        assert.ok(!isMounted(dir));
      }
    });

  // DESIGN.md §1 also promises `twingatefs#acme /mnt/tg fuse.twingatefs`
  // (a source naming the tenant); mount.fuse3 then runs `twingatefs acme
  // /mnt/tg -o ...` (here url= wins over the source's name).
  test('the DESIGN.md §1 form with a source (twingatefs#acme) mounts',
    { skip: !isRoot ? 'needs root (mount -T)' : false }, () => {
      const dir = join(top, 'source-form');
      mkdirSync(dir);
      const token = join(top, 'token2');
      writeFileSync(token, 'sim-read\n', { mode: 0o600 });
      const tab = join(top, 'fstab2');
      writeFileSync(tab, `${BIN}#acme ${dir} fuse url=${sim.url},api_token_file=${token} 0 0\n`);
      const r = spawnSync('mount', ['-T', tab, dir], { encoding: 'utf8', timeout: 60000,
        env: { ...process.env, XDG_STATE_HOME: state } });
      try {
        assert.equal(r.status, 0, `mount -T: exit ${r.status}, stderr ${JSON.stringify(r.stderr)}; ` +
          `by hand: ${JSON.stringify(shStatus(`TWINGATE_API_TOKEN_FILE=${q(token)} ${q(BIN)} acme ` +
            `${q(dir)} -f -o url=${sim.url}`).stderr)}`);
        assert.ok(isMounted(dir));
      } finally {
        if (isMounted(dir)) spawnSync('umount', [dir]);
      }
    });
});

// ---------------------------------------------------------------------------

// A systemd unit file: { section: { key: [values] } } (continuation lines
// and quoting are not used by the example, and are refused here).
function parseUnit(text) {
  const out = {};
  let sec = null;
  text.split('\n').forEach((raw, i) => {
    const l = raw.trim();
    if (l === '' || l.startsWith('#') || l.startsWith(';')) return;
    assert.ok(!l.endsWith('\\'), `line ${i + 1}: no continuation lines`);
    const s = l.match(/^\[([A-Za-z]+)\]$/);
    if (s) { sec = s[1]; out[sec] ??= {}; return; }
    const kv = l.match(/^([A-Za-z]+)=(.*)$/);
    assert.ok(kv && sec, `line ${i + 1} is "Key=value" in a section: ${raw}`);
    (out[sec][kv[1]] ??= []).push(kv[2]);
  });
  return out;
}

describe('examples/twingatefs@.service', () => {
  const UNIT = join(EX, 'twingatefs@.service');
  const INSTANCE = 'acme';
  let sim, home, state;
  before(async () => {
    sim = await startSim(['--size', 'small', '--rate-read', '0']);
    home = mountTop();
    state = tempDir();
  });
  after(async () => {
    const mnt = join(home, 'tg', INSTANCE);
    if (isMounted(mnt)) spawnSync('fusermount3', ['-uz', mnt]);
    await sim?.stop();
    rmSync(home, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  });

  // The unit as it is, but with the program's path where it is built.
  const localUnit = () => readFileSync(UNIT, 'utf8')
    .replaceAll('/usr/local/bin/twingatefs', BIN);

  test('its keys: a foreground daemon, the token from a file, fusermount3 -u to stop', () => {
    const u = parseUnit(readFileSync(UNIT, 'utf8'));
    assert.deepEqual(Object.keys(u).sort(), ['Install', 'Service', 'Unit']);
    assert.deepEqual(u.Service.Type, ['exec']);
    assert.equal(u.Service.ExecStart.length, 1);
    assert.match(u.Service.ExecStart[0], /^\/usr\/local\/bin\/twingatefs -f %h\/tg\/%i( |$)/);
    assert.deepEqual(u.Service.ExecStop, ['/usr/bin/fusermount3 -u %h/tg/%i']);
    assert.ok(u.Service.Environment.includes('TWINGATE_API_TOKEN_FILE=%E/twingate/%i.token'));
    assert.ok(!/TWINGATE_API_TOKEN=/.test(readFileSync(UNIT, 'utf8')), 'no token in the unit');
    // Every program it runs, other than twingatefs itself, is where it says.
    for (const k of ['ExecStartPre', 'ExecStart', 'ExecStop']) {
      for (const v of u.Service[k] ?? []) {
        const prog = v.replace(/^[-@:+!]+/, '').split(/\s+/)[0];
        assert.ok(prog.startsWith('/'), `${k}: absolute path`);
        if (!prog.endsWith('/twingatefs')) assert.ok(existsSync(prog), `${prog} exists`);
      }
    }
  });

  test('systemd-analyze --user verify accepts it',
    { skip: !have('systemd-analyze') ? 'systemd-analyze is not installed' : false }, () => {
      const d = tempDir();
      try {
        const f = join(d, `twingatefs@${INSTANCE}.service`);
        writeFileSync(f, localUnit());
        const rt = join(d, 'run');
        mkdirSync(rt, { mode: 0o700 });
        const r = spawnSync('systemd-analyze', ['--user', 'verify', f], { encoding: 'utf8',
          env: { ...process.env, XDG_RUNTIME_DIR: rt, SYSTEMD_LOG_COLOR: '0' } });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stderr.trim(), '', 'no warning');
      } finally {
        rmSync(d, { recursive: true, force: true });
      }
    });

  // The unit's commands, run in its order with its environment (specifiers
  // expanded as a user manager does: %i instance, %h home, %E config home),
  // against the simulator: TWINGATE_URL, which wins over TWINGATE_NETWORK,
  // is the only addition.
  test('its ExecStartPre/ExecStart mount the tenant; ExecStop unmounts, the daemon exits 0', async () => {
    const u = parseUnit(localUnit());
    const expand = (s) => s.replaceAll('%i', INSTANCE).replaceAll('%h', home)
      .replaceAll('%E', join(home, '.config'));
    const env = { ...process.env, HOME: home, XDG_STATE_HOME: state,
                  TWINGATE_URL: sim.url, TWINGATE_API_TOKEN: '' };
    for (const e of u.Service.Environment) {
      const [k, ...v] = expand(e).split('=');
      env[k] = v.join('=');
    }
    assert.equal(env.TWINGATE_NETWORK, INSTANCE);
    mkdirSync(dirname(env.TWINGATE_API_TOKEN_FILE), { recursive: true });
    writeFileSync(env.TWINGATE_API_TOKEN_FILE, 'sim-read\n', { mode: 0o600 });
    const argv = (line) => expand(line).split(/\s+/);
    for (const pre of u.Service.ExecStartPre ?? []) {
      const ignore = pre.startsWith('-');
      const [cmd, ...args] = argv(pre.replace(/^-/, ''));
      const r = spawnSync(cmd, args, { env, encoding: 'utf8' });
      if (!ignore) assert.equal(r.status, 0, `${pre}: ${r.stderr}`);
    }
    const mnt = join(home, 'tg', INSTANCE);
    const [cmd, ...args] = argv(u.Service.ExecStart[0]);
    const proc = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '', exited = null;
    proc.stderr.on('data', (d) => { log += d; });
    proc.once('exit', (code, sig) => { exited = { code, sig }; });
    try {
      await waitFor(() => exited !== null || isMounted(mnt), 15000, 'the mount');
      assert.ok(isMounted(mnt), `ExecStart did not mount: ${JSON.stringify(exited)} ${log}`);
      const t = await sim.tenant();
      assert.deepEqual(lines(sh(`ls -A ${q(join(mnt, 'networks'))}`)).sort(),
        entryNames(t.remoteNetworks).sort());
      const [scmd, ...sargs] = argv(u.Service.ExecStop[0]);
      const r = spawnSync(scmd, sargs, { env, encoding: 'utf8' });
      assert.equal(r.status, 0, `ExecStop: ${r.stderr}`);
      await waitFor(() => exited !== null, 15000, 'the daemon to exit');
      assert.deepEqual(exited, { code: 0, sig: null }, log);
      assert.ok(!isMounted(mnt));
      const bad = log.match(/(ERROR: AddressSanitizer.*|ERROR: LeakSanitizer.*|runtime error:.*)/);
      assert.equal(bad, null, `sanitizer report from the daemon:\n${log}`);
    } finally {
      if (exited === null) proc.kill('SIGKILL');
    }
  });
});
