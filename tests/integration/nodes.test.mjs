// nodes.test.mjs - the node ids the kernel holds (fs/ll.c, fs/inodes.c):
// the daemon keeps one per file or folder the kernel looked up, frees it
// when the kernel forgets it (here: drop_caches), and the tree reads the
// same afterwards, with ids given out again; a file unlinked while open
// lives on under a hidden name until its last close.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startSim, mount, sh, teardown, waitFor } from './lib.mjs';

const kernelNodes = (dir) => {
  const m = readFileSync(`${dir}/.twingatefs/stats`, 'utf8').match(/^kernel-nodes: (\d+)$/m);
  assert.ok(m, 'stats show kernel-nodes');
  return Number(m[1]);
};

describe('node ids the kernel holds', () => {
  let sim, m;
  before(async () => {
    sim = await startSim(['--size', 'small']);
    m = await mount(sim, { token: 'sim-write', opts: ['rate_read=0', 'rate_write=0'] });
  });
  after(async () => {
    await teardown(m, sim);
  });

  test('a walk holds one a folder; forgotten ones are freed and the tree reads the same after', async () => {
    const before = kernelNodes(m.dir);
    const list = sh('find . | sort', m.dir);
    const dirs = Number(sh('find . -type d | wc -l', m.dir).trim());
    const content = sh('find networks -maxdepth 2 -type f -name name -print0 | sort -z | xargs -0 cat', m.dir);
    const walked = kernelNodes(m.dir);
    // every folder was looked up (find stats them), the root was there before
    assert.ok(walked - before >= dirs - 1, `${walked} - ${before} >= ${dirs} - 1`);
    // The kernel drops what no one uses and sends FORGETs for it.
    sh('sync; echo 2 > /proc/sys/vm/drop_caches', '/');
    await waitFor(() => kernelNodes(m.dir) < walked / 4, 10000, 'the kernel to forget its nodes');
    assert.equal(sh('find . | sort', m.dir), list);
    assert.equal(sh('find networks -maxdepth 2 -type f -name name -print0 | sort -z | xargs -0 cat', m.dir), content);
    assert.ok(kernelNodes(m.dir) <= walked + 2, 'ids freed are given out again, not added to');
  });

  test('a file unlinked while open is hidden until its last close, and then goes', async () => {
    const dir = sh('ls -d networks/*/ | head -1', m.dir).trim();
    const hidden = () => sh(`ls -a "${dir}" | grep -c '^\\.fuse_hidden' || true`, m.dir).trim();
    const out = sh(`exec 3>"${dir}/.t.swp"; echo one >&3; rm "${dir}/.t.swp"; ` +
                   `test ! -e "${dir}/.t.swp" && echo gone; ls -a "${dir}" | grep -c '^\\.fuse_hidden'; ` +
                   `echo two >&3 && echo written; exec 3>&-`, m.dir);
    assert.equal(out, 'gone\n1\nwritten\n');
    // The RELEASE that unlinks it comes after close(2) returns.
    await waitFor(() => hidden() === '0', 10000, 'the hidden file to go');
    assert.equal(sh(`ls -a "${dir}" | grep -c '\\.swp' || true`, m.dir).trim(), '0');
  });
});
