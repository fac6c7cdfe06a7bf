// editors.test.mjs - the ways people and programs change a file, with
// their default settings, through a real mount (DESIGN.md §3 "Editors"):
// each changes exactly the one field it edits, in one mutation and no
// read, and leaves the object folder listing as it was (no swap, backup or
// temporary file behind, no stray object).  Also object.json edits, scratch
// files (held in memory only), and several writers at once.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sh, shStatus, teardown } from './lib.mjs';
import { q, setup, mountAs, obj, pathOf, fieldText, patchLines, assertChanges,
         assertUnchanged, cost, assertOneMutation, assertNoMutation, run, together,
         lines, labelOf } from './writes.mjs';

// Python one-liners: a temporary file in the same folder, then os.replace
// onto the target (what sed -i and many tools do).
const PY_REPLACE = 'import os, sys, tempfile\n'
  + 'fd, tmp = tempfile.mkstemp(dir=os.path.dirname(sys.argv[1]))\n'
  + 'os.write(fd, sys.argv[2].encode()); os.close(fd); os.replace(tmp, sys.argv[1])';
const PY_TRUNC = 'import os, sys\n'
  + 'fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC); os.write(fd, sys.argv[2].encode()); os.close(fd)';
const PY_JSON = 'import json, os, sys, tempfile\n'
  + 'path = sys.argv[1]; o = json.load(open(path)); o.update(json.loads(sys.argv[2]))\n'
  + 'fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path))\n'
  + 'with os.fdopen(fd, "w") as f: json.dump(o, f, indent=2, ensure_ascii=False); f.write("\\n")\n'
  + 'os.replace(tmp, path)';

