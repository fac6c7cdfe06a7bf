// mutations.mjs — every MutationsRoot field, with real state changes.
//
// Pattern: each mutation first validates everything (ids, business rules),
// then applies its changes, so a refused mutation leaves the tenant as it
// was. Business-rule failures throw Refusal -> {ok:false, error, entity:null};
// malformed ids throw BadIdError -> GraphQL error with a path (field null).

import { randomBytes } from 'node:crypto';
import { parseIdOf, nowTs, formatTs, parseTs, fromGlobalId } from './ids.mjs';
import {
  addressOf, checkAddress, defaultProtocols, normaliseProtocols, checkResourceRules, checkAccessPolicy,
  connectorName, isBlank,
} from './model.mjs';

class Refusal extends Error {}
const refuse = (msg) => {
  throw new Refusal(msg);
};

const PERM_LABEL = { write: 'read write', provision: 'provision' };

/** Wrap a mutation body with the permission check and ok/error shaping. */
function mutation(perm, body) {
  return (_root, args, ctx) => {
    if (!ctx.perms.has(perm)) {
      throw new Error(`Permission denied: this API key does not have the '${PERM_LABEL[perm]}' permission`);
    }
    try {
      return { ok: true, error: null, ...body(args, ctx.tenant, ctx) };
    } catch (e) {
      if (e instanceof Refusal) return { ok: false, error: e.message, entity: null, token: null, connectorTokens: null };
      throw e;
    }
  };
}

/** Existing record of `type` for an ID argument (parse error or refusal). */
function need(t, type, id) {
  const rec = t.get(type, parseIdOf(id, type));
  if (!rec) refuse(`${type} with id '${id}' does not exist`);
  return rec;
}

/** Group or ServiceAccount for a principal ID. */
function needPrincipal(t, id) {
  const cid = parseIdOf(id, 'Group', 'ServiceAccount');
  const rec = t.principal(cid);
  if (!rec) refuse(`${fromGlobalId(cid).type} with id '${id}' does not exist`);
  return rec;
}

/** Records for a list of IDs ([ID] lists may hold nulls: ignored), deduplicated. */
function needAll(t, type, ids) {
  if (ids == null) return [];
  const clean = ids.filter((x) => x != null);
  const parsed = clean.map((id) => parseIdOf(id, type)); // all parse errors before any refusal
  const out = new Map();
  parsed.forEach((cid, i) => {
    const rec = t.get(type, cid);
    if (!rec) refuse(`${type} with id '${clean[i]}' does not exist`);
    out.set(rec.id, rec);
  });
  return Array.from(out.values());
}

/** Replace-vs-delta list arguments; refuses when both styles are mixed. */
function deltaArgs(args, whole, added, removed, label) {
  const hasWhole = args[whole] != null;
  const hasDelta = args[added] != null || args[removed] != null;
  if (hasWhole && hasDelta) refuse(`Use either ${whole} or ${added}/${removed} to change ${label}, not both.`);
  return { hasWhole, hasDelta };
}

function checkName(name, what = 'Name') {
  if (isBlank(name)) refuse(`${what} cannot be empty.`);
}

const has = (args, k) => Object.prototype.hasOwnProperty.call(args, k);

function randomToken(bytes) {
  return randomBytes(bytes).toString('base64url');
}

function checkTags(tags) {
  for (const tag of tags ?? []) if (isBlank(tag.key)) refuse('Tag keys cannot be empty.');
  return (tags ?? []).map((x) => ({ key: x.key, value: x.value }));
}

function checkAlias(alias) {
  if (alias == null || alias === '') return null;
  if (!/^[A-Za-z0-9.-]+$/.test(alias)) refuse(`'${alias}' is not a valid alias: use a DNS name.`);
  return alias;
}

