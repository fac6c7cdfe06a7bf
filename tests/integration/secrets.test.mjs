// secrets.test.mjs - what must never leak (DESIGN.md §1, §5): the API
// token is never in the daemon's command line or environment (from
// TWINGATE_API_TOKEN or a token file) nor in any log line, even with -d; a
// token file others may read is refused; connector tokens and key secrets
// are 0600, only in their own files, never in /.twingatefs/, the log or the
// state directory; TLS is always verified and plain http goes to loopback
// only; with allow_other the kernel checks the modes shown, so another
// user reads fields but writes nothing and reads no secret.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, mkdirSync, chmodSync, writeFileSync,
         rmSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { dirname, join } from 'node:path';
import { BIN, startSim, mount, sh, tempDir, teardown, isMounted } from './lib.mjs';
import { q, SIM_ARGS, NO_PACING, cost, assertUnchanged, run } from './writes.mjs';

// The simulator's provision-level token: it may generate connector
// tokens and create keys, so every secret there is can be made.
const API_TOKEN = 'sim-provision';
const CONNECTOR = 'networks/AWS prod/connectors/brisk otter';
const SA = 'service-accounts/ci-runner';

const proc = (pid, f) => readFileSync(`/proc/${pid}/${f}`).toString('latin1');

// Asserts @secret (and its first 24 characters, in case it is cut) is
// not in @text.
function notIn(text, secret, what) {
  assert.ok(secret && secret.length >= 8, `${what}: a real secret to look for`);
  assert.ok(!text.includes(secret), `${what} found`);
  if (secret.length > 24) assert.ok(!text.includes(secret.slice(0, 24)), `${what} (its start) found`);
}

// Asserts the daemon of mount @m has @token neither in its command line
// nor in its environment.
function assertNotInProc(m, token) {
  const pid = m.proc.pid;
  notIn(proc(pid, 'cmdline'), token, 'the API token in /proc/PID/cmdline');
  notIn(proc(pid, 'environ'), token, 'the API token in /proc/PID/environ');
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    notIn(proc(pid, `task/${tid}/environ`), token, `the API token in /proc/PID/task/${tid}/environ`);
  }
}

// Runs twingatefs without blocking the event loop (a server in this
// process must answer meanwhile); resolves to { status, stderr, ms }.
function runBinAsync(args, env = {}, timeout = 60000) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const p = spawn(BIN, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let stderr = '';
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeout);
    p.on('exit', (status) => { clearTimeout(timer); resolve({ status, stderr, ms: Date.now() - t0 }); });
  });
}

