/*
 * kinds.c - the kinds table: one row per Twingate object kind.
 *
 * A row says where the kind lives in the tree, how to ask the API for it,
 * which files its objects show and which relations they link to.
 * Selections list fields in schema order, so object.json (the node as the
 * API returns it) comes out in schema order too.  Adding a field is adding
 * a line here.  Relations are read from one side only (the side the API
 * gives without extra pages); the other side is the inverse, derived.
 */
#include <stdlib.h>
#include <string.h>

#include "tg_api.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define RO false
#define RW true

/* A mutation that sets one field: call, type of $v, payload kind. */
#define SET(call, vtype, entity) \
	.set = &(const struct tg_op){ call, vtype, entity, NULL, NULL, NULL, NULL }
/* A mutation with no $v, and its payload kind. */
#define OP(call, entity) \
	(&(const struct tg_op){ call, NULL, entity, NULL, NULL, NULL, NULL })
/* A removal of several targets: $v their ids (struct tg_rel remove_all). */
#define REMOVE_ALL(call, entity) \
	.remove_all = &(const struct tg_op){ call, "[ID!]!", entity, NULL, \
					     NULL, NULL, NULL }
#define ENUMS(...) .values = (const char *const[]){ __VA_ARGS__, NULL }

/* Kinds refer to each other: declare them all first. */
static const struct tg_kind network_kind, connector_kind, resource_kind,
	group_kind, user_kind, device_kind, sa_kind, key_kind, policy_kind,
	serial_kind, request_kind;

/* ---- remote networks ------------------------------------------------ */

static const struct tg_field network_fields[] = {
	{ "id", "id", TG_FT_STRING, RO },
	{ "name", "name", TG_FT_STRING, RW,
	  SET("remoteNetworkUpdate(id: $id, name: $v)", "String!", "networks"),
	  .required = true },
	{ "location", "location", TG_FT_ENUM, RW,
	  SET("remoteNetworkUpdate(id: $id, location: $v)",
	      "RemoteNetworkLocation!", "networks"),
	  ENUMS("AWS", "AZURE", "GOOGLE_CLOUD", "ON_PREMISE", "OTHER") },
	{ "type", "networkType", TG_FT_ENUM, RO },
	{ "is-active", "isActive", TG_FT_BOOL, RW,
	  SET("remoteNetworkUpdate(id: $id, isActive: $v)", "Boolean!",
	      "networks") },
	{ "created-at", "createdAt", TG_FT_TIME, RO },
	{ "updated-at", "updatedAt", TG_FT_TIME, RO },
};

static const struct tg_rel network_rels[] = {
	{ "resources", true, "resources", NULL, NULL, "network",
	  .add = OP("resourceUpdate(id: $t, remoteNetworkId: $id)",
		    "resources") },
};

static const struct tg_kind network_kind = {
	.dir = "networks",
	.type_name = "RemoteNetwork",
	.list_field = "remoteNetworks",
	.one_field = "remoteNetwork",
	.selection = "id name location networkType isActive createdAt "
		     "updatedAt",
	.name_path = "name",
	.mtime_path = "updatedAt",
	.fields = network_fields,
	.nfields = N(network_fields),
	.rels = network_rels,
	.nrels = N(network_rels),
	.create = OP("remoteNetworkCreate(name: $name)", "networks"),
	.remove = OP("remoteNetworkDelete(id: $id)", NULL),
};

/* ---- connectors ------------------------------------------------------ */

