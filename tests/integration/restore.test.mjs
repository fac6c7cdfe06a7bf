// restore.test.mjs - restoring a backup made with rsync -a (issue 20, item
// 1; DESIGN.md §3, "Rewrites and restores"): `rsync -a backup/ MNT/` sends
// exactly the mutations the edits in the backup need, and run again sends
// none; object.json (its updatedAt is its version) and field files put in
// place with an older version's mtime never undo a change made since; an
// object renamed since is found by its id and renamed back, never created
// twice, the links rsync makes before its id arrives changing nothing (a
// nested one too: a key, a connector; and a service account with its
// keys); one deleted since is created anew, not its keys; one made since is left alone without
// --delete and deleted with it, with its one delete alone (the member links rsync removes
// first are held, then dropped: fs/holds.h); a group that gained a member since loses it
// with one groupUpdate, and when that send fails rsync exits non-zero.  tar x of an archive of the mount into it
// sends only what differs; cp -r of an object clones it (issue 20, item 8).
// Each case checks the tenant through the simulator and the mutations sent.
import { test, describe, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sh, shStatus, tempDir, rmSync, teardown } from './lib.mjs';
import { q, setup, cost, assertChanges, assertUnchanged, obj, run, tenantDiff, labelOf } from './writes.mjs';

// Secrets are not backed up (examples/nightly-backup.sh does the same).
const X = '--exclude=tokens --exclude=token';
const MUTATIONS = (st) => Object.fromEntries(Object.entries(st.fields)
  .filter(([k]) => /(Create|Update|Delete|Add|Remove|Revoke|Archive|Unarchive|Block|Unblock|Tokens)$/.test(k)));

