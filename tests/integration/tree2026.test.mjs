// tree2026.test.mjs - the 2026 revision's tree through a real mount
// (DESIGN.md §2 "Resource types", "Access edges", /serial-numbers/,
// /access-requests/; §3): resources of every type listed and read, each
// written through its type's own update mutation; a write the type's
// mutation cannot take fails with EOPNOTSUPP and sends nothing.  Every
// change is checked in the simulator's tenant and in the exact mutations
// sent (/_sim/stats).  The simulator runs with --resource-types.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sh, shStatus, teardown, waitFor, tempDir, rmSync } from './lib.mjs';
import { expectTree, diffTree } from './expect.mjs';
import { lines, sorted, q, setup, SIM_ARGS, obj, patchLines, assertChanges, assertUnchanged,
         cost, assertOneMutation, assertNoMutation, run, pyWrite } from './writes.mjs';

const TYPED = [...SIM_ARGS, '--resource-types'];
const WORD = { NetworkResource: 'network', KubernetesResource: 'kubernetes',
  SSHResource: 'ssh', WebAppResource: 'webapp' };
const UPDATE = { NetworkResource: 'resourceUpdate', KubernetesResource: 'kubernetesResourceUpdate',
  SSHResource: 'sshResourceUpdate', WebAppResource: 'webAppResourceUpdate' };

