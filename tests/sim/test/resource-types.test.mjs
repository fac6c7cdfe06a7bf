// Resources of every type (--resource-types): __typename, type-only fields,
// each type's own update mutation, and what the types share (delete,
// access). Without the flag a generated tenant has network resources only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSim, byName } from '../testkit.mjs';

let s;
before(async () => {
  s = await startSim(['--size', 'small', '--resource-types', '--rate-read', '0', '--rate-write', '0']);
});
after(() => s.stop());

const tenant = async () => (await s.sim('/_sim/tenant')).body;
const m = async (q, v) => Object.values(await s.data(q, v))[0];

const LIST = `{ resources(first: 100) { totalCount edges { node {
  __typename id name address { value } isBrowserShortcutEnabled
  ... on NetworkResource { routingMode }
  ... on KubernetesResource { gateway { id } }
  ... on SSHResource { gateway { id } }
  ... on WebAppResource { gateway { id } }
} } } }`;

test('the small tenant lists every type, each with its __typename and its own fields', async () => {
  const d = await s.data(LIST);
  const byType = {};
  for (const { node } of d.resources.edges) (byType[node.__typename] ??= []).push(node.name);
  assert.deepEqual(byType.KubernetesResource, ['prod-k8s']);
  assert.deepEqual(byType.SSHResource, ['bastion ssh']);
  assert.deepEqual(byType.WebAppResource, ['Kibana (web)']);
  assert.equal(byType.NetworkResource.length, 12);
  assert.equal(d.resources.totalCount, 15);
  for (const { node } of d.resources.edges) {
    if (node.__typename === 'NetworkResource') {
      assert.ok(['THROUGH_TWINGATE', 'BYPASS_TWINGATE'].includes(node.routingMode), node.name);
      assert.equal(node.gateway, undefined);
    } else {
      assert.equal(node.routingMode, undefined, node.name);
      assert.match(Buffer.from(node.gateway.id, 'base64').toString(), /^Gateway:\d+$/);
      assert.equal(node.isBrowserShortcutEnabled, false);
      assert.match(Buffer.from(node.id, 'base64').toString(), /^Resource:\d+$/, 'ids say Resource for every type');
    }
  }
  // The snapshot says the type too.
  const t = await tenant();
  assert.equal(byName(t.resources, 'prod-k8s').__typename, 'KubernetesResource');
  assert.equal(byName(t.resources, 'prod-db').__typename, 'NetworkResource');
  assert.equal('routingMode' in byName(t.resources, 'prod-k8s'), false);
});

test('single lookups, nested lists and Node resolve the concrete type', async () => {
  const t = await tenant();
  const k = byName(t.resources, 'prod-k8s');
  const ops = byName(t.groups, 'Ops / SRE');
  const d = await s.data(`{
    resource(id:"${k.id}") { __typename name ... on KubernetesResource { gateway { id } } }
    group(id:"${ops.id}") { resources(first: 50) { edges { node { __typename name } } } }
    remoteNetwork(id:"${k.remoteNetworkId}") { resources(first: 50) { edges { node { __typename name } } } }
  }`);
  assert.equal(d.resource.__typename, 'KubernetesResource');
  assert.equal(d.resource.gateway.id, k.gatewayId);
  const opsRes = Object.fromEntries(d.group.resources.edges.map((e) => [e.node.name, e.node.__typename]));
  assert.equal(opsRes['prod-k8s'], 'KubernetesResource');
  assert.equal(opsRes['bastion ssh'], 'SSHResource');
  assert.equal(opsRes['prod-db'], 'NetworkResource');
  assert.ok(d.remoteNetwork.resources.edges.some((e) => e.node.__typename === 'WebAppResource'));
});

