// lib.mjs - the integration tests' harness: a simulator process, a real
// twingatefs mount against it, shell commands run as a user would, and
// clean-up on every exit path.
//
// Mount points live under /tmp/tgfs-it-*; any left mounted by a crashed
// run are lazily unmounted when this module loads, so a stale mount never
// breaks the next run.  The daemon's stderr is kept; at unmount it is
// checked for sanitizer reports, which fail the test.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync,
         mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..', '..');
export const BIN = process.env.TWINGATEFS_BIN ||
  join(root, 'build', 'fs', 'twingatefs');
const SIM = join(root, 'tests', 'sim', 'server.mjs');
const PREFIX = 'tgfs-it-';

// ---- fault mode: TGFS_FAULTS=1 (README.md in this folder) ----
// Every simulator startSim() starts answers about 10% of GraphQL requests
// with a fault (the /_sim endpoints are never faulted): 5xx, a delay past
// the client's timeout, a dropped connection, a truncated or malformed
// body, a 429, a storm of 429s.  Mounts then default to timeout=2 (a
// test's own timeout= comes later in -o and wins), so a delayed answer
// is a timeout.  TGFS_FAULTS_SEED=N picks another fault sequence.
export const FAULTS = process.env.TGFS_FAULTS === '1';
export const FAULT_TIMEOUT_S = 2;
export const RANDOM_FAULTS = {
  match: 'any', rate: 0.1, seed: Number(process.env.TGFS_FAULTS_SEED || 1),
  kinds: ['status500', 'status503', 'delay', 'drop', 'truncate', 'malformed', 'status429', 'storm429'],
  delayMs: 3000, retryAfter: 1, storm: 5,
};
// False in fault mode: a test asserting exact request counts (or that a
// read costs no retry) is skipped then, e.g. test('...', { skip: !exactCounts() }, ...).
export function exactCounts() { return !FAULTS; }

const children = new Set();
const mounts = new Set();

function mountedPaths() {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' ')[4]).filter(Boolean)
    .map((p) => p.replace(/\\040/g, ' '));
}

export function isMounted(dir) {
  return mountedPaths().includes(dir);
}

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; }
}

// Lazily unmounts what a crashed run left behind: mount points carry the
// pid of the test process that made them, and only those whose process
// is gone are stale (test files run in parallel).
export function cleanStale() {
  const re = new RegExp(`^${join(tmpdir(), PREFIX)}(\\d+)-`);
  for (const p of mountedPaths()) {
    const m = p.match(re);
    if (m && !alive(Number(m[1]))) spawnSync('fusermount3', ['-uz', p]);
  }
}
cleanStale();

function cleanupAll() {
  for (const m of mounts) spawnSync('fusermount3', ['-uz', m]);
  for (const c of children) { try { c.kill('SIGKILL'); } catch { /* gone */ } }
}
process.on('exit', cleanupAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { cleanupAll(); process.exit(130); });
}

// Unmounts each mount and stops each simulator given (nulls skipped), all
// of them even when one fails (a sanitizer report fails an unmount); then
// throws the first failure.  A simulator left running would keep the test
// process alive after its tests end.
export async function teardown(...things) {
  let first;
  for (const x of things) {
    if (!x) continue;
    try {
      if (x.unmount) await x.unmount(); else await x.stop();
    } catch (e) { first ??= e; }
  }
  if (first) throw first;
}

// Waits for cond() to be true, polling, at most ms milliseconds.
export async function waitFor(cond, ms = 10000, what = 'condition') {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// Starts the simulator; resolves once it printed its URL.
export async function startSim(args = []) {
  const proc = spawn(process.execPath, [SIM, '--port', '0', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const url = await new Promise((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout });
    const timer = setTimeout(() => reject(new Error('simulator did not start: ' + stderr)), 20000);
    rl.once('line', (l) => { clearTimeout(timer); resolve(l.trim()); });
    proc.once('exit', (code) => reject(new Error(`simulator exited ${code}: ${stderr}`)));
  });
  const base = url.replace(/\/api\/graphql\/$/, '');
  const sim = {
    url, base, proc,
    async get(path) { return (await fetch(base + path)).json(); },
    async post(path, body) {
      const r = await fetch(base + path, { method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? '' : JSON.stringify(body) });
      return r.status;
    },
    stats() { return sim.get('/_sim/stats'); },
    resetStats() { return sim.post('/_sim/stats/reset'); },
    tenant() { return sim.get('/_sim/tenant'); },
    // In fault mode the random faults stay armed behind a test's own list
    // (its entries match first; [] leaves only the random ones).
    faults(list) {
      if (!FAULTS) return sim.post('/_sim/faults', list);
      return sim.post('/_sim/faults', [...[list ?? []].flat(), RANDOM_FAULTS]);
    },
    config(cfg) { return sim.post('/_sim/config', cfg); },
    async gql(query, variables = {}, token = 'sim-write') {
      const r = await fetch(url, { method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': token },
        body: JSON.stringify({ query, variables }) });
      return { status: r.status, body: await r.json() };
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode) return;
      const done = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await done;
      children.delete(proc);
    },
  };
  if (FAULTS) {
    const st = await sim.faults([]);
    if (st !== 200) {
      await sim.stop(); // a simulator left running keeps the test process alive
      throw new Error(`the simulator refused the fault mode (HTTP ${st})`);
    }
  }
  return sim;
}

