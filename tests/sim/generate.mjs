// generate.mjs — builds the initial tenant for --size tiny|small|large|<devices>.
//
// Output is a pure function of (size, seed): all randomness comes from the
// tenant's seeded PRNG and all timestamps from a fixed 2022..2025 timeline.
// `small` is hand-written around awkward names (spaces, '/', non-ASCII,
// duplicates, leading dots) because those are what a filesystem trips on.

import { Tenant } from './tenant.mjs';
import { formatTs } from './ids.mjs';
import { addressOf, defaultProtocols, connectorName } from './model.mjs';

const T0 = Date.UTC(2022, 2, 1);
const T1 = Date.UTC(2025, 5, 30);
const DAY = 86400000;

/** createdAt/updatedAt for the object at position frac (0..1) of the timeline. */
function stamps(rng, frac) {
  const c = T0 + frac * (T1 - T0) * 0.9 + rng.next() * DAY;
  const createdAt = formatTs(c, rng.int(0, 999));
  const updatedAt = rng.chance(0.3) ? createdAt : formatTs(c + rng.next() * (T1 - c), rng.int(0, 999));
  return { createdAt, updatedAt };
}

function tsBetween(rng, a, b) {
  return formatTs(a + rng.next() * (b - a), rng.int(0, 999));
}

// ----------------------------------------------------------------- builders

function addPolicy(t, name, policyType, frac) {
  const p = t.add('SecurityPolicy', { name, policyType, ...stamps(t.rng, frac) });
  if (policyType === 'DEFAULT_RESOURCE') t.defaultPolicyId = p.id;
  return p;
}

function addNetwork(t, name, frac, o = {}) {
  const rng = t.rng;
  return t.add('RemoteNetwork', {
    name,
    location: o.location ?? rng.pick(['AWS', 'AZURE', 'GOOGLE_CLOUD', 'ON_PREMISE', 'OTHER']),
    networkType: o.networkType ?? (rng.chance(0.1) ? 'EXIT' : 'REGULAR'),
    isActive: o.isActive ?? !rng.chance(0.1),
    ...stamps(rng, frac),
  });
}

function addConnector(t, net, name, frac, state) {
  const rng = t.rng;
  state ??= rng.chance(0.75) ? 'ALIVE' : rng.pick(['DEAD_NO_HEARTBEAT', 'DEAD_HEARTBEAT_TOO_OLD', 'DEAD_NO_RELAYS']);
  const c = {
    name: name ?? connectorName(rng),
    remoteNetworkId: net.id,
    state,
    hasStatusNotificationsEnabled: !rng.chance(0.2),
    hostname: null, version: null, publicIP: null, privateIPs: [], lastHeartbeatAt: null,
    ...stamps(rng, frac),
  };
  // A connector that ever ran reports its runtime fields; a fresh one has none.
  if (state !== 'DEAD_NO_HEARTBEAT') {
    const priv = `10.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(2, 254)}`;
    c.hostname = rng.chance(0.5) ? `ip-${priv.replace(/\./g, '-')}` : `connector-${rng.int(1, 99)}`;
    c.version = `1.${rng.int(60, 78)}.${rng.int(0, 3)}`;
    c.publicIP = `${rng.int(3, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
    c.privateIPs = rng.chance(0.2) ? [priv, `172.17.0.${rng.int(2, 254)}`] : [priv];
    const hb = state === 'ALIVE' ? T1 - rng.int(1, 120) * 1000 : T1 - rng.int(2, 60) * DAY;
    c.lastHeartbeatAt = formatTs(hb, rng.int(0, 999));
  }
  return t.add('Connector', c);
}

/** The fields every resource type has, from @spec, in network @net. */
function resourceFields(net, spec) {
  return {
    name: spec.name,
    address: addressOf(spec.address),
    alias: spec.alias ?? null,
    remoteNetworkId: net.id,
    protocols: spec.protocols ?? defaultProtocols(),
    isActive: spec.isActive ?? true,
    isVisible: spec.isVisible ?? true,
    securityPolicyId: spec.securityPolicyId ?? null,
    tags: spec.tags ?? [],
    approvalMode: spec.approvalMode ?? null,
    accessPolicy: spec.accessPolicy ?? null,
    usageBasedAutolockDurationDays: spec.usageBasedAutolockDurationDays ?? null,
  };
}

function addResource(t, net, frac, spec) {
  return t.add('Resource', {
    ...resourceFields(net, { ...spec, approvalMode: null, accessPolicy: null,
      usageBasedAutolockDurationDays: null }),
    isBrowserShortcutEnabled: spec.isBrowserShortcutEnabled ?? false,
    routingMode: spec.routingMode ?? 'THROUGH_TWINGATE',
    ...stamps(t.rng, frac),
  });
}

/**
 * A resource of another type than network (KubernetesResource, SSHResource,
 * WebAppResource): no routingMode, a gateway. `st` are its stamps.
 */
function addTypedResource(t, rtype, net, st, spec) {
  return t.add('Resource', {
    _rtype: rtype,
    ...resourceFields(net, spec),
    isBrowserShortcutEnabled: false,
    gatewayId: t.newId('Gateway'),
    ...st,
  });
}

/** Turn a generated network resource into another type, in place. */
function retype(t, r, rtype) {
  r._rtype = rtype;
  delete r.routingMode;
  r.isBrowserShortcutEnabled = false;
  r.gatewayId = t.newId('Gateway');
}

/** A pending request of @user for @resource, granted through @group. */
function addAccessRequest(t, user, resource, group, reason, ms) {
  return t.add('AccessRequest', {
    userId: user.id, resourceId: resource.id, groupId: group.id, reason,
    requestedAt: formatTs(ms, t.extraRng.int(0, 999)),
  });
}

function addSerialNumber(t, serialNumber, frac) {
  return t.add('SerialNumber', { serialNumber, createdAt: stamps(t.extraRng, frac).createdAt });
}

function addGroup(t, name, frac, o = {}) {
  return t.add('Group', {
    name,
    type: o.type ?? 'MANUAL',
    isActive: o.isActive ?? true,
    originId: o.type === 'SYNCED' ? `00g${t.rng.uuid().replace(/-/g, '').slice(0, 17)}` : null,
    securityPolicyId: o.securityPolicyId ?? t.defaultPolicyId,
    userIds: new Set(),
    ...stamps(t.rng, frac),
  });
}

function asciiFold(s) {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/ß/g, 'ss').replace(/[^A-Za-z0-9]/g, '').toLowerCase();
}

function addUser(t, first, last, frac, o = {}) {
  const rng = t.rng;
  const email = o.email !== undefined ? o.email : `${asciiFold(first)}.${asciiFold(last)}${o.suffix ?? ''}@example.com`;
  return t.add('User', {
    email,
    firstName: first,
    lastName: last,
    avatarUrl: rng.chance(0.2) ? `https://lh3.googleusercontent.com/a/${rng.uuid().replace(/-/g, '')}` : null,
    role: o.role ?? (rng.chance(0.85) ? 'MEMBER' : rng.pick(['ADMIN', 'DEVOPS', 'SUPPORT', 'ACCESS_REVIEWER'])),
    state: o.state ?? (rng.chance(0.85) ? 'ACTIVE' : rng.pick(['PENDING', 'DISABLED'])),
    type: o.type ?? (rng.chance(0.6) ? 'SYNCED' : 'MANUAL'),
    ...stamps(rng, frac),
  });
}