describe('resources of every type', () => {
  let sim, m;
  before(async () => { ({ sim, m } = await setup({ simArgs: TYPED })); });
  after(() => teardown(m, sim));

  test('every resource is listed with its type, and its folder matches the tenant', async () => {
    const t = await sim.tenant();
    const types = new Set(t.resources.map((r) => r.__typename));
    assert.deepEqual(sorted([...types]), sorted(Object.keys(WORD)), 'the tenant has all four types');
    const tree = expectTree(t);
    const owners = new Set(tree.byKind.resources.map((r) => r.path));
    const bad = diffTree(m.dir, tree, { owners, tenant: t });
    assert.deepEqual(bad, [], 'the resources folders match the tenant');
    for (const rec of tree.byKind.resources) {
      assert.equal(sh(`cat ${q(`${rec.path}/type`)}`, m.dir), `${WORD[rec.obj.__typename]}\n`, rec.path);
      const files = lines(sh(`ls -1A ${q(rec.path)}`, m.dir));
      const network = rec.obj.__typename === 'NetworkResource';
      for (const f of ['routing-mode', 'browser-shortcut']) {
        assert.equal(files.includes(f), network, `${rec.path}/${f} only on network resources`);
      }
      const json = JSON.parse(sh(`cat ${q(`${rec.path}/object.json`)}`, m.dir));
      assert.equal(json.__typename, rec.obj.__typename, `${rec.path}/object.json __typename`);
    }
    // A find lists them all (the listing query is valid for every type).
    const found = lines(sh('find resources -name type', m.dir));
    assert.equal(found.length, t.resources.length, 'find sees every resource');
  });

  // [resource, file, value written, tenant patch]
  const CASES = [
    ['prod-k8s', 'alias', 'k8s.prod', { alias: 'k8s.prod' }],
    ['bastion ssh', 'is-visible', 'false', { isVisible: false }],
    ['Kibana (web)', 'name', 'Kibana', { name: 'Kibana' }],
    ['prod-db', 'alias', 'db.prod', { alias: 'db.prod' }],
  ];
  for (const [name, file, value, patch] of CASES) {
    test(`echo ${value} > ${name}/${file} sends its type's own update`, async () => {
      const t = await sim.tenant();
      const o = obj(t, 'resources', name);
      const dir = `resources/${name}`;
      sh(`ls -A ${q(dir)} resources > /dev/null`, m.dir); // warm
      const { st } = await cost(sim, () => run(`echo ${q(value)} > ${q(`${dir}/${file}`)}`, m.dir));
      assertOneMutation(st, UPDATE[o.__typename], `${dir}/${file}`);
      await assertChanges(sim, t, patchLines('resources', o, patch), dir);
      const shown = `resources/${patch.name ?? name}/${file}`;
      assert.equal(sh(`cat ${q(shown)}`, m.dir), `${value}\n`);
    });
  }

  test('ln -sfn of a Kubernetes resource\'s security policy uses kubernetesResourceUpdate', async () => {
    const t = await sim.tenant();
    const o = obj(t, 'resources', 'prod-k8s');
    const p = obj(t, 'securityPolicies', 'Require MFA');
    assert.notEqual(o.securityPolicyId, p.id, 'precondition');
    const { st } = await cost(sim, () => run(
      "ln -sfn '../../security-policies/Require MFA' resources/prod-k8s/security-policy", m.dir));
    assert.equal(st.mutations, 1, JSON.stringify(st.fields));
    assert.equal(st.fields.kubernetesResourceUpdate, 1, JSON.stringify(st.fields));
    await assertChanges(sim, t, patchLines('resources', o, { securityPolicyId: p.id }));
  });

  test('protocols of an SSH resource: EOPNOTSUPP, nothing sent, a line in errors', async () => {
    const t = await sim.tenant();
    const f = 'resources/bastion ssh/protocols';
    const { r, st } = await cost(sim, () => pyWrite(m.dir, f, 'icmp: allow\ntcp: 22,2222\nudp: deny-all\n'));
    assert.match(r, /^close E(OPNOTSUPP|NOTSUP)$/, 'EOPNOTSUPP (ENOTSUP on Linux)');
    assertNoMutation(st, f);
    assert.equal(st.requests, 0, 'no request at all');
    await assertUnchanged(sim, t, f);
    const errors = sh('cat .twingatefs/errors', m.dir);
    assert.match(errors, /bastion ssh\/protocols: .*sshResourceUpdate takes no protocols/);
  });

  test('the resource-wide defaults: approval-mode, autolock-days, access-policy, and clearing them', async () => {
    const steps = [
      ['grafana', 'approval-mode', 'manual\n', 'resourceUpdate', { approvalMode: 'MANUAL' }],
      ['bastion ssh', 'autolock-days', '30\n', 'sshResourceUpdate', { usageBasedAutolockDurationDays: 30 }],
      ['prod-k8s', 'approval-mode', '', 'kubernetesResourceUpdate', { approvalMode: null }],
      ['prod-k8s', 'access-policy', 'mode: access_request\nduration: 7200\n', 'kubernetesResourceUpdate',
        { accessPolicy: { mode: 'ACCESS_REQUEST', durationSeconds: 7200 } }],
      ['bastion ssh', 'access-policy', '', 'sshResourceUpdate', { accessPolicy: null }],
    ];
    for (const [name, file, value, mutation, patch] of steps) {
      const t = await sim.tenant();
      const o = obj(t, 'resources', name);
      const f = `resources/${name}/${file}`;
      sh(`cat ${q(f)} > /dev/null`, m.dir); // warm
      await sim.resetStats();
      const r = pyWrite(m.dir, f, value);
      assert.equal(r, 'ok', `${f}: ${sh('tail -2 .twingatefs/errors', m.dir)}`);
      // An emptied file is sent when its last descriptor is released,
      // which the kernel does after close(2) returns.
      if (value === '') {
        const [k, v] = Object.entries(patch)[0];
        await waitFor(async () => obj(await sim.tenant(), 'resources', name)[k] === v, 10000,
          `${f} sent`);
      }
      assertOneMutation(await sim.stats(), mutation, f);
      await assertChanges(sim, t, patchLines('resources', o, patch), f);
      assert.equal(sh(`cat ${q(f)}`, m.dir), value, `${f} shows what was written`);
    }
  });

  test('a value access-policy refuses: EINVAL at close, nothing sent', async () => {
    const t = await sim.tenant();
    const f = 'resources/grafana/access-policy';
    const { r, st } = await cost(sim, () => pyWrite(m.dir, f, 'mode: sometimes\n'));
    assert.equal(r, 'close EINVAL');
    assertNoMutation(st, f);
    await assertUnchanged(sim, t, f);
  });
});