test('kubernetesResourceUpdate changes a Kubernetes resource; the other mutations refuse it', async () => {
  const k = byName((await tenant()).resources, 'prod-k8s');
  const hq = byName((await tenant()).remoteNetworks, 'Office / HQ');
  const pol = byName((await tenant()).securityPolicies, 'Require MFA');
  const r = await m(`mutation($id: ID!, $p: ProtocolsInput) { kubernetesResourceUpdate(id: $id, name: "k8s prod (eu)",
      address: "k8s-eu.prod.internal", alias: "k8s.tg", isActive: false, isVisible: false, remoteNetworkId: "${hq.id}",
      securityPolicyId: "${pol.id}", tags: [{key: "tier", value: "1"}], protocols: $p, usageBasedAutolockDurationDays: 5,
      gatewayId: "${Buffer.from('Gateway:77').toString('base64')}") {
    ok error entity { __typename name address { type value } alias isActive isVisible remoteNetwork { name }
      securityPolicy { name } tags { key value } protocols { tcp { policy ports { start end } } } usageBasedAutolockDurationDays
      approvalMode accessPolicy { mode durationSeconds } gateway { id } updatedAt } } }`,
  { id: k.id, p: { allowIcmp: false, tcp: { policy: 'RESTRICTED', ports: [{ start: 6443, end: 6443 }] }, udp: { policy: 'ALLOW_ALL' } } });
  assert.equal(r.ok, true, r.error);
  const e = r.entity;
  assert.equal(e.__typename, 'KubernetesResource');
  assert.deepEqual([e.name, e.address, e.alias, e.isActive, e.isVisible, e.remoteNetwork.name, e.securityPolicy.name],
    ['k8s prod (eu)', { type: 'DNS', value: 'k8s-eu.prod.internal' }, 'k8s.tg', false, false, 'Office / HQ', 'Require MFA']);
  assert.deepEqual(e.tags, [{ key: 'tier', value: '1' }]);
  assert.deepEqual(e.protocols.tcp, { policy: 'RESTRICTED', ports: [{ start: 6443, end: 6443 }] });
  assert.equal(e.usageBasedAutolockDurationDays, 5);
  assert.deepEqual(e.accessPolicy, { mode: 'ACCESS_REQUEST', durationSeconds: 8 * 3600 }, 'omitted: kept');
  assert.equal(e.gateway.id, Buffer.from('Gateway:77').toString('base64'));
  assert.ok(e.updatedAt > k.updatedAt);
  // Read back, and explicit nulls clear.
  const c = await m(`mutation { kubernetesResourceUpdate(id:"${k.id}", alias: null, securityPolicyId: null, accessPolicy: null, approvalMode: null) { ok error } }`);
  assert.deepEqual(c, { ok: true, error: null });
  const back = await s.data(`{ resource(id:"${k.id}") { name alias securityPolicy { id } approvalMode accessPolicy { mode } isActive } }`);
  assert.deepEqual(back.resource, { name: 'k8s prod (eu)', alias: null, securityPolicy: null, approvalMode: null, accessPolicy: null, isActive: false });

  const ru = await m(`mutation { resourceUpdate(id:"${k.id}", name:"renamed") { ok error entity { id } } }`);
  assert.equal(ru.ok, false);
  assert.equal(ru.error, `Resource with id '${k.id}' is a KubernetesResource, not a NetworkResource; update it with kubernetesResourceUpdate.`);
  const su = await m(`mutation { sshResourceUpdate(id:"${k.id}", name:"renamed") { ok error } }`);
  assert.equal(su.ok, false);
  assert.match(su.error, /is a KubernetesResource, not a SSHResource/);
  assert.equal(byName((await tenant()).resources, 'k8s prod (eu)').id, k.id, 'refused: nothing changed');
  // And the other way round: a network resource is not a Kubernetes one.
  const db = byName((await tenant()).resources, 'prod-db');
  const kn = await m(`mutation { kubernetesResourceUpdate(id:"${db.id}", name:"x") { ok error } }`);
  assert.equal(kn.ok, false);
  assert.match(kn.error, /is a NetworkResource, not a KubernetesResource; update it with resourceUpdate/);
});