const ALNUM = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';
function serial(rng, prefix, n) {
  let s = prefix;
  while (s.length < n) s += ALNUM[rng.int(0, ALNUM.length - 1)];
  return s;
}

function addDevice(t, user, o = {}) {
  const rng = t.rng;
  const os = o.osName ?? rng.pick(['MAC_OS', 'MAC_OS', 'WINDOWS', 'WINDOWS', 'LINUX', 'IOS', 'ANDROID', 'IPADOS', 'CHROME_OS']);
  const first = user.firstName || 'user';
  const low = asciiFold(first) || 'user';
  const d = { deviceType: 'LAPTOP', osName: os };
  switch (os) {
    case 'MAC_OS':
      Object.assign(d, { deviceType: rng.chance(0.8) ? 'LAPTOP' : 'DESKTOP', osVersion: rng.pick(['13.6.7', '14.5', '14.6.1', '15.1']),
        hardwareModel: rng.pick(['MacBookPro18,3', 'Mac14,2', 'Mac15,6', 'iMac21,1']), manufacturerName: 'Apple',
        name: `${first}'s MacBook Pro`, hostname: `${low}-mbp`, serialNumber: serial(rng, 'C02', 12) });
      break;
    case 'WINDOWS':
      Object.assign(d, { deviceType: rng.chance(0.7) ? 'LAPTOP' : 'DESKTOP', osVersion: rng.pick(['10.0.19045', '10.0.22631', '10.0.26100']),
        hardwareModel: rng.pick(['Latitude 7440', 'ThinkPad X1 Carbon Gen 11', 'EliteBook 840 G10']),
        manufacturerName: rng.pick(['Dell Inc.', 'LENOVO', 'HP']), name: `DESKTOP-${serial(rng, '', 7)}`,
        hostname: `DESKTOP-${serial(rng, '', 7)}`, serialNumber: serial(rng, '', 10) });
      break;
    case 'LINUX':
      Object.assign(d, { deviceType: rng.pick(['LAPTOP', 'DESKTOP', 'GENERIC']), osVersion: rng.pick(['Debian 12', 'Ubuntu 22.04', 'Fedora 40']),
        hardwareModel: rng.pick(['XPS 13 9310', 'Framework Laptop 13', null]), manufacturerName: rng.pick(['Dell Inc.', 'Framework', null]),
        name: `${low}-linux`, hostname: `${low}-ws`, serialNumber: rng.chance(0.5) ? serial(rng, '', 8) : null });
      break;
    case 'IOS':
      // iOS reports no hostname, serial number or username.
      Object.assign(d, { deviceType: 'MOBILE', osVersion: rng.pick(['17.5.1', '17.6', '18.0']), hardwareModel: rng.pick(['iPhone15,2', 'iPhone16,1']),
        manufacturerName: 'Apple', name: rng.chance(0.2) ? null : `${first}'s iPhone`, hostname: null, serialNumber: null });
      break;
    case 'IPADOS':
      Object.assign(d, { deviceType: 'TABLET', osVersion: '17.5', hardwareModel: 'iPad13,18', manufacturerName: 'Apple',
        name: `${first}'s iPad`, hostname: null, serialNumber: null });
      break;
    case 'ANDROID':
      Object.assign(d, { deviceType: rng.chance(0.8) ? 'MOBILE' : 'TABLET', osVersion: rng.pick(['13', '14']),
        hardwareModel: rng.pick(['Pixel 8', 'SM-S911B']), manufacturerName: rng.pick(['Google', 'samsung']),
        name: `${first}'s Android`, hostname: `android-${serial(rng, '', 8).toLowerCase()}`, serialNumber: serial(rng, 'R5C', 11) });
      break;
    default: // CHROME_OS
      Object.assign(d, { deviceType: 'LAPTOP', osVersion: '126.0.6478.132', hardwareModel: 'Chromebook', manufacturerName: 'Google',
        name: `${first}'s Chromebook`, hostname: null, serialNumber: serial(rng, 'NXK', 10) });
  }
  const login = T0 + rng.next() * (T1 - T0);
  return t.add('Device', {
    name: d.name,
    userId: user.id,
    activeState: o.activeState ?? (rng.chance(0.85) ? 'ACTIVE' : rng.pick(['ARCHIVED', 'BLOCKED'])),
    isTrusted: o.isTrusted ?? rng.chance(0.4),
    deviceType: d.deviceType,
    osName: d.osName,
    osVersion: d.osVersion,
    clientVersion: `202${rng.int(3, 5)}.${rng.int(1, 350)}.${rng.int(100000, 199999)}`,
    hardwareModel: d.hardwareModel,
    manufacturerName: d.manufacturerName,
    hostname: d.hostname,
    username: os === 'IOS' || os === 'IPADOS' ? null : low,
    serialNumber: d.serialNumber,
    internetSecurityConfiguration: rng.pick(['ENABLED', 'DISABLED']),
    lastSuccessfulLoginAt: formatTs(login, rng.int(0, 999)),
    lastFailedLoginAt: rng.chance(0.3) ? tsBetween(rng, T0, T1) : null,
    lastConnectedAt: null,
  });
}

