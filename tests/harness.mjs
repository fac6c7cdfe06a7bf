// harness.mjs - the one harness of the integration tests
// (tests/integration/lib.mjs builds on it), the bench (bench/run.mjs) and
// the soak (bench/soak.mjs): a simulator process, twingatefs mounted in
// the foreground against it, commands in process groups of their own, and
// clean-up on every exit path.
//
// Everything it starts runs in a process group of its own, so a Ctrl-C at
// the terminal reaches the caller only, which stops the rest in order.
// What is still running or mounted when the process exits is stopped by
// cleanupSync() (on 'exit' always; on SIGINT/SIGTERM/SIGHUP once the
// caller called exitOnSignals()): commands killed, mounts unmounted with
// fusermount3 -u then -uz, daemons given 3 s to exit then killed,
// simulators sent SIGTERM then SIGKILL, folders made by workDir(...,
// { remove: true }) removed, never through a mount.
//
// Mount points live in folders named $TMPDIR/<prefix><pid>-*: cleanStale()
// lazily unmounts those a crashed run left behind (its pid is gone), so a
// stale mount never breaks the next run.
//
// Node.js standard library only.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = process.env.TWINGATEFS_BIN || join(ROOT, 'build', 'fs', 'twingatefs');
export const SIM = join(ROOT, 'tests', 'sim', 'server.mjs');

// A sanitizer's report in a daemon's stderr.
export const SANITIZER = /(ERROR: AddressSanitizer.*|ERROR: LeakSanitizer.*|runtime error:.*)/;

// What runs now, for cleanupSync(): commands (ChildProcess), daemons
// (mount handles), simulators (ChildProcess), folders to remove.
const live = { cmds: new Set(), daemons: new Set(), sims: new Set(), dirs: [] };

// ------------------------------------------------------------ processes

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// Alive and not a zombie.  Children are not reaped while cleanupSync()
// runs, so their pids cannot be reused under it.
export function alive(pid) {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/s.test(st);
  } catch {
    return false;
  }
}

// Not yet reaped by Node, and alive: safe to signal by pid.
function running(proc) {
  return proc.exitCode === null && proc.signalCode === null && alive(proc.pid);
}

// Sends @sig to the process group @pid leads, and to @pid itself.
export function killGroup(pid, sig) {
  try { process.kill(-pid, sig); } catch { /* gone */ }
  try { process.kill(pid, sig); } catch { /* gone */ }
}

// Spawns a detached child (a process group of its own) and keeps it in
// @set until it has closed.
function spawnIn(set, cmd, args, opts) {
  const p = spawn(cmd, args, { ...opts, detached: true });
  set.add(p);
  p.once('error', () => set.delete(p));
  p.once('close', () => set.delete(p));
  return p;
}

// Starts @cmd @args as spawn() does with @opts, in a process group of its
// own: a command of the caller's (a shell line, ls, find).  Its group is
// killed by cleanupSync() or killCommands() if it still runs.
export function spawnGroup(cmd, args, opts = {}) {
  return spawnIn(live.cmds, cmd, args, opts);
}

// Kills (SIGKILL) the process group of every command spawnGroup() started
// that still runs.
export function killCommands() {
  for (const c of live.cmds) killGroup(c.pid, 'SIGKILL');
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

// ------------------------------------------------------ mounts, folders

// The mount points of this mount namespace, unescaped.
export function mountPoints() {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' ')[4]).filter(Boolean)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))));
}

// How many mounts are on @dir (a dead one stays until unmounted; another
// may be mounted over it).
export function mountCount(dir) {
  return mountPoints().filter((p) => p === dir).length;
}

export function isMounted(dir) {
  return mountCount(dir) > 0;
}

const reEscape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// Makes a new folder <parent>/<prefix><pid>-XXXXXX: the pid in its name is
// how cleanStale() tells a crashed run's mounts from a live run's.  With
// remove, cleanupSync() removes it at exit (unless something is still
// mounted in it).
export function workDir(prefix, { parent = tmpdir(), remove = false } = {}) {
  const d = mkdtempSync(join(parent, `${prefix}${process.pid}-`));
  if (remove) removeAtExit(d);
  return d;
}

// Has cleanupSync() remove @dir (rm -rf --one-file-system), unless
// something is still mounted in it.
export function removeAtExit(dir) {
  live.dirs.push(dir);
}

