// Pagination and filters: page edges, cursors, limits, nested connections.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSim, byName, b64, unb64 } from '../testkit.mjs';

let s;
let T; // /_sim/tenant snapshot
before(async () => {
  s = await startSim(['--size', 'small', '--rate-read', '0', '--rate-write', '0']);
  T = (await s.sim('/_sim/tenant')).body;
});
after(() => s.stop());

const NETS = `query($first:Int,$after:String,$last:Int,$before:String){ remoteNetworks(first:$first,after:$after,last:$last,before:$before){
  totalCount pageInfo{hasNextPage hasPreviousPage startCursor endCursor} edges{cursor node{id name}} } }`;

test('first page: size, cursors, pageInfo, totalCount', async () => {
  const d = (await s.data(NETS, { first: 2 })).remoteNetworks;
  assert.equal(d.totalCount, 6);
  assert.equal(d.edges.length, 2);
  assert.deepEqual(d.edges.map((e) => unb64(e.cursor)), ['arrayconnection:0', 'arrayconnection:1']);
  assert.deepEqual(d.pageInfo, { hasNextPage: true, hasPreviousPage: false, startCursor: b64('arrayconnection:0'), endCursor: b64('arrayconnection:1') });
  assert.deepEqual(d.edges.map((e) => e.node.name), ['AWS prod', 'Office / HQ']);
});

test('walking pages with an exact multiple of the page size ends cleanly', async () => {
  const names = [];
  let after = null;
  let pages = 0;
  for (;;) {
    const d = (await s.data(NETS, { first: 2, after })).remoteNetworks;
    pages++;
    names.push(...d.edges.map((e) => e.node.name));
    if (!d.pageInfo.hasNextPage) {
      assert.equal(d.edges.length, 2, 'last page is full (6 = 3 x 2)');
      break;
    }
    after = d.pageInfo.endCursor;
  }
  assert.equal(pages, 3);
  assert.deepEqual(names, T.remoteNetworks.map((n) => n.name));
});

test('last page is partial and has no next page', async () => {
  const d = (await s.data(NETS, { first: 4, after: b64('arrayconnection:3') })).remoteNetworks;
  assert.equal(d.edges.length, 2);
  assert.equal(d.pageInfo.hasNextPage, false);
  assert.equal(d.pageInfo.hasPreviousPage, true);
  assert.equal(unb64(d.pageInfo.endCursor), 'arrayconnection:5');
});

test('after the end: empty page, null cursors', async () => {
  const d = (await s.data(NETS, { first: 2, after: b64('arrayconnection:5') })).remoteNetworks;
  assert.deepEqual(d.edges, []);
  assert.equal(d.pageInfo.hasNextPage, false);
  assert.equal(d.pageInfo.startCursor, null);
  assert.equal(d.pageInfo.endCursor, null);
  assert.equal(d.totalCount, 6);
});

test('garbage cursors are treated as the start', async () => {
  for (const after of ['0', '<nil>', '!!!not base64', b64('something:3'), '']) {
    const d = (await s.data(NETS, { first: 1, after })).remoteNetworks;
    assert.equal(d.edges[0].node.name, 'AWS prod', `after=${after}`);
  }
});

test('last / before', async () => {
  let d = (await s.data(NETS, { last: 2 })).remoteNetworks;
  assert.deepEqual(d.edges.map((e) => unb64(e.cursor)), ['arrayconnection:4', 'arrayconnection:5']);
  assert.equal(d.pageInfo.hasPreviousPage, true);
  assert.equal(d.pageInfo.hasNextPage, false);
  d = (await s.data(NETS, { last: 2, before: b64('arrayconnection:3') })).remoteNetworks;
  assert.deepEqual(d.edges.map((e) => unb64(e.cursor)), ['arrayconnection:1', 'arrayconnection:2']);
  assert.equal(d.pageInfo.hasNextPage, true);
  d = (await s.data(NETS, { first: 10, before: b64('arrayconnection:2') })).remoteNetworks;
  assert.equal(d.edges.length, 2);
});

test('first above the page maximum is a resolver error', async () => {
  const r = await s.gql('{ devices(first: 101) { totalCount } }');
  assert.equal(r.status, 200);
  assert.equal(r.body.errors[0].message, 'Requesting 101 records on the `devices` connection exceeds the `first` limit of 100 records.');
  assert.deepEqual(r.body.errors[0].path, ['devices']);
  assert.equal(r.body.data, null);
  const ok = await s.data('{ devices(first: 100) { totalCount edges { node { id } } } }');
  assert.equal(ok.devices.edges.length, 15);
});

test('nested connection limit error names the nested field', async () => {
  const r = await s.gql('{ groups(first: 1) { edges { node { users(first: 500) { totalCount } } } } }');
  assert.match(r.body.errors[0].message, /`users` connection exceeds the `first` limit of 100/);
  assert.deepEqual(r.body.errors[0].path, ['groups', 'edges', 0, 'node', 'users']);
});