describe('resources when isBrowserShortcutEnabled is on NetworkResource only', () => {
  let sim, m;
  before(async () => {
    ({ sim, m } = await setup({ simArgs: [...TYPED, '--schema-variant',
      'browser-shortcut-on-network-resource'] }));
  });
  after(() => teardown(m, sim));

  test('listing, find and reading every resource work, and the browser shortcut is written', async () => {
    const t = await sim.tenant();
    const tree = expectTree(t);
    const owners = new Set(tree.byKind.resources.map((r) => r.path));
    assert.deepEqual(diffTree(m.dir, tree, { owners, tenant: t }), []);
    assert.equal(lines(sh('find resources -name object.json', m.dir)).length, t.resources.length);
    const o = obj(t, 'resources', 'grafana');
    const { st } = await cost(sim, () => run('echo true > resources/grafana/browser-shortcut', m.dir));
    assertOneMutation(st, 'resourceUpdate', 'browser-shortcut');
    await assertChanges(sim, t, patchLines('resources', o, { isBrowserShortcutEnabled: true }));
    assert.equal(shStatus('ls resources/prod-k8s/browser-shortcut', m.dir).status, 2,
      'no browser-shortcut file on a Kubernetes resource');
  });
});

// The simulator's answer to @query (read with a read-only token): its data.
async function gql(sim, query, variables = {}) {
  const r = await sim.gql(query, variables, 'sim-read');
  assert.ok(!r.body.errors, JSON.stringify(r.body));
  return r.body.data;
}

describe('/serial-numbers/', () => {
  let sim, m;
  before(async () => { ({ sim, m } = await setup()); });
  after(() => teardown(m, sim));

  test('lists the tenant\'s serial numbers, each with its matched devices as links', async () => {
    const t = await sim.tenant();
    assert.ok(t.serialNumbers.length >= 3, 'the tenant has serial numbers');
    const tree = expectTree(t);
    const owners = new Set(tree.byKind.serialNumbers.map((r) => r.path));
    assert.deepEqual(diffTree(m.dir, tree, { owners, tenant: t }), []);
    assert.deepEqual(sorted(lines(sh('ls -1A serial-numbers', m.dir))),
      sorted(t.serialNumbers.map((s) => s.serialNumber)));
    const matched = t.serialNumbers.find((s) => s.matchedDeviceIds.length > 0);
    const dev = sh(`readlink serial-numbers/${q(matched.serialNumber)}/devices/*`, m.dir);
    assert.equal(dev, `../../../devices/${matched.matchedDeviceIds[0]}\n`);
  });

  test('mkdir adds one (serialNumbersCreate), and a device with that serial shows as matched', async () => {
    const t = await sim.tenant();
    const listed = new Set(t.serialNumbers.map((s) => s.serialNumber));
    const d = t.devices.find((x) => x.serialNumber && !listed.has(x.serialNumber));
    assert.ok(d, 'a device whose serial is not listed yet');
    sh('ls -A serial-numbers devices > /dev/null', m.dir); // warm
    const { st } = await cost(sim, () => run(`mkdir serial-numbers/${q(d.serialNumber)}`, m.dir));
    assertOneMutation(st, 'serialNumbersCreate', 'mkdir');
    const now = await sim.tenant();
    const made = now.serialNumbers.filter((s) => s.serialNumber === d.serialNumber);
    assert.equal(made.length, 1, 'one serial number made');
    assert.deepEqual(made[0].matchedDeviceIds, [d.id]);
    assert.equal(now.serialNumbers.length, t.serialNumbers.length + 1, 'nothing else made');
    const { st: st2 } = await cost(sim, () => {
      assert.equal(sh(`ls serial-numbers/${q(d.serialNumber)}/devices`, m.dir), `${d.id}\n`);
      assert.equal(sh(`cat serial-numbers/${q(d.serialNumber)}/id`, m.dir), `${made[0].id}\n`);
    });
    assert.equal(st2.requests, 0, 'shown from the mutation\'s answer');
  });

  test('mkdir of a serial already listed: EEXIST, nothing sent', async () => {
    const t = await sim.tenant();
    const s = t.serialNumbers[0].serialNumber;
    const { st } = await cost(sim, () => assert.notEqual(
      shStatus(`mkdir serial-numbers/${q(s)}`, m.dir).status, 0));
    assertNoMutation(st, 'mkdir of an existing serial');
    assert.deepEqual((await sim.tenant()).serialNumbers, t.serialNumbers);
  });

  test('rmdir removes one (serialNumbersDelete)', async () => {
    const t = await sim.tenant();
    const s = t.serialNumbers.find((x) => x.matchedDeviceIds.length === 0);
    const { st } = await cost(sim, () => run(`rmdir serial-numbers/${q(s.serialNumber)}`, m.dir));
    assertOneMutation(st, 'serialNumbersDelete', 'rmdir');
    const now = await sim.tenant();
    assert.deepEqual(now.serialNumbers.map((x) => x.id).sort(),
      t.serialNumbers.filter((x) => x.id !== s.id).map((x) => x.id).sort());
    assert.ok(!lines(sh('ls -1A serial-numbers', m.dir)).includes(s.serialNumber));
  });
});

