// write.test.mjs - changing the tenant through a real mount (DESIGN.md §3,
// §4, §5, §9): one field write is one mutation of that field and nothing
// else; mkdir, rmdir and mv of objects create, delete and rename; ln -s and
// rm of relation links add and remove; connector tokens and key secrets are
// shown once, 0600, and leak nowhere; resource drafts become resources when
// their address is written.  Every change is checked in the simulator's
// tenant (what changed, and nothing more) and in its request counts.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { posix } from 'node:path';
import { sh, shStatus, teardown, startWalker } from './lib.mjs';
import { lines, sorted, q, setup, mountAs, obj, pathOf,
         patchLines, assertChanges, assertUnchanged, cost, assertOneMutation,
         assertNoMutation, run, fails, assertNotLeaked, labelOf, checkFieldWrite, together } from './writes.mjs';

const FW = '\uFF0F'; // how '/' shows in a name
const KIND_DIR = { remoteNetworks: 'networks', connectors: 'connectors', resources: 'resources',
  groups: 'groups', users: 'users', devices: 'devices', serviceAccounts: 'service-accounts',
  serviceAccountKeys: 'keys' };

describe('writing a field sends one mutation of that field', () => {
  let sim, m;
  before(async () => { ({ sim, m } = await setup()); });
  after(() => teardown(m, sim));

  // pick: a name (users: email) or (tenant) => object; value: what is
  // echoed; shows: the file afterwards (default value + newline); patch:
  // the tenant fields that must change, and no other.
  const dup = Object.assign((t) => t.remoteNetworks.filter((n) => n.name === 'Duplicate')[0],
    { label: 'Duplicate~<first>' });
  const dev = (i, state, trusted) => Object.assign((t) => {
    const d = t.devices[i];
    assert.deepEqual([d.activeState, d.isTrusted], [state, trusted], 'device precondition');
    return d;
  }, { label: `<device ${i}, ${state.toLowerCase()}>` });
  const CASES = [
    ['remoteNetworks', 'Office / HQ', 'location', 'aws', 'remoteNetworkUpdate', { location: 'AWS' }],
    ['remoteNetworks', 'Zürich Büro', 'location', 'GOOGLE_CLOUD', 'remoteNetworkUpdate',
      { location: 'GOOGLE_CLOUD' }, 'google_cloud\n'],
    ['remoteNetworks', '.hidden-net', 'is-active', 'false', 'remoteNetworkUpdate', { isActive: false }],
    ['remoteNetworks', dup, 'name', 'Duplicate A', 'remoteNetworkUpdate', { name: 'Duplicate A' }],
    ['connectors', 'quiet-heron', 'status-notifications', 'true', 'connectorUpdate',
      { hasStatusNotificationsEnabled: true }],
    ['connectors', 'brisk otter', 'name', 'brisk-otter', 'connectorUpdate', { name: 'brisk-otter' }],
    ['resources', 'prod-db', 'alias', 'db.prod', 'resourceUpdate', { alias: 'db.prod' }],
    ['resources', 'grafana', 'is-visible', 'false', 'resourceUpdate', { isVisible: false }],
    ['resources', 'Web App (staging)', 'browser-shortcut', 'true', 'resourceUpdate',
      { isBrowserShortcutEnabled: true }],
    ['resources', 'VPC subnet', 'routing-mode', 'bypass_twingate', 'resourceUpdate',
      { routingMode: 'BYPASS_TWINGATE' }],
    ['resources', 'Büro-Drucker', 'is-active', 'false', 'resourceUpdate', { isActive: false }],
    ['resources', '東京 ファイルサーバ', 'address', 'fs2.tokyo.internal', 'resourceUpdate',
      { address: { type: 'DNS', value: 'fs2.tokyo.internal' } }],
    ['groups', '東京 チーム', 'name', 'Tokyo Team', 'groupUpdate', { name: 'Tokyo Team' }],
    ['groups', '.contractors', 'is-active', 'true', 'groupUpdate', { isActive: true }],
    ['users', 'ada.lovelace@example.com', 'first-name', 'Augusta', 'userDetailsUpdate',
      { firstName: 'Augusta' }],
    ['users', 'grace.hopper@example.com', 'last-name', 'Murray Hopper', 'userDetailsUpdate',
      { lastName: 'Murray Hopper' }],
    ['users', 'alan.turing@example.com', 'state', 'disabled', 'userDetailsUpdate', { state: 'DISABLED' }],
    ['users', 'linus.torvalds@example.com', 'state', 'active', 'userDetailsUpdate', { state: 'ACTIVE' }],
    ['users', 'yuki.tanaka@example.com', 'role', 'admin', 'userRoleUpdate',
      { role: 'ADMIN', isAdmin: true }],
    ['users', 'margaret.hamilton@example.com', 'role', 'MEMBER', 'userRoleUpdate', { role: 'MEMBER' },
      'member\n'],
    ['devices', dev(1, 'ACTIVE', false), 'trust', 'trusted', 'deviceUpdate', { isTrusted: true }],
    ['devices', dev(0, 'ACTIVE', true), 'trust', 'untrusted', 'deviceUpdate', { isTrusted: false }],
    ['devices', dev(2, 'ACTIVE', false), 'state', 'archived', 'deviceArchive', { activeState: 'ARCHIVED' }],
    ['devices', dev(3, 'ARCHIVED', true), 'state', 'active', 'deviceUnarchive', { activeState: 'ACTIVE' }],
    ['devices', dev(4, 'ACTIVE', false), 'state', 'blocked', 'deviceBlock', { activeState: 'BLOCKED' }],
    ['devices', dev(7, 'BLOCKED', false), 'state', 'active', 'deviceUnblock', { activeState: 'ACTIVE' }],
    ['serviceAccounts', 'Backup Bot', 'name', 'Backup Robot', 'serviceAccountUpdate',
      { name: 'Backup Robot' }],
    ['serviceAccountKeys', 'prometheus', 'name', 'prometheus-2', 'serviceAccountKeyUpdate',
      { name: 'prometheus-2' }],
  ];
  // Multi-line fields, sent at close.
  const MULTI = [
    ['resources', 'Intranet / Wiki', 'protocols', 'icmp: deny\ntcp: 22,443,8000-8080\nudp: deny-all\n',
      'resourceUpdate', { protocols: { allowIcmp: false,
        tcp: { policy: 'RESTRICTED', ports: [{ start: 22, end: 22 }, { start: 443, end: 443 },
          { start: 8000, end: 8080 }] },
        udp: { policy: 'RESTRICTED', ports: [] } } }],
    ['resources', '.dotfile-server', 'tags', 'owner=ops\ntier=2\n', 'resourceUpdate',
      { tags: [{ key: 'owner', value: 'ops' }, { key: 'tier', value: '2' }] }],
  ];

  const fieldWrite = (...args) => checkFieldWrite(sim, m, ...args);

  for (const [coll, pick, file, value, mutation, patch, shows] of CASES) {
    const who = typeof pick === 'string' ? pick : pick.label;
    test(`echo ${value} > ${KIND_DIR[coll]}/${who}/${file} sends one ${mutation}`, () =>
      fieldWrite(coll, pick, file, (f) => `echo ${q(value)} > ${f}`, shows ?? `${value}\n`,
        mutation, patch));
  }
  for (const [coll, pick, file, value, mutation, patch] of MULTI) {
    test(`printf of the ${file} lines to ${pick}/${file} sends one ${mutation} at close`, () =>
      fieldWrite(coll, pick, file, (f) => `printf ${q(value.replace(/\n/g, '\\n'))} > ${f}`,
        value, mutation, patch));
  }

  test('writing the value the tenant already holds sends nothing', async () => {
    const t = await sim.tenant();
    const net = pathOf(t, obj(t, 'remoteNetworks', 'AWS prod'));
    const trusted = t.devices.find((d) => d.isTrusted && d.activeState === 'ACTIVE');
    const d = pathOf(t, trusted);
    sh(`cat ${q(`${net}/is-active`)} ${q(`${net}/location`)} ${q(`${d}/trust`)} ${q(`${d}/state`)}`,
      m.dir);
    const { st } = await cost(sim, () => run(`echo true > ${q(`${net}/is-active`)}
      echo AWS > ${q(`${net}/location`)}; echo aws > ${q(`${net}/location`)}
      echo trusted > ${q(`${d}/trust`)}; echo active > ${q(`${d}/state`)}`, m.dir));
    assertNoMutation(st, 'same values');
    assert.equal(st.requests, 0);
    await assertUnchanged(sim, t);
  });
});