test('negative first is an error', async () => {
  const r = await s.gql('{ users(first: -1) { totalCount } }');
  assert.match(r.body.errors[0].message, /non-negative/);
});

test('pageMax and the default page size follow /_sim/config', async () => {
  await s.sim('/_sim/config', 'POST', { pageMax: 4 });
  try {
    const d = await s.data('{ devices { totalCount edges { node { id } } } }');
    assert.equal(d.devices.edges.length, 4, 'default first is capped by pageMax');
    const r = await s.gql('{ devices(first: 5) { totalCount } }');
    assert.match(r.body.errors[0].message, /limit of 4 records/);
  } finally {
    await s.sim('/_sim/config', 'POST', { pageMax: 100 });
  }
});

test('nested connections page independently past their first page', async () => {
  const q = `query($a:String){ remoteNetwork(name:"AWS prod"){ connectors(first:2, after:$a){ totalCount pageInfo{hasNextPage endCursor} edges{node{id name}} } } }`;
  const p1 = (await s.data(q, { a: null })).remoteNetwork.connectors;
  const p2 = (await s.data(q, { a: p1.pageInfo.endCursor })).remoteNetwork.connectors;
  assert.equal(p1.totalCount, 4);
  assert.equal(p1.pageInfo.hasNextPage, true);
  assert.equal(p2.pageInfo.hasNextPage, false);
  const got = [...p1.edges, ...p2.edges].map((e) => e.node.name);
  assert.deepEqual(got, ['amber-falcon', 'amber-falcon', 'quiet-heron', 'brisk otter']);

  // Group.users of the SYSTEM group (all 10 users) in pages of 3.
  const everyone = byName(T.groups, 'Everyone');
  const gq = `query($id:ID!,$a:String){ group(id:$id){ users(first:3, after:$a){ totalCount pageInfo{hasNextPage endCursor} edges{node{id}} } } }`;
  const ids = [];
  let a = null;
  for (;;) {
    const u = (await s.data(gq, { id: everyone.id, a })).group.users;
    assert.equal(u.totalCount, 10);
    ids.push(...u.edges.map((e) => e.node.id));
    if (!u.pageInfo.hasNextPage) break;
    a = u.pageInfo.endCursor;
  }
  assert.deepEqual(ids, T.users.map((u) => u.id));

  // Resource.access past the first page.
  const db = byName(T.resources, 'prod-db');
  const aq = `query($id:ID!){ resource(id:$id){ access(first:2, after:"${b64('arrayconnection:1')}"){ totalCount edges{ node{ __typename ... on ServiceAccount{name} } } } } }`;
  const acc = (await s.data(aq, { id: db.id })).resource.access;
  assert.equal(acc.totalCount, 4);
  assert.deepEqual(acc.edges.map((e) => e.node.name), ['ci-runner', 'Backup Bot']);
});

test('every nested connection answers', async () => {
  const q = `{
    remoteNetworks(first:1){ edges{ node{ connectors{totalCount} resources{totalCount} } } }
    resources(first:1){ edges{ node{ access{totalCount} groups{totalCount} serviceAccounts{totalCount} } } }
    groups(first:2){ edges{ node{ users{totalCount} resources{totalCount} securityPolicy{name} } } }
    securityPolicies{ edges{ node{ name groups{totalCount} } } }
    serviceAccounts(first:1){ edges{ node{ resources{totalCount} keys{totalCount edges{node{status serviceAccount{name}}}} } } }
    users(first:1){ edges{ node{ groups{totalCount} } } }
  }`;
  const d = await s.data(q);
  assert.equal(d.remoteNetworks.edges[0].node.connectors.totalCount, 4);
  assert.equal(d.resources.edges[0].node.access.totalCount, 4);
  assert.equal(d.resources.edges[0].node.groups.totalCount, 2);
  assert.equal(d.resources.edges[0].node.serviceAccounts.totalCount, 2);
  assert.equal(d.groups.edges[0].node.users.totalCount, 10);
  const def = d.securityPolicies.edges.find((e) => e.node.name === 'Default Policy').node;
  assert.equal(def.groups.totalCount, T.groups.filter((g) => g.securityPolicyId === byName(T.securityPolicies, 'Default Policy').id).length);
  assert.equal(d.serviceAccounts.edges[0].node.keys.totalCount, 3);
  assert.deepEqual(d.serviceAccounts.edges[0].node.keys.edges.map((e) => e.node.status).sort(), ['ACTIVE', 'EXPIRED', 'REVOKED']);
  assert.ok(d.users.edges[0].node.groups.totalCount >= 2);
});

