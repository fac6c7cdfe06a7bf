// resolvers.mjs — query root fields, object-type relation fields and the
// abstract-type resolution (Resource interface, Node, Principal union).
//
// Stored records use API field names, so scalar fields fall through to
// graphql-js's default resolver; only relations and derived values are here.
// Every resolver receives the per-request context {tenant, config, stats}.

import { parseIdOf } from './ids.mjs';
import { paginate, applyFilter } from './connections.mjs';

/** filter + paginate; the connection name in errors is the field name. */
function conn(type, items, args, ctx, info, toEdge) {
  return paginate(applyFilter(type, args.filter, items, ctx.tenant), args, info.fieldName, ctx, toEdge);
}

const byId = (type) => (_root, { id }, ctx) => ctx.tenant.get(type, parseIdOf(id, type));
const list = (type) => (_root, args, ctx, info) => conn(type, ctx.tenant.list(type), args, ctx, info);

/** Lookup by id (when given and not "") else by first exact name match. */
const byIdOrName = (type) => (_root, { id, name }, ctx) => {
  const t = ctx.tenant;
  if (id != null && id !== '') return t.get(type, parseIdOf(id, type));
  if (name != null) {
    for (const r of t.stores[type].values()) if (r.name === name) return r;
    return null;
  }
  throw new Error(`Either 'id' or 'name' must be provided.`);
};

function accessConnection(r, args, ctx, info) {
  const t = ctx.tenant;
  const edges = t.accessOfResource(r.id).map((e) => ({
    ...e,
    principalType: t.get('Group', e.principalId) ? 'GROUP' : 'SERVICE_ACCOUNT',
  }));
  return conn('Access', edges, args, ctx, info, (e) => ({
    node: t.principal(e.principalId),
    securityPolicy: e.securityPolicyId ? t.get('SecurityPolicy', e.securityPolicyId) : null,
    expiresAt: e.expiresAt,
    usageBasedAutolockDurationDays: e.usageBasedAutolockDurationDays,
    approvalMode: e.approvalMode,
    accessPolicy: e.accessPolicy,
  }));
}

const resourceFields = {
  remoteNetwork: (r, _a, ctx) => ctx.tenant.get('RemoteNetwork', r.remoteNetworkId),
  securityPolicy: (r, _a, ctx) => (r.securityPolicyId ? ctx.tenant.get('SecurityPolicy', r.securityPolicyId) : null),
  access: accessConnection,
  groups: (r, args, ctx, info) => conn('Group', ctx.tenant.principalsOfResource(r.id, 'Group'), args, ctx, info),
  serviceAccounts: (r, args, ctx, info) =>
    conn('ServiceAccount', ctx.tenant.principalsOfResource(r.id, 'ServiceAccount'), args, ctx, info),
};

/** GraphQL type name of a stored record (a Resource: its concrete type). */
export function typeNameOf(rec) {
  return rec._type === 'Resource' ? rec._rtype ?? 'NetworkResource' : rec._type;
}

const gatewayField = { gateway: (r) => (r.gatewayId ? { id: r.gatewayId } : null) };

export const queryResolvers = {
  QueriesRoot: {
    remoteNetwork: byIdOrName('RemoteNetwork'),
    remoteNetworks: list('RemoteNetwork'),
    connector: byId('Connector'),
    connectors: list('Connector'),
    resource: byId('Resource'),
    resources: list('Resource'),
    group: byId('Group'),
    groups: list('Group'),
    securityPolicy: byIdOrName('SecurityPolicy'),
    securityPolicies: list('SecurityPolicy'),
    serviceAccount: byId('ServiceAccount'),
    serviceAccounts: list('ServiceAccount'),
    serviceAccountKey: byIdOrName('ServiceAccountKey'),
    user: byId('User'),
    users: list('User'),
    device: byId('Device'),
    devices: list('Device'),
    accessRequest: byId('AccessRequest'),
    accessRequests: list('AccessRequest'),
    serialNumbers: list('SerialNumber'),
  },

  RemoteNetwork: {
    connectors: (n, args, ctx, info) => conn('Connector', ctx.tenant.childrenOfNetwork(n.id).connectors, args, ctx, info),
    resources: (n, args, ctx, info) => conn('Resource', ctx.tenant.childrenOfNetwork(n.id).resources, args, ctx, info),
  },

  Connector: {
    remoteNetwork: (c, _a, ctx) => ctx.tenant.get('RemoteNetwork', c.remoteNetworkId),
  },

  NetworkResource: resourceFields,
  KubernetesResource: { ...resourceFields, ...gatewayField },
  SSHResource: { ...resourceFields, ...gatewayField },
  WebAppResource: { ...resourceFields, ...gatewayField },

  Group: {
    securityPolicy: (g, _a, ctx) => ctx.tenant.get('SecurityPolicy', g.securityPolicyId) ?? ctx.tenant.defaultPolicy,
    users: (g, args, ctx, info) => conn('User', ctx.tenant.usersOfGroup(g), args, ctx, info),
    resources: (g, args, ctx, info) => conn('Resource', ctx.tenant.resourcesOfPrincipal(g.id), args, ctx, info),
  },

  SecurityPolicy: {
    groups: (p, args, ctx, info) => conn('Group', ctx.tenant.groupsOfPolicy(p.id), args, ctx, info),
  },

  ServiceAccount: {
    resources: (s, args, ctx, info) => conn('Resource', ctx.tenant.resourcesOfPrincipal(s.id), args, ctx, info),
    keys: (s, args, ctx, info) => conn('ServiceAccountKey', ctx.tenant.keysOfServiceAccount(s.id), args, ctx, info),
  },

  ServiceAccountKey: {
    status: (k, _a, ctx) => ctx.tenant.keyStatus(k),
    serviceAccount: (k, _a, ctx) => ctx.tenant.get('ServiceAccount', k.serviceAccountId),
  },

  User: {
    isAdmin: (u) => u.role === 'ADMIN',
    groups: (u, args, ctx, info) => conn('Group', ctx.tenant.groupsOfUser(u.id), args, ctx, info),
  },

  Device: {
    user: (d, _a, ctx) => ctx.tenant.get('User', d.userId),
  },

  AccessRequest: {
    user: (q, _a, ctx) => ctx.tenant.get('User', q.userId),
    resource: (q, _a, ctx) => ctx.tenant.get('Resource', q.resourceId),
  },

  SerialNumber: {
    matchedDevices: (sn, _a, ctx) => ctx.tenant.devicesWithSerial(sn.serialNumber),
  },

  // Abstract types.
  Resource: { __resolveType: (rec) => typeNameOf(rec) },
  Node: { __resolveType: (rec) => typeNameOf(rec) },
  Principal: { __resolveType: (rec) => rec._type },
};
