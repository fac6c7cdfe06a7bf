// bench.test.mjs - bench/run.mjs still runs and counts what it says it does:
// a short run on the tiny tenant (one listing, one object, the latency
// cost, the overhead), checked through its --json output.  Its timings
// are printed, never asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { root, tempDir, rmSync, BIN } from './lib.mjs';

test('bench/run.mjs on the tiny tenant: exact requests, a latency cost, an overhead ratio', () => {
  const dir = tempDir();
  const out = join(dir, 'bench.json');
  let r, j;
  try {
    r = spawnSync(process.execPath,
      [join(root, 'bench', 'run.mjs'), '--size', 'tiny', '--latency-ms', '20',
        '--only', 'ls-networks,cat-trust,overhead', '--latency-cost',
        '--overhead-size', 'tiny', '--overhead-reps', '2', '--json', out],
      { encoding: 'utf8', timeout: 120000, env: { ...process.env, TWINGATEFS_BIN: BIN } });
    assert.equal(r.status, 0, `bench/run.mjs failed:\n${r.stdout}\n${r.stderr}`);
    j = JSON.parse(readFileSync(out, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const row = (op) => j.rows.find((x) => x.op === op);
  assert.equal(row('ls-networks').requests, 1, 'one page of networks');
  assert.equal(row('cat-trust').requests, 1, 'one object by id');
  for (const op of ['ls-networks', 'cat-trust']) {
    assert.ok(row(op).ok, `${op}: ${row(op).error}`);
    assert.ok(row(op).wall0Ms > 0, `${op} ran again at 0 ms`);
  }
  assert.match(r.stdout, /latency cost \(issue 5 item 3\)/);
  assert.ok(j.overhead.ratio > 0 && j.overhead.requestsDuringTiming === 0,
    JSON.stringify(j.overhead));
  process.stdout.write(r.stdout.split('\n').filter((l) => /^(ls|cat|  (ls|cat|find))/.test(l)).join('\n') + '\n');
});

test('bench/roundtrips: its patch still applies, and every variant mounts and prints its figures', () => {
  const r = spawnSync(join(root, 'bench', 'roundtrips'), ['1'],
    { encoding: 'utf8', timeout: 300000 });
  assert.equal(r.status, 0, `bench/roundtrips failed:\n${r.stdout}\n${r.stderr}`);
  const variants = ['as-shipped', 'dir_open', 'noopen', 'noopen noflush'];
  for (const v of variants) {
    const line = r.stdout.split('\n').find((l) => l.startsWith(v.padEnd(28)));
    assert.ok(line, `no row for ${v}:\n${r.stdout}`);
    const nums = line.slice(28).trim().split(/\s+/).map(Number);
    assert.equal(nums.length, 6, line);
    assert.ok(nums.every((x) => x > 0), line);
  }
  process.stdout.write(r.stdout);
});
