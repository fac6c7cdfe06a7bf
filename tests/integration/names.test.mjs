// names.test.mjs - names stay unique through the mount (DESIGN.md §2,
// issue 20 item 6): a create or a rename (mkdir, mv, the name file,
// object.json's name) onto a name already held in that folder, by one
// object or by several shown as <name>~<short id>, fails with EEXIST
// before any mutation, for every kind that can be created or renamed; the
// errors file says why.  Duplicates made elsewhere are still shown.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sh, teardown } from './lib.mjs';
import { q, setup, cost, assertUnchanged, fails, pyWrite, obj } from './writes.mjs';

const EEXIST = /File exists/;

// Makes two objects named @name elsewhere (straight through the API).
async function twins(sim, mutation, args, name, token = 'sim-write') {
  for (let i = 0; i < 2; i++) {
    const r = await sim.gql(`mutation { ${mutation}(${args}name: ${JSON.stringify(name)}) { ok error } }`, {}, token);
    assert.equal(r.body.data?.[mutation]?.ok, true, JSON.stringify(r.body));
  }
}

describe('names stay unique through the mount', () => {
  let sim, m, t;
  before(async () => {
    ({ sim, m } = await setup());
    t = await sim.tenant();
    const ci = obj(t, 'serviceAccounts', 'ci-runner');
    // Duplicates made elsewhere, for the kinds the tenant has none of.
    await twins(sim, 'groupCreate', '', 'Twin Team');
    await twins(sim, 'serviceAccountCreate', '', 'Twin Bot');
    await twins(sim, 'serviceAccountKeyCreate',
      `serviceAccountId: ${JSON.stringify(ci.id)}, expirationTime: 0, `, 'twin key', 'sim-provision');
    t = await sim.tenant();
  });
  after(() => teardown(m, sim));

  // [kind, its folder, a, b (two objects there), a name held by several]
  const KINDS = [
    ['networks', 'networks', 'AWS prod', 'Zürich Büro', 'Duplicate'],
    ['connectors', 'networks/AWS prod/connectors', 'brisk otter', 'quiet-heron', 'amber-falcon'],
    ['resources', 'resources', 'grafana', 'prod-db', 'admin panel'],
    ['groups', 'groups', 'Engineering', 'Okta Admins', 'Twin Team'],
    ['service accounts', 'service-accounts', 'ci-runner', 'Backup Bot', 'Twin Bot'],
    ['service account keys', 'service-accounts/ci-runner/keys', 'gitlab', 'github actions', 'twin key'],
  ];

  test('the duplicates made elsewhere are shown as <name>~<short id>', () => {
    for (const [, dir, , , dup] of KINDS) {
      const shown = sh(`ls ${q(dir)}`, m.dir).split('\n').filter((l) => l.startsWith(`${dup}~`));
      assert.equal(shown.length, 2, `${dir}: ${dup} twice`);
    }
  });

  // Runs @cmd, which must fail with EEXIST (or @msg) and send no mutation;
  // the tenant must not change and errors must have a line for @path.
  async function refused(cmd, path, msg = EEXIST) {
    const before = await sim.tenant();
    const { st } = await cost(sim, () => fails(cmd, m.dir, msg));
    assert.equal(st.mutations, 0, `${cmd}: no mutation (${JSON.stringify(st.fields)})`);
    await assertUnchanged(sim, before, cmd);
    if (path) {
      const errors = sh('cat .twingatefs/errors', m.dir);
      const line = errors.split('\n').filter((l) => l.includes(path)).pop();
      assert.ok(line, `errors has a line for ${path}:\n${errors}`);
      assert.match(line, /File exists: that name is already held in this folder$/, line);
    }
  }

  for (const [kind, dir, a, b, dup] of KINDS) {
    describe(kind, () => {
      test(`mkdir of a name held by one (${a}) or several (${dup}): EEXIST, nothing sent`, async () => {
        await refused(`mkdir ${q(`${dir}/${a}`)}`, null);
        await refused(`mkdir ${q(`${dir}/${dup}`)}`, `/${dir}/${dup}`);
        // The user tries again: still refused, still nothing made.
        await refused(`mkdir ${q(`${dir}/${dup}`)}`, `/${dir}/${dup}`);
        const shown = sh(`ls ${q(dir)}`, m.dir).split('\n').filter((l) => l.startsWith(`${dup}~`));
        assert.equal(shown.length, 2, 'still two');
      });

      test('echo NAME > name: EEXIST at write(2), nothing sent', async () => {
        await refused(`echo ${q(a)} > ${q(`${dir}/${b}/name`)}`, `/${dir}/${b}/name`);
        await refused(`echo ${q(dup)} > ${q(`${dir}/${b}/name`)}`, `/${dir}/${b}/name`);
        assert.equal(sh(`cat ${q(`${dir}/${b}/name`)}`, m.dir), `${b}\n`);
        assert.equal(sh(`cat ${q(`${dir}/${a}/name`)}`, m.dir), `${a}\n`);
      });

      test('mv -T onto a taken name: EEXIST, nothing sent', async () => {
        // GNU mv renames with RENAME_NOREPLACE and words our EEXIST as
        // "cannot overwrite".
        const MV = /File exists|cannot overwrite/;
        await refused(`mv -T ${q(`${dir}/${b}`)} ${q(`${dir}/${a}`)}`, null, MV);
        await refused(`mv -T ${q(`${dir}/${b}`)} ${q(`${dir}/${dup}`)}`, `/${dir}/${b}/name`, MV);
        // rename(2) itself, as a script does it.
        const py = `import os\ntry:\n os.rename(${JSON.stringify(`${dir}/${b}`)}, ${JSON.stringify(`${dir}/${dup}`)})\n print('ok')\nexcept OSError as e:\n print(e.strerror)`;
        assert.equal(sh(`python3 -c ${q(py)}`, m.dir).trim(), 'File exists');
      });

      test("object.json's name set to a taken name: EEXIST at close, nothing sent", async () => {
        const f = `${dir}/${b}/object.json`;
        for (const taken of [a, dup]) {
          const before = await sim.tenant();
          const json = JSON.parse(sh(`cat ${q(f)}`, m.dir));
          json.name = taken;
          const { r, st } = await cost(sim, () => pyWrite(m.dir, f, `${JSON.stringify(json, null, 2)}\n`));
          assert.equal(r, 'close EEXIST', `${f} with name ${taken}`);
          assert.equal(st.mutations, 0, JSON.stringify(st.fields));
          await assertUnchanged(sim, before, f);
          const errors = sh('cat .twingatefs/errors', m.dir).trim().split('\n').pop();
          assert.ok(errors.includes(`/${f}: File exists: that name is already held`), errors);
        }
      });
    });
  }

  test('a draft in a network folder onto a resource name held: EEXIST', async () => {
    await refused(`mkdir ${q('networks/AWS prod/resources/grafana')}`, '/resources');
    await refused(`mkdir ${q('networks/AWS prod/resources/admin panel')}`, '/resources');
  });

  test("a refusal of the daemon's own is recorded in its own words (item 9)", async () => {
    // The API refuses first, then the daemon refuses a value itself: the
    // second line must not repeat the API's message.
    fails('echo All > groups/Everyone/name', m.dir, /./);
    fails("echo maybe > 'networks/AWS prod/is-active'", m.dir, /Invalid argument/);
    const last = sh('cat .twingatefs/errors', m.dir).trim().split('\n').pop();
    assert.match(last, /\/networks\/AWS prod\/is-active: Invalid argument: not true or false/, last);
    assert.ok(!/system group/.test(last), last);
    fails("rmdir 'devices'", m.dir, /./);
    fails("mv 'groups/Engineering' 'networks/Engineering'", m.dir, /./);
    const mv = sh('cat .twingatefs/errors', m.dir).trim().split('\n').pop();
    assert.match(mv, /\/networks\/Engineering: Operation not permitted: an object is renamed within its folder only/, mv);
  });

  test('a name that is free still works: mkdir, then mv, one mutation each', async () => {
    const { st } = await cost(sim, () => sh('mkdir groups/Unique', m.dir));
    assert.deepEqual(st.fields.groupCreate, 1);
    assert.equal(st.mutations, 1);
    const { st: st2 } = await cost(sim, () => sh('mv groups/Unique groups/Unique2', m.dir));
    assert.equal(st2.mutations, 1, JSON.stringify(st2.fields));
    assert.equal(sh('cat groups/Unique2/name', m.dir), 'Unique2\n');
  });
});
