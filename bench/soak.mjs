#!/usr/bin/env node
// bench/soak.mjs - a long run of twingatefs under random API faults: many
// readers and a few writers on one mount, every operation and its errno
// recorded, and at the end a check of the writes against the simulator's
// tenant.  See bench/SOAK.md.
//
//   bench/soak.mjs [--minutes N] [--readers 16] [--writers 4] [--fault-rate 0.1]
//                  [--seed S] [--size small] [...]   (--help lists them all)
//
// Node.js >= 18, standard library only.  The simulator (tests/sim, after its
// `npm ci`) and the daemon (build/fs/twingatefs, or TWINGATEFS_BIN) run in
// their own process groups, started and stopped by tests/harness.mjs
// (shared with the integration tests and bench/run.mjs): on every exit path
// (end of the run, error, SIGINT/SIGTERM/SIGHUP) the mount is unmounted
// (fusermount3 -u, then -uz), the daemon and the simulator are stopped; a
// mount a crashed run left is unmounted at start.  A first Ctrl-C ends
// the run early but still checks the writes and prints the report; a
// second one only cleans up.
import { spawn } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import { readFileSync, mkdirSync, createWriteStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { BIN, SIM, startSim, mount, spawnGroup, killGroup, killCommands, workDir,
         removeAtExit, cleanStale, cleanupSync } from '../tests/harness.mjs';

const SELF = fileURLToPath(import.meta.url);
const PREFIX = 'twingatefs-soak-';

// ---------------------------------------------------------------- options

const DEFAULTS = {
  minutes: 10, readers: 16, writers: 4, 'fault-rate': 0.1, seed: 1, size: 'small',
  timeout: 2, retries: 3, 'fault-delay-ms': 3000, 'cache-ttl': 5, margin: 10,
  'read-think-ms': 20, 'write-think-ms': 100, rate: 'off',
  'fault-kinds': 'status500,status503,delay,drop,truncate,malformed,status429,storm429',
  progress: 60, out: '', 'mount-opts': '', debug: false,
};
const HELP = `usage: bench/soak.mjs [options]
  --minutes N          how long the readers and writers run (${DEFAULTS.minutes}; fractions allowed)
  --readers N          reader loops (${DEFAULTS.readers})
  --writers N          writer loops, each on objects of its own (${DEFAULTS.writers})
  --fault-rate R       share of GraphQL requests the simulator spoils (${DEFAULTS['fault-rate']})
  --fault-kinds a,b    random fault kinds (${DEFAULTS['fault-kinds']};
                       storm429 is dropped if the simulator does not know it)
  --fault-delay-ms N   length of a "delay" fault (${DEFAULTS['fault-delay-ms']}: past the client timeout)
  --seed S             seed of the tenant, of the fault sequence and of the loops' choices (${DEFAULTS.seed})
  --size S             simulator tenant: tiny, small, large or a number of devices (${DEFAULTS.size})
  --timeout S          the mount's timeout= (${DEFAULTS.timeout})
  --retries N          the mount's retries= (${DEFAULTS.retries})
  --cache-ttl S        the mount's cache_ttl= (${DEFAULTS['cache-ttl']}: short, so reads keep reaching the API)
  --margin S           a call is a hang after k*((retries+1)*timeout+margin) s,
                       k = 1 for stat/readlink/cat, 2 for writes, 3 for ls/find (${DEFAULTS.margin})
  --read-think-ms N    mean pause between two operations of a reader (${DEFAULTS['read-think-ms']})
  --write-think-ms N   mean pause between two operations of a writer (${DEFAULTS['write-think-ms']};
                       with --rate real at least writers*3600)
  --rate off|real      off: no limits in the simulator, no pacing in the daemon;
                       real: 60 reads / 20 writes a minute (${DEFAULTS.rate})
  --mount-opts a=b,..  more -o options for the mount (they come last, so they win)
  --progress S         a progress line every S seconds, 0 for none (${DEFAULTS.progress})
  --out DIR            where ops.jsonl and daemon.log go (default: a new $TMPDIR/${PREFIX}* folder)
  --debug              mount with -d (very verbose daemon.log)
Exit status: 0 when there was no unexplained error, hang, lost or duplicated
write, stale view or daemon failure; 1 otherwise; 2 for bad arguments.`;

function parseArgs(argv) {
  const o = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    if (a === '-h' || a === '--help') { console.log(HELP); process.exit(0); }
    if (!a.startsWith('--')) usageError(`unexpected argument '${a}'`);
    a = a.slice(2);
    let v;
    const eq = a.indexOf('=');
    if (eq >= 0) { v = a.slice(eq + 1); a = a.slice(0, eq); }
    if (!(a in DEFAULTS)) usageError(`unknown option --${a}`);
    if (typeof DEFAULTS[a] === 'boolean') { o[a] = true; continue; }
    if (v === undefined) {
      if (i + 1 >= argv.length) usageError(`--${a} needs a value`);
      v = argv[++i];
    }
    if (typeof DEFAULTS[a] === 'number') {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) usageError(`--${a}: '${v}' is not a number >= 0`);
      o[a] = n;
    } else o[a] = v;
  }
  for (const k of ['readers', 'writers', 'seed', 'retries', 'fault-delay-ms']) {
    if (!Number.isInteger(o[k])) usageError(`--${k} must be an integer`);
  }
  if (o['fault-rate'] > 1) usageError('--fault-rate must be in 0..1');
  if (o.timeout < 1 || !Number.isInteger(o.timeout)) usageError('--timeout must be an integer >= 1');
  if (!['off', 'real'].includes(o.rate)) usageError('--rate is off or real');
  if (o.rate === 'real') o['write-think-ms'] = Math.max(o['write-think-ms'], o.writers * 3600);
  return o;
}

function usageError(msg) {
  console.error(`bench/soak.mjs: ${msg}\n${HELP}`);
  process.exit(2);
}

// ---------------------------------------------------------------- small helpers

const P0 = performance.now();
const el = () => (performance.now() - P0) / 1000; // seconds since start
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fmtS = (s) => `${s.toFixed(1)}s`;

// mulberry32: the loops' choices are reproducible per --seed (the timing is not).
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, pick: (arr) => arr[Math.floor(next() * arr.length)],
           think: (mean) => (mean > 0 ? next() * 2 * mean : 0) };
}

