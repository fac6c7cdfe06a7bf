// writes.mjs - shared helpers of the write-side integration tests
// (write.test.mjs, editors.test.mjs, write-errors.test.mjs): a simulator and
// mounts set up for writes, objects found by name in the simulator's
// tenant, what changed in the tenant between two snapshots, what a command
// cost in requests, and writes whose write(2)/close(2) errors are seen.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startSim, mount, sh, shStatus } from './lib.mjs';
import { expectTree, KIND } from './expect.mjs';

export const lines = (s) => s.split('\n').filter((l) => l !== '');
export const sorted = (a) => [...a].sort();
// One shell word.
export const q = (s) => `'${String(s).replace(/'/g, "'\\''")}'`;

// No simulator rate limit and no client pacing, except where pacing is
// what a test is about.
export const SIM_ARGS = ['--size', 'small', '--rate-read', '0', '--rate-write', '0'];
export const NO_PACING = ['rate_read=100000', 'rate_write=100000'];

// A fresh small tenant and one mount of it with @token.
export async function setup({ token = 'sim-write', opts = [], simArgs = SIM_ARGS } = {}) {
  const sim = await startSim(simArgs);
  const m = await mount(sim, { token, opts: [...NO_PACING, ...opts] });
  return { sim, m };
}

export async function mountAs(sim, token, opts = []) {
  return mount(sim, { token, opts: [...NO_PACING, ...opts] });
}

// ---- objects of the tenant ----

// How tenantDiff names an object: name, else email, else id.
export const labelOf = (o) => o.name ?? o.email ?? o.id;

// The one object of collection @coll whose name (users: email; devices:
// id) is @name; fails the test when there is none or several.
export function obj(t, coll, name) {
  const hits = t[coll].filter((o) => labelOf(o) === name || o.id === name);
  assert.equal(hits.length, 1, `exactly one ${coll} named ${JSON.stringify(name)} in the tenant`);
  return hits[0];
}

// The folder of object @o (by id) below the mount root, as the tree shows it.
export function pathOf(t, o) {
  const rec = expectTree(t).objects.find((r) => r.obj.id === o.id);
  assert.ok(rec, `no folder for ${o.id}`);
  return rec.path;
}

// What field file @file of object @o shows, rendered from the tenant.
export function fieldText(coll, o, file) {
  const f = KIND[coll].fields.find((x) => x[0] === file);
  assert.ok(f, `${coll} has no field file ${file}`);
  return f[2](f[1] === null ? null : o[f[1]]);
}

// ---- what changed in the tenant ----

const COLLS = ['remoteNetworks', 'connectors', 'resources', 'groups', 'users', 'devices',
  'serviceAccounts', 'serviceAccountKeys', 'securityPolicies'];
// Stamped by the server on every change; not what a test asks for.
const STAMPS = new Set(['updatedAt', 'revokedAt']);
const js = (v) => JSON.stringify(v);