describe('mkdir, rmdir and mv of objects', () => {
  let sim, m, t0;
  before(async () => { ({ sim, m } = await setup()); t0 = await sim.tenant(); });
  after(() => teardown(m, sim));

  // Runs @cmd with the parent folder @warm listed first; asserts @fields
  // (root field -> count) were the only requests, and the changes @diff.
  async function change(cmd, warm, fields, diff) {
    const t = await sim.tenant();
    sh(`ls -A ${q(warm)} > /dev/null`, m.dir);
    const { st } = await cost(sim, () => run(cmd, m.dir));
    assert.equal(st.queries, 0, `${cmd}: no read (fields ${JSON.stringify(st.fields)})`);
    assert.deepEqual(st.fields, fields, `${cmd}: the mutations sent`);
    return assertChanges(sim, t, diff, cmd);
  }
  const ls = (dir) => lines(sh(`ls -1A ${q(dir)}`, m.dir));

  test('mkdir networks/N creates a remote network, shown at once', async () => {
    const now = await change("mkdir 'networks/Berlin office'", 'networks',
      { remoteNetworkCreate: 1 }, ['+remoteNetworks Berlin office']);
    const { st } = await cost(sim, () => {
      assert.ok(ls('networks').includes('Berlin office'));
      assert.equal(sh("cat 'networks/Berlin office/name'", m.dir), 'Berlin office\n');
    });
    assert.equal(st.requests, 0, `the new network is shown from the payload (${JSON.stringify(st.fields)})`);
    assert.equal(obj(now, 'remoteNetworks', 'Berlin office').isActive, true);
  });

  test('rmdir of an empty network deletes it', async () => {
    await change("rmdir 'networks/Berlin office'", 'networks', { remoteNetworkDelete: 1 },
      ['-remoteNetworks Berlin office']);
    assert.ok(!ls('networks').includes('Berlin office'));
  });

  test('rmdir of a network with connectors or resources is ENOTEMPTY and deletes nothing', async () => {
    const t = await sim.tenant();
    for (const n of [`Office ${FW} HQ`, '.hidden-net']) {
      fails(`rmdir ${q(`networks/${n}`)}`, m.dir, /Directory not empty/);
    }
    await assertUnchanged(sim, t);
    assert.ok(ls('networks').includes('.hidden-net'));
  });

  test('mkdir and rmdir of a connector create and delete it', async () => {
    const now = await change("mkdir 'networks/AWS prod/connectors/edge-1'", 'networks/AWS prod/connectors',
      { connectorCreate: 1 }, ['+connectors edge-1']);
    assert.equal(obj(now, 'connectors', 'edge-1').remoteNetworkId,
      obj(t0, 'remoteNetworks', 'AWS prod').id);
    assert.ok(ls('networks/AWS prod/connectors').includes('edge-1'));
    const dupB = pathOf(t0, obj(t0, 'connectors', 'dup-b'));
    await change(`rmdir ${q(dupB)}`, dupB.replace(/\/[^/]+$/, ''), { connectorDelete: 1 },
      ['-connectors dup-b']);
  });

  test('mkdir and rmdir of a group create and delete it, with its access', async () => {
    await change('mkdir groups/Auditors', 'groups', { groupCreate: 1 }, ['+groups Auditors']);
    await change("rmdir 'groups/東京 チーム'", 'groups', { groupDelete: 1 },
      ['-groups 東京 チーム', '-access 東京 ファイルサーバ <- 東京 チーム']);
    assert.deepEqual(ls('groups').filter((g) => g.startsWith('東京')), []);
  });

  test('mkdir and rmdir of a service account create and delete it with its keys', async () => {
    await change('mkdir service-accounts/deploy-bot', 'service-accounts',
      { serviceAccountCreate: 1 }, ['+serviceAccounts deploy-bot']);
    await change("rmdir 'service-accounts/Backup Bot'", 'service-accounts',
      { serviceAccountDelete: 1 },
      ['-serviceAccounts Backup Bot', '-serviceAccountKeys nightly', '-access prod-db <- Backup Bot']);
  });

  test('mkdir users/EMAIL invites a user; rmdir deletes one', async () => {
    const now = await change('mkdir users/new.person@example.com', 'users', { userCreate: 1 },
      ['+users new.person@example.com', 'groups Everyone +user new.person@example.com']);
    assert.equal(obj(now, 'users', 'new.person@example.com').state, 'PENDING');
    assert.equal(sh('cat users/new.person@example.com/state', m.dir), 'pending\n');
    const ken = obj(t0, 'users', 'ken.thompson@example.com');
    const devices = t0.devices.filter((d) => d.userId === ken.id).map((d) => `-devices ${labelOf(d)}`);
    const groups = t0.groups.filter((g) => g.userIds.includes(ken.id))
      .map((g) => `groups ${g.name} -user ken.thompson@example.com`);
    await change('rmdir users/ken.thompson@example.com', 'users', { userDelete: 1 },
      ['-users ken.thompson@example.com', ...devices, ...groups]);
  });

  test('rmdir of an active key revokes then deletes it; of a revoked key only deletes', async () => {
    const keys = 'service-accounts/ci-runner/keys';
    await change(`rmdir ${q(`${keys}/github actions`)}`, keys,
      { serviceAccountKeyRevoke: 1, serviceAccountKeyDelete: 1 }, ['-serviceAccountKeys github actions']);
    await change(`rmdir ${q(`${keys}/old jenkins key`)}`, keys, { serviceAccountKeyDelete: 1 },
      ['-serviceAccountKeys old jenkins key']);
    assert.deepEqual(sorted(ls(keys)), ['gitlab']);
  });

  test('rmdir of a device or a security policy is EPERM and sends nothing', async () => {
    const t = await sim.tenant();
    const { st } = await cost(sim, () => {
      fails(`rmdir ${q(`devices/${t.devices[5].id}`)}`, m.dir, /Operation not permitted/);
      fails("rmdir 'security-policies/Require MFA'", m.dir, /Operation not permitted/);
    });
    assertNoMutation(st, 'rmdir device/policy');
    await assertUnchanged(sim, t);
  });

  const RENAMES = [
    ['a network', 'networks', 'Zürich Büro', 'Zürich Office', 'remoteNetworks', 'remoteNetworkUpdate'],
    ['a connector', `networks/Office ${FW} HQ/connectors`, `hq${FW}rack-1`, `hq${FW}rack-2`,
      'connectors', 'connectorUpdate', 'hq/rack-1', 'hq/rack-2'],
    ['a resource', 'resources', 'grafana', 'grafana-prod', 'resources', 'resourceUpdate'],
    ['a group', 'groups', `Ops ${FW} SRE`, 'SRE', 'groups', 'groupUpdate', 'Ops / SRE'],
    ['a service account', 'service-accounts', 'ci-runner', 'ci', 'serviceAccounts',
      'serviceAccountUpdate'],
    ['a key', `service-accounts/monitoring${FW}agent/keys`, 'prometheus', 'prom',
      'serviceAccountKeys', 'serviceAccountKeyUpdate'],
  ];
  for (const [what, dir, from, to, coll, mutation, oldName = from, newName = to] of RENAMES) {
    test(`mv within its folder renames ${what}`, async () => {
      const t = await sim.tenant();
      const o = obj(t, coll, oldName);
      await change(`mv ${q(`${dir}/${from}`)} ${q(`${dir}/${to}`)}`, dir, { [mutation]: 1 },
        patchLines(coll, o, { name: newName }));
      const names = ls(dir);
      assert.ok(names.includes(to) && !names.includes(from), names.join(', '));
      assert.equal(sh(`cat ${q(`${dir}/${to}/name`)}`, m.dir), `${newName}\n`);
    });
  }
});