function procStatus(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number((s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm')) || [])[1] || NaN);
    return { rss: kb('VmRSS'), hwm: kb('VmHWM'), threads: Number((s.match(/^Threads:\s+(\d+)/m) || [])[1]) };
  } catch { return null; }
}
const mib = (kb) => `${(kb / 1024).toFixed(1)} MiB`;

// strerror(3) texts (glibc, C locale) back to errno names, for ls and find.
const STRERROR = {
  'Operation not permitted': 'EPERM', 'No such file or directory': 'ENOENT',
  'Input/output error': 'EIO', 'Permission denied': 'EACCES', 'File exists': 'EEXIST',
  'Not a directory': 'ENOTDIR', 'Is a directory': 'EISDIR', 'Invalid argument': 'EINVAL',
  'Resource temporarily unavailable': 'EAGAIN', 'Cannot allocate memory': 'ENOMEM',
  'Device or resource busy': 'EBUSY', 'Directory not empty': 'ENOTEMPTY',
  'Transport endpoint is not connected': 'ENOTCONN', 'Connection timed out': 'ETIMEDOUT',
  'Read-only file system': 'EROFS', 'File name too long': 'ENAMETOOLONG',
  'Stale file handle': 'ESTALE', 'Interrupted system call': 'EINTR',
  'Function not implemented': 'ENOSYS', 'Too many levels of symbolic links': 'ELOOP',
  'Bad file descriptor': 'EBADF', 'Numerical result out of range': 'ERANGE',
  'Software caused connection abort': 'ECONNABORTED', 'Connection reset by peer': 'ECONNRESET',
  'Protocol error': 'EPROTO', 'Bad message': 'EBADMSG', 'Remote I/O error': 'EREMOTEIO',
  'No data available': 'ENODATA', 'Operation not supported': 'EOPNOTSUPP',
  'File too large': 'EFBIG', 'Value too large for defined data type': 'EOVERFLOW',
};
// What an API fault may legitimately turn into, DESIGN.md §7: EIO for
// network/server failures, EAGAIN for a rate limit outlasting max_wait
// (ETIMEDOUT and the protocol errnos are accepted too: "EIO-ish").
const FAULT_ERRNOS = new Set(['EIO', 'EAGAIN', 'ETIMEDOUT', 'EPROTO', 'EBADMSG',
  'ECONNRESET', 'ECONNABORTED', 'EREMOTEIO']);
// Paths whose ENOENT a reader may meet while writers work: the writers'
// short-lived groups and the member links they add and remove.
const TRANSIENT = /soak-w\d+-\d+|(^|\/)groups\/soak-own-w\d+\/users\/[^/]+|(^|\/)users\/[^/]+\/groups\/soak-own-w\d+/;

// ---------------------------------------------------------------- state

let opt;
let outDir, mntTop, mnt, opsLog, daemonLogStream;
let sim = null;            // the harness's simulator handle
let daemon = null;         // the harness's mount handle
let daemonExit = null;     // { code, signal, t }
const daemonLines = [];    // { t, line }
let faultsOn = false;
let stopping = false;      // the loops finish their operation and return
let hardExit = false;
let BASE_MS;               // ((retries+1)*timeout + margin) * 1000

const counts = {
  reads: 0, nwrites: 0,
  byOp: new Map(),          // op -> { n, ok, errs: Map, maxMs, slow }
  fault: new Map(),         // errno -> n (explained by injected faults)
  faultReads: 0, faultWrites: 0,
  race: new Map(),          // reason -> n (explained by the writers' own work)
  unexplained: [],          // records
  hangs: [],                // records
  wrong: [],                // reads that returned content other than the tenant's
  writes: [],               // every write record, for "what else ran at that moment"
  raceReads: [],            // readers' ENOENT records explained as races (checked again at the end)
};
const checks = {
  verified: 0,              // successful writes checked in the tenant right after
  lost: [],                 // { who, what, detail }
  late: [],                 // overwritten by a late execution of an earlier failed write (explained)
  dup: [],                  // duplicated creates, failed creates that exist anyway
  stale: [],                // what the mount shows after the cache expired != tenant
  readback: [],             // cat right after a successful write != the value written
};

// ---------------------------------------------------------------- simulator

// Starts the simulator: the tenant of --size and --seed, no rate limits
// with --rate off.
async function startSoakSim() {
  const args = ['--size', String(opt.size), '--seed', String(opt.seed)];
  if (opt.rate === 'off') args.push('--rate-read', '0', '--rate-write', '0');
  sim = await startSim(args);
}

// A GraphQL request of the set-up (write token); throws unless it worked.
async function gql(query, variables) {
  const { status, body } = await sim.gql(query, variables);
  if (status !== 200 || body.errors) throw new Error(`setup query failed: ${status} ${JSON.stringify(body)}`);
  return body.data;
}

// /_sim/tenant as it is after time t (seconds): a fetch that started at or
// after t is shared by everyone who asks for a t before its start.
let tenantInflight = null;
function tenantAfter(t) {
  if (tenantInflight && tenantInflight.start >= t) return tenantInflight.promise;
  const start = el();
  const promise = sim.get('/_sim/tenant');
  tenantInflight = { start, promise };
  promise.catch(() => {});
  return promise;
}

let faultKinds = [];
async function faultsStart() {
  let kinds = opt['fault-kinds'].split(',').map((s) => s.trim()).filter(Boolean);
  const body = (k) => ({ match: 'any', rate: opt['fault-rate'], kinds: k,
    delayMs: opt['fault-delay-ms'], seed: opt.seed, retryAfter: 1 });
  let r = await sim.send('POST', '/_sim/faults', body(kinds));
  if (r.status === 400 && kinds.includes('storm429')) {
    kinds = kinds.filter((k) => k !== 'storm429');
    r = await sim.send('POST', '/_sim/faults', body(kinds));
  }
  if (r.status !== 200) throw new Error(`the simulator refused the faults: ${r.status} ${r.text}`);
  faultKinds = kinds;
  faultsOn = opt['fault-rate'] > 0;
}

// ---------------------------------------------------------------- mount

// Mounts twingatefs on mnt (timeout=, retries=, cache_ttl= of the options,
// no pacing with --rate off, --mount-opts last); its stderr goes, line by
// line and timed, to daemonLines and daemon.log.
async function mountFs() {
  const opts = [`timeout=${opt.timeout}`, `retries=${opt.retries}`, `cache_ttl=${opt['cache-ttl']}`,
    ...(opt.rate === 'off' ? ['rate_read=0', 'rate_write=0'] : []),
    ...(opt['mount-opts'] ? [opt['mount-opts']] : [])];
  daemonLogStream = createWriteStream(join(outDir, 'daemon.log'));
  daemon = await mount(sim, mnt, {
    token: 'sim-write', opts, args: opt.debug ? ['-d'] : [], mountMs: 20000, logMax: 0,
    env: { XDG_STATE_HOME: join(outDir, 'state'), UV_THREADPOOL_SIZE: undefined },
    onLine: (line) => {
      const t = el();
      daemonLines.push({ t, line });
      daemonLogStream?.write(`[${t.toFixed(3)}] ${line}\n`);
    },
  });
  daemonExit = daemon.exit && { ...daemon.exit, t: el() };
  daemon.proc.once('exit', (code, signal) => { daemonExit = { code, signal, t: el() }; });
}

// ---------------------------------------------------------------- running one operation

const HANG = Symbol('hang');

function childOp(cmd, args) {
  // Resolves with {lines} (stderr's error lines as {path, errno}) and exit status.
  let child;
  const promise = new Promise((resolve) => {
    child = spawnGroup(cmd, args, { cwd: mnt, stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH, LC_ALL: 'C' } });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.once('error', (e) => { resolve({ status: -1, lines: [{ path: '', errno: e.code }] }); });
    child.once('close', (status, signal) => {
      const lines = err.split('\n').filter(Boolean).map((l) => {
        const m = l.match(/'([^']*)'[^']*: ([^:]+)$/) || l.match(/‘([^’]*)’[^’]*: ([^:]+)$/);
        const msg = m ? m[2] : l.slice(l.lastIndexOf(': ') + 2);
        return { path: m ? m[1] : '', errno: STRERROR[msg.trim()] || `?${msg.trim()}` };
      });
      resolve({ status: status ?? -1, signal, lines });
    });
  });
  return { promise, kill: () => killGroup(child.pid, 'SIGKILL') };
}