describe('/access-requests/', () => {
  let sim, m;
  before(async () => { ({ sim, m } = await setup({ simArgs: TYPED })); });
  after(() => teardown(m, sim));

  // Whether user @uid reaches resource @rid through a group, as the API says.
  async function reaches(uid, rid) {
    const d = await gql(sim, `query($u: ID!, $r: ID!) {
      user(id: $u) { groups(first: 100) { edges { node { id } } } }
      resource(id: $r) { access(first: 100) { edges { node { ... on Group { id } } } } } }`,
    { u: uid, r: rid });
    const groups = new Set(d.user.groups.edges.map((e) => e.node.id));
    return d.resource.access.edges.some((e) => groups.has(e.node.id));
  }

  test('lists the requests, with reason, user and resource', async () => {
    const t = await sim.tenant();
    assert.ok(t.accessRequests.length >= 3);
    const tree = expectTree(t);
    const owners = new Set(tree.byKind.accessRequests.map((r) => r.path));
    assert.deepEqual(diffTree(m.dir, tree, { owners, tenant: t }), []);
    const r = t.accessRequests[0];
    const user = t.users.find((u) => u.id === r.userId);
    assert.equal(sh(`readlink access-requests/${q(r.id)}/user`, m.dir),
      `../../users/${user.email ?? user.id}\n`);
    assert.equal(sh(`cat access-requests/${q(r.id)}/decision`, m.dir), '');
  });

  test('echo approve > decision: accessRequestApprove; the request leaves; the user has the access', async () => {
    const t = await sim.tenant();
    const r = t.accessRequests[0];
    assert.equal(await reaches(r.userId, r.resourceId), false, 'precondition: no access yet');
    sh('ls -A access-requests > /dev/null', m.dir);
    const { st } = await cost(sim, () => run(`echo approve > access-requests/${q(r.id)}/decision`, m.dir));
    assertOneMutation(st, 'accessRequestApprove', 'approve');
    const now = await sim.tenant();
    assert.deepEqual(now.accessRequests.map((x) => x.id), t.accessRequests.slice(1).map((x) => x.id));
    assert.ok(now.groups.find((g) => g.id === r.groupId).userIds.includes(r.userId),
      'the user joined the group');
    assert.equal(await reaches(r.userId, r.resourceId), true, 'the user reaches the resource');
    const { st: st2 } = await cost(sim, () => assert.ok(
      !lines(sh('ls -1A access-requests', m.dir)).includes(r.id), 'the request left the folder'));
    assert.equal(st2.requests, 0, 'gone with no request');
    // The group the user joined shows it (read again).
    const g = now.groups.find((x) => x.id === r.groupId);
    const user = now.users.find((u) => u.id === r.userId);
    const gdir = expectTree(now).byKind.groups.find((x) => x.obj.id === g.id).path;
    assert.ok(lines(sh(`ls -1A ${q(`${gdir}/users`)}`, m.dir)).includes(user.email ?? user.id));
  });

  test('echo reject > decision: accessRequestReject; the request leaves, no access given', async () => {
    const t = await sim.tenant();
    const r = t.accessRequests[0];
    const { st } = await cost(sim, () => run(`echo reject > access-requests/${q(r.id)}/decision`, m.dir));
    assertOneMutation(st, 'accessRequestReject', 'reject');
    const now = await sim.tenant();
    assert.ok(!now.accessRequests.some((x) => x.id === r.id));
    assert.deepEqual(now.groups, t.groups, 'no group changed');
    assert.equal(await reaches(r.userId, r.resourceId), false, 'no access');
    assert.ok(!lines(sh('ls -1A access-requests', m.dir)).includes(r.id));
  });

  test('echo maybe > decision: EINVAL, nothing sent', async () => {
    const t = await sim.tenant();
    const r = t.accessRequests[0];
    const { r: out, st } = await cost(sim, () => pyWrite(m.dir, `access-requests/${r.id}/decision`, 'maybe\n'));
    assert.equal(out, 'write EINVAL');
    assertNoMutation(st, 'a bad decision');
    assert.deepEqual((await sim.tenant()).accessRequests, t.accessRequests);
  });
});