/** Parse AccessInput entries into {principal, fields} (fields: only keys given). */
function parseAccess(t, list) {
  return list.map((a) => {
    const principal = needPrincipal(t, a.principalId);
    const fields = {};
    if (has(a, 'securityPolicyId')) {
      fields.securityPolicyId = a.securityPolicyId == null ? null : need(t, 'SecurityPolicy', a.securityPolicyId).id;
    }
    if (has(a, 'expiresAt')) {
      if (a.expiresAt == null) fields.expiresAt = null;
      else {
        const ms = parseTs(a.expiresAt);
        if (ms == null) refuse(`'${a.expiresAt}' is not a valid expiresAt timestamp.`);
        if (ms <= Date.now()) refuse(`expiresAt '${a.expiresAt}' is in the past.`);
        fields.expiresAt = formatTs(ms, 0);
      }
    }
    for (const k of ['usageBasedAutolockDurationDays', 'approvalMode']) if (has(a, k)) fields[k] = a[k];
    if (has(a, 'accessPolicy')) fields.accessPolicy = a.accessPolicy == null ? null : { mode: a.accessPolicy.mode, durationSeconds: a.accessPolicy.durationSeconds ?? null };
    if (principal._type === 'ServiceAccount' && Object.values(fields).some((v) => v != null)) {
      refuse('Security policy, expiry and approval settings apply to Groups only, not to Service Accounts.');
    }
    if (fields.usageBasedAutolockDurationDays != null && (fields.usageBasedAutolockDurationDays < 1 || fields.usageBasedAutolockDurationDays > 365)) {
      refuse('usageBasedAutolockDurationDays must be between 1 and 365.');
    }
    return { principal, fields };
  });
}

const BLANK_EDGE = { securityPolicyId: null, expiresAt: null, usageBasedAutolockDurationDays: null, approvalMode: null, accessPolicy: null };

/** The JIT rules hold for the edge as it will be (its kept settings included). */
function checkEdges(t, resourceId, parsed, replace) {
  for (const { principal, fields } of parsed) {
    const base = replace ? BLANK_EDGE : t.edge(resourceId, principal.id) ?? BLANK_EDGE;
    const e = { ...base, ...fields };
    const p = checkAccessPolicy(e.accessPolicy, e.approvalMode);
    if (p) refuse(p);
  }
}

/** Make `principalIds` exactly the principals of `type` with access to a resource. */
function replacePrincipalsOfResource(t, resourceId, type, wanted) {
  const keep = new Set(wanted.map((p) => p.id));
  for (const p of t.principalsOfResource(resourceId, type)) if (!keep.has(p.id)) t.removeAccess(resourceId, p.id);
  for (const p of wanted) t.setAccess(resourceId, p.id);
}

/** Make `resources` exactly the resources a principal can reach. */
function replaceResourcesOfPrincipal(t, principalId, resources) {
  const keep = new Set(resources.map((r) => r.id));
  for (const r of t.resourcesOfPrincipal(principalId)) if (!keep.has(r.id)) t.removeAccess(r.id, principalId);
  for (const r of resources) t.setAccess(r.id, principalId);
}

function touchResource(t, id, ts) {
  const r = t.get('Resource', id);
  if (r) r.updatedAt = ts;
}

// Device state machine: mutation -> [allowed from-states, to-state, verb].
const DEVICE_TRANSITIONS = {
  deviceArchive: [['ACTIVE'], 'ARCHIVED', 'archived'],
  deviceUnarchive: [['ARCHIVED'], 'ACTIVE', 'unarchived'],
  deviceBlock: [['ACTIVE', 'ARCHIVED'], 'BLOCKED', 'blocked'],
  deviceUnblock: [['BLOCKED'], 'ACTIVE', 'unblocked'],
};

function deviceTransition(name) {
  const [from, to, verb] = DEVICE_TRANSITIONS[name];
  return mutation('write', ({ id }, t) => {
    const d = need(t, 'Device', id);
    if (!from.includes(d.activeState)) {
      refuse(`Device is ${d.activeState}; only ${from.join(' or ')} devices can be ${verb}.`);
    }
    d.activeState = to;
    return { entity: d };
  });
}

/** An existing Resource of concrete type @rtype (refusal otherwise). */
function needResourceOf(t, id, rtype) {
  const r = need(t, 'Resource', id);
  const actual = t.resourceType(r);
  if (actual !== rtype) {
    refuse(`Resource with id '${id}' is a ${actual}, not a ${rtype}; update it with ${UPDATE_MUTATION[actual]}.`);
  }
  return r;
}

const UPDATE_MUTATION = {
  NetworkResource: 'resourceUpdate',
  KubernetesResource: 'kubernetesResourceUpdate',
  SSHResource: 'sshResourceUpdate',
  WebAppResource: 'webAppResourceUpdate',
};

/**
 * What every resource update takes from @a, validated, onto a copy of @r
 * (committed only once the whole is checked): the fields all types share
 * and @own, the type's own plain ones.  Explicit null clears; omitted
 * leaves unchanged.
 */
