// unix-writes.test.mjs - the everyday Unix ways of writing a file mean what
// the user meant (issue 20, DESIGN.md §3 "When a change is sent"): a move
// from another filesystem (coreutils removes the target, then copies), a
// jq-style replace through a temporary file, `>>` to a list and to a
// one-value file, two lines in one write(2), truncation to empty, writers
// that overlay bytes in place (dd conv=notrunc, rsync --inplace, a write
// then ftruncate), Python's os.replace, a rewrite with the bytes a file
// holds, times set on files.  Each case runs the real tool on a real mount
// and asserts the tenant through the simulator (not through the mount) and
// the exact mutations sent; every refusal leaves its own words in
// /.twingatefs/errors.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sh, teardown, tempDir, rmSync } from './lib.mjs';
import { q, setup, mountAs, obj, cost, assertChanges, assertUnchanged, patchLines,
         assertNoMutation, run, fails, pyWrite } from './writes.mjs';

const EINVAL = /Invalid argument/;
const EACCES = /Permission denied/;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The mutation root fields of a run: { name: count }.
const mutations = (st) => Object.fromEntries(Object.entries(st.fields)
  .filter(([k]) => /(Update|Create|Delete|Add|Remove|Archive|Block|Unarchive|Unblock|Tokens)$/.test(k)));

