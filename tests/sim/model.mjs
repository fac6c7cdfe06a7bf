// model.mjs — domain rules shared by tenant generation and mutations:
// address classification, protocol defaults/validation, generated names.

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(s) {
  return IPV4.test(s);
}

export function isCidr(s) {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s);
  return !!m && isIPv4(m[1]) && Number(m[2]) <= 32;
}

export function isWildcard(s) {
  return s.includes('*') || s.includes('?');
}

/** The server derives address.type: IP for IPv4 addresses and CIDR ranges, else DNS. */
export function addressOf(value) {
  return { type: isIPv4(value) || isCidr(value) ? 'IP' : 'DNS', value };
}

/** Light syntax check of a resource address; returns an error string or null. */
export function checkAddress(value) {
  if (typeof value !== 'string' || value.trim() === '') return 'Address cannot be empty.';
  if (/\s/.test(value)) return `'${value}' is not a valid address.`;
  if (value.includes('/') && !isCidr(value)) return `'${value}' is not a valid CIDR range.`;
  if (!isIPv4(value) && !isCidr(value) && !/^[A-Za-z0-9*?._-]+$/.test(value)) {
    return `'${value}' is not a valid address.`;
  }
  return null;
}

export function defaultProtocols() {
  return {
    allowIcmp: true,
    tcp: { policy: 'ALLOW_ALL', ports: [] },
    udp: { policy: 'ALLOW_ALL', ports: [] },
  };
}

/** Validate + normalise a ProtocolsInput. Returns {protocols} or {error}. */
export function normaliseProtocols(input) {
  const out = { allowIcmp: !!input.allowIcmp };
  for (const p of ['tcp', 'udp']) {
    const { policy, ports = [] } = input[p];
    for (const r of ports ?? []) {
      if (r.start < 1 || r.end > 65535 || r.start > 65535 || r.end < 1 || r.start > r.end) {
        return { error: `Invalid port range ${r.start}-${r.end}: ports must be within 1-65535 and start must not exceed end.` };
      }
    }
    // Ports are meaningless with ALLOW_ALL; the API answers an empty list then.
    out[p] = { policy, ports: policy === 'ALLOW_ALL' ? [] : (ports ?? []).map((r) => ({ start: r.start, end: r.end })) };
  }
  return { protocols: out };
}

export function hasPortRestrictions(protocols) {
  return protocols.tcp.policy === 'RESTRICTED' || protocols.udp.policy === 'RESTRICTED';
}

/** Business rules on the combined (post-update) resource. Error string or null. */
export function checkResourceRules(r) {
  const v = r.address.value;
  if (r.isBrowserShortcutEnabled && (isCidr(v) || isWildcard(v))) {
    return "Resources with a CIDR range or wildcard can't have the browser shortcut enabled.";
  }
  if (r.routingMode === 'BYPASS_TWINGATE') {
    if (r.securityPolicyId) return 'Bypass Resources cannot have a security policy';
    if (isWildcard(v)) return 'Bypass Resources cannot have a wildcard address';
    if (hasPortRestrictions(r.protocols)) return 'Bypass Resources cannot have port restrictions';
  }
  if (r.usageBasedAutolockDurationDays != null && (r.usageBasedAutolockDurationDays < 1 || r.usageBasedAutolockDurationDays > 365)) {
    return 'usageBasedAutolockDurationDays must be between 1 and 365.';
  }
  return checkAccessPolicy(r.accessPolicy, r.approvalMode);
}

/** Rules the Terraform provider mirrors for JIT access policies. */
export function checkAccessPolicy(ap, approvalMode) {
  if (!ap) return null;
  const d = ap.durationSeconds;
  if (d != null && (d < 1 || d > 365 * 86400)) return 'accessPolicy.durationSeconds must be between 1 second and 365 days.';
  if (ap.mode === 'AUTO_LOCK') {
    if (d == null || d < 86400) return 'AUTO_LOCK access policies need a duration of at least 1 day.';
    if (!approvalMode) return 'AUTO_LOCK access policies need an approvalMode.';
  }
  if (ap.mode === 'ACCESS_REQUEST' && (d == null || d < 3600)) {
    return 'ACCESS_REQUEST access policies need a duration of at least 1 hour.';
  }
  if (ap.mode === 'MANUAL' && (d != null || approvalMode)) {
    return 'MANUAL access policies take no duration or approvalMode.';
  }
  return null;
}

// Two-word connector names ("whispering-petrel"), as the real server invents.
const ADJECTIVES = [
  'whispering', 'giga', 'amber', 'brisk', 'quiet', 'nimble', 'crimson', 'silent', 'lucky', 'stoic',
  'rapid', 'gentle', 'fearless', 'shiny', 'cosmic', 'mellow', 'clever', 'dusty', 'frosty', 'golden',
];
const ANIMALS = [
  'petrel', 'octopus', 'falcon', 'heron', 'otter', 'lynx', 'badger', 'marmot', 'ibis', 'gecko',
  'walrus', 'puffin', 'coyote', 'mantis', 'osprey', 'panda', 'raven', 'stoat', 'tapir', 'wombat',
];

export function connectorName(rng) {
  return `${rng.pick(ADJECTIVES)}-${rng.pick(ANIMALS)}`;
}

export function isBlank(s) {
  return s == null || String(s).trim() === '';
}