function addServiceAccount(t, name, frac) {
  return t.add('ServiceAccount', { name, ...stamps(t.rng, frac) });
}

function addKey(t, sa, name, status, frac) {
  const rng = t.rng;
  const st = stamps(rng, frac);
  const created = Date.parse(st.createdAt.slice(0, 23) + 'Z');
  let expiresAt = null;
  let revokedAt = null;
  if (status === 'EXPIRED') expiresAt = tsBetween(rng, created + DAY, T1);
  else if (rng.chance(0.6)) expiresAt = formatTs(T1 + rng.int(30, 3000) * DAY, rng.int(0, 999)); // far future
  if (status === 'REVOKED') revokedAt = st.updatedAt;
  // EXPIRED is derived from expiresAt at read time; store it ACTIVE.
  return t.add('ServiceAccountKey', {
    name, status: status === 'EXPIRED' ? 'ACTIVE' : status, expiresAt, revokedAt,
    serviceAccountId: sa.id, ...st,
  });
}

const tcp = (...ports) => ({
  allowIcmp: true,
  tcp: { policy: 'RESTRICTED', ports: ports.map((p) => (Array.isArray(p) ? { start: p[0], end: p[1] } : { start: p, end: p })) },
  udp: { policy: 'ALLOW_ALL', ports: [] },
});

// --------------------------------------------------------------------- tiny

function buildTiny(t, opts) {
  const def = addPolicy(t, 'Default Policy', 'DEFAULT_RESOURCE', 0);
  const mfa = addPolicy(t, 'Require MFA', 'RESOURCE', 0.05);
  const net = addNetwork(t, 'tiny-net', 0.1, { location: 'AWS', networkType: 'REGULAR', isActive: true });
  addConnector(t, net, 'tiny-connector', 0.15, 'ALIVE');
  const res = addResource(t, net, 0.2, { name: 'tiny-db', address: 'db.tiny.internal', protocols: tcp(5432) });
  const user = addUser(t, 'Ada', 'Lovelace', 0.25, { role: 'ADMIN', state: 'ACTIVE', type: 'MANUAL' });
  const grp = addGroup(t, 'Engineering', 0.3, { securityPolicyId: mfa.id });
  grp.userIds.add(user.id);
  addDevice(t, user, { osName: 'MAC_OS', activeState: 'ACTIVE', isTrusted: true });
  const sa = addServiceAccount(t, 'ci-runner', 0.4);
  addKey(t, sa, 'ci key', 'ACTIVE', 0.45);
  t.setAccess(res.id, grp.id);
  t.setAccess(res.id, sa.id);
  void def;

  // ---- the 2026 revision (own random stream) ----
  const x = t.extraRng;
  const serial = t.list('Device')[0]?.serialNumber;
  if (serial) addSerialNumber(t, serial, 0.6);
  addSerialNumber(t, 'TINYSERIAL01', 0.61);
  if (!opts.resourceTypes) return;
  const k8s = addTypedResource(t, 'KubernetesResource', net, stamps(x, 0.5), {
    name: 'tiny-k8s', address: 'k8s.tiny.internal', protocols: tcp(443),
    approvalMode: 'MANUAL', accessPolicy: { mode: 'ACCESS_REQUEST', durationSeconds: 3600 },
  });
  const ssh = addTypedResource(t, 'SSHResource', net, stamps(x, 0.51), {
    name: 'tiny-ssh', address: 'ssh.tiny.internal', protocols: tcp(22), usageBasedAutolockDurationDays: 7,
  });
  const web = addTypedResource(t, 'WebAppResource', net, stamps(x, 0.52), {
    name: 'tiny-web', address: 'web.tiny.internal', protocols: tcp(443),
  });
  t.setAccess(k8s.id, grp.id, { approvalMode: 'AUTOMATIC', accessPolicy: { mode: 'AUTO_LOCK', durationSeconds: 86400 } });
  t.setAccess(ssh.id, grp.id, { usageBasedAutolockDurationDays: 30 });
  t.setAccess(web.id, grp.id, { securityPolicyId: mfa.id });
  t.setAccess(ssh.id, sa.id);
}

