// cli.test.mjs - the command line (issue 7 item 1): --help and --version,
// a bad option or value is named on stderr before any request, and a
// daemon (no -f) logs to syslog.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync as rm } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { BIN, startSim, runBin, tempDir, rmSync, isMounted, waitFor, teardown } from './lib.mjs';

describe('twingatefs --help and --version', () => {
  test('--help lists our options, the environment and the FUSE options, grouped', () => {
    const r = runBin(['--help']);
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout + r.stderr;
    for (const o of ['network=', 'url=', 'api_token_file=', 'cache_ttl=', 'page_size=', 'batch_pages=',
      'rate_read=', 'rate_write=', 'timeout=', 'retries=', 'max_wait=', 'uid=']) {
      assert.ok(out.includes(`-o ${o}`), `${o} in --help`);
    }
    for (const v of ['TWINGATE_NETWORK', 'TWINGATE_URL', 'TWINGATE_API_TOKEN', 'TWINGATE_API_TOKEN_FILE']) {
      assert.ok(out.includes(v), `${v} in --help`);
    }
    const groups = ['twingatefs options:', 'environment:', 'FUSE options:'].map((g) => out.indexOf(g));
    assert.ok(groups.every((i) => i >= 0), 'three groups');
    assert.deepEqual([...groups].sort((a, b) => a - b), groups, 'in this order');
    assert.match(out, /-f +foreground/);
  });

  test('--version names ours, libfuse and libcurl', () => {
    const r = runBin(['--version']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^twingatefs \d+\.\d+\.\d+\n/);
    assert.match(r.stdout, /libfuse 3\.\d+/);
    assert.match(r.stdout, /libcurl\/\d/);
  });
});

describe('meson install', () => {
  // BIN is <build>/fs/twingatefs; install that build into a scratch root.
  const build = dirname(dirname(BIN));
  test('puts the program in bin/ and twingatefs.1 in share/man/man1/', { skip: !existsSync(join(build, 'build.ninja')) && 'BIN is not in a meson build' }, () => {
    const dest = tempDir();
    try {
      const r = spawnSync('meson', ['install', '-C', build, '--no-rebuild', '--destdir', dest],
        { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      const prefix = spawnSync('meson', ['introspect', build, '--buildoptions'], { encoding: 'utf8' });
      const opts = JSON.parse(prefix.stdout);
      const get = (name) => opts.find((o) => o.name === name).value;
      const root = join(dest, get('prefix'));
      const bin = join(root, get('bindir'), 'twingatefs');
      const man = join(root, get('mandir'), 'man1', 'twingatefs.1');
      assert.ok(existsSync(bin), `${bin} installed`);
      assert.ok(existsSync(man), `${man} installed`);
      const v = spawnSync(bin, ['--version'], { encoding: 'utf8' });
      assert.match(v.stdout, /^twingatefs /);
      const page = spawnSync('man', ['-l', man], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '80' } });
      if (page.status === 0) assert.match(page.stdout, /CAVEATS/);
      else assert.match(readFileSync(man, 'utf8'), /^\.SH CAVEATS$/m);
    } finally {
      rmSync(dest, { recursive: true, force: true });
    }
  });
});

