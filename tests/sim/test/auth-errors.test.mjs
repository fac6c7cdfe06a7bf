// Tokens and permission levels, HTTP status rules, IDs and single-object lookups.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSim, byName, b64 } from '../testkit.mjs';

let s;
let T;
before(async () => {
  s = await startSim(['--size', 'small', '--rate-read', '0', '--rate-write', '0']);
  T = (await s.sim('/_sim/tenant')).body;
});
after(() => s.stop());

test('missing or unknown token -> 401 with the fixed message', async () => {
  for (const token of [null, 'nope', 'SIM-READ']) {
    const r = await s.gql('{ users { totalCount } }', null, { token });
    assert.equal(r.status, 401, `token=${token}`);
    assert.deepEqual(r.body, { errors: [{ message: 'Invalid or missing API key' }] });
  }
});

test('header name is case-insensitive', async () => {
  const r = await s.gql('{ __typename }', null, { token: null, headers: { 'x-api-key': 'sim-read' } });
  assert.equal(r.status, 200);
  assert.equal(r.body.data.__typename, 'QueriesRoot');
  const m = await s.gql('mutation { __typename }', null, { token: null, headers: { 'X-Api-Key': 'sim-write' } });
  assert.equal(m.body.data.__typename, 'MutationsRoot');
});

test('read token: queries yes, mutations -> permission error, nothing changes', async () => {
  const before_ = (await s.sim('/_sim/tenant')).body.remoteNetworks.length;
  const r = await s.gql('mutation { remoteNetworkCreate(name:"x") { ok entity { id } } }', null, { token: 'sim-read' });
  assert.equal(r.status, 200);
  assert.equal(r.body.errors[0].message, "Permission denied: this API key does not have the 'read write' permission");
  assert.deepEqual(r.body.errors[0].path, ['remoteNetworkCreate']);
  assert.equal(r.body.data, null);
  assert.equal((await s.sim('/_sim/tenant')).body.remoteNetworks.length, before_);
});

test('write token cannot provision; provision token can', async () => {
  const conn = T.connectors[0];
  const sa = T.serviceAccounts[0];
  const q = `mutation { connectorGenerateTokens(connectorId:"${conn.id}") { ok connectorTokens { accessToken refreshToken } } }`;
  const k = `mutation { serviceAccountKeyCreate(serviceAccountId:"${sa.id}", name:"k", expirationTime:0) { ok token entity { id } } }`;
  for (const m of [q, k]) {
    const r = await s.gql(m, null, { token: 'sim-write' });
    assert.match(r.body.errors[0].message, /does not have the 'provision' permission/);
    assert.equal(r.body.data, null);
  }
  const r1 = await s.data(q, null, { token: 'sim-provision' });
  assert.equal(r1.connectorGenerateTokens.ok, true);
  assert.ok(r1.connectorGenerateTokens.connectorTokens.accessToken.length > 60);
  const r2 = await s.data(k, null, { token: 'sim-provision' });
  assert.equal(r2.serviceAccountKeyCreate.ok, true);
  assert.ok(r2.serviceAccountKeyCreate.token.length >= 64);
  // The write token can do ordinary mutations.
  const r3 = await s.data(`mutation { connectorUpdate(id:"${conn.id}", hasStatusNotificationsEnabled:false) { ok } }`, null, { token: 'sim-write' });
  assert.equal(r3.connectorUpdate.ok, true);
});

test('a permission error in one aliased mutation nulls data; earlier ones still ran', async () => {
  const r = await s.gql(`mutation { a: remoteNetworkCreate(name:"perm-a") { ok } b: connectorGenerateTokens(connectorId:"${T.connectors[0].id}") { ok } }`);
  assert.equal(r.body.data, null);
  assert.equal(r.body.errors.length, 1);
  const t = (await s.sim('/_sim/tenant')).body;
  assert.ok(t.remoteNetworks.some((n) => n.name === 'perm-a'));
});

