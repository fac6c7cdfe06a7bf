// The schema served: the shared 2026 schema (verbatim, plus the simulator's
// extensions), introspection as a counted read, and the schema variants
// (--schema-variant, /_sim/config schemaVariant) that validation follows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { buildSchema, buildClientSchema, getIntrospectionQuery, findBreakingChanges } from 'graphql';
import { startSim } from '../testkit.mjs';

const SIM_SDL = readFileSync(fileURLToPath(new URL('../schema.graphql', import.meta.url)), 'utf8');
// The shared schema: ../shared/twingate-api/ next to the checkout (or next to
// any folder above it, for worktrees kept in a subfolder).
function findShared() {
  for (let d = fileURLToPath(new URL('../../..', import.meta.url)); ; d = dirname(d)) {
    const f = join(dirname(d), 'shared', 'twingate-api', 'schema.graphql');
    if (existsSync(f)) return f;
    if (dirname(d) === d) return null;
  }
}
const SHARED = findShared();
const SHARED_SDL = SHARED ? readFileSync(SHARED, 'utf8') : null;

let s;
before(async () => {
  s = await startSim(['--size', 'small', '--rate-read', '0', '--rate-write', '0']);
});
after(() => s.stop());

/** The schema as a client sees it: one introspection request. */
async function liveSchema(sim = s) {
  const r = await sim.gql(getIntrospectionQuery(), null, { token: 'sim-read' });
  assert.equal(r.status, 200, r.text.slice(0, 300));
  assert.equal(r.body.errors, undefined);
  return buildClientSchema(r.body.data);
}

const fieldsOf = (schema, type) => Object.keys(schema.getType(type)?.getFields() ?? {});

