// schema.test.mjs - the live schema decides what is asked (DESIGN.md §2,
// "The live schema"; issue 21 item 3).  The daemon runs against each of
// the simulator's schema variants, which differ the way the real API
// might: every listing and `find` works, a field the API lacks has no
// file, a field only on a subtype is read through a fragment, a write
// that needs an argument or mutation the API lacks fails with EOPNOTSUPP
// and sends nothing, a field the daemon does not know is ignored, and
// reading the schema costs one request at mount.  Then every document the
// daemon sent in a sample of reads and writes validates against the
// shared schema with graphql-js (and, under the other reading of its
// "# unconfirmed" isBrowserShortcutEnabled, against that one too).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSim, mount, teardown, sh, shStatus, root, exactCounts } from './lib.mjs';
import { expectTree, diffTree, KINDS } from './expect.mjs';
import { lines, q, obj, pathOf, SIM_ARGS, NO_PACING } from './writes.mjs';

const { buildSchema, parse, validate } = await import(
  join(root, 'tests', 'sim', 'node_modules', 'graphql', 'index.mjs'));

// The shared schema: ../shared/twingate-api/ next to the checkout (or next
// to a folder above it, for worktrees kept in a subfolder).
function findShared() {
  for (let d = root; ; d = dirname(d)) {
    const f = join(dirname(d), 'shared', 'twingate-api', 'schema.graphql');
    if (existsSync(f)) return f;
    if (dirname(d) === d) return null;
  }
}
const SHARED = findShared();

// The object folders a diff looks into: the first few of each kind.
function owners(tree, n = 3) {
  const out = new Set();
  for (const k of KINDS) for (const r of tree.byKind[k.key].slice(0, n)) out.add(r.path);
  return out;
}

// The tree the model expects, less the files of fields @gone ([kind key,
// file]).
function treeWithout(t, gone = []) {
  const tree = expectTree(t);
  for (const [key, file] of gone) {
    for (const r of tree.byKind[key]) tree.entries.delete(`${r.path}/${file}`);
  }
  return tree;
}

// Mounts a simulator started with @variant (and the documents recorded).
async function setupVariant(variant, token = 'sim-write', opts = []) {
  const sim = await startSim([...SIM_ARGS, '--record-documents',
    ...(variant ? ['--schema-variant', variant] : [])]);
  let m;
  try {
    m = await mount(sim, { token, opts: [...NO_PACING, ...opts] });
  } catch (e) {
    await sim.stop();
    throw e;
  }
  return { sim, m };
}

// What /.twingatefs/errors holds.
const errorsOf = (m) => readFileSync(m.path('.twingatefs/errors'), 'utf8');

// The checks every variant passes: one introspection request at mount,
// `find` and every listing, and a sample of folders against the model.
function commonChecks(ctx, gone = []) {
  test('the schema was read at mount by one request', { skip: !exactCounts() }, async () => {
    const st = ctx.mountStats;
    assert.equal(st.operations.tgfsSchema, 1, JSON.stringify(st.operations));
    assert.equal(st.fields.__schema, 1);
    // the token check and the schema: nothing else before the first ls
    assert.equal(st.requests, 2, JSON.stringify(st.operations));
  });

  test('find and every listing work, and sampled folders match the tenant', async () => {
    const r = shStatus('find . > /dev/null', ctx.m.path());
    assert.equal(r.status, 0, r.stderr);
    const tree = treeWithout(ctx.t, gone);
    const bad = diffTree(ctx.m.path(), tree, { owners: owners(tree), tenant: gone.length ? null : ctx.t });
    assert.deepEqual(bad, []);
    // The whole walk: every file reads.
    const c = shStatus('find . -type f -exec cat {} + > /dev/null', ctx.m.path());
    assert.equal(c.status, 0, c.stderr);
  });

  test('schema.graphql is the schema served, as SDL graphql-js reads', async () => {
    const sdl = readFileSync(ctx.m.path('.twingatefs/schema.graphql'), 'utf8');
    const mine = buildSchema(sdl);
    const served = buildSchema(await ctx.sim.getText('/_sim/schema'));
    const shape = (s) => Object.fromEntries(Object.values(s.getTypeMap())
      .filter((x) => !x.name.startsWith('__'))
      .map((x) => [x.name, [
        ...Object.values(x.getFields?.() ?? {}).map((f) => `${f.name}(${(f.args ?? []).map((a) => `${a.name}: ${a.type}`).join(', ')}): ${f.type}`),
        ...(x.getValues?.() ?? []).map((v) => v.name),
        ...(x.getTypes?.() ?? []).map((u) => `| ${u.name}`),
        ...(x.getInterfaces?.() ?? []).map((i) => `& ${i.name}`),
      ].sort()]));
    assert.deepEqual(shape(mine), shape(served));
  });
}

