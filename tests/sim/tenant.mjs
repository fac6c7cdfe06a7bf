// tenant.mjs — the in-memory tenant: object stores, relations and cascades.
//
// One Map per object type, keyed by global id. Maps iterate in insertion
// order, and objects are inserted in creation (pk) order, so iterating a
// store gives the API's list order for free. Every record carries `_type`
// (its global-id type name) and `_seq` (global creation counter, used to sort
// derived lists); fields without a leading underscore use API field names.
//
// Access (resource <-> group/service account) has ONE source of truth: the
// edge list in `access`, indexed both ways. Group.resources, Resource.groups,
// ServiceAccount.resources and the `access` connections are all derived.

import { makeRng, toGlobalId, nowTs } from './ids.mjs';

export const TYPES = [
  'RemoteNetwork', 'Connector', 'Resource', 'Group', 'User', 'SecurityPolicy',
  'Device', 'ServiceAccount', 'ServiceAccountKey',
];

// Kinds of the 2026 revision. Their ids, and every random value generated
// for them, come from a stream of their own (extraRng/extraIdRng), so adding
// them left every id, name and time of the kinds above as it was.
export const EXTRA_TYPES = ['AccessRequest', 'SerialNumber', 'Gateway'];

// Types whose pk is a UUID rather than an increasing integer.
const UUID_TYPES = new Set(['ServiceAccount', 'ServiceAccountKey']);

export class Tenant {
  constructor(seed) {
    // Separate streams so adding a generated object kind later does not
    // shift ids of every other kind.
    this.rng = makeRng(seed);
    this.idRng = makeRng((seed * 2654435761) ^ 0x5bd1e995);
    this.stores = Object.fromEntries([...TYPES, ...EXTRA_TYPES].map((t) => [t, new Map()]));
    this.seq = 0;
    this.nextPk = {};
    for (const t of TYPES) this.nextPk[t] = this.idRng.int(1000, 90000) * 10;
    this.extraRng = makeRng((seed * 40503) ^ 0x2026);
    this.extraIdRng = makeRng((seed * 69069) ^ 0x7e57);
    for (const t of EXTRA_TYPES) this.nextPk[t] = this.extraIdRng.int(1000, 90000) * 10;
    this.access = new Map(); // "rid pid" -> edge
    this.accessByResource = new Map(); // rid -> Map(pid -> edge)
    this.accessByPrincipal = new Map(); // pid -> Map(rid -> edge)
    this.connectorTokens = new Map(); // connector id -> {accessToken, refreshToken}; never exposed
    this.defaultPolicyId = null;
    // Behaviour switch (POST /_sim/config cascadeNetworkDelete).
    this.cascadeNetworkDelete = false;
  }

  newId(type) {
    if (UUID_TYPES.has(type)) return toGlobalId(type, this.idRng.uuid());
    const rng = EXTRA_TYPES.includes(type) ? this.extraIdRng : this.idRng;
    const pk = this.nextPk[type];
    this.nextPk[type] += rng.int(1, 3);
    return toGlobalId(type, pk);
  }

  /** Insert a new record; `fields` use API field names. */
  add(type, fields) {
    const rec = { id: this.newId(type), _type: type, _seq: ++this.seq, ...fields };
    this.stores[type].set(rec.id, rec);
    return rec;
  }

  get(type, id) {
    return this.stores[type].get(id) ?? null;
  }

  /** Records of a type in creation order (a fresh array). */
  list(type) {
    return Array.from(this.stores[type].values());
  }

  touch(rec, ts = nowTs()) {
    if ('updatedAt' in rec) rec.updatedAt = ts;
  }

  get defaultPolicy() {
    return this.get('SecurityPolicy', this.defaultPolicyId);
  }

  // ------------------------------------------------------------------ access

  /**
   * The edge of a resource and a principal, or null. An edge past its
   * expiresAt is gone: it is dropped here, the first time anyone looks.
   */
  edge(resourceId, principalId, now = Date.now()) {
    const edge = this.access.get(`${resourceId} ${principalId}`);
    if (!edge) return null;
    if (edge._expMs != null && edge._expMs <= now) {
      this.removeAccess(resourceId, principalId);
      return null;
    }
    return edge;
  }

  /** Drop every edge past its expiry. */
  purgeExpired(now = Date.now()) {
    for (const e of Array.from(this.access.values())) {
      if (e._expMs != null && e._expMs <= now) this.removeAccess(e.resourceId, e.principalId);
    }
  }

