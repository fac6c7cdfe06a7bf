// Every mutation: its effect on state (read back through the API or
// /_sim/tenant) and its business-rule refusals (ok:false + error string).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSim, byName, b64 } from '../testkit.mjs';

let s;
before(async () => {
  s = await startSim(['--size', 'small', '--rate-read', '0', '--rate-write', '0']);
});
after(() => s.stop());

const tenant = async () => (await s.sim('/_sim/tenant')).body;
const m = async (q, v, token = 'sim-provision') => {
  const d = await s.data(q, v, { token });
  return Object.values(d)[0];
};
const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/;

test('remote networks: create, update, delete, refusals', async () => {
  const c = await m('mutation { remoteNetworkCreate(name:"New / Net") { ok error entity { id name location networkType isActive createdAt updatedAt } } }');
  assert.equal(c.ok, true);
  assert.equal(c.error, null);
  assert.deepEqual([c.entity.name, c.entity.location, c.entity.networkType, c.entity.isActive], ['New / Net', 'OTHER', 'REGULAR', true]);
  assert.match(c.entity.createdAt, TS);
  const u = await m(`mutation { remoteNetworkUpdate(id:"${c.entity.id}", name:"Renamed", location:AWS) { ok entity { name location isActive updatedAt } } }`);
  assert.deepEqual([u.entity.name, u.entity.location, u.entity.isActive], ['Renamed', 'AWS', true]);
  assert.ok(u.entity.updatedAt >= c.entity.updatedAt);
  const read = await s.data(`{ remoteNetwork(id:"${c.entity.id}") { name } }`);
  assert.equal(read.remoteNetwork.name, 'Renamed');

  const blank = await m('mutation { remoteNetworkCreate(name:"  ") { ok error entity { id } } }');
  assert.deepEqual(blank, { ok: false, error: 'Name cannot be empty.', entity: null });

  const aws = byName((await tenant()).remoteNetworks, 'AWS prod');
  const refused = await m(`mutation { remoteNetworkDelete(id:"${aws.id}") { ok error } }`);
  assert.equal(refused.ok, false);
  assert.match(refused.error, /still has 4 connector\(s\) and \d+ resource\(s\)/);

  const del = await m(`mutation { remoteNetworkDelete(id:"${c.entity.id}") { ok error } }`);
  assert.deepEqual(del, { ok: true, error: null });
  assert.equal((await s.data(`{ remoteNetwork(id:"${c.entity.id}") { id } }`)).remoteNetwork, null);
});

test('remote network delete cascades when configured', async () => {
  const net = await m('mutation { remoteNetworkCreate(name:"cascade") { entity { id } } }');
  const nid = net.entity.id;
  await m(`mutation { connectorCreate(remoteNetworkId:"${nid}") { ok } }`);
  await m(`mutation { resourceCreate(name:"r", address:"r.internal", remoteNetworkId:"${nid}") { ok } }`);
  await s.sim('/_sim/config', 'POST', { cascadeNetworkDelete: true });
  try {
    assert.equal((await m(`mutation { remoteNetworkDelete(id:"${nid}") { ok } }`)).ok, true);
  } finally {
    await s.sim('/_sim/config', 'POST', { cascadeNetworkDelete: false });
  }
  const t = await tenant();
  assert.ok(!t.connectors.some((c) => c.remoteNetworkId === nid));
  assert.ok(!t.resources.some((r) => r.remoteNetworkId === nid));
});