// Lazily unmounts (fusermount3 -uz) the mounts a crashed run left in
// $TMPDIR/<prefix><pid>-*: those whose process is gone (runs of the same
// kind may go on in parallel).
export function cleanStale(prefix) {
  const re = new RegExp(`^${reEscape(join(tmpdir(), prefix))}(\\d+)-`);
  for (const p of mountPoints()) {
    const m = p.match(re);
    if (m && !alive(Number(m[1]))) spawnSync('fusermount3', ['-uz', p]);
  }
}

// ------------------------------------------------------------ simulator

// Starts the simulator with @args (after --port 0); resolves once it
// printed its URL, within startMs (a large tenant takes a while to make).
// The handle: url, base, proc, stderr() (its last 20,000 characters);
// get/getText (throw unless 2xx), send -> {status, text}, post -> status,
// postOk (throws unless 2xx), gql -> {status, body}, stop().
export async function startSim(args = [], { startMs = 20000 } = {}) {
  const proc = spawnIn(live.sims, process.execPath, [SIM, '--port', '0', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr = (stderr + d).slice(-20000); });
  let url;
  try {
    url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the simulator did not start: ${stderr}`)), startMs);
      createInterface({ input: proc.stdout }).once('line', (l) => { clearTimeout(timer); resolve(l.trim()); });
      proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the simulator exited ${code}: ${stderr}`)); });
    });
  } catch (e) {
    killGroup(proc.pid, 'SIGKILL');
    throw e;
  }
  const base = url.replace(/\/api\/graphql\/$/, '');
  const sim = {
    url, base, proc,
    stderr: () => stderr,
    async getText(path) {
      const r = await fetch(base + path);
      const text = await r.text();
      if (!r.ok) throw new Error(`GET ${path}: HTTP ${r.status}`);
      return text;
    },
    async get(path) { return JSON.parse(await sim.getText(path)); },
    // @body, when given, goes as JSON.
    async send(method, path, body) {
      const r = await fetch(base + path, { method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: r.status, text: await r.text() };
    },
    async post(path, body) { return (await sim.send('POST', path, body)).status; },
    async postOk(path, body) {
      const st = await sim.post(path, body);
      if (st < 200 || st > 299) throw new Error(`POST ${path}: HTTP ${st}`);
    },
    async gql(query, variables = {}, token = 'sim-write') {
      const r = await fetch(url, { method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': token },
        body: JSON.stringify({ query, variables }) });
      return { status: r.status, body: await r.json() };
    },
    // SIGTERM, then SIGKILL after ms.  A simulator left running keeps the
    // caller's process alive.
    async stop({ ms = 5000 } = {}) {
      if (proc.exitCode === null && proc.signalCode === null) {
        const done = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        let timer;
        await Promise.race([done, new Promise((r) => { timer = setTimeout(r, ms); })]);
        clearTimeout(timer);
        if (proc.exitCode === null && proc.signalCode === null) {
          killGroup(proc.pid, 'SIGKILL');
          await done;
        }
      }
      live.sims.delete(proc);
    },
  };
  return sim;
}

// --------------------------------------------------------------- daemon

