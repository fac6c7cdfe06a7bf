// walker.mjs - one process that reads (or takes apart) a mount step by
// step, as the test driving it says (walk.test.mjs; write.test.mjs: a
// recursive remover), with every step its own syscalls, all of them this
// one process's: a slow walk (find, rsync) or a poller.
//
// Reads one JSON command a line on stdin, answers one JSON line on stdout:
//   {op: 'read', path}          -> {data} | {err}     (open, read, close)
//   {op: 'stat', path}          -> {ino, dir} | {err}  (lstat)
//   {op: 'ls', path}            -> {names} | {err}     (readdir)
//   {op: 'unlink', path}        -> {} | {err}
//   {op: 'rmdir', path}         -> {} | {err}
//   {op: 'write', path, data}   -> {} | {err}   (open O_TRUNC, write, close)
//   {op: 'pace', ms, dir}       -> {ms, beats}  looks up a new missing
//        name in @dir every 0.1 s for @ms: calls that keep the walk going
//        without coming back to a node it read (each name is new)
//   {op: 'poll', path, everyMs, maxMs, from}
//                               -> {data, ms, reads}  reads @path every
//        @everyMs until it holds something other than @from (or @maxMs)
// Paths are relative to the mount, argv[2].
import { readFileSync, readdirSync, lstatSync, unlinkSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const mnt = process.argv[2];
const pause = new Int32Array(new SharedArrayBuffer(4));
const nap = (ms) => Atomics.wait(pause, 0, 0, ms);
let beat = 0;

function read(path) {
  try {
    return { data: readFileSync(join(mnt, path), 'utf8') };
  } catch (e) {
    return { err: e.code };
  }
}

// Runs @fn: {} when it returns, {err} when it throws.
function change(fn) {
  try {
    fn();
    return {};
  } catch (e) {
    return { err: e.code };
  }
}

function run(cmd) {
  switch (cmd.op) {
    case 'unlink': return change(() => unlinkSync(join(mnt, cmd.path)));
    case 'rmdir': return change(() => rmdirSync(join(mnt, cmd.path)));
    case 'write': return change(() => writeFileSync(join(mnt, cmd.path), cmd.data));
    case 'read': return read(cmd.path);
    case 'stat':
      try {
        const st = lstatSync(join(mnt, cmd.path));
        return { ino: st.ino, dir: st.isDirectory() };
      } catch (e) {
        return { err: e.code };
      }
    case 'ls':
      try {
        return { names: readdirSync(join(mnt, cmd.path)).sort() };
      } catch (e) {
        return { err: e.code };
      }
    case 'pace': {
      const t0 = Date.now();
      let beats = 0;
      while (Date.now() - t0 < cmd.ms) {
        try {
          lstatSync(join(mnt, cmd.dir, `.walker-${process.pid}-${beat++}`));
        } catch { /* ENOENT: the point */ }
        beats++;
        nap(100);
      }
      return { ms: Date.now() - t0, beats };
    }
    case 'poll': {
      const t0 = Date.now();
      let r, reads = 0;
      for (;;) {
        r = read(cmd.path);
        reads++;
        if (r.data !== cmd.from || Date.now() - t0 > cmd.maxMs) break;
        nap(cmd.everyMs);
      }
      return { ...r, ms: Date.now() - t0, reads };
    }
    default: return { err: `unknown op ${cmd.op}` };
  }
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  process.stdout.write(`${JSON.stringify(run(JSON.parse(line)))}\n`);
});
