#!/usr/bin/env node
// server.mjs — command-line entry point of the Twingate Admin API simulator.
//
//   node tests/sim/server.mjs [--port N] [--size tiny|small|large|<devices>] [--seed N]
//        [--latency-ms N] [--rate-read N] [--rate-write N] [--page-max N] [--max-nodes N]
//        [--schema-variant NAME[,NAME...]] [--resource-types] [--record-documents] [--verbose]
//
// Prints exactly one line to stdout when ready: the endpoint URL. Other
// tools read that line, so nothing else may ever go to stdout.

import { generateTenant } from './generate.mjs';
import { buildSimSchema, parseVariants } from './graphql.mjs';
import { createServer } from './http.mjs';

const USAGE = 'usage: server.mjs [--port N] [--size tiny|small|large|<devices>] [--seed N] [--latency-ms N] '
  + '[--rate-read N] [--rate-write N] [--page-max N] [--max-nodes N] [--schema-variant NAME[,NAME...]] [--resource-types] [--record-documents] [--verbose]';

function parseArgs(argv) {
  const o = { port: 0, size: 'small', seed: 1, latencyMs: 0, rateRead: 60, rateWrite: 20, pageMax: 100, maxNodes: 0, verbose: false,
    variants: [], resourceTypes: false, recordDocuments: false };
  const ints = { '--port': 'port', '--seed': 'seed', '--latency-ms': 'latencyMs', '--rate-read': 'rateRead',
    '--rate-write': 'rateWrite', '--page-max': 'pageMax',
    '--max-nodes': 'maxNodes' };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let v;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      v = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    if (a === '--verbose') o.verbose = true;
    else if (a === '--resource-types') o.resourceTypes = true;
    else if (a === '--record-documents') o.recordDocuments = true;
    else if (a === '--help' || a === '-h') {
      process.stderr.write(`${USAGE}\n`);
      process.exit(0);
    } else if (a === '--size') o.size = v ?? argv[++i];
    else if (a === '--schema-variant') {
      try {
        o.variants = [...new Set([...o.variants, ...parseVariants(v ?? argv[++i] ?? '')])];
      } catch (e) {
        fail(e.message);
      }
    }
    else if (ints[a]) {
      const s = v ?? argv[++i];
      if (s === undefined || !/^\d+$/.test(s)) fail(`${a} needs a non-negative integer`);
      o[ints[a]] = Number(s);
    } else fail(`unknown argument '${a}'`);
  }
  if (!o.size || !(['tiny', 'small', 'large'].includes(o.size) || /^\d+$/.test(o.size))) {
    fail(`--size must be tiny, small, large or a number of devices`);
  }
  if (o.port > 65535) fail('--port out of range');
  return o;
}

function fail(msg) {
  process.stderr.write(`server.mjs: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

const opts = parseArgs(process.argv.slice(2));
const state = {
  schema: buildSimSchema(opts.variants),
  schemaVariants: opts.variants,
  tenant: generateTenant({ size: opts.size, seed: opts.seed, resourceTypes: opts.resourceTypes }),
  config: { latencyMs: opts.latencyMs, rateRead: opts.rateRead, rateWrite: opts.rateWrite, pageMax: opts.pageMax,
    maxNodes: opts.maxNodes },
  verbose: opts.verbose,
  // distinct GraphQL documents received (query text), when recording
  documents: opts.recordDocuments ? new Set() : null,
  regenerate() {
    state.tenant = generateTenant({ size: opts.size, seed: opts.seed, resourceTypes: opts.resourceTypes });
  },
};

const { server } = createServer(state);
// Idle connections stay open until the client closes them (0: no
// timeout).  A test process blocked in execSync cannot run its HTTP
// client's own idle timer, so after a long synchronous step it reused a
// connection the server had closed meanwhile: "fetch failed" (ECONNRESET).
server.keepAliveTimeout = 0;
server.on('error', (e) => {
  process.stderr.write(`server.mjs: ${e.message}\n`);
  process.exit(1);
});
server.listen(opts.port, '127.0.0.1', () => {
  const { port } = server.address();
  process.stdout.write(`http://127.0.0.1:${port}/api/graphql/\n`);
  if (opts.verbose) process.stderr.write(`[sim] size=${opts.size} seed=${opts.seed} schema=${opts.variants.join(',') || 'default'} ready\n`);
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 500).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
