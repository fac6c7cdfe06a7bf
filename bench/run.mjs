#!/usr/bin/env node
// bench/run.mjs - what twingatefs costs a real administrator (issue 5).
//
// Starts the simulator (tests/sim/server.mjs), mounts twingatefs on a fresh
// temporary folder and runs the commands an administrator runs (ls, ls -l,
// cat, grep -r, find, rsync -a, echo > field, mkdir + tokens).  For each one
// it prints the HTTP requests the simulator served, the lower bound for
// that work, a naive client's count, wall time, the daemon's peak RSS and
// the API bytes it received.  Then the mount's overhead on warm reads
// against a tmpfs copy of the same tree.  See bench/README.md.
//
// Node.js standard library only.  The simulator, the mounts and the
// clean-up are tests/harness.mjs's (shared with the integration tests and
// bench/soak.mjs): on every exit path it unmounts (fusermount3 -u, then
// -uz), kills the daemons, the simulators and the running command, removes
// the temporary folders; a mount a crashed run left is unmounted at start.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BIN, startSim, mount, spawnGroup, killGroup, workDir,
         cleanStale, cleanupSync, exitOnSignals } from '../tests/harness.mjs';

const TOKEN = 'sim-provision'; // mkdir + tokens needs the provision level
const PREFIX = 'twingatefs-bench-';
const SIM_START_MS = 60000; // the large tenant takes a while to make

// ------------------------------------------------------------------ options

const USAGE = `usage: bench/run.mjs [options]

  --rate off|real       off (default): no rate limits, in the simulator nor in
                        twingatefs (rate_read=0,rate_write=0); real: the
                        simulator enforces 60 reads / 20 writes a minute and
                        twingatefs paces itself with its defaults
  --size S              tiny|small|large|<devices> (default: large with
                        --rate off, 2000 with --rate real)
  --latency-ms N        simulator latency per request (default 50)
  --max-nodes N         the simulator refuses a request asking for more than
                        N nodes, as an API with a query cost limit does
                        (default 0: no limit)
  --only a,b,...        run only these operations (names below; '*' globs,
                        e.g. 'ls-*'); 'overhead' is one of them
  --mount-opts 'a=b,..' extra -o options for twingatefs (after ours: they win)
  --json FILE           also write the figures as JSON to FILE
  --overhead-size S     tenant of the overhead measurement (default small)
  --overhead-reps N     runs of find+cat per timing (default 20)
  --op-timeout S        give up an operation after S seconds (default 3600)
  --shared-budget       with --rate real, keep the simulator's rate-limit
                        windows between operations (default: each operation
                        starts with a full minute's budget)
  --latency-cost        run each cold read again, fresh mount, with no
                        latency, and report what the latency added against
                        issue 5's bound, 1.5 x requests x latency /
                        concurrency (the mount's concurrency=, default 3)
  -h, --help

operations: ${'{OPS}'}
`;

function die(msg) {
  process.stderr.write(`bench/run.mjs: ${msg}\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      rate: { type: 'string', default: 'off' },
      size: { type: 'string' },
      'latency-ms': { type: 'string', default: '50' },
      'max-nodes': { type: 'string', default: '0' },
      only: { type: 'string' },
      'mount-opts': { type: 'string', default: '' },
      json: { type: 'string' },
      'overhead-size': { type: 'string', default: 'small' },
      'overhead-reps': { type: 'string', default: '20' },
      'op-timeout': { type: 'string', default: '3600' },
      'shared-budget': { type: 'boolean', default: false },
      'latency-cost': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }).values;
} catch (e) {
  die(e.message);
}

// ------------------------------------------------------ clean-up machinery

const problems = []; // daemon failures worth reporting

exitOnSignals('bench/run.mjs');
for (const ev of ['uncaughtException', 'unhandledRejection']) {
  process.on(ev, (e) => {
    process.stderr.write(`bench/run.mjs: ${e?.stack || e}\n`);
    cleanupSync();
    process.exit(1);
  });
}

const log = (s) => process.stderr.write(s);

// ------------------------------------------------------------ the daemon

let mountSeq = 0;

// Mounts twingatefs in the foreground (-f) on @dir against @sim; the
// handle gets a number (n), for the problems reported.
async function mountFs(sim, dir, opts, stateHome) {
  let d;
  try {
    d = await mount(sim, dir, { token: TOKEN, opts, mountMs: 30000, logMax: 100000,
      env: { XDG_STATE_HOME: stateHome, TWINGATE_NETWORK: undefined, TWINGATE_URL: undefined,
             TWINGATE_API_TOKEN_FILE: undefined } });
  } catch (e) {
    if (e.log === undefined) throw e;
    throw new Error(`mount failed (${JSON.stringify(e.exit)}): ${tail(e.log, 6).replace(/\n/g, ' | ')}`);
  }
  d.n = ++mountSeq;
  return d;
}

function tail(s, n = 15) {
  return s.trimEnd().split('\n').slice(-n).join('\n');
}

// Unmounts @d (the harness's unmount, 20 s for the daemon to exit) and
// records what went wrong in problems.
async function unmountFs(d, why = '') {
  if (!d) return;
  const r = await d.unmount({ exitMs: 20000 });
  if (r.uFailed) problems.push({ what: `fusermount3 -u failed${why}`, detail: r.uFailed });
  if (r.killed) {
    problems.push({ what: `daemon #${d.n} did not exit 20 s after unmount; killed`, detail: tail(d.log()) });
  }
  if (r.exit && (r.exit.code !== 0 || r.exit.signal)) {
    problems.push({ what: `daemon #${d.n} exited with ${JSON.stringify(r.exit)}${why}`,
                    detail: tail(d.log()) });
  }
  if (r.sanitizer) problems.push({ what: `sanitizer report from daemon #${d.n}`, detail: r.sanitizer });
}