test('validation errors -> 400 without data', async () => {
  const r = await s.gql('{ resources { edges { node { routingMode } } } }');
  assert.equal(r.status, 400);
  assert.equal(r.body.data, undefined);
  assert.match(r.body.errors[0].message, /Cannot query field 'routingMode' on type 'Resource'/);
  const ok = await s.gql('{ resources(first:1) { edges { node { ... on NetworkResource { routingMode } } } } }');
  assert.equal(ok.status, 200);
  assert.equal(ok.body.data.resources.edges[0].node.routingMode, 'THROUGH_TWINGATE');
});

test('syntax error, bad JSON, missing query, bad variables -> 400', async () => {
  let r = await s.gql('{ users { ');
  assert.equal(r.status, 400);
  assert.match(r.body.errors[0].message, /Syntax Error/);
  r = await s.gql(null, null, { rawBody: '{not json' });
  assert.equal(r.status, 400);
  r = await s.gql(null, null, { rawBody: '{"variables":{}}' });
  assert.equal(r.status, 400);
  r = await s.gql('query($n:Int!){ users(first:$n){ totalCount } }', { n: 'ten' });
  assert.equal(r.status, 400);
  assert.equal(r.body.data, undefined);
  r = await s.gql('query($n:Int!){ users(first:$n){ totalCount } }', {});
  assert.equal(r.status, 400);
  r = await s.gql('query A { __typename } query B { __typename }');
  assert.equal(r.status, 400, 'several operations and no operationName');
  r = await s.gql('query A { __typename } query B { users { totalCount } }', null, { operationName: 'B' });
  assert.equal(r.status, 200);
  assert.equal(r.body.data.users.totalCount, 10);
});

test('malformed global IDs -> exact graphene message, path, field null', async () => {
  const group = T.groups[0];
  for (const id of ['not-an-id', b64('NoColonHere'), 'Zm9v!!', group.id]) {
    const r = await s.gql(`{ connector(id:"${id}") { id } }`);
    assert.equal(r.status, 200, id);
    assert.equal(r.body.errors[0].message, "{'id': ['Unable to parse global ID']}");
    assert.deepEqual(r.body.errors[0].path, ['connector']);
    assert.deepEqual(r.body.errors[0].locations, [{ line: 1, column: 3 }]);
    assert.deepEqual(r.body.data, { connector: null });
  }
  // Same in mutations (payload non-null, so data is null).
  const m = await s.gql('mutation { userDelete(id:"garbage") { ok } }');
  assert.equal(m.body.errors[0].message, "{'id': ['Unable to parse global ID']}");
});

test('well-formed unknown IDs -> null in queries, ok:false in mutations', async () => {
  const d = await s.data(`{ a: user(id:"${b64('User:1')}") { id } b: resource(id:"${b64('Resource:9')}") { id } c: remoteNetwork(id:"${b64('RemoteNetwork:1')}") { id } }`);
  assert.deepEqual(d, { a: null, b: null, c: null });
  const id = b64('Resource:9');
  const m = await s.data(`mutation { resourceDelete(id:"${id}") { ok error } }`);
  assert.deepEqual(m.resourceDelete, { ok: false, error: `Resource with id '${id}' does not exist` });
});

test('every single-object query finds its object', async () => {
  const pick = (l) => l[0].id;
  const d = await s.data(`{
    remoteNetwork(id:"${pick(T.remoteNetworks)}") { name }
    connector(id:"${pick(T.connectors)}") { name remoteNetwork { name } }
    resource(id:"${pick(T.resources)}") { __typename name remoteNetwork { name } }
    group(id:"${pick(T.groups)}") { name }
    securityPolicy(id:"${pick(T.securityPolicies)}") { name policyType }
    serviceAccount(id:"${pick(T.serviceAccounts)}") { name }
    serviceAccountKey(id:"${pick(T.serviceAccountKeys)}") { name serviceAccount { name } }
    user(id:"${pick(T.users)}") { email }
    device(id:"${pick(T.devices)}") { name user { email } }
  }`);
  assert.equal(d.remoteNetwork.name, 'AWS prod');
  assert.equal(d.connector.remoteNetwork.name, 'AWS prod');
  assert.equal(d.resource.__typename, 'NetworkResource');
  assert.equal(d.securityPolicy.policyType, 'DEFAULT_RESOURCE');
  assert.equal(d.serviceAccountKey.serviceAccount.name, 'ci-runner');
  assert.equal(d.device.user.email, 'ada.lovelace@example.com');
});

