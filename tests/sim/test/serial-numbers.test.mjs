// Trusted serial numbers: the generated list, matchedDevices from the
// devices' serialNumber, the filters, create and delete of many at once
// (all or nothing).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSim } from '../testkit.mjs';

let s;
let T;
before(async () => {
  s = await startSim(['--size', 'small', '--rate-read', '0', '--rate-write', '0']);
  T = (await s.sim('/_sim/tenant?all=1')).body;
});
after(() => s.stop());

const m = async (q, v) => Object.values(await s.data(q, v))[0];
const LIST = '{ serialNumbers(first: 100) { totalCount edges { node { id serialNumber createdAt matchedDevices { id serialNumber user { email } } } } } }';
const list = async () => (await s.data(LIST)).serialNumbers;
const bySerial = async () => Object.fromEntries((await list()).edges.map((e) => [e.node.serialNumber, e.node]));
const CREATE = 'mutation($s: [String!]!) { serialNumbersCreate(serialNumbers: $s) { ok error entities { id serialNumber createdAt matchedDevices { id } } } }';
const DELETE = 'mutation($s: [String!]!) { serialNumbersDelete(serialNumbers: $s) { ok error } }';

test('the small tenant trusts five serial numbers, three of them matching a device', async () => {
  const l = await list();
  assert.equal(l.totalCount, 5);
  for (const { node } of l.edges) {
    const devices = T.devices.filter((d) => d.serialNumber === node.serialNumber).map((d) => d.id);
    assert.deepEqual(node.matchedDevices.map((d) => d.id), devices, node.serialNumber);
    for (const d of node.matchedDevices) assert.equal(d.serialNumber, node.serialNumber);
    assert.match(Buffer.from(node.id, 'base64').toString(), /^SerialNumber:\d+$/);
    assert.match(node.createdAt, /^\d{4}-\d\d-\d\dT/);
  }
  assert.equal(l.edges.filter((e) => e.node.matchedDevices.length > 0).length, 3);
  assert.ok(l.edges.some((e) => e.node.serialNumber === 'PF3XQ9ZZ' && e.node.matchedDevices.length === 0));
  assert.deepEqual(T.serialNumbers.map((x) => x.serialNumber), l.edges.map((e) => e.node.serialNumber));
  assert.deepEqual(T.serialNumbers.map((x) => x.matchedDeviceIds), l.edges.map((e) => e.node.matchedDevices.map((d) => d.id)));
  // A root list is a page in the stats.
  await s.sim('/_sim/stats/reset', 'POST');
  await s.data('{ serialNumbers { totalCount } }');
  const st = (await s.sim('/_sim/stats')).body;
  assert.deepEqual([st.pages, st.fields.serialNumbers], [1, 1]);
});

test('filters: serialNumber operators and hasMatchedDevices', async () => {
  const q = 'query($f: SerialNumberFilterInput) { serialNumbers(filter: $f) { totalCount edges { node { serialNumber } } } }';
  const names = (d) => d.serialNumbers.edges.map((e) => e.node.serialNumber);
  let d = await s.data(q, { f: { hasMatchedDevices: { eq: false } } });
  assert.deepEqual(names(d).sort(), ['C02UNKNOWN01', 'PF3XQ9ZZ']);
  d = await s.data(q, { f: { hasMatchedDevices: { eq: true } } });
  assert.equal(d.serialNumbers.totalCount, 3);
  d = await s.data(q, { f: { serialNumber: { eq: 'PF3XQ9ZZ' } } });
  assert.deepEqual(names(d), ['PF3XQ9ZZ']);
  d = await s.data(q, { f: { serialNumber: { startsWith: 'C02' }, hasMatchedDevices: { eq: false } } });
  assert.deepEqual(names(d), ['C02UNKNOWN01']);
  d = await s.data(q, { f: { serialNumber: null, hasMatchedDevices: { eq: null } } });
  assert.equal(d.serialNumbers.totalCount, 5);
});

test('serialNumbersCreate: many at once, in order, matched at once to devices with that serial', async () => {
  const dev = T.devices.find((d) => d.serialNumber && !T.serialNumbers.some((x) => x.serialNumber === d.serialNumber));
  await s.sim('/_sim/stats/reset', 'POST');
  const r = await m(CREATE, { s: ['NEW-0001', ` ${dev.serialNumber} `, 'NEW-0002', 'NEW-0001'] });
  assert.equal(r.ok, true, r.error);
  assert.deepEqual(r.entities.map((e) => e.serialNumber), ['NEW-0001', dev.serialNumber, 'NEW-0002'], 'trimmed, duplicates once');
  assert.deepEqual(r.entities[1].matchedDevices.map((d) => d.id), [dev.id]);
  assert.deepEqual(r.entities[0].matchedDevices, []);
  assert.equal((await s.sim('/_sim/stats')).body.mutations, 1, 'one request');
  const all = await bySerial();
  assert.equal(Object.keys(all).length, 8);
  assert.equal(all['NEW-0002'].id, r.entities[2].id);
  assert.equal(all['NEW-0002'].createdAt, r.entities[2].createdAt);

  // All or nothing: one bad entry refuses the whole list.
  for (const [list_, re] of [
    [['OK-1', 'NEW-0001'], /Serial number 'NEW-0001' already exists/],
    [['OK-1', '   '], /cannot be empty/],
    [['OK-1', 'two words'], /not a valid serial number/],
  ]) {
    const x = await m(CREATE, { s: list_ });
    assert.equal(x.ok, false);
    assert.match(x.error, re);
    assert.equal(x.entities, null);
  }
  assert.equal((await list()).totalCount, 8, 'nothing created by the refused ones');
  // A read token cannot.
  const perm = await s.gql(CREATE, { s: ['RO-1'] }, { token: 'sim-read' });
  assert.match(perm.body.errors[0].message, /'read write' permission/);
});

test('serialNumbersDelete: many at once; an unknown one refuses the whole list', async () => {
  await m(CREATE, { s: ['DEL-1', 'DEL-2', 'DEL-3'] });
  const n = (await list()).totalCount;
  let r = await m(DELETE, { s: ['DEL-1', 'NOT-THERE'] });
  assert.deepEqual(r, { ok: false, error: "Serial number 'NOT-THERE' does not exist" });
  assert.equal((await list()).totalCount, n);
  r = await m(DELETE, { s: ['DEL-1', 'DEL-3'] });
  assert.deepEqual(r, { ok: true, error: null });
  const all = await bySerial();
  assert.equal(Object.keys(all).length, n - 2);
  assert.ok(all['DEL-2'] && !all['DEL-1'] && !all['DEL-3']);
});

test('matchedDevices follows the devices: a device that goes takes its match along', async () => {
  const sn = T.serialNumbers.find((x) => x.matchedDeviceIds.length > 0);
  const dev = T.devices.find((d) => d.id === sn.matchedDeviceIds[0]);
  const user = T.users.find((u) => u.id === dev.userId);
  const r = await m(`mutation { userDelete(id:"${user.id}") { ok error } }`);
  assert.equal(r.ok, true);
  const after_ = (await bySerial())[sn.serialNumber];
  assert.ok(after_, 'the serial number stays trusted');
  assert.ok(!after_.matchedDevices.some((d) => d.id === dev.id));
  const f = await s.data('{ serialNumbers(filter: { hasMatchedDevices: { eq: false } }) { edges { node { serialNumber } } } }');
  if (after_.matchedDevices.length === 0) assert.ok(f.serialNumbers.edges.some((e) => e.node.serialNumber === sn.serialNumber));
});