function daemonStats(d) {
  try {
    const out = {};
    for (const l of readFileSync(join(d.dir, '.twingatefs', 'stats'), 'utf8').split('\n')) {
      const m = l.match(/^([\w-]+): (\d+)/);
      if (m) out[m[1]] = Number(m[2]);
    }
    return out;
  } catch {
    return null;
  }
}

function resetPeak(pid) {
  try { writeFileSync(`/proc/${pid}/clear_refs`, '5'); return true; } catch { return false; }
}

// The daemon's resident memory now by kind, in KiB: anon (its own heap,
// stacks) and file (pages of the program and its libraries, shared with
// every process that maps them: a foreground daemon keeps those it
// touched while starting, a forked one only those it touches after).
function residentKiB(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number((s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm')) || [])[1]);
    return { anon: kb('RssAnon'), file: kb('RssFile') };
  } catch {
    return { anon: null, file: null };
  }
}

function peakKiB(pid) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

// ----------------------------------------------------------- shell commands

// Runs @cmd with bash in @cwd, in its own process group (so Ctrl-C reaches
// us first and we stop it in order; the harness kills it at clean-up).  Resolves {code, signal, stdout,
// stderr, ms}.
function runCmd(cmd, cwd, env = {}, timeoutS = 3600) {
  return new Promise((res) => {
    const t0 = process.hrtime.bigint();
    const p = spawnGroup('bash', ['-c', cmd], { cwd,
      env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '', timedOut = false;
    p.stdout.on('data', (b) => { if (stdout.length < 1e6) stdout += b; });
    p.stderr.on('data', (b) => { if (stderr.length < 1e5) stderr += b; });
    const timer = setTimeout(() => { timedOut = true; killGroup(p.pid, 'SIGKILL'); }, timeoutS * 1000);
    p.once('close', (code, signal) => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      res({ code, signal, stdout, stderr: timedOut ? `timed out after ${timeoutS} s\n${stderr}` : stderr, ms });
    });
  });
}

// ------------------------------------------------------------ tenant model

// Counts, pages and nested overflow from /_sim/tenant.
function model(t, P) {
  const n = {
    networks: t.remoteNetworks.length,
    connectors: t.connectors.length,
    resources: t.resources.length,
    groups: t.groups.length,
    users: t.users.length,
    devices: t.devices.length,
    'service-accounts': t.serviceAccounts.length,
    'security-policies': t.securityPolicies.length,
  };
  const pages = (k) => Math.max(1, Math.ceil(n[k] / P));
  const over = (sizes) => sizes.reduce((s, m) => s + Math.max(0, Math.ceil(m / P) - 1), 0);
  const perResource = new Map();
  for (const e of t.access) perResource.set(e.resourceId, (perResource.get(e.resourceId) || 0) + 1);
  const perSa = new Map();
  for (const k of t.serviceAccountKeys) perSa.set(k.serviceAccountId, (perSa.get(k.serviceAccountId) || 0) + 1);
  const nested = {
    'group members': over(t.groups.map((g) => g.userIds.length)),
    'resource access': over([...perResource.values()]),
    'service-account keys': over([...perSa.values()]),
  };
  const memberships = t.groups.reduce((s, g) => s + g.userIds.length, 0);
  return { n, P, pages, nested, keys: t.serviceAccountKeys.length,
           accessEdges: t.access.length, memberships,
           biggestGroup: Math.max(0, ...t.groups.map((g) => g.userIds.length)) };
}

// Bound and naive count of listing the collections @kinds.
function listCost(M, kinds, { nested = false, keys = false } = {}) {
  let bound = 0, naive = 0;
  const how = [], naiveHow = [];
  for (const k of kinds) {
    const p = M.pages(k);
    bound += p;
    naive += p + M.n[k];
    how.push(`${k} ceil(${M.n[k]}/${M.P})=${p}`);
  }
  if (nested) {
    for (const [what, x] of Object.entries(M.nested)) {
      bound += x;
      naive += x;
      if (x) how.push(`${what} overflow ${x}`);
    }
  }
  if (keys) naive += M.keys;
  naiveHow.push(`${kinds.length > 1 ? 'pages + objects of each' : 'pages + one query per object'}` +
                `${keys ? ` (+${M.keys} keys)` : ''}${nested ? ' + nested overflow pages' : ''}`);
  return { bound, boundHow: how.join(' + ') + (how.length > 1 ? ` = ${bound}` : ''),
           naive, naiveHow: naiveHow.join('') };
}

const ALL_KINDS = ['networks', 'connectors', 'resources', 'groups', 'users', 'devices',
                   'service-accounts', 'security-policies'];
const TOP = ['networks', 'resources', 'groups', 'users', 'devices', 'service-accounts',
             'security-policies'];

// ------------------------------------------------------------- operations

// Each operation: name, label (what the admin types), fresh (a new daemon:
// cold caches), prepare (unmeasured set-up on the mount), cmd (bash, in
// the mount folder; env gives it paths), cost(M) -> {bound, naive, ...},
// note(result) for the table, check (unmeasured verification after).
function operations(ctx) {
  const ops = [];
  const count = (r) => `${r.stdout.trim() || 0} entries`;
  for (const k of TOP) {
    ops.push({ name: `ls-${k}`, label: `ls ${k}`, fresh: true,
               cmd: `ls ${k} | wc -l`, note: count, cost: (M) => listCost(M, [k]) });
  }
  ops.push({ name: 'ls-connectors', label: 'ls networks/*/connectors', fresh: true,
             cmd: 'ls -1 networks/*/connectors | grep -c -v -e "^$" -e ":$"', note: count,
             cost: (M) => listCost(M, ['networks', 'connectors']) });
  ops.push({ name: 'ls-l-devices', label: 'ls -l devices', fresh: true,
             cmd: 'ls -l devices | tail -n +2 | wc -l', note: count,
             cost: (M) => listCost(M, ['devices']) });
  ops.push({ name: 'cat-trust', label: 'cat devices/<id>/trust', fresh: true,
             cmd: 'cat "devices/$DEV/trust"', env: { DEV: ctx.catDevice },
             note: (r) => `value: ${r.stdout.trim()}`,
             cost: () => ({ bound: 1, boundHow: 'one object by id', naive: 1, naiveHow: 'one query' }) });
  ops.push({ name: 'grep-trust', label: 'grep -r --include=trust . devices', fresh: true,
             cmd: 'grep -r --include=trust -h . devices | sort | uniq -c | sort -rn | ' +
                  'awk \'{printf "%s%s %s", (NR>1?", ":""), $1, $2}\'',
             note: (r) => r.stdout.trim(),
             cost: (M) => listCost(M, ['devices']) });
  ops.push({ name: 'find', label: 'find .', fresh: true, cmd: 'find . | wc -l', note: count,
             cost: (M) => listCost(M, ALL_KINDS, { nested: true, keys: true }) });
  const rsync = 'rsync -a --stats ./ "$DEST/"';
  const rsyncNote = (r) => {
    const f = r.stdout.match(/Number of files: ([\d,]+)/);
    const x = r.stdout.match(/Number of (?:regular )?files transferred: ([\d,]+)/);
    return `${f ? f[1] : '?'} files, ${x ? x[1] : '?'} copied`;
  };
  ops.push({ name: 'rsync-cold', label: 'rsync -a (cold)', fresh: true, cmd: rsync,
             env: { DEST: ctx.dest }, note: rsyncNote, after: () => { ctx.destFilled = true; },
             again: `rm -rf --one-file-system "$DEST" && mkdir "$DEST"`,
             cost: (M) => listCost(M, ALL_KINDS, { nested: true, keys: true }) });
  ops.push({ name: 'rsync-warm', label: 'rsync -a (again, warm)', fresh: false,
             needs: 'rsync-cold', cmd: rsync, env: { DEST: ctx.dest }, note: rsyncNote,
             cost: (M) => ({ ...listCost(M, ALL_KINDS, { nested: true, keys: true }),
                             bound: 0, boundHow: `within cache_ttl: 0 (DESIGN §9)` }),
             naiveNote: 'naive has no cache: as cold' });
  ops.push({ name: 'rsync-remount', label: 'rsync -a (after remount)', fresh: true,
             needsDest: true, cmd: rsync, env: { DEST: ctx.dest }, note: rsyncNote,
             cost: (M) => listCost(M, ALL_KINDS, { nested: true, keys: true }) });
  // The same tree copied from tmpfs to tmpfs (the rsync's copy of the
  // mount): what rsync -a costs without twingatefs, for rsync-cold.
  ops.push({ name: 'rsync-tmpfs', label: 'rsync -a (tmpfs to tmpfs)', fresh: false,
             needsDest: true, setup: rsync, prepare: 'rm -rf --one-file-system "$COPY" && mkdir "$COPY"',
             cmd: 'cd "$DEST" && rsync -a --stats ./ "$COPY/"', env: { DEST: ctx.dest, COPY: ctx.copy },
             note: rsyncNote, after: () => spawnSync('rm', ['-rf', '--one-file-system', '--', ctx.copy]),
             cost: () => ({ bound: 0, boundHow: 'no mount', naive: 0, naiveHow: 'no mount' }) });
  // The value it does not have: writing the current one sends nothing.
  const echoValue = ctx.echoTrusted ? 'untrusted' : 'trusted';
  ops.push({ name: 'echo-trust', label: `echo ${echoValue} > devices/<id>/trust`, fresh: true,
             prepare: 'cat "devices/$DEV/trust" >/dev/null', env: { DEV: ctx.echoDevice, VALUE: echoValue },
             cmd: 'echo "$VALUE" > "devices/$DEV/trust"',
             check: async (sim) => {
               const r = (await sim.gql('query($id: ID!) { device(id: $id) { isTrusted } }',
                                        { id: ctx.echoDevice }, 'sim-read')).body;
               const want = !ctx.echoTrusted;
               return r?.data?.device?.isTrusted === want ? `tenant: ${echoValue}`
                 : `tenant: NOT changed (${JSON.stringify(r)})`;
             },
             cost: () => ({ bound: 1, boundHow: '1 mutation, 0 reads (path cached by an unmeasured cat)',
                            naive: 1, naiveHow: '1 mutation' }) });
  ops.push({ name: 'mkdir-connector', label: 'mkdir connectors/C; echo > C/tokens', fresh: true,
             prepare: 'ls "networks/$NET/connectors" >/dev/null',
             env: { NET: ctx.net, CONN: ctx.connName },
             cmd: 'mkdir "networks/$NET/connectors/$CONN" && echo > "networks/$NET/connectors/$CONN/tokens"',
             checkCmd: 'grep -c "^TWINGATE_.*_TOKEN=." "networks/$NET/connectors/$CONN/tokens"',
             checkNote: (r) => `${r.stdout.trim() || 0}/2 token lines`,
             cost: () => ({ bound: 2, boundHow: '2 mutations, 0 reads (folder listed by an unmeasured ls)',
                            naive: 2, naiveHow: '2 mutations' }) });
  return ops;
}

const OP_NAMES = [...TOP.map((k) => `ls-${k}`), 'ls-connectors', 'ls-l-devices', 'cat-trust',
  'grep-trust', 'find', 'rsync-cold', 'rsync-warm', 'rsync-remount', 'rsync-tmpfs', 'echo-trust',
  'mkdir-connector', 'overhead'];

if (args.help) {
  process.stdout.write(USAGE.replace('{OPS}', OP_NAMES.join(' ')));
  process.exit(0);
}

// ------------------------------------------------------------- formatting

const fmtInt = (x) => (x === null || x === undefined ? '-' : String(x));
const fmtMs = (ms) => (ms === null || ms === undefined ? '-'
  : ms < 1000 ? `${ms.toFixed(0)}ms` : ms < 100000 ? `${(ms / 1000).toFixed(2)}s` : `${(ms / 1000).toFixed(0)}s`);
const fmtMiB = (kib) => (kib === null || kib === undefined ? '-' : (kib / 1024).toFixed(1));
function fmtBytes(b) {
  if (b === null || b === undefined) return '-';
  if (b < 1024) return `${b}B`;
  if (b < 1024 * 1024) return `${(b / 1024).toFixed(1)}K`;
  return `${(b / 1048576).toFixed(1)}M`;
}
function fmtRatio(req, bound) {
  if (req === null || req === undefined) return '-';
  if (!bound) return req ? 'inf' : '-';
  return (req / bound).toFixed(2);
}

function table(rows) {
  const cols = [
    ['operation', 'l', (r) => r.label],
    ['req', 'r', (r) => fmtInt(r.requests)],
    ['mut', 'r', (r) => fmtInt(r.mutations)],
    ['429', 'r', (r) => fmtInt(r.rateLimited)],
    ['bound', 'r', (r) => fmtInt(r.bound)],
    ['req/bnd', 'r', (r) => fmtRatio(r.requests, r.bound)],
    ['naive', 'r', (r) => fmtInt(r.naive)],
    ['wall', 'r', (r) => fmtMs(r.wallMs)],
    ['RSS MiB', 'r', (r) => fmtMiB(r.peakRssKiB)],
    ['anon', 'r', (r) => fmtMiB(r.anonKiB)],
    ['API bytes', 'r', (r) => fmtBytes(r.apiBytes)],
    ['result', 'l', (r) => (r.ok ? r.note : `FAILED: ${r.error}`)],
  ];
  const cells = rows.map((r) => cols.map(([, , f]) => String(f(r))));
  const w = cols.map(([h], i) => Math.max(h.length, ...cells.map((c) => [...c[i]].length)));
  const pad = (s, i, al) => {
    const n = w[i] - [...s].length;
    if (i === cols.length - 1) return s;
    return al === 'l' ? s + ' '.repeat(n) : ' '.repeat(n) + s;
  };
  const line = (c) => c.map((s, i) => pad(s, i, cols[i][1])).join('  ').trimEnd();
  return [line(cols.map(([h]) => h)), line(cols.map((_, i) => '-'.repeat(i === cols.length - 1 ? 6 : w[i]))),
          ...cells.map(line)].join('\n');
}

// -------------------------------------------------------------- main

async function main() {
  const rate = args.rate;
  if (rate !== 'off' && rate !== 'real') die('--rate is off or real');
  const size = args.size ?? (rate === 'real' ? '2000' : 'large');
  const latency = Number(args['latency-ms']);
  if (!Number.isInteger(latency) || latency < 0) die('--latency-ms wants a whole number');
  const maxNodes = Number(args['max-nodes']);
  if (!Number.isInteger(maxNodes) || maxNodes < 0) die('--max-nodes wants a whole number');
  const reps = Number(args['overhead-reps']);
  if (!Number.isInteger(reps) || reps < 1) die('--overhead-reps wants a positive number');
  const opTimeout = Number(args['op-timeout']);
  const userOpts = args['mount-opts'].split(',').map((s) => s.trim()).filter(Boolean);
  for (const o of userOpts) if (/^url=/.test(o)) die('--mount-opts: url= is ours');
  const modeOpts = rate === 'off' ? ['rate_read=0', 'rate_write=0'] : [];
  const mountOpts = [...modeOpts, ...userOpts];

  let selected = OP_NAMES;
  if (args.only) {
    const pats = args.only.split(',').map((s) => s.trim()).filter(Boolean);
    const re = (p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
    for (const p of pats) {
      if (!OP_NAMES.some((n) => re(p).test(n))) die(`--only: no operation '${p}' (have: ${OP_NAMES.join(' ')})`);
    }
    selected = OP_NAMES.filter((n) => pats.some((p) => re(p).test(n)));
  }

  if (!existsSync(BIN)) die(`${BIN} not found: build it (meson setup build && ninja -C build)`);
  for (const tool of ['fusermount3', 'rsync', 'find', 'grep']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) die(`${tool} is needed`);
  }
  if (!existsSync('/dev/fuse')) die('/dev/fuse is missing');

  cleanStale(PREFIX);
  const top = workDir(PREFIX, { remove: true });
  const mnt = join(top, 'mnt');
  const state = join(top, 'state');
  // The rsync destination lives on tmpfs: on a disk filesystem the copy's
  // own cost (ext4 here spent 20 of 24 s of a 69,000-file copy in
  // recently_deleted(), creating inodes after earlier runs' rm -rf) would
  // be measured instead of the mount's.
  const dest = join(workDir(PREFIX, { parent: existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), remove: true }),
                    'rsync-dest');
  for (const d of [mnt, state, dest]) mkdirSync(d);

  const result = {
    date: new Date().toISOString(),
    config: { rate, size, latencyMs: latency, maxNodes, mountOpts: mountOpts.join(','), token: TOKEN, bin: BIN,
              sharedBudget: rate === 'real' && args['shared-budget'],
              node: process.version, tmp: top },
    tenant: null, rows: [], overhead: null, problems,
  };

  const benchOps = selected.filter((n) => n !== 'overhead');
  let M = null;
  if (benchOps.length) {
    const simArgs = ['--size', size, '--latency-ms', String(latency),
      '--rate-read', rate === 'real' ? '60' : '0', '--rate-write', rate === 'real' ? '20' : '0',
      '--max-nodes', String(maxNodes)];
    log(`bench: simulator --size ${size} --latency-ms ${latency} --rate ${rate} ...\n`);
    const sim = await startSim(simArgs, { startMs: SIM_START_MS });
    const cfg = await sim.get('/_sim/config');
    const tenantText = await sim.getText('/_sim/tenant');
    const t = JSON.parse(tenantText);
    M = model(t, cfg.pageMax);
    result.tenant = { counts: M.n, keys: M.keys, accessEdges: M.accessEdges, memberships: M.memberships,
                      biggestGroup: M.biggestGroup, nestedOverflowPages: M.nested, pageMax: M.P,
                      tenantJsonBytes: Buffer.byteLength(tenantText) };

    // The objects the single-object operations use: plain names, no '/'.
    const plain = (s) => /^[A-Za-z0-9+=._-]+$/.test(s);
    const devs = t.devices.filter((d) => plain(d.id));
    const untrusted = devs.filter((d) => !d.isTrusted);
    const nameCount = new Map();
    for (const n of t.remoteNetworks) nameCount.set(n.name, (nameCount.get(n.name) || 0) + 1);
    const net = t.remoteNetworks.find((n) => nameCount.get(n.name) === 1 && /^[A-Za-z0-9][A-Za-z0-9 ._-]*$/.test(n.name));
    const ctx = {
      dest, destFilled: false, copy: `${dest}-copy`,
      catDevice: devs[0]?.id,
      echoDevice: untrusted[untrusted.length - 1]?.id ?? devs[devs.length - 1]?.id,
      echoTrusted: !untrusted.length,
      net: net?.name, connName: `bench-${process.pid}`,
    };
    const ops = operations(ctx).filter((o) => benchOps.includes(o.name));

    let cur = null; // the daemon mounted now
    let lastOp = null;
    const fresh = async () => {
      if (cur) await unmountFs(cur);
      cur = await mountFs(sim, mnt, mountOpts, state);
    };

    const total = ops.length;
    let i = 0;
    for (const op of ops) {
      i++;
      const cost = op.cost(M);
      const row = { op: op.name, label: op.label, cmd: op.cmd, env: op.env || {}, ok: false, ...cost,
                    requests: null, queries: null, mutations: null, rateLimited: null, errors: null,
                    simPages: null, simNodes: null, operations: null, wallMs: null, peakRssKiB: null, apiBytes: null, note: '' };
      result.rows.push(row);
      log(`bench: [${i}/${total}] ${op.label} ... `);
      try {
        if ((op.name === 'cat-trust' || op.name === 'echo-trust') && !op.env.DEV) throw new Error('no device with a plain id');
        if (op.name === 'mkdir-connector' && !ctx.net) throw new Error('no network with a plain, unique name');
        // A daemon that died under the last operation leaves a dead mount.
        if (cur && cur.exit !== null) {
          problems.push({ what: `daemon #${cur.n} died during ${lastOp}: ${JSON.stringify(cur.exit)}`, detail: tail(cur.log()) });
          await cur.unmount();
          cur = null;
        }
        if (op.needs && lastOp !== op.needs) {
          // Run alone: do the work it follows, unmeasured.
          await fresh();
          const r = await runCmd(op.cmd, mnt, op.env, opTimeout);
          if (r.code !== 0) throw new Error(`set-up failed: ${r.stderr.trim()}`);
          ctx.destFilled = true;
        } else if (op.needsDest && !ctx.destFilled) {
          await fresh();
          const r = await runCmd(op.setup ?? op.cmd, mnt, op.env, opTimeout);
          if (r.code !== 0) throw new Error(`set-up rsync failed: ${r.stderr.trim()}`);
          ctx.destFilled = true;
          await fresh();
        } else if (op.fresh || !cur) {
          await fresh();
        }
        if (op.prepare) {
          const r = await runCmd(op.prepare, mnt, op.env, opTimeout);
          if (r.code !== 0) throw new Error(`set-up failed: ${r.stderr.trim()}`);
        }
        if (rate === 'real' && !args['shared-budget']) await sim.postOk('/_sim/ratelimit/reset');
        await sim.postOk('/_sim/stats/reset');
        const before = daemonStats(cur);
        resetPeak(cur.pid);
        row.rssBeforeKiB = peakKiB(cur.pid); // the peak starts at the RSS now
        const r = await runCmd(op.cmd, mnt, op.env, opTimeout);
        row.peakRssKiB = peakKiB(cur.pid);
        Object.assign(row, { anonKiB: residentKiB(cur.pid).anon, fileKiB: residentKiB(cur.pid).file });
        const after = daemonStats(cur);
        const st = await sim.get('/_sim/stats');
        Object.assign(row, { requests: st.requests, queries: st.queries, mutations: st.mutations,
                             rateLimited: st.rateLimited, errors: st.errors, simPages: st.pages, simNodes: st.nodes, operations: st.operations,
                             wallMs: r.ms });
        if (before && after) row.apiBytes = after['bytes-received'] - before['bytes-received'];
        if (r.code !== 0 || r.signal) {
          row.error = `exit ${r.code ?? r.signal}: ${tail(r.stderr, 3).replace(/\n/g, ' | ')}`;
          if (cur.exit !== null) row.error += ` (daemon died: ${JSON.stringify(cur.exit)})`;
        } else {
          row.ok = true;
          row.note = op.note ? op.note(r) : '';
          if (op.check) row.note = [row.note, await op.check(sim)].filter(Boolean).join('; ');
          if (op.checkCmd) {
            const c = await runCmd(op.checkCmd, mnt, op.env, 60);
            row.note = [row.note, op.checkNote(c)].filter(Boolean).join('; ');
          }
        }
        if (op.naiveNote) row.naiveHow += ` (${op.naiveNote})`;
        if (op.after && row.ok) op.after();
        log(`${fmtMs(row.wallMs)}, ${row.requests} requests${row.ok ? '' : ' FAILED'}\n`);
        // The same cold read with no latency: what the latency added.
        if (args['latency-cost'] && row.ok && latency > 0 && op.fresh && !op.needsDest &&
            !row.mutations && rate === 'off') {
          log(`bench:   again with no latency ... `);
          await sim.postOk('/_sim/config', { latencyMs: 0 });
          try {
            if (op.again) {
              const a = await runCmd(op.again, top, op.env, 60);
              if (a.code !== 0) throw new Error(`set-up failed: ${a.stderr.trim()}`);
            }
            await fresh();
            if (op.prepare) await runCmd(op.prepare, mnt, op.env, opTimeout);
            const r0 = await runCmd(op.cmd, mnt, op.env, opTimeout);
            if (r0.code !== 0) throw new Error(`exit ${r0.code}: ${tail(r0.stderr, 3)}`);
            row.wall0Ms = r0.ms;
            log(`${fmtMs(r0.ms)}\n`);
          } finally {
            await sim.postOk('/_sim/config', { latencyMs: latency });
          }
        }
      } catch (e) {
        row.error = String(e.message || e).split('\n')[0];
        log(`FAILED: ${row.error}\n`);
      }
      lastOp = op.name;
    }
    if (cur) await unmountFs(cur);
    await sim.stop();
    // The copy can be large: free the memory before the overhead runs.
    spawnSync('rm', ['-rf', '--one-file-system', '--', dest]);
  }

  if (selected.includes('overhead')) {
    log(`bench: overhead: simulator --size ${args['overhead-size']} ...\n`);
    try {
      result.overhead = await overhead(top, state, mountOpts, args['overhead-size'], reps, opTimeout);
    } catch (e) {
      result.overhead = { error: String(e.message || e).split('\n')[0] };
      log(`bench: overhead FAILED: ${result.overhead.error}\n`);
    }
  }

  report(result, M);
  if (args.json) writeFileSync(args.json, JSON.stringify(result, null, 2) + '\n');
  return result.rows.some((r) => !r.ok) || Boolean(result.overhead?.error) || problems.length > 0;
}

// Warm find + cat of every file through the mount against a tmpfs copy.
async function overhead(top, state, mountOpts, size, reps, opTimeout) {
  const sim = await startSim(['--size', size, '--latency-ms', '0', '--rate-read', '0', '--rate-write', '0'],
    { startMs: SIM_START_MS });
  const mnt = join(top, 'overhead-mnt');
  mkdirSync(mnt);
  const opts = ['rate_read=0', 'rate_write=0', ...mountOpts.filter((o) => !/^rate_(read|write)=/.test(o))];
  const d = await mountFs(sim, mnt, opts, join(state, 'overhead'));
  const shmParent = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const copy = workDir(PREFIX, { parent: shmParent, remove: true });
  const fstype = spawnSync('stat', ['-f', '-c', '%T', copy], { encoding: 'utf8' }).stdout.trim();
  const work = 'find . -type f -exec cat {} + > /dev/null';
  const walk = 'find . > /dev/null';
  const loop = (c) => `for i in $(seq ${reps}); do ${c}; done`;
  try {
    const warm = await runCmd(work, mnt, {}, opTimeout);
    if (warm.code !== 0) throw new Error(`warm-up failed: ${warm.stderr.trim()}`);
    const cp = await runCmd(`cp -a . "${copy}/"`, mnt, {}, opTimeout);
    if (cp.code !== 0) throw new Error(`copy failed: ${cp.stderr.trim()}`);
    const counts = await runCmd('echo $(find . -type d | wc -l) $(find . -type f | wc -l) $(find . -type l | wc -l)', copy);
    const [dirs, files, links] = counts.stdout.trim().split(/\s+/).map(Number);
    // Once more through the mount, so the kernel's caches are as warm as
    // they get, then alternate mount and tmpfs, three rounds; best round.
    await runCmd(work, mnt, {}, opTimeout);
    await sim.postOk('/_sim/stats/reset');
    const t = { work: { fuse: [], tmpfs: [] }, walk: { fuse: [], tmpfs: [] } };
    for (let round = 0; round < 3; round++) {
      for (const [k, c] of [['work', work], ['walk', walk]]) {
        const a = await runCmd(loop(c), mnt, {}, opTimeout);
        if (a.code !== 0) throw new Error(`through the mount: ${a.stderr.trim()}`);
        t[k].fuse.push(a.ms / reps);
        const b = await runCmd(loop(c), copy, {}, opTimeout);
        if (b.code !== 0) throw new Error(`on ${fstype}: ${b.stderr.trim()}`);
        t[k].tmpfs.push(b.ms / reps);
      }
    }
    const st = await sim.get('/_sim/stats');
    const best = (xs) => Math.min(...xs);
    return { size, dirs, files, links, reps, rounds: 3, command: work, copyFs: fstype,
             fuseMs: best(t.work.fuse), tmpfsMs: best(t.work.tmpfs),
             ratio: best(t.work.fuse) / best(t.work.tmpfs),
             walkCommand: walk, walkFuseMs: best(t.walk.fuse), walkTmpfsMs: best(t.walk.tmpfs),
             walkRatio: best(t.walk.fuse) / best(t.walk.tmpfs),
             roundsMs: t, requestsDuringTiming: st.requests };
  } finally {
    await unmountFs(d, ' (overhead)');
    await sim.stop();
  }
}

function report(result, M) {
  const out = [];
  const c = result.config;
  out.push(`twingatefs bench: --rate ${c.rate}${c.sharedBudget ? ' --shared-budget' : ''} --size ${c.size} --latency-ms ${c.latencyMs}` +
           `${c.maxNodes ? ` --max-nodes ${c.maxNodes}` : ''}` +
           `${c.mountOpts ? ` (mount -o ${c.mountOpts})` : ''}`);
  if (result.tenant) {
    const tt = result.tenant;
    out.push(`tenant: ${Object.entries(tt.counts).map(([k, v]) => `${v} ${k}`).join(', ')}; ` +
             `${tt.keys} keys, ${tt.memberships} group memberships (largest group ${tt.biggestGroup}), ` +
             `${tt.accessEdges} access edges; page limit ${tt.pageMax}`);
    out.push(`nested pages beyond the first (objects that overflow it): ` +
             Object.entries(tt.nestedOverflowPages).map(([k, v]) => `${k} ${v}`).join(', '));
    out.push('');
    out.push(table(result.rows));
    out.push('');
    out.push('req = HTTP requests the simulator served during the command (429s included), mut = of which mutations;');
    out.push('bound = pages the work needs at least, sum of ceil(N/page limit) (requests can be fewer: pages');
    out.push('batched as aliases); naive = list pages + one query per object, as object-by-object tools do;');
    out.push('RSS = peak RSS of the daemon during the command; anon = of its RSS at the end, what is its own');
    out.push('(heap, stacks; the rest is pages of the program and its libraries); API bytes = response bodies received.');
    out.push('');
    out.push('bounds:');
    const groups = new Map();
    for (const r of result.rows) {
      const k = `${r.boundHow}; naive ${r.naive} = ${r.naiveHow}`;
      groups.set(k, [...(groups.get(k) || []), r.label]);
    }
    for (const [k, labels] of groups) out.push(`  ${labels.join(' | ')}:\n      ${k}`);
    const full = result.rows.find((r) => r.op === 'find' && r.ok) ||
                 result.rows.find((r) => r.op === 'rsync-cold' && r.ok);
    out.push('');
    out.push(`tenant as JSON (/_sim/tenant, compact, no GraphQL envelope): ${fmtBytes(tt.tenantJsonBytes)}`);
    if (full) {
      out.push(`API bytes of one cold pass over the whole tree (${full.label}): ${fmtBytes(full.apiBytes)}; ` +
               `daemon peak RSS then ${fmtMiB(full.peakRssKiB)} MiB (${fmtMiB(full.rssBeforeKiB)} MiB at mount) ` +
               `(${(full.peakRssKiB * 1024 / tt.tenantJsonBytes).toFixed(1)}x the tenant JSON, ` +
               `${(full.peakRssKiB * 1024 / full.apiBytes).toFixed(1)}x the API bytes)`);
      out.push(`  at its end: ${fmtMiB(full.anonKiB)} MiB its own (anon), ${fmtMiB(full.fileKiB)} MiB of program and ` +
               `library pages; goal for the peak: 2 x API bytes + 16 MiB = ${fmtMiB(2 * full.apiBytes / 1024 + 16 * 1024)} MiB`);
    }
  }
  const cold = result.rows.find((r) => r.op === 'rsync-cold' && r.ok);
  const copy = result.rows.find((r) => r.op === 'rsync-tmpfs' && r.ok);
  if (cold && copy) {
    out.push('');
    out.push(`rsync -a of the tree: cold through twingatefs ${fmtMs(cold.wallMs)}, tmpfs to tmpfs ${fmtMs(copy.wallMs)}: ` +
             `${(cold.wallMs / copy.wallMs).toFixed(2)}x (issue 22 item 4: <= 3x)`);
  }
  const lc = result.rows.filter((r) => r.wall0Ms !== undefined);
  if (lc.length) {
    const L = c.latencyMs;
    const conc = Number((c.mountOpts.match(/(?:^|,)concurrency=(\d+)/) || [])[1] || 3);
    out.push('');
    // Requests that wait for another's answer: a listing's first page (it
    // tells the total), each object by id, each collection as the command
    // reaches it.  Only the later pages of one listing go together.
    const steps = (ops) => Object.entries(ops || {}).reduce((n, [name, k]) =>
      n + (/^tgfs(ListPages|Nested)_/.test(name) ? Math.ceil(k / conc) : k), 0);
    out.push(`latency cost (issue 5 item 3): wall at ${L} ms less wall at 0 ms (fresh mount each), against`);
    out.push(`  bound = 1.5 x req x ${L} ms / ${conc} (concurrency), and chain = 1.5 x ${L} ms x steps, the`);
    out.push(`  requests that wait for another's answer (each listing's first page, which tells the total; each`);
    out.push(`  object by id; each collection as the command reaches it) plus ceil(n / ${conc}) for the n later pages`);
    out.push(`  of a listing, which go together (operation names from the simulator's stats)`);
    out.push(`  ${'operation'.padEnd(34)} ${'req'.padStart(4)} ${'wall'.padStart(7)} ${'at 0 ms'.padStart(8)} ` +
             `${'added'.padStart(7)} ${'bound'.padStart(7)} ${'steps'.padStart(5)} ${'chain'.padStart(7)}`);
    for (const r of lc) {
      const added = r.wallMs - r.wall0Ms;
      const bound = 1.5 * r.requests * L / conc;
      const st = steps(r.operations);
      const chain = 1.5 * L * st;
      const flags = [added <= bound ? '' : 'over bound', added <= chain ? '' : 'over chain'].filter(Boolean);
      out.push(`  ${r.label.padEnd(34)} ${String(r.requests).padStart(4)} ${fmtMs(r.wallMs).padStart(7)} ` +
               `${fmtMs(r.wall0Ms).padStart(8)} ${fmtMs(Math.max(0, added)).padStart(7)} ${fmtMs(bound).padStart(7)} ` +
               `${String(st).padStart(5)} ${fmtMs(chain).padStart(7)}${flags.length ? `   ${flags.join(', ')}` : ''}`);
    }
  }
  const o = result.overhead;
  if (o) {
    out.push('');
    if (o.error) {
      out.push(`overhead: FAILED: ${o.error}`);
    } else {
      out.push(`overhead, warm cache, ${o.size} tenant (${o.dirs} folders, ${o.files} files, ` +
               `${o.links} symlinks), best of ${o.rounds} rounds of ${o.reps} runs, ms per run:`);
      out.push(`  ${'command'.padEnd(44)} ${'twingatefs'.padStart(10)} ${o.copyFs.padStart(10)} ${'ratio'.padStart(7)}`);
      out.push(`  ${o.command.padEnd(44)} ${o.fuseMs.toFixed(1).padStart(10)} ${o.tmpfsMs.toFixed(1).padStart(10)} ` +
               `${(o.ratio.toFixed(2) + 'x').padStart(7)}   (DESIGN §10 goal: <= 2x)`);
      out.push(`  ${o.walkCommand.padEnd(44)} ${o.walkFuseMs.toFixed(1).padStart(10)} ` +
               `${o.walkTmpfsMs.toFixed(1).padStart(10)} ${(o.walkRatio.toFixed(2) + 'x').padStart(7)}`);
      out.push(`  requests while timing: ${o.requestsDuringTiming}`);
    }
  }
  if (problems.length) {
    out.push('');
    out.push('problems:');
    for (const p of problems) out.push(`  ${p.what}${p.detail ? `\n    ${p.detail.replace(/\n/g, '\n    ')}` : ''}`);
  }
  process.stdout.write(out.join('\n') + '\n');
}

const failed = await main();
cleanupSync();
process.exit(failed ? 1 : 0);
