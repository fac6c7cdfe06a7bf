// graphql.mjs — builds the executable schema from schema.graphql and runs
// one GraphQL request body, split in two steps so the HTTP layer can match
// faults and rate-limit on the parsed operation before executing it.
//
// Status rule (as on the real API): parse / validation / variable-coercion
// errors -> HTTP 400 with errors only; resolver errors -> HTTP 200 with
// errors[] next to data.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildASTSchema, parse, validate, execute, getOperationAST, Kind, GraphQLError } from 'graphql';
import { queryResolvers } from './resolvers.mjs';
import { mutationResolvers } from './mutations.mjs';
import { requestedNodes, overLimitBody } from './cost.mjs';

const SCHEMA_FILE = fileURLToPath(new URL('./schema.graphql', import.meta.url));

// ------------------------------------------------------------------ variants
//
// A variant is the default schema changed the way the real API might differ
// from it; the simulator builds it from the default SDL's AST and validates
// every request against it. `drop`: fields ["Type", "field"] taken out (of
// object types, interfaces and extensions alike); `dropArgs`: arguments
// ["Type", "field", "arg"] taken out; `dropTypes`: types that
// only the dropped fields used; `add`: SDL of type extensions added.

export const SCHEMA_VARIANTS = {
  // The other reading of the "# unconfirmed" isBrowserShortcutEnabled: only
  // on NetworkResource (kubernetes-operator, terraform provider), so
  // selecting it on the Resource interface fails validation (HTTP 400).
  'browser-shortcut-on-network-resource': {
    drop: ['Resource', 'KubernetesResource', 'SSHResource', 'WebAppResource'].map((t) => [t, 'isBrowserShortcutEnabled']),
  },
  'no-connector-hostname': { drop: [['Connector', 'hostname']] },
  'no-serial-numbers-create': {
    drop: [['MutationsRoot', 'serialNumbersCreate']],
    dropTypes: ['SerialNumbersCreateMutation'],
  },
  // A field no client knows yet, with real state behind it.
  'extra-field': {
    add: 'extend type RemoteNetwork {\n  "Connectors of this network whose state is ALIVE."\n  aliveConnectorCount: Int!\n}\n',
  },
  // An argument gone from a mutation (the field stays readable).
  'no-resource-alias-update': { dropArgs: [['MutationsRoot', 'resourceUpdate', 'alias']] },
  // An API before the 2026 revision's lists (REFERENCE.md §11): no trusted
  // serial numbers nor access requests to read (their types stay, as the
  // mutations that name them do).
  'no-2026-lists': {
    drop: [['QueriesRoot', 'serialNumbers'], ['QueriesRoot', 'accessRequests'], ['QueriesRoot', 'accessRequest']],
  },
};

/** Variant names from "a,b" / ["a","b"] / null; throws on an unknown name. */
export function parseVariants(v) {
  if (v == null || v === '' || v === 'default') return [];
  const names = (Array.isArray(v) ? v : String(v).split(',')).map((x) => String(x).trim()).filter(Boolean);
  for (const n of names) {
    if (!SCHEMA_VARIANTS[n]) {
      throw new Error(`unknown schema variant '${n}' (known: ${Object.keys(SCHEMA_VARIANTS).join(', ')})`);
    }
  }
  return [...new Set(names)];
}

/** The SDL document of the default schema with @variants applied. */
function variantDocument(variants) {
  let doc = parse(readFileSync(SCHEMA_FILE, 'utf8'));
  const drop = new Set();
  const dropTypes = new Set();
  const dropArgs = new Set();
  const adds = [];
  for (const n of variants) {
    const v = SCHEMA_VARIANTS[n];
    for (const [t, f] of v.drop ?? []) drop.add(`${t}.${f}`);
    for (const [t, f, a] of v.dropArgs ?? []) dropArgs.add(`${t}.${f}.${a}`);
    for (const t of v.dropTypes ?? []) dropTypes.add(t);
    if (v.add) adds.push(v.add);
  }
  const definitions = [];
  for (const d of doc.definitions) {
    if (d.name && dropTypes.has(d.name.value)) continue;
    if (d.fields && d.kind !== Kind.INPUT_OBJECT_TYPE_DEFINITION) {
      const fields = d.fields.filter((f) => !drop.has(`${d.name.value}.${f.name.value}`)).map((f) => (f.arguments
        ? { ...f, arguments: f.arguments.filter((a) => !dropArgs.has(`${d.name.value}.${f.name.value}.${a.name.value}`)) } : f));
      definitions.push({ ...d, fields });
    } else definitions.push(d);
  }
  for (const sdl of adds) definitions.push(...parse(sdl).definitions);
  doc = { ...doc, definitions };
  return { doc, dropped: drop };
}

/** Attach {Type: {field: fn, __resolveType: fn}} maps to a built schema. */
function attachResolvers(schema, maps, dropped = new Set()) {
  for (const map of maps) {
    for (const [typeName, fields] of Object.entries(map)) {
      const type = schema.getType(typeName);
      if (!type) throw new Error(`resolver for unknown type ${typeName}`);
      for (const [name, fn] of Object.entries(fields)) {
        if (name === '__resolveType') {
          type.resolveType = fn;
          continue;
        }
        const field = type.getFields()[name];
        if (!field && dropped.has(`${typeName}.${name}`)) continue; // not in this variant
        if (!field) throw new Error(`resolver for unknown field ${typeName}.${name}`);
        field.resolve = fn;
      }
    }
  }
}