// Runs @cmd as user nobody in @cwd.
const NOBODY = 65534;
function asNobody(cmd, cwd) {
  const r = spawnSync('bash', ['-c', cmd], { cwd, uid: NOBODY, gid: NOBODY, encoding: 'utf8', timeout: 60000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// The mount's folder and its parent (mkdtemp made it 0700) open to others.
function openToOthers(m) {
  chmodSync(dirname(m.dir), 0o755);
}

// Every file below @dir (a real directory), recursively.
function walk(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

let sim;
before(async () => { sim = await startSim(SIM_ARGS); });
after(() => teardown(sim));

describe('the API token: never in argv, the environment or the log', () => {
  let dir, mnt;
  before(() => {
    dir = tempDir();
    mnt = join(dir, 'mnt');
    mkdirSync(mnt);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  // A token file @name holding the token, with @mode.
  function tokenFile(name, mode) {
    const f = join(dir, name);
    writeFileSync(f, `${API_TOKEN}\n`);
    chmodSync(f, mode);
    return f;
  }

  for (const [how, opts] of [
    ['TWINGATE_API_TOKEN', () => ({ token: API_TOKEN })],
    ['TWINGATE_API_TOKEN_FILE', () => ({ token: null,
      env: { TWINGATE_API_TOKEN: '', TWINGATE_API_TOKEN_FILE: tokenFile('env.token', 0o600) } })],
    ['-o api_token_file=', () => ({ token: null, opts: [`api_token_file=${tokenFile('opt.token', 0o600)}`],
      env: { TWINGATE_API_TOKEN: '' } })],
  ]) {
    test(`from ${how}: the mount works, and the token is not in cmdline, environ or the log`, async () => {
      const o = opts();
      const m = await mount(sim, { ...o, opts: [...NO_PACING, ...(o.opts ?? [])] });
      try {
        // The token is used: a read and a change go through.
        assert.equal(sh("cat 'networks/AWS prod/name'", m.dir), 'AWS prod\n');
        run('echo false > groups/Engineering/is-active && echo true > groups/Engineering/is-active', m.dir);
        assertNotInProc(m, API_TOKEN);
        notIn(m.log(), API_TOKEN, 'the API token in the log');
      } finally {
        await m.unmount();
      }
    });
  }

  for (const mode of [0o640, 0o604, 0o644, 0o660, 0o606, 0o400 | 0o040]) {
    for (const via of ['TWINGATE_API_TOKEN_FILE', '-o api_token_file=']) {
      test(`a token file of mode ${mode.toString(8).padStart(4, '0')} (via ${via}) is refused: exit 1, the message names it`,
        async () => {
          const f = tokenFile(`mode-${mode.toString(8)}.token`, mode);
          const args = [mnt, '-f', '-o', `url=${sim.url}${via.startsWith('-o') ? `,api_token_file=${f}` : ''}`];
          const env = { TWINGATE_API_TOKEN: '', ...(via.startsWith('-o') ? {} : { TWINGATE_API_TOKEN_FILE: f }) };
          const { r, st } = await cost(sim, () => runBinAsync(args, env));
          assert.equal(r.status, 1, r.stderr);
          const ls = r.stderr.trim().split('\n');
          assert.equal(ls.length, 1, `one line: ${r.stderr}`);
          assert.ok(ls[0].includes(f), `the message names ${f}: ${ls[0]}`);
          assert.match(ls[0], /may be read by others/);
          notIn(r.stderr, API_TOKEN, 'the API token in the message');
          assert.equal(st.requests, 0, 'refused before any request');
          assert.equal(isMounted(mnt), false);
        });
    }
  }

  test('in the background too (no -f), a readable token file is told on stderr', async () => {
    const f = tokenFile('bg.token', 0o644);
    const r = await runBinAsync([mnt, '-o', `url=${sim.url},api_token_file=${f}`], { TWINGATE_API_TOKEN: '' });
    assert.equal(r.status, 1);
    assert.ok(r.stderr.includes(f), r.stderr);
    assert.equal(isMounted(mnt), false);
  });
});

// With -d the daemon logs every FUSE request: a synchronous command or
// file call here would stop this process from draining the daemon's
// stderr, the pipe would fill and the daemon (then the command) would
// hang.  So this block runs everything asynchronously.
function ash(cmd, cwd) {
  return new Promise((resolve) => {
    const p = spawn('bash', ['-c', cmd], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), 120000);
    p.on('exit', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}
async function arun(cmd, cwd) {
  const r = await ash(cmd, cwd);
  assert.equal(r.status, 0, `\`${cmd}\` failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

describe('with -d: secrets in their 0600 files only, never logged', () => {
  let m, stateDir, before0;
  const KEY = `${SA}/keys/secrets-test-key`;
  const s = {}; // the secrets made here

  before(async () => {
    stateDir = tempDir();
    before0 = await sim.tenant();
    m = await mount(sim, { token: API_TOKEN, args: ['-d'], opts: NO_PACING,
      env: { XDG_STATE_HOME: stateDir } });
    // Reads of the whole tree, a change, a refused change.
    await arun('find . -type f -exec cat {} + > /dev/null', m.dir);
    await arun('echo false > groups/Engineering/is-active && echo true > groups/Engineering/is-active', m.dir);
    const bad = await ash("echo maybe > 'networks/AWS prod/is-active'", m.dir);
    assert.match(bad.stderr, /Invalid argument/);
    // Before any generation the tokens file is empty, and reading it
    // generates nothing.
    const { r: empty, st } = await cost(sim, () => arun(`cat ${q(`${CONNECTOR}/tokens`)}`, m.dir));
    assert.equal(empty, '');
    assert.equal(st.mutations, 0);
    // Connector tokens, and a key with its secret.
    await arun(`echo > ${q(`${CONNECTOR}/tokens`)}`, m.dir);
    const tokens = await arun(`cat ${q(`${CONNECTOR}/tokens`)}`, m.dir);
    const mt = tokens.match(/^TWINGATE_ACCESS_TOKEN=(\S+)\nTWINGATE_REFRESH_TOKEN=(\S+)\n$/);
    assert.ok(mt, `the tokens file: ${tokens.length} bytes`);
    [, s.access, s.refresh] = mt;
    await arun(`mkdir ${q(KEY)}`, m.dir);
    s.key = (await arun(`cat ${q(`${KEY}/token`)}`, m.dir)).trim();
    assert.ok(s.key.length >= 16, 'the new key shows its secret');
    // Once more, as a user would: status files, the secret files again.
    await arun('cat .twingatefs/status .twingatefs/stats .twingatefs/errors > /dev/null', m.dir);
    await arun(`cat ${q(`${CONNECTOR}/tokens`)} ${q(`${KEY}/token`)} > /dev/null`, m.dir);
  });
  after(async () => {
    await teardown(m);
    rmSync(stateDir, { recursive: true, force: true });
  });

  const all = () => [['the API token', API_TOKEN], ['the access token', s.access],
    ['the refresh token', s.refresh], ['the key secret', s.key]];

  test('-d logs (every FUSE request), and no secret is in the log', () => {
    const log = m.log();
    assert.match(log, /unique: \d+, opcode: (LOOKUP|GETATTR|READ)/, 'libfuse debug lines');
    assert.match(log, /opcode: WRITE/);
    for (const [what, secret] of all()) notIn(log, secret, `${what} in the daemon log`);
  });

  test('the tokens file and the key\'s token file are mode 0600', async () => {
    const out = await arun(`stat -c '%a %F' ${q(`${CONNECTOR}/tokens`)} ${q(`${KEY}/token`)}`, m.dir);
    assert.deepEqual(out.split('\n').filter(Boolean), ['600 regular file', '600 regular file']);
  });

  test('no secret in /.twingatefs/ (status, stats, errors)', async () => {
    const errors = await arun('cat .twingatefs/errors', m.dir);
    assert.ok(errors.includes('/networks/AWS prod/is-active'), 'errors holds the refused write');
    for (const f of ['status', 'stats', 'errors']) {
      const text = await arun(`cat .twingatefs/${f}`, m.dir);
      assert.ok(text.length > 0, `${f} is not empty`);
      for (const [what, secret] of all()) notIn(text, secret, `${what} in /.twingatefs/${f}`);
    }
  });

  test('each secret is in its own file and nowhere else in the tree (object.json included)', async () => {
    const found = async (secret) => (await ash(`grep -rlF -- ${q(secret)} .`, m.dir)).stdout.split('\n')
      .filter(Boolean).sort();
    assert.deepEqual(await found(s.access), [`./${CONNECTOR}/tokens`]);
    assert.deepEqual(await found(s.refresh), [`./${CONNECTOR}/tokens`]);
    assert.deepEqual(await found(s.key), [`./${KEY}/token`]);
    assert.deepEqual(await found(API_TOKEN), []);
    for (const f of [`${CONNECTOR}/object.json`, `${KEY}/object.json`]) {
      const text = await arun(`cat ${q(f)}`, m.dir);
      for (const [what, secret] of all()) notIn(text, secret, `${what} in ${f}`);
    }
  });

  test('the API token is not in the daemon\'s cmdline or environ', () => {
    assertNotInProc(m, API_TOKEN);
    for (const [what, secret] of all().slice(1)) notIn(proc(m.proc.pid, 'environ'), secret, what);
  });

  test('after unmount: no secret in the state directory, and none in the log', async () => {
    await m.unmount();
    const log = m.log();
    m = null;
    for (const [what, secret] of all()) notIn(log, secret, `${what} in the daemon log`);
    const files = walk(stateDir);
    assert.ok(files.length > 0, `the state directory holds the first-seen times (${stateDir})`);
    for (const f of files) {
      const text = readFileSync(f).toString('latin1');
      for (const [what, secret] of all()) notIn(text, secret, `${what} in ${f}`);
    }
  });

  test('what this block changed in the tenant: the key only (tokens are not tenant state)', async () => {
    const now = await sim.tenant();
    const added = now.serviceAccountKeys.filter((k) => !before0.serviceAccountKeys.some((o) => o.id === k.id));
    assert.deepEqual(added.map((k) => k.name), ['secrets-test-key']);
  });
});

describe('TLS is always verified; plain http only to loopback', () => {
  const haveOpenssl = spawnSync('openssl', ['version']).status === 0;
  let dir, server, port, seen, tlsErrors, cert;
  const mnt = () => join(dir, 'mnt');

  before(async () => {
    dir = tempDir();
    mkdirSync(join(dir, 'mnt'));
    if (!haveOpenssl) return;
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem',
      '-out', 'cert.pem', '-days', '2', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    cert = readFileSync(join(dir, 'cert.pem'));
    seen = 0;
    tlsErrors = 0;
    // A TLS front of the simulator: with its certificate trusted, it
    // answers as the simulator does.
    server = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, async (req, res) => {
      seen++;
      let body = '';
      for await (const c of req) body += c;
      const a = await fetch(sim.url, { method: 'POST', body,
        headers: { 'content-type': 'application/json', 'x-api-key': req.headers['x-api-key'] ?? '' } });
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(await a.text());
    });
    server.on('tlsClientError', () => { tlsErrors++; });
    await new Promise((r2) => server.listen(0, '127.0.0.1', r2));
    port = server.address().port;
  });
  after(async () => {
    if (server) await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  test('the TLS front works for a client that trusts its certificate', { skip: !haveOpenssl && 'openssl is not installed' },
    async () => {
      const body = await new Promise((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port, path: '/api/graphql/', method: 'POST', ca: cert,
          headers: { 'content-type': 'application/json', 'x-api-key': 'sim-read' } }, (res) => {
          let b = '';
          res.on('data', (d) => { b += d; });
          res.on('end', () => resolve(b));
        });
        req.on('error', reject);
        req.end(JSON.stringify({ query: '{ remoteNetworks(first: 1) { edges { node { name } } } }' }));
      });
      assert.match(body, /AWS prod/);
    });

  for (const host of ['127.0.0.1', 'localhost']) {
    test(`https://${host}:PORT with a self-signed certificate: the mount fails, nothing is sent`,
      { skip: !haveOpenssl && 'openssl is not installed' }, async () => {
        const seen0 = seen, errs0 = tlsErrors;
        const r = await runBinAsync([mnt(), '-f', '-o', `url=https://${host}:${port}/api/graphql/,retries=0,timeout=5`],
          { TWINGATE_API_TOKEN: API_TOKEN });
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stderr, /cannot mount/);
        assert.match(r.stderr, /certificate|SSL|TLS/i, r.stderr);
        assert.equal(seen - seen0, 0, 'no request reached the server');
        assert.ok(tlsErrors > errs0, 'the client broke off the handshake');
        assert.equal(isMounted(mnt()), false);
        notIn(r.stderr, API_TOKEN, 'the API token in the message');
      });
  }

  for (const [how, args, env] of [
    ['-o url=http://10.255.255.1/', (m) => [m, '-f', '-o', 'url=http://10.255.255.1/api/graphql/,timeout=20'], {}],
    ['TWINGATE_URL=http://10.255.255.1/', (m) => [m, '-f', '-o', 'timeout=20'],
      { TWINGATE_URL: 'http://10.255.255.1/api/graphql/' }],
    ['-o url=http://127.0.0.1.example.com/', (m) => [m, '-f', '-o', 'url=http://127.0.0.1.example.com/,timeout=20'], {}],
    ['-o url=http://localhost.example.com/', (m) => [m, '-f', '-o', 'url=http://localhost.example.com/,timeout=20'], {}],
  ]) {
    test(`plain http to a non-loopback host is refused before any connection: ${how}`, async () => {
      const r = await runBinAsync(args(mnt()), { TWINGATE_API_TOKEN: API_TOKEN, ...env });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /only https/);
      // A connection attempt to a black hole would wait for the timeout.
      assert.ok(r.ms < 5000, `refused at once (${r.ms} ms)`);
      assert.equal(isMounted(mnt()), false);
    });
  }

  // A listener on this machine's own non-loopback address: proof that no
  // connection is even tried.
  const ext = Object.values(networkInterfaces()).flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  async function listener() {
    const conns = [];
    const srv = net.createServer((c) => {
      const rec = { data: '' };
      conns.push(rec);
      c.on('data', (d) => { rec.data += d; });
      c.on('error', () => {});
      c.end('HTTP/1.1 500 No\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    });
    await new Promise((r) => srv.listen(0, ext, r));
    return { conns, port: srv.address().port, close: () => new Promise((r) => srv.close(r)) };
  }

  test(`plain http to this machine's non-loopback address (${ext}) makes no connection`,
    { skip: !ext && 'no non-loopback IPv4 address here' }, async () => {
      const l = await listener();
      try {
        const r = await runBinAsync([mnt(), '-f', '-o', `url=http://${ext}:${l.port}/api/graphql/,retries=0,timeout=3`],
          { TWINGATE_API_TOKEN: API_TOKEN });
        assert.equal(r.status, 1);
        assert.match(r.stderr, /only https/);
        assert.equal(l.conns.length, 0, 'no connection');
      } finally {
        await l.close();
      }
    });

  for (const userinfo of ['127.0.0.1:1', 'localhost:x', '[::1]:1']) {
    test(`http://${userinfo}@<non-loopback>/ (a loopback-looking user:password) is refused, no connection`,
      { skip: !ext && 'no non-loopback IPv4 address here' },
      async () => {
        const l = await listener();
        try {
          const r = await runBinAsync([mnt(), '-f', '-o',
            `url=http://${userinfo}@${ext}:${l.port}/api/graphql/,retries=0,timeout=3`],
          { TWINGATE_API_TOKEN: API_TOKEN });
          assert.equal(r.status, 1);
          const leaked = l.conns.some((c) => c.data.toLowerCase().includes(`x-api-key: ${API_TOKEN}`));
          assert.equal(l.conns.length, 0,
            `no connection (got ${l.conns.length}${leaked ? ', the API token sent in clear text' : ''})`);
          assert.match(r.stderr, /only https/);
        } finally {
          await l.close();
        }
      });
  }
});

describe('allow_other: only with default_permissions; other users read fields, nothing more', () => {
  let m, plain;
  const KEY = `${SA}/keys/nobody-test-key`;
  before(async () => {
    m = await mount(sim, { token: API_TOKEN, opts: [...NO_PACING, 'allow_other'] });
    plain = await mount(sim, { token: API_TOKEN, opts: NO_PACING });
    openToOthers(m);
    openToOthers(plain);
    // Secrets to guard: connector tokens and a new key's secret.
    run(`echo > ${q(`${CONNECTOR}/tokens`)}`, m.dir);
    run(`mkdir ${q(KEY)}`, m.dir);
    assert.match(sh(`cat ${q(`${CONNECTOR}/tokens`)}`, m.dir), /^TWINGATE_ACCESS_TOKEN=/);
    assert.ok(sh(`cat ${q(`${KEY}/token`)}`, m.dir).trim().length >= 16);
  });
  after(() => teardown(m, plain));

  test('the mount carries default_permissions with allow_other', () => {
    const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
      .find((l) => l.split(' ')[4] === m.dir);
    assert.match(line, /\ballow_other\b/);
    assert.match(line, /\bdefault_permissions\b/);
  });

  test('nobody reads a field file and lists folders', () => {
    let r = asNobody("cat 'networks/AWS prod/name'", m.dir);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'AWS prod\n');
    r = asNobody('ls groups', m.dir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Engineering/);
  });

  test('nobody cannot write a field, make or remove objects: EACCES, nothing sent', async () => {
    const t = await sim.tenant();
    const { st } = await cost(sim, () => {
      for (const cmd of ["echo 'x' > 'networks/AWS prod/name'", "echo false > 'networks/AWS prod/is-active'",
        "printf '{}' > groups/Engineering/object.json", 'mkdir networks/nobodys-net',
        'rmdir groups/.contractors', 'mv resources/grafana resources/grafana2',
        "touch 'networks/AWS prod/.name.swp'",
        "ln -s ../../../users/alan.turing@example.com 'groups/Engineering/users/alan.turing@example.com'"]) {
        const r = asNobody(cmd, m.dir);
        assert.notEqual(r.status, 0, `${cmd} as nobody`);
        assert.match(r.stderr, /Permission denied/, `${cmd}: ${r.stderr}`);
      }
    });
    assert.equal(st.mutations, 0, JSON.stringify(st.fields));
    await assertUnchanged(sim, t, 'as nobody');
    assert.equal(sh("cat 'networks/AWS prod/name'", m.dir), 'AWS prod\n');
  });

  test('nobody cannot read the connector tokens or a key\'s secret, nor generate tokens', async () => {
    const { st } = await cost(sim, () => {
      for (const f of [`${CONNECTOR}/tokens`, `${KEY}/token`]) {
        const r = asNobody(`cat ${q(f)}`, m.dir);
        assert.notEqual(r.status, 0, `cat ${f} as nobody`);
        assert.match(r.stderr, /Permission denied/);
        assert.equal(r.stdout, '');
      }
      const r = asNobody(`echo > ${q(`${CONNECTOR}/tokens`)}`, m.dir);
      assert.match(r.stderr, /Permission denied/);
    });
    assert.equal(st.mutations, 0, 'no token generated');
  });

  test('without allow_other, nobody cannot even read a field', () => {
    const r = asNobody(`cat ${q(`${plain.dir}/networks/AWS prod/name`)}`, '/');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Permission denied/);
    const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
      .find((l) => l.split(' ')[4] === plain.dir);
    assert.doesNotMatch(line, /allow_other/);
  });
});