for (const variant of [null, 'browser-shortcut-on-network-resource', 'no-connector-hostname',
  'extra-field', 'no-resource-alias-update', 'no-serial-numbers-create']) {
  describe(`the daemon against the ${variant ?? 'default'} schema`, () => {
    const ctx = {};
    before(async () => {
      Object.assign(ctx, await setupVariant(variant));
      ctx.mountStats = await ctx.sim.stats();
      ctx.t = await ctx.sim.tenant();
    });
    after(() => teardown(ctx.m, ctx.sim));

    const gone = variant === 'no-connector-hostname' ? [['connectors', 'hostname']] : [];
    commonChecks(ctx, gone);

    if (variant === 'no-connector-hostname') {
      test('a connector shows no hostname, in its folder nor in object.json, and the log says why', () => {
        const dirs = lines(sh('ls -d networks/*/connectors/*/', ctx.m.path()));
        assert.ok(dirs.length > 3);
        for (const d of dirs) {
          const files = lines(sh(`ls -1 ${q(d)}`, ctx.m.path()));
          assert.ok(!files.includes('hostname'), d);
          assert.ok(files.includes('version') && files.includes('public-ip'), d);
          const json = JSON.parse(readFileSync(ctx.m.path(`${d}object.json`), 'utf8'));
          assert.ok(!('hostname' in json), d);
          assert.ok('version' in json, d);
        }
        assert.equal(shStatus(`cat ${q(dirs[0])}hostname`, ctx.m.path()).status, 1);
        const said = ctx.m.log().split('\n').filter((l) => l.includes('Connector.hostname'));
        assert.equal(said.length, 1, ctx.m.log());
      });
    }

    if (variant === 'browser-shortcut-on-network-resource') {
      test('browser-shortcut reads through a fragment, and a write of it works', async () => {
        for (const r of ctx.t.resources) {
          const p = pathOf(ctx.t, r);
          assert.equal(readFileSync(ctx.m.path(`${p}/browser-shortcut`), 'utf8'),
            `${r.isBrowserShortcutEnabled}\n`, p);
        }
        const r = ctx.t.resources.find((x) => !x.isBrowserShortcutEnabled);
        const before_ = (await ctx.sim.stats()).mutations;
        sh(`echo true > ${q(pathOf(ctx.t, r))}/browser-shortcut`, ctx.m.path());
        assert.equal((await ctx.sim.stats()).mutations - before_, 1);
        assert.equal(obj(await ctx.sim.tenant(), 'resources', r.name).isBrowserShortcutEnabled, true);
        assert.equal(readFileSync(ctx.m.path(`${pathOf(ctx.t, r)}/browser-shortcut`), 'utf8'), 'true\n');
      });
    }

    if (variant === 'extra-field') {
      test('a field the kinds table does not know is neither asked nor shown', async () => {
        const n = ctx.t.remoteNetworks[0];
        const p = pathOf(ctx.t, n);
        const json = JSON.parse(readFileSync(ctx.m.path(`${p}/object.json`), 'utf8'));
        assert.ok(!('aliveConnectorCount' in json));
        assert.ok(!lines(sh(`ls -1 ${q(p)}`, ctx.m.path())).some((f) => /alive/i.test(f)));
        const docs = (await ctx.sim.get('/_sim/documents')).documents;
        assert.ok(!docs.some((d) => d.includes('aliveConnectorCount')));
      });
    }

    if (variant === 'no-resource-alias-update') {
      test('writing alias, an argument resourceUpdate lacks: EOPNOTSUPP, nothing sent, a line in errors', async () => {
        const r = ctx.t.resources.find((x) => x.alias === null) ?? ctx.t.resources[0];
        const p = pathOf(ctx.t, r);
        const st0 = await ctx.sim.stats();
        const w = shStatus(`echo db.example > ${q(p)}/alias`, ctx.m.path());
        assert.notEqual(w.status, 0);
        assert.match(w.stderr, /Operation not supported/);
        const st1 = await ctx.sim.stats();
        assert.equal(st1.mutations - st0.mutations, 0);
        assert.equal(st1.requests - st0.requests, 0);
        assert.deepEqual(obj(await ctx.sim.tenant(), 'resources', r.name).alias, r.alias);
        assert.match(errorsOf(ctx.m), /alias: .*no argument alias of resourceUpdate/);
        // The alias is still read, and other fields still written.
        assert.equal(readFileSync(ctx.m.path(`${p}/alias`), 'utf8'), r.alias === null ? '' : `${r.alias}\n`);
        sh(`echo false > ${q(p)}/is-visible`, ctx.m.path());
        assert.equal((await ctx.sim.stats()).mutations - st1.mutations, 1);
        assert.equal(obj(await ctx.sim.tenant(), 'resources', r.name).isVisible, false);
      });
    }

    if (variant === 'no-serial-numbers-create') {
      const has = () => existsSync(ctx.m.path('serial-numbers'));
      test('mkdir under serial-numbers/ (no serialNumbersCreate): EOPNOTSUPP, nothing sent', async (t) => {
        if (!has()) return t.todo('no serial-numbers/ folder in this tree yet (issue 21 item 2)');
        const st0 = await ctx.sim.stats();
        const w = shStatus('mkdir serial-numbers/SN-SCHEMA-1', ctx.m.path());
        assert.notEqual(w.status, 0);
        assert.match(w.stderr, /Operation not supported/);
        assert.equal((await ctx.sim.stats()).mutations - st0.mutations, 0);
        assert.match(errorsOf(ctx.m), /no mutation serialNumbersCreate/);
      });
      test('the log names the mutation the schema lacks, at mount', (t) => {
        if (!has()) return t.todo('no serial-numbers/ folder in this tree yet (issue 21 item 2)');
        assert.match(ctx.m.log(), /no mutation serialNumbersCreate/);
      });
    }
  });
}