/** Resolvers of fields only some variants have. */
const variantResolvers = {
  RemoteNetwork: {
    aliveConnectorCount: (n, _a, ctx) => ctx.tenant.childrenOfNetwork(n.id).connectors.filter((c) => c.state === 'ALIVE').length,
  },
};

/** The executable schema: the default one, or it changed by @variants (names). */
export function buildSimSchema(variants = []) {
  const { doc, dropped } = variantDocument(parseVariants(variants));
  const schema = buildASTSchema(doc);
  for (const [typeName, fields] of Object.entries(variantResolvers)) {
    for (const name of Object.keys(fields)) if (!schema.getType(typeName)?.getFields()[name]) dropped.add(`${typeName}.${name}`);
  }
  attachResolvers(schema, [queryResolvers, mutationResolvers, variantResolvers], dropped);
  // Every root field must be implemented; catch schema drift at startup.
  for (const root of [schema.getQueryType(), schema.getMutationType()]) {
    for (const f of Object.values(root.getFields())) {
      if (!f.resolve) throw new Error(`no resolver for ${root.name}.${f.name}`);
    }
  }
  return schema;
}

// Introspection root fields count as root fields (a read, in the stats and
// for faults); __typename does not.
const INTROSPECTION_ROOTS = new Set(['__schema', '__type']);

/** Root field names of an operation (through fragments); __typename excluded. */
function rootFieldsOf(doc, op) {
  const frags = new Map();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) frags.set(d.name.value, d);
  const out = [];
  const seen = new Set();
  const walk = (set) => {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) {
        if (!s.name.value.startsWith('__') || INTROSPECTION_ROOTS.has(s.name.value)) out.push(s.name.value);
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        walk(s.selectionSet);
      } else if (s.kind === Kind.FRAGMENT_SPREAD && !seen.has(s.name.value)) {
        seen.add(s.name.value);
        const f = frags.get(s.name.value);
        if (f) walk(f.selectionSet);
      }
    }
  };
  if (op) walk(op.selectionSet);
  return out;
}

const errorBody = (message) => ({ errors: [{ message }] });

/**
 * Step 1: decode the HTTP body and parse the query.
 * Returns {error:{status, body}} or {document, operation, opType, rootFields,
 * variables, operationName}. On failure rootFields is [] (only "any" faults match).
 */
export function prepare(rawBody) {
  let body;
  try {
    body = JSON.parse(rawBody);
  } catch {
    return { rootFields: [], error: { status: 400, body: errorBody('Request body is not valid JSON.') } };
  }
  if (!body || typeof body !== 'object' || typeof body.query !== 'string' || body.query.trim() === '') {
    return { rootFields: [], error: { status: 400, body: errorBody('Must provide query string.') } };
  }
  const variables = body.variables ?? null;
  if (variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) {
    return { rootFields: [], error: { status: 400, body: errorBody('Variables are invalid JSON.') } };
  }
  let document;
  try {
    document = parse(body.query);
  } catch (e) {
    const err = e instanceof GraphQLError ? e.toJSON() : { message: String(e.message) };
    return { rootFields: [], error: { status: 400, body: { errors: [err] } } };
  }
  const operationName = typeof body.operationName === 'string' && body.operationName !== '' ? body.operationName : null;
  const operation = getOperationAST(document, operationName);
  return {
    document,
    operation,
    operationName,
    variables,
    query: body.query,
    opType: operation?.operation ?? 'query',
    opLabel: operationName ?? operation?.name?.value ?? '(anonymous)',
    rootFields: rootFieldsOf(document, operation),
  };
}

/** Step 2: validate and execute. Returns {status, body, executed}. */
export async function run(schema, prep, contextValue) {
  const verrs = validate(schema, prep.document);
  if (verrs.length) {
    // graphene quotes names with ' rather than graphql-js's "; mimic it.
    const errors = verrs.map((e) => ({ ...e.toJSON(), message: e.message.replace(/"/g, "'") }));
    return { status: 400, body: { errors }, executed: false };
  }
  // A cost limit refuses the whole request before it runs (cost.mjs).
  const max = contextValue.config?.maxNodes;
  if (max > 0) {
    const n = requestedNodes(schema, prep, contextValue.config.pageMax);
    if (n > max) {
      if (contextValue.stats) contextValue.stats.overNodeLimit++;
      return { status: 200, body: overLimitBody(n, max), executed: false };
    }
  }
  const result = await execute({
    schema,
    document: prep.document,
    variableValues: prep.variables,
    operationName: prep.operationName,
    contextValue,
  });
  // No data at all = request-level failure (variables, unknown operation).
  if (result.data === undefined) {
    return { status: 400, body: { errors: result.errors.map((e) => e.toJSON()) }, executed: false };
  }
  const body = {};
  if (result.errors?.length) body.errors = result.errors.map((e) => e.toJSON());
  body.data = result.data;
  return { status: 200, body, executed: true };
}