// Runs fn under a deadline of k*BASE_MS; returns the record (not yet classified).
async function run(who, kind, op, path, k, fn, extra = {}) {
  const rec = { t: +el().toFixed(3), who, kind, op, path, ...extra, phase: faultsOn ? 'faults' : 'calm' };
  const t0 = performance.now();
  let kill = null;
  let p;
  try {
    const x = fn();
    if (x && x.kill) { kill = x.kill; p = x.promise; } else p = x;
  } catch (e) { p = Promise.reject(e); }
  let timer;
  const settled = p.then((v) => ({ v }), (e) => ({ e }));
  const r = await Promise.race([settled,
    new Promise((res) => { timer = setTimeout(() => res(HANG), k * BASE_MS); })]);
  clearTimeout(timer);
  rec.ms = Math.round(performance.now() - t0);
  if (r === HANG) {
    rec.hung = true;
    rec.errno = 'HANG';
    if (kill) kill();
    settled.then((x) => {
      rec.lateMs = Math.round(performance.now() - t0);
      rec.lateErrno = x.e ? (x.e.code || String(x.e.message)) : 'ok';
      opsLog?.write(JSON.stringify({ late: rec }, noRelated) + '\n');
    });
  } else if (r.e) {
    rec.errno = r.e.code || String(r.e.message);
  } else if (r.v && r.v.lines !== undefined) {
    // a child process
    if (r.v.status !== 0) {
      rec.lines = r.v.lines.length ? r.v.lines : [{ path: '', errno: `exit ${r.v.status}${r.v.signal ? ` ${r.v.signal}` : ''}` }];
      rec.errno = rec.lines[0].errno;
    }
  } else if (r.v !== undefined) rec.value = r.v;
  return rec;
}

const noRelated = (k, v) => (k === 'related' ? undefined : v);

function bump(map, key, n = 1) { map.set(key, (map.get(key) || 0) + n); }

// Classifies and counts a finished record.  race: a reason string when an
// error of this operation is explained by the writers' own work.
function record(rec, race = null) {
  if (rec.kind === 'read') counts.reads++; else { counts.nwrites++; counts.writes.push(rec); }
  let s = counts.byOp.get(rec.op);
  if (!s) counts.byOp.set(rec.op, s = { n: 0, ok: 0, errs: new Map(), maxMs: 0 });
  s.n++;
  s.maxMs = Math.max(s.maxMs, rec.ms);
  const faultish = (e) => FAULT_ERRNOS.has(e) && rec.phase === 'faults';
  if (rec.hung) {
    rec.cls = 'hang';
    counts.hangs.push(rec);
  } else if (!rec.errno) {
    rec.cls = 'ok';
    s.ok++;
  } else if (rec.lines) {
    // ls/find: every error line must be explained
    let cls = 'race';
    for (const l of rec.lines) {
      if (faultish(l.errno)) { if (cls === 'race') cls = 'fault'; l.cls = 'fault'; }
      else if (l.errno === 'ENOENT' && TRANSIENT.test(l.path)) l.cls = 'race';
      else { l.cls = 'unexplained'; cls = 'unexplained'; rec.errno = l.errno; }
    }
    rec.cls = cls;
  } else if (faultish(rec.errno)) {
    rec.cls = 'fault';
  } else if (race) {
    rec.cls = 'race';
    rec.why = race;
  } else {
    rec.cls = 'unexplained';
  }
  if (rec.errno && !rec.hung) bump(s.errs, rec.errno);
  if (rec.hung) bump(s.errs, 'HANG');
  if (rec.cls === 'fault') {
    bump(counts.fault, rec.errno);
    if (rec.kind === 'read') counts.faultReads++; else counts.faultWrites++;
  } else if (rec.cls === 'race') {
    bump(counts.race, rec.why || `${rec.op} ${rec.errno} on a path a writer changes`);
    if (rec.kind === 'read') counts.raceReads.push(rec);
  } else if (rec.cls === 'unexplained') {
    if (rec.kind === 'write' && !rec.related) rec.related = rec;
    counts.unexplained.push(rec);
  }
  opsLog?.write(JSON.stringify(rec, noRelated) + '\n');
  return rec;
}

// ---------------------------------------------------------------- the tree before the faults

async function walk() {
  const dirs = [], files = [], links = [];
  const queue = [''];
  while (queue.length) {
    const batch = queue.splice(0, 8);
    await Promise.all(batch.map(async (rel) => {
      dirs.push(rel);
      const ents = await fsp.readdir(join(mnt, rel), { withFileTypes: true });
      for (const e of ents) {
        const p = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) queue.push(p);
        else if (e.isSymbolicLink()) links.push({ path: p, target: await fsp.readlink(join(mnt, p)) });
        else files.push({ path: p, content: await fsp.readFile(join(mnt, p), 'utf8') });
      }
    }));
  }
  return { dirs, files, links };
}

// ---------------------------------------------------------------- readers

function readerPools(tree) {
  const stable = (p) => !TRANSIENT.test(p);
  const fixed = (p) => /(^|\/)(id|name|created-at)$/.test(p) && !/soak-/.test(p);
  const files = tree.files.filter((f) => stable(f.path))
    .map((f) => ({ path: f.path, expect: fixed(f.path) ? f.content : null }));
  const links = tree.links.filter((l) => stable(l.path));
  const dirs = tree.dirs.filter((d) => stable(d));
  const findDirs = dirs.filter((d) => d !== '' && d.split('/').length <= 2);
  const all = [...files.map((f) => f.path), ...links.map((l) => l.path), ...dirs.filter((d) => d !== '')];
  return { files, links, dirs, findDirs, all };
}

async function reader(id, pools) {
  const who = `r${id}`;
  const R = rng(opt.seed * 1000 + id);
  const ops = [['cat', 35], ['stat', 25], ['readlink', 15], ['ls', 15], ['find', 10]];
  const total = ops.reduce((a, [, w]) => a + w, 0);
  while (!stopping) {
    let x = R.next() * total, op;
    for (const [name, w] of ops) { if ((x -= w) < 0) { op = name; break; } }
    if (op === 'cat') {
      const f = R.pick(pools.files);
      const rec = record(await run(who, 'read', 'cat', f.path, 1, () => fsp.readFile(join(mnt, f.path), 'utf8')));
      if (rec.cls === 'ok' && f.expect !== null && rec.value !== f.expect) {
        counts.wrong.push({ ...rec, expected: f.expect });
      }
      delete rec.value;
    } else if (op === 'stat') {
      const p = R.pick(pools.all);
      record(await run(who, 'read', 'stat', p, 1, () => fsp.lstat(join(mnt, p))));
    } else if (op === 'readlink') {
      const l = R.pick(pools.links);
      const rec = record(await run(who, 'read', 'readlink', l.path, 1, () => fsp.readlink(join(mnt, l.path))));
      if (rec.cls === 'ok' && rec.value !== l.target) counts.wrong.push({ ...rec, expected: l.target });
      delete rec.value;
    } else if (op === 'ls') {
      const d = R.pick(pools.dirs);
      record(await run(who, 'read', 'ls', d || '.', 3, () => childOp('ls', ['-la', '--', d || '.'])));
    } else {
      const d = R.pick(pools.findDirs);
      record(await run(who, 'read', 'find', d, 3, () => childOp('find', [d])));
    }
    if (daemonExit) break;
    await sleep(R.think(opt['read-think-ms']));
  }
}