static const struct tg_field connector_fields[] = {
	{ "id", "id", TG_FT_STRING, RO },
	{ "name", "name", TG_FT_STRING, RW,
	  SET("connectorUpdate(id: $id, name: $v)", "String!", "connectors"),
	  .required = true },
	{ "state", "state", TG_FT_ENUM, RO },
	{ "hostname", "hostname", TG_FT_STRING, RO },
	{ "version", "version", TG_FT_STRING, RO },
	{ "public-ip", "publicIP", TG_FT_STRING, RO },
	{ "private-ips", "privateIPs", TG_FT_LIST, RO },
	{ "last-heartbeat-at", "lastHeartbeatAt", TG_FT_TIME, RO },
	{ "status-notifications", "hasStatusNotificationsEnabled",
	  TG_FT_BOOL, RW,
	  SET("connectorUpdate(id: $id, hasStatusNotificationsEnabled: $v)",
	      "Boolean!", "connectors") },
	/* Any write generates a new pair (the old one stops working). */
	{ "tokens", NULL, TG_FT_SECRET, RW,
	  .set = &(const struct tg_op){
		  "connectorGenerateTokens(connectorId: $id)", NULL, NULL,
		  "connectorTokens { accessToken refreshToken }",
		  "TWINGATE_ACCESS_TOKEN=connectorTokens.accessToken\n"
		  "TWINGATE_REFRESH_TOKEN=connectorTokens.refreshToken",
		  NULL, NULL } },
};

static const struct tg_kind connector_kind = {
	.dir = "connectors",
	.type_name = "Connector",
	.list_field = "connectors",
	.one_field = "connector",
	.selection = "id name remoteNetwork { id name } state "
		     "hasStatusNotificationsEnabled hostname version publicIP "
		     "privateIPs lastHeartbeatAt createdAt updatedAt",
	.name_path = "name",
	.mtime_path = "updatedAt",
	.parent = &network_kind,
	.parent_path = "remoteNetwork.id",
	.fields = connector_fields,
	.nfields = N(connector_fields),
	.create = OP("connectorCreate(remoteNetworkId: $parent, name: $name)",
		     "connectors"),
	.remove = OP("connectorDelete(id: $id)", NULL),
};

/* ---- resources ------------------------------------------------------- */

static const struct tg_field resource_fields[] = {
	{ "id", "id", TG_FT_STRING, RO },
	{ "name", "name", TG_FT_STRING, RW,
	  SET("resourceUpdate(id: $id, name: $v)", "String!", "resources"),
	  .required = true },
	{ "address", "address.value", TG_FT_STRING, RW,
	  SET("resourceUpdate(id: $id, address: $v)", "String!", "resources"),
	  .required = true },
	/* Empty clears it (null). */
	{ "alias", "alias", TG_FT_STRING, RW,
	  SET("resourceUpdate(id: $id, alias: $v)", "String", "resources") },
	{ "protocols", "protocols", TG_FT_PROTOCOLS, RW,
	  SET("resourceUpdate(id: $id, protocols: $v)", "ProtocolsInput!",
	      "resources") },
	{ "is-active", "isActive", TG_FT_BOOL, RW,
	  SET("resourceUpdate(id: $id, isActive: $v)", "Boolean!",
	      "resources") },
	{ "is-visible", "isVisible", TG_FT_BOOL, RW,
	  SET("resourceUpdate(id: $id, isVisible: $v)", "Boolean!",
	      "resources") },
	{ "browser-shortcut", "isBrowserShortcutEnabled", TG_FT_BOOL, RW,
	  SET("resourceUpdate(id: $id, isBrowserShortcutEnabled: $v)",
	      "Boolean!", "resources") },
	{ "routing-mode", "routingMode", TG_FT_ENUM, RW,
	  SET("resourceUpdate(id: $id, routingMode: $v)", "RoutingMode!",
	      "resources"),
	  ENUMS("THROUGH_TWINGATE", "BYPASS_TWINGATE") },
	{ "tags", "tags", TG_FT_TAGS, RW,
	  SET("resourceUpdate(id: $id, tags: $v)", "[TagInput!]",
	      "resources") },
	{ "type", "__typename", TG_FT_VARIANT, RO },
	/* The defaults of the resource's access edges; empty clears. */
	{ "autolock-days", "usageBasedAutolockDurationDays", TG_FT_INT, RW,
	  SET("resourceUpdate(id: $id, usageBasedAutolockDurationDays: $v)",
	      "Int", "resources") },
	{ "approval-mode", "approvalMode", TG_FT_ENUM, RW,
	  SET("resourceUpdate(id: $id, approvalMode: $v)",
	      "AccessApprovalMode", "resources"),
	  ENUMS("MANUAL", "AUTOMATIC") },
	{ "access-policy", "accessPolicy", TG_FT_ACCESS_POLICY, RW,
	  SET("resourceUpdate(id: $id, accessPolicy: $v)",
	      "AccessPolicyInput", "resources") },
	{ "created-at", "createdAt", TG_FT_TIME, RO },
	{ "updated-at", "updatedAt", TG_FT_TIME, RO },
};

