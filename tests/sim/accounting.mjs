// accounting.mjs — request statistics and the per-token rate limiter.
//
// Stats are what tests and benchmarks assert on ("how many requests did the
// filesystem make?"), so every request to the GraphQL endpoint is counted,
// including the ones answered 400/401/429 or faulted.

export class Stats {
  constructor() {
    this.reset();
  }

  reset() {
    this.requests = 0; // HTTP requests to /api/graphql/
    this.queries = 0; // executed query operations
    this.mutations = 0; // executed mutation operations
    this.rateLimited = 0; // answered 429 by the limiter (not by a fault)
    this.errors = 0; // non-2xx, errors[] in the body, or a faulted answer
    this.faults = 0; // faults injected
    this.pages = 0; // connection fields resolved at root level
    this.nodes = 0; // edges returned by all connections, nested included
    this.overNodeLimit = 0; // requests refused by the node limit (--max-nodes)
    this.fields = {}; // root field name -> times executed (aliases counted)
    this.operations = {}; // operation name -> times executed
    // GraphQL requests open at once (received, not yet answered): now, and
    // the most since the reset.  Requests open across a reset still count.
    this.inFlight ??= 0;
    this.maxInFlight = this.inFlight;
  }

  /** A GraphQL request came in; leave() when its answer is done. */
  enter() {
    this.inFlight++;
    if (this.inFlight > this.maxInFlight) this.maxInFlight = this.inFlight;
  }

  leave() {
    this.inFlight--;
  }

  toJSON() {
    const { requests, queries, mutations, rateLimited, errors, faults, pages, nodes, overNodeLimit, fields,
      operations, maxInFlight } = this;
    return { requests, queries, mutations, rateLimited, errors, faults, pages, nodes, overNodeLimit, fields,
      operations, maxInFlight };
  }
}

const WINDOW_MS = 60_000;

/** Sliding 60 s windows, one per (token, class) where class is read|write. */
export class RateLimiter {
  constructor(config) {
    this.config = config;
    this.windows = new Map();
  }

  limitOf(cls) {
    return cls === 'write' ? this.config.rateWrite : this.config.rateRead;
  }

  /** Take a slot, or return the whole seconds until one frees (>= 1). */
  take(token, cls, now = Date.now()) {
    const limit = this.limitOf(cls);
    if (!limit) return { ok: true };
    const key = `${cls} ${token}`;
    let w = this.windows.get(key);
    if (!w) {
      w = [];
      this.windows.set(key, w);
    }
    while (w.length && w[0] <= now - WINDOW_MS) w.shift();
    if (w.length >= limit) {
      // The slot of the (length - limit + 1)-th oldest request frees first.
      const frees = w[w.length - limit] + WINDOW_MS;
      return { ok: false, retryAfter: Math.max(1, Math.ceil((frees - now) / 1000)) };
    }
    w.push(now);
    return { ok: true };
  }

  reset() {
    this.windows.clear();
  }
}