test('sshResourceUpdate and webAppResourceUpdate: their own arguments, the same rules', async () => {
  const t = await tenant();
  const ssh = byName(t.resources, 'bastion ssh');
  const web = byName(t.resources, 'Kibana (web)');
  const a = await m(`mutation { sshResourceUpdate(id:"${ssh.id}", name:"bastion", isVisible:false, approvalMode: MANUAL, accessPolicy:{mode: MANUAL}) { ok error entity { __typename name isVisible } } }`);
  assert.equal(a.ok, false, 'MANUAL policies take no approvalMode');
  assert.match(a.error, /MANUAL access policies take no duration or approvalMode/);
  const b = await m(`mutation { sshResourceUpdate(id:"${ssh.id}", name:"bastion", isVisible:false, approvalMode: null, accessPolicy:{mode: MANUAL}) { ok error entity { __typename name isVisible accessPolicy { mode durationSeconds } } } }`);
  assert.equal(b.ok, true, b.error);
  assert.deepEqual(b.entity, { __typename: 'SSHResource', name: 'bastion', isVisible: false, accessPolicy: { mode: 'MANUAL', durationSeconds: null } });
  const w = await m(`mutation { webAppResourceUpdate(id:"${web.id}", address:"kibana.example.com", tags:[]) { ok error entity { __typename address { value } tags { key } } } }`);
  assert.deepEqual(w, { ok: true, error: null, entity: { __typename: 'WebAppResource', address: { value: 'kibana.example.com' }, tags: [] } });
  const bad = await m(`mutation { webAppResourceUpdate(id:"${web.id}", name:"  ") { ok error } }`);
  assert.deepEqual(bad, { ok: false, error: 'Name cannot be empty.' });
  // SSH resources take no protocols: a validation error (HTTP 400).
  const r = await s.gql(`mutation { sshResourceUpdate(id:"${ssh.id}", protocols:{allowIcmp:true, tcp:{policy:ALLOW_ALL}, udp:{policy:ALLOW_ALL}}) { ok } }`);
  assert.equal(r.status, 400);
});

test('access and delete serve every type', async () => {
  const t = await tenant();
  const web = t.resources.find((r) => r.__typename === 'WebAppResource');
  const ops = byName(t.groups, 'Ops / SRE');
  const add = await m(`mutation { resourceAccessAdd(resourceId:"${web.id}", access:[{principalId:"${ops.id}", usageBasedAutolockDurationDays: 3}]) { ok error entity { __typename access { edges { node { ... on Group { name } } usageBasedAutolockDurationDays } } } } }`);
  assert.equal(add.ok, true);
  assert.equal(add.entity.__typename, 'WebAppResource');
  assert.ok(add.entity.access.edges.some((e) => e.node.name === 'Ops / SRE' && e.usageBasedAutolockDurationDays === 3));
  const rm = await m(`mutation { resourceAccessRemove(resourceId:"${web.id}", principalIds:["${ops.id}"]) { ok entity { access { totalCount } } } }`);
  assert.equal(rm.ok, true);
  const ssh = t.resources.find((r) => r.__typename === 'SSHResource');
  const del = await m(`mutation { resourceDelete(id:"${ssh.id}") { ok error } }`);
  assert.deepEqual(del, { ok: true, error: null });
  const d = await s.data(`{ resource(id:"${ssh.id}") { id } }`);
  assert.equal(d.resource, null);
  assert.ok(!(await tenant()).access.some((e) => e.resourceId === ssh.id), 'its edges went with it');
});

test('every size has a few resources of each type with --resource-types; none without it', async () => {
  const count = async (args) => {
    const v = await startSim(args);
    try {
      const by = {};
      for (const r of (await v.sim('/_sim/tenant')).body.resources) by[r.__typename] = (by[r.__typename] ?? 0) + 1;
      return by;
    } finally {
      await v.stop();
    }
  };
  assert.deepEqual(await count(['--size', 'tiny', '--resource-types']),
    { NetworkResource: 1, KubernetesResource: 1, SSHResource: 1, WebAppResource: 1 });
  const n = await count(['--size', '300', '--resource-types']);
  assert.deepEqual([n.KubernetesResource, n.SSHResource, n.WebAppResource], [1, 1, 1]);
  assert.equal(n.NetworkResource + 3, 75, 'the resource count of the size stays');
  const big = await count(['--size', 'large', '--resource-types']);
  assert.deepEqual([big.KubernetesResource, big.SSHResource, big.WebAppResource, big.NetworkResource], [5, 5, 5, 4985]);
  assert.deepEqual(await count(['--size', 'small']), { NetworkResource: 12 });
  assert.deepEqual(await count(['--size', 'tiny']), { NetworkResource: 1 });
});