/*
 * Resources are an interface: each concrete type is updated through its
 * own mutation (REFERENCE.md §11; the provider's arguments), which takes
 * no browser shortcut or routing mode, and for SSH and web apps no
 * protocols.  Their fields not on the interface come in a fragment, so a
 * type without them has no such key, and no such file.
 */
static const struct tg_variant resource_variants[] = {
	{ "NetworkResource", "network", NULL, NULL },
	{ "KubernetesResource", "kubernetes", "kubernetesResourceUpdate",
	  "isBrowserShortcutEnabled routingMode" },
	{ "SSHResource", "ssh", "sshResourceUpdate",
	  "isBrowserShortcutEnabled routingMode protocols" },
	{ "WebAppResource", "webapp", "webAppResourceUpdate",
	  "isBrowserShortcutEnabled routingMode protocols" },
};

static const struct tg_conn resource_conns[] = {
	{ "access", "__typename ... on Group { id name } "
		    "... on ServiceAccount { id name }",
	  "expiresAt securityPolicy { id name } "
	  "usageBasedAutolockDurationDays approvalMode "
	  "accessPolicy { mode durationSeconds }" },
};

/* An access edge's settings (DESIGN.md §2 "Access edges"): each written
 * alone, one resourceAccessAdd for that principal carrying that setting
 * (the API keeps those it is not given; null clears). */
#define EDGE_OP(arg, vtype) \
	(&(const struct tg_op){ "resourceAccessAdd(resourceId: $id, " \
	  "access: [{principalId: $t, " arg ": $v}])", vtype, "resources" })
#define EDGE_SET(arg, vtype) .set = EDGE_OP(arg, vtype)

static const struct tg_field access_edge_fields[] = {
	{ "expires-at", "expiresAt", TG_FT_DEADLINE, RW,
	  EDGE_SET("expiresAt", "DateTime") },
	{ "autolock-days", "usageBasedAutolockDurationDays", TG_FT_INT, RW,
	  EDGE_SET("usageBasedAutolockDurationDays", "Int") },
	{ "approval-mode", "approvalMode", TG_FT_ENUM, RW,
	  EDGE_SET("approvalMode", "AccessApprovalMode"),
	  ENUMS("MANUAL", "AUTOMATIC") },
	{ "access-policy", "accessPolicy", TG_FT_ACCESS_POLICY, RW,
	  EDGE_SET("accessPolicy", "AccessPolicyInput") },
};

#define EDGE_SETTINGS(target_file) \
	.edge_target_file = target_file, \
	.edge_link_file = "security-policy", \
	.edge_fields = access_edge_fields, \
	.nedge_fields = N(access_edge_fields), \
	.edge_link_path = "securityPolicy.id", \
	.edge_link_target = "security-policies", \
	.edge_link_set = EDGE_OP("securityPolicyId", "ID")

static const struct tg_rel resource_rels[] = {
	{ "network", false, "networks", "remoteNetwork.id", NULL, NULL,
	  .add = OP("resourceUpdate(id: $id, remoteNetworkId: $t)",
		    "resources") },
	{ "security-policy", false, "security-policies", "securityPolicy.id",
	  NULL, NULL,
	  .add = OP("resourceUpdate(id: $id, securityPolicyId: $t)",
		    "resources"),
	  .remove = OP("resourceUpdate(id: $id, securityPolicyId: null)",
		       "resources") },
	{ "access/groups", true, "groups", "access", "Group", NULL,
	  .add = OP("resourceAccessAdd(resourceId: $id, "
		    "access: [{principalId: $t}])", "resources"),
	  .remove = OP("resourceAccessRemove(resourceId: $id, "
		       "principalIds: [$t])", "resources"),
	  REMOVE_ALL("resourceAccessRemove(resourceId: $id, "
		     "principalIds: $v)", "resources"),
	  EDGE_SETTINGS("group") },
	{ "access/service-accounts", true, "service-accounts", "access",
	  "ServiceAccount", NULL,
	  .add = OP("resourceAccessAdd(resourceId: $id, "
		    "access: [{principalId: $t}])", "resources"),
	  .remove = OP("resourceAccessRemove(resourceId: $id, "
		       "principalIds: [$t])", "resources"),
	  REMOVE_ALL("resourceAccessRemove(resourceId: $id, "
		     "principalIds: $v)", "resources"),
	  EDGE_SETTINGS("service-account") },
};

