// rename.test.mjs - an object's folder renamed keeps the node ids the
// kernel holds under it (fs/ll.c follow, fs/inodes.c by object id): a
// shell whose cwd is the folder, and a file held open by another process,
// go on working after the object is renamed through its name file, by mv,
// or by someone else (seen at a refresh).  Each write is checked in the
// simulator's tenant, with the exact mutations sent.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { teardown, exactCounts } from './lib.mjs';
import { setup, mountAs, run, fails, q, cost, mutationFields, pathOf } from './writes.mjs';

// A group with a plain, unique name, found in the tenant.
function plainGroup(t, skip = []) {
  const counts = {};
  for (const g of t.groups) counts[g.name] = (counts[g.name] || 0) + 1;
  const g = t.groups.find((x) => /^[A-Za-z][A-Za-z ]*$/.test(x.name) && x.type === 'MANUAL' &&
    counts[x.name] === 1 && !skip.includes(x.id));
  assert.ok(g, 'a group with a plain unique name');
  return g;
}

describe('a folder renamed under a shell or an open file', () => {
  let sim, m, m2;
  before(async () => {
    ({ sim, m } = await setup());
    m2 = await mountAs(sim, 'sim-write');
  });
  after(() => teardown(m2, m, sim));

  test('cd into a group, rename it by its name file: cat name works in the cwd', async () => {
    const t = await sim.tenant();
    const g = plainGroup(t);
    const { r, st } = await cost(sim, () =>
      run(`cd ${q(pathOf(t, g))} && echo TgfsRenamed > name && cat name && cat id && ls -d ../TgfsRenamed`, m.dir));
    const out = r.split('\n');
    assert.equal(out[0], 'TgfsRenamed', 'name read in the cwd after the rename');
    assert.equal(out[1], g.id, 'the same group');
    assert.deepEqual(mutationFields(st, ['groupUpdate', 'groupCreate']), { groupUpdate: 1 });
    const now = (await sim.tenant()).groups.find((x) => x.id === g.id);
    assert.equal(now.name, 'TgfsRenamed', 'the tenant has the new name');
  });

  test('cd into a group, mv it: its files are read in the cwd', async () => {
    const t = await sim.tenant();
    const g = plainGroup(t);
    const out = run(`cd ${q(pathOf(t, g))} && mv "$PWD" ../TgfsMoved && cat name && ls | grep -c .`, m.dir).split('\n');
    assert.equal(out[0], 'TgfsMoved');
    assert.ok(Number(out[1]) > 3, 'the folder lists its files');
    assert.equal((await sim.tenant()).groups.find((x) => x.id === g.id).name, 'TgfsMoved');
  });

  test('a file held open while its network is renamed by another process: the write lands on the renamed network', async () => {
    const t = await sim.tenant();
    const n = t.remoteNetworks.find((x) => /^[A-Za-z][A-Za-z ]*$/.test(x.name) &&
      t.remoteNetworks.filter((y) => y.name === x.name).length === 1 && x.location !== 'GOOGLE_CLOUD');
    assert.ok(n, 'a network with a plain unique name');
    const dir = pathOf(t, n);
    // fd 3 stays open across the rename, made by a second process (which
    // does not inherit it: its exit would flush the file)
    const cmd = `exec 3> ${q(`${dir}/location`)}; sh -c ${q(`echo TgfsNet > ${q(`${dir}/name`)}`)} 3>&-; ` +
      'echo google_cloud >&3; exec 3>&-; cat networks/TgfsNet/location';
    const { r, st } = await cost(sim, () => run(cmd, m.dir));
    assert.equal(r.trim(), 'google_cloud');
    assert.deepEqual(mutationFields(st, ['remoteNetworkUpdate', 'remoteNetworkCreate']), { remoteNetworkUpdate: 2 });
    const now = (await sim.tenant()).remoteNetworks.find((x) => x.id === n.id);
    assert.equal(now.name, 'TgfsNet');
    assert.equal(now.location, 'GOOGLE_CLOUD', 'the write reached the renamed network');
  });

  test('a list file held open for appending while its resource is renamed: closed, it adds to the renamed resource once', async () => {
    const t = await sim.tenant();
    const r = t.resources.find((x) => /^[A-Za-z][A-Za-z-]*$/.test(x.name) &&
      t.resources.filter((y) => y.name === x.name).length === 1 && Array.isArray(x.tags));
    assert.ok(r, 'a resource with a plain unique name');
    const dir = pathOf(t, r);
    const before = (r.tags || []).length;
    const cmd = `exec 3>> ${q(`${dir}/tags`)}; echo 'tgfs=held' >&3; ` +
      `sh -c ${q(`echo TgfsRes > ${q(`${dir}/name`)}`)} 3>&-; exec 3>&-`;
    const { st } = await cost(sim, () => run(cmd, m.dir));
    assert.deepEqual(mutationFields(st, ['resourceUpdate', 'resourceCreate']), { resourceUpdate: 2 });
    const now = (await sim.tenant()).resources.find((x) => x.id === r.id);
    assert.equal(now.name, 'TgfsRes');
    assert.equal(now.tags.length, before + 1, 'one tag added, once');
    assert.ok(now.tags.some((x) => x.key === 'tgfs' && x.value === 'held'), JSON.stringify(now.tags));
  });

  test('renamed by someone else, seen at a refresh: the cwd follows', async () => {
    const t = await sim.tenant();
    const g = plainGroup(t);
    const cwd = `${m.dir}/${pathOf(t, g)}`;
    const other = `${m2.dir}/${pathOf(t, g)}/name`;
    const out = run(`cd ${q(cwd)} && cat name >/dev/null && echo TgfsElsewhere > ${q(other)} && ` +
      `echo 1 > ${q(`${m.dir}/.twingatefs/refresh`)} && cat name && cat id`, m.dir).split('\n');
    assert.equal(out[0], 'TgfsElsewhere');
    assert.equal(out[1], g.id);
  });

  // The kernel held the old name's entry (and the folder's attributes)
  // for cache_ttl after a rename was followed: `ls -d old` went on
  // working.  Now the layer that saw the rename has the kernel forget the
  // old name before the command that made it (or the refresh) returns.
  test('renamed by its name file: the old name is gone at once, the new one is there', async () => {
    const t = await sim.tenant();
    const g = plainGroup(t);
    const old = pathOf(t, g);
    // The kernel holds the entry; the folder listed, the new name's
    // uniqueness costs no request (issue 20).
    run(`ls groups > /dev/null && ls -d ${q(old)} && cat ${q(`${old}/name`)} > /dev/null`, m.dir);
    const { st } = await cost(sim, async () => {
      run(`echo TgfsGone > ${q(`${old}/name`)}`, m.dir);
      fails(`ls -d ${q(old)}`, m.dir, /No such file or directory/);
      run('stat groups/TgfsGone > /dev/null', m.dir);
    });
    assert.deepEqual(mutationFields(st, ['groupUpdate', 'groupCreate']), { groupUpdate: 1 });
    if (exactCounts()) assert.equal(st.requests, 1, `the rename alone is sent (${JSON.stringify(st.fields)})`);
    assert.equal((await sim.tenant()).groups.find((x) => x.id === g.id).name, 'TgfsGone');
  });

  test('renamed by a second mount, seen at a refresh: the old name is gone at once, the new one is there', async () => {
    const t = await sim.tenant();
    const g = plainGroup(t);
    const old = pathOf(t, g);
    run(`ls -d ${q(old)} && cat ${q(`${old}/name`)} > /dev/null`, m.dir); // the kernel holds the entry
    run(`echo TgfsSeen > ${q(`${old}/name`)}`, m2.dir);
    assert.equal((await sim.tenant()).groups.find((x) => x.id === g.id).name, 'TgfsSeen');
    run(`ls -d ${q(old)}`, m.dir); // not seen yet: the first mount's cache holds the old name
    const { st } = await cost(sim, async () => {
      run(`echo 1 > ${q(`${m.dir}/.twingatefs/refresh`)}`, m.dir);
      fails(`ls -d ${q(old)}`, m.dir, /No such file or directory/);
      assert.equal(run('cat groups/TgfsSeen/id', m.dir).trim(), g.id);
    });
    assert.equal(st.mutations, 0, 'nothing sent');
    // The refresh made the cached groups out of date (kept, not dropped):
    // the first look asks for them again, and the new name is in that answer.
    if (exactCounts()) assert.equal(st.requests, 1, `the groups asked for once (${JSON.stringify(st.fields)})`);
  });

  test('a name that is not there costs no more than before: a lookup in a folder not renamed is not followed', async () => {
    const t = await sim.tenant();
    const g = plainGroup(t);
    run(`ls ${q(pathOf(t, g))} > /dev/null`, m.dir);
    const { st } = await cost(sim, () => {
      for (let i = 0; i < 5; i++) run(`test ! -e ${q(`${pathOf(t, g)}/.name.swp${i}`)}`, m.dir);
    });
    assert.equal(st.requests, 0, `no request for missing names (${JSON.stringify(st.fields)})`);
  });

  // A link change in a folder the kernel holds, under an object renamed
  // by another process: the kernel is told to forget that folder by its
  // object's id and the folder's key (fs/inval.h INVAL_KEYED), not by a
  // path, so the cwd's listing shows the change at once whatever the
  // object is called now.
  test('cwd in a group\'s users, the group moved by another process: ln -s and rm there show at once', async () => {
    const t = await sim.tenant();
    const g = plainGroup(t);
    const u = t.users.find((x) => !g.userIds.includes(x.id) && /^[a-z.]+@[a-z.]+$/.test(x.email));
    assert.ok(u, 'a user not in the group');
    const cmd = `cd ${q(`${pathOf(t, g)}/users`)} && ls > /dev/null && ` +
      `(cd ${q(m.dir)} && mv ${q(pathOf(t, g))} groups/TgfsCwdMoved) && ` +
      `ln -s ${q(`../../../users/${u.email}`)} . && ls && echo -- && ` +
      `rm ${q(u.email)} && ls && echo -- && cat ../name`;
    const { r, st } = await cost(sim, () => run(cmd, m.dir));
    const [added, removed, name] = r.split('--\n').map((x) => x.split('\n').filter(Boolean));
    assert.ok(added.includes(u.email), `the link is listed in the cwd (${added})`);
    assert.ok(!removed.includes(u.email), `the link is gone from the cwd (${removed})`);
    assert.deepEqual(name, ['TgfsCwdMoved']);
    assert.deepEqual(mutationFields(st, ['groupUpdate', 'groupCreate']), { groupUpdate: 3 });
    const now = (await sim.tenant()).groups.find((x) => x.id === g.id);
    assert.equal(now.name, 'TgfsCwdMoved');
    assert.ok(!now.userIds.includes(u.id), 'added, then removed');
  });

  test('cwd in a group\'s resources, the group renamed by its name file: ln -s there shows at once', async () => {
    const t = await sim.tenant();
    const g = plainGroup(t);
    const r = t.resources.find((x) => /^[^/~]+$/.test(x.name) &&
      t.resources.filter((y) => y.name === x.name).length === 1 &&
      !t.access.some((e) => e.principalId === g.id && e.resourceId === x.id));
    assert.ok(r, 'a resource the group has no access to');
    const rname = pathOf(t, r).split('/').pop();
    const cmd = `cd ${q(`${pathOf(t, g)}/resources`)} && ls > /dev/null && ` +
      `sh -c ${q(`echo TgfsCwdNamed > ${q(`${m.dir}/${pathOf(t, g)}/name`)}`)} && ` +
      `ln -s ${q(`../../../resources/${rname}`)} . && ls && cat ../name`;
    const { r: out, st } = await cost(sim, () => run(cmd, m.dir));
    const lines = out.split('\n').filter(Boolean);
    assert.ok(lines.includes(rname), `the link is listed in the cwd (${lines})`);
    assert.equal(lines.at(-1), 'TgfsCwdNamed');
    assert.deepEqual(mutationFields(st, ['groupUpdate', 'resourceAccessAdd']), { groupUpdate: 1, resourceAccessAdd: 1 });
    const now = await sim.tenant();
    assert.equal(now.groups.find((x) => x.id === g.id).name, 'TgfsCwdNamed');
    assert.ok(now.access.some((e) => e.principalId === g.id && e.resourceId === r.id), 'the access is granted');
  });

  // What is held under an object's folder belongs to the object, not to
  // its path: an access edge held for a restore folder (restore.test.mjs)
  // is made on its resource after the resource is renamed, and an
  // editor's swap file in a group's folder is still there after a rename
  // (and not in a new group that takes the old name).  The scratch store
  // and the holds go by the object's id (fs/skey.c node_scratch_key).

  test('an access edge held for a restore folder, its resource renamed meanwhile: granted on the renamed resource', async () => {
    const t = await sim.tenant();
    const r = t.resources.find((x) => /^[A-Za-z][A-Za-z-]*$/.test(x.name) &&
      t.resources.filter((y) => y.name === x.name).length === 1);
    assert.ok(r, 'a resource with a plain unique name');
    const before = `resources/${r.name}`, after = `resources/${r.name}-moved`;
    const { st } = await cost(sim, () => run(`mkdir -m 700 groups/TgfsHeld && mkdir -m 700 ${q(`${before}/access/groups/TgfsHeld`)} && ` +
      `echo ${q(`${r.name}-moved`)} > ${q(`${before}/name`)} && ls ${q(`${after}/access/groups`)} | grep -x TgfsHeld && ` +
      'echo true > groups/TgfsHeld/is-active', m.dir));
    assert.deepEqual(mutationFields(st, ['resourceUpdate', 'groupCreate', 'resourceAccessAdd']),
      { resourceUpdate: 1, groupCreate: 1, resourceAccessAdd: 1 });
    const now = await sim.tenant();
    const g = now.groups.find((x) => x.name === 'TgfsHeld');
    assert.ok(g && now.access.some((e) => e.principalId === g.id && e.resourceId === r.id), 'the edge is granted on the resource');
  });

  test("an editor's swap file in a group's folder, the group renamed: the swap file is in the renamed folder, and not in a new group of the old name", async () => {
    const t = await sim.tenant();
    const g = plainGroup(t);
    const old = pathOf(t, g);
    const out = run(`cd ${q(old)} && echo draft > .name.swp && echo TgfsSwapped > name && cat ../TgfsSwapped/.name.swp && ls -a ../TgfsSwapped`, m.dir);
    assert.equal(out.split('\n')[0], 'draft');
    assert.ok(out.split('\n').includes('.name.swp'), `listed in the renamed folder: ${out}`);
    assert.equal((await sim.tenant()).groups.find((x) => x.id === g.id).name, 'TgfsSwapped');
    // A new group takes the old name: it has no swap file of the other's.
    const { st } = await cost(sim, () => {
      run(`mkdir ${q(old)}`, m.dir);
      assert.ok(!run(`ls -a ${q(old)}`, m.dir).split('\n').includes('.name.swp'), 'not listed in the new group');
      fails(`cat ${q(`${old}/.name.swp`)}`, m.dir, /No such file or directory/);
    });
    assert.deepEqual(mutationFields(st, ['groupCreate']), { groupCreate: 1 });
    assert.equal(run('cat groups/TgfsSwapped/.name.swp', m.dir), 'draft\n', 'still in the renamed folder');
  });

  test("an editor's swap file held open while another process renames its group: written on, it is the renamed folder's", async () => {
    const t = await sim.tenant();
    const g = plainGroup(t);
    const dir = pathOf(t, g);
    // fd 3 (the editor's swap file) stays open across the rename, made by
    // a second process through the group's name file
    const cmd = `exec 3> ${q(`${dir}/.name.swp`)}; echo one >&3; ` +
      `sh -c ${q(`echo TgfsOpenSwap > ${q(`${dir}/name`)}`)} 3>&-; ` +
      'echo two >&3; exec 3>&-; cat groups/TgfsOpenSwap/.name.swp; ls -a groups/TgfsOpenSwap';
    const { r, st } = await cost(sim, () => run(cmd, m.dir));
    assert.deepEqual(r.split('\n').slice(0, 2), ['one', 'two']);
    assert.ok(r.split('\n').includes('.name.swp'), `listed in the renamed folder: ${r}`);
    assert.deepEqual(mutationFields(st, ['groupUpdate', 'groupCreate']), { groupUpdate: 1 }, 'the swap file sends nothing');
    assert.equal((await sim.tenant()).groups.find((x) => x.id === g.id).name, 'TgfsOpenSwap');
    fails(`ls ${q(dir)}`, m.dir, /No such file or directory/);
  });

  // mv from another filesystem removes the field, then makes it again:
  // between the two the field is gone for the mover alone (fs/removals.c,
  // 5 s).  That record goes by the object's id: a rename of the object by
  // another process meanwhile keeps the field gone for the mover under the
  // new name (by path, the record missed and the field showed at once).
  test('a field removed to be copied anew, its resource renamed by another process meanwhile: still gone for the remover, the copy lands on the renamed resource', async () => {
    const t = await sim.tenant();
    const r = t.resources.find((x) => /^[A-Za-z][A-Za-z-]*$/.test(x.name) &&
      t.resources.filter((y) => y.name === x.name).length === 1 && x.address?.type === 'DNS' &&
      x.address.value !== 'mvren.example.com');
    assert.ok(r, 'a resource with a plain unique name and a DNS address');
    const dir = pathOf(t, r);
    // one process (as mv is): unlink, another process renames, look, copy
    const py = [
      'import os, subprocess, sys',
      'd, new = sys.argv[1], sys.argv[2]',
      'os.unlink(d + "/address")',
      'subprocess.run(["sh", "-c", "echo " + new + " > \\"$1/name\\"", "sh", d], check=True)',
      'nd = os.path.join(os.path.dirname(d), new)',
      'print(os.path.isdir(nd), os.path.exists(nd + "/address"))',
      'with open(nd + "/address", "w") as f: f.write("mvren.example.com\\n")',
    ].join('\n');
    const { r: out, st } = await cost(sim, () => run(`python3 -c ${q(py)} ${q(dir)} TgfsMvRen`, m.dir));
    assert.equal(out.trim(), 'True False', 'the renamed folder is there, its field still gone for the remover');
    assert.deepEqual(mutationFields(st, ['resourceUpdate', 'resourceCreate', 'resourceDelete']), { resourceUpdate: 2 });
    const now = (await sim.tenant()).resources.find((x) => x.id === r.id);
    assert.equal(now.name, 'TgfsMvRen');
    assert.deepEqual(now.address, { type: 'DNS', value: 'mvren.example.com' }, 'the copy reached the renamed resource');
    const renamed = `${dir.slice(0, dir.lastIndexOf('/'))}/TgfsMvRen`;
    assert.equal(run(`cat ${q(`${renamed}/address`)}`, m.dir), 'mvren.example.com\n');
  });
});
