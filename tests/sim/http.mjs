// http.mjs — the HTTP front: POST /api/graphql/ (auth, faults, rate limits,
// latency, stats) and the uncounted, unauthenticated /_sim control endpoints.
//
// Request pipeline for the GraphQL endpoint:
//   read body (413 > 1 MiB) -> parse -> fault? -> 400 if unparseable ->
//   auth (401) -> rate limit (429) -> validate+execute -> latency -> answer
// A fault that is not "after" answers without executing (state unchanged);
// "truncate" and "after" faults execute first and then spoil the answer.

import http from 'node:http';
import { STATUS_CODES } from 'node:http';
import { printSchema } from 'graphql';
import { prepare, run, buildSimSchema, parseVariants } from './graphql.mjs';
import { Stats, RateLimiter } from './accounting.mjs';
import { Faults } from './faults.mjs';

const BODY_LIMIT = 1024 * 1024;

export const TOKENS = {
  'sim-read': new Set(['read']),
  'sim-write': new Set(['read', 'write']),
  'sim-provision': new Set(['read', 'write', 'provision']),
};

const ROOT_CONNECTIONS = new Set(['remoteNetworks', 'connectors', 'resources', 'groups', 'securityPolicies',
  'serviceAccounts', 'users', 'devices', 'accessRequests', 'serialNumbers']);

const sleep = (ms) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());
const errBody = (message) => ({ errors: [{ message }] });

function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Read the body up to the limit; resolves null when too large. */
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    let over = false;
    req.on('data', (c) => {
      size += c.length;
      if (size > BODY_LIMIT) over = true;
      else if (!over) chunks.push(c);
    });
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * state: {schema, tenant (getter), regenerate(), config, verbose}
 * config: {latencyMs, rateRead, rateWrite, pageMax, maxNodes (0: no node limit)}
 */