static const struct tg_kind resource_kind = {
	.dir = "resources",
	.type_name = "Resource",
	.list_field = "resources",
	.one_field = "resource",
	/* The NetworkResource fragment sits in one on Resource, so the
	 * selection is valid on the interface and on every type (a typed
	 * update's entity), where a bare one is not on another type. */
	.selection = "__typename id name address { type value } alias "
		     "remoteNetwork { id name } protocols { allowIcmp "
		     "tcp { policy ports { start end } } "
		     "udp { policy ports { start end } } } isActive isVisible "
		     "... on Resource { ... on NetworkResource { "
		     "isBrowserShortcutEnabled routingMode } } "
		     "securityPolicy { id name } tags { key value } "
		     "usageBasedAutolockDurationDays approvalMode "
		     "accessPolicy { mode durationSeconds } "
		     "createdAt updatedAt",
	.name_path = "name",
	.mtime_path = "updatedAt",
	.fields = resource_fields,
	.nfields = N(resource_fields),
	.conns = resource_conns,
	.nconns = N(resource_conns),
	.rels = resource_rels,
	.nrels = N(resource_rels),
	.remove = OP("resourceDelete(id: $id)", NULL),
	.draft = &(const struct tg_draft){
		"resourceCreate",
		"name address alias protocols is-visible browser-shortcut "
		"routing-mode tags network security-policy",
		"name address network" },
	.variants = resource_variants,
	.nvariants = N(resource_variants),
	.update_call = "resourceUpdate",
};

/* ---- groups ---------------------------------------------------------- */

static const struct tg_field group_fields[] = {
	{ "id", "id", TG_FT_STRING, RO },
	{ "name", "name", TG_FT_STRING, RW,
	  SET("groupUpdate(id: $id, name: $v)", "String!", "groups"),
	  .required = true },
	{ "type", "type", TG_FT_ENUM, RO },
	{ "is-active", "isActive", TG_FT_BOOL, RW,
	  SET("groupUpdate(id: $id, isActive: $v)", "Boolean!", "groups") },
	{ "created-at", "createdAt", TG_FT_TIME, RO },
	{ "updated-at", "updatedAt", TG_FT_TIME, RO },
};

static const struct tg_conn group_conns[] = {
	{ "users", "id email" },
};

static const struct tg_rel group_rels[] = {
	{ "security-policy", false, "security-policies", "securityPolicy.id",
	  NULL, NULL,
	  .add = OP("groupUpdate(id: $id, securityPolicyId: $t)", "groups") },
	{ "users", true, "users", "users", NULL, NULL,
	  .add = OP("groupUpdate(id: $id, addedUserIds: [$t])", "groups"),
	  .remove = OP("groupUpdate(id: $id, removedUserIds: [$t])",
		       "groups"),
	  REMOVE_ALL("groupUpdate(id: $id, removedUserIds: $v)", "groups") },
	{ "resources", true, "resources", NULL, NULL, "access/groups",
	  .add = OP("resourceAccessAdd(resourceId: $t, "
		    "access: [{principalId: $id}])", "resources"),
	  .remove = OP("resourceAccessRemove(resourceId: $t, "
		       "principalIds: [$id])", "resources") },
};