test('lookups by name: duplicates give the first, empty id counts as absent', async () => {
  const d = await s.data(`{
    dup: remoteNetwork(name:"Duplicate") { id }
    pol: securityPolicy(id:"", name:"Require MFA") { name }
    key: serviceAccountKey(name:"nightly") { name status }
    none: remoteNetwork(name:"no such") { id }
  }`);
  assert.equal(d.dup.id, T.remoteNetworks.filter((n) => n.name === 'Duplicate')[0].id);
  assert.equal(d.pol.name, 'Require MFA');
  assert.equal(d.key.status, 'ACTIVE');
  assert.equal(d.none, null);
});

test('IDs have the documented shapes', async () => {
  const dec = (id) => Buffer.from(id, 'base64').toString();
  assert.match(dec(T.remoteNetworks[0].id), /^RemoteNetwork:\d+$/);
  assert.match(dec(T.resources[0].id), /^Resource:\d+$/);
  assert.match(dec(T.serviceAccounts[0].id), /^ServiceAccount:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.match(dec(T.serviceAccountKeys[0].id), /^ServiceAccountKey:[0-9a-f-]{36}$/);
  for (const u of T.users) assert.match(u.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
  for (const l of [T.remoteNetworks, T.connectors, T.resources, T.groups, T.users]) {
    for (const o of l) assert.ok(o.createdAt <= o.updatedAt);
  }
});

test('other methods and paths; endpoint without trailing slash; body limit', async () => {
  let r = await fetch(s.url, { method: 'GET' });
  assert.equal(r.status, 405);
  r = await fetch(`${s.base}/nope`, { method: 'POST' });
  assert.equal(r.status, 404);
  r = await fetch(s.url.replace(/\/$/, ''), { method: 'POST', headers: { 'X-API-KEY': 'sim-read' }, body: '{"query":"{ __typename }"}' });
  assert.equal(r.status, 200);
  const big = JSON.stringify({ query: `{ __typename } # ${'x'.repeat(1100 * 1024)}` });
  r = await fetch(s.url, { method: 'POST', headers: { 'X-API-KEY': 'sim-read' }, body: big });
  assert.equal(r.status, 413);
});

test('connector runtime fields follow the state', async () => {
  const d = await s.data('{ connectors { edges { node { name state hostname version publicIP privateIPs lastHeartbeatAt } } } }');
  for (const { node: c } of d.connectors.edges) {
    if (c.state === 'ALIVE') {
      assert.ok(c.hostname && c.version && c.publicIP && c.privateIPs.length && c.lastHeartbeatAt, c.name);
    }
    if (c.state === 'DEAD_NO_HEARTBEAT') {
      assert.deepEqual([c.hostname, c.version, c.publicIP, c.privateIPs, c.lastHeartbeatAt], [null, null, null, [], null]);
    }
  }
  const g = await s.data(`{ group(id:"${byName(T.groups, 'Everyone').id}") { type securityPolicy { name } } }`);
  assert.deepEqual(g.group, { type: 'SYSTEM', securityPolicy: { name: 'Default Policy' } });
});

test('introspection works and shows the real root type names', async () => {
  const d = await s.data('{ __schema { queryType { name } mutationType { name } types { name } } }', null, { token: 'sim-read' });
  assert.equal(d.__schema.queryType.name, 'QueriesRoot');
  assert.equal(d.__schema.mutationType.name, 'MutationsRoot');
  assert.ok(d.__schema.types.some((t) => t.name === 'NetworkResource'));
});