describe('editors with default settings change exactly one field', () => {
  let sim, m;
  before(async () => { ({ sim, m } = await setup()); });
  after(() => teardown(m, sim));

  // [how, user email or resource name, file, new value, command(f, v, old, dir)]
  // f and dir: shell words (relative to the mount); old: the value before.
  const U = (n) => `${n}@example.com`;
  const CASES = [
    ['echo', U('ada.lovelace'), 'first-name', 'Augusta', (f, v) => `echo ${q(v)} > ${f}`],
    ['printf without a newline (sent at close)', U('grace.hopper'), 'first-name', 'Amazing Grace',
      (f, v) => `printf %s ${q(v)} > ${f}`],
    ['tee', U('alan.turing'), 'first-name', 'Alan M.', (f, v) => `echo ${q(v)} | tee ${f} > /dev/null`],
    ['cp of a local file', U('jurgen.muller'), 'last-name', 'Mueller',
      (f, v) => `t=$(mktemp) && echo ${q(v)} > "$t" && cp "$t" ${f}; r=$?; rm -f "$t"; exit $r`],
    // (truncate -s 0 then echo >> was here: issue 20 makes >> to a one-value
    // field EINVAL, and emptying a field that takes no null EINVAL too.)
    ['rsync --inplace of a shorter value (overlay, then ftruncate)', U('yuki.tanaka'), 'last-name', 'Tan',
      (f, v) => `t=$(mktemp) && echo ${q(v)} > "$t" && rsync --inplace "$t" ${f}; r=$?; rm -f "$t"; exit $r`],
    ['dd of=', U('margaret.hamilton'), 'first-name', 'Maggie',
      (f, v) => `echo ${q(v)} | dd of=${f} status=none`],
    ['sed -i', U('ken.thompson'), 'first-name', 'Kenneth', (f) => `sed -i 's/^Ken$/Kenneth/' ${f}`],
    ['vim -E -s (swap file, writebackup)', U('linus.torvalds'), 'last-name', 'Torvalds Sr',
      (f) => `vim -E -s -c '%s/Torvalds/Torvalds Sr/' -c wq ${f}`],
    ['vim with backupcopy=no (backup by rename)', U('barbara.liskov'), 'last-name', 'Liskov-Wing',
      (f) => `vim -E -s -c 'set backupcopy=no' -c '%s/Liskov/Liskov-Wing/' -c wq ${f}`],
    ['ex', 'Intranet / Wiki', 'alias', 'wiki2.tg', (f) => `ex -s -c '%s/wiki/wiki2/' -c wq ${f}`],
    ['nano-style open(O_WRONLY|O_TRUNC) and write', 'grafana', 'alias', 'grafana2.tg',
      (f, v) => `python3 -c ${q(PY_TRUNC)} ${f} ${q(`${v}\n`)}`],
    ['emacs-style lock link and auto-save file', U('ada.lovelace'), 'last-name', 'King',
      (f, v, old, dir) => `cd ${dir} && ln -s root@host.4242:1700000000 .#last-name`
        + ` && printf '%s\\n' ${q(v)} > '#last-name#' && echo ${q(v)} > last-name`
        + ` && rm '#last-name#' .#last-name`],
    ['python tempfile + os.replace', U('grace.hopper'), 'last-name', 'Hopper-Murray',
      (f, v) => `python3 -c ${q(PY_REPLACE)} ${f} ${q(`${v}\n`)}`],
  ];
  const collOf = (name) => (name.includes('@') ? 'users' : 'resources');
  const KEY = { 'first-name': 'firstName', 'last-name': 'lastName', alias: 'alias' };
  const MUTATION = { users: 'userDetailsUpdate', resources: 'resourceUpdate' };

  // Runs the command cmdOf(dir) on object @name (warm cache); asserts one
  // mutation, the tenant changes @patch and nothing else, and `ls -A` of
  // the folder is as before.
  async function edit(name, cmdOf, patch, check) {
    const coll = collOf(name);
    const t = await sim.tenant();
    const o = obj(t, coll, name);
    const dir = pathOf(t, o);
    shStatus(`cat ${q(dir)}/* > /dev/null`, m.dir); // warm
    const listing = sh(`ls -A ${q(dir)}`, m.dir);
    const cmd = cmdOf(dir);
    const { st } = await cost(sim, () => run(cmd, m.dir));
    assertOneMutation(st, MUTATION[coll], cmd);
    const now = await assertChanges(sim, t, patchLines(coll, o, patch), cmd);
    if (check) check(now[coll].find((x) => x.id === o.id), dir);
    assert.equal(sh(`ls -A ${q(dir)}`, m.dir), listing, 'the folder lists what it did before');
  }

  for (const [how, name, file, value, cmd] of CASES) {
    test(`${how}: ${name}/${file} becomes ${JSON.stringify(value)}`, () => edit(name, (dir) => {
      const f = `${dir}/${file}`;
      const old = sh(`cat ${q(f)}`, m.dir).replace(/\n$/, '');
      assert.notEqual(old, value, 'the field does not hold the value yet');
      return cmd(q(f), value, old, q(dir));
    }, { [KEY[file]]: value }, (after, dir) => {
      assert.equal(fieldText(collOf(name), after, file), `${value}\n`);
      assert.equal(sh(`cat ${q(`${dir}/${file}`)}`, m.dir), `${value}\n`, 'the mount shows it');
    }));
  }

  // object.json: [how, object, patch, command(f, dir)]
  const JSON_CASES = [
    ['sed -i', U('alan.turing'), { lastName: 'Turing OBE' },
      (f) => `sed -i 's/"Turing"/"Turing OBE"/' ${f}`],
    ['python json.load, edit, temp file + os.replace', U('jurgen.muller'), { firstName: 'Juergen' },
      (f) => `python3 -c ${q(PY_JSON)} ${f} '{"firstName": "Juergen"}'`],
    ['cp of an edited copy', U('yuki.tanaka'), { firstName: 'Yukiko' },
      (f) => `t=$(mktemp) && sed 's/"Yuki"/"Yukiko"/' ${f} > "$t" && cp "$t" ${f}; r=$?; rm -f "$t"; exit $r`],
    ['vim -E -s', U('margaret.hamilton'), { lastName: 'Hamilton-Smith' },
      (f) => `vim -E -s -c '%s/"Hamilton"/"Hamilton-Smith"/' -c wq ${f}`],
    ['python, two fields at once', 'Web App (staging)', { alias: 'staging.tg', isVisible: false },
      (f) => `python3 -c ${q(PY_JSON)} ${f} '{"alias": "staging.tg", "isVisible": false}'`],
  ];
  for (const [how, name, patch, cmd] of JSON_CASES) {
    test(`object.json by ${how}: one update with only the changed fields`, () =>
      edit(name, (dir) => cmd(q(`${dir}/object.json`), q(dir)), patch, (after, dir) => {
        const json = JSON.parse(sh(`cat ${q(`${dir}/object.json`)}`, m.dir));
        for (const [k, v] of Object.entries(patch)) assert.deepEqual(json[k], v, `object.json ${k}`);
      }));
  }
});