export function createServer(state) {
  const stats = new Stats();
  const limiter = new RateLimiter(state.config);
  const faults = new Faults();
  const log = state.verbose ? (...a) => process.stderr.write(`[sim] ${a.join(' ')}\n`) : () => {};

  async function answer(res, status, body, headers) {
    await sleep(state.config.latencyMs);
    if (status >= 300 || body?.errors) stats.errors++;
    sendJson(res, status, body, headers);
  }

  /** Deliver a fault action instead of (or on top of) the real answer. */
  async function deliverFault(req, res, action, realBody, prep) {
    stats.faults++;
    stats.errors++;
    await sleep(state.config.latencyMs);
    if (action.drop) {
      req.socket.destroy();
      return;
    }
    if (action.status !== undefined) {
      const headers = {};
      let body = errBody(`${action.status} ${STATUS_CODES[action.status] ?? 'Error'}`);
      if (action.status === 429) {
        headers['Retry-After'] = String(action.retryAfter ?? 1);
        body = errBody('429 Too Many Requests');
      }
      sendJson(res, action.status, body, headers);
      return;
    }
    if (action.malformed) {
      if (action.malformed === 'html') {
        const html = '<!doctype html>\n<html><head><title>Sign in - Twingate</title></head><body><h1>Sign in</h1></body></html>\n';
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(html) });
        res.end(html);
      } else {
        const text = `{"data": {"${(prep.rootFields?.[0] ?? 'remoteNetworks').slice(0, 8)}`;
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
      }
      return;
    }
    if (action.truncate) {
      const full = Buffer.from(JSON.stringify(realBody ?? { data: null }));
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': full.length });
      // Promise the full length, send half, close: the client sees a short body.
      res.write(full.subarray(0, Math.floor(full.length / 2)), () => res.socket?.destroy());
    }
  }

  async function handleGraphql(req, res) {
    stats.requests++;
    const raw = await readBody(req);
    if (raw === null) {
      res.setHeader('Connection', 'close');
      return answer(res, 413, errBody('Request body too large (limit 1 MiB).'));
    }
    const prep = prepare(raw);
    if (state.documents && !prep.error) state.documents.add(prep.query);
    const action = faults.take({ parsed: !prep.error, opType: prep.opType, rootFields: prep.rootFields });
    log(req.headers['x-api-key'] ?? '-', prep.opLabel ?? '-', (prep.rootFields ?? []).join(','), action ? 'FAULT' : '');

    const spoils = action && (action.drop || action.status !== undefined || action.malformed || action.truncate);
    if (action && !spoils) stats.faults++; // a pure delay is a fault too
    if (action?.delayMs) await sleep(action.delayMs);
    // Faults that do not need the real answer short-circuit here (no execution).
    if (spoils && !action.after && !action.truncate) return deliverFault(req, res, action, null, prep);

    if (prep.error) {
      if (spoils) return deliverFault(req, res, action, prep.error.body, prep);
      return answer(res, prep.error.status, prep.error.body);
    }

    const token = req.headers['x-api-key'];
    const perms = typeof token === 'string' ? TOKENS[token] : undefined;
    if (!perms) {
      if (spoils) return deliverFault(req, res, action, errBody('Invalid or missing API key'), prep);
      return answer(res, 401, errBody('Invalid or missing API key'));
    }

    const cls = prep.opType === 'mutation' ? 'write' : 'read';
    const slot = limiter.take(token, cls);
    if (!slot.ok) {
      stats.rateLimited++;
      if (spoils) return deliverFault(req, res, action, errBody('429 Too Many Requests'), prep);
      return answer(res, 429, errBody('429 Too Many Requests'), { 'Retry-After': String(slot.retryAfter) });
    }

    const ctx = { tenant: state.tenant, config: state.config, perms, stats };
    const out = await run(state.schema, prep, ctx);
    if (out.executed) {
      if (prep.opType === 'mutation') stats.mutations++;
      else stats.queries++;
      stats.operations[prep.opLabel] = (stats.operations[prep.opLabel] ?? 0) + 1;
      for (const f of prep.rootFields) {
        stats.fields[f] = (stats.fields[f] ?? 0) + 1;
        if (prep.opType === 'query' && ROOT_CONNECTIONS.has(f)) stats.pages++;
      }
    }
    if (spoils) return deliverFault(req, res, action, out.body, prep);
    return answer(res, out.status, out.body);
  }

  // ------------------------------------------------------------ /_sim/*

  async function handleSim(req, res, path) {
    const m = req.method;
    const readJson = async () => {
      const raw = await readBody(req);
      if (raw === null) throw new Error('body too large');
      if (raw.trim() === '') return undefined;
      return JSON.parse(raw);
    };
    try {
      if (path === '/_sim/stats' && m === 'GET') return sendJson(res, 200, stats.toJSON());
      if (path === '/_sim/stats/reset' && m === 'POST') {
        stats.reset();
        return sendJson(res, 200, stats.toJSON());
      }
      if (path === '/_sim/ratelimit/reset' && m === 'POST') {
        limiter.reset();
        return sendJson(res, 200, { ok: true });
      }
      if (path === '/_sim/tenant' && m === 'GET') {
        const all = ['1', 'true', 'yes'].includes(new URL(req.url, 'http://x').searchParams.get('all'));
        return sendJson(res, 200, state.tenant.snapshot({ all }));
      }
      if (path === '/_sim/schema' && m === 'GET') {
        const text = printSchema(state.schema);
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
        return res.end(text);
      }
      if (path === '/_sim/faults') {
        if (m === 'GET') return sendJson(res, 200, faults.toJSON());
        if (m === 'DELETE') {
          faults.clear();
          return sendJson(res, 200, []);
        }
        if (m === 'POST') {
          const body = await readJson();
          faults.set(body ?? []);
          return sendJson(res, 200, faults.toJSON());
        }
      }
      if (path === '/_sim/config') {
        if (m === 'POST') {
          const body = (await readJson()) ?? {};
          applyConfig(state, body);
        }
        if (m === 'POST' || m === 'GET') {
          return sendJson(res, 200, {
            ...state.config, cascadeNetworkDelete: state.tenant.cascadeNetworkDelete,
            schemaVariant: (state.schemaVariants ?? []).join(',') || null,
          });
        }
      }
      if (path === '/_sim/reset' && m === 'POST') {
        // Fresh tenant from the same size/seed; everything else cleared too.
        state.regenerate();
        stats.reset();
        limiter.reset();
        faults.clear();
        return sendJson(res, 200, { ok: true });
      }
      if (path === '/_sim/documents') {
        // GET: the distinct documents received while recording; POST
        // {"record": bool}: start (emptied) or stop; DELETE: empty it.
        if (m === 'POST') {
          const body = (await readJson()) ?? {};
          if (typeof body.record !== 'boolean') throw new Error('documents: {"record": true|false}');
          state.documents = body.record ? new Set() : null;
        } else if (m === 'DELETE') {
          if (state.documents) state.documents.clear();
        }
        if (['GET', 'POST', 'DELETE'].includes(m)) {
          return sendJson(res, 200, { recording: !!state.documents, documents: [...(state.documents ?? [])] });
        }
      }
      if (path === '/_sim/health' && m === 'GET') return sendJson(res, 200, { ok: true });
      return sendJson(res, 404, { error: `no such sim endpoint: ${m} ${path}` });
    } catch (e) {
      return sendJson(res, 400, { error: e.message });
    }
  }

  const server = http.createServer(async (req, res) => {
    try {
      const path = new URL(req.url, 'http://x').pathname;
      if (path === '/api/graphql/' || path === '/api/graphql') {
        if (req.method !== 'POST') {
          stats.requests++;
          return answer(res, 405, errBody('Only POST is supported.'), { Allow: 'POST' });
        }
        stats.enter();
        res.once('close', () => stats.leave());
        return await handleGraphql(req, res);
      }
      if (path.startsWith('/_sim/')) return await handleSim(req, res, path);
      return sendJson(res, 404, errBody('Not found'));
    } catch (e) {
      process.stderr.write(`[sim] internal error: ${e.stack}\n`);
      if (!res.headersSent) sendJson(res, 500, errBody('Internal simulator error'));
      else res.destroy();
    }
  });
  return { server, stats, faults, limiter };
}

const CONFIG_KEYS = ['latencyMs', 'rateRead', 'rateWrite', 'pageMax', 'maxNodes'];

/** Apply a (partial) runtime config; throws on bad values (-> HTTP 400). */
export function applyConfig(state, body) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Error('config must be a JSON object');
  let schema = null;
  let variants = null;
  for (const [k, v] of Object.entries(body)) {
    if (k === 'schemaVariant') {
      if (v !== null && typeof v !== 'string' && !Array.isArray(v)) throw new Error('schemaVariant must be a name, a list of names or null');
      variants = parseVariants(v);
      schema = buildSimSchema(variants);
      continue;
    }
    if (k === 'cascadeNetworkDelete') {
      if (typeof v !== 'boolean') throw new Error('cascadeNetworkDelete must be a boolean');
      continue;
    }
    if (!CONFIG_KEYS.includes(k)) throw new Error(`unknown config key '${k}'`);
    if (!Number.isInteger(v) || v < 0) throw new Error(`${k} must be a non-negative integer`);
  }
  for (const k of CONFIG_KEYS) if (k in body) state.config[k] = body[k];
  if ('cascadeNetworkDelete' in body) state.tenant.cascadeNetworkDelete = body.cascadeNetworkDelete;
  if (schema) {
    state.schema = schema;
    state.schemaVariants = variants;
  }
}