// The changes from tenant @a to tenant @b, one readable line each, sorted:
//   "+remoteNetworks Berlin"             an object created
//   "-connectors dup-b"                  an object deleted
//   "users Ada name: \"x\""              a field changed (old label), new value
//   "groups Engineering +user EMAIL"     a member added (or -user)
//   "+access grafana <- Backup Bot"      an access edge added (or -access)
export function tenantDiff(a, b) {
  const out = [];
  const label = (id) => {
    for (const t of [a, b]) {
      for (const c of COLLS) {
        const o = t[c].find((x) => x.id === id);
        if (o) return labelOf(o);
      }
    }
    return id;
  };
  for (const c of COLLS) {
    const A = new Map(a[c].map((o) => [o.id, o]));
    const B = new Map(b[c].map((o) => [o.id, o]));
    for (const [id, o] of A) if (!B.has(id)) out.push(`-${c} ${labelOf(o)}`);
    for (const [id, o] of B) if (!A.has(id)) out.push(`+${c} ${labelOf(o)}`);
    for (const [id, o] of A) {
      const n = B.get(id);
      if (!n) continue;
      for (const k of new Set([...Object.keys(o), ...Object.keys(n)])) {
        if (STAMPS.has(k)) continue;
        if (k === 'userIds') {
          const was = new Set(o.userIds);
          const now = new Set(n.userIds);
          for (const u of now) if (!was.has(u)) out.push(`${c} ${labelOf(o)} +user ${label(u)}`);
          for (const u of was) if (!now.has(u)) out.push(`${c} ${labelOf(o)} -user ${label(u)}`);
        } else if (js(o[k]) !== js(n[k])) {
          out.push(`${c} ${labelOf(o)} ${k}: ${js(n[k])}`);
        }
      }
    }
  }
  const edge = (e) => `${e.resourceId}|${e.principalId}`;
  const EA = new Map(a.access.map((e) => [edge(e), e]));
  const EB = new Map(b.access.map((e) => [edge(e), e]));
  const name = (e) => `${label(e.resourceId)} <- ${label(e.principalId)}`;
  for (const [k, e] of EA) if (!EB.has(k)) out.push(`-access ${name(e)}`);
  for (const [k, e] of EB) {
    if (!EA.has(k)) out.push(`+access ${name(e)}`);
    else if (js(e) !== js(EA.get(k))) out.push(`access ${name(e)}: ${js(e)}`);
  }
  return out.sort();
}

// The lines tenantDiff gives for @patch ({key: new value}) on object @o.
export function patchLines(coll, o, patch) {
  return Object.entries(patch).map(([k, v]) => `${coll} ${labelOf(o)} ${k}: ${js(v)}`);
}

// Asserts the tenant changed from @before exactly as @want (lines of
// tenantDiff) says; returns the tenant now.
export async function assertChanges(sim, before, want, what = 'the tenant') {
  const now = await sim.tenant();
  assert.deepEqual(tenantDiff(before, now), sorted(want), `what changed in ${what}`);
  return now;
}

export const assertUnchanged = (sim, before, what) => assertChanges(sim, before, [], what);

// ---- requests ----

// Runs fn() with the simulator's counts zeroed first; returns { r, st }.
export async function cost(sim, fn) {
  await sim.resetStats();
  const r = await fn();
  return { r, st: await sim.stats() };
}

// The mutation root fields a run executed: { name: count }, queries left out.
export function mutationFields(st, names) {
  return Object.fromEntries(Object.entries(st.fields).filter(([k]) => names.includes(k)));
}

// Asserts one HTTP request carrying one mutation, @field, and no query.
export function assertOneMutation(st, field, what = '') {
  assert.equal(st.queries, 0, `${what}: no read before or after (queries ${js(st.fields)})`);
  assert.equal(st.mutations, 1, `${what}: one mutation (fields ${js(st.fields)})`);
  assert.equal(st.fields[field], 1, `${what}: the mutation is ${field} (fields ${js(st.fields)})`);
  assert.equal(st.requests, 1, `${what}: one HTTP request`);
}

export function assertNoMutation(st, what = '') {
  assert.equal(st.mutations, 0, `${what}: nothing sent (fields ${js(st.fields)})`);
}