// ---------------------------------------------------------------- writers

async function writeField(path, value) {
  const fh = await fsp.open(join(mnt, path), 'w');
  try {
    await fh.write(`${value}\n`);
  } catch (e) {
    await fh.close().catch(() => {});
    throw e;
  }
  await fh.close();
}

// A failed write of this writer's field whose request may still execute
// late at the server (a "delay" fault answers after the client gave up).
function lateWindow() {
  return Math.max(0, opt['fault-delay-ms'] / 1000 - opt.timeout) + 1.5;
}

class Writer {
  constructor(i, setup) {
    this.i = i;
    this.who = `w${i}`;
    this.R = rng(opt.seed * 1000 + 500 + i);
    this.n = 0;
    this.turn = 0;
    Object.assign(this, setup); // resName, resId, groupName, groupId, email, userId
    this.resDir = `resources/${this.resName}`;
    this.groupDir = `groups/${this.groupName}`;
    // field histories: { value, rec }
    this.alias = { initial: null, writes: [] };
    this.active = { initial: true, writes: [], next: false };
    this.member = { initial: false, writes: [], next: true };
    this.trans = { cur: null, all: new Map() }; // name -> { mk: rec, rms: [rec] }
  }

  // Explains a value seen in the tenant that is not what the last
  // successful write set: a failed write of the same field, sent before
  // it, that the server may have executed after it.
  lateExplains(hist, seen, okRec) {
    return hist.writes.some((w) => w.rec.cls !== 'ok' && w.rec.t < okRec.t && w.value === seen &&
      w.rec.t + w.rec.ms / 1000 + lateWindow() >= okRec.t);
  }

  async checkNow(what, hist, value, rec, get) {
    const t = await tenantAfter(rec.t + rec.ms / 1000);
    const seen = get(t);
    checks.verified++;
    if (seen === value) return;
    const item = { who: this.who, what, t: rec.t, detail: `wrote ${JSON.stringify(value)} (ok at ${fmtS(rec.t)}), tenant has ${JSON.stringify(seen)} right after` };
    if (this.lateExplains(hist, seen, rec)) checks.late.push(item);
    else checks.lost.push(item);
  }

  async readBack(path, value, writeRec) {
    const rec = record(await run(this.who, 'read', 'readback', path, 1, () => fsp.readFile(join(mnt, path), 'utf8')));
    rec.writeEnd = writeRec.t + writeRec.ms / 1000;
    if (rec.cls === 'ok' && rec.value !== `${value}\n`) {
      // How long does the mount keep showing something else?
      const seen = rec.value;
      let until = null;
      const end = el() + opt['cache-ttl'] + 3;
      while (el() < end && !until) {
        await sleep(200);
        const again = await fsp.readFile(join(mnt, path), 'utf8').catch((e) => e.code);
        if (again === `${value}\n`) until = el();
      }
      const w = rec.t - rec.writeEnd;
      checks.readback.push({ who: this.who, t: rec.t, related: writeRec, detail: `${path}: wrote ${JSON.stringify(value)} (ok at ${fmtS(rec.writeEnd)}), ` +
        `read ${JSON.stringify(seen)} ${(w * 1000).toFixed(0)} ms later; ` +
        (until ? `the mount showed the written value ${fmtS(until - rec.t)} after that read` : `still not shown ${opt['cache-ttl'] + 3} s later`) });
    }
    delete rec.value;
  }

  async doAlias() {
    const value = `w${this.i}-${++this.n}`;
    const path = `${this.resDir}/alias`;
    const rec = record(await run(this.who, 'write', 'write-alias', path, 2, () => writeField(path, value), { value }));
    this.alias.writes.push({ value, rec });
    if (rec.cls === 'ok') {
      await this.checkNow('alias', this.alias, value, rec,
        (t) => t.resources.find((r) => r.id === this.resId)?.alias ?? null);
      await this.readBack(path, value, rec);
    }
  }

  async doActive() {
    const value = this.active.next;
    const path = `${this.groupDir}/is-active`;
    const rec = record(await run(this.who, 'write', 'write-is-active', path, 2, () => writeField(path, String(value)), { value }));
    this.active.writes.push({ value, rec });
    if (rec.cls === 'ok') {
      this.active.next = !value;
      await this.checkNow('is-active', this.active, value, rec,
        (t) => t.groups.find((g) => g.id === this.groupId)?.isActive ?? null);
      await this.readBack(path, String(value), rec);
    }
  }

  async doMember() {
    const add = this.member.next;
    const path = `${this.groupDir}/users/${this.email}`;
    const prev = this.member.writes.at(-1);
    const prevFailed = prev && prev.value === add && prev.rec.cls !== 'ok';
    const t0 = el();
    // A failed add (remove) that may have run late at the server, after
    // the writer's later successful remove (add).
    const lateFailed = () => this.member.writes.find((w) => w.value === add && w.rec.cls !== 'ok' &&
      w.rec.t + w.rec.ms / 1000 + lateWindow() >= t0);
    const raw = await run(this.who, 'write', add ? 'ln-s-member' : 'rm-member', path, 2,
      () => (add ? fsp.symlink(`../../../users/${this.email}`, join(mnt, path)) : fsp.unlink(join(mnt, path))), { value: add });
    // EEXIST on an add (ENOENT on a remove) right after a failed one: the
    // failed one took effect at the server.
    const raceErr = raw.errno === (add ? 'EEXIST' : 'ENOENT');
    const race = raceErr && prevFailed
      ? `member ${add ? 'add EEXIST' : 'remove ENOENT'} after a failed ${add ? 'add' : 'remove'} that took effect`
      : raceErr && lateFailed()
        ? `member ${add ? 'add EEXIST' : 'remove ENOENT'}: an earlier failed ${add ? 'add' : 'remove'} ran late at the server` : null;
    if (!race && raw.errno === 'ENOENT' && !add) raw.related = this.member.writes.findLast((w) => w.value && w.rec.cls === 'ok')?.rec;
    if (!race && raw.errno === 'ENOENT' && add) raw.related = raw;
    const rec = record(raw, race);
    this.member.writes.push({ value: add, rec });
    if (rec.cls === 'ok') {
      this.member.next = !add;
      await this.checkNow('member', this.member, add, rec,
        (t) => (t.groups.find((g) => g.id === this.groupId)?.userIds || []).includes(this.userId));
    } else if (rec.cls === 'race') {
      this.member.next = !add;
    }
  }

