// mount.test.mjs - mounting: the check at mount, and the ways it must
// refuse (bad token, unreachable endpoint, plain http to a remote host,
// a token file others can read, no token at all).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSim, mount, runBin, tempDir, writeFileSync, chmodSync,
         rmSync, isMounted } from './lib.mjs';

describe('mounting', () => {
  let sim, dir;
  before(async () => {
    sim = await startSim(['--size', 'tiny']);
    dir = tempDir();
  });
  after(async () => {
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a wrong token fails the mount with one line and exit 1', async () => {
    await sim.resetStats();
    const r = runBin([dir, '-f', '-o', `url=${sim.url}`],
      { TWINGATE_API_TOKEN: 'not-a-token' });
    assert.equal(r.status, 1);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /token was refused/);
    assert.equal(isMounted(dir), false);
    assert.equal((await sim.stats()).requests, 1, 'one check request');
  });

  test('right after mounting, status tells what the check saw: reachable, and when', async () => {
    const before = Math.floor(Date.now() / 1000);
    const m = await mount(sim);
    try {
      // nothing was read through the mount yet: the check is the last request
      const st = readFileSync(join(m.dir, '.twingatefs/status'), 'utf8');
      assert.match(st, /(^|\n)reachable: yes\n/, st);
      const when = st.match(/(^|\n)last-success: (\S+)\n/);
      assert.ok(when, st);
      const t = Date.parse(when[2]) / 1000;
      assert.ok(t >= before - 1 && t <= Date.now() / 1000 + 1, `last-success ${when[2]}`);
      assert.match(readFileSync(join(m.dir, '.twingatefs/stats'), 'utf8'), /(^|\n)requests: 0\n/);
    } finally {
      await m.unmount();
    }
  });

  test('an unreachable endpoint fails the mount within the timeout', () => {
    const t0 = Date.now();
    const r = runBin([dir, '-f', '-o', 'url=http://127.0.0.1:9/api/graphql/,retries=0'],
      { TWINGATE_API_TOKEN: 'sim-read' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /could not be reached/);
    assert.equal(r.stderr.trim().split('\n').filter((l) => /cannot mount/.test(l)).length, 1);
    assert.ok(Date.now() - t0 < 20000);
    assert.equal(isMounted(dir), false);
  });

  test('plain http is refused for a non-loopback host', () => {
    const r = runBin([dir, '-f', '-o', 'url=http://example.com/api/graphql/'],
      { TWINGATE_API_TOKEN: 'sim-read' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /only https/);
  });

  test('no token at all is a clear error', () => {
    const r = runBin([dir, '-f', '-o', `url=${sim.url}`],
      { TWINGATE_API_TOKEN: '', TWINGATE_API_TOKEN_FILE: '' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no API token/);
  });

  test('a token file others may read is refused; mode 0600 is used', async () => {
    const f = `${dir}.token`;
    writeFileSync(f, 'sim-read\n');
    chmodSync(f, 0o644);
    let r = runBin([dir, '-f', '-o', `url=${sim.url},api_token_file=${f}`],
      { TWINGATE_API_TOKEN: '' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /may be read by others/);
    chmodSync(f, 0o600);
    const m = await mount(sim, { token: null, opts: [`api_token_file=${f}`],
      env: { TWINGATE_API_TOKEN: '' } });
    try {
      assert.ok(isMounted(m.dir));
    } finally {
      await m.unmount();
      rmSync(f);
    }
  });

  test('the token is not in the daemon\'s command line or environment', async () => {
    const m = await mount(sim, { token: 'sim-read' });
    try {
      const pid = m.proc.pid;
      const { readFileSync } = await import('node:fs');
      assert.doesNotMatch(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /sim-read/);
      assert.doesNotMatch(readFileSync(`/proc/${pid}/environ`, 'utf8'), /sim-read/);
    } finally {
      await m.unmount();
    }
  });

  // Without -f the daemon forks only once mounted: what went wrong before
  // that reaches the caller's stderr (mount(8) from fstab shows it).
  test('in the background, a bad mount point or option is told on stderr, one line', () => {
    let r = runBin(['/nonexistent/tg', '-o', `url=${sim.url}`], { TWINGATE_API_TOKEN: 'sim-read' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /bad mount point .\/nonexistent\/tg/);
    r = runBin([dir, '-o', `url=${sim.url},no_such_option`], { TWINGATE_API_TOKEN: 'sim-read' });
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /unknown option.*no_such_option/);
    assert.equal(isMounted(dir), false);
    r = runBin(['a', 'b', 'c'], { TWINGATE_API_TOKEN: 'sim-read' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /too many arguments: 'c'/);
  });

  test('a source before the mount point names the tenant (fstab); -o url= wins', async () => {
    // Without url=, the source is the tenant: https://<source>.twingate.com,
    // which is not reachable here, and the message names it.
    let r = runBin(['acme-corp', dir, '-f', '-o', 'retries=0,timeout=2'],
      { TWINGATE_API_TOKEN: 'sim-read', TWINGATE_NETWORK: '' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /https:\/\/acme-corp\.twingate\.com\/api\/graphql\//);
    r = runBin(['twingatefs#bad name!', dir, '-f'],
      { TWINGATE_API_TOKEN: 'sim-read', TWINGATE_NETWORK: '' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /bad network name/);
    const m = await mount(sim, { token: 'sim-read', source: 'twingatefs#acme' });
    try {
      assert.ok(isMounted(m.dir));
    } finally {
      await m.unmount();
    }
  });

  test('allow_other comes with default_permissions: others get the modes shown', async () => {
    const m = await mount(sim, { token: 'sim-read', opts: ['allow_other'] });
    try {
      const line = (await import('node:fs')).readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n').find((l) => l.split(' ')[4] === m.dir);
      assert.match(line, /default_permissions/);
      assert.match(line, /allow_other/);
    } finally {
      await m.unmount();
    }
  });
});