  /** Upsert an edge. `fields` may hold securityPolicyId, expiresAt, ... */
  setAccess(resourceId, principalId, fields = {}) {
    const key = `${resourceId} ${principalId}`;
    let edge = this.edge(resourceId, principalId);
    if (!edge) {
      edge = {
        resourceId, principalId, _seq: ++this.seq,
        securityPolicyId: null, expiresAt: null, usageBasedAutolockDurationDays: null,
        approvalMode: null, accessPolicy: null,
      };
      this.access.set(key, edge);
      mapOfMap(this.accessByResource, resourceId).set(principalId, edge);
      mapOfMap(this.accessByPrincipal, principalId).set(resourceId, edge);
    }
    Object.assign(edge, fields);
    edge._expMs = edge.expiresAt ? Date.parse(edge.expiresAt.replace(/(\.\d{3})\d+/, '$1')) : null;
    return edge;
  }

  removeAccess(resourceId, principalId) {
    const key = `${resourceId} ${principalId}`;
    if (!this.access.delete(key)) return false;
    this.accessByResource.get(resourceId)?.delete(principalId);
    this.accessByPrincipal.get(principalId)?.delete(resourceId);
    return true;
  }

  /** Live edges of a resource in edge creation order. */
  accessOfResource(resourceId) {
    const now = Date.now();
    return Array.from(this.accessByResource.get(resourceId)?.keys() ?? [])
      .map((pid) => this.edge(resourceId, pid, now)).filter(Boolean);
  }

  /** Resources a group / service account can reach, in resource pk order. */
  resourcesOfPrincipal(principalId) {
    const m = this.accessByPrincipal.get(principalId);
    if (!m) return [];
    const out = [];
    const now = Date.now();
    for (const rid of Array.from(m.keys())) {
      if (!this.edge(rid, principalId, now)) continue;
      const r = this.get('Resource', rid);
      if (r) out.push(r);
    }
    return out.sort(bySeq);
  }

  /** Principals of one type with access to a resource, in pk order. */
  principalsOfResource(resourceId, type) {
    const out = [];
    for (const e of this.accessOfResource(resourceId)) {
      const p = this.get(type, e.principalId);
      if (p) out.push(p);
    }
    return out.sort(bySeq);
  }

  principal(id) {
    return this.get('Group', id) ?? this.get('ServiceAccount', id);
  }

  // ------------------------------------------------------------- relations

  groupsOfUser(userId) {
    const out = [];
    for (const g of this.stores.Group.values()) if (g.userIds.has(userId)) out.push(g);
    return out;
  }

  usersOfGroup(group) {
    const out = [];
    for (const uid of group.userIds) {
      const u = this.get('User', uid);
      if (u) out.push(u);
    }
    return out.sort(bySeq);
  }

  groupsOfPolicy(policyId) {
    const out = [];
    for (const g of this.stores.Group.values()) if (g.securityPolicyId === policyId) out.push(g);
    return out;
  }

  childrenOfNetwork(networkId) {
    const connectors = [];
    const resources = [];
    for (const c of this.stores.Connector.values()) if (c.remoteNetworkId === networkId) connectors.push(c);
    for (const r of this.stores.Resource.values()) if (r.remoteNetworkId === networkId) resources.push(r);
    return { connectors, resources };
  }

  keysOfServiceAccount(saId) {
    const out = [];
    for (const k of this.stores.ServiceAccountKey.values()) if (k.serviceAccountId === saId) out.push(k);
    return out;
  }

  /**
   * GraphQL type name of a stored resource: `_rtype` (KubernetesResource,
   * SSHResource, WebAppResource) or, when absent, NetworkResource.
   */
  resourceType(r) {
    return r._rtype ?? 'NetworkResource';
  }

  /** Devices whose serialNumber is exactly @serial, in pk order. */
  devicesWithSerial(serial) {
    const out = [];
    for (const d of this.stores.Device.values()) if (d.serialNumber === serial) out.push(d);
    return out;
  }

  serialNumberByValue(serial) {
    for (const s of this.stores.SerialNumber.values()) if (s.serialNumber === serial) return s;
    return null;
  }

  /** Access requests touching a record (user, resource or group). */
  requestsOf(key, id) {
    const out = [];
    for (const q of this.stores.AccessRequest.values()) if (q[key] === id) out.push(q);
    return out;
  }

