// nodes.test.mjs - the node ids the kernel holds (fs/ll.c, fs/inodes.c):
// the daemon keeps one per file or folder the kernel looked up, frees it
// when the kernel forgets it (here: drop_caches), and the tree reads the
// same afterwards, with ids given out again; a file removed while open
// goes at once (no .fuse_hidden* name, as libfuse's high-level API gave).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startSim, mount, sh, teardown, waitFor } from './lib.mjs';

const stat = (dir, name) => {
  const m = readFileSync(`${dir}/.twingatefs/stats`, 'utf8').match(new RegExp(`^${name}: (\\d+)$`, 'm'));
  assert.ok(m, `stats show ${name}`);
  return Number(m[1]);
};
const kernelNodes = (dir) => stat(dir, 'kernel-nodes');

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
    const most = stat(m.dir, 'kernel-nodes-most');
    assert.ok(most >= walked, `${most} >= ${walked}`);
    // every folder was looked up (find stats them), the root was there before
    assert.ok(walked - before >= dirs - 1, `${walked} - ${before} >= ${dirs} - 1`);
    // The kernel drops what no one uses and sends FORGETs for it.
    sh('sync; echo 2 > /proc/sys/vm/drop_caches', '/');
    await waitFor(() => kernelNodes(m.dir) < walked / 4, 10000, 'the kernel to forget its nodes');
    assert.equal(sh('find . | sort', m.dir), list);
    assert.equal(sh('find networks -maxdepth 2 -type f -name name -print0 | sort -z | xargs -0 cat', m.dir), content);
    // The second walk took the ids the first freed: the most held at
    // once grew by no more than the few files read above (a walk's worth
    // if freed ids were never given out again).
    assert.ok(kernelNodes(m.dir) > walked / 2, 'the second walk holds its nodes');
    assert.ok(stat(m.dir, 'kernel-nodes-most') <= most + 2,
      `${stat(m.dir, 'kernel-nodes-most')} <= ${most} + 2: ids freed are given out again, not added to`);
  });

  test('a file removed while open goes at once: its folder never shows a .fuse_hidden name', () => {
    const dir = sh('ls -d networks/*/ | head -1', m.dir).trim();
    const hidden = `ls -a "${dir}" | grep -c '^\\.fuse_hidden' || true`;
    assert.equal(sh(`exec 3>"${dir}/.t.swp"; echo one >&3; rm "${dir}/.t.swp"; ${hidden}; ` +
                    `test ! -e "${dir}/.t.swp" && echo gone; exec 3>&-; ${hidden}`, m.dir),
                 '0\ngone\n0\n');
    // vim's order: the swap file is closed, then removed, and the folder
    // listed right after (the close's RELEASE may not have come yet)
    assert.equal(sh(`for i in $(seq 20); do exec 3>"${dir}/.v.swp"; echo x >&3; exec 3>&-; ` +
                    `rm "${dir}/.v.swp"; ls -a "${dir}" | grep -c 'fuse_hidden\\|\\.v\\.swp' || true; done | sort -u`, m.dir),
                 '0\n');
  });
});