// Mounts twingatefs in the foreground (-f) on the existing folder @dir
// against @sim: -o url=<sim>,<opts...>, @source before the mount point
// when given (as mount.fuse3 does), @args after.  @token goes in
// TWINGATE_API_TOKEN (none: the caller's environment's); @env is laid
// over the caller's environment, a key set to undefined is removed.
// Resolves once a new mount is on @dir (within mountMs; one there already,
// live or dead, does not count); rejects with the
// daemon's stderr if it exits first (the error's exit and log say what
// happened, for a caller that words it otherwise).  Keeps the last logMax characters
// of its stderr; onLine(line), when given, is called with each line.
// The handle: dir, proc, pid, opts, exit (null while it runs, then
// {code, signal}), log(), unmount().
export async function mount(sim, dir, { token = null, opts = [], env = {}, args = [],
                                        source = null, mountMs = 15000, logMax = Infinity,
                                        onLine = null } = {}) {
  const o = [`url=${sim.url}`, ...opts].filter(Boolean).join(',');
  const before = mountCount(dir);
  const e = { ...process.env, ...(token ? { TWINGATE_API_TOKEN: token } : {}), ...env };
  for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
  const proc = spawn(BIN, [...(source ? [source] : []), dir, '-f', '-o', o, ...args],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: e });
  let log = '';
  proc.stderr.on('data', (d) => {
    log += d;
    if (log.length > logMax) log = log.slice(log.length - logMax);
  });
  if (onLine) createInterface({ input: proc.stderr }).on('line', onLine);
  const m = {
    dir, proc, pid: proc.pid, opts: o, exit: null,
    log: () => log,
    // Unmounts (fusermount3 -u, and -uz if that fails), waits exitMs for
    // the daemon to exit, else kills it.  Never throws: resolves with what
    // happened, {uFailed (the -u's stderr, or null), killed, exit,
    // sanitizer (the report's first line, or null)}.
    async unmount({ exitMs = 15000 } = {}) {
      let uFailed = null, killed = false;
      if (isMounted(dir)) {
        const r = spawnSync('fusermount3', ['-u', dir], { encoding: 'utf8' });
        if (r.status !== 0) {
          uFailed = (r.stderr || '').trim() || `exit ${r.status}`;
          spawnSync('fusermount3', ['-uz', dir]);
        }
      }
      try {
        await waitFor(() => m.exit !== null, exitMs, 'the daemon to exit');
      } catch {
        killed = true;
        killGroup(proc.pid, 'SIGKILL');
        await waitFor(() => m.exit !== null, 5000, 'the daemon to die').catch(() => {});
      }
      live.daemons.delete(m);
      return { uFailed, killed, exit: m.exit, sanitizer: (log.match(SANITIZER) || [null])[0] };
    },
  };
  proc.once('exit', (code, signal) => { m.exit = { code, signal }; });
  proc.once('error', (err) => { log += `${err.message}\n`; m.exit ??= { code: -1, signal: null }; });
  live.daemons.add(m);
  const up = await waitFor(() => m.exit !== null || mountCount(dir) > before, mountMs, 'the mount')
    .then(() => mountCount(dir) > before, () => false);
  if (!up) {
    if (m.exit === null) killGroup(proc.pid, 'SIGKILL');
    live.daemons.delete(m);
    const err = new Error(`mount failed (${m.exit ? JSON.stringify(m.exit) : `not there after ${mountMs / 1000} s`}): ${log}`);
    err.exit = m.exit;
    err.log = log;
    throw err;
  }
  return m;
}

// ------------------------------------------------------------- clean-up

// Stops everything still running, synchronously (it runs in the 'exit'
// handler): commands killed; each daemon's mount unmounted (fusermount3
// -u, then -uz), the daemon given 3 s to exit, then killed; simulators
// SIGTERM, 3 s, SIGKILL; folders to remove removed, except one with
// anything still mounted in it.  Harmless to call again.
export function cleanupSync() {
  killCommands();
  for (const d of live.daemons) {
    if (isMounted(d.dir)) {
      spawnSync('fusermount3', ['-u', d.dir]);
      if (isMounted(d.dir)) spawnSync('fusermount3', ['-uz', d.dir]);
    }
  }
  const waitGone = (procs, ms) => {
    const end = Date.now() + ms;
    while (procs.some(running) && Date.now() < end) sleepSync(50);
  };
  const daemons = [...live.daemons].map((d) => d.proc);
  waitGone(daemons, 3000);
  for (const p of daemons) if (running(p)) killGroup(p.pid, 'SIGKILL');
  live.daemons.clear();
  const sims = [...live.sims];
  for (const p of sims) if (running(p)) killGroup(p.pid, 'SIGTERM');
  waitGone(sims, 3000);
  for (const p of sims) if (running(p)) killGroup(p.pid, 'SIGKILL');
  live.sims.clear();
  // Never recurse into a mount: rm stays on the folder's own filesystem,
  // and a folder with anything still mounted in it is left alone.
  const mounted = mountPoints();
  for (const dir of live.dirs.splice(0).reverse()) {
    if (mounted.some((m) => m === dir || m.startsWith(dir + '/'))) {
      process.stderr.write(`${dir} still has a mount; left in place\n`);
      continue;
    }
    spawnSync('rm', ['-rf', '--one-file-system', '--', dir]);
  }
}
process.on('exit', cleanupSync);

// On SIGINT, SIGTERM and SIGHUP: says so on stderr as "<name>: <signal>:
// cleaning up" (when @name is given), cleans up and exits 128 + the
// signal's number.
export function exitOnSignals(name = null) {
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
    process.on(sig, () => {
      if (name) process.stderr.write(`\n${name}: ${sig}: cleaning up\n`);
      cleanupSync();
      process.exit(code);
    });
  }
}