describe('introspection refused: the built-in table, and the mount goes on', () => {
  let sim, m;
  before(async () => {
    sim = await startSim(SIM_ARGS);
    // Refused as a real API may: an errors[] answer, every time.
    await sim.faults({ match: '__schema', status: 400, count: 100 });
    m = await mount(sim, { opts: NO_PACING });
  });
  after(() => teardown(m, sim));

  test('find works, schema.graphql says why it is empty, the log has one line', async () => {
    const r = shStatus('find . > /dev/null', m.path());
    assert.equal(r.status, 0, r.stderr);
    assert.match(readFileSync(m.path('.twingatefs/schema.graphql'), 'utf8'), /could not be read/);
    assert.equal(m.log().split('\n').filter((l) => /introspection failed/.test(l)).length, 1, m.log());
    const st = await sim.stats();
    assert.equal(st.fields.__schema ?? 0, 0); // refused before it ran
  });
});

// ---- every document the daemon sends validates ----

// A sample of reads and writes that sends every kind of document: listings
// (pages batched, nested pages), lookups, each kind's update, create and
// delete, link adds and removes, secrets, a draft's create.
function sample(m, t) {
  const net = pathOf(t, t.remoteNetworks[0]);
  const r = t.resources.find((x) => x.securityPolicyId);
  const res = pathOf(t, r);
  const granted = new Set(t.access.filter((e) => e.resourceId === r.id).map((e) => e.principalId));
  const grp = pathOf(t, t.groups.find((g) => g.type === 'MANUAL' && !granted.has(g.id)));
  const vpc = pathOf(t, obj(t, 'resources', 'VPC subnet'));
  const cmds = [
    // A name looked up before its folder is listed: a look-up by name.
    `cat ${q(res)}/name > /dev/null`,
    'find . > /dev/null',
    'find . -type f -exec cat {} + > /dev/null',
    `echo aws > ${q(net)}/location`,
    `echo false > ${q(res)}/is-visible`,
    `echo 'icmp: deny\ntcp: 443\nudp: deny-all' > ${q(res)}/protocols`,
    `echo 'env=prod' > ${q(res)}/tags`,
    `echo bypass_twingate > ${q(vpc)}/routing-mode`,
    `echo true > ${q(res)}/browser-shortcut`,
    `echo x.example > ${q(res)}/alias`,
    `rm ${q(res)}/security-policy`,
    `ln -s ../../${q(grp)} ${q(res)}/access/groups/`,
    `echo 7 > ${q(res)}/access/groups/${q(grp.split('/').pop())}/autolock-days`,
    `echo manual > ${q(res)}/access/groups/${q(grp.split('/').pop())}/approval-mode`,
    `rmdir ${q(res)}/access/groups/${q(grp.split('/').pop())}`,
    'mkdir serial-numbers/SCHEMA-TEST-SN',
    'rmdir serial-numbers/SCHEMA-TEST-SN',
    'r=$(ls access-requests | head -1); [ -n "$r" ] && echo reject > "access-requests/$r/decision"',
    'mkdir groups/schema-test-group',
    'mv groups/schema-test-group groups/schema-test-group-2',
    'rmdir groups/schema-test-group-2',
    'mkdir networks/schema-net',
    'mkdir networks/schema-net/connectors/schema-conn',
    'echo new > networks/schema-net/connectors/schema-conn/tokens',
    'rmdir networks/schema-net/connectors/schema-conn',
    'mkdir resources/schema-res',
    'ln -s ../../networks/schema-net resources/schema-res/network',
    'echo schema.example > resources/schema-res/address',
    'rmdir resources/schema-res',
    'rmdir networks/schema-net',
    `echo trusted > devices/${q(t.devices[1].id)}/trust`,
    `echo archived > devices/${q(t.devices[2].id)}/state`,
    'mkdir service-accounts/schema-sa',
    'mkdir service-accounts/schema-sa/keys/k1',
    'cat service-accounts/schema-sa/keys/k1/token > /dev/null',
    'rmdir service-accounts/schema-sa/keys/k1',
    'rmdir service-accounts/schema-sa',
    `echo Augusta > users/${q(t.users[0].email)}/first-name`,
    `echo admin > users/${q(t.users[1].email)}/role`,
    `sed -i 's/"name": "[^"]*"/"name": "Renamed Net"/' ${q(net)}/object.json`,
    'echo > .twingatefs/refresh',
    `ls ${q(res)}/access/groups > /dev/null`,
  ];
  const failed = [];
  for (const c of cmds) {
    const r = shStatus(c, m.path());
    if (r.status !== 0) failed.push(`${c}: ${r.stderr.trim()}`);
  }
  return failed;
}