test('schema.graphql starts with the shared schema, byte for byte', { skip: !SHARED_SDL && 'no ../shared' }, () => {
  assert.ok(SIM_SDL.startsWith(SHARED_SDL), 'tests/sim/schema.graphql = shared schema.graphql + extensions');
  assert.match(SIM_SDL.slice(SHARED_SDL.length), /^\n# =+\n# Simulator additions/);
});

test('introspection: the live schema has everything the shared schema has, and the extensions', async () => {
  const live = await liveSchema();
  if (SHARED_SDL) {
    const breaking = findBreakingChanges(buildSchema(SHARED_SDL), live).map((c) => c.description);
    assert.deepEqual(breaking, [], 'nothing of the shared schema is missing or different');
  }
  const q = live.getQueryType().getFields();
  for (const f of ['accessRequest', 'accessRequests', 'serialNumbers', 'resources']) assert.ok(q[f], f);
  const m = live.getMutationType().getFields();
  for (const f of ['accessRequestApprove', 'accessRequestReject', 'serialNumbersCreate', 'serialNumbersDelete',
    'resourceAccessAdd', 'resourceAccessSet', 'resourceAccessRemove', 'kubernetesResourceUpdate',
    'sshResourceUpdate', 'webAppResourceUpdate', 'userResetMfa']) assert.ok(m[f], f);
  assert.deepEqual(live.getPossibleTypes(live.getType('Resource')).map((t) => t.name).sort(),
    ['KubernetesResource', 'NetworkResource', 'SSHResource', 'WebAppResource']);
  assert.ok(fieldsOf(live, 'Resource').includes('isBrowserShortcutEnabled'), 'default: on the interface');
  assert.ok(!fieldsOf(live, 'Resource').includes('routingMode'));
  assert.ok(!fieldsOf(live, 'KubernetesResourceUpdateMutation').includes('routingMode'));
  assert.deepEqual(Object.keys(m.sshResourceUpdate.args.reduce((o, a) => ({ ...o, [a.name]: 1 }), {})).includes('protocols'), false);
  assert.ok(m.kubernetesResourceUpdate.args.some((a) => a.name === 'protocols'));
  // GET /_sim/schema prints the same schema.
  const sdl = await (await fetch(`${s.base}/_sim/schema`)).text();
  assert.deepEqual(findBreakingChanges(buildSchema(sdl), live), []);
  assert.deepEqual(findBreakingChanges(live, buildSchema(sdl)), []);
});

test('introspection counts as a read: stats and the read rate limit', async () => {
  await s.sim('/_sim/stats/reset', 'POST');
  const r = await s.gql('query Schema { __schema { queryType { name } mutationType { name } } }', null, { token: 'sim-read' });
  assert.deepEqual(r.body.data.__schema, { queryType: { name: 'QueriesRoot' }, mutationType: { name: 'MutationsRoot' } });
  const t = await s.gql('{ __type(name: "SerialNumber") { fields { name } } }', null, { token: 'sim-read' });
  assert.deepEqual(t.body.data.__type.fields.map((f) => f.name).sort(), ['createdAt', 'id', 'matchedDevices', 'serialNumber']);
  const st = (await s.sim('/_sim/stats')).body;
  assert.equal(st.requests, 2);
  assert.equal(st.queries, 2);
  assert.equal(st.mutations, 0);
  assert.equal(st.pages, 0);
  assert.equal(st.fields.__schema, 1);
  assert.equal(st.fields.__type, 1);
  assert.equal(st.operations.Schema, 1);
  // __typename alone is still no root field.
  await s.gql('{ __typename }', null, { token: 'sim-read' });
  assert.equal((await s.sim('/_sim/stats')).body.fields.__typename, undefined);

  // With 2 reads a minute, the third introspection is a 429.
  await s.sim('/_sim/config', 'POST', { rateRead: 2 });
  await s.sim('/_sim/ratelimit/reset', 'POST');
  try {
    assert.equal((await s.gql('{ __schema { types { name } } }', null, { token: 'sim-read' })).status, 200);
    assert.equal((await s.gql(getIntrospectionQuery(), null, { token: 'sim-read' })).status, 200);
    const third = await s.gql('{ __schema { types { name } } }', null, { token: 'sim-read' });
    assert.equal(third.status, 429);
    assert.ok(Number(third.headers.get('retry-after')) >= 1);
    // Writes have their own bucket: a mutation still goes through.
    const w = await s.gql('mutation { serialNumbersCreate(serialNumbers:["RL-1"]) { ok } }', null, { token: 'sim-write' });
    assert.equal(w.status, 200);
  } finally {
    await s.sim('/_sim/config', 'POST', { rateRead: 0 });
    await s.sim('/_sim/ratelimit/reset', 'POST');
  }
  // A fault can target introspection by its root field.
  await s.sim('/_sim/faults', 'POST', { match: '__schema', status: 503 });
  assert.equal((await s.gql('{ __schema { types { name } } }', null, { token: 'sim-read' })).status, 503);
  assert.equal((await s.gql('{ users { totalCount } }', null, { token: 'sim-read' })).status, 200);
  await s.sim('/_sim/faults', 'DELETE');
});

// ---- variants ----

const SHORTCUT_ON_IFACE = '{ resources(first: 3) { edges { node { id isBrowserShortcutEnabled } } } }';
const SHORTCUT_IN_FRAGMENT = '{ resources(first: 3) { edges { node { id ... on NetworkResource { isBrowserShortcutEnabled routingMode } } } } }';

test('variant browser-shortcut-on-network-resource: the interface selection is a 400, the fragment works', async () => {
  const v = await startSim(['--size', 'small', '--schema-variant', 'browser-shortcut-on-network-resource']);
  try {
    const live = await liveSchema(v);
    assert.ok(!fieldsOf(live, 'Resource').includes('isBrowserShortcutEnabled'));
    for (const t of ['KubernetesResource', 'SSHResource', 'WebAppResource']) assert.ok(!fieldsOf(live, t).includes('isBrowserShortcutEnabled'), t);
    assert.ok(fieldsOf(live, 'NetworkResource').includes('isBrowserShortcutEnabled'));
    const bad = await v.gql(SHORTCUT_ON_IFACE);
    assert.equal(bad.status, 400);
    assert.match(bad.body.errors[0].message, /Cannot query field 'isBrowserShortcutEnabled' on type 'Resource'/);
    assert.equal(bad.body.data, undefined);
    const ok = await v.data(SHORTCUT_IN_FRAGMENT);
    assert.equal(ok.resources.edges.length, 3);
    assert.equal(typeof ok.resources.edges[0].node.isBrowserShortcutEnabled, 'boolean');
    // resourceUpdate still takes the argument.
    const id = ok.resources.edges[0].node.id;
    const u = await v.data(`mutation { resourceUpdate(id:"${id}", isBrowserShortcutEnabled:false) { ok entity { isBrowserShortcutEnabled } } }`);
    assert.deepEqual(u.resourceUpdate, { ok: true, entity: { isBrowserShortcutEnabled: false } });
    const cfg = (await v.sim('/_sim/config')).body;
    assert.equal(cfg.schemaVariant, 'browser-shortcut-on-network-resource');
  } finally {
    await v.stop();
  }
  // The default schema answers both.
  assert.equal((await s.gql(SHORTCUT_ON_IFACE)).status, 200);
  assert.equal((await s.gql(SHORTCUT_IN_FRAGMENT)).status, 200);
  assert.equal((await s.sim('/_sim/config')).body.schemaVariant, null);
});

test('variant no-connector-hostname: Connector.hostname is gone, the rest of a connector is there', async () => {
  const v = await startSim(['--size', 'small', '--schema-variant=no-connector-hostname']);
  try {
    assert.ok(!fieldsOf(await liveSchema(v), 'Connector').includes('hostname'));
    const bad = await v.gql('{ connectors { edges { node { name hostname } } } }');
    assert.equal(bad.status, 400);
    assert.match(bad.body.errors[0].message, /Cannot query field 'hostname' on type 'Connector'/);
    const ok = await v.data('{ connectors { totalCount edges { node { name version publicIP } } } }');
    assert.equal(ok.connectors.totalCount, 9);
  } finally {
    await v.stop();
  }
});

test('variant no-serial-numbers-create: the mutation and its payload are gone, delete and the list stay', async () => {
  const v = await startSim(['--size', 'small', '--schema-variant', 'no-serial-numbers-create']);
  try {
    const live = await liveSchema(v);
    assert.equal(live.getMutationType().getFields().serialNumbersCreate, undefined);
    assert.equal(live.getType('SerialNumbersCreateMutation'), undefined);
    const bad = await v.gql('mutation { serialNumbersCreate(serialNumbers:["X1"]) { ok } }');
    assert.equal(bad.status, 400);
    assert.match(bad.body.errors[0].message, /Cannot query field 'serialNumbersCreate' on type 'MutationsRoot'/);
    const before_ = await v.data('{ serialNumbers { totalCount } }');
    const d = await v.data('mutation { serialNumbersDelete(serialNumbers:["PF3XQ9ZZ"]) { ok error } }');
    assert.deepEqual(d.serialNumbersDelete, { ok: true, error: null });
    assert.equal((await v.data('{ serialNumbers { totalCount } }')).serialNumbers.totalCount, before_.serialNumbers.totalCount - 1);
  } finally {
    await v.stop();
  }
});

test('variant extra-field: RemoteNetwork.aliveConnectorCount, from the connectors', async () => {
  const v = await startSim(['--size', 'small', '--schema-variant', 'extra-field']);
  try {
    assert.ok(fieldsOf(await liveSchema(v), 'RemoteNetwork').includes('aliveConnectorCount'));
    const d = await v.data('{ remoteNetworks { edges { node { name aliveConnectorCount connectors { edges { node { state } } } } } } }');
    for (const { node } of d.remoteNetworks.edges) {
      assert.equal(node.aliveConnectorCount, node.connectors.edges.filter((e) => e.node.state === 'ALIVE').length, node.name);
    }
    assert.equal(d.remoteNetworks.edges.find((e) => e.node.name === 'AWS prod').node.aliveConnectorCount, 3);
  } finally {
    await v.stop();
  }
  // Not in the default schema.
  assert.equal((await s.gql('{ remoteNetworks { edges { node { aliveConnectorCount } } } }')).status, 400);
});

test('variant no-resource-alias-update: resourceUpdate takes no alias, Resource.alias stays readable', async () => {
  const v = await startSim(['--size', 'small', '--schema-variant', 'no-resource-alias-update']);
  try {
    const live = await liveSchema(v);
    const args = live.getMutationType().getFields().resourceUpdate.args.map((a) => a.name);
    assert.ok(!args.includes('alias'));
    assert.ok(args.includes('name') && args.includes('isVisible'));
    const d = await v.data('{ resources(first: 1) { edges { node { id alias } } } }');
    const id = d.resources.edges[0].node.id;
    const bad = await v.gql(`mutation { resourceUpdate(id:"${id}", alias:"x") { ok } }`, null, { token: 'sim-write' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.errors[0].message, /Unknown argument 'alias'/);
    const ok = await v.data(`mutation { resourceUpdate(id:"${id}", isVisible:false) { ok } }`, null, { token: 'sim-write' });
    assert.equal(ok.resourceUpdate.ok, true);
  } finally {
    await v.stop();
  }
});

test('/_sim/documents: the distinct documents received while recording', async () => {
  const v = await startSim(['--size', 'tiny', '--record-documents']);
  try {
    const q1 = '{ users(first: 1) { totalCount } }';
    await v.gql(q1);
    await v.gql(q1);
    await v.gql('{ groups { totalCount } }');
    await v.gql('{ nope'); // does not parse: not a document
    let r = await v.sim('/_sim/documents');
    assert.deepEqual(r.body, { recording: true, documents: [q1, '{ groups { totalCount } }'] });
    r = await v.sim('/_sim/documents', 'POST', { record: false });
    await v.gql(q1.replace('1', '2'));
    assert.deepEqual((await v.sim('/_sim/documents')).body, { recording: false, documents: [] });
    r = await v.sim('/_sim/documents', 'POST', { record: true });
    await v.gql(q1);
    assert.deepEqual((await v.sim('/_sim/documents')).body.documents, [q1]);
    assert.equal((await v.sim('/_sim/documents', 'POST', { record: 'yes' })).status, 400);
  } finally {
    await v.stop();
  }
  assert.equal((await s.sim('/_sim/documents')).body.recording, false);
});

test('variants through /_sim/config: switch at run time, combine, back to default; unknown names refused', async () => {
  try {
    let r = await s.sim('/_sim/config', 'POST', { schemaVariant: 'no-connector-hostname,extra-field' });
    assert.equal(r.status, 200);
    assert.equal(r.body.schemaVariant, 'no-connector-hostname,extra-field');
    assert.equal((await s.gql('{ connectors { edges { node { hostname } } } }')).status, 400);
    assert.equal((await s.gql('{ remoteNetworks { edges { node { aliveConnectorCount } } } }')).status, 200);
    const sdl = await (await fetch(`${s.base}/_sim/schema`)).text();
    assert.match(sdl, /aliveConnectorCount: Int!/);
    r = await s.sim('/_sim/config', 'POST', { schemaVariant: ['browser-shortcut-on-network-resource'] });
    assert.equal(r.body.schemaVariant, 'browser-shortcut-on-network-resource');
    assert.equal((await s.gql('{ connectors { edges { node { hostname } } } }')).status, 200);
    assert.equal((await s.gql(SHORTCUT_ON_IFACE)).status, 400);
    r = await s.sim('/_sim/config', 'POST', { schemaVariant: 'no-such-variant' });
    assert.equal(r.status, 400);
    assert.match(r.body.error, /unknown schema variant 'no-such-variant'/);
    assert.equal((await s.sim('/_sim/config')).body.schemaVariant, 'browser-shortcut-on-network-resource', 'a refused change changes nothing');
  } finally {
    const r = await s.sim('/_sim/config', 'POST', { schemaVariant: null });
    assert.equal(r.body.schemaVariant, null);
  }
  assert.equal((await s.gql(SHORTCUT_ON_IFACE)).status, 200);
  assert.equal((await s.gql('{ connectors { edges { node { hostname } } } }')).status, 200);
});

test('--schema-variant with an unknown name: exit 2 and the known names', () => {
  const server = fileURLToPath(new URL('../server.mjs', import.meta.url));
  const r = spawnSync(process.execPath, [server, '--schema-variant', 'nope'], { encoding: 'utf8', timeout: 10000 });
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /unknown schema variant 'nope' \(known: browser-shortcut-on-network-resource, no-connector-hostname, no-serial-numbers-create, extra-field, no-resource-alias-update, no-2026-lists\)/);
});