// -------------------------------------------------------------------- small

function buildSmall(t, opts) {
  const rng = t.rng;
  addPolicy(t, 'Default Policy', 'DEFAULT_RESOURCE', 0);
  const mfa = addPolicy(t, 'Require MFA', 'RESOURCE', 0.02);
  const trusted = addPolicy(t, 'Trusted Devices Only', 'RESOURCE', 0.04);

  const nets = {};
  const netSpecs = [
    ['aws', 'AWS prod', 'AWS'], ['hq', 'Office / HQ', 'ON_PREMISE'], ['zh', 'Zürich Büro', 'ON_PREMISE'],
    ['dup1', 'Duplicate', 'AZURE'], ['dup2', 'Duplicate', 'GOOGLE_CLOUD'], ['hidden', '.hidden-net', 'OTHER'],
  ];
  netSpecs.forEach(([k, name, location], i) => {
    nets[k] = addNetwork(t, name, 0.05 + i * 0.01, { location, networkType: 'REGULAR', isActive: true });
  });

  // 9 connectors; 4 in "AWS prod" (two share a name) so size-2 pages span pages.
  const conn = [
    ['aws', 'amber-falcon', 'ALIVE'], ['aws', 'amber-falcon', 'ALIVE'], ['aws', 'quiet-heron', 'DEAD_NO_HEARTBEAT'],
    ['aws', 'brisk otter', 'ALIVE'], ['hq', 'hq/rack-1', 'ALIVE'], ['hq', '.backup-connector', 'DEAD_HEARTBEAT_TOO_OLD'],
    ['zh', 'zürich-eins', 'ALIVE'], ['dup1', 'dup-a', 'ALIVE'], ['dup2', 'dup-b', 'DEAD_NO_HEARTBEAT'],
  ];
  conn.forEach(([k, name, state], i) => addConnector(t, nets[k], name, 0.12 + i * 0.01, state));

  const R = {};
  const resSpecs = [
    ['db', 'aws', { name: 'prod-db', address: 'db.prod.internal', protocols: tcp(5432) }],
    ['stg', 'aws', { name: 'Web App (staging)', address: 'staging.example.internal', tags: [{ key: 'env', value: 'staging' }] }],
    ['wiki', 'hq', { name: 'Intranet / Wiki', address: 'wiki.corp.example.com', alias: 'wiki.tg', isBrowserShortcutEnabled: true, protocols: tcp(80, 443) }],
    ['printer', 'zh', { name: 'Büro-Drucker', address: '192.168.10.25', protocols: tcp(631, 9100), securityPolicyId: trusted.id }],
    ['tokyo', 'zh', { name: '東京 ファイルサーバ', address: 'fs.tokyo.internal', protocols: tcp(445, [137, 139]) }],
    ['vpc', 'aws', { name: 'VPC subnet', address: '10.0.0.0/16', tags: [{ key: 'env', value: 'prod' }, { key: 'team', value: 'platform' }] }],
    ['wild', 'hq', { name: 'corp wildcard', address: '*.corp.internal', securityPolicyId: mfa.id }],
    ['adm1', 'dup1', { name: 'admin panel', address: 'admin.azure.internal', protocols: tcp(443) }],
    ['adm2', 'dup2', { name: 'admin panel', address: 'admin.gcp.internal', protocols: tcp(443) }],
    ['dot', 'hidden', { name: '.dotfile-server', address: 'dot.hidden.internal', isVisible: false }],
    ['api', 'aws', { name: 'public api', address: 'api.example.com', routingMode: 'BYPASS_TWINGATE' }],
    ['graf', 'aws', { name: 'grafana', address: 'grafana.monitoring.svc', alias: 'grafana.tg', protocols: tcp(3000), tags: [{ key: 'env', value: 'prod' }] }],
  ];
  resSpecs.forEach(([k, net, spec], i) => {
    R[k] = addResource(t, nets[net], 0.2 + i * 0.01, spec);
  });

  const people = [
    ['Ada', 'Lovelace', { role: 'ADMIN', state: 'ACTIVE', type: 'MANUAL' }],
    ['Grace', 'Hopper', { role: 'DEVOPS', state: 'ACTIVE', type: 'SYNCED' }],
    ['Alan', 'Turing', { role: 'MEMBER', state: 'ACTIVE', type: 'SYNCED' }],
    ['Jürgen', 'Müller', { role: 'MEMBER', state: 'ACTIVE', type: 'SYNCED' }],
    ['Yuki', 'Tanaka', { role: 'SUPPORT', state: 'ACTIVE', type: 'SYNCED' }],
    ['Linus', 'Torvalds', { role: 'MEMBER', state: 'DISABLED', type: 'MANUAL' }],
    ['Margaret', 'Hamilton', { role: 'ACCESS_REVIEWER', state: 'ACTIVE', type: 'MANUAL' }],
    ['Barbara', 'Liskov', { role: 'MEMBER', state: 'PENDING', type: 'MANUAL' }],
    ['Ken', 'Thompson', { role: 'MEMBER', state: 'ACTIVE', type: 'SYNCED' }],
    // A user without an email (seen with some IdP syncs).
    ['Service', 'Desk', { role: 'MEMBER', state: 'ACTIVE', type: 'SYNCED', email: null }],
  ];
  const U = people.map(([f, l, o], i) => addUser(t, f, l, 0.3 + i * 0.01, o));

  const G = {};
  G.all = addGroup(t, 'Everyone', 0.01, { type: 'SYSTEM' });
  G.eng = addGroup(t, 'Engineering', 0.41, { securityPolicyId: mfa.id });
  G.ops = addGroup(t, 'Ops / SRE', 0.42);
  G.tokyo = addGroup(t, '東京 チーム', 0.43, { securityPolicyId: trusted.id });
  G.okta = addGroup(t, 'Okta Admins', 0.44, { type: 'SYNCED' });
  G.dot = addGroup(t, '.contractors', 0.45, { isActive: false });
  for (const u of U) G.all.userIds.add(u.id);
  [0, 1, 2, 3, 8].forEach((i) => G.eng.userIds.add(U[i].id));
  [1, 5, 8].forEach((i) => G.ops.userIds.add(U[i].id));
  [4].forEach((i) => G.tokyo.userIds.add(U[i].id));
  [0, 1].forEach((i) => G.okta.userIds.add(U[i].id));
  [7].forEach((i) => G.dot.userIds.add(U[i].id));

  // 15 devices, most users have one or two; the PENDING user has none.
  const owners = [0, 0, 1, 1, 2, 3, 3, 4, 4, 5, 6, 8, 8, 9, 2];
  const oses = ['MAC_OS', 'IOS', 'LINUX', 'ANDROID', 'WINDOWS', 'MAC_OS', 'IPADOS', 'MAC_OS', 'IOS', 'WINDOWS', 'CHROME_OS', 'LINUX', 'MAC_OS', 'WINDOWS', 'WINDOWS'];
  const states = ['ACTIVE', 'ACTIVE', 'ACTIVE', 'ARCHIVED', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'BLOCKED', 'ACTIVE', 'ARCHIVED', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE'];
  owners.forEach((ui, i) => addDevice(t, U[ui], { osName: oses[i], activeState: states[i], isTrusted: i % 3 === 0 }));

  const ci = addServiceAccount(t, 'ci-runner', 0.5);
  const backup = addServiceAccount(t, 'Backup Bot', 0.51);
  const mon = addServiceAccount(t, 'monitoring/agent', 0.52);
  addKey(t, ci, 'github actions', 'ACTIVE', 0.55);
  addKey(t, ci, 'old jenkins key', 'REVOKED', 0.53);
  addKey(t, ci, 'gitlab', 'EXPIRED', 0.54);
  addKey(t, backup, 'nightly', 'ACTIVE', 0.56);
  addKey(t, mon, 'prometheus', 'ACTIVE', 0.57);
  addKey(t, mon, 'datadog (old)', 'REVOKED', 0.56);

  const grant = (r, p, f) => t.setAccess(R[r].id, p.id, f);
  for (const r of ['db', 'stg', 'vpc', 'graf', 'api']) grant(r, G.eng);
  grant('db', G.ops, { securityPolicyId: mfa.id });
  grant('graf', G.ops);
  grant('wiki', G.all);
  grant('printer', G.all);
  // Far enough ahead to stay listed: an edge past its expiresAt is gone.
  grant('tokyo', G.tokyo, { expiresAt: formatTs(T1 + 2400 * DAY, 0) });
  grant('wild', G.ops);
  grant('adm1', G.okta, { usageBasedAutolockDurationDays: 30 });
  grant('adm2', G.okta);
  grant('dot', G.dot);
  grant('stg', G.dot, { expiresAt: formatTs(T1 + 2000 * DAY, 123) });
  grant('db', ci);
  grant('stg', ci);
  grant('db', backup);
  grant('graf', mon);
  grant('vpc', mon);
  void rng;

  // ---- the 2026 revision (own random stream: nothing above moves) ----
  const x = t.extraRng;
  // Edge settings the tree did not show before (JIT access).
  grant('db', G.ops, { approvalMode: 'MANUAL', accessPolicy: { mode: 'ACCESS_REQUEST', durationSeconds: 8 * 3600 } });
  grant('graf', G.ops, { usageBasedAutolockDurationDays: 30, approvalMode: 'AUTOMATIC',
    accessPolicy: { mode: 'AUTO_LOCK', durationSeconds: 7 * 86400 } });
  Object.assign(R.db, { approvalMode: 'MANUAL', accessPolicy: { mode: 'ACCESS_REQUEST', durationSeconds: 4 * 3600 } });
  R.graf.usageBasedAutolockDurationDays = 60;
  // Expired long ago: never listed anywhere.
  grant('wiki', G.okta, { expiresAt: formatTs(T1 - 30 * DAY, 0) });

  // Pending requests; each is granted through a group that reaches the resource.
  // (none of these users reaches the resource yet; Service Desk has no email)
  addAccessRequest(t, U[4], R.db, G.ops, 'on call this week', T1 - 3 * 3600000);
  addAccessRequest(t, U[6], R.graf, G.ops, null, T1 - 26 * 3600000);
  addAccessRequest(t, U[9], R.stg, G.eng, 'quarterly access review', T1 - 50 * 3600000);

  const devs = t.list('Device').filter((d) => d.serialNumber);
  for (const d of [devs[0], devs[2], devs[4]]) if (d) addSerialNumber(t, d.serialNumber, 0.7);
  addSerialNumber(t, 'C02UNKNOWN01', 0.71);
  addSerialNumber(t, 'PF3XQ9ZZ', 0.72);

  if (!opts.resourceTypes) return;
  const xs = (frac) => stamps(x, frac);
  const K = addTypedResource(t, 'KubernetesResource', nets.aws, xs(0.6), {
    name: 'prod-k8s', address: 'k8s.prod.internal', protocols: tcp(443), tags: [{ key: 'cluster', value: 'eu-1' }],
    approvalMode: 'MANUAL', accessPolicy: { mode: 'ACCESS_REQUEST', durationSeconds: 8 * 3600 },
  });
  const S = addTypedResource(t, 'SSHResource', nets.hq, xs(0.61), {
    name: 'bastion ssh', address: 'bastion.corp.example.com', protocols: tcp(22),
    usageBasedAutolockDurationDays: 14, approvalMode: 'AUTOMATIC', accessPolicy: { mode: 'AUTO_LOCK', durationSeconds: 7 * 86400 },
  });
  const W = addTypedResource(t, 'WebAppResource', nets.aws, xs(0.62), {
    name: 'Kibana (web)', address: 'kibana.monitoring.svc', protocols: tcp(443),
  });
  t.setAccess(K.id, G.ops.id, { approvalMode: 'MANUAL', accessPolicy: { mode: 'ACCESS_REQUEST', durationSeconds: 8 * 3600 } });
  t.setAccess(K.id, G.eng.id, { securityPolicyId: mfa.id, expiresAt: formatTs(T1 + 2200 * DAY, 0) });
  t.setAccess(S.id, G.ops.id, { usageBasedAutolockDurationDays: 30, approvalMode: 'AUTOMATIC', accessPolicy: { mode: 'AUTO_LOCK', durationSeconds: 7 * 86400 } });
  t.setAccess(S.id, ci.id);
  t.setAccess(W.id, G.all.id);
  t.setAccess(W.id, G.eng.id, { expiresAt: formatTs(T1 + 1900 * DAY, 500) });
  addAccessRequest(t, U[3], K, G.ops, 'cluster upgrade', T1 - 5 * 3600000);
}

// ---------------------------------------------------------- large / scaled

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-northeast-1', 'ap-southeast-2', 'sa-east-1', 'ca-central-1'];
const ENVS = ['prod', 'staging', 'dev', 'qa', 'shared'];
const SERVICES = ['db', 'api', 'web', 'cache', 'queue', 'ssh', 'rdp', 'grafana', 'kibana', 'jenkins', 'vault', 'git', 'wiki', 'smb', 'ldap', 'k8s'];
const FIRST = ['Ada', 'Grace', 'Alan', 'Jürgen', 'Yuki', 'Linus', 'Margaret', 'Barbara', 'Ken', 'Dennis', 'Frances', 'Edsger', 'Niklaus', 'Radia',
  'Sophie', 'Lars', 'Chloé', 'Mateo', 'Priya', 'Wei', 'Olga', 'Kwame', 'Aisha', 'Søren', 'Zoë', 'Hiroshi', 'Fatima', 'Diego', 'Ingrid', 'Tomás'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Müller', 'Tanaka', 'Torvalds', 'Hamilton', 'Liskov', 'Thompson', 'Ritchie', 'Allen', 'Dijkstra',
  'Wirth', 'Perlman', 'Wilson', 'Andersen', 'Dubois', 'García', 'Sharma', 'Zhang', 'Ivanova', 'Mensah', 'Khan', 'Kierkegaard', 'Nowak', 'Sato', 'Silva'];
const TEAMS = ['Platform', 'Payments', 'Search', 'Data', 'Security', 'Mobile', 'Growth', 'Support', 'Finance', 'Legal', 'Design', 'Infra', 'QA', 'Sales'];
const POLICY_NAMES = ['Require MFA', 'Trusted Devices Only', 'Contractors (24h)', 'Admin / Break-glass', 'EU only', 'Strict', 'Developers', 'Finance', 'Audit', 'Low risk'];
const AWKWARD_NETS = ['AWS prod', 'Office / HQ', 'Zürich Büro', 'Duplicate', 'Duplicate', '.hidden-net', '東京'];

/** Pick k distinct items from arr (k may exceed length: then all). */
function sample(rng, arr, k) {
  if (k >= arr.length) return arr.slice();
  if (k > arr.length / 3) {
    const a = arr.slice();
    for (let i = 0; i < k; i++) {
      const j = rng.int(i, a.length - 1);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a.slice(0, k);
  }
  const seen = new Set();
  const out = [];
  while (out.length < k) {
    const x = arr[rng.int(0, arr.length - 1)];
    if (!seen.has(x)) {
      seen.add(x);
      out.push(x);
    }
  }
  return out;
}

function buildScaled(t, devices, opts) {
  const rng = t.rng;
  const scale = (n) => Math.max(1, Math.round((devices * n) / 20000));
  const n = {
    nets: scale(20), conns: scale(200), res: scale(5000), groups: scale(500), users: scale(10000),
    sas: scale(50), policies: scale(10), devices: Math.max(1, devices),
  };

  const policies = [addPolicy(t, 'Default Policy', 'DEFAULT_RESOURCE', 0)];
  for (let i = 1; i < n.policies; i++) {
    policies.push(addPolicy(t, POLICY_NAMES[(i - 1) % POLICY_NAMES.length] + (i > POLICY_NAMES.length ? ` ${i}` : ''), 'RESOURCE', i / n.policies * 0.05));
  }
  const others = policies.slice(1);

  const nets = [];
  for (let i = 0; i < n.nets; i++) {
    const name = i < AWKWARD_NETS.length ? AWKWARD_NETS[i] : `${rng.pick(['aws', 'gcp', 'azure', 'dc'])}-${rng.pick(REGIONS)} ${rng.pick(ENVS)}`;
    nets.push(addNetwork(t, name, 0.05 + (i / n.nets) * 0.05));
  }
  for (let i = 0; i < n.conns; i++) {
    // The first network gets extra connectors (paging inside one network).
    const net = i < Math.min(6, n.conns) ? nets[0] : nets[rng.int(0, nets.length - 1)];
    addConnector(t, net, i === 1 ? 'amber-falcon' : i === 0 ? 'amber-falcon' : null, 0.1 + (i / n.conns) * 0.1);
  }

  const res = [];
  for (let i = 0; i < n.res; i++) {
    const svc = rng.pick(SERVICES);
    const env = rng.pick(ENVS);
    const kind = rng.int(0, 9);
    let address;
    if (kind < 6) address = `${svc}-${i}.${env}.internal`;
    else if (kind < 8) address = `10.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
    else if (kind < 9) address = `10.${rng.int(0, 255)}.${rng.int(0, 255)}.0/24`;
    else address = `*.${svc}${i}.${env}.internal`;
    const spec = { name: `${svc}-${env}-${i}`, address };
    if (rng.chance(0.5)) spec.protocols = tcp(rng.pick([22, 443, 3389, 5432, 6379, [8000, 8080]]));
    if (rng.chance(0.15)) spec.securityPolicyId = rng.pick(others ?? [])?.id ?? null;
    if (rng.chance(0.3)) spec.tags = [{ key: 'env', value: env }];
    if (rng.chance(0.05)) spec.alias = `${svc}${i}.tg`;
    res.push(addResource(t, nets[rng.int(0, nets.length - 1)], 0.2 + (i / n.res) * 0.3, spec));
  }

  const users = [];
  for (let i = 0; i < n.users; i++) {
    users.push(addUser(t, rng.pick(FIRST), rng.pick(LAST), 0.2 + (i / n.users) * 0.6, { suffix: i }));
  }
  const groups = [addGroup(t, 'Everyone', 0.01, { type: 'SYSTEM' })];
  for (const u of users) groups[0].userIds.add(u.id);
  for (let i = 1; i < n.groups; i++) {
    const synced = rng.chance(0.3);
    const g = addGroup(t, `${rng.pick(TEAMS)} ${synced ? '(Okta)' : 'team'} ${i}`, 0.4 + (i / n.groups) * 0.4, {
      type: synced ? 'SYNCED' : 'MANUAL',
      isActive: !rng.chance(0.05),
      securityPolicyId: others.length && rng.chance(0.3) ? rng.pick(others).id : undefined,
    });
    // Mostly small groups, every 40th a big one so nested pages overflow.
    const k = i % 40 === 1 ? rng.int(101, 450) : rng.int(0, 40);
    for (const u of sample(rng, users, k)) g.userIds.add(u.id);
    groups.push(g);
  }

  const sas = [];
  for (let i = 0; i < n.sas; i++) {
    const sa = addServiceAccount(t, `${rng.pick(['ci', 'backup', 'monitoring', 'terraform', 'deploy'])}-${i}`, 0.5 + (i / n.sas) * 0.3);
    sas.push(sa);
    const nk = rng.int(1, 3);
    for (let k = 0; k < nk; k++) {
      addKey(t, sa, `key ${k + 1}`, k === 0 ? 'ACTIVE' : rng.pick(['ACTIVE', 'REVOKED', 'EXPIRED']), 0.8 + (i / n.sas) * 0.1);
    }
  }

  const grantable = groups.slice(1);
  res.forEach((r, i) => {
    const k = i % 997 === 5 ? 60 : rng.int(1, 4); // a few resources with > 50 edges
    for (const g of sample(rng, grantable.length ? grantable : groups, k)) t.setAccess(r.id, g.id);
    if (i % 250 === 0) t.setAccess(r.id, groups[0].id);
    if (sas.length && rng.chance(0.08)) t.setAccess(r.id, rng.pick(sas).id);
  });

  // Devices belong to users who signed in at least once (not PENDING).
  const signedIn = users.filter((u) => u.state !== 'PENDING');
  const owners = signedIn.length ? signedIn : users;
  for (let i = 0; i < n.devices; i++) addDevice(t, owners[rng.int(0, owners.length - 1)]);

  // ---- the 2026 revision (own random stream: nothing above moves) ----
  const x = t.extraRng;
  const per = Math.max(1, Math.round(n.res / 1000));
  // With resourceTypes, a few resources become Kubernetes, SSH and web-app
  // resources (their names say so where they can: k8s-*, ssh-*, web-*);
  // the counts of every kind stay. Network ones stay the majority.
  const picked = [];
  if (opts.resourceTypes) {
    const each = Math.min(per, Math.floor((res.length - 1) / 3));
    const plainDns = (r) => r.address.type === 'DNS' && !r.address.value.includes('*') && !r._rtype;
    for (const [prefix, rtype] of [['k8s-', 'KubernetesResource'], ['ssh-', 'SSHResource'], ['web-', 'WebAppResource']]) {
      let pool = res.filter((r) => plainDns(r) && r.name.startsWith(prefix));
      if (pool.length < each) pool = pool.concat(res.filter((r) => plainDns(r) && !r.name.startsWith(prefix)));
      for (const r of sample(x, pool, each)) {
        if (r._rtype) continue;
        retype(t, r, rtype);
        picked.push(r);
      }
    }
  } else {
    picked.push(...sample(x, res, Math.min(res.length, 3 * per)));
  }
  // Edge settings and resource defaults on those; a request for each that a
  // manual group reaches, by someone outside the group.
  const pol = { approvalMode: 'AUTOMATIC', accessPolicy: { mode: 'AUTO_LOCK', durationSeconds: 7 * 86400 } };
  const groupsOf = (r) => t.accessOfResource(r.id).map((e) => t.get('Group', e.principalId)).filter(Boolean);
  for (const r of picked) {
    const g = groupsOf(r);
    if (g.length) t.setAccess(r.id, g[0].id, pol);
    if (x.chance(0.5)) r.usageBasedAutolockDurationDays = x.int(1, 90);
  }
  let nreq = 0;
  for (const r of [...picked, ...sample(x, res, Math.min(res.length, 40))]) {
    if (nreq >= 3 * per) break;
    const mg = groupsOf(r).find((gg) => gg.type === 'MANUAL' && gg.isActive);
    const u = mg && sample(x, users, Math.min(users.length, 20)).find((uu) => uu.state === 'ACTIVE' && !mg.userIds.has(uu.id));
    if (!u || t.list('AccessRequest').some((q) => q.userId === u.id && q.resourceId === r.id)) continue;
    addAccessRequest(t, u, r, mg, x.chance(0.5) ? `ticket OPS-${x.int(100, 9999)}` : null, T1 - x.int(1, 96) * 3600000);
    nreq++;
  }
  // Trusted serial numbers: most match a device, some match none.
  const withSerial = t.list('Device').filter((d) => d.serialNumber);
  const nSerial = Math.max(2, Math.round(n.devices / 200));
  const seen = new Set();
  for (let i = 0; i < nSerial; i++) {
    let sn = i % 5 !== 4 && withSerial.length ? withSerial[x.int(0, withSerial.length - 1)].serialNumber : `NOMATCH${x.int(100000, 999999)}`;
    if (seen.has(sn)) sn = `NOMATCH${x.int(100000, 999999)}`;
    if (seen.has(sn)) continue;
    seen.add(sn);
    addSerialNumber(t, sn, 0.9 + (i / nSerial) * 0.05);
  }
}

/**
 * Build a tenant. size: 'tiny' | 'small' | 'large' | number of devices.
 * resourceTypes: include Kubernetes, SSH and web-app resources (off by
 * default: the tree tests written before them compare every resource).
 */
export function generateTenant({ size = 'small', seed = 1, resourceTypes = false } = {}) {
  const t = new Tenant(seed);
  const opts = { resourceTypes };
  if (size === 'tiny') buildTiny(t, opts);
  else if (size === 'small') buildSmall(t, opts);
  else if (size === 'large') buildScaled(t, 20000, opts);
  else if (Number.isInteger(Number(size)) && Number(size) >= 0) buildScaled(t, Number(size), opts);
  else throw new Error(`unknown --size '${size}' (tiny, small, large or a number of devices)`);
  return t;
}