static const struct tg_kind group_kind = {
	.dir = "groups",
	.type_name = "Group",
	.list_field = "groups",
	.one_field = "group",
	.selection = "id name type isActive originId "
		     "securityPolicy { id name } createdAt updatedAt",
	.name_path = "name",
	.mtime_path = "updatedAt",
	.fields = group_fields,
	.nfields = N(group_fields),
	.conns = group_conns,
	.nconns = N(group_conns),
	.rels = group_rels,
	.nrels = N(group_rels),
	.create = OP("groupCreate(name: $name)", "groups"),
	.remove = OP("groupDelete(id: $id)", NULL),
	/* The members of a group synced from an identity provider, or of
	 * the system group, are the API's to change. */
	.frozen = &(const struct tg_frozen){
		"users", "type", (const char *const[]){ "synced", "system",
							 NULL } },
};

/* ---- users ----------------------------------------------------------- */

static const struct tg_field user_fields[] = {
	{ "id", "id", TG_FT_STRING, RO },
	{ "email", "email", TG_FT_STRING, RO },
	{ "first-name", "firstName", TG_FT_STRING, RW,
	  SET("userDetailsUpdate(id: $id, firstName: $v)", "String!",
	      "users") },
	{ "last-name", "lastName", TG_FT_STRING, RW,
	  SET("userDetailsUpdate(id: $id, lastName: $v)", "String!",
	      "users") },
	{ "role", "role", TG_FT_ENUM, RW,
	  SET("userRoleUpdate(id: $id, role: $v)", "UserRole!", "users"),
	  ENUMS("ACCESS_REVIEWER", "ADMIN", "DEVOPS", "MEMBER", "SUPPORT") },
	/* PENDING is the API's to set, not ours. */
	{ "state", "state", TG_FT_ENUM, RW,
	  SET("userDetailsUpdate(id: $id, state: $v)",
	      "UserStateUpdateInput!", "users"),
	  ENUMS("ACTIVE", "DISABLED") },
	{ "type", "type", TG_FT_ENUM, RO },
	{ "created-at", "createdAt", TG_FT_TIME, RO },
	{ "updated-at", "updatedAt", TG_FT_TIME, RO },
};

static const struct tg_rel user_rels[] = {
	{ "groups", true, "groups", NULL, NULL, "users",
	  .add = OP("groupUpdate(id: $t, addedUserIds: [$id])", "groups"),
	  .remove = OP("groupUpdate(id: $t, removedUserIds: [$id])",
		       "groups") },
	{ "devices", true, "devices", NULL, NULL, "user" },
};

static const struct tg_kind user_kind = {
	.dir = "users",
	.type_name = "User",
	.list_field = "users",
	.one_field = "user",
	.selection = "id email firstName lastName role state type "
		     "createdAt updatedAt",
	.name_path = "email",
	.mtime_path = "updatedAt",
	.fields = user_fields,
	.nfields = N(user_fields),
	.rels = user_rels,
	.nrels = N(user_rels),
	.create = OP("userCreate(email: $name)", "users"),
	.remove = OP("userDelete(id: $id)", NULL),
};

/* ---- devices --------------------------------------------------------- */

/* Archive, unarchive, block, unblock: chosen from the state now. */
static const struct tg_transition device_states[] = {
	{ "ACTIVE", "ARCHIVED",
	  { "deviceUnarchive(id: $id)", NULL, "devices", NULL, NULL, NULL,
	    NULL } },
	{ "ACTIVE", "BLOCKED",
	  { "deviceUnblock(id: $id)", NULL, "devices", NULL, NULL, NULL,
	    NULL } },
	{ "ARCHIVED", NULL,
	  { "deviceArchive(id: $id)", NULL, "devices", NULL, NULL, NULL,
	    NULL } },
	{ "BLOCKED", NULL,
	  { "deviceBlock(id: $id)", NULL, "devices", NULL, NULL, NULL,
	    NULL } },
};