describe('find and rsync backups hold the new folders', () => {
  let sim, m, dir;
  before(async () => { ({ sim, m } = await setup({ simArgs: TYPED })); dir = tempDir(); });
  after(async () => { await teardown(m, sim); rmSync(dir, { recursive: true, force: true }); });

  test('find lists, and rsync -a backs up, every file of the tree; restoring it sends nothing', async () => {
    const t = await sim.tenant();
    const tree = expectTree(t);
    const want = [...tree.entries.keys()].filter((p) => /^(serial-numbers|access-requests)\//.test(p)
      || /^resources\/[^/]+\/(type|autolock-days|approval-mode|access-policy)$/.test(p));
    const found = new Set(lines(sh('find . -mindepth 1 | cut -c3-', m.dir)));
    for (const p of want) assert.ok(found.has(p), `find lists ${p}`);
    run(`rsync -a ./ ${q(`${dir}/b/`)}`, m.dir);
    const backed = new Set(lines(sh('find . -mindepth 1 | cut -c3-', `${dir}/b`)));
    for (const p of want) assert.ok(backed.has(p), `the backup holds ${p}`);
    assert.equal(sh(`cat ${q(`${dir}/b/resources/prod-k8s/type`)}`, m.dir), 'kubernetes\n');
    const { st } = await cost(sim, () => run(`rsync -a ${q(`${dir}/b/`)} ./`, m.dir));
    assertNoMutation(st, 'restoring an unchanged backup');
    await assertUnchanged(sim, t, 'the tenant');
  });
});

