// tree2026.test.mjs - the 2026 revision's tree through a real mount
// (DESIGN.md §2 "Resource types", "Access edges", /serial-numbers/,
// /access-requests/; §3): resources of every type listed and read, each
// written through its type's own update mutation; a write the type's
// mutation cannot take fails with EOPNOTSUPP and sends nothing.  Every
// change is checked in the simulator's tenant and in the exact mutations
// sent (/_sim/stats).  The simulator runs with --resource-types.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sh, shStatus, teardown, waitFor } from './lib.mjs';
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
