// connections.mjs — Relay pagination with offset cursors, and list filters.
//
// Every connection (top level and nested) goes through paginate(), so page
// limits, cursor tolerance and totalCount behave the same everywhere.

import { offsetToCursor, cursorToOffset, fromGlobalId, toGlobalId } from './ids.mjs';

export const DEFAULT_FIRST = 50;

/**
 * Slice `items` (already filtered, in list order) per Relay args.
 * `name` is the connection field name used in the page-limit message.
 * `toEdge(item)` returns the edge's extra fields (default {node: item}).
 */
export function paginate(items, args, name, ctx, toEdge = (node) => ({ node })) {
  const max = ctx.config.pageMax;
  let { first, last } = args;
  const { after, before } = args;
  for (const [arg, v] of [['first', first], ['last', last]]) {
    if (v == null) continue;
    if (v < 0) throw new Error(`Argument "${arg}" must be a non-negative integer`);
    if (max > 0 && v > max) {
      throw new Error(`Requesting ${v} records on the \`${name}\` connection exceeds the \`${arg}\` limit of ${max} records.`);
    }
  }
  if (first == null && last == null) first = max > 0 ? Math.min(DEFAULT_FIRST, max) : DEFAULT_FIRST;

  const len = items.length;
  let start = 0;
  let end = len;
  const a = cursorToOffset(after);
  if (a != null) start = Math.min(a + 1, len);
  const b = cursorToOffset(before);
  if (b != null) end = Math.max(Math.min(b, len), start);
  if (first != null) end = Math.min(end, start + first);
  if (last != null) start = Math.max(start, end - last);

  const edges = [];
  for (let i = start; i < end; i++) edges.push({ cursor: offsetToCursor(i), ...toEdge(items[i]) });
  if (ctx.stats) ctx.stats.nodes += edges.length;
  return {
    edges,
    pageInfo: {
      // Offset cursors make both directions cheap to answer exactly.
      hasNextPage: end < len,
      hasPreviousPage: start > 0,
      startCursor: edges.length ? edges[0].cursor : null,
      endCursor: edges.length ? edges[edges.length - 1].cursor : null,
    },
    totalCount: len,
  };
}

// ------------------------------------------------------------------ filters

function strPred(op, get) {
  const tests = [];
  if (op.eq != null) tests.push((v) => v === op.eq);
  if (op.ne != null) tests.push((v) => v !== op.ne);
  if (op.startsWith != null) tests.push((v) => v != null && v.startsWith(op.startsWith));
  if (op.endsWith != null) tests.push((v) => v != null && v.endsWith(op.endsWith));
  if (op.contains != null) tests.push((v) => v != null && v.includes(op.contains));
  if (op.in != null) {
    const set = new Set(op.in);
    tests.push((v) => set.has(v));
  }
  if (op.regexp != null) {
    let re;
    try {
      re = new RegExp(op.regexp, 'u');
    } catch (e) {
      throw new Error(`Invalid regular expression '${op.regexp}': ${e.message}`);
    }
    tests.push((v) => v != null && re.test(v));
  }
  return (rec) => tests.every((t) => t(get(rec)));
}

function enumPred(op, get) {
  if (op.in == null) return null;
  const set = new Set(op.in);
  return (rec) => set.has(get(rec));
}

function boolPred(op, get) {
  if (op.eq == null) return null;
  return (rec) => get(rec) === op.eq;
}

function canonId(id) {
  const g = fromGlobalId(id);
  return g ? toGlobalId(g.type, g.pk) : `\0bad:${id}`;
}

const field = (k) => (r) => r[k];

// Per filter-input field: how to build a predicate from its operator object.
const SPECS = {
  RemoteNetwork: { name: (op) => strPred(op, field('name')) },
  Connector: { name: (op) => strPred(op, field('name')), state: (op) => enumPred(op, field('state')) },
  Resource: {
    name: (op) => strPred(op, field('name')),
    tags: (op) => {
      if (op.and == null) return null;
      const wanted = op.and;
      return (r) => wanted.every((w) => r.tags.some((t) => t.key === w.key && (w.value?.eq == null || t.value === w.value.eq)));
    },
    remoteNetworkId: (op) => {
      const tests = [];
      if (op.eq != null) {
        const id = canonId(op.eq);
        tests.push((r) => r.remoteNetworkId === id);
      }
      if (op.in != null) {
        const set = new Set(op.in.map(canonId));
        tests.push((r) => set.has(r.remoteNetworkId));
      }
      return (r) => tests.every((t) => t(r));
    },
  },
  Group: {
    name: (op) => strPred(op, field('name')),
    type: (op) => enumPred(op, field('type')),
    isActive: (op) => boolPred(op, field('isActive')),
    originId: (op) => strPred(op, field('originId')),
  },
  SecurityPolicy: { name: (op) => strPred(op, field('name')), policyType: (op) => enumPred(op, field('policyType')) },
  ServiceAccount: { name: (op) => strPred(op, field('name')) },
  User: {
    email: (op) => strPred(op, field('email')),
    firstName: (op) => strPred(op, field('firstName')),
    lastName: (op) => strPred(op, field('lastName')),
    role: (op) => enumPred(op, field('role')),
  },
  Device: {
    activeState: (op) => enumPred(op, field('activeState')),
    isTrusted: (op) => boolPred(op, field('isTrusted')),
    serialNumber: (op) => strPred(op, field('serialNumber')),
  },
  // Access edges carry principalType (set by the access resolver).
  Access: { principalType: (op) => enumPred(op, field('principalType')) },
  AccessRequest: {
    resourceId: (op) => idInPred(op, field('resourceId')),
    userId: (op) => idInPred(op, field('userId')),
  },
  SerialNumber: {
    serialNumber: (op) => strPred(op, field('serialNumber')),
    hasMatchedDevices: (op, t) => boolPred(op, (sn) => t.devicesWithSerial(sn.serialNumber).length > 0),
  },
};

function idInPred(op, get) {
  if (op.in == null) return null;
  const set = new Set(op.in.map(canonId));
  return (rec) => set.has(get(rec));
}

/**
 * Apply a filter input object to records of `type`. Explicit nulls are
 * ignored. `tenant` is for filters that look at other records.
 */
export function applyFilter(type, filter, items, tenant) {
  if (!filter) return items;
  const preds = [];
  for (const [k, op] of Object.entries(filter)) {
    if (op == null) continue;
    const mk = SPECS[type][k];
    const p = mk && mk(op, tenant);
    if (p) preds.push(p);
  }
  return preds.length ? items.filter((r) => preds.every((p) => p(r))) : items;
}