describe('access edges as folders', () => {
  let sim, m;
  before(async () => { ({ sim, m } = await setup({ simArgs: TYPED })); });
  after(() => teardown(m, sim));

  const R = 'corp wildcard';
  const G = 'Engineering';
  const D = `resources/${R}/access/groups/${G}`;
  // The edge R <- G in the tenant now (undefined: none).
  async function edgeNow() {
    const t = await sim.tenant();
    const r = obj(t, 'resources', R);
    const g = obj(t, 'groups', G);
    return t.access.find((e) => e.resourceId === r.id && e.principalId === g.id);
  }
  // Runs @cmd, asserting it sends exactly one @mutation and nothing else.
  async function one(cmd, mutation = 'resourceAccessAdd') {
    const { st } = await cost(sim, () => run(cmd, m.dir));
    assertOneMutation(st, mutation, cmd);
  }

  test('an edge folder shows its link, its policy link and its settings, as the tenant has them', async () => {
    const t = await sim.tenant();
    const tree = expectTree(t);
    const owners = new Set(tree.byKind.resources.map((r) => r.path));
    assert.deepEqual(diffTree(m.dir, tree, { owners, tenant: t }), []);
    // prod-db <- Ops / SRE is just-in-time (the tenant's own settings).
    const jit = `resources/prod-db/access/groups/Ops ${'\uFF0F'} SRE`;
    assert.deepEqual(sorted(lines(sh(`ls -1A ${q(jit)}`, m.dir))), sorted(['group',
      'security-policy', 'expires-at', 'autolock-days', 'approval-mode', 'access-policy']));
    assert.equal(sh(`cat ${q(`${jit}/approval-mode`)} ${q(`${jit}/access-policy`)}`, m.dir),
      'manual\nmode: access_request\nduration: 28800\n');
  });

  test('mkdir grants (one resourceAccessAdd, no settings)', async () => {
    assert.equal(await edgeNow(), undefined, 'precondition: no such edge');
    sh(`ls -A resources/${q(R)}/access/groups groups security-policies > /dev/null`, m.dir);
    await one(`mkdir ${q(D)}`);
    const e = await edgeNow();
    assert.ok(e, 'the edge is there');
    assert.deepEqual([e.expiresAt, e.securityPolicyId, e.approvalMode, e.accessPolicy,
      e.usageBasedAutolockDurationDays], [null, null, null, null, null]);
    assert.equal(sh(`readlink ${q(`${D}/group`)}`, m.dir), `../../../../../groups/${G}\n`);
  });

  test('each setting written is one resourceAccessAdd carrying it; the others are kept', async () => {
    const steps = [
      ['expires-at', '2031-06-30T00:00:00Z\n', { expiresAt: '2031-06-30T00:00:00.000000+00:00' },
        '2031-06-30T00:00:00.000000Z\n'],
      ['autolock-days', '14\n', { usageBasedAutolockDurationDays: 14 }],
      ['approval-mode', 'automatic\n', { approvalMode: 'AUTOMATIC' }],
      ['access-policy', 'mode: auto_lock\nduration: 86400\n',
        { accessPolicy: { mode: 'AUTO_LOCK', durationSeconds: 86400 } }],
    ];
    for (const [file, value, patch, shows] of steps) {
      const before = await edgeNow();
      const { r, st } = await cost(sim, () => pyWrite(m.dir, `${D}/${file}`, value));
      assert.equal(r, 'ok', `${file}: ${sh('tail -1 .twingatefs/errors', m.dir)}`);
      assertOneMutation(st, 'resourceAccessAdd', file);
      assert.deepEqual(await edgeNow(), { ...before, ...patch }, `${file}: that setting alone`);
      assert.equal(sh(`cat ${q(`${D}/${file}`)}`, m.dir), shows ?? value);
    }
    // The same value again: nothing sent.
    const { st } = await cost(sim, () => pyWrite(m.dir, `${D}/autolock-days`, '14\n'));
    assertNoMutation(st, 'the value it holds');
  });

  test('the edge\'s policy: ln -s sets it, ln -sfn changes it, rm clears it', async () => {
    const t = await sim.tenant();
    const mfa = obj(t, 'securityPolicies', 'Require MFA').id;
    const tdo = obj(t, 'securityPolicies', 'Trusted Devices Only').id;
    await one(`ln -s '../../../../../security-policies/Require MFA' ${q(`${D}/security-policy`)}`);
    assert.equal((await edgeNow()).securityPolicyId, mfa);
    assert.equal(sh(`readlink ${q(`${D}/security-policy`)}`, m.dir),
      '../../../../../security-policies/Require MFA\n');
    await one(`ln -sfn '../../../../../security-policies/Trusted Devices Only' ${q(`${D}/security-policy`)}`);
    assert.equal((await edgeNow()).securityPolicyId, tdo);
    const before = await edgeNow();
    await one(`rm ${q(`${D}/security-policy`)}`);
    assert.deepEqual(await edgeNow(), { ...before, securityPolicyId: null });
    assert.notEqual(shStatus(`ls ${q(`${D}/security-policy`)}`, m.dir).status, 0);
  });

  test('an empty write clears a setting (null)', async () => {
    const before = await edgeNow();
    await sim.resetStats();
    assert.equal(pyWrite(m.dir, `${D}/expires-at`, ''), 'ok');
    // Sent when its last descriptor is released (after close returns).
    await waitFor(async () => (await edgeNow()).expiresAt === null, 10000, 'expires-at cleared');
    const st = await sim.stats();
    assertOneMutation(st, 'resourceAccessAdd', 'clear expires-at');
    assert.deepEqual(await edgeNow(), { ...before, expiresAt: null });
  });

  test('a refused value: EINVAL, nothing sent', async () => {
    const before = await edgeNow();
    const { r, st } = await cost(sim, () => pyWrite(m.dir, `${D}/expires-at`, 'next week\n'));
    assert.equal(r, 'write EINVAL');
    assertNoMutation(st, 'a bad time');
    assert.deepEqual(await edgeNow(), before);
  });

  test('>> to an edge\'s setting (one value): EINVAL, no request at all', async () => {
    const before = await edgeNow();
    const { r, st } = await cost(sim, () => shStatus(`/bin/echo 15 >> ${q(`${D}/autolock-days`)}`, m.dir));
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Invalid argument/);
    assert.equal(st.requests, 0, 'no request at all');
    assert.deepEqual(await edgeNow(), before);
  });

  test('truncate -s 0 of an edge\'s expires-at: one resourceAccessAdd with a null expiry', async () => {
    await one(`echo 2032-01-31T00:00:00Z > ${q(`${D}/expires-at`)}`);
    const before = await edgeNow();
    assert.ok(before.expiresAt, 'precondition: an expiry');
    await sim.resetStats();
    run(`truncate -s 0 ${q(`${D}/expires-at`)}`, m.dir);
    // Sent when its last descriptor is released (after close returns).
    await waitFor(async () => (await edgeNow()).expiresAt === null, 10000, 'expires-at cleared');
    assertOneMutation(await sim.stats(), 'resourceAccessAdd', 'truncate -s 0');
    assert.deepEqual(await edgeNow(), { ...before, expiresAt: null });
    assert.equal(sh(`cat ${q(`${D}/expires-at`)}`, m.dir), '');
  });

  test('mv /tmp/x onto an edge\'s setting (the target removed, then copied): one mutation', async () => {
    const before = await edgeNow();
    const d = tempDir();
    try {
      writeFileSync(join(d, 'x'), '7\n');
      await sim.resetStats();
      run(`mv ${q(join(d, 'x'))} ${q(`${D}/autolock-days`)}`, m.dir);
      await waitFor(async () => (await edgeNow()).usageBasedAutolockDurationDays === 7, 10000, 'autolock-days set');
      assertOneMutation(await sim.stats(), 'resourceAccessAdd', 'mv /tmp/x');
      assert.deepEqual(await edgeNow(), { ...before, usageBasedAutolockDurationDays: 7 });
      assert.equal(sh(`cat ${q(`${D}/autolock-days`)}`, m.dir), '7\n');
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  test('rmdir revokes (one resourceAccessRemove); ln -s grants again, shown as a folder', async () => {
    await one(`rmdir ${q(D)}`, 'resourceAccessRemove');
    assert.equal(await edgeNow(), undefined);
    assert.ok(!lines(sh(`ls -1A resources/${q(R)}/access/groups`, m.dir)).includes(G));
    await one(`ln -s ../../../../groups/${G} resources/${q(R)}/access/groups/`);
    const e = await edgeNow();
    assert.ok(e, 'granted again, a fresh edge');
    assert.equal(e.expiresAt, null);
    assert.ok(sh(`test -d ${q(D)} && echo dir`, m.dir).includes('dir'), 'shown as the edge folder');
  });
});