test('connectors: create (generated name), update, tokens, delete', async () => {
  const net = byName((await tenant()).remoteNetworks, 'Zürich Büro');
  const c = await m(`mutation { connectorCreate(remoteNetworkId:"${net.id}") { ok entity { id name state hasStatusNotificationsEnabled hostname privateIPs remoteNetwork { name } } } }`);
  assert.equal(c.ok, true);
  assert.match(c.entity.name, /^[a-z]+-[a-z]+$/);
  assert.deepEqual([c.entity.state, c.entity.hasStatusNotificationsEnabled, c.entity.hostname, c.entity.privateIPs], ['DEAD_NO_HEARTBEAT', true, null, []]);
  assert.equal(c.entity.remoteNetwork.name, 'Zürich Büro');
  const named = await m(`mutation { connectorCreate(remoteNetworkId:"${net.id}", name:"mine", hasStatusNotificationsEnabled:false) { entity { name hasStatusNotificationsEnabled } } }`);
  assert.deepEqual(named.entity, { name: 'mine', hasStatusNotificationsEnabled: false });
  const bad = await m(`mutation { connectorCreate(remoteNetworkId:"${b64('RemoteNetwork:1')}") { ok error } }`);
  assert.deepEqual(bad, { ok: false, error: `RemoteNetwork with id '${b64('RemoteNetwork:1')}' does not exist` });

  const u = await m(`mutation { connectorUpdate(id:"${c.entity.id}", name:"renamed") { ok entity { name } } }`);
  assert.equal(u.entity.name, 'renamed');

  const t1 = await m(`mutation { connectorGenerateTokens(connectorId:"${c.entity.id}") { ok connectorTokens { accessToken refreshToken } } }`);
  const t2 = await m(`mutation { connectorGenerateTokens(connectorId:"${c.entity.id}") { ok connectorTokens { accessToken refreshToken } } }`);
  assert.notEqual(t1.connectorTokens.accessToken, t2.connectorTokens.accessToken);
  assert.notEqual(t1.connectorTokens.refreshToken, t2.connectorTokens.refreshToken);
  const snap = JSON.stringify(await tenant());
  assert.ok(!snap.includes(t2.connectorTokens.accessToken), 'tokens never appear in /_sim/tenant');

  assert.equal((await m(`mutation { connectorDelete(id:"${c.entity.id}") { ok } }`)).ok, true);
  assert.equal((await s.data(`{ connector(id:"${c.entity.id}") { id } }`)).connector, null);
});

const RES = `id name address { type value } alias isActive isVisible isBrowserShortcutEnabled routingMode
  securityPolicy { name } tags { key value } protocols { allowIcmp tcp { policy ports { start end } } udp { policy ports { start end } } }
  groups { edges { node { name } } } remoteNetwork { name }`;

test('resources: create with defaults and derived address type', async () => {
  const net = byName((await tenant()).remoteNetworks, 'AWS prod');
  const c = await m(`mutation($n:ID!) { resourceCreate(name:"new db", address:"10.1.2.3", remoteNetworkId:$n) { ok error entity { ${RES} } } }`, { n: net.id });
  assert.equal(c.ok, true, c.error);
  const e = c.entity;
  assert.deepEqual(e.address, { type: 'IP', value: '10.1.2.3' });
  assert.deepEqual([e.isActive, e.isVisible, e.isBrowserShortcutEnabled, e.routingMode, e.alias, e.securityPolicy], [true, true, false, 'THROUGH_TWINGATE', null, null]);
  assert.deepEqual(e.protocols, { allowIcmp: true, tcp: { policy: 'ALLOW_ALL', ports: [] }, udp: { policy: 'ALLOW_ALL', ports: [] } });
  const types = {};
  for (const addr of ['10.0.0.0/8', 'host.internal', '*.wild.internal']) {
    const r = await m(`mutation($n:ID!,$a:String!) { resourceCreate(name:"t", address:$a, remoteNetworkId:$n) { ok entity { address { type } } } }`, { n: net.id, a: addr });
    types[addr] = r.entity.address.type;
  }
  assert.deepEqual(types, { '10.0.0.0/8': 'IP', 'host.internal': 'DNS', '*.wild.internal': 'DNS' });

  const T = await tenant();
  const grp = byName(T.groups, 'Engineering');
  const pol = byName(T.securityPolicies, 'Require MFA');
  const full = await m(`mutation($n:ID!,$g:[ID],$p:ID,$pr:ProtocolsInput) { resourceCreate(name:"full", address:"full.internal", remoteNetworkId:$n,
      alias:"full.tg", isVisible:false, securityPolicyId:$p, groupIds:$g, tags:[{key:"env",value:"dev"}], protocols:$pr) { ok error entity { ${RES} } } }`,
  { n: net.id, g: [grp.id], p: pol.id, pr: { allowIcmp: false, tcp: { policy: 'RESTRICTED', ports: [{ start: 22, end: 22 }, { start: 8000, end: 8080 }] }, udp: { policy: 'ALLOW_ALL', ports: [{ start: 1, end: 2 }] } } });
  assert.equal(full.ok, true, full.error);
  assert.equal(full.entity.alias, 'full.tg');
  assert.equal(full.entity.securityPolicy.name, 'Require MFA');
  assert.deepEqual(full.entity.groups.edges.map((x) => x.node.name), ['Engineering']);
  assert.deepEqual(full.entity.tags, [{ key: 'env', value: 'dev' }]);
  assert.deepEqual(full.entity.protocols.tcp.ports, [{ start: 22, end: 22 }, { start: 8000, end: 8080 }]);
  assert.deepEqual(full.entity.protocols.udp, { policy: 'ALLOW_ALL', ports: [] }, 'ports dropped with ALLOW_ALL');
});