static const struct tg_field device_fields[] = {
	{ "id", "id", TG_FT_STRING, RO },
	{ "name", "name", TG_FT_STRING, RO },
	{ "device-type", "deviceType", TG_FT_ENUM, RO },
	{ "os-name", "osName", TG_FT_ENUM, RO },
	{ "os-version", "osVersion", TG_FT_STRING, RO },
	{ "hardware-model", "hardwareModel", TG_FT_STRING, RO },
	{ "manufacturer", "manufacturerName", TG_FT_STRING, RO },
	{ "hostname", "hostname", TG_FT_STRING, RO },
	{ "username", "username", TG_FT_STRING, RO },
	{ "serial-number", "serialNumber", TG_FT_STRING, RO },
	{ "client-version", "clientVersion", TG_FT_STRING, RO },
	{ "last-login-at", "lastSuccessfulLoginAt", TG_FT_TIME, RO },
	{ "last-failed-login-at", "lastFailedLoginAt", TG_FT_TIME, RO },
	{ "trust", "isTrusted", TG_FT_TRUST, RW,
	  SET("deviceUpdate(id: $id, isTrusted: $v)", "Boolean!",
	      "devices") },
	{ "state", "activeState", TG_FT_ENUM, RW,
	  ENUMS("ACTIVE", "ARCHIVED", "BLOCKED"),
	  .trans = device_states, .ntrans = N(device_states) },
};

static const struct tg_rel device_rels[] = {
	{ "user", false, "users", "user.id", NULL, NULL },
};

static const struct tg_kind device_kind = {
	.dir = "devices",
	.type_name = "Device",
	.list_field = "devices",
	.one_field = "device",
	.selection = "id name user { id email } activeState isTrusted "
		     "deviceType osName osVersion clientVersion hardwareModel "
		     "manufacturerName hostname username serialNumber "
		     "internetSecurityConfiguration lastSuccessfulLoginAt "
		     "lastFailedLoginAt",
	.name_path = "id",
	.lookup = TG_LOOKUP_ID,
	.mtime_path = NULL, /* devices have no updatedAt */
	.fields = device_fields,
	.nfields = N(device_fields),
	.rels = device_rels,
	.nrels = N(device_rels),
};

/* ---- service accounts and their keys --------------------------------- */

static const struct tg_field sa_fields[] = {
	{ "id", "id", TG_FT_STRING, RO },
	{ "name", "name", TG_FT_STRING, RW,
	  SET("serviceAccountUpdate(id: $id, name: $v)", "String!",
	      "service-accounts"),
	  .required = true },
	{ "created-at", "createdAt", TG_FT_TIME, RO },
	{ "updated-at", "updatedAt", TG_FT_TIME, RO },
};

static const struct tg_conn sa_conns[] = {
	{ "keys", NULL }, /* the embedded keys, whole */
};

static const struct tg_rel sa_rels[] = {
	{ "resources", true, "resources", NULL, NULL,
	  "access/service-accounts",
	  .add = OP("resourceAccessAdd(resourceId: $t, "
		    "access: [{principalId: $id}])", "resources"),
	  .remove = OP("resourceAccessRemove(resourceId: $t, "
		       "principalIds: [$id])", "resources") },
};

static const struct tg_kind sa_kind = {
	.dir = "service-accounts",
	.type_name = "ServiceAccount",
	.list_field = "serviceAccounts",
	.one_field = "serviceAccount",
	.selection = "id name createdAt updatedAt",
	.name_path = "name",
	.mtime_path = "updatedAt",
	.fields = sa_fields,
	.nfields = N(sa_fields),
	.conns = sa_conns,
	.nconns = N(sa_conns),
	.rels = sa_rels,
	.nrels = N(sa_rels),
	.create = OP("serviceAccountCreate(name: $name)", "service-accounts"),
	.remove = OP("serviceAccountDelete(id: $id)", NULL),
};

static const struct tg_field key_fields[] = {
	{ "id", "id", TG_FT_STRING, RO },
	{ "name", "name", TG_FT_STRING, RW,
	  SET("serviceAccountKeyUpdate(id: $id, name: $v)", "String!",
	      "keys"),
	  .required = true },
	{ "status", "status", TG_FT_ENUM, RO },
	{ "expires-at", "expiresAt", TG_FT_TIME, RO },
	{ "created-at", "createdAt", TG_FT_TIME, RO },
	{ "token", NULL, TG_FT_SECRET, RO },
};

