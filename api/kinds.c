/*
 * kinds.c - the kinds table: one row per Twingate object kind.
 *
 * A row says where the kind lives in the tree, how to ask the API for it
 * and which files its objects show.  Selections list fields in schema
 * order, so object.json (the node as the API returns it) comes out in
 * schema order too.  Adding a field is adding a line here.
 */
#include <string.h>

#include "tg_api.h"

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

static const struct tg_field network_fields[] = {
	{ "id", "id", TG_FT_STRING, false },
	{ "name", "name", TG_FT_STRING, true },
	{ "location", "location", TG_FT_ENUM, true },
	{ "type", "networkType", TG_FT_ENUM, false },
	{ "is-active", "isActive", TG_FT_BOOL, true },
	{ "created-at", "createdAt", TG_FT_TIME, false },
	{ "updated-at", "updatedAt", TG_FT_TIME, false },
};

static const struct tg_kind network_kind = {
	.dir = "networks",
	.type_name = "RemoteNetwork",
	.list_field = "remoteNetworks",
	.selection = "id name location networkType isActive createdAt "
		     "updatedAt",
	.name_path = "name",
	.mtime_path = "updatedAt",
	.fields = network_fields,
	.nfields = NFIELDS(network_fields),
};

static const struct tg_field connector_fields[] = {
	{ "id", "id", TG_FT_STRING, false },
	{ "name", "name", TG_FT_STRING, true },
	{ "state", "state", TG_FT_ENUM, false },
	{ "hostname", "hostname", TG_FT_STRING, false },
	{ "version", "version", TG_FT_STRING, false },
	{ "public-ip", "publicIP", TG_FT_STRING, false },
	{ "private-ips", "privateIPs", TG_FT_LIST, false },
	{ "last-heartbeat-at", "lastHeartbeatAt", TG_FT_TIME, false },
	{ "status-notifications", "hasStatusNotificationsEnabled",
	  TG_FT_BOOL, true },
	{ "tokens", NULL, TG_FT_SECRET, true },
};

static const struct tg_kind connector_kind = {
	.dir = "connectors",
	.type_name = "Connector",
	.list_field = "connectors",
	.selection = "id name remoteNetwork { id name } state "
		     "hasStatusNotificationsEnabled hostname version publicIP "
		     "privateIPs lastHeartbeatAt createdAt updatedAt",
	.name_path = "name",
	.mtime_path = "updatedAt",
	.parent = &network_kind,
	.parent_path = "remoteNetwork.id",
	.fields = connector_fields,
	.nfields = NFIELDS(connector_fields),
};

const struct tg_kind *const tg_kinds[] = {
	&network_kind,
	&connector_kind,
};

const size_t tg_nkinds = NFIELDS(tg_kinds);

const struct tg_kind *tg_kind_by_dir(const struct tg_kind *parent,
				     const char *dir)
{
	for (size_t i = 0; i < tg_nkinds; i++)
		if (tg_kinds[i]->parent == parent &&
		    strcmp(tg_kinds[i]->dir, dir) == 0)
			return tg_kinds[i];
	return NULL;
}