describe('a bad option is named, and nothing is sent', () => {
  let sim, dir;
  before(async () => {
    sim = await startSim(['--size', 'tiny']);
    dir = tempDir();
  });
  after(async () => {
    await teardown(sim);
    rmSync(dir, { recursive: true, force: true });
  });

  const cases = [
    ['-o', 'bogus=1', /unknown option.*bogus=1/],
    ['--bogus', null, /unknown option.*--bogus/],
    ['-o', 'page_size=0', /page_size=0 is out of range/],
    ['-o', 'batch_pages=1000', /batch_pages=1000 is out of range/],
    ['-o', 'concurrency=0', /concurrency=0 is out of range \(1 to 16\)/],
    ['-o', 'concurrency=17', /concurrency=17 is out of range \(1 to 16\)/],
    ['-o', 'timeout=0', /timeout=0 is out of range/],
    ['-o', 'retries=99', /retries=99 is out of range/],
    ['-o', 'timeout=abc', /invalid parameter in option `timeout=abc'/],
    ['-o', 'umask=9', /umask=9 is not an octal mode/],
    ['-o', 'url=ftp://127.0.0.1/', /refusing ftp:\/\/127\.0\.0\.1\/: only https/],
  ];
  for (const [flag, value, want] of cases) {
    test(`${flag}${value ? ` ${value}` : ''}: exit 1, one line naming it, no request, no mount`, async () => {
      await sim.resetStats();
      // Our url first: a later url= (the last case) wins, as any option does.
      const args = [dir, '-f', '-o', `url=${sim.url}`, flag, ...(value ? [value] : [])];
      const r = runBin(args, { TWINGATE_API_TOKEN: 'sim-read' });
      assert.equal(r.status, 1, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], want);
      assert.equal((await sim.stats()).requests, 0, 'no request');
      assert.equal(isMounted(dir), false);
    });
  }
});

// syslog(3) writes datagrams to /dev/log.  A machine without a syslog
// daemon (this container) has no /dev/log: the test listens there itself,
// and removes it on every exit path.  With a real /dev/log (journald), it
// is skipped rather than stealing the system's log.
const haveDevLog = existsSync('/dev/log');
describe('in the background, the log goes to syslog', { skip: haveDevLog && '/dev/log belongs to the system here' }, () => {
  let sim, dir, listener, lines = [];
  const cleanup = () => {
    if (dir && isMounted(dir)) spawnSync('fusermount3', ['-uz', dir]);
    try { listener?.kill('SIGKILL'); } catch { /* gone */ }
    if (!haveDevLog) rm('/dev/log', { force: true });
  };
  process.on('exit', cleanup);
  before(async () => {
    sim = await startSim(['--size', 'tiny']);
    dir = tempDir();
    listener = spawn('python3', ['-u', '-c', `
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('/dev/log')
os.chmod('/dev/log', 0o666)
print('ready', flush=True)
while True:
    print(s.recv(65536).decode('utf-8', 'replace'), flush=True)
`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const rl = createInterface({ input: listener.stdout });
    rl.on('line', (l) => lines.push(l));
    await waitFor(() => lines.includes('ready'), 10000, 'the /dev/log listener');
  });
  after(async () => {
    cleanup();
    await teardown(sim);
    rmSync(dir, { recursive: true, force: true });
  });

  test('warnings of a daemonized mount reach /dev/log as twingatefs[pid], without the token', async () => {
    const token = 'sim-read';
    const r = runBin([dir, '-o', `url=${sim.url},retries=1`], { TWINGATE_API_TOKEN: token });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '', 'nothing on stderr once daemonized');
    assert.ok(isMounted(dir));
    // Two 500s: the read is retried once, then fails; each is a warning.
    assert.equal(await sim.post('/_sim/faults', { match: 'any', status: 500, count: 2 }), 200);
    const ls = spawnSync('ls', [`${dir}/devices`], { encoding: 'utf8' });
    assert.notEqual(ls.status, 0);
    await waitFor(() => lines.some((l) => /server error: HTTP 500/.test(l)), 10000, 'the warning in syslog');
    const ours = lines.filter((l) => /twingatefs\[\d+\]:/.test(l));
    assert.ok(ours.length >= 2, lines.join('\n'));
    assert.match(ours[0], /^<\d+>/, 'a syslog priority');
    for (const l of lines) assert.ok(!l.includes(token), `no token in: ${l}`);
    assert.equal(spawnSync('fusermount3', ['-u', dir]).status, 0);
    await waitFor(() => !isMounted(dir), 10000, 'the unmount');
  });
});