// One field write through mount @m: object @pick (a name, or tenant =>
// object) of @coll, file @file, command cmdOf(quoted path); asserts one
// @mutation and no read, the tenant changed by @patch only and renders
// @shows, and the mount shows it at once with no request.
export async function checkFieldWrite(sim, m, coll, pick, file, cmdOf, shows, mutation, patch) {
  const t = await sim.tenant();
  const o = typeof pick === 'function' ? pick(t) : obj(t, coll, pick);
  const f = `${pathOf(t, o)}/${file}`;
  assert.notEqual(sh(`cat ${q(f)}`, m.dir), shows, 'the field does not hold the value yet');
  sh(`ls -A ${q(pathOf(t, o))} > /dev/null`, m.dir); // warm
  // A new name is checked against the folder's names (names stay unique,
  // issue 20): listed first, that costs no request.
  if (file === 'name') sh(`ls -A ${q(pathOf(t, o).replace(/\/[^/]*$/, ''))} > /dev/null`, m.dir);
  const { st } = await cost(sim, () => run(cmdOf(q(f)), m.dir));
  assertOneMutation(st, mutation, `${f}`);
  const now = await assertChanges(sim, t, patchLines(coll, o, patch), f);
  const after = now[coll].find((x) => x.id === o.id);
  assert.equal(fieldText(coll, after, file), shows, 'the tenant shows what was written');
  // The mount shows it at once, from the mutation's payload.
  const dir = pathOf(now, after);
  const { st: st2 } = await cost(sim, () => {
    assert.equal(sh(`cat ${q(`${dir}/${file}`)}`, m.dir), shows);
    const json = JSON.parse(sh(`cat ${q(`${dir}/object.json`)}`, m.dir));
    // object.json carries the schema's fields (a user's isAdmin may be left out).
    const shown = Object.entries(patch).filter(([k]) => k in json);
    assert.ok(shown.length > 0, `object.json has ${Object.keys(patch)}`);
    for (const [k, v] of shown) assert.deepEqual(json[k], v, `object.json ${k}`);
  });
  assert.equal(st2.requests, 0, `the new value is shown with no request (${JSON.stringify(st2.fields)})`);
}

// ---- commands ----

// A command that must succeed: fails the test with its stderr otherwise.
export function run(cmd, cwd) {
  const r = shStatus(cmd, cwd);
  assert.equal(r.status, 0, `\`${cmd}\` failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

// A command that must fail with @msg (a RegExp) on stderr.
export function fails(cmd, cwd, msg) {
  const r = shStatus(cmd, cwd);
  assert.notEqual(r.status, 0, `\`${cmd}\` should fail, it exited 0`);
  if (msg) assert.match(r.stderr, msg, `\`${cmd}\` stderr`);
  return r;
}

// Writes @data (a string or a Buffer, any bytes) to @path below @cwd
// with one write(2), then fsync(2) when asked, then close(2); returns
// 'ok' or '<stage> <ERRNO>' (e.g. 'write EINVAL', 'close EIO').
const PY_WRITE = `
import os, sys, errno
path, data, flags, sync = sys.argv[1], bytes.fromhex(sys.argv[2]), sys.argv[3], sys.argv[4] == '1'
fl = os.O_WRONLY | (os.O_APPEND if 'a' in flags else 0) | (os.O_TRUNC if 't' in flags else 0) | (os.O_CREAT if 'c' in flags else 0)
stage = 'open'
try:
    fd = os.open(path, fl, 0o644)
    stage = 'write'
    os.write(fd, data)
    if sync:
        stage = 'fsync'
        os.fsync(fd)
    stage = 'close'
    os.close(fd)
    print('ok')
except OSError as e:
    print(stage, errno.errorcode.get(e.errno, e.errno))
`;
export function pyWrite(cwd, path, data, { flags = 't', fsync = false } = {}) {
  const hex = Buffer.from(data).toString('hex');
  return sh(`python3 -c ${q(PY_WRITE)} ${q(path)} ${q(hex)} ${flags} ${fsync ? 1 : 0}`, cwd)
    .trim();
}

// Runs shell commands at the same time; resolves to [{status, stderr}].
export function together(cmds, cwd) {
  return Promise.all(cmds.map((cmd) => new Promise((resolve) => {
    const p = spawn('bash', ['-c', cmd], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), 120000);
    p.on('exit', (status) => { clearTimeout(timer); resolve({ status, stderr }); });
  })));
}

// Reads the hidden status files (§8) and the daemon log: nothing in them
// may hold @secret.
export function assertNotLeaked(m, secret, what) {
  assert.ok(secret && secret.length >= 16, `${what}: a real secret to look for`);
  for (const f of ['status', 'stats', 'errors']) {
    const r = shStatus(`cat .twingatefs/${f}`, m.dir);
    assert.ok(!r.stdout.includes(secret), `${what} is in /.twingatefs/${f}`);
  }
  assert.ok(!m.log().includes(secret), `${what} is in the daemon log`);
}