test('resources: create refusals', async () => {
  const T = await tenant();
  const net = byName(T.remoteNetworks, 'AWS prod');
  const pol = byName(T.securityPolicies, 'Require MFA');
  const create = async (args) => m(`mutation($n:ID!) { resourceCreate(remoteNetworkId:$n, ${args}) { ok error entity { id } } }`, { n: net.id });
  const cases = [
    ['name:"", address:"a.b"', /Name cannot be empty/],
    ['name:"x", address:""', /Address cannot be empty/],
    ['name:"x", address:"a.b", protocols:{allowIcmp:true, tcp:{policy:RESTRICTED, ports:[{start:0,end:10}]}, udp:{policy:ALLOW_ALL}}', /Invalid port range 0-10/],
    ['name:"x", address:"a.b", protocols:{allowIcmp:true, tcp:{policy:RESTRICTED, ports:[{start:90,end:80}]}, udp:{policy:ALLOW_ALL}}', /Invalid port range/],
    ['name:"x", address:"a.b", protocols:{allowIcmp:true, tcp:{policy:ALLOW_ALL}, udp:{policy:RESTRICTED, ports:[{start:1,end:65536}]}}', /Invalid port range/],
    ['name:"x", address:"10.0.0.0/24", isBrowserShortcutEnabled:true', /^Resources with a CIDR range or wildcard can't have the browser shortcut enabled\.$/],
    ['name:"x", address:"*.w.internal", isBrowserShortcutEnabled:true', /browser shortcut/],
    [`name:"x", address:"a.b", routingMode:BYPASS_TWINGATE, securityPolicyId:"${pol.id}"`, /^Bypass Resources cannot have a security policy$/],
    ['name:"x", address:"*.a.b", routingMode:BYPASS_TWINGATE', /^Bypass Resources cannot have a wildcard address$/],
    ['name:"x", address:"a.b", routingMode:BYPASS_TWINGATE, protocols:{allowIcmp:true, tcp:{policy:RESTRICTED, ports:[]}, udp:{policy:ALLOW_ALL}}', /^Bypass Resources cannot have port restrictions$/],
    [`name:"x", address:"a.b", groupIds:["${b64('Group:1')}"]`, /Group with id .* does not exist/],
    [`name:"x", address:"a.b", securityPolicyId:"${b64('SecurityPolicy:1')}"`, /SecurityPolicy with id .* does not exist/],
  ];
  for (const [args, re] of cases) {
    const r = await create(args);
    assert.equal(r.ok, false, args);
    assert.equal(r.entity, null);
    assert.match(r.error, re, args);
  }
  const other = await m(`mutation { resourceCreate(name:"x", address:"a.b", remoteNetworkId:"${b64('RemoteNetwork:7')}") { ok error } }`);
  assert.match(other.error, /RemoteNetwork with id .* does not exist/);
  const after_ = await tenant();
  assert.equal(after_.resources.length, T.resources.length, 'refused creates leave no trace');
});

test('resources: update (omitted = unchanged, null clears), group deltas, delete', async () => {
  const T = await tenant();
  const graf = byName(T.resources, 'grafana');
  const pol = byName(T.securityPolicies, 'Require MFA');
  let r = await m(`mutation($id:ID!,$p:ID) { resourceUpdate(id:$id, name:"grafana 2", securityPolicyId:$p) { ok error entity { ${RES} } } }`, { id: graf.id, p: pol.id });
  assert.equal(r.ok, true, r.error);
  assert.equal(r.entity.name, 'grafana 2');
  assert.equal(r.entity.alias, 'grafana.tg', 'omitted alias unchanged');
  assert.deepEqual(r.entity.tags, [{ key: 'env', value: 'prod' }], 'omitted tags unchanged');
  assert.equal(r.entity.securityPolicy.name, 'Require MFA');
  r = await m(`mutation($id:ID!) { resourceUpdate(id:$id, alias:null, tags:null, securityPolicyId:null) { ok entity { ${RES} } } }`, { id: graf.id });
  assert.deepEqual([r.entity.alias, r.entity.tags, r.entity.securityPolicy], [null, [], null]);
  assert.equal(r.entity.name, 'grafana 2');
  // Variables that are not supplied count as omitted.
  r = await m('mutation($id:ID!,$a:String) { resourceUpdate(id:$id, alias:$a, isVisible:false) { ok entity { alias isVisible } } }', { id: graf.id });
  assert.deepEqual(r.entity, { alias: null, isVisible: false });
  r = await m('mutation($id:ID!,$a:String) { resourceUpdate(id:$id, alias:$a) { ok entity { alias } } }', { id: graf.id, a: 'g.tg' });
  assert.equal(r.entity.alias, 'g.tg');

  const eng = byName(T.groups, 'Engineering');
  const ops = byName(T.groups, 'Ops / SRE');
  const tok = byName(T.groups, '東京 チーム');
  r = await m(`mutation { resourceUpdate(id:"${graf.id}", groupIds:["${tok.id}"]) { ok entity { groups { edges { node { name } } } serviceAccounts { totalCount } } } }`);
  assert.deepEqual(r.entity.groups.edges.map((e) => e.node.name), ['東京 チーム']);
  assert.equal(r.entity.serviceAccounts.totalCount, 1, 'groupIds replaces groups only, not service accounts');
  r = await m(`mutation { resourceUpdate(id:"${graf.id}", addedGroupIds:["${eng.id}","${ops.id}"], removedGroupIds:["${tok.id}"]) { ok entity { groups { edges { node { name } } } } } }`);
  assert.deepEqual(r.entity.groups.edges.map((e) => e.node.name).sort(), ['Engineering', 'Ops / SRE']);
  r = await m(`mutation { resourceUpdate(id:"${graf.id}", groupIds:["${eng.id}"], addedGroupIds:["${ops.id}"]) { ok error } }`);
  assert.equal(r.ok, false);
  assert.match(r.error, /not both/);
  r = await m(`mutation { resourceUpdate(id:"${graf.id}", address:"10.9.0.0/16", isBrowserShortcutEnabled:true) { ok error } }`);
  assert.match(r.error, /browser shortcut/);
  r = await m(`mutation { resourceUpdate(id:"${graf.id}", routingMode:BYPASS_TWINGATE) { ok error } }`);
  assert.equal(r.error, 'Bypass Resources cannot have port restrictions', 'rules apply to the merged object');
  r = await m(`mutation { resourceUpdate(id:"${graf.id}", address:"grafana.new.svc", remoteNetworkId:"${byName(T.remoteNetworks, 'Office / HQ').id}") { ok entity { address { value } remoteNetwork { name } } } }`);
  assert.deepEqual(r.entity, { address: { value: 'grafana.new.svc' }, remoteNetwork: { name: 'Office / HQ' } });

  assert.equal((await m(`mutation { resourceDelete(id:"${graf.id}") { ok } }`)).ok, true);
  const t2 = await tenant();
  assert.ok(!t2.resources.some((x) => x.id === graf.id));
  assert.ok(!t2.access.some((e) => e.resourceId === graf.id), 'access edges removed');
});

test('resource access: add (upsert), set (replace), remove', async () => {
  const T = await tenant();
  const res = byName(T.resources, 'VPC subnet');
  const eng = byName(T.groups, 'Engineering');
  const ops = byName(T.groups, 'Ops / SRE');
  const ci = byName(T.serviceAccounts, 'ci-runner');
  const pol = byName(T.securityPolicies, 'Trusted Devices Only');
  const ACC = 'access { totalCount edges { node { __typename ... on Group { name } ... on ServiceAccount { name } } securityPolicy { name } expiresAt usageBasedAutolockDurationDays approvalMode accessPolicy { mode durationSeconds } } }';
  let r = await m(`mutation($r:ID!,$a:[AccessInput!]!) { resourceAccessAdd(resourceId:$r, access:$a) { ok error entity { id ${ACC} } } }`,
    { r: res.id, a: [{ principalId: ops.id, securityPolicyId: pol.id, expiresAt: '2030-01-01T00:00:00Z' }, { principalId: ci.id }] });
  assert.equal(r.ok, true, r.error);
  const opsEdge = r.entity.access.edges.find((e) => e.node.name === 'Ops / SRE');
  assert.equal(opsEdge.securityPolicy.name, 'Trusted Devices Only');
  assert.match(opsEdge.expiresAt, /^2030-01-01T00:00:00\.000000\+00:00$/);
  // Upsert: omitted fields keep, explicit null clears.
  r = await m(`mutation($r:ID!,$a:[AccessInput!]!) { resourceAccessAdd(resourceId:$r, access:$a) { ok entity { ${ACC} } } }`,
    { r: res.id, a: [{ principalId: ops.id, expiresAt: null, usageBasedAutolockDurationDays: 7 }] });
  const e2 = r.entity.access.edges.find((e) => e.node.name === 'Ops / SRE');
  assert.deepEqual([e2.securityPolicy?.name, e2.expiresAt, e2.usageBasedAutolockDurationDays], ['Trusted Devices Only', null, 7]);
  const before_ = r.entity.access.totalCount;
  r = await m(`mutation($r:ID!,$a:[AccessInput!]!) { resourceAccessAdd(resourceId:$r, access:$a) { ok error } }`,
    { r: res.id, a: [{ principalId: ci.id, securityPolicyId: pol.id }] });
  assert.equal(r.ok, false, 'policies on service-account edges are refused');
  r = await m(`mutation($r:ID!,$a:[AccessInput!]!) { resourceAccessAdd(resourceId:$r, access:$a) { ok error } }`,
    { r: res.id, a: [{ principalId: eng.id, accessPolicy: { mode: 'AUTO_LOCK', durationSeconds: 3600 }, approvalMode: 'AUTOMATIC' }] });
  assert.match(r.error, /at least 1 day/);
  r = await m(`mutation($r:ID!,$a:[AccessInput!]!) { resourceAccessAdd(resourceId:$r, access:$a) { ok error entity { ${ACC} } } }`,
    { r: res.id, a: [{ principalId: eng.id, accessPolicy: { mode: 'ACCESS_REQUEST', durationSeconds: 7200 }, approvalMode: 'MANUAL' }] });
  assert.equal(r.ok, true, r.error);
  assert.deepEqual(r.entity.access.edges.find((e) => e.node.name === 'Engineering').accessPolicy, { mode: 'ACCESS_REQUEST', durationSeconds: 7200 });
  assert.equal(r.entity.access.totalCount, before_);

  // Set replaces everything.
  r = await m(`mutation($r:ID!,$a:[AccessInput!]!) { resourceAccessSet(resourceId:$r, access:$a) { ok entity { ${ACC} } } }`,
    { r: res.id, a: [{ principalId: ops.id }] });
  assert.equal(r.entity.access.totalCount, 1);
  assert.equal(r.entity.access.edges[0].securityPolicy, null, 'set: omitted fields are null');
  // Remove.
  r = await m(`mutation { resourceAccessRemove(resourceId:"${res.id}", principalIds:["${ops.id}","${ci.id}"]) { ok entity { access { totalCount } } } }`);
  assert.equal(r.entity.access.totalCount, 0);
  r = await m(`mutation { resourceAccessRemove(resourceId:"${res.id}", principalIds:["${b64('Group:5')}"]) { ok error } }`);
  assert.match(r.error, /Group with id .* does not exist/);
  const bad = await s.gql(`mutation { resourceAccessAdd(resourceId:"${res.id}", access:[{principalId:"${T.users[0].id}"}]) { ok } }`);
  assert.equal(bad.body.errors[0].message, "{'id': ['Unable to parse global ID']}", 'a User is not a principal');
  const t = await tenant();
  assert.ok(!t.access.some((e) => e.resourceId === res.id));
});

test('groups: create, update (replace and deltas), delete; system and synced refused', async () => {
  const T = await tenant();
  const [u1, u2, u3] = T.users;
  const res = byName(T.resources, 'prod-db');
  const pol = byName(T.securityPolicies, 'Require MFA');
  let r = await m(`mutation { groupCreate(name:"new/group", userIds:["${u1.id}","${u2.id}"], resourceIds:["${res.id}"]) { ok error entity { id name type isActive securityPolicy { name } users { totalCount } resources { edges { node { name } } } } } }`);
  assert.equal(r.ok, true, r.error);
  const g = r.entity;
  assert.deepEqual([g.type, g.isActive, g.securityPolicy.name, g.users.totalCount], ['MANUAL', true, 'Default Policy', 2]);
  assert.deepEqual(g.resources.edges.map((e) => e.node.name), ['prod-db']);
  const G = `ok error entity { name isActive securityPolicy { name } users { edges { node { id } } } resources { totalCount } }`;
  r = await m(`mutation { groupUpdate(id:"${g.id}", name:"renamed", isActive:false, addedUserIds:["${u3.id}"], removedUserIds:["${u1.id}"], securityPolicyId:"${pol.id}") { ${G} } }`);
  assert.equal(r.ok, true, r.error);
  assert.deepEqual(r.entity.users.edges.map((e) => e.node.id), [u2.id, u3.id]);
  assert.deepEqual([r.entity.name, r.entity.isActive, r.entity.securityPolicy.name], ['renamed', false, 'Require MFA']);
  r = await m(`mutation { groupUpdate(id:"${g.id}", userIds:["${u1.id}"], resourceIds:[]) { ${G} } }`);
  assert.deepEqual(r.entity.users.edges.map((e) => e.node.id), [u1.id]);
  assert.equal(r.entity.resources.totalCount, 0);
  r = await m(`mutation { groupUpdate(id:"${g.id}", addedResourceIds:["${res.id}"]) { ${G} } }`);
  assert.equal(r.entity.resources.totalCount, 1);
  r = await m(`mutation { groupUpdate(id:"${g.id}", userIds:["${u1.id}"], addedUserIds:["${u2.id}"]) { ok error } }`);
  assert.equal(r.ok, false);
  assert.match(r.error, /either userIds or addedUserIds\/removedUserIds/);
  r = await m(`mutation { groupUpdate(id:"${g.id}", addedUserIds:["${b64('User:3')}"]) { ok error } }`);
  assert.match(r.error, /User with id .* does not exist/);

  const everyone = byName(T.groups, 'Everyone');
  r = await m(`mutation { groupUpdate(id:"${everyone.id}", name:"x") { ok error } }`);
  assert.match(r.error, /system group/);
  r = await m(`mutation { groupDelete(id:"${everyone.id}") { ok error } }`);
  assert.equal(r.ok, false);
  const okta = byName(T.groups, 'Okta Admins');
  r = await m(`mutation { groupUpdate(id:"${okta.id}", addedUserIds:["${u3.id}"]) { ok error } }`);
  assert.match(r.error, /synced/);
  r = await m(`mutation { groupUpdate(id:"${okta.id}", addedResourceIds:["${res.id}"]) { ok error } }`);
  assert.equal(r.ok, true, 'resources of a synced group can change');

  r = await m(`mutation { groupDelete(id:"${g.id}") { ok error } }`);
  assert.deepEqual(r, { ok: true, error: null });
  const t = await tenant();
  assert.ok(!t.groups.some((x) => x.id === g.id));
  assert.ok(!t.access.some((e) => e.principalId === g.id));
});

test('security policies: assign groups by replace and deltas; removal returns to Default', async () => {
  const T = await tenant();
  const strict = byName(T.securityPolicies, 'Trusted Devices Only');
  const def = byName(T.securityPolicies, 'Default Policy');
  const eng = byName(T.groups, 'Engineering');
  const ops = byName(T.groups, 'Ops / SRE');
  const P = 'ok error entity { name groups { edges { node { name } } } }';
  let r = await m(`mutation { securityPolicyUpdate(id:"${strict.id}", addedGroupIds:["${eng.id}"]) { ${P} } }`);
  assert.deepEqual(r.entity.groups.edges.map((e) => e.node.name).sort(), ['Engineering', '東京 チーム']);
  r = await m(`mutation { securityPolicyUpdate(id:"${strict.id}", groupIds:["${ops.id}"]) { ${P} } }`);
  assert.deepEqual(r.entity.groups.edges.map((e) => e.node.name), ['Ops / SRE']);
  const g = await s.data(`{ a: group(id:"${eng.id}") { securityPolicy { name } } b: group(id:"${ops.id}") { securityPolicy { name } } }`);
  assert.deepEqual([g.a.securityPolicy.name, g.b.securityPolicy.name], ['Default Policy', 'Trusted Devices Only']);
  r = await m(`mutation { securityPolicyUpdate(id:"${strict.id}", removedGroupIds:["${ops.id}"]) { ${P} } }`);
  assert.deepEqual(r.entity.groups.edges, []);
  r = await m(`mutation { securityPolicyUpdate(id:"${def.id}", removedGroupIds:["${ops.id}"]) { ${P} } }`);
  assert.equal(r.ok, false);
  assert.match(r.error, /Default Policy/);
});

test('service accounts and keys: full lifecycle', async () => {
  const T = await tenant();
  const [r1, r2, r3] = T.resources;
  let r = await m(`mutation { serviceAccountCreate(name:"robot", resourceIds:["${r1.id}"]) { ok error entity { id name resources { totalCount } keys { totalCount } } } }`);
  assert.equal(r.ok, true, r.error);
  const sa = r.entity;
  assert.match(Buffer.from(sa.id, 'base64').toString(), /^ServiceAccount:[0-9a-f-]{36}$/);
  r = await m(`mutation { serviceAccountUpdate(id:"${sa.id}", name:"robot 2", addedResourceIds:["${r2.id}","${r3.id}"], removedResourceIds:["${r1.id}"]) { ok entity { name resources { edges { node { id } } } } } }`);
  assert.deepEqual(r.entity.resources.edges.map((e) => e.node.id), [r2.id, r3.id]);
  r = await m(`mutation { serviceAccountUpdate(id:"${sa.id}", resourceIds:["${r1.id}"]) { ok entity { resources { edges { node { id } } } } } }`);
  assert.deepEqual(r.entity.resources.edges.map((e) => e.node.id), [r1.id]);

  const K = 'ok error token entity { id name status expiresAt revokedAt createdAt serviceAccount { name } }';
  r = await m(`mutation { serviceAccountKeyCreate(serviceAccountId:"${sa.id}", name:"k1", expirationTime:30) { ${K} } }`);
  assert.equal(r.ok, true, r.error);
  assert.ok(Buffer.from(r.token, 'base64').length === 48);
  assert.equal(r.entity.status, 'ACTIVE');
  const days = (Date.parse(r.entity.expiresAt.slice(0, 23) + 'Z') - Date.now()) / 86400000;
  assert.ok(days > 29.9 && days < 30.1, `expires in ${days} days`);
  const k1 = r.entity.id;
  r = await m(`mutation { serviceAccountKeyCreate(serviceAccountId:"${sa.id}", name:"forever", expirationTime:0) { ${K} } }`);
  assert.equal(r.entity.expiresAt, null);
  for (const bad of [-1, 366]) {
    r = await m(`mutation { serviceAccountKeyCreate(serviceAccountId:"${sa.id}", name:"x", expirationTime:${bad}) { ok error token } }`);
    assert.equal(r.ok, false);
    assert.equal(r.token, null);
    assert.match(r.error, /between 0 and 365/);
  }
  r = await m(`mutation { serviceAccountKeyUpdate(id:"${k1}", name:"k1 renamed") { ok entity { name } } }`);
  assert.equal(r.entity.name, 'k1 renamed');
  r = await m(`mutation { serviceAccountKeyDelete(id:"${k1}") { ok error } }`);
  assert.equal(r.ok, false);
  assert.match(r.error, /[Rr]evoke the key before deleting it/);
  r = await m(`mutation { serviceAccountKeyRevoke(id:"${k1}") { ${K.replace('token ', '')} } }`);
  assert.equal(r.entity.status, 'REVOKED');
  assert.match(r.entity.revokedAt, TS);
  r = await m(`mutation { serviceAccountKeyRevoke(id:"${k1}") { ok error } }`);
  assert.equal(r.ok, false);
  r = await m(`mutation { serviceAccountKeyDelete(id:"${k1}") { ok error } }`);
  assert.deepEqual(r, { ok: true, error: null });
  assert.equal((await s.data(`{ serviceAccountKey(id:"${k1}") { id } }`)).serviceAccountKey, null);

  r = await m(`mutation { serviceAccountDelete(id:"${sa.id}") { ok } }`);
  assert.equal(r.ok, true);
  const t = await tenant();
  assert.ok(!t.serviceAccountKeys.some((k) => k.serviceAccountId === sa.id), 'keys deleted with the account');
  assert.ok(!t.access.some((e) => e.principalId === sa.id), 'access deleted with the account');
});

test('users: create, details, role, reset MFA, delete (with devices and memberships)', async () => {
  const U = 'ok error entity { id email firstName lastName role state type isAdmin groups { edges { node { name } } } }';
  let r = await m(`mutation { userCreate(email:"new.person@example.com", firstName:"New", lastName:"Person") { ${U} } }`);
  assert.equal(r.ok, true, r.error);
  assert.deepEqual([r.entity.state, r.entity.type, r.entity.role, r.entity.isAdmin], ['PENDING', 'MANUAL', 'MEMBER', false]);
  assert.deepEqual(r.entity.groups.edges.map((e) => e.node.name), ['Everyone'], 'new users join the SYSTEM group');
  const id = r.entity.id;
  r = await m('mutation { userCreate(email:"NEW.person@example.com") { ok error } }');
  assert.equal(r.ok, false);
  assert.match(r.error, /already exists/);
  r = await m('mutation { userCreate(email:"not an email") { ok error } }');
  assert.match(r.error, /not a valid email/);
  r = await m(`mutation { userDetailsUpdate(id:"${id}", state:DISABLED) { ok error } }`);
  assert.deepEqual(r, { ok: false, error: 'User in PENDING state' });
  r = await m(`mutation { userDetailsUpdate(id:"${id}", firstName:"Renée") { ${U} } }`);
  assert.deepEqual([r.entity.firstName, r.entity.lastName], ['Renée', 'Person']);
  r = await m(`mutation { userRoleUpdate(id:"${id}", role:ADMIN) { ${U} } }`);
  assert.deepEqual([r.entity.role, r.entity.isAdmin], ['ADMIN', true]);

  const T = await tenant();
  const grace = T.users.find((u) => u.email === 'grace.hopper@example.com');
  r = await m(`mutation { userDetailsUpdate(id:"${grace.id}", state:DISABLED) { ${U} } }`);
  assert.equal(r.entity.state, 'DISABLED');
  r = await m(`mutation { userDetailsUpdate(id:"${grace.id}", state:ACTIVE) { ${U} } }`);
  assert.equal(r.entity.state, 'ACTIVE');
  r = await m(`mutation { userResetMfa(id:"${grace.id}") { ok error } }`);
  assert.deepEqual(r, { ok: true, error: null });
  const devices = T.devices.filter((d) => d.userId === grace.id);
  assert.ok(devices.length > 0);
  r = await m(`mutation { userDelete(id:"${grace.id}") { ok error } }`);
  assert.deepEqual(r, { ok: true, error: null });
  const t = await tenant();
  assert.ok(!t.users.some((u) => u.id === grace.id));
  assert.ok(!t.devices.some((d) => d.userId === grace.id), 'devices of a deleted user are deleted');
  assert.ok(!t.groups.some((g) => g.userIds.includes(grace.id)), 'memberships removed');
});

test('devices: trust and the archive/block state machine', async () => {
  const T = await tenant();
  const d = T.devices.find((x) => x.activeState === 'ACTIVE');
  const D = 'ok error entity { id activeState isTrusted }';
  let r = await m(`mutation { deviceUpdate(id:"${d.id}", isTrusted:${!d.isTrusted}) { ${D} } }`);
  assert.equal(r.entity.isTrusted, !d.isTrusted);
  const step = async (name, ok, state) => {
    const x = await m(`mutation { ${name}(id:"${d.id}") { ${D} } }`);
    assert.equal(x.ok, ok, `${name}: ${x.error}`);
    if (ok) assert.equal(x.entity.activeState, state);
    else assert.match(x.error, /^Device is [A-Z]+; only .* devices can be/);
  };
  await step('deviceUnarchive', false);
  await step('deviceUnblock', false);
  await step('deviceArchive', true, 'ARCHIVED');
  await step('deviceArchive', false);
  await step('deviceUnarchive', true, 'ACTIVE');
  await step('deviceBlock', true, 'BLOCKED');
  await step('deviceBlock', false);
  await step('deviceArchive', false);
  await step('deviceUnblock', true, 'ACTIVE');
  const read = await s.data(`{ device(id:"${d.id}") { activeState } }`);
  assert.equal(read.device.activeState, 'ACTIVE');
});

test('aliased mutations in one document run in order', async () => {
  const net = byName((await tenant()).remoteNetworks, 'Office / HQ');
  const d = await s.data(`mutation {
    a: remoteNetworkUpdate(id:"${net.id}", name:"first") { entity { name } }
    b: remoteNetworkUpdate(id:"${net.id}", name:"second") { entity { name } }
    c: remoteNetworkUpdate(id:"${net.id}", name:"Office / HQ") { entity { name } }
  }`, null, { token: 'sim-write' });
  assert.deepEqual([d.a.entity.name, d.b.entity.name, d.c.entity.name], ['first', 'second', 'Office / HQ']);
});