describe('scratch files live in memory only', () => {
  let sim, m;
  before(async () => { ({ sim, m } = await setup()); });
  after(() => teardown(m, sim));

  test('a file created in an object folder can be written, read and removed, never sent', async () => {
    const t = await sim.tenant();
    const dirs = ['networks/AWS prod', 'resources/prod-db', `devices/${t.devices[0].id}`,
      'users/ada.lovelace@example.com', 'service-accounts/ci-runner/keys/gitlab'];
    sh(dirs.map((d) => `ls -A ${q(d)}`).join('; ') + ' > /dev/null', m.dir);
    const { st } = await cost(sim, () => {
      for (const d of dirs) {
        const before = lines(sh(`ls -A ${q(d)}`, m.dir));
        run(`touch ${q(`${d}/notes`)} && echo hello > ${q(`${d}/notes`)}`
          + ` && printf 'a\\nb\\n' > ${q(`${d}/.notes.swp`)}`, m.dir);
        assert.equal(sh(`cat ${q(`${d}/notes`)}`, m.dir), 'hello\n');
        assert.equal(sh(`cat ${q(`${d}/.notes.swp`)}`, m.dir), 'a\nb\n');
        const during = lines(sh(`ls -A ${q(d)}`, m.dir));
        assert.deepEqual(during.filter((x) => !before.includes(x)).sort(), ['.notes.swp', 'notes']);
        run(`rm ${q(`${d}/notes`)} ${q(`${d}/.notes.swp`)}`, m.dir);
        assert.deepEqual(lines(sh(`ls -A ${q(d)}`, m.dir)), before, `${d}: removed`);
      }
    });
    assertNoMutation(st, 'scratch files');
    await assertUnchanged(sim, t, 'after scratch files');
  });

  test('a scratch file is gone after unmount', async () => {
    const t = await sim.tenant();
    run("echo remember > 'groups/Engineering/todo'", m.dir);
    assert.equal(sh("cat 'groups/Engineering/todo'", m.dir), 'remember\n');
    await m.unmount();
    m = await mountAs(sim, 'sim-write');
    assert.ok(!lines(sh("ls -A 'groups/Engineering'", m.dir)).includes('todo'));
    await assertUnchanged(sim, t);
  });
});

describe('several writers at once', () => {
  let sim, m;
  before(async () => { ({ sim, m } = await setup()); });
  after(() => teardown(m, sim));

  test('4 processes writing 4 device trust files at once all succeed', async () => {
    const t = await sim.tenant();
    const devs = t.devices.filter((d) => !d.isTrusted && d.activeState === 'ACTIVE').slice(0, 4);
    assert.equal(devs.length, 4);
    sh(`cat ${devs.map((d) => `devices/${d.id}/trust`).join(' ')} > /dev/null`, m.dir);
    const { r } = await cost(sim, () => together(devs.map((d) =>
      `echo trusted > devices/${d.id}/trust`), m.dir));
    r.forEach((x, i) => assert.equal(x.status, 0, `writer ${i}: ${x.stderr}`));
    const st = await sim.stats();
    assert.equal(st.fields.deviceUpdate, 4, JSON.stringify(st.fields));
    await assertChanges(sim, t, devs.map((d) => `devices ${labelOf(d)} isTrusted: true`));
    for (const d of devs) assert.equal(sh(`cat devices/${d.id}/trust`, m.dir), 'trusted\n');
  });

  test('two writers of one field: the result is one of the two values, never a mix', async () => {
    const f = 'users/barbara.liskov@example.com/first-name';
    const a = `A${'a'.repeat(200)}`;
    const b = `B${'b'.repeat(200)}`;
    for (let round = 0; round < 3; round++) {
      const r = await together([`echo ${a} > ${f}`, `echo ${b} > ${f}`], m.dir);
      assert.ok(r.some((x) => x.status === 0), `at least one writer succeeds: ${r.map((x) => x.stderr)}`);
      const now = obj(await sim.tenant(), 'users', 'barbara.liskov@example.com').firstName;
      assert.ok([a, b].includes(now), `the tenant holds one of the two: ${now}`);
      assert.equal(sh(`cat ${f}`, m.dir), `${now}\n`, 'the mount shows what the tenant holds');
    }
  });
});