describe('relations: ln -s adds, rm (rmdir of an access edge) removes', () => {
  let sim, m;
  before(async () => { ({ sim, m } = await setup()); });
  after(() => teardown(m, sim));

  const CASES = [
    ['ln -s', `../../../users/alan.turing@example.com`, `groups/Ops ${FW} SRE/users/alan.turing@example.com`,
      'groupUpdate', ['groups Ops / SRE +user alan.turing@example.com']],
    ['rm', null, `groups/Ops ${FW} SRE/users/linus.torvalds@example.com`, 'groupUpdate',
      ['groups Ops / SRE -user linus.torvalds@example.com']],
    ['ln -s', `../../../../groups/Ops ${FW} SRE`, `resources/Web App (staging)/access/groups/Ops ${FW} SRE`,
      'resourceAccessAdd', ['+access Web App (staging) <- Ops / SRE']],
    ['rmdir', null, 'resources/prod-db/access/groups/Engineering', 'resourceAccessRemove',
      ['-access prod-db <- Engineering']],
    ['ln -s', '../../../../service-accounts/Backup Bot', 'resources/grafana/access/service-accounts/Backup Bot',
      'resourceAccessAdd', ['+access grafana <- Backup Bot']],
    ['rmdir', null, `resources/VPC subnet/access/service-accounts/monitoring${FW}agent`,
      'resourceAccessRemove', ['-access VPC subnet <- monitoring/agent']],
    ['ln -s', '../../../resources/corp wildcard', 'groups/Engineering/resources/corp wildcard',
      'resourceAccessAdd', ['+access corp wildcard <- Engineering']],
    ['ln -s', '../../../resources/grafana', 'service-accounts/ci-runner/resources/grafana',
      'resourceAccessAdd', ['+access grafana <- ci-runner']],
    ['ln -s', '../../../groups/.contractors', 'security-policies/Trusted Devices Only/groups/.contractors',
      'securityPolicyUpdate', null],
    // The system group cannot be updated (groupUpdate is refused); the
    // policy's own mutation can move it.
    ['ln -s', '../../../groups/Everyone', 'security-policies/Require MFA/groups/Everyone',
      'securityPolicyUpdate', null],
    ['ln -s', '../../security-policies/Trusted Devices Only', 'resources/prod-db/security-policy',
      'resourceUpdate', null],
    ['rm', null, 'resources/corp wildcard/security-policy', 'resourceUpdate',
      ['resources corp wildcard securityPolicyId: null']],
  ];
  for (const [op, target, link, mutation, diff] of CASES) {
    test(`${op} ${link} sends one ${mutation}`, async () => {
      const t = await sim.tenant();
      const policy = (n) => obj(t, 'securityPolicies', n).id;
      const [, pname, , gname] = link.split('/');
      const want = diff ?? (link.startsWith('security-policies')
        ? [`groups ${gname} securityPolicyId: "${policy(pname)}"`]
        : [`resources prod-db securityPolicyId: "${policy('Trusted Devices Only')}"`]);
      const dir = link.replace(/\/[^/]+$/, '');
      // Warm: the folder of the link, and the folder of what it points
      // to (the new link's target name is read back from that list).
      const to = target ? posix.dirname(posix.join(dir, target)) : dir;
      sh(`ls -A ${q(dir)} ${q(to)} > /dev/null`, m.dir);
      const cmd = op === 'ln -s' ? `ln -s ${q(target)} ${q(link)}` : `${op} ${q(link)}`;
      const { st } = await cost(sim, () => run(cmd, m.dir));
      assertOneMutation(st, mutation, cmd);
      await assertChanges(sim, t, want, cmd);
      // An access edge is a folder holding the link (DESIGN.md §2).
      const edge = /\/access\//.test(link);
      const { st: st2 } = await cost(sim, () => {
        if (op !== 'ln -s') {
          assert.notEqual(shStatus(`ls -d ${q(link)}`, m.dir).status, 0, 'it is gone');
        } else if (edge) {
          const inner = `${link}/${link.includes('/groups/') ? 'group' : 'service-account'}`;
          assert.equal(sh(`readlink ${q(inner)}`, m.dir), `../${target}\n`, 'the edge is there');
        } else {
          assert.equal(sh(`readlink ${q(link)}`, m.dir), `${target}\n`, 'the link is there');
        }
      });
      assert.equal(st2.requests, 0, `shown at once (${JSON.stringify(st2.fields)})`);
    });
  }

  test('ln -sfn replaces a resource\'s security policy, leaving no stray entry', async () => {
    const t = await sim.tenant();
    const dir = 'resources/Büro-Drucker';
    const before = sh(`ls -A ${q(dir)}`, m.dir);
    const { st } = await cost(sim, () =>
      run(`ln -sfn '../../security-policies/Require MFA' ${q(`${dir}/security-policy`)}`, m.dir));
    assert.ok(st.mutations >= 1 && st.mutations <= 2, `1 (at most 2) mutations, got ${st.mutations}`);
    assert.ok(st.fields.resourceUpdate >= 1, JSON.stringify(st.fields));
    await assertChanges(sim, t, [`resources Büro-Drucker securityPolicyId: "${
      obj(t, 'securityPolicies', 'Require MFA').id}"`]);
    assert.equal(sh(`readlink ${q(`${dir}/security-policy`)}`, m.dir),
      '../../security-policies/Require MFA\n');
    assert.equal(sh(`ls -A ${q(dir)}`, m.dir), before, 'no temporary link left');
  });

  // A removal of a link by a process that listed the object's folder (a
  // recursive remover: find -delete, rm -r, rsync --delete) is held a
  // moment and sent with the others of that object, one mutation per call
  // needed (fs/holds.h); a plain rm lists nothing and is sent at once.
  const TOKYO = 'groups/東京 チーム/users';
  const MEMBERS = ['margaret.hamilton@example.com', 'ada.lovelace@example.com'];
  const until = async (get, ok) => {
    const end = Date.now() + 5000;
    let v = await get();
    while (!ok(v) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 50));
      v = await get();
    }
    return v;
  };

  test('rm of one member link (no listing): one groupUpdate, sent before rm returns', async () => {
    run(`ln -s ../../../users/${MEMBERS[0]} ${q(`${TOKYO}/`)}`, m.dir);
    const t = await sim.tenant();
    const { st } = await cost(sim, () => run(`rm ${q(`${TOKYO}/${MEMBERS[0]}`)}`, m.dir));
    assertOneMutation(st, 'groupUpdate', 'rm');
    await assertChanges(sim, t, [`groups 東京 チーム -user ${MEMBERS[0]}`]);
  });

  test('find groups/G/users -type l -delete of two members: one groupUpdate with both', async () => {
    run(`ln -s ${MEMBERS.map((u) => `../../../users/${u}`).join(' ')} ${q(`${TOKYO}/`)}`, m.dir);
    const t = await sim.tenant();
    const { st } = await cost(sim, () =>
      run(`find ${q(TOKYO)} -type l \\( -name 'margaret*' -o -name 'ada*' \\) -delete`, m.dir));
    // Sent when find ended (the store's thread sees it), at most 2 s on.
    const fields = await until(async () => (await sim.stats()).fields, (f) => f.groupUpdate >= 1);
    const after = await sim.stats();
    assert.equal(after.mutations, 1, `one mutation (${JSON.stringify(after.fields)}; at find's end: ${JSON.stringify(st.fields)})`);
    assert.equal(fields.groupUpdate, 1);
    await assertChanges(sim, t, MEMBERS.map((u) => `groups 東京 チーム -user ${u}`));
    assert.deepEqual(lines(sh(`ls ${q(TOKYO)}`, m.dir)), ['yuki.tanaka@example.com']);
  });

  // A remover that lists the group, removes a member and then makes no
  // request for a while: the 2 s bound sends it while it still runs; when
  // that send fails, its next request (elsewhere) fails with EIO.
  const WALKER = [
    'import errno, os, sys, time',
    'g, u = sys.argv[1], sys.argv[2]',
    'os.listdir(g)',
    'os.unlink(os.path.join(g, "users", u))',
    'time.sleep(3.5)',
    'try:',
    '    os.listdir("networks")',
    'except OSError as e:',
    '    sys.exit(errno.errorcode[e.errno])',
  ].join('\n');
  const walker = (u) => together([`python3 -c ${q(WALKER)} ${q('groups/東京 チーム')} ${q(u)}`], m.dir);

  test('a held removal is sent within 2 s while its remover still runs, which then exits 0', async () => {
    run(`ln -s ../../../users/${MEMBERS[0]} ${q(`${TOKYO}/`)}`, m.dir);
    const t = await sim.tenant();
    await sim.resetStats();
    let done = false;
    const w = walker(MEMBERS[0]).then((r) => { done = true; return r; });
    const fields = await until(async () => (await sim.stats()).fields, (f) => f.groupUpdate >= 1);
    assert.equal(fields.groupUpdate, 1, 'sent');
    assert.equal(done, false, 'while the remover sleeps');
    const [r] = await w;
    assert.equal(r.status, 0, r.stderr);
    assert.equal((await sim.stats()).mutations, 1);
    await assertChanges(sim, t, [`groups 東京 チーム -user ${MEMBERS[0]}`]);
  });

  test('a held removal whose send fails: the link comes back, a line in errors, the remover\'s next request is EIO', async () => {
    run(`ln -s ../../../users/${MEMBERS[0]} ${q(`${TOKYO}/`)}`, m.dir);
    const t = await sim.tenant();
    assert.equal(await sim.post('/_sim/faults', [{ match: 'groupUpdate', status: 500, count: 50 }]), 200);
    let r;
    try {
      [r] = await walker(MEMBERS[0]);
    } finally {
      await sim.post('/_sim/faults', []);
    }
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /EIO/);
    await assertUnchanged(sim, t, 'the member stays');
    assert.match(sh(`ls ${q(TOKYO)}`, m.dir), new RegExp(MEMBERS[0].replace(/\./g, '\\.')), 'the link is back');
    assert.match(sh('cat .twingatefs/errors', m.dir), /\/groups\/東京 チーム\/users: /);
    run(`rm ${q(`${TOKYO}/${MEMBERS[0]}`)}`, m.dir);
  });

  test('find -delete in a synced group: refused at each unlink, nothing held, nothing changed', async () => {
    const t = await sim.tenant();
    const dir = 'groups/Okta Admins/users';
    const before = sh(`ls ${q(dir)}`, m.dir);
    const r = shStatus(`find ${q(dir)} -type l -delete`, m.dir);
    assert.notEqual(r.status, 0, 'find fails');
    assert.match(r.stderr, /Operation not permitted|Permission denied/);
    await assertUnchanged(sim, t);
    assert.equal(sh(`ls ${q(dir)}`, m.dir), before, 'the members are shown');
  });

  // Identity is the object (fs/holds.h): a held removal is kept by its
  // group's id, not its path, so a rename of the group while it is held
  // (its name file, by the remover; mv, by another process) changes
  // nothing: the removal goes to that group, once, and the rmdir of the
  // group under its new name still drops it.  The remover is one process
  // (walker.mjs) that lists the group's users and removes one.
  const HELD = 'Held Team';
  const MUTS = (st) => Object.fromEntries(Object.entries(st.fields)
    .filter(([k]) => /(Create|Update|Delete|Add|Remove)$/.test(k)));
  async function heldRemoval() {
    run(`mkdir ${q(`groups/${HELD}`)} && ln -s ${MEMBERS.map((u) => `../../../users/${u}`).join(' ')} ${q(`groups/${HELD}/users/`)}`, m.dir);
    const t = await sim.tenant();
    assert.equal(obj(t, 'groups', HELD).userIds.length, 2, 'two members');
    await sim.resetStats();
    const p = startWalker(m);
    assert.deepEqual((await p.ask({ op: 'ls', path: `groups/${HELD}/users` })).names, sorted(MEMBERS));
    const t0 = Date.now();
    assert.deepEqual(await p.ask({ op: 'unlink', path: `groups/${HELD}/users/${MEMBERS[0]}` }), {});
    // Held (the bound is 2 s): nothing sent, the link gone.
    if (Date.now() - t0 < 1500) assert.deepEqual(MUTS(await sim.stats()), {}, 'held');
    assert.deepEqual((await p.ask({ op: 'ls', path: `groups/${HELD}/users` })).names, [MEMBERS[1]]);
    return { t, p };
  }
  // A request of the remover elsewhere: a name looked up for the first
  // time, so it reaches the daemon (the kernel has no answer cached).
  const elsewhere = (p) => p.ask({ op: 'stat', path: `networks/.remover-${Date.now()}` });
  const REMOVED = `groups ${HELD} -user ${MEMBERS[0]}`;

  test('a held removal whose group the remover renames through its name file: sent once, to that group, when it moves on', async () => {
    const { t, p } = await heldRemoval();
    try {
      assert.deepEqual(await p.ask({ op: 'write', path: `groups/${HELD}/name`, data: 'Held Renamed\n' }), {});
      assert.deepEqual((await elsewhere(p)).err, 'ENOENT');
      const st = await sim.stats();
      assert.deepEqual(MUTS(st), { groupUpdate: 2 }, 'the rename and the removal');
      assert.equal(st.mutations, 2);
      await assertChanges(sim, t, [REMOVED, `groups ${HELD} name: "Held Renamed"`]);
      assert.deepEqual(lines(sh("ls 'groups/Held Renamed/users'", m.dir)), [MEMBERS[1]]);
    } finally {
      await p.stop();
    }
    assert.equal((await sim.stats()).mutations, 2, 'nothing more at its end');
    run("rmdir 'groups/Held Renamed'", m.dir);
  });

  test('a held removal whose group another process renames with mv: sent once, to that group, before the rename', async () => {
    const { t, p } = await heldRemoval();
    try {
      run(`mv ${q(`groups/${HELD}`)} 'groups/Held Moved'`, m.dir);
      const st = await sim.stats();
      assert.deepEqual(MUTS(st), { groupUpdate: 2 }, 'the removal and the rename');
      await assertChanges(sim, t, [REMOVED, `groups ${HELD} name: "Held Moved"`]);
      // The remover moves on: nothing is held any more.
      assert.deepEqual((await elsewhere(p)).err, 'ENOENT');
      assert.equal((await sim.stats()).mutations, 2, 'sent once');
    } finally {
      await p.stop();
    }
    assert.deepEqual(lines(sh("ls 'groups/Held Moved/users'", m.dir)), [MEMBERS[1]]);
    run("rmdir 'groups/Held Moved'", m.dir);
  });

  test('a remover that renames the group through its name file, then removes it: the rename and the delete alone', async () => {
    const { t, p } = await heldRemoval();
    try {
      assert.deepEqual(await p.ask({ op: 'write', path: `groups/${HELD}/name`, data: 'Held Gone\n' }), {});
      assert.deepEqual(await p.ask({ op: 'rmdir', path: 'groups/Held Gone' }), {});
      assert.deepEqual((await elsewhere(p)).err, 'ENOENT');
    } finally {
      await p.stop();
    }
    const st = await sim.stats();
    assert.deepEqual(MUTS(st), { groupUpdate: 1, groupDelete: 1 }, 'no removal sent');
    assert.equal(st.mutations, 2);
    await assertChanges(sim, t, [`-groups ${HELD}`]);
  });
});