function resourceChanges(a, t, r, own) {
  const c = { ...r };
  if (a.name != null) {
    checkName(a.name);
    c.name = a.name;
  }
  if (a.address != null) {
    const e = checkAddress(a.address);
    if (e) refuse(e);
    c.address = addressOf(a.address);
  }
  if (a.remoteNetworkId != null) c.remoteNetworkId = need(t, 'RemoteNetwork', a.remoteNetworkId).id;
  if (a.gatewayId != null) c.gatewayId = parseIdOf(a.gatewayId, 'Gateway');
  if (has(a, 'alias')) c.alias = checkAlias(a.alias);
  if (a.protocols != null) {
    const p = normaliseProtocols(a.protocols);
    if (p.error) refuse(p.error);
    c.protocols = p.protocols;
  }
  for (const k of ['isActive', 'isVisible', ...own]) if (a[k] != null) c[k] = a[k];
  if (has(a, 'securityPolicyId')) c.securityPolicyId = a.securityPolicyId == null ? null : need(t, 'SecurityPolicy', a.securityPolicyId).id;
  if (has(a, 'tags')) c.tags = checkTags(a.tags);
  for (const k of ['usageBasedAutolockDurationDays', 'approvalMode']) if (has(a, k)) c[k] = a[k];
  if (has(a, 'accessPolicy')) c.accessPolicy = a.accessPolicy == null ? null : { mode: a.accessPolicy.mode, durationSeconds: a.accessPolicy.durationSeconds ?? null };
  return c;
}

/** kubernetesResourceUpdate & co: the arguments the type's mutation has. */
function typedResourceUpdate(rtype) {
  return mutation('write', (a, t) => {
    const r = needResourceOf(t, a.id, rtype);
    const c = resourceChanges(a, t, r, []);
    const rule = checkResourceRules(c);
    if (rule) refuse(rule);
    Object.assign(r, c);
    t.touch(r);
    return { entity: r };
  });
}

function systemGroupsAdd(t, user) {
  for (const g of t.stores.Group.values()) if (g.type === 'SYSTEM') g.userIds.add(user.id);
}