static const struct tg_kind key_kind = {
	.dir = "keys",
	.type_name = "ServiceAccountKey",
	.one_field = "serviceAccountKey",
	.selection = "id name status expiresAt revokedAt createdAt updatedAt",
	.name_path = "name",
	.mtime_path = "updatedAt",
	.parent = &sa_kind,
	.parent_conn = "keys",
	.fields = key_fields,
	.nfields = N(key_fields),
	/* The secret comes once, in the create's payload. */
	.create = &(const struct tg_op){
		"serviceAccountKeyCreate(serviceAccountId: $parent, "
		"name: $name, expirationTime: 0)", NULL, "keys", "token",
		"token", NULL, NULL },
	.pre_delete = &(const struct tg_op){
		"serviceAccountKeyRevoke(id: $id)", NULL, "keys", NULL, NULL,
		"status", "active\n" },
	.remove = OP("serviceAccountKeyDelete(id: $id)", NULL),
};

/* ---- security policies ----------------------------------------------- */

static const struct tg_field policy_fields[] = {
	{ "id", "id", TG_FT_STRING, RO },
	{ "name", "name", TG_FT_STRING, RO },
	{ "policy-type", "policyType", TG_FT_ENUM, RO },
	{ "created-at", "createdAt", TG_FT_TIME, RO },
	{ "updated-at", "updatedAt", TG_FT_TIME, RO },
};

static const struct tg_rel policy_rels[] = {
	{ "groups", true, "groups", NULL, NULL, "security-policy",
	  .add = OP("securityPolicyUpdate(id: $id, addedGroupIds: [$t])",
		    NULL),
	  .remove = OP("securityPolicyUpdate(id: $id, removedGroupIds: [$t])",
		       NULL),
	  REMOVE_ALL("securityPolicyUpdate(id: $id, removedGroupIds: $v)",
		     NULL) },
};

static const struct tg_kind policy_kind = {
	.dir = "security-policies",
	.type_name = "SecurityPolicy",
	.list_field = "securityPolicies",
	.one_field = "securityPolicy",
	.selection = "id name policyType createdAt updatedAt",
	.name_path = "name",
	.mtime_path = "updatedAt",
	.fields = policy_fields,
	.nfields = N(policy_fields),
	.rels = policy_rels,
	.nrels = N(policy_rels),
};

/* ---- trusted serial numbers (2026) ------------------------------------ */

static const struct tg_field serial_fields[] = {
	{ "id", "id", TG_FT_STRING, RO },
	{ "serial-number", "serialNumber", TG_FT_STRING, RO },
	{ "created-at", "createdAt", TG_FT_TIME, RO },
};

static const struct tg_rel serial_rels[] = {
	{ "devices", true, "devices", "matchedDevices", NULL, NULL },
};

/* Made and deleted by their serial (the folder's name), one a call,
 * though the mutations take lists. */
static const struct tg_kind serial_kind = {
	.dir = "serial-numbers",
	.type_name = "SerialNumber",
	.list_field = "serialNumbers",
	.selection = "id serialNumber createdAt matchedDevices { id }",
	.name_path = "serialNumber",
	.mtime_path = "createdAt",
	.fields = serial_fields,
	.nfields = N(serial_fields),
	.rels = serial_rels,
	.nrels = N(serial_rels),
	.create = &(const struct tg_op){
		.call = "serialNumbersCreate(serialNumbers: [$name])",
		.entity = "serial-numbers", .entities = "entities" },
	.remove = OP("serialNumbersDelete(serialNumbers: [$name])", NULL),
};

/* ---- access requests (just-in-time access, 2026) ---------------------- */

/* approve grants the access asked for (the user joins the group that
 * reaches the resource), reject only drops the request: either way the
 * request is gone. */
static const struct tg_transition request_decisions[] = {
	{ "APPROVE", NULL,
	  { .call = "accessRequestApprove(id: $id)", .touches = "groups",
	    .consumes = true } },
	{ "REJECT", NULL,
	  { .call = "accessRequestReject(id: $id)", .consumes = true } },
};