test('string filters: eq ne startsWith endsWith contains regexp in; nulls ignored', async () => {
  const q = 'query($f:RemoteNetworkFilterInput){ remoteNetworks(filter:$f){ totalCount edges{node{name}} } }';
  const names = async (f) => (await s.data(q, { f })).remoteNetworks.edges.map((e) => e.node.name);
  assert.deepEqual(await names({ name: { eq: 'Duplicate' } }), ['Duplicate', 'Duplicate']);
  assert.equal((await names({ name: { ne: 'Duplicate' } })).length, 4);
  assert.deepEqual(await names({ name: { startsWith: '.' } }), ['.hidden-net']);
  assert.deepEqual(await names({ name: { endsWith: 'Büro' } }), ['Zürich Büro']);
  assert.deepEqual(await names({ name: { contains: ' / ' } }), ['Office / HQ']);
  assert.deepEqual(await names({ name: { regexp: '^(AWS|Office)' } }), ['AWS prod', 'Office / HQ']);
  assert.deepEqual(await names({ name: { in: ['AWS prod', 'nope'] } }), ['AWS prod']);
  // Terraform sends every unused operator as an explicit null.
  assert.deepEqual(await names({ name: { eq: 'AWS prod', ne: null, startsWith: null, endsWith: null, regexp: null, contains: null, in: null } }), ['AWS prod']);
  assert.equal((await names({ name: null })).length, 6);
  assert.deepEqual(await names({ name: { startsWith: 'D', endsWith: 'e' } }), ['Duplicate', 'Duplicate']);
});

test('typed filters on connectors, resources, groups, users, devices, policies, access', async () => {
  const alive = await s.data('{ connectors(filter:{state:{in:[ALIVE]}}){ totalCount } }');
  assert.equal(alive.connectors.totalCount, T.connectors.filter((c) => c.state === 'ALIVE').length);

  const aws = byName(T.remoteNetworks, 'AWS prod');
  const hq = byName(T.remoteNetworks, 'Office / HQ');
  const rq = 'query($f:ResourceFilterInput){ resources(filter:$f){ totalCount edges{node{name}} } }';
  let r = await s.data(rq, { f: { remoteNetworkId: { eq: aws.id } } });
  assert.equal(r.resources.totalCount, T.resources.filter((x) => x.remoteNetworkId === aws.id).length);
  r = await s.data(rq, { f: { remoteNetworkId: { in: [aws.id, hq.id] } } });
  assert.equal(r.resources.totalCount, T.resources.filter((x) => [aws.id, hq.id].includes(x.remoteNetworkId)).length);
  r = await s.data(rq, { f: { tags: { and: [{ key: 'env', value: { eq: 'prod' } }] } } });
  assert.deepEqual(r.resources.edges.map((e) => e.node.name), ['VPC subnet', 'grafana']);
  r = await s.data(rq, { f: { tags: { and: [{ key: 'team' }] } } });
  assert.deepEqual(r.resources.edges.map((e) => e.node.name), ['VPC subnet']);
  // Nested connection filter.
  r = await s.data(`{ remoteNetwork(id:"${aws.id}"){ resources(filter:{name:{eq:"grafana"}}){ totalCount } } }`);
  assert.equal(r.remoteNetwork.resources.totalCount, 1);

  const g = await s.data('{ a: groups(filter:{type:{in:[SYSTEM]}}){ edges{node{name}} } b: groups(filter:{isActive:{eq:false}}){ edges{node{name}} } c: groups(filter:{type:{in:[MANUAL,SYNCED,SYSTEM]}, isActive:{eq:true}}){ totalCount } }');
  assert.deepEqual(g.a.edges.map((e) => e.node.name), ['Everyone']);
  assert.deepEqual(g.b.edges.map((e) => e.node.name), ['.contractors']);
  assert.equal(g.c.totalCount, 5);

  const u = await s.data('{ users(filter:{role:{in:[ADMIN]}}){ edges{node{email isAdmin}} } x: users(filter:{email:{endsWith:"@example.com"}}){ totalCount } }');
  assert.deepEqual(u.users.edges.map((e) => e.node), [{ email: 'ada.lovelace@example.com', isAdmin: true }]);
  assert.equal(u.x.totalCount, 9, 'the user without an email does not match');

  const d = await s.data('{ a: devices(filter:{activeState:{in:[ARCHIVED,BLOCKED]}}){ totalCount } b: devices(filter:{isTrusted:{eq:true}}){ totalCount } }');
  assert.equal(d.a.totalCount, T.devices.filter((x) => x.activeState !== 'ACTIVE').length);
  assert.equal(d.b.totalCount, T.devices.filter((x) => x.isTrusted).length);

  const p = await s.data('{ securityPolicies(filter:{policyType:{in:[DEFAULT_RESOURCE]}}){ edges{node{name}} } }');
  assert.deepEqual(p.securityPolicies.edges.map((e) => e.node.name), ['Default Policy']);

  const db = byName(T.resources, 'prod-db');
  const a = await s.data(`{ resource(id:"${db.id}"){ access(filter:{principalType:{in:[SERVICE_ACCOUNT]}}){ totalCount } } }`);
  assert.equal(a.resource.access.totalCount, 2);
});

test('bad regexp is a resolver error', async () => {
  const r = await s.gql('{ users(filter:{email:{regexp:"("}}){ totalCount } }');
  assert.match(r.body.errors[0].message, /Invalid regular expression/);
});
