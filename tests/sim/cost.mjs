// cost.mjs — the node limit of one request (--max-nodes, /_sim/config
// maxNodes), as GraphQL servers with query cost limits have it.
//
// The cost is worked out from the document before anything runs, the way
// GitHub's API counts nodes: each connection asks for up to `first` (or
// `last`) nodes, the default page size when it gives neither, for each
// node of the connection it sits in.  `{ groups(first: 100) { edges { node
// { users(first: 100) { ... } } } } }` asks for 100 + 100 x 100 nodes.
// Aliases each count.  A request over the limit is refused whole: HTTP
// 200, an error in errors[], no data (nothing ran).
//
// The real API's limits are unknown (REFERENCE.md §10); this exists so the
// client's shrinking of its requests is tested.

import { Kind, getNamedType, isAbstractType } from 'graphql';
import { DEFAULT_FIRST } from './connections.mjs';

/** The value of argument @name of @field (a literal or a variable), or null. */
function intArg(field, name, variables) {
  const a = field.arguments?.find((x) => x.name.value === name);
  if (!a) return null;
  if (a.value.kind === Kind.INT) return Number(a.value.value);
  if (a.value.kind === Kind.VARIABLE) {
    const v = variables?.[a.value.name.value];
    return Number.isInteger(v) ? v : null;
  }
  return null;
}

/**
 * Nodes the operation @prep (graphql.mjs prepare()) asks for at most.
 * @pageMax: the page limit (the default page size is capped by it).
 */
export function requestedNodes(schema, prep, pageMax) {
  const frags = new Map();
  for (const d of prep.document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) frags.set(d.name.value, d);
  const dflt = pageMax > 0 ? Math.min(DEFAULT_FIRST, pageMax) : DEFAULT_FIRST;

  const walk = (set, type, mult, seen) => {
    let sum = 0;
    for (const s of set.selections) {
      if (s.kind === Kind.INLINE_FRAGMENT || s.kind === Kind.FRAGMENT_SPREAD) {
        let frag = s;
        if (s.kind === Kind.FRAGMENT_SPREAD) {
          if (seen.has(s.name.value)) continue;
          frag = frags.get(s.name.value);
          if (!frag) continue;
          seen = new Set([...seen, s.name.value]);
        }
        const cond = frag.typeCondition ? schema.getType(frag.typeCondition.name.value) : type;
        sum += walk(frag.selectionSet, cond ?? type, mult, seen);
        continue;
      }
      if (s.kind !== Kind.FIELD || !s.selectionSet) continue;
      const fields = type?.getFields?.();
      const def = fields?.[s.name.value];
      if (!def) continue;
      const child = getNamedType(def.type);
      let m = mult;
      if (child.name.endsWith('Connection')) {
        const n = intArg(s, 'first', prep.variables) ?? intArg(s, 'last', prep.variables) ?? dflt;
        m = mult * Math.max(0, n);
        sum += m;
      }
      // An interface's own fields are enough: the fragments on its types
      // are walked with their type.
      sum += walk(s.selectionSet, isAbstractType(child) || child.getFields ? child : null, m, seen);
    }
    return sum;
  };
  if (!prep.operation) return 0;
  const root = prep.operation.operation === 'mutation' ? schema.getMutationType() : schema.getQueryType();
  return walk(prep.operation.selectionSet, root, 1, new Set());
}

/** The error body of a request asking for @n nodes where @max are allowed. */
export function overLimitBody(n, max) {
  return {
    errors: [{
      message: `This query requests up to ${n} nodes, which exceeds the maximum of ${max} nodes per request.`,
      extensions: { code: 'MAX_NODE_LIMIT_EXCEEDED', requested: n, maximum: max },
    }],
  };
}