describe('secrets: connector tokens and service key tokens', () => {
  let sim, m, other;
  before(async () => { ({ sim, m } = await setup({ token: 'sim-provision' })); });
  after(() => teardown(m, other, sim));
  const TOKENS = /^TWINGATE_ACCESS_TOKEN=(\S+)\nTWINGATE_REFRESH_TOKEN=(\S+)\n$/;

  test('mkdir of a connector then echo > tokens: two mutations, no read (§9)', async () => {
    const dir = 'networks/AWS prod/connectors';
    sh(`ls -A ${q(dir)} > /dev/null`, m.dir);
    const t = await sim.tenant();
    const { st } = await cost(sim, () =>
      run(`mkdir ${q(`${dir}/edge-2`)} && echo > ${q(`${dir}/edge-2/tokens`)}`, m.dir));
    assert.deepEqual(st.fields, { connectorCreate: 1, connectorGenerateTokens: 1 });
    assert.equal(st.requests, 2);
    await assertChanges(sim, t, ['+connectors edge-2']);
    const { st: st2 } = await cost(sim, () => {
      const got = sh(`cat ${q(`${dir}/edge-2/tokens`)}`, m.dir);
      const [, access, refresh] = got.match(TOKENS) ?? assert.fail(`tokens file: ${JSON.stringify(got)}`);
      assert.equal(sh(`stat -c %a ${q(`${dir}/edge-2/tokens`)}`, m.dir), '600\n');
      assertNotLeaked(m, access, 'the access token');
      assertNotLeaked(m, refresh, 'the refresh token');
    });
    assert.equal(st2.mutations, 0, 'reading tokens never generates');
  });

  test('touch tokens generates new tokens; reading before shows nothing', async () => {
    const f = 'networks/AWS prod/connectors/brisk otter/tokens';
    const { st } = await cost(sim, () => assert.equal(sh(`cat ${q(f)}`, m.dir), ''));
    assertNoMutation(st, 'cat tokens');
    const { st: st2 } = await cost(sim, () => run(`touch ${q(f)}`, m.dir));
    assertOneMutation(st2, 'connectorGenerateTokens', 'touch tokens');
    const first = sh(`cat ${q(f)}`, m.dir);
    assert.match(first, TOKENS);
    run(`echo > ${q(f)}`, m.dir);
    const second = sh(`cat ${q(f)}`, m.dir);
    assert.match(second, TOKENS);
    assert.notEqual(second, first, 'a new pair replaces the old');
  });

  test('mkdir keys/K creates a key whose token is shown once, 0600, on this mount only', async () => {
    const dir = 'service-accounts/ci-runner/keys';
    sh(`ls -A ${q(dir)} > /dev/null`, m.dir);
    const t = await sim.tenant();
    const { st } = await cost(sim, () => run(`mkdir ${q(`${dir}/deploy`)}`, m.dir));
    assertOneMutation(st, 'serviceAccountKeyCreate', 'mkdir key');
    const now = await assertChanges(sim, t, ['+serviceAccountKeys deploy']);
    const key = obj(now, 'serviceAccountKeys', 'deploy');
    assert.deepEqual([key.status, key.expiresAt], ['ACTIVE', null], 'expirationTime 0: never expires');
    const secret = sh(`cat ${q(`${dir}/deploy/token`)}`, m.dir);
    assert.match(secret, /^\S{16,}\n$/, 'one line: the secret');
    assert.equal(sh(`stat -c %a ${q(`${dir}/deploy/token`)}`, m.dir), '600\n');
    assertNotLeaked(m, secret.trim(), 'the key secret');
    other = await mountAs(sim, 'sim-read');
    assert.equal(sh(`cat ${q(`${dir}/deploy/token`)}`, other.dir), '', 'another mount: empty');
  });
});