describe('Unix writes mean what the user meant', () => {
  let sim, m, tmp;
  before(async () => {
    // A provision token: a key's token is shown (and written back) too.
    ({ sim, m } = await setup({ token: 'sim-provision' }));
    tmp = tempDir();
  });
  after(async () => {
    rmSync(tmp, { recursive: true, force: true });
    await teardown(m, sim);
  });

  const R = 'resources/prod-db';
  const res = async (name = 'prod-db') => obj(await sim.tenant(), 'resources', name);
  // Runs @fn with the counts zeroed; a change set when the last
  // descriptor closes (RELEASE, after close(2) returned) is waited for,
  // up to @wait ms, then a little longer to see that nothing more comes.
  async function sent(fn, { wait = 0 } = {}) {
    const { r, st } = await cost(sim, fn);
    if (!wait) return { r, st };
    for (let waited = 0; waited < wait && (await sim.stats()).mutations === 0; waited += 50) {
      await sleep(50);
    }
    await sleep(200);
    return { r, st: await sim.stats() };
  }
  const errors = () => sh('cat .twingatefs/errors', m.dir);
  const lastError = () => errors().trim().split('\n').pop();
  // Sets @field of prod-db to @value through the mount (its cache then
  // holds it), before a case.
  function preset(field, value) {
    run(`echo ${q(value)} > ${q(`${R}/${field}`)}`, m.dir);
    assert.equal(sh(`cat ${q(`${R}/${field}`)}`, m.dir), `${value}\n`, `preset ${field}`);
  }

  // ---- item 2: moves from other filesystems ----

  test('mv /tmp/x onto a field: the unlink sends nothing, the copy is one update', async () => {
    const t = await sim.tenant();
    const o = obj(t, 'resources', 'prod-db');
    const src = `${tmp}/address`;
    run(`echo mv.example.com > ${q(src)}`, tmp);
    const { st } = await sent(() => run(`mv ${q(src)} ${q(`${R}/address`)}`, m.dir));
    assert.deepEqual(mutations(st), { resourceUpdate: 1 }, 'one update');
    await assertChanges(sim, t, patchLines('resources', o,
      { address: { type: 'DNS', value: 'mv.example.com' } }), 'mv');
    assert.equal(sh(`cat ${q(`${R}/address`)}`, m.dir), 'mv.example.com\n');
  });

  test('jq … > /tmp/x && mv /tmp/x object.json: one update of the changed fields', async () => {
    const t = await sim.tenant();
    const o = obj(t, 'resources', 'grafana');
    const { st } = await sent(() => run(
      `jq '.isVisible = false | .alias = "grafana.corp"' 'resources/grafana/object.json' > ${q(`${tmp}/x`)}`
      + ` && mv ${q(`${tmp}/x`)} 'resources/grafana/object.json'`, m.dir));
    assert.deepEqual(mutations(st), { resourceUpdate: 1 }, 'one update');
    await assertChanges(sim, t, patchLines('resources', o,
      { isVisible: false, alias: 'grafana.corp' }), 'jq + mv');
    // The name too (the folder is renamed): still one update.
    const t2 = await sim.tenant();
    const { st: st2 } = await sent(() => run(
      `jq '.name = "grafana-2"' 'resources/grafana/object.json' > ${q(`${tmp}/y`)}`
      + ` && mv ${q(`${tmp}/y`)} 'resources/grafana/object.json'`, m.dir));
    assert.deepEqual(mutations(st2), { resourceUpdate: 1 }, 'one update for a new name');
    await assertChanges(sim, t2, patchLines('resources', o, { name: 'grafana-2' }), 'jq name');
    assert.equal(sh(`cat 'resources/grafana-2/name'`, m.dir), 'grafana-2\n');
  });

  test('rm of a field or object.json alone changes nothing: still listed and readable', async () => {
    const t = await sim.tenant();
    const { st } = await sent(() => run(`rm ${q(`${R}/alias`)} ${q(`${R}/object.json`)} `
      + `${q(`${R}/id`)}`, m.dir));
    assertNoMutation(st, 'rm');
    assert.equal(st.requests, 0, 'no request at all');
    await assertUnchanged(sim, t, 'rm');
    const o = obj(t, 'resources', 'prod-db');
    const ls = sh(`ls ${q(R)}`, m.dir).split('\n');
    for (const f of ['alias', 'object.json', 'id']) assert.ok(ls.includes(f), `${f} still listed`);
    assert.equal(sh(`cat ${q(`${R}/id`)}`, m.dir), `${o.id}\n`, 'id still readable');
    assert.equal(JSON.parse(sh(`cat ${q(`${R}/object.json`)}`, m.dir)).id, o.id);
  });

  test('rm -r of an object deletes it whole: one delete (its files, links and folders inside send nothing)', async () => {
    // DESIGN.md §3: removing a field changes nothing, rmdir of an object
    // deletes it.  rm -r does both, and removes the links in between: they
    // are part of taking the object apart, not one mutation each.
    const t = await sim.tenant();
    const g = obj(t, 'groups', 'Ops / SRE');
    const G = 'groups/Ops ／ SRE';
    assert.ok(sh(`ls ${q(`${G}/users`)}`, m.dir).trim(), 'the group has members to remove');
    const { st } = await sent(() => run(`rm -r ${q(G)}`, m.dir));
    assert.deepEqual(mutations(st), { groupDelete: 1 }, 'one delete, no member removed one by one');
    assert.ok(!(await sim.tenant()).groups.some((x) => x.id === g.id), 'the group is gone');
    assert.ok(!sh('ls groups', m.dir).split('\n').includes('Ops ／ SRE'));
  });

  test('rm -r of an object the API refuses to delete: its one delete fails (ENOTEMPTY), nothing else is sent', async () => {
    const t = await sim.tenant();
    const { r, st } = await sent(() => fails(`rm -r 'networks/AWS prod'`, m.dir, /Directory not empty/));
    // The network holds connectors and resources: the API refuses it,
    // and neither its connectors nor its links were taken one by one.
    assert.deepEqual(mutations(st), { remoteNetworkDelete: 1 });
    assert.doesNotMatch(r.stderr, /cannot remove '[^']*\/(name|id|object\.json|connectors[^']*)'/, 'only the network itself fails');
    await assertUnchanged(sim, t, 'rm -r refused');
    assert.equal(sh(`cat 'networks/AWS prod/name'`, m.dir), 'AWS prod\n');
    assert.match(lastError(), /AWS prod: Directory not empty: .*connector/);
  });

  // ---- item 3: appends ----

  test('>> to protocols adds ports: one update with the whole new list', async () => {
    const t = await sim.tenant();
    const o = obj(t, 'resources', 'prod-db');
    assert.equal(sh(`cat ${q(`${R}/protocols`)}`, m.dir), 'icmp: allow\ntcp: 5432\nudp: allow-all\n');
    const { st } = await sent(() => run(`echo 'tcp: 5433,8080' >> ${q(`${R}/protocols`)}`, m.dir));
    assert.deepEqual(mutations(st), { resourceUpdate: 1 }, 'one update');
    const now = await res();
    assert.deepEqual(now.protocols.tcp, { policy: 'RESTRICTED',
      ports: [{ start: 5432, end: 5432 }, { start: 5433, end: 5433 }, { start: 8080, end: 8080 }] });
    assert.deepEqual(now.protocols.udp, o.protocols.udp, 'udp unchanged');
    assert.equal(now.protocols.allowIcmp, o.protocols.allowIcmp, 'icmp unchanged');
    assert.equal(sh(`cat ${q(`${R}/protocols`)}`, m.dir), 'icmp: allow\ntcp: 5432,5433,8080\nudp: allow-all\n');
  });

  test('>> to tags adds a tag: one update with the whole list', async () => {
    const { st } = await sent(() => run(`echo env=prod > ${q(`${R}/tags`)}`
      + ` && echo team=db >> ${q(`${R}/tags`)}`, m.dir));
    assert.deepEqual(mutations(st), { resourceUpdate: 2 }, 'one update per command');
    assert.deepEqual((await res()).tags, [{ key: 'env', value: 'prod' }, { key: 'team', value: 'db' }]);
  });

  test('>> of a line the list refuses: EINVAL at write(2), nothing sent', async () => {
    const t = await sim.tenant();
    for (const line of ['tcp: 70000', 'icmp: deny']) {
      const { r, st } = await sent(() => fails(`echo ${q(line)} >> ${q(`${R}/protocols`)}`, m.dir, EINVAL));
      assert.match(r.stderr, /write error/, 'the write fails, where echo sees it');
      assertNoMutation(st, line);
    }
    await assertUnchanged(sim, t, 'bad appends');
    assert.match(lastError(), /protocols: Invalid argument: not the lines icmp/);
  });

  test('>> to a one-value field: EINVAL before any request', async () => {
    const t = await sim.tenant();
    for (const f of ['address', 'name', 'is-visible', 'object.json']) {
      const { st } = await sent(() => fails(`echo x >> ${q(`${R}/${f}`)}`, m.dir, EINVAL));
      assert.equal(st.requests, 0, `${f}: no request`);
    }
    await assertUnchanged(sim, t, '>> to one-value files');
    assert.match(lastError(), /object\.json: Invalid argument: appending \(>>\) to a one-value file/);
  });

  // ---- item 4: a refused write is refused whole ----

  test('two lines in one write(2) to a one-line field: nothing sent', async () => {
    const t = await sim.tenant();
    const before = sh(`cat ${q(`${R}/address`)}`, m.dir);
    const { r, st } = await sent(() => fails(
      `/usr/bin/printf 'a.example.com\\nb.example.com\\n' > ${q(`${R}/address`)}`, m.dir, EINVAL));
    assert.match(r.stderr, /write error/);
    assertNoMutation(st, 'printf');
    assert.equal(pyWrite(m.dir, `${R}/name`, 'x\ny\n'), 'write EINVAL', 'python, one write');
    await sleep(200); // the RELEASE of the refused handles
    await assertUnchanged(sim, t, 'two lines');
    assert.equal(sh(`cat ${q(`${R}/address`)}`, m.dir), before, 'the file shows the tenant value');
    const errs = errors();
    assert.match(errs, /address: Invalid argument: two lines in a one-line field/);
    assert.doesNotMatch(errs, /address: Invalid argument: empty/, 'not taken for an empty file');
  });

  test('an errors line carries the message of that refusal, not the last API one', async () => {
    // An API refusal first: its own message.
    const { st } = await sent(() => fails(`echo 'bad alias!' > ${q(`${R}/alias`)}`, m.dir, EINVAL));
    assert.deepEqual(mutations(st), { resourceUpdate: 1 }, 'the API refused it');
    assert.match(lastError(), /alias: Invalid argument: 'bad alias!' is not a valid alias/);
    // Then refusals of ours: their words.
    fails(`/usr/bin/printf 'a\\nb\\n' > ${q(`${R}/alias`)}`, m.dir, EINVAL);
    assert.match(lastError(), /alias: Invalid argument: two lines in a one-line field$/);
    fails(`echo maybe > ${q(`${R}/is-visible`)}`, m.dir, EINVAL);
    assert.match(lastError(), /is-visible: Invalid argument: not true or false$/);
    fails(`echo sideways > ${q(`${R}/routing-mode`)}`, m.dir, EINVAL);
    assert.match(lastError(), /routing-mode: Invalid argument: not one of: through_twingate bypass_twingate$/);
    fails(`echo x > ${q(`${R}/created-at`)}`, m.dir, EACCES);
    assert.match(lastError(), /created-at: Permission denied: a read-only file: the API sets it$/);
  });

  test('a permission refusal says "Permission denied" once', async () => {
    const rd = await mountAs(sim, 'sim-read');
    try {
      const { st } = await sent(() => fails(`echo x > 'groups/Engineering/name'`, rd.dir, EACCES));
      assert.equal(st.mutations, 1, 'the API refused it');
      const line = sh('cat .twingatefs/errors', rd.dir).trim().split('\n').pop();
      assert.match(line, /\/groups\/Engineering\/name: Permission denied: this API key/);
      assert.doesNotMatch(line, /Permission denied: Permission denied/);
    } finally {
      await rd.unmount();
    }
  });

  // ---- item 5: empty means null ----

  for (const [how, cmd] of [
    ['truncate -s 0', (f) => `truncate -s 0 ${f}`],
    [': >', (f) => `: > ${f}`],
    ['echo >', (f) => `echo > ${f}`],
  ]) {
    test(`${how} alias (String): null, one update`, async () => {
      preset('alias', 'db.prod');
      const t = await sim.tenant();
      const o = obj(t, 'resources', 'prod-db');
      const { st } = await sent(() => run(cmd(q(`${R}/alias`)), m.dir), { wait: 3000 });
      assert.deepEqual(mutations(st), { resourceUpdate: 1 }, 'one update');
      await assertChanges(sim, t, patchLines('resources', o, { alias: null }), how);
      assert.equal(sh(`cat ${q(`${R}/alias`)}`, m.dir), '');
    });
  }

  test('truncate -s 0 / : > / echo > of a field that needs a value: EINVAL, no request', async () => {
    const t = await sim.tenant();
    let { r, st } = await sent(() => fails(`truncate -s 0 ${q(`${R}/name`)}`, m.dir, EINVAL), { wait: 300 });
    assert.match(r.stderr, /failed to close/, 'truncate(1) sees it at close(2)');
    assert.equal(st.requests, 0, 'truncate: no request');
    ({ st } = await sent(() => run(`: > ${q(`${R}/name`)}`, m.dir), { wait: 300 }));
    assert.equal(st.requests, 0, ': >: no request (bash does not report a close error)');
    assert.match(lastError(), /name: Invalid argument: empty, and this field cannot be null$/);
    ({ r, st } = await sent(() => fails(`/bin/echo > ${q(`${R}/address`)}`, m.dir, EINVAL)));
    assert.equal(st.requests, 0, 'echo: no request');
    assert.equal(pyWrite(m.dir, `${R}/is-active`, '', { flags: 't' }), 'close EINVAL', 'bool: empty');
    await sleep(200);
    await assertUnchanged(sim, t, 'empty required fields');
    assert.equal(sh(`cat ${q(`${R}/name`)}`, m.dir), 'prod-db\n');
  });

  test('echo v > f (bash: the descriptor is closed once before echo writes): one update, no null first', async () => {
    preset('alias', 'db.prod');
    const t = await sim.tenant();
    const o = obj(t, 'resources', 'prod-db');
    const { st } = await sent(() => run(`echo db2.prod > ${q(`${R}/alias`)}`, m.dir), { wait: 300 });
    assert.deepEqual(mutations(st), { resourceUpdate: 1 }, 'one update');
    await assertChanges(sim, t, patchLines('resources', o, { alias: 'db2.prod' }), 'echo');
    // A required field: no spurious "empty" refusal from the early close.
    const n = errors().split('\n').length;
    run(`echo prod-db > ${q(`${R}/name`)}`, m.dir);
    await sleep(200);
    assert.equal(errors().split('\n').length, n, 'no error line');
  });

  // ---- item 1: overlay writers, rewrites, times ----

  test('dd conv=notrunc: judged on the content it leaves at close', async () => {
    preset('address', 'aaa.example.com');
    let t = await sim.tenant();
    const o = obj(t, 'resources', 'prod-db');
    const dd = (v) => `printf ${q(v)} | dd of=${q(`${R}/address`)} conv=notrunc status=none`;
    // Same length: one update.
    let { st } = await sent(() => run(dd('bbb.example.com\n'), m.dir));
    assert.deepEqual(mutations(st), { resourceUpdate: 1 }, 'same length');
    t = await assertChanges(sim, t, patchLines('resources', o,
      { address: { type: 'DNS', value: 'bbb.example.com' } }), 'dd same length');
    // Shorter: the old tail stays, two lines at close: EINVAL, nothing sent.
    ({ st } = await sent(() => fails(dd('c.example.com\n'), m.dir, EINVAL)));
    assertNoMutation(st, 'dd shorter');
    await assertUnchanged(sim, t, 'dd shorter');
    assert.match(lastError(), /address: Invalid argument: two lines in a one-line field/);
  });

  test('an overlay of a shorter value then ftruncate: that value, one update', async () => {
    preset('address', 'aaa.example.com');
    const t = await sim.tenant();
    const o = obj(t, 'resources', 'prod-db');
    const py = 'import os, sys\nfd = os.open(sys.argv[1], os.O_WRONLY)\n'
      + 'os.write(fd, b"ab.io\\n")\nos.ftruncate(fd, 6)\nos.close(fd)\n';
    const { st } = await sent(() => run(`python3 -c ${q(py)} ${q(`${R}/address`)}`, m.dir));
    assert.deepEqual(mutations(st), { resourceUpdate: 1 }, 'one update');
    await assertChanges(sim, t, patchLines('resources', o,
      { address: { type: 'DNS', value: 'ab.io' } }), 'overlay + ftruncate');
  });

  test('rsync --inplace of one file with a shorter value: one update', async () => {
    preset('address', 'aaa.example.com');
    const t = await sim.tenant();
    const o = obj(t, 'resources', 'prod-db');
    run(`echo short.io > ${q(`${tmp}/address`)}`, tmp);
    const { st } = await sent(() => run(`rsync --inplace ${q(`${tmp}/address`)} ${q(`${R}/address`)}`, m.dir));
    assert.deepEqual(mutations(st), { resourceUpdate: 1 }, 'one update');
    await assertChanges(sim, t, patchLines('resources', o,
      { address: { type: 'DNS', value: 'short.io' } }), 'rsync --inplace');
  });

  test('python os.replace of a temporary file onto a field: one update', async () => {
    const t = await sim.tenant();
    const o = obj(t, 'resources', 'prod-db');
    const py = 'import os\nopen(".addr.tmp", "w").write("osr.example.com\\n")\nos.replace(".addr.tmp", "address")\n';
    const { st } = await sent(() => run(`python3 -c ${q(py)}`, m.path(R)));
    assert.deepEqual(mutations(st), { resourceUpdate: 1 }, 'one update');
    await assertChanges(sim, t, patchLines('resources', o,
      { address: { type: 'DNS', value: 'osr.example.com' } }), 'os.replace');
  });

  test('a rewrite with the bytes a file holds (read-only too) and times set: no request, no error', async () => {
    const t = await sim.tenant();
    const files = ['id', 'created-at', 'updated-at', 'name', 'address', 'protocols', 'object.json'];
    run(`mkdir -p ${q(`${tmp}/copy`)} && cp ${files.map((f) => q(`${R}/${f}`)).join(' ')} ${q(`${tmp}/copy`)}`, m.dir);
    const n = errors().split('\n').length;
    const { st } = await sent(() => {
      for (const f of files) {
        run(`cp ${q(`${tmp}/copy/${f}`)} ${q(`${R}/${f}`)}`, m.dir); // O_TRUNC + write
        run(`cat ${q(`${tmp}/copy/${f}`)} > ${q(`${R}/${f}`)}`, m.dir);
        run(`dd if=${q(`${tmp}/copy/${f}`)} of=${q(`${R}/${f}`)} conv=notrunc status=none`, m.dir);
      }
      run(`touch -d '2020-01-02 03:04:05' ${files.map((f) => q(`${R}/${f}`)).join(' ')}`, m.dir);
      run(`rsync -a --inplace --checksum ${q(`${tmp}/copy/`)} ${q(`${R}/`)}`, m.dir);
      run(`touch ${q(`${tmp}/copy/id`)} && rsync -a ${q(`${tmp}/copy/`)} ${q(`${R}/`)}`, m.dir);
    });
    assert.equal(st.mutations, 0, `no mutation (${JSON.stringify(st.fields)})`);
    await assertUnchanged(sim, t, 'rewrites');
    assert.equal(errors().split('\n').length, n, 'no error line');
    // A secret the mount holds, copied back as it shows: no new one.
    const keys = 'service-accounts/ci-runner/keys';
    run(`ls -A ${q(keys)} > /dev/null && mkdir ${q(`${keys}/restore-me`)}`, m.dir);
    const tok = `${keys}/restore-me/token`;
    run(`cp ${q(tok)} ${q(`${tmp}/token`)}`, m.dir);
    const { st: st3 } = await sent(() => {
      run(`cp ${q(`${tmp}/token`)} ${q(tok)} && touch ${q(tok)}`, m.dir);
      run(`rsync -a ${q(`${tmp}/token`)} ${q(tok)}`, m.dir);
    });
    assert.equal(st3.mutations, 0, `a secret written back (${JSON.stringify(st3.fields)})`);
    assert.equal(sh(`cat ${q(tok)}`, m.dir), sh(`cat ${q(`${tmp}/token`)}`, tmp), 'the same secret');
    assert.equal(errors().split('\n').length, n, 'no error line');
    // A different value of a read-only field: EACCES, at write(2).
    const { st: st2 } = await sent(() => fails(`echo x > ${q(`${R}/id`)}`, m.dir, EACCES));
    assert.equal(st2.requests, 0);
  });
});