// Runs twingatefs in the foreground on a new folder.  Resolves once the
// mount is there; rejects with the daemon's stderr if it exits first.
// @source, when given, goes before the mount point (as mount.fuse3 does).
export async function mount(sim, { token = 'sim-read', opts = [], env = {},
                                   args = [], source = null } = {}) {
  const top = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-`));
  const dir = join(top, 'mnt');
  mkdirSync(dir);
  const o = [`url=${sim.url}`, ...(FAULTS ? [`timeout=${FAULT_TIMEOUT_S}`] : []), ...opts].join(',');
  const proc = spawn(BIN, [...(source ? [source] : []), dir, '-f', '-o', o, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...(token ? { TWINGATE_API_TOKEN: token } : {}),
           ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0',
           UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1', ...env },
  });
  children.add(proc);
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  let exited = null;
  proc.once('exit', (code, sig) => { exited = { code, sig }; });
  await waitFor(() => exited !== null || isMounted(dir), 15000, 'the mount');
  if (!isMounted(dir)) {
    rmSync(top, { recursive: true, force: true });
    children.delete(proc);
    throw new Error(`mount failed (${JSON.stringify(exited)}): ${log}`);
  }
  mounts.add(dir);
  const m = {
    dir, proc,
    log: () => log,
    path: (p = '') => join(dir, p),
    async unmount() {
      if (isMounted(dir)) {
        const r = spawnSync('fusermount3', ['-u', dir]);
        if (r.status !== 0) spawnSync('fusermount3', ['-uz', dir]);
      }
      mounts.delete(dir);
      await waitFor(() => exited !== null, 15000, 'the daemon to exit')
        .catch(() => proc.kill('SIGKILL'));
      children.delete(proc);
      rmSync(top, { recursive: true, force: true });
      const bad = log.match(/(ERROR: AddressSanitizer.*|ERROR: LeakSanitizer.*|runtime error:.*)/);
      if (bad) throw new Error(`sanitizer report from the daemon: ${bad[0]}\n${log}`);
      if (exited && exited.code !== 0) {
        throw new Error(`daemon exited with ${JSON.stringify(exited)}: ${log}`);
      }
    },
  };
  return m;
}

// Runs a shell command line, as a user types it, in @cwd.  Returns stdout;
// throws (with stderr) when it fails.
export function sh(cmd, cwd) {
  return execFileSync('bash', ['-c', cmd], { cwd, encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000 });
}

// Runs a command expected to fail: returns { status, stdout, stderr }.
export function shStatus(cmd, cwd) {
  const r = spawnSync('bash', ['-c', cmd], { cwd, encoding: 'utf8',
    timeout: 120000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Runs the program directly (for failures at mount), bounded in time.
export function runBin(args, env = {}, timeout = 30000) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout,
    env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr,
           signal: r.signal };
}

export function tempDir() {
  return mkdtempSync(join(tmpdir(), 'tgfs-tmp-'));
}

export { writeFileSync, chmodSync, rmSync };

// ---- what the tree should show, computed independently of the C code ----

// Full-width twins and the quote mark, as DESIGN.md §2 says.
const FW_SLASH = '\uFF0F', FW_DOT = '\uFF0E', QUOTE = '\u201B';

export function encodeName(name) {
  if (name === '') return QUOTE;
  if (name === '.') return FW_DOT;
  if (name === '..') return FW_DOT + FW_DOT;
  let out = '';
  for (const ch of name) {
    if (ch === '/') out += FW_SLASH;
    else if (ch === FW_SLASH || ch === FW_DOT || ch === QUOTE) out += QUOTE + ch;
    else out += ch;
  }
  return out;
}

export function shortId(id) {
  const raw = Buffer.from(id, 'base64').toString('utf8');
  const i = raw.indexOf(':');
  return raw.slice(i + 1, i + 9);
}

// The file names of @objects in one folder: encoded, "~<short id>" for
// names shared by several objects.
export function entryNames(objects, nameOf = (o) => o.name) {
  const counts = new Map();
  for (const o of objects) {
    const e = encodeName(nameOf(o));
    counts.set(e, (counts.get(e) || 0) + 1);
  }
  return objects.map((o) => {
    const e = encodeName(nameOf(o));
    return counts.get(e) > 1 ? `${e}~${shortId(o.id)}` : e;
  });
}

// RFC 3339 UTC, fraction kept, as the field files show times.
export function utc(t) {
  if (t === null || t === undefined) return '';
  const m = t.match(/^(.*?)(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  const secs = new Date(m[1] + (m[3] === 'Z' ? 'Z' : m[3])).toISOString()
    .replace(/\.\d{3}Z$/, '');
  return `${secs}${m[2] || ''}Z\n`;
}