  async doGroup() {
    const T = this.trans;
    if (T.cur === null) {
      const name = `soak-w${this.i}-${++this.n}`;
      const path = `groups/${name}`;
      const rec = record(await run(this.who, 'write', 'mkdir-group', path, 2, () => fsp.mkdir(join(mnt, path))));
      T.all.set(name, { mk: rec, rms: [] });
      if (rec.cls !== 'ok') return;
      T.cur = name;
      const t = await tenantAfter(rec.t + rec.ms / 1000);
      const c = t.groups.filter((g) => g.name === name).length;
      checks.verified++;
      if (c === 0) checks.lost.push({ who: this.who, what: 'create', t: rec.t, detail: `mkdir ${path} ok at ${fmtS(rec.t)}, no such group in the tenant right after` });
    } else {
      const name = T.cur;
      const path = `groups/${name}`;
      const e = T.all.get(name);
      const prevFailed = e.rms.length > 0;
      const raw = await run(this.who, 'write', 'rmdir-group', path, 2, () => fsp.rmdir(join(mnt, path)));
      if (!prevFailed && raw.errno === 'ENOENT') raw.related = e.mk;
      const rec = record(raw, prevFailed && raw.errno === 'ENOENT' ? 'rmdir ENOENT after a failed rmdir that took effect' : null);
      e.rms.push(rec);
      if (rec.cls === 'ok') {
        T.cur = null;
        const t = await tenantAfter(rec.t + rec.ms / 1000);
        checks.verified++;
        if (t.groups.some((g) => g.name === name)) checks.lost.push({ who: this.who, what: 'delete', t: rec.t, detail: `rmdir ${path} ok at ${fmtS(rec.t)}, the group is still in the tenant right after` });
      } else if (rec.cls === 'race' || rec.cls === 'unexplained' || e.rms.length >= 5) {
        T.cur = null; // gone (or hopeless): the next turn creates a new one
      }
    }
  }

  async loop() {
    const acts = [() => this.doAlias(), () => this.doActive(), () => this.doGroup(), () => this.doMember()];
    while (!stopping) {
      await acts[this.turn++ % acts.length]();
      if (daemonExit) break;
      await sleep(this.R.think(opt['write-think-ms']));
    }
  }

  // The final state of one field against the writes that were made.
  finalField(what, hist, seen, show = JSON.stringify) {
    const w = hist.writes;
    let lastOk = -1;
    w.forEach((x, j) => { if (x.rec.cls === 'ok') lastOk = j; });
    const allowed = new Set(w.slice(lastOk + 1).filter((x) => x.rec.cls !== 'ok').map((x) => x.value));
    allowed.add(lastOk >= 0 ? w[lastOk].value : hist.initial);
    if (allowed.has(seen)) return;
    const okRec = lastOk >= 0 ? w[lastOk].rec : null;
    const detail = `tenant has ${show(seen)} at the end; last successful write ${okRec ? `${show(w[lastOk].value)} at ${fmtS(okRec.t)}` : 'none'}`;
    if (okRec && this.lateExplains(hist, seen, okRec)) checks.late.push({ who: this.who, what, detail });
    else checks.lost.push({ who: this.who, what, detail: `${detail} (end of run)` });
  }

  finalCheck(t) {
    this.finalField('alias', this.alias, t.resources.find((r) => r.id === this.resId)?.alias ?? null);
    this.finalField('is-active', this.active, t.groups.find((g) => g.id === this.groupId)?.isActive ?? null);
    this.finalField('member', this.member, (t.groups.find((g) => g.id === this.groupId)?.userIds || []).includes(this.userId));
    for (const [name, e] of this.trans.all) {
      const c = t.groups.filter((g) => g.name === name).length;
      const rmOk = e.rms.some((r) => r.cls === 'ok');
      const rmTried = e.rms.length > 0;
      if (c > 1) checks.dup.push({ who: this.who, what: 'create', detail: `${c} groups named ${name} (mkdir: ${e.mk.errno || 'ok'} at ${fmtS(e.mk.t)})` });
      if (e.mk.cls === 'hang' && e.mk.lateErrno === 'ok') {
        // counted as a hang already; its create did succeed, late
      } else if (e.mk.cls !== 'ok' && c >= 1) {
        // Did a request time out when the call failed (a "delay" fault: the
        // server still runs the create, fault-delay-ms after it arrived)?
        const end = e.mk.t + e.mk.ms / 1000;
        const timedOut = daemonLines.some((l) => Math.abs(l.t - end) < 0.05 && /timed out/.test(l.line));
        checks.dup.push({ who: this.who, what: 'failed create exists', rec: e.mk, detail: `mkdir groups/${name} failed with ${e.mk.errno} at ${fmtS(e.mk.t)} after ${e.mk.ms} ms, ` +
          `the group exists at the end${timedOut ? ' (a request timed out as the call failed)' : ''}` });
      } else if (e.mk.cls === 'ok' && rmOk && c >= 1) {
        checks.lost.push({ who: this.who, what: 'delete', detail: `rmdir groups/${name} succeeded, the group exists at the end` });
      } else if (e.mk.cls === 'ok' && !rmTried && c === 0) {
        checks.lost.push({ who: this.who, what: 'create', detail: `mkdir groups/${name} succeeded at ${fmtS(e.mk.t)}, no such group at the end` });
      }
    }
  }

  // What the mount shows once its cache expired, against the tenant.
  async viewCheck(t) {
    const res = t.resources.find((r) => r.id === this.resId);
    const grp = t.groups.find((g) => g.id === this.groupId);
    const expect = [
      [`${this.resDir}/alias`, `${res?.alias ?? ''}\n`],
      [`${this.groupDir}/is-active`, `${grp?.isActive}\n`],
    ];
    for (const [path, want] of expect) {
      const rec = record(await run(this.who, 'read', 'final-cat', path, 1, () => fsp.readFile(join(mnt, path), 'utf8')));
      if (rec.cls === 'ok' && rec.value !== want) checks.stale.push({ who: this.who, detail: `${path} shows ${JSON.stringify(rec.value)}, the tenant has ${JSON.stringify(want)}` });
      delete rec.value;
    }
    const isMember = (grp?.userIds || []).includes(this.userId);
    const lp = `${this.groupDir}/users/${this.email}`;
    const raw = await run(this.who, 'read', 'final-stat', lp, 1, () => fsp.lstat(join(mnt, lp)));
    const absent = raw.errno === 'ENOENT';
    if (absent) { delete raw.errno; raw.answer = 'ENOENT'; } // an answer here, not an error
    const rec = record(raw);
    const shows = absent ? false : rec.cls === 'ok' ? true : null;
    if (shows !== null && shows !== isMember) checks.stale.push({ who: this.who, detail: `${lp} ${shows ? 'exists' : 'is missing'}, the tenant says member=${isMember}` });
  }
}

// ---------------------------------------------------------------- set-up