// Polls @get until @ok(value) holds (5 s at most); the last value.
async function until(get, ok) {
  const end = Date.now() + 5000;
  let v = await get();
  while (!ok(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    v = await get();
  }
  return v;
}

// The helpers of the restore tests, over the mount and the simulator
// ctx() gives now (each describe sets them up its own way): a backup made
// with rsync -a (its folder kept in @dirs for the clean-up), a restore
// with what it sent, rsync's silence, a JSON file of the backup edited, a
// GraphQL read, and a refresh.
function kit(ctx, dirs) {
  const backup = () => {
    const b = tempDir();
    dirs.push(b);
    run(`rsync -a ${X} ${q(`${ctx().m.dir}/`)} ${q(`${b}/`)}`);
    return b;
  };
  // One restore: { r: {status, stderr}, st, sent: {mutation: count} }.
  const restore = async (b, opts = '') => {
    const { r, st } = await cost(ctx().sim, () =>
      shStatus(`rsync -a ${opts} ${X} ${q(`${b}/`)} ${q(`${ctx().m.dir}/`)}`));
    return { r, st, sent: MUTATIONS(st) };
  };
  const ok = (res, what) => {
    assert.equal(res.r.stderr, '', `${what}: rsync says nothing`);
    assert.equal(res.r.status, 0, `${what}: rsync exits 0`);
  };
  // Edits a JSON file of the backup with @fn, as jq or an editor would.
  const editJson = (b, path, fn) => {
    const f = join(b, path);
    writeFileSync(f, `${JSON.stringify(fn(JSON.parse(readFileSync(f, 'utf8'))), null, 2)}\n`);
  };
  const gql = async (query) => {
    const r = await ctx().sim.gql(query);
    assert.ok(!r.body.errors, JSON.stringify(r.body));
    return r.body.data;
  };
  const refresh = () => sh('echo 1 > .twingatefs/refresh', ctx().m.dir);
  return { backup, restore, ok, editJson, gql, refresh };
}

describe('rsync -a backup/ MNT/: restore', () => {
  let sim, m;
  const dirs = [];
  before(async () => { ({ sim, m } = await setup()); });
  after(async () => {
    await teardown(m, sim);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const { backup, restore, ok, editJson, gql, refresh } = kit(() => ({ sim, m }), dirs);

  test('an unchanged backup restores with no mutation, exit 0', async () => {
    const b = backup();
    const t = await sim.tenant();
    const res = await restore(b);
    ok(res, 'unchanged');
    assert.deepEqual(res.sent, {});
    await assertUnchanged(sim, t);
  });

  test('field files edited in the backup: exactly their mutations; again: none', async () => {
    const b = backup();
    const t = await sim.tenant();
    const dev = t.devices.find((d) => d.isTrusted && d.activeState === 'ACTIVE');
    writeFileSync(join(b, `devices/${dev.id}/trust`), 'untrusted\n');
    writeFileSync(join(b, 'networks/Zürich Büro/is-active'), 'false\n');
    const res = await restore(b);
    ok(res, 'first restore');
    assert.deepEqual(res.sent, { deviceUpdate: 1, remoteNetworkUpdate: 1 });
    const t2 = await assertChanges(sim, t, [`devices ${labelOf(dev)} isTrusted: false`,
      'remoteNetworks Zürich Büro isActive: false']);
    // The backup's object.json still says trusted / active: it must not
    // put them back, and the stale files of the same objects change nothing.
    for (let i = 0; i < 2; i++) {
      const again = await restore(b);
      ok(again, `restore again (${i + 1})`);
      assert.deepEqual(again.sent, {}, 'nothing sent again');
      await assertUnchanged(sim, t2, 'the tenant after the same restore again');
    }
  });

  test('object.json edited in the backup: its change alone; again: none', async () => {
    const b = backup();
    const t = await sim.tenant();
    editJson(b, 'groups/Ops ／ SRE/object.json', (j) => ({ ...j, isActive: false }));
    const res = await restore(b);
    ok(res, 'first restore');
    assert.deepEqual(res.sent, { groupUpdate: 1 });
    const t2 = await assertChanges(sim, t, ['groups Ops / SRE isActive: false']);
    // The backup's is-active file (older, true) must not undo it.
    const again = await restore(b);
    ok(again, 'again');
    assert.deepEqual(again.sent, {});
    await assertUnchanged(sim, t2);
  });

  test('both edited in the backup (a field file and object.json): each once; again: none', async () => {
    const b = backup();
    const t = await sim.tenant();
    const net = 'networks/Office ／ HQ';
    writeFileSync(join(b, `${net}/location`), 'google_cloud\n');
    editJson(b, `${net}/object.json`, (j) => ({ ...j, isActive: false }));
    const res = await restore(b);
    ok(res, 'first restore');
    // location is written before object.json (name order): two updates;
    // object.json's older location is not sent back.
    assert.deepEqual(res.sent, { remoteNetworkUpdate: 2 });
    const t2 = await assertChanges(sim, t, ['remoteNetworks Office / HQ location: "GOOGLE_CLOUD"',
      'remoteNetworks Office / HQ isActive: false']);
    const again = await restore(b);
    ok(again, 'again');
    assert.deepEqual(again.sent, {});
    await assertUnchanged(sim, t2);
  });

  test('an object made since the backup: left alone by rsync -a', async () => {
    const b = backup();
    run('mkdir groups/Later', m.dir);
    const t = await sim.tenant();
    const res = await restore(b);
    ok(res, 'restore');
    assert.deepEqual(res.sent, {});
    await assertUnchanged(sim, t);
    assert.ok(readdirSync(m.path('groups')).includes('Later'));
  });
  test('an edit of an older object.json that conflicts with a change since: EAGAIN, nothing sent', async () => {
    const b = backup();
    const n = obj(await sim.tenant(), 'remoteNetworks', 'AWS prod');
    await gql(`mutation { remoteNetworkUpdate(id: "${n.id}", location: OTHER) { ok } }`);
    refresh();
    const t1 = await sim.tenant();
    // The backup's object.json (older: location AWS) sets AZURE: the
    // location was changed since, to another value.
    editJson(b, 'networks/AWS prod/object.json', (j) => ({ ...j, location: 'AZURE' }));
    const text = readFileSync(join(b, 'networks/AWS prod/object.json'), 'utf8');
    const py = `import sys\ntry:\n f=open(sys.argv[1],'w'); f.write(sys.argv[2]); f.close(); print('ok')\nexcept OSError as e:\n print(e.strerror)`;
    const { r, st } = await cost(sim, () =>
      sh(`python3 -c ${q(py)} ${q('networks/AWS prod/object.json')} ${q(text)}`, m.dir));
    assert.equal(r.trim(), 'Resource temporarily unavailable');
    assert.deepEqual(MUTATIONS(st), {});
    await assertUnchanged(sim, t1);
    const line = sh('cat .twingatefs/errors', m.dir).trim().split('\n').pop();
    assert.match(line, /object\.json: Resource temporarily unavailable: object\.json of updatedAt \S+ changes location, which was changed since/);
  });

});

// Objects changed elsewhere, renamed or deleted since: a mount each, as
// the kernel keeps the names and sizes it saw for a while.
describe('rsync -a backup/ MNT/: objects changed, renamed or deleted since', () => {
  let sim, m;
  const dirs = [];
  beforeEach(async () => { ({ sim, m } = await setup()); });
  afterEach(async () => {
    await teardown(m, sim);
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const { backup, restore, ok, editJson, gql, refresh } = kit(() => ({ sim, m }), dirs);

  test('the tenant changed by someone else after the backup: the restore keeps the change; a key renamed is renamed back', async () => {
    const b = backup();
    const t = await sim.tenant();
    const ci = obj(t, 'serviceAccounts', 'ci-runner');
    const g = obj(t, 'groups', 'Engineering');
    // Someone else: a key renamed, a group deactivated.
    const key = t.serviceAccountKeys.find((k) => k.serviceAccountId === ci.id && k.name === 'gitlab');
    await gql(`mutation { serviceAccountKeyUpdate(id: "${key.id}", name: "gitlab-2") { ok } }`);
    await gql(`mutation { groupUpdate(id: "${g.id}", isActive: false) { ok } }`);
    refresh();
    let t1 = await sim.tenant();
    // object.json written alone (the backup's, an older version): nothing
    // is sent and nothing undone.
    const { st } = await cost(sim, () =>
      run(`cat ${q(join(b, 'groups/Engineering/object.json'))} > groups/Engineering/object.json`, m.dir));
    assert.deepEqual(MUTATIONS(st), {});
    await assertUnchanged(sim, t1, 'after writing the older object.json');
    // The whole restore: the backup's files of these objects are copies of
    // the version it was taken from (their mtime says which): they send
    // nothing, the changes made since stay.  But the key's folder under
    // its old name is a restore folder (a nested kind's too): its id finds
    // the key, which is renamed back, as any object renamed since.
    const res = await restore(b);
    ok(res, 'restore');
    assert.deepEqual(res.sent, { serviceAccountKeyUpdate: 1 });
    t1 = await assertChanges(sim, t1, ['serviceAccountKeys gitlab-2 name: "gitlab"'], 'after the restore');
    assert.deepEqual(readdirSync(m.path('service-accounts/ci-runner/keys')).sort(),
      readdirSync(join(b, 'service-accounts/ci-runner/keys')).sort());
    // To put a value back, mark it edited in the backup (a new mtime).
    run(`touch ${q(join(b, 'groups/Engineering/is-active'))}`);
    const res2 = await restore(b);
    ok(res2, 'restore of the touched file');
    assert.deepEqual(res2.sent, { groupUpdate: 1 });
    const t2 = await assertChanges(sim, t1, ['groups Engineering isActive: true']);
    const again = await restore(b);
    ok(again, 'again');
    assert.deepEqual(again.sent, {});
    await assertUnchanged(sim, t2);
  });

  test('an object renamed since the backup is found by its id and renamed back, never created', async () => {
    const b = backup();
    run("mv 'groups/東京 チーム' groups/Tokyo", m.dir);
    const t = await sim.tenant();
    const res = await restore(b);
    assert.deepEqual(res.sent, { groupUpdate: 1 }, 'one rename, no groupCreate');
    await assertChanges(sim, t, ['groups Tokyo name: "東京 チーム"']);
    assert.equal(sh(`cat ${q('groups/東京 チーム/id')}`, m.dir),
      readFileSync(join(b, 'groups/東京 チーム/id'), 'utf8'));
    assert.ok(!readdirSync(m.path('groups')).includes('Tokyo'));
  });

  // The access edges to the group (resources/R/access/groups/Engineering/,
  // folders) sort after groups/ but rsync's generator makes folders while
  // its receiver still copies groups/Engineering/id: the name is a
  // restore folder's then, so each edge's mkdir is held (shown at once, in
  // memory), as the links in the folder itself are, until its id says
  // which group it is; the group has those edges already: nothing sent.
  test('renamed since: renamed back by its id, its edges held meanwhile: exit 0; again: nothing', async () => {
    const b = backup();
    run('mv groups/Engineering groups/Eng', m.dir);
    const t = await sim.tenant();
    const g = obj(t, 'groups', 'Eng');
    const inbound = t.access.filter((e) => e.principalId === g.id)
      .map((e) => t.resources.find((x) => x.id === e.resourceId).name).sort();
    assert.ok(inbound.length > 0, 'the group has access to resources');
    const errors = sh('cat .twingatefs/errors', m.dir);
    const res = await restore(b);
    ok(res, 'first restore');
    assert.deepEqual(res.sent, { groupUpdate: 1 }, 'one rename: no create, no edge or link sent again');
    const t2 = await assertChanges(sim, t, ['groups Eng name: "Engineering"']);
    assert.ok(!readdirSync(m.path('groups')).includes('Eng'));
    assert.equal(sh('cat .twingatefs/errors', m.dir), errors, 'no error');
    // No held link or edge is left over: the folders show the group's own.
    assert.deepEqual(readdirSync(m.path('groups/Engineering/users')).sort(),
      readdirSync(join(b, 'groups/Engineering/users')).sort());
    for (const r of inbound) {
      assert.equal(sh(`readlink ${q(`resources/${r}/access/groups/Engineering/group`)}`, m.dir),
        '../../../../../groups/Engineering\n');
      assert.deepEqual(readdirSync(m.path(`resources/${r}/access/groups/Engineering`)).sort(),
        readdirSync(join(b, `resources/${r}/access/groups/Engineering`)).sort());
    }
    const again = await restore(b);
    ok(again, 'again');
    assert.deepEqual(again.sent, {});
    await assertUnchanged(sim, t2);
  });

  // The same by hand: an edge made to a restore folder (mode 0700) is held
  // until the folder is an object; if the folder goes, the edge goes with
  // it, unsent, with a line in errors; if it is created anew, the edge is
  // granted then (one resourceAccessAdd).
  test('an access edge to a restore folder: held, made with it or dropped with it', async () => {
    const t = await sim.tenant();
    const R = 'resources/prod-db/access/groups';
    let { st } = await cost(sim, () => run(`mkdir -m 700 groups/Ghost && mkdir -m 700 ${R}/Ghost && ln -s ../../../../../groups/Ghost ${R}/Ghost/group`, m.dir));
    assert.deepEqual(MUTATIONS(st), {}, 'held: nothing sent');
    assert.ok(readdirSync(m.path(R)).includes('Ghost'), 'shown at once');
    assert.deepEqual(readdirSync(m.path(`${R}/Ghost`)), ['group']);
    ({ st } = await cost(sim, () => run('rmdir groups/Ghost', m.dir)));
    assert.deepEqual(MUTATIONS(st), {}, 'dropped: nothing sent');
    assert.ok(!readdirSync(m.path(R)).includes('Ghost'), 'gone with its restore folder');
    assert.match(sh('cat .twingatefs/errors', m.dir), /access\/groups\/Ghost: .*held for a restore folder that was removed: not made/);
    await assertUnchanged(sim, t);
    // Made anew: the first writable field creates the group, then its edge.
    ({ st } = await cost(sim, () => run(`mkdir -m 700 groups/Ghost && mkdir -m 700 ${R}/Ghost && echo true > groups/Ghost/is-active`, m.dir)));
    assert.deepEqual(MUTATIONS(st), { groupCreate: 1, resourceAccessAdd: 1 });
    const now = await sim.tenant();
    const ghost = obj(now, 'groups', 'Ghost');
    const db = obj(now, 'resources', 'prod-db');
    assert.ok(now.access.some((e) => e.principalId === ghost.id && e.resourceId === db.id), 'the edge is granted');
    assert.equal(sh(`readlink ${q(`${R}/Ghost/group`)}`, m.dir), '../../../../../groups/Ghost\n');
  });

  // resources/R/access/service-accounts/S sorts before service-accounts/:
  // rsync makes those edge folders (mode 0700) before the restore folder S
  // exists, when no object holds the name S: each is held (in memory, with
  // what rsync makes in it), taken by the restore folder S when rsync makes
  // it, which its id renames back; the account has those edges: nothing is
  // sent for them.
  test('a service account renamed since: renamed back with its keys, the edges to it held meanwhile: exit 0; again: nothing', async () => {
    const b = backup();
    run('mv service-accounts/ci-runner service-accounts/ci', m.dir);
    const t = await sim.tenant();
    const sa = obj(t, 'serviceAccounts', 'ci');
    const inbound = t.access.filter((e) => e.principalId === sa.id)
      .map((e) => t.resources.find((x) => x.id === e.resourceId).name).sort();
    assert.ok(inbound.length > 0, 'the service account has access to resources');
    const errors = sh('cat .twingatefs/errors', m.dir);
    const res = await restore(b);
    ok(res, 'first restore');
    assert.deepEqual(res.sent, { serviceAccountUpdate: 1 }, 'one rename, nothing else');
    const t2 = await assertChanges(sim, t, ['serviceAccounts ci name: "ci-runner"']);
    assert.ok(!readdirSync(m.path('service-accounts')).includes('ci'));
    assert.deepEqual(readdirSync(m.path('service-accounts/ci-runner/keys')).sort(),
      readdirSync(join(b, 'service-accounts/ci-runner/keys')).sort());
    // Each edge (a folder) names the account by its name again.
    for (const r of inbound) {
      assert.equal(sh(`readlink ${q(`resources/${r}/access/service-accounts/ci-runner/service-account`)}`, m.dir),
        '../../../../../service-accounts/ci-runner\n');
      assert.deepEqual(readdirSync(m.path(`resources/${r}/access/service-accounts/ci-runner`)).sort(),
        readdirSync(join(b, `resources/${r}/access/service-accounts/ci-runner`)).sort());
    }
    assert.equal(sh('cat .twingatefs/errors', m.dir), errors, 'no error');
    const again = await restore(b);
    ok(again, 'again');
    assert.deepEqual(again.sent, {});
    await assertUnchanged(sim, t2);
  });

  // An edge folder made as rsync makes them (mode 0700) to a name that no
  // object or restore folder holds is held while its maker runs; if none
  // takes the name by then, it is dropped, nothing sent, with a line in
  // errors.  A plain mkdir (0755) of such a name is ENOENT at once.
  test('an access edge to a name nothing holds: ENOENT; made as rsync does, held until its maker ends, then dropped', async () => {
    const t = await sim.tenant();
    const R = 'resources/prod-db/access/service-accounts';
    let { r, st } = await cost(sim, () => shStatus(`mkdir ${R}/nobody`, m.dir));
    assert.match(r.stderr, /No such file or directory/);
    assert.deepEqual(MUTATIONS(st), {});
    // One process makes it and writes in it, as rsync's do while it runs.
    const py = `import os\nd='${R}/nobody'\nos.mkdir(d, 0o700)\nopen(d+'/autolock-days','w').write('14\\n')\nprint(sorted(os.listdir('${R}')).count('nobody'), os.listdir(d))`;
    ({ r, st } = await cost(sim, () => shStatus(`python3 -c ${q(py)}`, m.dir)));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), "1 ['autolock-days']", 'shown to it at once');
    assert.deepEqual(MUTATIONS(st), {}, 'held: nothing sent');
    // Its maker has ended: the next look that reaches the daemon (the
    // errors file always does; the kernel may answer a listing it holds)
    // drops it, and the kernel forgets it.
    assert.match(sh('cat .twingatefs/errors', m.dir), /service-accounts\/nobody: .*no object or restore folder took before its maker ended: not made/);
    assert.ok(!readdirSync(m.path(R)).includes('nobody'), 'dropped');
    await assertUnchanged(sim, t);
  });

  test('a connector renamed since (nested in its network): renamed back by its id, exit 0; again: nothing', async () => {
    const b = backup();
    run("mv 'networks/AWS prod/connectors/brisk otter' 'networks/AWS prod/connectors/otter'", m.dir);
    const t = await sim.tenant();
    const res = await restore(b);
    ok(res, 'restore of a renamed connector');
    assert.deepEqual(res.sent, { connectorUpdate: 1 }, 'one rename, no create');
    const t2 = await assertChanges(sim, t, ['connectors otter name: "brisk otter"']);
    assert.deepEqual(readdirSync(m.path('networks/AWS prod/connectors')).sort(),
      readdirSync(join(b, 'networks/AWS prod/connectors')).sort());
    const again = await restore(b);
    ok(again, 'again');
    assert.deepEqual(again.sent, {});
    await assertUnchanged(sim, t2);
  });

  // A service account deleted since: its restore folder's id names none,
  // so it is created anew under the backup's name, and the links it held
  // (its resources/) are made; its keys are not (a key's secret is not in
  // the backup: a restore does not make a credential no one asked for;
  // EPERM and a line in errors).
  test('an object deleted since the backup is created anew, with its fields and links from the backup, not its keys', async () => {
    const b = backup();
    const t = await sim.tenant();
    const sa = obj(t, 'serviceAccounts', 'Backup Bot');
    const access = t.access.filter((e) => e.principalId === sa.id).map((e) => e.resourceId).sort();
    assert.ok(access.length > 0);
    run("rmdir 'service-accounts/Backup Bot/keys/nightly' && rmdir 'service-accounts/Backup Bot'", m.dir);
    const t1 = await sim.tenant();
    assert.ok(!t1.serviceAccounts.some((s) => s.id === sa.id));
    const res = await restore(b);
    assert.deepEqual(res.sent, { serviceAccountCreate: 1, resourceAccessAdd: access.length }, 'one create, its access: no key');
    const t2 = await sim.tenant();
    const again = t2.serviceAccounts.filter((s) => s.name === 'Backup Bot');
    assert.equal(again.length, 1, 'one Backup Bot');
    assert.notEqual(again[0].id, sa.id, 'a new id');
    assert.deepEqual(t2.access.filter((e) => e.principalId === again[0].id).map((e) => e.resourceId).sort(), access);
    assert.deepEqual(t2.serviceAccountKeys.filter((k) => k.serviceAccountId === again[0].id), [], 'no key made');
    assert.match(sh('cat .twingatefs/errors', m.dir), /keys\/nightly.*a restore does not make one with a secret anew/);
    // The backup's read-only files of the object deleted (id, times) are
    // taken in the new one with no effect: only the key is refused.
    // The edge to it from resources/ (made before it) was held and made
    // with it: the key's files are rsync's only errors (exit 23, on every
    // run: a restore does not make a credential).
    const lines = res.r.stderr.trim().split('\n').filter((l) => !/^rsync error:|^\*\*\* Skipping/.test(l));
    assert.equal(lines.length, 3, res.r.stderr);
    for (const [i, f] of ['id', 'name', 'object.json'].entries())
      assert.match(lines[i], new RegExp(`keys/nightly/${f}": Operation not permitted`));
    const second = await restore(b);
    assert.deepEqual(second.sent, {}, 'again: nothing sent');
    await assertUnchanged(sim, t2);
  });

  // --delete makes the tenant like the backup: an object made since is
  // deleted, with one delete (DESIGN.md §3, rmdir of an object); its files,
  // inner folders and links, which rsync removes first, send nothing once
  // it removed a file of the object or an emptied folder of links in it.
  // rsync empties a folder's subfolders before its files: the links in
  // groups/G/users go before anything shows the group is being removed.
  // A removal of a link by a process that listed the object's folder (a
  // recursive remover) is held a moment (fs/holds.h): the rmdir of the
  // object that follows drops it, and the delete alone is sent.
  // deletedSince: the group Latest made since the backup by the shell
  // commands @make (@check asserts what it is first), then rsync --delete:
  // @sent alone, Latest deleted, nothing else changed; again: nothing.
  async function deletedSince(make, sent, check = () => {}) {
    const b = backup();
    run(make, m.dir);
    const t = await sim.tenant();
    const g = obj(t, 'groups', 'Latest');
    check(t.groups.find((x) => x.id === g.id));
    const res = await restore(b, '--delete');
    ok(res, 'restore --delete');
    assert.deepEqual(res.sent, sent);
    const t2 = await sim.tenant();
    assert.ok(!t2.groups.some((x) => x.id === g.id), 'Latest is deleted');
    assert.deepEqual(tenantDiff(t, t2).filter((l) => !/Latest/.test(l)), [], 'nothing else changed');
    const again = await restore(b, '--delete');
    ok(again, 'again');
    assert.deepEqual(again.sent, {});
    await assertUnchanged(sim, t2);
  }

  test('an object made since the backup, rsync --delete: one delete; again: nothing', () =>
    deletedSince('mkdir groups/Latest && ln -sfn ../../security-policies/Require\\ MFA groups/Latest/security-policy',
      { groupDelete: 1 }));

  test('an object made since, with members, rsync --delete: deleted with one delete alone', () =>
    deletedSince('mkdir groups/Latest && ln -s ../../../users/ada.lovelace@example.com groups/Latest/users/',
      { groupDelete: 1 }));

  test('an object made since, with members and access, rsync --delete: one delete alone', () =>
    deletedSince('mkdir groups/Latest && ln -s ../../../users/ada.lovelace@example.com ../../../users/margaret.hamilton@example.com groups/Latest/users/'
      + ' && ln -s ../../../resources/grafana groups/Latest/resources/',
    { groupDelete: 1 }, (g) => assert.equal(g.userIds.length, 2, 'two members')));

  // A group in the backup that gained a member since: rsync --delete
  // removes the member's link (held, then sent as one groupUpdate when
  // rsync moves on or ends), exit 0; again: nothing.
  test('a group that gained a member since, rsync --delete: one groupUpdate, exit 0; again: nothing', async () => {
    const b = backup();
    run('ln -s ../../../users/margaret.hamilton@example.com groups/Engineering/users/', m.dir);
    const t = await sim.tenant();
    const res = await restore(b, '--delete');
    ok(res, 'restore --delete');
    // Sent when rsync moved on (its next request elsewhere) or ended.
    const sent = await until(async () => MUTATIONS(await sim.stats()), (x) => x.groupUpdate === 1);
    assert.deepEqual(sent, { groupUpdate: 1 });
    await assertChanges(sim, t, ['groups Engineering -user margaret.hamilton@example.com']);
    const again = await restore(b, '--delete');
    ok(again, 'again');
    assert.deepEqual(again.sent, {});
  });

  test('a held removal whose send fails: the link comes back, a line in errors, rsync exits non-zero', async () => {
    const b = backup();
    run('ln -s ../../../users/margaret.hamilton@example.com groups/Engineering/users/', m.dir);
    const t = await sim.tenant();
    assert.equal(await sim.post('/_sim/faults', [{ match: 'groupUpdate', status: 500, count: 50 }]), 200);
    let res;
    try {
      res = await restore(b, '--delete');
    } finally {
      await sim.post('/_sim/faults', []);
    }
    assert.notEqual(res.r.status, 0, `rsync fails: ${res.r.stderr}`);
    assert.match(res.r.stderr, /Input\/output error/);
    await assertUnchanged(sim, t, 'the member stays');
    assert.match(sh('ls groups/Engineering/users', m.dir), /margaret\.hamilton@example\.com/, 'the link is back');
    assert.match(sh('cat .twingatefs/errors', m.dir), /\/groups\/Engineering\/users: .*500/);
    // Without the fault: the same restore removes it, one groupUpdate.
    const again = await restore(b, '--delete');
    ok(again, 'again');
    const sent = await until(async () => MUTATIONS(await sim.stats()), (x) => x.groupUpdate === 1);
    assert.deepEqual(sent, { groupUpdate: 1 });
    await assertChanges(sim, t, ['groups Engineering -user margaret.hamilton@example.com']);
  });

  // GNU tar x removes each file it finds in its way, then makes it anew:
  // a field file's removal changes nothing and the same bytes send
  // nothing; a link is made at the end, after a placeholder file of mode 0
  // in its place, and made anew the same it sends nothing.
  test('tar x of an archive of the mount into it: nothing sent, exit 0; again: the same', async () => {
    const d = tempDir();
    dirs.push(d);
    const t = await sim.tenant();
    run(`tar -C ${q(m.dir)} -cf ${q(`${d}/t.tar`)} .`);
    for (let i = 0; i < 2; i++) {
      const { r, st } = await cost(sim, () => shStatus(`tar -C ${q(m.dir)} -xf ${q(`${d}/t.tar`)}`));
      assert.equal(r.stderr, '', `tar x (${i + 1}) says nothing`);
      assert.equal(r.status, 0, `tar x (${i + 1}) exits 0`);
      assert.deepEqual(MUTATIONS(st), {}, `tar x (${i + 1}): nothing sent (no token generated either)`);
    }
    await assertUnchanged(sim, t);
    // No placeholder is left in a link's place: the links are links.
    assert.equal(sh('find . -type f -perm 0000', m.dir), '', 'no placeholder left');
    assert.equal(sh('find groups/Engineering/users groups/Engineering/security-policy -type l | wc -l', m.dir).trim(),
      String(obj(t, 'groups', 'Engineering').userIds.length + 1));
  });

  test('tar x of a backup into the mount: an edited field is sent, the rest is the same bytes', async () => {
    const b = backup();
    const t = await sim.tenant();
    writeFileSync(join(b, 'networks/AWS prod/location'), 'other\n');
    const { r, st } = await cost(sim, () => shStatus(`tar -C ${q(b)} -cf - networks | tar -C ${q(m.dir)} -xf -`));
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
    assert.deepEqual(MUTATIONS(st), { remoteNetworkUpdate: 1 });
    await assertChanges(sim, t, ['remoteNetworks AWS prod location: "OTHER"']);
  });
});

// cp -r groups/A groups/B clones A (issue 20, item 8): mkdir makes B, and
// the copy of A's files into it reaches the mount (what B has is hidden
// from cp until it makes it anew): A's writable fields and links are B's,
// what the API sets for B itself (id, times, name, object.json) stays B's.
describe('cp -r of an object folder', () => {
  let sim, m;
  before(async () => { ({ sim, m } = await setup()); });
  after(() => teardown(m, sim));

  test('cp -r groups/A groups/B: a clone, one mutation per link, exit 0', async () => {
    const t = await sim.tenant();
    const a = obj(t, 'groups', 'Engineering');
    const { r, st } = await cost(sim, () => shStatus('cp -r groups/Engineering groups/Engineering2', m.dir));
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
    // The create, a member (groupUpdate) or resource (resourceAccessAdd)
    // each as cp makes its link, and the security policy.
    assert.deepEqual(MUTATIONS(st), { groupCreate: 1, groupUpdate: a.userIds.length + 1,
      resourceAccessAdd: 5 });
    const now = await sim.tenant();
    const b = obj(now, 'groups', 'Engineering2');
    assert.notEqual(b.id, a.id);
    assert.deepEqual([...b.userIds].sort(), [...a.userIds].sort());
    assert.equal(b.securityPolicyId, a.securityPolicyId);
    assert.equal(b.isActive, a.isActive);
    const access = (id) => now.access.filter((e) => e.principalId === id).map((e) => e.resourceId).sort();
    assert.deepEqual(access(b.id), access(a.id));
    assert.deepEqual(tenantDiff(t, now).filter((l) => !/Engineering2/.test(l)), [], 'nothing else changed');
    assert.equal(sh('cat groups/Engineering2/name', m.dir), 'Engineering2\n');
  });

  test('cp -r of a network: its resources are not taken from it (EPERM, one line each), the rest is cloned', async () => {
    const t = await sim.tenant();
    const { r, st } = await cost(sim, () => shStatus(`cp -r ${q('networks/Office ／ HQ')} networks/Office2`, m.dir));
    assert.notEqual(r.status, 0);
    assert.deepEqual(r.stderr.trim().split('\n').map((l) => l.replace(/'.*'/, "'R'")),
      ["cp: cannot create symbolic link 'R': Operation not permitted",
       "cp: cannot create symbolic link 'R': Operation not permitted"], r.stderr);
    assert.equal(MUTATIONS(st).remoteNetworkCreate, 1);
    assert.equal(MUTATIONS(st).resourceUpdate, undefined, 'no resource moved');
    const now = await sim.tenant();
    const hq = obj(t, 'remoteNetworks', 'Office / HQ');
    assert.deepEqual(now.resources.filter((x) => x.remoteNetworkId === hq.id).map((x) => x.id).sort(),
      t.resources.filter((x) => x.remoteNetworkId === hq.id).map((x) => x.id).sort());
  });
});