  /** ACTIVE keys past their expiry read as EXPIRED (time moves on). */
  keyStatus(key) {
    if (key.status === 'ACTIVE' && key.expiresAt && Date.parse(key.expiresAt.slice(0, 23) + 'Z') <= Date.now()) {
      return 'EXPIRED';
    }
    return key.status;
  }

  // ----------------------------------------------------------------- delete

  /** Delete a record and everything that hangs off it. */
  remove(type, id) {
    const rec = this.get(type, id);
    if (!rec) return false;
    switch (type) {
      case 'RemoteNetwork': {
        const { connectors, resources } = this.childrenOfNetwork(id);
        for (const c of connectors) this.remove('Connector', c.id);
        for (const r of resources) this.remove('Resource', r.id);
        break;
      }
      case 'Connector':
        this.connectorTokens.delete(id);
        break;
      case 'Resource':
        for (const pid of Array.from(this.accessByResource.get(id)?.keys() ?? [])) this.removeAccess(id, pid);
        for (const q of this.requestsOf('resourceId', id)) this.stores.AccessRequest.delete(q.id);
        break;
      case 'Group':
      case 'ServiceAccount':
        for (const rid of Array.from(this.accessByPrincipal.get(id)?.keys() ?? [])) this.removeAccess(rid, id);
        this.accessByPrincipal.delete(id);
        for (const q of this.requestsOf('groupId', id)) this.stores.AccessRequest.delete(q.id);
        if (type === 'ServiceAccount') {
          for (const k of this.keysOfServiceAccount(id)) this.stores.ServiceAccountKey.delete(k.id);
        }
        break;
      case 'User':
        for (const g of this.stores.Group.values()) g.userIds.delete(id);
        for (const d of this.list('Device')) if (d.userId === id) this.stores.Device.delete(d.id);
        for (const q of this.requestsOf('userId', id)) this.stores.AccessRequest.delete(q.id);
        break;
      case 'SecurityPolicy':
        // Not reachable through the API; keep references consistent anyway.
        for (const g of this.groupsOfPolicy(id)) g.securityPolicyId = this.defaultPolicyId;
        for (const r of this.stores.Resource.values()) if (r.securityPolicyId === id) r.securityPolicyId = null;
        break;
      default:
        break;
    }
    this.stores[type].delete(id);
    return true;
  }

  // --------------------------------------------------------------- snapshot

  /**
   * Whole state as plain JSON for GET /_sim/tenant (no secrets). The
   * collections of the 2026 revision (accessRequests, serialNumbers) only
   * with `all`: tests written before them compare the key list.
   */
  snapshot({ all: withNew = false } = {}) {
    const plain = (rec) => {
      const o = {};
      for (const [k, v] of Object.entries(rec)) {
        if (k.startsWith('_')) continue;
        o[k] = v instanceof Set ? Array.from(v) : v;
      }
      return o;
    };
    const all = (t) => this.list(t).map(plain);
    this.purgeExpired();
    const out = {
      remoteNetworks: all('RemoteNetwork'),
      connectors: all('Connector'),
      resources: this.list('Resource').map((r) => ({ __typename: this.resourceType(r), ...plain(r) })),
      groups: all('Group'),
      users: all('User').map((u) => ({ ...u, isAdmin: u.role === 'ADMIN' })),
      devices: all('Device'),
      serviceAccounts: all('ServiceAccount'),
      serviceAccountKeys: this.list('ServiceAccountKey').map((k) => ({ ...plain(k), status: this.keyStatus(k) })),
      securityPolicies: all('SecurityPolicy'),
      access: Array.from(this.access.values()).map((e) => ({
        ...plain(e),
        principalType: this.get('Group', e.principalId) ? 'GROUP' : 'SERVICE_ACCOUNT',
      })),
    };
    if (!withNew) return out;
    out.accessRequests = all('AccessRequest');
    out.serialNumbers = this.list('SerialNumber').map((s) => ({
      ...plain(s), matchedDeviceIds: this.devicesWithSerial(s.serialNumber).map((d) => d.id),
    }));
    return out;
  }
}

function mapOfMap(m, k) {
  let v = m.get(k);
  if (!v) {
    v = new Map();
    m.set(k, v);
  }
  return v;
}

export function bySeq(a, b) {
  return a._seq - b._seq;
}