describe('resource drafts (§4)', () => {
  let sim, m;
  before(async () => { ({ sim, m } = await setup()); });
  after(() => teardown(m, sim));
  const ls = (dir) => lines(sh(`ls -1A ${q(dir)}`, m.dir));

  test('mkdir resources/R makes a local draft; ln -s network; echo address creates it', async () => {
    const t = await sim.tenant();
    const { st } = await cost(sim, () => {
      run('mkdir resources/new-db', m.dir);
      const files = ls('resources/new-db');
      for (const f of ['.draft', 'name', 'address']) assert.ok(files.includes(f), `${f} in ${files}`);
      assert.match(sh('cat resources/new-db/.draft', m.dir), /missing: address network\n$/);
      assert.ok(ls('resources').includes('new-db'), 'the draft is listed');
      run("ln -s '../../networks/AWS prod' resources/new-db/network", m.dir);
    });
    assertNoMutation(st, 'mkdir and ln -s of a draft');
    assert.match(sh('cat resources/new-db/.draft', m.dir), /missing: address\n$/);
    await assertUnchanged(sim, t, 'a draft');
    const { st: st2 } = await cost(sim, () => run('echo 10.0.0.5 > resources/new-db/address', m.dir));
    assertOneMutation(st2, 'resourceCreate', 'the address of a draft');
    const now = await assertChanges(sim, t, ['+resources new-db']);
    const r = obj(now, 'resources', 'new-db');
    assert.deepEqual(r.address, { type: 'IP', value: '10.0.0.5' });
    assert.equal(r.remoteNetworkId, obj(t, 'remoteNetworks', 'AWS prod').id);
    assert.ok(!ls('resources/new-db').includes('.draft'), 'no longer a draft');
    assert.equal(sh('cat resources/new-db/address', m.dir), '10.0.0.5\n');
    assert.ok(ls('networks/AWS prod/resources').includes('new-db'));
  });

  test('mkdir networks/N/resources/R makes a draft tied to N', async () => {
    const t = await sim.tenant();
    const dir = `networks/Office ${FW} HQ/resources/printer`;
    run(`mkdir ${q(dir)}`, m.dir);
    assert.ok(ls(dir).includes('.draft'));
    const { st } = await cost(sim, () => run(`echo printer.hq.internal > ${q(`${dir}/address`)}`, m.dir));
    assertOneMutation(st, 'resourceCreate', 'the address of a draft');
    const now = await assertChanges(sim, t, ['+resources printer']);
    assert.equal(obj(now, 'resources', 'printer').remoteNetworkId, obj(t, 'remoteNetworks', 'Office / HQ').id);
    assert.equal(sh('cat resources/printer/address', m.dir), 'printer.hq.internal\n');
  });

  test('a refused create fails the write with EINVAL and the draft stays', async () => {
    const t = await sim.tenant();
    run("mkdir resources/bad-one && ln -s '../../networks/AWS prod' resources/bad-one/network", m.dir);
    fails('echo 999.1.2.3/77 > resources/bad-one/address', m.dir, /Invalid argument/);
    await assertUnchanged(sim, t, 'a refused draft');
    assert.ok(ls('resources/bad-one').includes('.draft'), 'still a draft');
    const { st } = await cost(sim, () => run('echo ok.internal > resources/bad-one/address', m.dir));
    assertOneMutation(st, 'resourceCreate', 'second try');
    await assertChanges(sim, t, ['+resources bad-one']);
  });

  test('drafts vanish at unmount and never reach the tenant', async () => {
    const t = await sim.tenant();
    run('mkdir resources/left-behind', m.dir);
    await m.unmount();
    m = await mountAs(sim, 'sim-write');
    assert.ok(!ls('resources').includes('left-behind'));
    await assertUnchanged(sim, t);
  });
});