for (const variant of [null, 'browser-shortcut-on-network-resource']) {
  test(`every document sent against the ${variant ?? 'default'} schema validates against the shared schema${variant ? ' and the variant' : ''}`,
    { skip: !SHARED && 'no ../shared' }, async () => {
      // Small pages: batched pages and nested pages are sent too.
      const { sim, m } = await setupVariant(variant, 'sim-provision', ['page_size=5']);
      try {
        const t = await sim.tenant();
        assert.deepEqual(sample(m, t), []);
        const docs = (await sim.get('/_sim/documents')).documents;
        const ops = new Set(docs.map((d) => (d.match(/^(?:query|mutation) (\w+)/) ?? [])[1]));
        // The sample reached what it means to: listings, nested pages,
        // lookups by name, and the mutations of every kind.
        for (const op of ['tgfsSchema', 'tgfsCheck', 'tgfsList_users', 'tgfsNested_groups', 'tgfsFind_resources', 'tgfs_remoteNetworkCreate', 'tgfs_resourceCreate',
          'tgfs_resourceUpdate', 'tgfs_resourceAccessAdd', 'tgfs_resourceAccessRemove',
          'tgfs_connectorGenerateTokens', 'tgfs_serviceAccountKeyCreate', 'tgfs_deviceArchive',
          'tgfs_userRoleUpdate', 'tgfs_groupDelete', 'tgfs_serialNumbersCreate', 'tgfs_serialNumbersDelete',
          'tgfs_accessRequestReject']) {
          assert.ok(ops.has(op), `${op} among ${[...ops].join(' ')}`);
        }
        const schemas = [['shared', buildSchema(readFileSync(SHARED, 'utf8'))]];
        if (variant) schemas.push([variant, buildSchema(await sim.getText('/_sim/schema'))]);
        const bad = [];
        for (const d of docs) {
          for (const [name, s] of schemas) {
            const errs = validate(s, parse(d));
            if (errs.length) bad.push(`${name}: ${errs[0].message}\n  in ${d.slice(0, 300)}`);
          }
        }
        assert.deepEqual(bad, []);
        assert.ok(docs.length > 20, `${docs.length} documents`);
      } finally {
        await teardown(m, sim);
      }
    });
}
