// expect.mjs - the tree twingatefs should show for a tenant, computed from
// the simulator's GET /_sim/tenant JSON alone, independently of the C code
// (DESIGN.md §2 plus the decisions the lead wrote down for the read-only
// tree).  One row per object kind in KINDS; the generic code below walks the
// table, so no kind has code of its own.
//
//   expectTree(tenant) -> {
//     entries: Map(path -> entry)   every path below the mount root:
//        { type: 'dir' }
//        { type: 'file', content, mode, mtime, mtimeNs }
//                                                 mode: '444' | '600' | '644'
//                                                 | null (0644 or 0444);
//                                                 mtime: seconds | null,
//                                                 mtimeNs: a BigInt | null
//        { type: 'link', target, to, mtime, mtimeNs }
//                                                 to: the folder it resolves to
//     objects: [{ kind, obj, path, mtime, mtimeNs }]  one per object folder
//     byKind: { kindKey: [object records] }
//   }
//
// `node tests/integration/expect.mjs tenant.json` prints a summary.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, lstatSync, readlinkSync, realpathSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { entryNames, utc } from './lib.mjs';

// ---- how field files render ----

const text = (v) => (v === null || v === undefined ? '' : `${v}\n`);
const str = text;
const bool = text;
const lower = (v) => (v === null || v === undefined ? '' : `${String(v).toLowerCase()}\n`);
const time = (v) => utc(v);
const list = (v) => (v || []).map((x) => `${x}\n`).join('');
const trust = (v) => (v === null || v === undefined ? '' : v ? 'trusted\n' : 'untrusted\n');
const tags = (v) => (v || []).map((t) => `${t.key}=${t.value}\n`).join('');
const address = (v) => text(v?.value);

function ports(p) {
  if (p.policy === 'ALLOW_ALL') return 'allow-all';
  if (!p.ports || p.ports.length === 0) return 'deny-all';
  return p.ports.map((r) => (r.start === r.end ? `${r.start}` : `${r.start}-${r.end}`))
    .join(',');
}
// An access edge's setting files (DESIGN.md §2 "Access edges").
export const EDGE_FIELDS = [
  ['expires-at', 'expiresAt', (v) => utc(v)],
  ['autolock-days', 'usageBasedAutolockDurationDays', (v) => text(v)],
  ['approval-mode', 'approvalMode', (v) => lower(v)],
  ['access-policy', 'accessPolicy', (v) => accessPolicy(v)],
];

// A resource's type (DESIGN.md §2 "Resource types"); the fields only a
// network resource has are files of network resources only.
const TYPE_WORDS = { NetworkResource: 'network', KubernetesResource: 'kubernetes',
  SSHResource: 'ssh', WebAppResource: 'webapp' };
const typeWord = (v) => text(TYPE_WORDS[v ?? 'NetworkResource'] ?? String(v).toLowerCase());
const isNetwork = (o) => (o.__typename ?? 'NetworkResource') === 'NetworkResource';
export const accessPolicy = (v) => (v ? `mode: ${v.mode.toLowerCase()}\nduration:${
  v.durationSeconds === null || v.durationSeconds === undefined ? '' : ` ${v.durationSeconds}`}\n` : '');
const protocols = (p) => (p ? `icmp: ${p.allowIcmp ? 'allow' : 'deny'}\n`
  + `tcp: ${ports(p.tcp)}\nudp: ${ports(p.udp)}\n` : '');

// Modes the contract fixes; every other field is 0644 or 0444 (null here).
const FIXED_MODES = { id: '444', 'created-at': '444', 'updated-at': '444',
  tokens: '600', token: '600', 'object.json': '644' };

// Seconds since the epoch of an API time ("2022-04-25T04:02:59.547247+00:00").
export function epochSeconds(t) {
  if (!t) return null;
  return Math.floor(Date.parse(t.replace(/(\.\d{3})\d+/, '$1')) / 1000);
}