export const mutationResolvers = {
  MutationsRoot: {
    // ------------------------------------------------------ remote networks
    remoteNetworkCreate: mutation('write', ({ name, isActive, location, networkType }, t) => {
      checkName(name);
      const ts = nowTs();
      const entity = t.add('RemoteNetwork', {
        name, location: location ?? 'OTHER', networkType: networkType ?? 'REGULAR', isActive: isActive ?? true,
        createdAt: ts, updatedAt: ts,
      });
      return { entity };
    }),
    remoteNetworkUpdate: mutation('write', (args, t) => {
      const n = need(t, 'RemoteNetwork', args.id);
      if (args.name != null) checkName(args.name);
      for (const k of ['name', 'isActive', 'location']) if (args[k] != null) n[k] = args[k];
      t.touch(n);
      return { entity: n };
    }),
    remoteNetworkDelete: mutation('write', ({ id }, t) => {
      const n = need(t, 'RemoteNetwork', id);
      const { connectors, resources } = t.childrenOfNetwork(n.id);
      if (!t.cascadeNetworkDelete && (connectors.length || resources.length)) {
        refuse(`Remote Network '${n.name}' still has ${connectors.length} connector(s) and ${resources.length} resource(s); delete them first.`);
      }
      t.remove('RemoteNetwork', n.id);
      return {};
    }),

    // ----------------------------------------------------------- connectors
    connectorCreate: mutation('write', ({ remoteNetworkId, name, hasStatusNotificationsEnabled }, t) => {
      const net = need(t, 'RemoteNetwork', remoteNetworkId);
      const ts = nowTs();
      const entity = t.add('Connector', {
        name: isBlank(name) ? connectorName(t.rng) : name,
        remoteNetworkId: net.id,
        state: 'DEAD_NO_HEARTBEAT', // never deployed yet
        hasStatusNotificationsEnabled: hasStatusNotificationsEnabled ?? true,
        hostname: null, version: null, publicIP: null, privateIPs: [], lastHeartbeatAt: null,
        createdAt: ts, updatedAt: ts,
      });
      return { entity };
    }),
    connectorUpdate: mutation('write', (args, t) => {
      const c = need(t, 'Connector', args.id);
      if (args.name != null) checkName(args.name);
      for (const k of ['name', 'hasStatusNotificationsEnabled']) if (args[k] != null) c[k] = args[k];
      t.touch(c);
      return { entity: c };
    }),
    connectorDelete: mutation('write', ({ id }, t) => {
      t.remove('Connector', need(t, 'Connector', id).id);
      return {};
    }),
    connectorGenerateTokens: mutation('provision', ({ connectorId }, t) => {
      const c = need(t, 'Connector', connectorId);
      // A new pair replaces (invalidates) the previous one.
      const connectorTokens = { accessToken: randomToken(96), refreshToken: randomToken(64) };
      t.connectorTokens.set(c.id, connectorTokens);
      return { connectorTokens };
    }),

    // ------------------------------------------------------------ resources
    resourceCreate: mutation('write', (a, t) => {
      checkName(a.name);
      const addrErr = checkAddress(a.address);
      if (addrErr) refuse(addrErr);
      const net = need(t, 'RemoteNetwork', a.remoteNetworkId);
      const policy = a.securityPolicyId != null ? need(t, 'SecurityPolicy', a.securityPolicyId) : null;
      const groups = needAll(t, 'Group', a.groupIds);
      let protocols = defaultProtocols();
      if (a.protocols != null) {
        const p = normaliseProtocols(a.protocols);
        if (p.error) refuse(p.error);
        protocols = p.protocols;
      }
      const ts = nowTs();
      const fields = {
        name: a.name, address: addressOf(a.address), alias: checkAlias(a.alias), remoteNetworkId: net.id, protocols,
        isActive: true, isVisible: a.isVisible ?? true, isBrowserShortcutEnabled: a.isBrowserShortcutEnabled ?? false,
        securityPolicyId: policy?.id ?? null, tags: checkTags(a.tags),
        approvalMode: a.approvalMode ?? null,
        accessPolicy: a.accessPolicy ? { mode: a.accessPolicy.mode, durationSeconds: a.accessPolicy.durationSeconds ?? null } : null,
        usageBasedAutolockDurationDays: a.usageBasedAutolockDurationDays ?? null,
        routingMode: a.routingMode ?? 'THROUGH_TWINGATE', createdAt: ts, updatedAt: ts,
      };
      const rule = checkResourceRules(fields);
      if (rule) refuse(rule);
      const entity = t.add('Resource', fields);
      for (const g of groups) t.setAccess(entity.id, g.id);
      return { entity };
    }),
    resourceUpdate: mutation('write', (a, t) => {
      const r = needResourceOf(t, a.id, 'NetworkResource');
      const c = resourceChanges(a, t, r, ['isBrowserShortcutEnabled', 'routingMode']);
      const { hasWhole, hasDelta } = deltaArgs(a, 'groupIds', 'addedGroupIds', 'removedGroupIds', 'groups');
      const whole = needAll(t, 'Group', a.groupIds);
      const added = needAll(t, 'Group', a.addedGroupIds);
      const removed = needAll(t, 'Group', a.removedGroupIds);
      const rule = checkResourceRules(c);
      if (rule) refuse(rule);
      Object.assign(r, c);
      if (hasWhole) replacePrincipalsOfResource(t, r.id, 'Group', whole);
      if (hasDelta) {
        for (const g of added) t.setAccess(r.id, g.id);
        for (const g of removed) t.removeAccess(r.id, g.id);
      }
      t.touch(r);
      return { entity: r };
    }),
    kubernetesResourceUpdate: typedResourceUpdate('KubernetesResource'),
    sshResourceUpdate: typedResourceUpdate('SSHResource'),
    webAppResourceUpdate: typedResourceUpdate('WebAppResource'),
    resourceDelete: mutation('write', ({ id }, t) => {
      t.remove('Resource', need(t, 'Resource', id).id);
      return {};
    }),
    resourceAccessAdd: mutation('write', ({ resourceId, access }, t) => {
      const r = need(t, 'Resource', resourceId);
      const parsed = parseAccess(t, access);
      checkEdges(t, r.id, parsed, false);
      // Upsert: settings not given keep their value, explicit nulls clear.
      for (const { principal, fields } of parsed) t.setAccess(r.id, principal.id, fields);
      t.touch(r);
      return { entity: r };
    }),
    resourceAccessSet: mutation('write', ({ resourceId, access }, t) => {
      const r = need(t, 'Resource', resourceId);
      const parsed = parseAccess(t, access);
      checkEdges(t, r.id, parsed, true);
      const keep = new Set(parsed.map((p) => p.principal.id));
      for (const e of t.accessOfResource(r.id)) if (!keep.has(e.principalId)) t.removeAccess(r.id, e.principalId);
      for (const { principal, fields } of parsed) t.setAccess(r.id, principal.id, { ...BLANK_EDGE, ...fields });
      t.touch(r);
      return { entity: r };
    }),
    resourceAccessRemove: mutation('write', ({ resourceId, principalIds }, t) => {
      const r = need(t, 'Resource', resourceId);
      const ps = principalIds.map((id) => needPrincipal(t, id));
      for (const p of ps) t.removeAccess(r.id, p.id);
      t.touch(r);
      return { entity: r };
    }),

    // --------------------------------------------------------------- groups
    groupCreate: mutation('write', ({ name, userIds, resourceIds, securityPolicyId }, t) => {
      checkName(name);
      const users = needAll(t, 'User', userIds);
      const resources = needAll(t, 'Resource', resourceIds);
      const policy = securityPolicyId != null ? need(t, 'SecurityPolicy', securityPolicyId) : t.defaultPolicy;
      const ts = nowTs();
      const entity = t.add('Group', {
        name, type: 'MANUAL', isActive: true, originId: null, securityPolicyId: policy.id,
        userIds: new Set(users.map((u) => u.id)), createdAt: ts, updatedAt: ts,
      });
      for (const r of resources) {
        t.setAccess(r.id, entity.id);
        touchResource(t, r.id, ts);
      }
      return { entity };
    }),
    groupUpdate: mutation('write', (a, t) => {
      const g = need(t, 'Group', a.id);
      if (g.type === 'SYSTEM') refuse(`Group '${g.name}' is a system group and cannot be modified.`);
      const users = deltaArgs(a, 'userIds', 'addedUserIds', 'removedUserIds', 'members');
      const res = deltaArgs(a, 'resourceIds', 'addedResourceIds', 'removedResourceIds', 'resources');
      if (g.type === 'SYNCED' && (a.name != null || a.isActive != null || users.hasWhole || users.hasDelta)) {
        refuse(`Group '${g.name}' is synced from an identity provider; its name, state and members cannot be changed here.`);
      }
      if (a.name != null) checkName(a.name);
      const uWhole = needAll(t, 'User', a.userIds);
      const uAdd = needAll(t, 'User', a.addedUserIds);
      const uDel = needAll(t, 'User', a.removedUserIds);
      const rWhole = needAll(t, 'Resource', a.resourceIds);
      const rAdd = needAll(t, 'Resource', a.addedResourceIds);
      const rDel = needAll(t, 'Resource', a.removedResourceIds);
      const policy = a.securityPolicyId != null ? need(t, 'SecurityPolicy', a.securityPolicyId) : null;
      const ts = nowTs();
      if (a.name != null) g.name = a.name;
      if (a.isActive != null) g.isActive = a.isActive;
      if (policy) g.securityPolicyId = policy.id;
      if (users.hasWhole) g.userIds = new Set(uWhole.map((u) => u.id));
      for (const u of uAdd) g.userIds.add(u.id);
      for (const u of uDel) g.userIds.delete(u.id);
      if (res.hasWhole) replaceResourcesOfPrincipal(t, g.id, rWhole);
      for (const r of rAdd) t.setAccess(r.id, g.id);
      for (const r of rDel) t.removeAccess(r.id, g.id);
      for (const r of [...rWhole, ...rAdd, ...rDel]) touchResource(t, r.id, ts);
      g.updatedAt = ts;
      return { entity: g };
    }),
    groupDelete: mutation('write', ({ id }, t) => {
      const g = need(t, 'Group', id);
      if (g.type === 'SYSTEM') refuse(`Group '${g.name}' is a system group and cannot be deleted.`);
      if (g.type === 'SYNCED') refuse(`Group '${g.name}' is synced from an identity provider and cannot be deleted here.`);
      t.remove('Group', g.id);
      return {};
    }),

    // ------------------------------------------------------------- policies
    securityPolicyUpdate: mutation('write', (a, t) => {
      const p = need(t, 'SecurityPolicy', a.id);
      const { hasWhole } = deltaArgs(a, 'groupIds', 'addedGroupIds', 'removedGroupIds', 'groups');
      const whole = needAll(t, 'Group', a.groupIds);
      const add = needAll(t, 'Group', a.addedGroupIds);
      let del = needAll(t, 'Group', a.removedGroupIds).filter((g) => g.securityPolicyId === p.id);
      if (hasWhole) {
        const keep = new Set(whole.map((g) => g.id));
        del = t.groupsOfPolicy(p.id).filter((g) => !keep.has(g.id));
      }
      const toAdd = hasWhole ? whole : add;
      if (p.id === t.defaultPolicyId && del.length) {
        refuse('Groups cannot be removed from the Default Policy; assign them to another policy instead.');
      }
      const ts = nowTs();
      for (const g of del) {
        g.securityPolicyId = t.defaultPolicyId; // back to the Default Policy
        g.updatedAt = ts;
      }
      for (const g of toAdd) {
        g.securityPolicyId = p.id;
        g.updatedAt = ts;
      }
      p.updatedAt = ts;
      return { entity: p };
    }),

    // ----------------------------------------------------- service accounts
    serviceAccountCreate: mutation('write', ({ name, resourceIds }, t) => {
      checkName(name);
      const resources = needAll(t, 'Resource', resourceIds);
      const ts = nowTs();
      const entity = t.add('ServiceAccount', { name, createdAt: ts, updatedAt: ts });
      for (const r of resources) t.setAccess(r.id, entity.id);
      return { entity };
    }),
    serviceAccountUpdate: mutation('write', (a, t) => {
      const s = need(t, 'ServiceAccount', a.id);
      if (a.name != null) checkName(a.name);
      const { hasWhole } = deltaArgs(a, 'resourceIds', 'addedResourceIds', 'removedResourceIds', 'resources');
      const whole = needAll(t, 'Resource', a.resourceIds);
      const add = needAll(t, 'Resource', a.addedResourceIds);
      const del = needAll(t, 'Resource', a.removedResourceIds);
      if (a.name != null) s.name = a.name;
      if (hasWhole) replaceResourcesOfPrincipal(t, s.id, whole);
      for (const r of add) t.setAccess(r.id, s.id);
      for (const r of del) t.removeAccess(r.id, s.id);
      t.touch(s);
      return { entity: s };
    }),
    serviceAccountDelete: mutation('write', ({ id }, t) => {
      t.remove('ServiceAccount', need(t, 'ServiceAccount', id).id); // keys and access go too
      return {};
    }),
    serviceAccountKeyCreate: mutation('provision', ({ serviceAccountId, name, expirationTime }, t) => {
      const s = need(t, 'ServiceAccount', serviceAccountId);
      if (!Number.isInteger(expirationTime) || expirationTime < 0 || expirationTime > 365) {
        refuse('expirationTime must be between 0 and 365 days (0 = never expires).');
      }
      if (name != null) checkName(name);
      const now = Date.now();
      const ts = nowTs();
      const entity = t.add('ServiceAccountKey', {
        name: name ?? `key ${t.keysOfServiceAccount(s.id).length + 1}`,
        status: 'ACTIVE',
        expiresAt: expirationTime ? formatTs(now + expirationTime * 86400000, Number(ts.slice(23, 26))) : null,
        revokedAt: null, serviceAccountId: s.id, createdAt: ts, updatedAt: ts,
      });
      // The secret is returned once and never stored.
      return { entity, token: randomBytes(48).toString('base64') };
    }),
    serviceAccountKeyUpdate: mutation('write', ({ id, name }, t) => {
      const k = need(t, 'ServiceAccountKey', id);
      checkName(name);
      k.name = name;
      t.touch(k);
      return { entity: k };
    }),
    serviceAccountKeyRevoke: mutation('write', ({ id }, t) => {
      const k = need(t, 'ServiceAccountKey', id);
      if (k.status === 'REVOKED') refuse('This key is already revoked.');
      const ts = nowTs();
      k.status = 'REVOKED';
      k.revokedAt = ts;
      k.updatedAt = ts;
      return { entity: k };
    }),
    serviceAccountKeyDelete: mutation('write', ({ id }, t) => {
      const k = need(t, 'ServiceAccountKey', id);
      if (t.keyStatus(k) === 'ACTIVE') refuse('Cannot delete an active key: revoke the key before deleting it.');
      t.remove('ServiceAccountKey', k.id);
      return {};
    }),

    // ---------------------------------------------------------------- users
    userCreate: mutation('write', ({ email, firstName, lastName, role }, t) => {
      const e = (email ?? '').trim();
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(e)) refuse(`'${email}' is not a valid email address.`);
      const lower = e.toLowerCase();
      for (const u of t.stores.User.values()) {
        if (u.email != null && u.email.toLowerCase() === lower) refuse(`A user with email '${e}' already exists.`);
      }
      const ts = nowTs();
      const entity = t.add('User', {
        email: e, firstName: firstName ?? '', lastName: lastName ?? '', avatarUrl: null, role: role ?? 'MEMBER',
        state: 'PENDING', type: 'MANUAL', createdAt: ts, updatedAt: ts,
      });
      systemGroupsAdd(t, entity);
      return { entity };
    }),
    userDetailsUpdate: mutation('write', ({ id, firstName, lastName, state }, t) => {
      const u = need(t, 'User', id);
      if (state != null && u.state === 'PENDING') refuse('User in PENDING state');
      if (firstName != null) u.firstName = firstName;
      if (lastName != null) u.lastName = lastName;
      if (state != null) u.state = state;
      t.touch(u);
      return { entity: u };
    }),
    userRoleUpdate: mutation('write', ({ id, role }, t) => {
      const u = need(t, 'User', id);
      u.role = role;
      t.touch(u);
      return { entity: u };
    }),
    userDelete: mutation('write', ({ id }, t) => {
      t.remove('User', need(t, 'User', id).id); // memberships and devices go too
      return {};
    }),
    userResetMfa: mutation('write', ({ id }, t) => {
      const u = need(t, 'User', id);
      if (u.state === 'PENDING') refuse('User in PENDING state');
      return {};
    }),

    // ------------------------------------------------------ access requests
    accessRequestApprove: mutation('write', ({ id }, t) => {
      const q = need(t, 'AccessRequest', id);
      const g = t.get('Group', q.groupId);
      const r = t.get('Resource', q.resourceId);
      if (!g || !r || !t.edge(r.id, g.id)) {
        refuse('This access request can no longer be approved: the access it asks for is gone.');
      }
      // The access asked for: membership of the group that reaches the resource.
      if (!g.userIds.has(q.userId)) {
        g.userIds.add(q.userId);
        g.updatedAt = nowTs();
      }
      t.stores.AccessRequest.delete(q.id);
      return {};
    }),
    accessRequestReject: mutation('write', ({ id }, t) => {
      t.stores.AccessRequest.delete(need(t, 'AccessRequest', id).id);
      return {};
    }),

    // ------------------------------------------------------- serial numbers
    serialNumbersCreate: mutation('write', ({ serialNumbers }, t) => {
      const wanted = [];
      for (const raw of serialNumbers) {
        const sn = raw.trim();
        if (sn === '') refuse('Serial numbers cannot be empty.');
        if (/\s/.test(sn) || sn.length > 128) refuse(`'${raw}' is not a valid serial number.`);
        if (t.serialNumberByValue(sn)) refuse(`Serial number '${sn}' already exists.`);
        if (!wanted.includes(sn)) wanted.push(sn);
      }
      const ts = nowTs();
      return { entities: wanted.map((sn) => t.add('SerialNumber', { serialNumber: sn, createdAt: ts })) };
    }),
    serialNumbersDelete: mutation('write', ({ serialNumbers }, t) => {
      const recs = serialNumbers.map((raw) => {
        const rec = t.serialNumberByValue(raw.trim());
        if (!rec) refuse(`Serial number '${raw}' does not exist`);
        return rec;
      });
      for (const rec of recs) t.stores.SerialNumber.delete(rec.id);
      return {};
    }),

    // -------------------------------------------------------------- devices
    deviceUpdate: mutation('write', ({ id, isTrusted }, t) => {
      const d = need(t, 'Device', id);
      d.isTrusted = isTrusted;
      return { entity: d };
    }),
    deviceArchive: deviceTransition('deviceArchive'),
    deviceUnarchive: deviceTransition('deviceUnarchive'),
    deviceBlock: deviceTransition('deviceBlock'),
    deviceUnblock: deviceTransition('deviceUnblock'),
  },
};

/** Root mutation fields that need the provision permission. */
export const PROVISION_FIELDS = new Set(['connectorGenerateTokens', 'serviceAccountKeyCreate']);
