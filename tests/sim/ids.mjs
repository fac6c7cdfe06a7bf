// ids.mjs — identifiers, cursors, timestamps and the seeded PRNG.
//
// Everything the simulator generates must be a pure function of --seed, so
// randomness comes from mulberry32 here and never from Math.random or the
// wall clock (the clock is only used for timestamps written by mutations).

/** mulberry32: tiny, fast, good enough for test data. Returns a PRNG object. */
export function makeRng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    /** integer in [lo, hi] inclusive */
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    chance: (p) => next() < p,
    /** RFC 4122 version-4 shaped UUID made from PRNG bytes (deterministic). */
    uuid: () => {
      const b = [];
      for (let i = 0; i < 16; i++) b.push(Math.floor(next() * 256));
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      const h = b.map((x) => x.toString(16).padStart(2, '0')).join('');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    },
  };
}

// ---------------------------------------------------------------------------
// Relay global IDs: base64("Type:pk"), standard alphabet with '=' padding.
// ---------------------------------------------------------------------------

export function toGlobalId(type, pk) {
  return Buffer.from(`${type}:${pk}`, 'utf8').toString('base64');
}

const B64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

/** Decode a global id; returns {type, pk} or null when malformed. */
export function fromGlobalId(id) {
  if (typeof id !== 'string' || id.length === 0) return null;
  // Tolerate missing padding (some clients strip it) but nothing else.
  let s = id;
  if (!B64_RE.test(s)) return null;
  const pad = s.length % 4;
  if (pad === 1) return null;
  if (pad) s += '='.repeat(4 - pad);
  const text = Buffer.from(s, 'base64').toString('utf8');
  // Buffer ignores junk silently; make sure the round trip is exact.
  if (Buffer.from(text, 'utf8').toString('base64') !== s) return null;
  const m = /^([A-Za-z]+):(.+)$/.exec(text);
  if (!m) return null;
  return { type: m[1], pk: m[2] };
}

/** The exact message the real API (graphene) gives for a bad global ID. */
export const BAD_ID_MESSAGE = "{'id': ['Unable to parse global ID']}";

export class BadIdError extends Error {
  constructor() {
    super(BAD_ID_MESSAGE);
  }
}

/**
 * Parse an ID argument that must be of one of `types`. Returns the canonical
 * id string (re-encoded, so lookups by Map key work even without padding) or
 * throws BadIdError.
 */
export function parseIdOf(id, ...types) {
  const g = fromGlobalId(id);
  if (!g || !types.includes(g.type)) throw new BadIdError();
  return toGlobalId(g.type, g.pk);
}

// ---------------------------------------------------------------------------
// Offset cursors, graphene/graphql-relay style: base64("arrayconnection:<n>")
// ---------------------------------------------------------------------------

export function offsetToCursor(n) {
  return Buffer.from(`arrayconnection:${n}`, 'utf8').toString('base64');
}

/** Returns the offset, or null for anything undecodable (treated as "start"). */
export function cursorToOffset(cursor) {
  if (typeof cursor !== 'string' || cursor === '') return null;
  let text;
  try {
    text = Buffer.from(cursor, 'base64').toString('utf8');
  } catch {
    return null;
  }
  const m = /^arrayconnection:(\d{1,9})$/.exec(text);
  return m ? Number(m[1]) : null;
}

// ---------------------------------------------------------------------------
// Timestamps in the real API's format: 2024-02-15T01:13:51.059028+00:00
// ---------------------------------------------------------------------------

/** Format milliseconds since epoch plus extra microseconds (0..999). */
export function formatTs(ms, micros = 0) {
  const d = new Date(Math.floor(ms));
  const iso = d.toISOString(); // 2024-02-15T01:13:51.059Z
  return `${iso.slice(0, 23)}${String(micros % 1000).padStart(3, '0')}+00:00`;
}

/** "Now" with microsecond digits, for timestamps written by mutations. */
export function nowTs() {
  const ns = process.hrtime.bigint();
  return formatTs(Date.now(), Number((ns / 1000n) % 1000n));
}

/** Parse any RFC 3339 timestamp; null when invalid. */
export function parseTs(s) {
  if (typeof s !== 'string') return null;
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(s)) return null;
  const ms = Date.parse(s.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(ms) ? null : ms;
}