// The same time in nanoseconds (a BigInt), every digit of its fraction
// kept: what a file's mtime shows (lstatSync(p, { bigint: true }).mtimeNs).
export function epochNs(t) {
  if (!t) return null;
  const m = t.match(/^(.{19})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i);
  if (!m) throw new Error(`expect.mjs: not an API time: ${t}`);
  const secs = Date.parse(`${m[1]}${m[3]}`) / 1000;
  return BigInt(secs) * 1000000000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

// ---- the kinds ----
//
// key       tenant collection (GET /_sim/tenant)
// dir       folder holding the objects: a top folder, or for a nested kind
//           the folder inside its parent's object folder
// parent    nested kinds: the parent kind's key and the parent id of a child
// nameOf    what the folder name is made of
// mtime     the tenant field giving the mtime (null: first-seen times)
// fields    [file, tenant field (null: secret), render, when (optional:
//           the file is there only for objects it is true of)]
// links     relations shown as symlinks:
//           { at, to, one: (t, o) => id | null }  one link at <obj>/<at>
//           { at, to, many: (t, o) => [ids] }     a folder of links
//           { at, to, edge: 'group', many }       a folder of edge folders
// json      relations object.json must carry by id:
//           { key, one: (o) => id }  or  { key, many: (t, o) => [ids] };
//           `optional` ones are checked only when present
const byName = (o) => o.name;

const ids = (arr) => arr.map((o) => o.id);
const accessOf = (t, rid, type) => t.access
  .filter((e) => e.resourceId === rid && (!type || principalType(t, e) === type))
  .map((e) => e.principalId);
const principalType = (t, e) =>
  (t.groups.some((g) => g.id === e.principalId) ? 'GROUP' : 'SERVICE_ACCOUNT');
const resourcesOfPrincipal = (t, pid) => {
  const rids = new Set(t.access.filter((e) => e.principalId === pid).map((e) => e.resourceId));
  return ids(t.resources.filter((r) => rids.has(r.id)));
};
// The API answers a group's securityPolicy with the default policy when
// the group has none of its own.
const policyOfGroup = (t, g) => g.securityPolicyId
  ?? t.securityPolicies.find((p) => p.policyType === 'DEFAULT_RESOURCE')?.id ?? null;

export const KINDS = [
  {
    key: 'remoteNetworks', dir: 'networks', nameOf: byName, mtime: 'updatedAt',
    fields: [
      ['id', 'id', str], ['name', 'name', str], ['location', 'location', lower],
      ['type', 'networkType', lower], ['is-active', 'isActive', bool],
      ['created-at', 'createdAt', time], ['updated-at', 'updatedAt', time],
    ],
    links: [
      { at: 'resources', to: 'resources',
        many: (t, o) => ids(t.resources.filter((r) => r.remoteNetworkId === o.id)) },
    ],
    json: [],
  },
  {
    key: 'connectors', dir: 'connectors', nameOf: byName, mtime: 'updatedAt',
    parent: { key: 'remoteNetworks', idOf: (c) => c.remoteNetworkId },
    fields: [
      ['id', 'id', str], ['name', 'name', str], ['state', 'state', lower],
      ['hostname', 'hostname', str], ['version', 'version', str],
      ['public-ip', 'publicIP', str], ['private-ips', 'privateIPs', list],
      ['last-heartbeat-at', 'lastHeartbeatAt', time],
      ['status-notifications', 'hasStatusNotificationsEnabled', bool],
      ['tokens', null, () => ''],
    ],
    links: [],
    json: [{ key: 'remoteNetwork', one: (o) => o.remoteNetworkId, optional: true }],
  },
  {
    key: 'resources', dir: 'resources', nameOf: byName, mtime: 'updatedAt',
    fields: [
      ['id', 'id', str], ['name', 'name', str], ['address', 'address', address],
      ['alias', 'alias', str], ['protocols', 'protocols', protocols],
      ['is-active', 'isActive', bool], ['is-visible', 'isVisible', bool],
      ['browser-shortcut', 'isBrowserShortcutEnabled', bool, isNetwork],
      ['routing-mode', 'routingMode', lower, isNetwork], ['tags', 'tags', tags],
      ['type', '__typename', typeWord],
      ['autolock-days', 'usageBasedAutolockDurationDays', text],
      ['approval-mode', 'approvalMode', lower], ['access-policy', 'accessPolicy', accessPolicy],
      ['created-at', 'createdAt', time], ['updated-at', 'updatedAt', time],
    ],
    links: [
      { at: 'network', to: 'networks', one: (t, o) => o.remoteNetworkId },
      { at: 'security-policy', to: 'security-policies', one: (t, o) => o.securityPolicyId },
      { at: 'access/groups', to: 'groups', edge: 'group',
        many: (t, o) => accessOf(t, o.id, 'GROUP') },
      { at: 'access/service-accounts', to: 'service-accounts', edge: 'service-account',
        many: (t, o) => accessOf(t, o.id, 'SERVICE_ACCOUNT') },
    ],
    json: [
      { key: 'remoteNetwork', one: (o) => o.remoteNetworkId },
      { key: 'securityPolicy', one: (o) => o.securityPolicyId },
      { key: 'access', many: (t, o) => accessOf(t, o.id) },
    ],
  },
  {
    key: 'groups', dir: 'groups', nameOf: byName, mtime: 'updatedAt',
    fields: [
      ['id', 'id', str], ['name', 'name', str], ['type', 'type', lower],
      ['is-active', 'isActive', bool],
      ['created-at', 'createdAt', time], ['updated-at', 'updatedAt', time],
    ],
    links: [
      { at: 'security-policy', to: 'security-policies', one: policyOfGroup },
      { at: 'users', to: 'users',
        many: (t, o) => o.userIds.filter((u) => t.users.some((x) => x.id === u)) },
      { at: 'resources', to: 'resources', many: (t, o) => resourcesOfPrincipal(t, o.id) },
    ],
    json: [
      { key: 'securityPolicy', one: (o, t) => policyOfGroup(t, o) },
      { key: 'users', many: (t, o) => o.userIds },
    ],
  },
  {
    key: 'users', dir: 'users', nameOf: (u) => u.email ?? u.id, mtime: 'updatedAt',
    fields: [
      ['id', 'id', str], ['email', 'email', str], ['first-name', 'firstName', str],
      ['last-name', 'lastName', str], ['role', 'role', lower], ['state', 'state', lower],
      ['type', 'type', lower],
      ['created-at', 'createdAt', time], ['updated-at', 'updatedAt', time],
    ],
    links: [
      { at: 'groups', to: 'groups',
        many: (t, o) => ids(t.groups.filter((g) => g.userIds.includes(o.id))) },
      { at: 'devices', to: 'devices',
        many: (t, o) => ids(t.devices.filter((d) => d.userId === o.id)) },
    ],
    json: [],
  },
  {
    key: 'devices', dir: 'devices', nameOf: (d) => d.id, mtime: null,
    fields: [
      ['id', 'id', str], ['name', 'name', str], ['device-type', 'deviceType', lower],
      ['os-name', 'osName', lower], ['os-version', 'osVersion', str],
      ['hardware-model', 'hardwareModel', str], ['manufacturer', 'manufacturerName', str],
      ['hostname', 'hostname', str], ['username', 'username', str],
      ['serial-number', 'serialNumber', str], ['client-version', 'clientVersion', str],
      ['last-login-at', 'lastSuccessfulLoginAt', time],
      ['last-failed-login-at', 'lastFailedLoginAt', time],
      ['trust', 'isTrusted', trust], ['state', 'activeState', lower],
    ],
    links: [{ at: 'user', to: 'users', one: (t, o) => o.userId }],
    json: [{ key: 'user', one: (o) => o.userId }],
  },
  {
    key: 'serviceAccounts', dir: 'service-accounts', nameOf: byName, mtime: 'updatedAt',
    fields: [
      ['id', 'id', str], ['name', 'name', str],
      ['created-at', 'createdAt', time], ['updated-at', 'updatedAt', time],
    ],
    links: [
      { at: 'resources', to: 'resources', many: (t, o) => resourcesOfPrincipal(t, o.id) },
    ],
    json: [
      { key: 'keys', many: (t, o) => ids(t.serviceAccountKeys
        .filter((k) => k.serviceAccountId === o.id)) },
    ],
  },
  {
    key: 'serviceAccountKeys', dir: 'keys', nameOf: byName, mtime: 'updatedAt',
    parent: { key: 'serviceAccounts', idOf: (k) => k.serviceAccountId },
    fields: [
      ['id', 'id', str], ['name', 'name', str], ['status', 'status', lower],
      ['expires-at', 'expiresAt', time], ['created-at', 'createdAt', time],
      ['token', null, () => ''],
    ],
    links: [],
    json: [{ key: 'serviceAccount', one: (o) => o.serviceAccountId, optional: true }],
  },
  {
    key: 'securityPolicies', dir: 'security-policies', nameOf: byName, mtime: 'updatedAt',
    fields: [
      ['id', 'id', str], ['name', 'name', str], ['policy-type', 'policyType', lower],
      ['created-at', 'createdAt', time], ['updated-at', 'updatedAt', time],
    ],
    links: [
      { at: 'groups', to: 'groups',
        many: (t, o) => ids(t.groups.filter((g) => policyOfGroup(t, g) === o.id)) },
    ],
    json: [],
  },
  {
    key: 'serialNumbers', dir: 'serial-numbers', nameOf: (s) => s.serialNumber, mtime: 'createdAt',
    fields: [
      ['id', 'id', str], ['serial-number', 'serialNumber', str], ['created-at', 'createdAt', time],
    ],
    links: [{ at: 'devices', to: 'devices', many: (t, o) => o.matchedDeviceIds }],
    json: [{ key: 'matchedDevices', many: (t, o) => o.matchedDeviceIds }],
  },
  {
    key: 'accessRequests', dir: 'access-requests', nameOf: (r) => r.id, mtime: 'requestedAt',
    fields: [
      ['id', 'id', str], ['reason', 'reason', str], ['requested-at', 'requestedAt', time],
      ['decision', null, () => ''],
    ],
    links: [
      { at: 'user', to: 'users', one: (t, o) => o.userId },
      { at: 'resource', to: 'resources', one: (t, o) => o.resourceId },
    ],
    json: [{ key: 'user', one: (o) => o.userId }, { key: 'resource', one: (o) => o.resourceId }],
  },
];

export const KIND = Object.fromEntries(KINDS.map((k) => [k.key, k]));
export const TOP_KINDS = KINDS.filter((k) => !k.parent);
export const TOP_DIRS = TOP_KINDS.map((k) => k.dir);

// The collections the API lists at its root (each costs its own pages),
// and the nested connections whose overflow costs extra pages: a group's
// users, a resource's access, a service account's keys (DESIGN.md §9).
export const ROOT_COLLECTIONS = ['remoteNetworks', 'connectors', 'resources', 'groups',
  'users', 'devices', 'serviceAccounts', 'securityPolicies', 'serialNumbers', 'accessRequests'];
export const NESTED = {
  groups: [(t, o) => o.userIds.length],
  resources: [(t, o) => t.access.filter((e) => e.resourceId === o.id).length],
  serviceAccounts: [(t, o) => t.serviceAccountKeys
    .filter((k) => k.serviceAccountId === o.id).length],
};

// The relative target of a link at @path to @to (a path from the root):
// as many '../' as the depth of the folder holding the link.
export function linkTarget(path, to) {
  const depth = path.split('/').length - 1;
  return '../'.repeat(depth) + to;
}

// ---- the tree ----

export function expectTree(t) {
  const entries = new Map();
  const objects = [];
  const byKind = Object.fromEntries(KINDS.map((k) => [k.key, []]));
  const pathOf = new Map(); // object id -> folder path

  let owner = null; // the object folder whose entries are being added
  const add = (path, e) => {
    if (entries.has(path)) throw new Error(`expect.mjs: two entries at ${path}`);
    entries.set(path, { ...e, owner });
  };
  for (const d of TOP_DIRS) add(d, { type: 'dir' });

  // Folder paths first (links need their targets' paths), parents first.
  const place = (kind, objs, folder) => {
    const names = entryNames(objs, kind.nameOf);
    objs.forEach((o, i) => {
      const path = `${folder}/${names[i]}`;
      pathOf.set(o.id, path);
      const rec = { kind: kind.key, obj: o, path, name: names[i],
        mtime: kind.mtime ? epochSeconds(o[kind.mtime]) : null,
        mtimeNs: kind.mtime ? epochNs(o[kind.mtime]) : null };
      objects.push(rec);
      byKind[kind.key].push(rec);
    });
  };
  for (const kind of TOP_KINDS) place(kind, t[kind.key], kind.dir);
  for (const kind of KINDS.filter((k) => k.parent)) {
    for (const p of t[kind.parent.key]) {
      place(kind, t[kind.key].filter((c) => kind.parent.idOf(c) === p.id),
        `${pathOf.get(p.id)}/${kind.dir}`);
    }
  }

  for (const rec of objects) {
    const kind = KIND[rec.kind];
    const o = rec.obj;
    owner = rec.path;
    add(rec.path, { type: 'dir', mtime: rec.mtime });
    for (const [file, key, render, when] of kind.fields) {
      if (when && !when(o)) continue;
      add(`${rec.path}/${file}`, { type: 'file', content: render(key === null ? null : o[key]),
        mode: FIXED_MODES[file] ?? null, mtime: rec.mtime, mtimeNs: rec.mtimeNs });
    }
    add(`${rec.path}/object.json`, { type: 'file', content: null, json: true,
      mode: FIXED_MODES['object.json'], mtime: rec.mtime, mtimeNs: rec.mtimeNs });
    for (const child of KINDS.filter((k) => k.parent?.key === kind.key)) {
      add(`${rec.path}/${child.dir}`, { type: 'dir' });
    }
    for (const l of kind.links) {
      const linkTo = (path, id) => {
        const to = pathOf.get(id);
        if (!to) throw new Error(`expect.mjs: ${path} points to unknown ${id}`);
        add(path, { type: 'link', target: linkTarget(path, to), to,
          mtime: rec.mtime, mtimeNs: rec.mtimeNs });
      };
      if (l.one) {
        const id = l.one(t, o);
        if (id) linkTo(`${rec.path}/${l.at}`, id);
        continue;
      }
      // A folder of links (and the folders above it: access/).
      const parts = l.at.split('/');
      for (let i = 1; i <= parts.length; i++) {
        const d = `${rec.path}/${parts.slice(0, i).join('/')}`;
        if (!entries.has(d)) add(d, { type: 'dir' });
      }
      // Links are named by the target's folder name.
      for (const id of l.many(t, o)) {
        const to = pathOf.get(id);
        const at = `${rec.path}/${l.at}/${to.split('/').pop()}`;
        if (!l.edge) {
          linkTo(at, id);
          continue;
        }
        // An access edge: a folder with the principal's link, its policy
        // link when it has one, and its settings (DESIGN.md §2).
        const e = t.access.find((x) => x.resourceId === o.id && x.principalId === id);
        add(at, { type: 'dir' });
        linkTo(`${at}/${l.edge}`, id);
        if (e.securityPolicyId) linkTo(`${at}/security-policy`, e.securityPolicyId);
        for (const [file, key, render] of EDGE_FIELDS) {
          add(`${at}/${file}`, { type: 'file', content: render(e[key]), mode: null,
            mtime: rec.mtime, mtimeNs: rec.mtimeNs });
        }
      }
    }
  }
  return { entries, objects, byKind };
}

// The names directly inside @dir ('' for the root).
// Asserts that `find` of the mount at @dir exits 0, says nothing on stderr
// and lists exactly the entries of @tree (expectTree's), with their types.
export function findExactly(dir, tree) {
  // (lib.mjs's shStatus keeps 1 MiB of output: a large tree's is more)
  const r = spawnSync('bash', ['-c', "find . -printf '%y %p\\n'"], { cwd: dir, encoding: 'utf8',
    timeout: 300000, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  const type = { dir: 'd', file: 'f', link: 'l' };
  const want = ['d .', ...[...tree.entries].map(([p, e]) => `${type[e.type]} ./${p}`)].sort();
  const got = r.stdout.split('\n').filter((l) => l !== '').sort();
  assert.equal(got.length, want.length, 'entry count');
  assert.deepEqual(got, want);
}

export function childrenOf(tree, dir) {
  const pre = dir === '' ? '' : `${dir}/`;
  const out = [];
  for (const p of tree.entries.keys()) {
    if (p.startsWith(pre) && !p.slice(pre.length).includes('/')) out.push(p.slice(pre.length));
  }
  return out;
}

// ---- a directory against the model ----

// What differs between the folder @root and @tree: a list of messages,
// empty when they match.  Options: `owners` (a Set of object paths: check
// only their entries, and the listings of every folder), `mtimes` (check
// mtimes where the model knows them), `modes`, `tenant` (for object.json).
export function diffTree(root, tree, { owners = null, mtimes = true, modes = true,
                                       tenant = null } = {}) {
  const bad = [];
  const at = (p) => join(root, p);
  // Listings: every folder shows exactly the model's names.
  for (const [p, e] of [['', { type: 'dir' }], ...tree.entries]) {
    if (e.type !== 'dir' || (owners && e.owner && !owners.has(e.owner))) continue;
    let got;
    try {
      got = readdirSync(at(p)).sort();
    } catch (err) {
      bad.push(`${p || '.'}: ${err.code}`);
      continue;
    }
    const want = childrenOf(tree, p).sort();
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      const extra = got.filter((x) => !want.includes(x));
      const missing = want.filter((x) => !got.includes(x));
      bad.push(`${p || '.'}: listing differs, extra [${extra}] missing [${missing}]`);
    }
  }
  const byPath = new Map(tree.objects.map((r) => [r.path, r]));
  for (const [p, e] of tree.entries) {
    if (owners && !(e.owner && owners.has(e.owner))) continue;
    let st;
    try {
      st = lstatSync(at(p));
    } catch (err) {
      bad.push(`${p}: ${err.code}`);
      continue;
    }
    const mode = (st.mode & 0o7777).toString(8);
    if (e.type === 'dir') {
      if (!st.isDirectory()) bad.push(`${p}: not a folder`);
      else if (modes && mode !== '755') bad.push(`${p}: mode ${mode}, not 755`);
    } else if (e.type === 'link') {
      if (!st.isSymbolicLink()) {
        bad.push(`${p}: not a symlink`);
        continue;
      }
      const target = readlinkSync(at(p));
      if (target !== e.target) bad.push(`${p}: -> ${target}, not -> ${e.target}`);
      let real = null;
      try {
        real = realpathSync(at(p));
      } catch (err) {
        bad.push(`${p}: does not resolve (${err.code})`);
        continue;
      }
      if (real !== realpathSync(at(e.to))) bad.push(`${p}: resolves to ${real}, not ${e.to}`);
    } else {
      if (!st.isFile()) {
        bad.push(`${p}: not a regular file`);
        continue;
      }
      const body = readFileSync(at(p));
      if (st.size !== body.length) bad.push(`${p}: size ${st.size} but ${body.length} bytes read`);
      if (e.json) {
        const s = body.toString('utf8');
        if (!s.endsWith('\n')) bad.push(`${p}: no trailing newline`);
        let json;
        try {
          json = JSON.parse(s);
        } catch (err) {
          bad.push(`${p}: not JSON (${err.message})`);
          continue;
        }
        if (tenant) {
          const rec = byPath.get(e.owner);
          for (const m of objectJsonProblems(rec.kind, rec.obj, json, tenant)) bad.push(`${p}: ${m}`);
        }
      } else if (body.toString('utf8') !== e.content) {
        bad.push(`${p}: ${JSON.stringify(body.toString('utf8'))}, not ${JSON.stringify(e.content)}`);
      }
      if (modes) {
        if (e.mode && mode !== e.mode) bad.push(`${p}: mode ${mode}, not ${e.mode}`);
        if (!e.mode && mode !== '644' && mode !== '444') bad.push(`${p}: mode ${mode}`);
      }
    }
    // Files and links: updatedAt to its last digit.  An object's folder:
    // its second (a folder's nanoseconds carry the mount's generation).
    if (mtimes && e.mtimeNs !== null && e.mtimeNs !== undefined
        && (e.type === 'file' || e.type === 'link')) {
      const got = lstatSync(at(p), { bigint: true }).mtimeNs;
      if (got !== e.mtimeNs) bad.push(`${p}: mtime ${got} ns, not ${e.mtimeNs} (updatedAt)`);
    } else if (mtimes && e.mtime !== null && e.mtime !== undefined && p === e.owner) {
      const got = Math.floor(st.mtimeMs / 1000);
      if (got !== e.mtime) bad.push(`${p}: mtime ${got}, not ${e.mtime} (updatedAt)`);
    }
  }
  return bad;
}

// ---- object.json ----

const isScalar = (v) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
const idOfItem = (x) => x?.id ?? x?.node?.id ?? x?.principal?.id ?? null;
const listOf = (x) => (Array.isArray(x) ? x : Array.isArray(x?.edges) ? x.edges : null);

// What is wrong with @json as the object.json of tenant object @o of kind
// @kindKey: a list of messages, empty when it matches.
export function objectJsonProblems(kindKey, o, json, t) {
  const kind = KIND[kindKey];
  const bad = [];
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  if (!json || typeof json !== 'object' || Array.isArray(json)) return ['not a JSON object'];
  // Every field a field file shows is there, equal to the tenant's.
  for (const [, key, , when] of kind.fields) {
    if (key === null || (when && !when(o))) continue;
    if (!(key in json)) bad.push(`${key} missing`);
    else if (!same(json[key], o[key])) {
      bad.push(`${key}: ${JSON.stringify(json[key])} != ${JSON.stringify(o[key])}`);
    }
  }
  // Any other scalar both have is equal too.
  const shown = new Set(kind.fields.map((f) => f[1]));
  for (const [key, v] of Object.entries(o)) {
    if (!shown.has(key) && isScalar(v) && key in json && isScalar(json[key]) && json[key] !== v) {
      bad.push(`${key}: ${JSON.stringify(json[key])} != ${JSON.stringify(v)}`);
    }
  }
  // Relations by id.
  for (const r of kind.json) {
    if (!(r.key in json)) {
      const want = r.one ? r.one(o, t) : r.many(t, o);
      // A null one-relation may be left out; lists and set relations not.
      if (!r.optional && !(r.one && want === null)) bad.push(`${r.key} missing`);
      continue;
    }
    if (r.one) {
      const want = r.one(o, t);
      const got = json[r.key] === null ? null : json[r.key]?.id;
      if (got !== want) bad.push(`${r.key}.id: ${got} != ${want}`);
    } else {
      const items = listOf(json[r.key]);
      if (!items) {
        bad.push(`${r.key} is not a list`);
        continue;
      }
      const got = items.map(idOfItem).sort();
      const want = [...r.many(t, o)].sort();
      if (!same(got, want)) bad.push(`${r.key} ids: ${got.join(',')} != ${want.join(',')}`);
    }
  }
  return bad;
}

// ---- request bounds (DESIGN.md §9) ----

export const pagesOf = (n, p) => Math.max(1, Math.ceil(n / p));

// HTTP requests at most for one collection of @n objects: page 1 alone
// (it tells the total), the rest @batch pages to a request.
export const collectionRequests = (n, p, batch) => 1 + Math.ceil((pagesOf(n, p) - 1) / batch);

// Extra requests at most for the nested pages of kind @key's objects: one
// per page past the first of each nested connection (unbatched).
export function nestedOverflow(t, key, p) {
  let extra = 0;
  for (const count of NESTED[key] ?? []) {
    for (const o of t[key]) extra += pagesOf(count(t, o), p) - 1;
  }
  return extra;
}

// Kinds whose objects hold another kind's (a service account its keys,
// which the API has no root list for): their lists are fetched whole.
const EMBEDDING = new Set(KINDS.filter((k) => k.parent && !ROOT_COLLECTIONS.includes(k.key))
  .map((k) => k.parent.key));

// At most for a cold `ls` (or `ls -l`) of top folder @key: its pages.  The
// nested pages past an object's first wait until something needs them,
// except where the list is fetched whole.
export function listingBound(t, key, p, batch) {
  return collectionRequests(t[key].length, p, batch)
    + (EMBEDDING.has(key) ? nestedOverflow(t, key, p) : 0);
}

// At most for a cold walk of the whole tree.
export function walkBound(t, p, batch) {
  let n = 0;
  for (const key of ROOT_COLLECTIONS) {
    n += collectionRequests(t[key].length, p, batch) + nestedOverflow(t, key, p);
  }
  return n;
}

// ---- a summary, to eyeball the model ----

export function summary(t, p = 100, batch = 10) {
  const tree = expectTree(t);
  const count = (type) => [...tree.entries.values()].filter((e) => e.type === type).length;
  const out = [`entries ${tree.entries.size}: ${count('dir')} folders, `
    + `${count('file')} files, ${count('link')} links`];
  for (const k of KINDS) {
    const recs = tree.byKind[k.key];
    out.push(`${k.key}: ${recs.length} objects, e.g. ${recs.slice(0, 3).map((r) => r.path).join(' | ')}`);
  }
  out.push(`bounds at page_size=${p}, batch_pages=${batch}: `
    + TOP_KINDS.map((k) => `ls ${k.dir} <= ${listingBound(t, k.key, p, batch)}`).join(', ')
    + `; find <= ${walkBound(t, p, batch)}`);
  return { text: out.join('\n'), tree };
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const t = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  const p = Number(process.argv[3] || 100);
  const { text: s, tree } = summary(t, p);
  console.log(s);
  if (process.argv.includes('--all')) {
    for (const [path, e] of tree.entries) {
      if (e.type === 'file') console.log(`${path} [${e.mode ?? '644|444'}] ${JSON.stringify(e.content)}`);
      else if (e.type === 'link') console.log(`${path} -> ${e.target}`);
      else console.log(`${path}/`);
    }
  }
}
