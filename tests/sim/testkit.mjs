// testkit.mjs — helpers for the simulator's own tests (and for anyone who
// wants to drive the simulator from JavaScript): spawn the real server on
// --port 0, read its one stdout line, and talk HTTP to it.
// Lives outside test/ so `node --test test/` does not run it as a test file.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('./server.mjs', import.meta.url));

export async function startSim(args = []) {
  const child = spawn(process.execPath, [SERVER, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sim did not start: ${stderr}`)), 15000);
    child.stdout.on('data', (d) => {
      stdout += d;
      const nl = stdout.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(stdout.slice(0, nl));
      }
    });
    child.on('exit', (code) => reject(new Error(`sim exited ${code}: ${stderr}`)));
  });
  const base = url.replace(/\/api\/graphql\/$/, '');

  /** POST a GraphQL request. Returns {status, headers, body (parsed or null), text}. */
  async function gql(query, variables, { token = 'sim-write', operationName, rawBody, headers = {} } = {}) {
    const h = { 'Content-Type': 'application/json', ...headers };
    if (token) h['X-API-KEY'] = token;
    const res = await fetch(url, {
      method: 'POST',
      headers: h,
      body: rawBody ?? JSON.stringify({ query, variables, operationName }),
    });
    const text = await res.text();
    let body = null;
    try {
      body = JSON.parse(text);
    } catch { /* not JSON */ }
    return { status: res.status, headers: res.headers, body, text };
  }

  /** Query and assert no errors; returns data. */
  async function data(query, variables, opts) {
    const r = await gql(query, variables, opts);
    if (r.status !== 200 || r.body?.errors) throw new Error(`unexpected: ${r.status} ${r.text}`);
    return r.body.data;
  }

  /** Call a /_sim endpoint. */
  async function sim(path, method = 'GET', body) {
    const res = await fetch(base + path, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  }

  async function stop() {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }

  return { url, base, child, gql, data, sim, stop, getStdout: () => stdout, getStderr: () => stderr };
}

/** Find an object in a /_sim/tenant list by name. */
export function byName(list, name) {
  const x = list.find((o) => o.name === name);
  if (!x) throw new Error(`no object named ${name}`);
  return x;
}

export const b64 = (s) => Buffer.from(s).toString('base64');
export const unb64 = (s) => Buffer.from(s, 'base64').toString('utf8');
