// lib.mjs - the integration tests' harness: a simulator process, a real
// twingatefs mount against it, shell commands run as a user would, and
// clean-up on every exit path.
//
// Starting the simulator, mounting, unmounting and the clean-up are
// tests/harness.mjs's, shared with bench/run.mjs and bench/soak.mjs; this
// adds what the tests want on top: the fault mode, a folder of its own for
// each mount, failures thrown.
//
// Mount points live under /tmp/tgfs-it-*; any left mounted by a crashed
// run are lazily unmounted when this module loads, so a stale mount never
// breaks the next run.  The daemon's stderr is kept; at unmount it is
// checked for sanitizer reports, which fail the test.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as harness from '../harness.mjs';

export { BIN, ROOT as root, isMounted, waitFor } from '../harness.mjs';
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

harness.cleanStale(PREFIX);
harness.exitOnSignals();

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

// Starts the simulator (harness.mjs's startSim()), with the tests' short
// cuts: stats(), resetStats(), tenant(), faults(list), config(cfg).  In
// fault mode its random faults are armed before it is handed out.
export async function startSim(args = []) {
  const sim = await harness.startSim(args);
  Object.assign(sim, {
    stats() { return sim.get('/_sim/stats'); },
    resetStats() { return sim.post('/_sim/stats/reset'); },
    // With the 2026 revision's access requests and serial numbers.
    tenant() { return sim.get('/_sim/tenant?all=1'); },
    // In fault mode the random faults stay armed behind a test's own list
    // (its entries match first; [] leaves only the random ones).
    faults(list) {
      if (!FAULTS) return sim.post('/_sim/faults', list);
      return sim.post('/_sim/faults', [...[list ?? []].flat(), RANDOM_FAULTS]);
    },
    config(cfg) { return sim.post('/_sim/config', cfg); },
  });
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
// Its unmount() throws on a sanitizer report or a daemon that exited
// with a status other than 0.
export async function mount(sim, { token = 'sim-read', opts = [], env = {},
                                   args = [], source = null } = {}) {
  const top = harness.workDir(PREFIX, { remove: true });
  const dir = join(top, 'mnt');
  mkdirSync(dir);
  let m;
  try {
    m = await harness.mount(sim, dir, {
      token, args, source,
      opts: [...(FAULTS ? [`timeout=${FAULT_TIMEOUT_S}`] : []), ...opts],
      // Each mount keeps its first-seen times in its own folder unless the
      // test passes one: a state file in ~/.local/state is keyed by the
      // endpoint, and a later simulator on a reused port would find the
      // times another test's tenant left there (an mtime of "now").
      env: { ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0',
             UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
             XDG_STATE_HOME: join(top, 'state'), ...env },
    });
  } catch (e) {
    rmSync(top, { recursive: true, force: true });
    throw e;
  }
  const unmount = m.unmount;
  return Object.assign(m, {
    path: (p = '') => join(dir, p),
    async unmount() {
      const r = await unmount();
      rmSync(top, { recursive: true, force: true });
      if (r.sanitizer) throw new Error(`sanitizer report from the daemon: ${r.sanitizer}\n${m.log()}`);
      if (r.exit && !r.killed && r.exit.code !== 0) {
        throw new Error(`daemon exited with ${JSON.stringify(r.exit)}: ${m.log()}`);
      }
    },
  });
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
  const r = spawnSync(harness.BIN, args, { encoding: 'utf8', timeout,
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

// A walker (walker.mjs): one process of mount @m, driven a step at a time
// (walk.test.mjs, write.test.mjs): ask(cmd) answers each command, stop()
// ends it.
export function startWalker(m) {
  const p = spawn(process.execPath, [join(import.meta.dirname, 'walker.mjs'), m.dir],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines = [];
  let wake = null, buf = '', stderr = '';
  p.stdout.on('data', (d) => {
    buf += d;
    for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) {
      lines.push(JSON.parse(buf.slice(0, i)));
      wake?.();
    }
  });
  p.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((res) => p.once('exit', (code, sig) => res({ code, sig })));
  return {
    pid: p.pid,
    // Sends one command; its answer, within @ms.
    async ask(cmd, ms = 30000) {
      p.stdin.write(`${JSON.stringify(cmd)}\n`);
      let timer;
      try {
        await Promise.race([
          (async () => { while (!lines.length) await new Promise((r) => { wake = r; }); })(),
          new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`the walker did not answer ${JSON.stringify(cmd)} within ${ms} ms: ${stderr}`)), ms); }),
          exited.then((e) => { if (!lines.length) throw new Error(`the walker exited ${JSON.stringify(e)}: ${stderr}`); }),
        ]);
      } finally {
        clearTimeout(timer);
      }
      return lines.shift();
    },
    async stop() {
      p.stdin.end();
      let timer;
      const e = await Promise.race([exited, new Promise((r) => { timer = setTimeout(r, 10000, null); })]);
      clearTimeout(timer);
      if (!e) { p.kill('SIGKILL'); await exited; }
    },
  };
}