static const struct tg_field request_fields[] = {
	{ "id", "id", TG_FT_STRING, RO },
	{ "reason", "reason", TG_FT_STRING, RO },
	{ "requested-at", "requestedAt", TG_FT_TIME, RO },
	/* Empty until written: approve or reject. */
	{ "decision", NULL, TG_FT_ENUM, RW, ENUMS("APPROVE", "REJECT"),
	  .trans = request_decisions, .ntrans = N(request_decisions) },
};

static const struct tg_rel request_rels[] = {
	{ "user", false, "users", "user.id", NULL, NULL },
	{ "resource", false, "resources", "resource.id", NULL, NULL },
};

static const struct tg_kind request_kind = {
	.dir = "access-requests",
	.type_name = "AccessRequest",
	.list_field = "accessRequests",
	.one_field = "accessRequest",
	.selection = "id reason requestedAt user { id email } "
		     "resource { id name }",
	.name_path = "id",
	.lookup = TG_LOOKUP_ID,
	.mtime_path = "requestedAt",
	.fields = request_fields,
	.nfields = N(request_fields),
	.rels = request_rels,
	.nrels = N(request_rels),
};

/* ---- the table ------------------------------------------------------- */

const struct tg_kind *const tg_kinds[] = {
	&network_kind, &connector_kind, &resource_kind, &group_kind,
	&user_kind,    &device_kind,    &sa_kind,       &key_kind,
	&policy_kind,  &serial_kind,    &request_kind,
};

const size_t tg_nkinds = N(tg_kinds);

const struct tg_kind *tg_kind_by_dir(const struct tg_kind *parent,
				     const char *dir)
{
	for (size_t i = 0; i < tg_nkinds; i++)
		if (tg_kinds[i]->parent == parent &&
		    strcmp(tg_kinds[i]->dir, dir) == 0)
			return tg_kinds[i];
	return NULL;
}

const struct tg_kind *tg_kind_embedded(const struct tg_kind *kind)
{
	for (size_t i = 0; i < tg_nkinds; i++)
		if (tg_kinds[i]->parent == kind && tg_kinds[i]->parent_conn)
			return tg_kinds[i];
	return NULL;
}

const struct tg_kind *tg_kind_named(const char *dir)
{
	for (size_t i = 0; i < tg_nkinds; i++)
		if (strcmp(tg_kinds[i]->dir, dir) == 0)
			return tg_kinds[i];
	return NULL;
}

const struct tg_variant *tg_variant_named(const char *type_name)
{
	for (size_t i = 0; type_name && i < tg_nkinds; i++)
		for (size_t j = 0; j < tg_kinds[i]->nvariants; j++)
			if (!strcmp(tg_kinds[i]->variants[j].type_name,
				    type_name))
				return &tg_kinds[i]->variants[j];
	return NULL;
}

int tg_field_index(const struct tg_kind *kind, const char *file)
{
	for (size_t i = 0; i < kind->nfields; i++)
		if (strcmp(kind->fields[i].file, file) == 0)
			return (int)i;
	return -1;
}

int tg_rel_index(const struct tg_kind *kind, const char *dir)
{
	for (size_t i = 0; i < kind->nrels; i++)
		if (strcmp(kind->rels[i].dir, dir) == 0)
			return (int)i;
	return -1;
}

bool tg_rel_frozen(const struct tg_kind *kind, const char *dir,
		   const struct tg_object *obj)
{
	const struct tg_frozen *f = kind->frozen;
	int fi = f && !strcmp(f->rel, dir) ? tg_field_index(kind, f->file)
					   : -1;
	char *buf = NULL;
	const char *v = fi >= 0 && obj ? tg_object_value(obj, (size_t)fi, &buf)
				       : NULL;
	bool yes = false;

	/* a value as its file shows it: one line */
	for (size_t i = 0; v && f->values[i] && !yes; i++) {
		size_t n = strlen(f->values[i]);

		yes = !strncmp(v, f->values[i], n) &&
		      (!v[n] || v[n] == '\n');
	}
	free(buf);
	return yes;
}
