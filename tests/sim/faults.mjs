// faults.mjs — the pending fault list (POST /_sim/faults) and how a fault
// is chosen for a request.
//
// A fault entry (JSON):
//   {"match": "any"|"query"|"mutation"|"<rootFieldName>",   default "any"
//    "count": N, "skip": N,                                  counted mode
//    "status": 500, "retryAfter": N,                         HTTP error answer
//    "delayMs": N, "drop": true, "truncate": true,
//    "malformed": true | "json" | "html",
//    "after": true}                                          execute, then fail
// or random mode: {"match":..., "rate": 0.1, "kinds": [...], "delayMs": N, "seed": N,
//                  "retryAfter": N, "storm": N}
// with kinds from status500 (any statusNNN), status429, delay, drop, truncate, malformed,
// and storm429: a 429 storm, this request and the next storm-1 requests the entry
// matches are all answered 429 (Retry-After: retryAfter); the storm draws no random numbers.

import { makeRng } from './ids.mjs';

const RANDOM_KINDS = ['status500', 'delay', 'drop', 'truncate', 'malformed', 'status429'];
// Accepted in kinds but not drawn by default (the default sequence stays as it was).
const EXTRA_KINDS = ['storm429'];
const KNOWN_KEYS = new Set(['match', 'count', 'skip', 'status', 'retryAfter', 'delayMs', 'drop', 'truncate',
  'malformed', 'after', 'rate', 'kinds', 'seed', 'storm']);

function checkInt(v, name, min, max) {
  if (v === undefined) return;
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`fault.${name} must be an integer in ${min}..${max}`);
}

/** Validate and normalise one fault entry; throws Error with a message for 400. */
function normalise(f) {
  if (!f || typeof f !== 'object' || Array.isArray(f)) throw new Error('each fault must be a JSON object');
  for (const k of Object.keys(f)) if (!KNOWN_KEYS.has(k)) throw new Error(`unknown fault key '${k}'`);
  const out = { match: f.match ?? 'any' };
  if (typeof out.match !== 'string' || out.match === '') throw new Error('fault.match must be a non-empty string');
  checkInt(f.count, 'count', 1, 1e9);
  checkInt(f.skip, 'skip', 0, 1e9);
  checkInt(f.status, 'status', 100, 599);
  checkInt(f.retryAfter, 'retryAfter', 0, 86400);
  checkInt(f.delayMs, 'delayMs', 0, 600000);
  if (f.malformed !== undefined && ![true, false, 'json', 'html'].includes(f.malformed)) {
    throw new Error("fault.malformed must be true, 'json' or 'html'");
  }
  if (f.rate !== undefined) {
    if (typeof f.rate !== 'number' || f.rate < 0 || f.rate > 1) throw new Error('fault.rate must be a number in 0..1');
    const kinds = f.kinds ?? RANDOM_KINDS;
    if (!Array.isArray(kinds) || kinds.length === 0) throw new Error('fault.kinds must be a non-empty array');
    for (const k of kinds) {
      if (!RANDOM_KINDS.includes(k) && !EXTRA_KINDS.includes(k) && !/^status[1-5]\d\d$/.test(k)) {
        throw new Error(`unknown fault kind '${k}'`);
      }
    }
    checkInt(f.seed, 'seed', 0, 2 ** 32 - 1);
    checkInt(f.storm, 'storm', 1, 1000);
    Object.assign(out, { rate: f.rate, kinds, delayMs: f.delayMs ?? 1000, seed: f.seed ?? 1, retryAfter: f.retryAfter ?? 1, after: !!f.after });
    if (kinds.includes('storm429')) out.storm = f.storm ?? 5;
    out.stormLeft = 0; // requests of the current storm still to answer 429
    out.rng = makeRng(out.seed);
    return out;
  }
  const effect = f.status !== undefined || f.drop || f.truncate || f.malformed || f.delayMs !== undefined;
  if (!effect) throw new Error('a fault needs one of status, delayMs, drop, truncate, malformed (or rate)');
  Object.assign(out, {
    count: f.count ?? 1, skip: f.skip ?? 0, status: f.status, retryAfter: f.retryAfter, delayMs: f.delayMs ?? 0,
    drop: !!f.drop, truncate: !!f.truncate, malformed: f.malformed === true ? 'json' : f.malformed || false, after: !!f.after,
  });
  return out;
}

/** The action for one request: what the HTTP layer must do. */
function actionOf(f) {
  return {
    delayMs: f.delayMs ?? 0,
    status: f.status,
    retryAfter: f.retryAfter,
    drop: f.drop,
    truncate: f.truncate,
    malformed: f.malformed,
    after: f.after,
  };
}

function randomAction(f) {
  const kind = f.kinds[Math.floor(f.rng.next() * f.kinds.length)];
  const a = { delayMs: 0, after: f.after, kind };
  if (kind === 'delay') a.delayMs = f.delayMs;
  else if (kind === 'drop') a.drop = true;
  else if (kind === 'truncate') a.truncate = true;
  else if (kind === 'malformed') a.malformed = 'json';
  else if (kind === 'storm429') {
    a.status = 429;
    a.retryAfter = f.retryAfter;
    f.stormLeft = f.storm - 1;
  } else {
    a.status = Number(kind.slice(6));
    if (a.status === 429) a.retryAfter = f.retryAfter;
  }
  return a;
}

export class Faults {
  constructor() {
    this.pending = [];
  }

  /** Replace the pending list (an array, or a single object). Throws on bad input. */
  set(input) {
    const arr = Array.isArray(input) ? input : [input];
    this.pending = arr.map(normalise);
  }

  clear() {
    this.pending = [];
  }

  /** JSON view of what is pending (remaining count/skip). */
  toJSON() {
    return this.pending.map(({ rng, stormLeft, ...rest }) => Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined && v !== false)));
  }

  /**
   * Pick the fault for a request, consuming count/skip. `req` is
   * {parsed: bool, opType, rootFields}. Returns an action or null.
   */
  take(req) {
    for (let i = 0; i < this.pending.length; i++) {
      const f = this.pending[i];
      if (!matches(f.match, req)) continue;
      if (f.rate !== undefined) {
        if (f.stormLeft > 0) {
          f.stormLeft--;
          return { delayMs: 0, after: f.after, kind: 'storm429', status: 429, retryAfter: f.retryAfter };
        }
        if (f.rng.next() < f.rate) return randomAction(f);
        continue;
      }
      if (f.skip > 0) {
        f.skip--;
        continue;
      }
      f.count--;
      if (f.count <= 0) this.pending.splice(i, 1);
      return actionOf(f);
    }
    return null;
  }
}

function matches(match, req) {
  if (match === 'any') return true;
  if (!req.parsed) return false;
  if (match === 'query' || match === 'mutation') return req.opType === match;
  return req.rootFields.includes(match);
}