async function setupObjects(t) {
  const netCounts = new Map();
  for (const n of t.remoteNetworks) netCounts.set(n.name, (netCounts.get(n.name) || 0) + 1);
  const net = t.remoteNetworks.find((n) => netCounts.get(n.name) === 1 && /^[A-Za-z0-9 _-]+$/.test(n.name)) || t.remoteNetworks[0];
  const users = t.users.filter((u) => u.email && /^[A-Za-z0-9._@+-]+$/.test(u.email) && u.state === 'ACTIVE');
  if (!users.length) throw new Error('the tenant has no active user with an email');
  const out = [];
  for (let i = 0; i < opt.writers; i++) {
    const groupName = `soak-own-w${i}`;
    const resName = `soak-res-w${i}`;
    const g = await gql('mutation($n:String!){groupCreate(name:$n){ok error entity{id}}}', { n: groupName });
    if (!g.groupCreate.ok) throw new Error(`groupCreate ${groupName}: ${g.groupCreate.error}`);
    const r = await gql('mutation($n:String!,$a:String!,$net:ID!){resourceCreate(name:$n,address:$a,remoteNetworkId:$net){ok error entity{id}}}',
      { n: resName, a: `w${i}.soak.internal`, net: net.id });
    if (!r.resourceCreate.ok) throw new Error(`resourceCreate ${resName}: ${r.resourceCreate.error}`);
    const u = users[i % users.length];
    out.push({ groupName, groupId: g.groupCreate.entity.id, resName, resId: r.resourceCreate.entity.id,
      email: u.email, userId: u.id });
  }
  return out;
}

// ---------------------------------------------------------------- clean-up

// The end of a run: commands killed, the mount unmounted (the daemon gets
// 3 s to exit, then is killed), the simulator stopped, then the harness's
// cleanupSync() (mnt removed once unmounted); the logs are closed.
async function cleanup() {
  killCommands();
  if (daemon) await daemon.unmount({ exitMs: 3000 });
  if (sim) await sim.stop({ ms: 3000 });
  cleanupSync();
  // Hung calls that return later must not write to an ended stream.
  const streams = [opsLog, daemonLogStream];
  opsLog = null;
  daemonLogStream = null;
  for (const st of streams) if (st) await new Promise((r) => st.end(r));
}

// ---------------------------------------------------------------- report

function opLine(name, s) {
  const errs = [...s.errs].sort((a, b) => b[1] - a[1]).map(([e, n]) => `${e} ${n}`).join(', ');
  return `  ${name.padEnd(16)} ${String(s.n).padStart(7)}  ok ${String(s.ok).padStart(7)}  max ${(s.maxMs / 1000).toFixed(1).padStart(5)} s${errs ? `  errors: ${errs}` : ''}`;
}

// The daemon's lines during an operation: those about its path, and those
// about no path (the request-level warnings).
// At most 8: every line about the path, then the last request-level ones.
function daemonLinesNear(t0, t1, path = '') {
  const near = daemonLines.filter((l) => l.t >= t0 - 0.2 && l.t <= t1 + 0.2);
  const mine = near.filter((l) => path && l.line.includes(`/${path}:`)).slice(0, 8);
  const general = near.filter((l) => !/: \/[^:]*: /.test(l.line) && !/rate limited: waiting/.test(l.line));
  return [...mine, ...general.slice(-Math.max(0, 8 - mine.length))].sort((a, b) => a.t - b.t)
    .map((l) => `        [${l.t.toFixed(3)}] ${l.line}`);
}

// Other writers' writes that ended within 20 ms of @rec's end: the daemon
// took their results into its cache at the same moment.
function sameMoment(rec) {
  const end = rec.t + rec.ms / 1000;
  const near = counts.writes.filter((w) => w !== rec && w.who !== rec.who &&
    Math.abs(w.t + w.ms / 1000 - end) <= 0.02);
  const what = `${rec.who} ${rec.op} ${rec.path} ${rec.errno || 'ok'} ended at ${fmtS(end)}`;
  return `        (${what}; ${near.length ? `in the same 20 ms: ${near.map((w) => `${w.who} ${w.op} ${w.errno || 'ok'}`).join(', ')}` : 'no other write ended within 20 ms'})`;
}

// A reader's ENOENT on a writer's group is a race only if the group was
// not there for the whole call: created (mkdir returned 0) before the call
// began, and no rmdir begun before the call ended, is an ENOENT on an
// object that exists.
function recheckReaderRaces(writers) {
  for (const rec of counts.raceReads) {
    const bad = (rec.lines || [{ path: rec.path, errno: rec.errno }]).find((l) => {
      const m = l.errno === 'ENOENT' && l.path.match(/soak-w(\d+)-(\d+)/);
      if (!m) return false;
      const e = writers[Number(m[1])]?.trans.all.get(m[0]);
      if (!e || e.mk.cls !== 'ok') return false;
      const end = rec.t + rec.ms / 1000;
      return e.mk.t + e.mk.ms / 1000 < rec.t && !e.rms.some((r) => r.t <= end);
    });
    if (!bad) continue;
    const why = rec.why || `${rec.op} ${rec.errno} on a path a writer changes`;
    bump(counts.race, why, -1);
    if (!counts.race.get(why)) counts.race.delete(why);
    rec.cls = 'unexplained';
    rec.errno = bad.errno;
    rec.related = writers[Number(bad.path.match(/soak-w(\d+)-/)[1])].trans.all.get(bad.path.match(/soak-w\d+-\d+/)[0]).mk;
    rec.note = `${bad.path}: ENOENT, but its mkdir had returned 0 at ${fmtS(rec.related.t + rec.related.ms / 1000)} and no rmdir had begun`;
    counts.unexplained.push(rec);
  }
  counts.unexplained.sort((a, b) => a.t - b.t);
}

function describe(rec) {
  const lines = rec.lines ? ` (${rec.lines.filter((l) => l.cls !== 'race' && l.cls !== 'fault').map((l) => `${l.path}: ${l.errno}`).slice(0, 3).join('; ')})` : '';
  return `    ${fmtS(rec.t).padStart(7)} ${rec.who.padEnd(4)} ${rec.op} ${rec.path}: ${rec.errno}${lines} after ${rec.ms} ms [${rec.phase}]` +
    (rec.lateMs !== undefined ? `, finished after ${rec.lateMs} ms with ${rec.lateErrno}` : '');
}

function logSummary() {
  // Daemon log lines by kind (numbers, paths and ids folded).
  const kinds = new Map();
  for (const { line } of daemonLines) {
    const k = line.replace(/'[^']*'/g, "'…'").replace(/"[^"]*"/g, '"…"').replace(/\d+(\.\d+)?/g, 'N').slice(0, 110);
    bump(kinds, k);
  }
  return [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, n]) => `  ${String(n).padStart(6)}  ${k}`);
}

// ---------------------------------------------------------------- main

async function main() {
  opt = parseArgs(process.argv.slice(2));
  BASE_MS = ((opt.retries + 1) * opt.timeout + opt.margin) * 1000;
  for (const [f, what] of [[BIN, 'the daemon (meson setup build && ninja -C build)'], [SIM, 'the simulator']]) {
    if (!existsSync(f)) { console.error(`bench/soak.mjs: ${f} is missing: ${what}`); process.exit(2); }
  }
  cleanStale(PREFIX);
  mntTop = workDir(PREFIX);
  outDir = opt.out || mntTop;
  mkdirSync(outDir, { recursive: true });
  mnt = join(mntTop, 'mnt');
  mkdirSync(mnt);
  removeAtExit(mnt);
  opsLog = createWriteStream(join(outDir, 'ops.jsonl'));

  let interrupted = null;
  let wake = null;
  const onSignal = (sig) => {
    if (stopping || !faultsOn && !wake) {
      if (!hardExit) {
        hardExit = true;
        console.error(`\nbench/soak.mjs: ${sig} again: cleaning up and leaving`);
        cleanupSync();
        process.exit(130);
      }
      return;
    }
    interrupted = sig;
    console.error(`\nbench/soak.mjs: ${sig}: stopping the loops, then checking (${sig} again to leave at once)`);
    stopping = true;
    wake?.();
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => onSignal(s));

  const startedAt = new Date();
  await startSoakSim();
  const t0 = await sim.get('/_sim/tenant');
  const setups = await setupObjects(t0);
  await mountFs();
  const st0 = procStatus(daemon.pid);
  const tree = await walk();
  const pools = readerPools(tree);
  const stWarm = procStatus(daemon.pid);
  const writers = setups.map((s, i) => new Writer(i, s));

  console.log(`twingatefs soak: ${opt.minutes} min, ${opt.readers} readers, ${opt.writers} writers, tenant ${opt.size} (seed ${opt.seed}), started ${startedAt.toISOString()}`);
  console.log(`  mount: timeout=${opt.timeout},retries=${opt.retries},cache_ttl=${opt['cache-ttl']}${opt.rate === 'off' ? ',rate_read=0,rate_write=0' : ''}${opt['mount-opts'] ? `,${opt['mount-opts']}` : ''}; ` +
    `hang = past ${BASE_MS / 1000} s (stat, readlink, cat), ${2 * BASE_MS / 1000} s (writes), ${3 * BASE_MS / 1000} s (ls, find)`);
  console.log(`  tree before the faults: ${tree.dirs.length} folders, ${tree.files.length} files, ${tree.links.length} links; logs in ${outDir}`);

  await sim.post('/_sim/stats/reset');
  await faultsStart();
  const tFaults = el();
  console.log(`  faults: ${Math.round(opt['fault-rate'] * 100)}% of requests, kinds ${faultKinds.join(',')}, delay ${opt['fault-delay-ms']} ms, Retry-After 1 s, seed ${opt.seed}`);

  const loops = [
    ...Array.from({ length: opt.readers }, (_, i) => reader(i, pools)),
    ...writers.map((w) => w.loop()),
  ];
  const progress = opt.progress > 0 ? setInterval(async () => {
    const s = await sim.get('/_sim/stats').catch(() => null);
    const p = procStatus(daemon.pid);
    console.log(`  [${fmtS(el() - tFaults).padStart(7)}] ops ${counts.reads + counts.nwrites} (reads ${counts.reads}, writes ${counts.nwrites}); ` +
      `errors: faults ${[...counts.fault.values()].reduce((a, b) => a + b, 0)}, writers' races ${[...counts.race.values()].reduce((a, b) => a + b, 0)}, ` +
      `unexplained ${counts.unexplained.length}, hangs ${counts.hangs.length}; lost ${checks.lost.length}; ` +
      `sim requests ${s?.requests ?? '?'} faults ${s?.faults ?? '?'}; RSS ${p ? mib(p.rss) : 'gone'}`);
  }, opt.progress * 1000) : null;

  await Promise.race([
    sleep(opt.minutes * 60000),
    new Promise((r) => { wake = r; }),
    (async () => { while (!daemonExit) await sleep(200); })(),
  ]);
  stopping = true;
  const tStop = el();
  await Promise.all(loops);
  if (progress) clearInterval(progress);
  const tLoopsDone = el();

  // Faults off: from now on every request must succeed.
  await sim.send('DELETE', '/_sim/faults');
  faultsOn = false;
  const simStats = await sim.get('/_sim/stats');
  const tFaultsOff = el();

  // Delayed requests still running at the server land within fault-delay-ms;
  // then let the mount's cache expire.
  const waitS = Math.max(opt['fault-delay-ms'] / 1000 + 1, opt['cache-ttl'] + 2);
  await sleep(waitS * 1000);
  const tFinal = await sim.get('/_sim/tenant');
  for (const w of writers) w.finalCheck(tFinal);
  recheckReaderRaces(writers);
  const soakGroups = tFinal.groups.filter((g) => /^soak-w\d+-\d+$/.test(g.name));
  for (const g of soakGroups) {
    const m = g.name.match(/^soak-w(\d+)-/);
    if (!writers[Number(m[1])]?.trans.all.has(g.name)) checks.dup.push({ who: '?', what: 'unknown group', detail: `${g.name} exists, no writer tried to create it` });
  }

  // The mount's view once its cache expired (daemon still the same).
  let daemonStats = '';
  if (!daemonExit) {
    for (const w of writers) await w.viewCheck(tFinal);
    const rec = record(await run('end', 'read', 'final-ls', 'groups', 3, () => fsp.readdir(join(mnt, 'groups'))));
    if (rec.cls === 'ok') {
      const shown = new Set(rec.value.filter((n) => /^soak-w\d+-\d+$/.test(n)));
      const want = new Set(soakGroups.map((g) => g.name));
      const extra = [...shown].filter((n) => !want.has(n));
      const missing = [...want].filter((n) => !shown.has(n));
      if (extra.length || missing.length) checks.stale.push({ who: 'end', detail: `ls groups: shows ${extra.length} soak groups the tenant lacks (${extra.slice(0, 5).join(' ')}), misses ${missing.length} (${missing.slice(0, 5).join(' ')})` });
    }
    delete rec.value;
    daemonStats = await fsp.readFile(join(mnt, '.twingatefs', 'stats'), 'utf8').catch((e) => `(${e.code})`);
  }
  const stEnd = daemon ? procStatus(daemon.pid) : null;

  // Unmount: the daemon must leave cleanly.
  const daemonDiedEarly = daemonExit ? { ...daemonExit } : null;
  const unmounted = await daemon.unmount({ exitMs: 10000 });
  const daemonBad = daemonDiedEarly || !daemonExit || daemonExit.code !== 0 ||
    daemonLines.some((l) => /AddressSanitizer|LeakSanitizer|runtime error:|Segmentation|Aborted|assert/i.test(l.line));

  // ------------------------------------------------------------ report
  const sum = (m) => [...m.values()].reduce((a, b) => a + b, 0);
  const faultErr = sum(counts.fault);
  const raceErr = sum(counts.race);
  const out = [];
  out.push('');
  out.push(`== twingatefs soak report (${fmtS(tStop - tFaults)} of load${interrupted ? `, interrupted by ${interrupted}` : ''}; ` +
    `loops drained in ${fmtS(tLoopsDone - tStop)}) ==`);
  out.push(`operations: ${counts.reads + counts.nwrites} (reads ${counts.reads}, writes ${counts.nwrites})`);
  const order = ['cat', 'stat', 'readlink', 'ls', 'find', 'readback', 'write-alias', 'write-is-active', 'mkdir-group', 'rmdir-group', 'ln-s-member', 'rm-member', 'final-cat', 'final-stat', 'final-ls'];
  for (const op of order) if (counts.byOp.has(op)) out.push(opLine(op, counts.byOp.get(op)));
  out.push(`errors explained by injected faults: ${faultErr} (reads ${counts.faultReads}, writes ${counts.faultWrites}; ` +
    `${[...counts.fault].map(([e, n]) => `${e} ${n}`).join(', ') || 'none'})`);
  out.push(`  simulator: ${simStats.requests} requests served (${simStats.queries} queries, ${simStats.mutations} mutations executed), ` +
    `${simStats.faults} faults injected (${(100 * simStats.faults / Math.max(1, simStats.requests)).toFixed(1)}%), ` +
    `${simStats.errors} spoiled or error answers, ${simStats.rateLimited} 429s from the rate limiter`);
  out.push(`  ${counts.faultWrites} failed writes for ${simStats.faults} faults: ` +
    (counts.faultWrites + counts.faultReads <= simStats.faults ? 'at most one error per fault, as it should be' : 'MORE errors than faults'));
  if (counts.faultWrites + counts.faultReads > simStats.faults) {
    counts.unexplained.push({ t: tFaultsOff, who: 'end', op: 'correlation', path: '', errno: `${counts.faultWrites + counts.faultReads} fault-like errors > ${simStats.faults} faults`, ms: 0, phase: 'faults' });
  }
  out.push(`errors explained by the writers' own work: ${raceErr}${raceErr ? ` (${[...counts.race].map(([k, n]) => `${k}: ${n}`).join('; ')})` : ''}`);
  out.push(`errors not explained: ${counts.unexplained.length}`);
  for (const r of counts.unexplained.slice(0, 15)) {
    out.push(describe(r));
    if (r.note) out.push(`        ${r.note}`);
    if (r.related) out.push(sameMoment(r.related));
    if (r.t !== undefined && r.ms) out.push(...daemonLinesNear(r.t, r.t + r.ms / 1000, r.path));
  }
  out.push(`hangs (past the deadline): ${counts.hangs.length}`);
  for (const r of counts.hangs.slice(0, 10)) out.push(describe(r));
  out.push(`wrong content read (id, name, created-at, links): ${counts.wrong.length}`);
  for (const r of counts.wrong.slice(0, 5)) out.push(`    ${fmtS(r.t)} ${r.who} ${r.op} ${r.path}: got ${JSON.stringify(r.value)}, expected ${JSON.stringify(r.expected)}`);
  out.push(`writes checked in the tenant right after their success: ${checks.verified}; read back through the mount: ` +
    `${counts.byOp.get('readback')?.n ?? 0}, mismatches ${checks.readback.length}`);
  for (const r of checks.readback.slice(0, 5)) {
    out.push(`    ${fmtS(r.t)} ${r.who} ${r.detail}`);
    if (r.related) out.push(sameMoment(r.related));
  }
  out.push(`writes lost: ${checks.lost.length}`);
  for (const r of checks.lost.slice(0, 10)) out.push(`    ${r.who} ${r.what}: ${r.detail}`);
  if (checks.late.length) {
    out.push(`  (explained, not lost: ${checks.late.length} successful writes overwritten by an earlier write that failed at the client but ran late at the server)`);
    for (const r of checks.late.slice(0, 5)) out.push(`    ${r.who} ${r.what}: ${r.detail}`);
  }
  out.push(`writes duplicated: ${checks.dup.length}`);
  for (const r of checks.dup.slice(0, 20)) {
    out.push(`    ${r.who} ${r.what}: ${r.detail}`);
    if (r.rec) out.push(...daemonLinesNear(r.rec.t, r.rec.t + r.rec.ms / 1000, r.rec.path));
  }
  out.push(`stale view after the cache expired (faults off ${waitS} s): ${checks.stale.length}`);
  for (const r of checks.stale.slice(0, 10)) out.push(`    ${r.who} ${r.detail}`);
  const rssLine = (s) => (s ? `VmRSS ${mib(s.rss)}, VmHWM ${mib(s.hwm)}, ${s.threads} threads` : 'n/a');
  out.push(`daemon RSS: after mount ${rssLine(st0)}; start of load (tree walked) ${rssLine(stWarm)}; end ${rssLine(stEnd)}`);
  const ds = Object.fromEntries(daemonStats.split('\n').filter((l) => l && !l.startsWith('requests ')).map((l) => l.split(': ')));
  if (ds.requests) {
    out.push(`daemon stats: requests ${ds.requests} (queries ${ds.queries}, mutations ${ds.mutations}), retries ${ds.retries}, ` +
      `rate-limited ${ds['rate-limited']}, failures ${ds.failures}, cache hits ${ds['cache-hits']} misses ${ds['cache-misses']} ` +
      `stale-served ${ds['cache-stale-served']}, entries ${ds['cache-entries']}, ${ds['cache-bytes']} bytes`);
  }
  out.push(`daemon: ${daemonDiedEarly ? `DIED during the run at ${fmtS(daemonDiedEarly.t)} (code ${daemonDiedEarly.code}, signal ${daemonDiedEarly.signal})`
    : unmounted.killed || !daemonExit ? 'did not exit at unmount; killed'
      : `exited ${daemonExit.code === 0 ? 'cleanly' : `with code ${daemonExit.code} signal ${daemonExit.signal}`} at unmount`}; ` +
    `${daemonLines.length} log lines, most frequent:`);
  out.push(...logSummary());
  const bad = counts.unexplained.length + counts.hangs.length + counts.wrong.length + checks.lost.length +
    checks.dup.length + checks.stale.length + checks.readback.length + (daemonBad ? 1 : 0);
  out.push(`result: ${bad ? 'FAIL' : 'PASS'} (goal: 0 unexplained errors, 0 hangs, 0 writes lost, 0 writes duplicated)`);
  out.push(`every operation: ${join(outDir, 'ops.jsonl')}; daemon log: ${join(outDir, 'daemon.log')}`);
  console.log(out.join('\n'));
  await cleanup();
  return bad ? 1 : 0;
}

// Hangs in FUSE calls occupy libuv threadpool threads for good; give the
// pool room for many (it is sized once, before first use: so re-exec).
if (!process.env.UV_THREADPOOL_SIZE) {
  const child = spawn(process.execPath, [...process.execArgv, SELF, ...process.argv.slice(2)],
    { stdio: 'inherit', detached: true, env: { ...process.env, UV_THREADPOOL_SIZE: '128' } });
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(s, () => { try { child.kill(s); } catch { /* gone */ } });
  }
  child.on('exit', (code, sig) => process.exit(code ?? (sig ? 128 + 2 : 1)));
} else {
  main().then((code) => process.exit(code), async (e) => {
    console.error(`bench/soak.mjs: ${e.stack || e}`);
    try { await cleanup(); } catch { cleanupSync(); }
    process.exit(1);
  });
}
