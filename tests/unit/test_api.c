/*
 * test_api.c - api/'s pure parts: times, global IDs, rendering of every
 * field type from JSON nodes, hostile and malformed JSON, and a check of
 * every row of the kinds table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "tg_api.h"

static const struct tg_kind *kind(const char *dir)
{
	for (size_t i = 0; i < tg_nkinds; i++)
		if (strcmp(tg_kinds[i]->dir, dir) == 0)
			return tg_kinds[i];
	fail_msg("no kind %s", dir);
	return NULL;
}

/* The field's content as its file shows it ("" for a null value); its
 * length as stat tells it is checked on the way.  The last few renderings
 * are kept for the caller to compare. */
static const char *value(const struct tg_object *o, const char *file)
{
	static char *kept[8];
	static size_t next;
	char **buf = &kept[next++ % 8];

	for (size_t i = 0; i < o->kind->nfields; i++) {
		const char *v;

		if (strcmp(o->kind->fields[i].file, file) != 0)
			continue;
		free(*buf);
		*buf = NULL;
		v = tg_object_value(o, i, buf);
		assert_non_null(v);
		assert_int_equal(strlen(v), tg_object_value_len(o, i));
		return v;
	}
	fail_msg("no field %s", file);
	return NULL;
}

static void test_time_parse_offsets_and_fractions(void **state)
{
	int64_t t;

	(void)state;
	assert_true(tg_time_parse("1970-01-01T00:00:00Z", &t));
	assert_int_equal(t, 0);
	assert_true(tg_time_parse("2024-02-15T01:13:51.059028+00:00", &t));
	assert_int_equal(t, 1707959631);
	assert_true(tg_time_parse("2024-02-15T03:13:51+02:00", &t));
	assert_int_equal(t, 1707959631);
	assert_true(tg_time_parse("2024-02-14T20:13:51.5-05:00", &t));
	assert_int_equal(t, 1707959631);
}

/* mtimes carry updatedAt to its last digit: two changes within a second
 * are two times. */
static void test_time_parse_ns_keeps_the_fraction(void **state)
{
	const int64_t G = INT64_C(1000000000);
	int64_t t = 7;

	(void)state;
	assert_true(tg_time_parse_ns("1970-01-01T00:00:00Z", &t));
	assert_int_equal(t, 0);
	/* the API's microseconds, the example */
	assert_true(tg_time_parse_ns("2026-12-03T13:48:40.950442+00:00", &t));
	assert_int_equal(t, 1796305720 * G + 950442000);
	assert_true(tg_time_parse_ns("2024-02-15T01:13:51.059028+00:00", &t));
	assert_int_equal(t, 1707959631 * G + 59028000);
	assert_true(tg_time_parse_ns("2024-02-14T20:13:51.5-05:00", &t));
	assert_int_equal(t, 1707959631 * G + 500000000);
	assert_true(tg_time_parse_ns("2024-02-15T01:13:51.000000001Z", &t));
	assert_int_equal(t, 1707959631 * G + 1);
	assert_true(tg_time_parse_ns("2024-02-15T01:13:51.123456789Z", &t));
	assert_int_equal(t, 1707959631 * G + 123456789);
	assert_true(tg_time_parse_ns("2024-02-15T03:13:51+02:00", &t));
	assert_int_equal(t, 1707959631 * G);
	/* equal seconds, different fractions: different times */
	{
		int64_t a, b;

		assert_true(tg_time_parse_ns("2024-02-15T01:13:51.100000Z",
					     &a));
		assert_true(tg_time_parse_ns("2024-02-15T01:13:51.100001Z",
					     &b));
		assert_int_equal(b - a, 1000);
	}
	/* malformed, or past what int64_t nanoseconds hold: untouched */
	t = 7;
	assert_false(tg_time_parse_ns("2024-02-15T01:13:51.1234567890Z", &t));
	assert_false(tg_time_parse_ns("2024-02-15T01:13:51.Z", &t));
	assert_false(tg_time_parse_ns("2300-01-01T00:00:00Z", &t));
	assert_false(tg_time_parse_ns("1600-01-01T00:00:00Z", &t));
	assert_false(tg_time_parse_ns(NULL, &t));
	assert_int_equal(t, 7);
}

static void test_time_parse_rejects_malformed(void **state)
{
	static const char *const bad[] = {
		"", "2024", "2024-02-15", "2024-02-15T01:13:51",
		"2024-13-15T01:13:51Z", "2024-02-15T25:13:51Z",
		"2024-02-15T01:13:51+0000", "2024-02-15T01:13:51Zjunk",
		"2024-02-15T01:13:51.Z", "2024-02-15T01:13:51.1234567890Z",
		"2024-0a-15T01:13:51Z", "2024-02-15T01:13:51+24:00",
	};
	int64_t t;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(tg_time_parse(bad[i], &t));
	assert_false(tg_time_parse(NULL, &t));
}

static void test_time_render_is_utc_rfc3339(void **state)
{
	char out[64];

	(void)state;
	assert_true(tg_time_render("2024-02-15T01:13:51.059028+00:00", out,
				   sizeof(out)));
	assert_string_equal(out, "2024-02-15T01:13:51.059028Z");
	assert_true(tg_time_render("2024-02-15T03:13:51+02:00", out,
				   sizeof(out)));
	assert_string_equal(out, "2024-02-15T01:13:51Z");
	assert_true(tg_time_render("2024-01-01T00:00:00.000Z", out,
				   sizeof(out)));
	assert_string_equal(out, "2024-01-01T00:00:00.000Z");
	assert_false(tg_time_render("2024-01-01T00:00:00Z", out, 10));
}

static void test_global_id_decode(void **state)
{
	char type[64], pk[64];

	(void)state;
	assert_true(tg_global_id_decode("UmVtb3RlTmV0d29yazo0MDA2NA==", type,
					sizeof(type), pk, sizeof(pk)));
	assert_string_equal(type, "RemoteNetwork");
	assert_string_equal(pk, "40064");
	assert_true(tg_global_id_decode(
		"U2VydmljZUFjY291bnQ6MmRkOTFmMDctYTcyNi00ZWU1LTllMDgtNzEwZmM0ZGE4MzQ0",
		type, sizeof(type), pk, sizeof(pk)));
	assert_string_equal(type, "ServiceAccount");
	assert_string_equal(pk, "2dd91f07-a726-4ee5-9e08-710fc4da8344");
	assert_false(tg_global_id_decode("not base64!", type, sizeof(type), pk,
					 sizeof(pk)));
	assert_false(tg_global_id_decode("bm9jb2xvbg==", type, sizeof(type),
					 pk, sizeof(pk))); /* "nocolon" */
	assert_false(tg_global_id_decode("", type, sizeof(type), pk,
					 sizeof(pk)));
}

static const char network_json[] =
	"{\"id\":\"UmVtb3RlTmV0d29yazo0MDA2NA==\",\"name\":\"AWS prod\","
	"\"location\":\"AWS\",\"networkType\":\"REGULAR\",\"isActive\":true,"
	"\"createdAt\":\"2024-02-15T01:13:51.059028+00:00\","
	"\"updatedAt\":\"2024-03-01T10:00:00+01:00\"}";

/* object.json is kept compact and shown pretty: what is shown from the
 * compact text is what the API's node printed (same length and hash, which
 * were taken from the node), for awkward scalars too. */
static void test_object_json_shown_from_compact_is_the_nodes(void **state)
{
	const struct tg_kind *k = kind("networks");
	const char *j =
		"{\"id\":\"TjE=\",\"name\":\"N \\\"q\\\" \u00e9 \\ud83d\\ude00\","
		"\"location\":\"AWS\",\"networkType\":\"REGULAR\","
		"\"isActive\":true,\"createdAt\":\"2024-01-01T00:00:00Z\","
		"\"updatedAt\":\"2024-01-01T00:00:00Z\",\"extra\":{\"n\":"
		"[0,-1,1.5,1e-07,0.1,12345678901234567890,3.141592653589793],"
		"\"s\":\"a\\\\b\\n\\t\\u0001\\/\",\"e\":{},\"a\":[],"
		"\"z\":null,\"f\":false,\"d\":[[{}],[[]]]}}";
	struct tg_object a, b;
	char *abuf = NULL, *bbuf = NULL;
	const char *as, *bs;

	(void)state;
	assert_int_equal(tg_object_from_json(k, j, strlen(j), &a), TG_OK);
	assert_non_null(a.packed);
	as = tg_object_json(&a, &abuf);
	assert_non_null(as);
	assert_int_equal(strlen(as), a.json_len);
	assert_non_null(strstr(as, "\n  \"extra\": {\n    \"n\": [\n      0,\n"));
	assert_non_null(strstr(as, "\"e\": {}"));
	/* Escaped as cJSON escapes; UTF-8 as it came. */
	assert_non_null(strstr(as, "\n  \"name\": \"N \\\"q\\\" \xc3\xa9 "
				   "\xf0\x9f\x98\x80\",\n"));
	assert_non_null(strstr(as, "\n    \"s\": \"a\\\\b\\n\\t\\u0001/\",\n"));
	assert_non_null(strstr(as, "\n    \"z\": null,\n    \"f\": false,\n"));
	/* the compact text read again gives the same object.json */
	{
		char *compact = json_unpack(k, a.packed, a.packed_size);

		assert_non_null(compact);
		assert_null(strchr(compact, '\n'));
		assert_true(strlen(compact) < a.json_len);
		assert_int_equal(tg_object_from_json(k, compact,
						     strlen(compact), &b),
				 TG_OK);
		free(compact);
	}
	bs = tg_object_json(&b, &bbuf);
	assert_string_equal(as, bs);
	assert_int_equal(a.json_len, b.json_len);
	assert_true(a.hash == b.hash);
	{
		char *ta = json_unpack(k, a.packed, a.packed_size);
		char *tb = json_unpack(k, b.packed, b.packed_size);

		assert_non_null(ta);
		assert_non_null(tb);
		assert_string_equal(ta, tb);
		free(ta);
		free(tb);
	}
	free(abuf);
	free(bbuf);
	tg_object_release(&a);
	tg_object_release(&b);
}

static void test_network_fields_render(void **state)
{
	struct tg_object o;

	(void)state;
	assert_int_equal(tg_object_from_json(kind("networks"), network_json,
					     strlen(network_json), &o),
			 TG_OK);
	assert_string_equal(o.id, "UmVtb3RlTmV0d29yazo0MDA2NA==");
	assert_string_equal(o.name, "AWS prod");
	assert_null(o.parent_id);
	assert_string_equal(value(&o, "id"), "UmVtb3RlTmV0d29yazo0MDA2NA==\n");
	assert_string_equal(value(&o, "name"), "AWS prod\n");
	assert_string_equal(value(&o, "location"), "aws\n");
	assert_string_equal(value(&o, "type"), "regular\n");
	assert_string_equal(value(&o, "is-active"), "true\n");
	assert_string_equal(value(&o, "created-at"),
			    "2024-02-15T01:13:51.059028Z\n");
	assert_string_equal(value(&o, "updated-at"), "2024-03-01T09:00:00Z\n");
	assert_int_equal(o.mtime, 1709283600 * INT64_C(1000000000));
	/* object.json: the node pretty-printed, keys in the API's order;
	 * kept compact, shown pretty, its length known without showing. */
	{
		char *buf = NULL;
		const char *j = tg_object_json(&o, &buf);

		assert_non_null(o.packed);
		assert_null(o.json);
		assert_non_null(j);
		assert_non_null(strstr(j, "\n  \"name\": \"AWS prod\",\n"));
		assert_true(strstr(j, "\"id\"") < strstr(j, "\"updatedAt\""));
		assert_int_equal(j[strlen(j) - 1], '\n');
		assert_int_equal(strlen(j), o.json_len);
		free(buf);
	}
	/* Values as listed are rendered from the node when read: the
	 * object holds their lengths, and a copy holds its own. */
	assert_null(o.values);
	{
		struct tg_object c;
		int f = tg_field_index(o.kind, "location");

		assert_int_equal(o.lens[f], 4);
		assert_int_equal(tg_object_copy(&o, &c), TG_OK);
		assert_null(c.values);
		assert_ptr_not_equal(c.lens, o.lens);
		assert_ptr_not_equal(c.packed, o.packed);
		assert_memory_equal(c.packed, o.packed, o.packed_size);
		tg_object_release(&o);
		assert_string_equal(value(&c, "location"), "aws\n");
		assert_string_equal(value(&c, "name"), "AWS prod\n");
		tg_object_release(&c);
	}
}

static void test_connector_lists_nulls_and_parent(void **state)
{
	static const char j[] =
		"{\"id\":\"Q29ubmVjdG9yOjEwMzkyMTI=\",\"name\":\"petrel\","
		"\"remoteNetwork\":{\"id\":\"UmVtb3RlTmV0d29yazo0MDA2NA==\","
		"\"name\":\"AWS prod\"},\"state\":\"DEAD_NO_HEARTBEAT\","
		"\"hasStatusNotificationsEnabled\":false,\"hostname\":null,"
		"\"version\":null,\"publicIP\":null,"
		"\"privateIPs\":[\"10.0.1.23\",\"10.0.2.5\"],"
		"\"lastHeartbeatAt\":null,"
		"\"createdAt\":\"2024-01-01T00:00:00Z\","
		"\"updatedAt\":\"2024-01-02T00:00:00Z\"}";
	struct tg_object o;

	(void)state;
	assert_int_equal(tg_object_from_json(kind("connectors"), j, strlen(j),
					     &o),
			 TG_OK);
	assert_string_equal(o.parent_id, "UmVtb3RlTmV0d29yazo0MDA2NA==");
	assert_string_equal(value(&o, "state"), "dead_no_heartbeat\n");
	assert_string_equal(value(&o, "status-notifications"), "false\n");
	assert_string_equal(value(&o, "hostname"), "");
	assert_string_equal(value(&o, "last-heartbeat-at"), "");
	assert_string_equal(value(&o, "private-ips"), "10.0.1.23\n10.0.2.5\n");
	assert_string_equal(value(&o, "tokens"), ""); /* secrets never come from JSON */
	tg_object_release(&o);
}

static void test_empty_list_renders_empty(void **state)
{
	static const char j[] =
		"{\"id\":\"Q29ubmVjdG9yOjE=\",\"name\":\"c\","
		"\"remoteNetwork\":{\"id\":\"x\"},\"state\":\"ALIVE\","
		"\"hasStatusNotificationsEnabled\":true,\"privateIPs\":[]}";
	struct tg_object o;

	(void)state;
	assert_int_equal(tg_object_from_json(kind("connectors"), j, strlen(j),
					     &o),
			 TG_OK);
	assert_string_equal(value(&o, "private-ips"), "");
	assert_int_equal(o.mtime, 0);
	tg_object_release(&o);
}

static void test_name_falls_back_to_id(void **state)
{
	static const char j[] = "{\"id\":\"UmVtb3RlTmV0d29yazox\",\"name\":\"\"}";
	struct tg_object o;

	(void)state;
	assert_int_equal(tg_object_from_json(kind("networks"), j, strlen(j),
					     &o),
			 TG_OK);
	assert_string_equal(o.name, "UmVtb3RlTmV0d29yazox");
	tg_object_release(&o);
}

static void test_malformed_and_hostile_json_is_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"{",
		"{\"id\":\"UmVtb3RlTmV0d29yazox\",\"name\":\"a\"", /* truncated */
		"[]",
		"null",
		"{\"name\":\"no id\"}",
		"{\"id\":5,\"name\":\"x\"}",
		"{\"id\":\"\",\"name\":\"x\"}",
		"{\"id\":\"a\",\"isActive\":\"yes\"}",
		"{\"id\":\"a\",\"location\":7}",
		"{\"id\":\"a\",\"createdAt\":\"yesterday\"}",
		"{\"id\":\"a\",\"createdAt\":{\"x\":1}}",
		"<!doctype html><html>login</html>",
	};
	struct tg_object o;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_not_equal(tg_object_from_json(kind("networks"),
							 bad[i], strlen(bad[i]),
							 &o),
				     TG_OK);
		assert_null(o.id); /* left empty */
	}
	/* A connector must say which network it belongs to. */
	assert_int_not_equal(
		tg_object_from_json(kind("connectors"),
				    "{\"id\":\"a\",\"name\":\"b\"}", 23, &o),
		TG_OK);
}

static void test_deeply_nested_json_does_not_crash(void **state)
{
	char j[20000];
	size_t n = 0;
	struct tg_object o;

	(void)state;
	n += (size_t)sprintf(j, "{\"id\":\"a\",\"name\":");
	for (int i = 0; i < 5000; i++)
		j[n++] = '[';
	j[n] = '\0';
	assert_int_not_equal(tg_object_from_json(kind("networks"), j, n, &o),
			     TG_OK);
}

static const char resource_json[] =
	"{\"id\":\"UmVzb3VyY2U6MQ==\",\"name\":\"prod-db\","
	"\"address\":{\"type\":\"DNS\",\"value\":\"db.prod.internal\"},"
	"\"alias\":null,\"remoteNetwork\":{\"id\":\"TjE=\",\"name\":\"n\"},"
	"\"protocols\":{\"allowIcmp\":false,\"tcp\":{\"policy\":\"RESTRICTED\","
	"\"ports\":[{\"start\":22,\"end\":22},{\"start\":8000,\"end\":8080}]},"
	"\"udp\":{\"policy\":\"RESTRICTED\",\"ports\":[]}},"
	"\"isActive\":true,\"isVisible\":false,\"isBrowserShortcutEnabled\":false,"
	"\"routingMode\":\"THROUGH_TWINGATE\",\"securityPolicy\":null,"
	"\"tags\":[{\"key\":\"env\",\"value\":\"prod\"},{\"key\":\"team\",\"value\":\"db\"}],"
	"\"createdAt\":\"2024-01-01T00:00:00Z\",\"updatedAt\":\"2024-01-01T00:00:00Z\","
	"\"access\":{\"totalCount\":3,\"pageInfo\":{\"hasNextPage\":false},"
	"\"edges\":[{\"node\":{\"__typename\":\"Group\",\"id\":\"G1\",\"name\":\"g\"}},"
	"{\"node\":{\"__typename\":\"ServiceAccount\",\"id\":\"S1\",\"name\":\"s\"}},"
	"{\"node\":{\"__typename\":\"Group\",\"id\":\"G2\",\"name\":\"h\"}}]}}";

static void test_resource_protocols_tags_and_links(void **state)
{
	const struct tg_kind *k = kind("resources");
	struct tg_object o;

	(void)state;
	assert_int_equal(tg_object_from_json(k, resource_json,
					     strlen(resource_json), &o),
			 TG_OK);
	assert_string_equal(value(&o, "protocols"),
			    "icmp: deny\ntcp: 22,8000-8080\nudp: deny-all\n");
	assert_string_equal(value(&o, "tags"), "env=prod\nteam=db\n");
	assert_string_equal(value(&o, "address"), "db.prod.internal\n");
	assert_string_equal(value(&o, "routing-mode"), "through_twingate\n");
	assert_string_equal(value(&o, "alias"), "");
	/* Relations: one network, no policy, groups and service accounts
	 * told apart by __typename. */
	assert_int_equal(o.links[tg_rel_index(k, "network")].n, 1);
	assert_string_equal(o.links[tg_rel_index(k, "network")].ids[0], "TjE=");
	assert_int_equal(o.links[tg_rel_index(k, "security-policy")].n, 0);
	assert_int_equal(o.links[tg_rel_index(k, "access/groups")].n, 2);
	assert_string_equal(o.links[tg_rel_index(k, "access/groups")].ids[1],
			    "G2");
	assert_int_equal(o.links[tg_rel_index(k, "access/service-accounts")].n,
			 1);
	/* object.json lists access as its nodes, not as a connection. */
	{
		char *buf = NULL;
		const char *j = tg_object_json(&o, &buf);

		assert_non_null(strstr(j, "\"access\": [\n"));
		assert_null(strstr(j, "edges"));
		assert_int_equal(strlen(j), o.json_len);
		free(buf);
	}
	tg_object_release(&o);
}

static void test_protocols_allow_all_and_bad_shapes(void **state)
{
	static const char ok[] =
		"{\"id\":\"UmVzb3VyY2U6MQ==\",\"name\":\"r\",\"protocols\":"
		"{\"allowIcmp\":true,\"tcp\":{\"policy\":\"ALLOW_ALL\",\"ports\":[]},"
		"\"udp\":{\"policy\":\"ALLOW_ALL\",\"ports\":[]}},\"tags\":[]}";
	static const char *const bad[] = {
		"{\"id\":\"a\",\"protocols\":{\"allowIcmp\":true}}",
		"{\"id\":\"a\",\"protocols\":{\"allowIcmp\":true,\"tcp\":"
		"{\"policy\":\"SOMETIMES\",\"ports\":[]},\"udp\":{\"policy\":"
		"\"ALLOW_ALL\",\"ports\":[]}}}",
		"{\"id\":\"a\",\"protocols\":{\"allowIcmp\":true,\"tcp\":"
		"{\"policy\":\"RESTRICTED\",\"ports\":[{\"start\":\"x\"}]},"
		"\"udp\":{\"policy\":\"ALLOW_ALL\",\"ports\":[]}}}",
		"{\"id\":\"a\",\"tags\":[{\"key\":1}]}",
		"{\"id\":\"a\",\"tags\":{}}",
	};
	struct tg_object o;

	(void)state;
	assert_int_equal(tg_object_from_json(kind("resources"), ok, strlen(ok),
					     &o),
			 TG_OK);
	assert_string_equal(value(&o, "protocols"),
			    "icmp: allow\ntcp: allow-all\nudp: allow-all\n");
	assert_string_equal(value(&o, "tags"), "");
	tg_object_release(&o);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(tg_object_from_json(kind("resources"),
							 bad[i], strlen(bad[i]),
							 &o),
				     TG_OK);
}

static void test_device_trust_and_no_mtime(void **state)
{
	static const char j[] =
		"{\"id\":\"RGV2aWNlOjE=\",\"name\":null,\"user\":{\"id\":\"VXNlcjox\","
		"\"email\":\"a@b\"},\"activeState\":\"BLOCKED\",\"isTrusted\":false,"
		"\"deviceType\":\"LAPTOP\",\"osName\":\"MAC_OS\"}";
	struct tg_object o;

	(void)state;
	assert_int_equal(tg_object_from_json(kind("devices"), j, strlen(j), &o),
			 TG_OK);
	assert_string_equal(o.name, "RGV2aWNlOjE="); /* named by id */
	assert_string_equal(value(&o, "trust"), "untrusted\n");
	assert_string_equal(value(&o, "state"), "blocked\n");
	assert_string_equal(value(&o, "os-name"), "mac_os\n");
	assert_string_equal(value(&o, "name"), "");
	assert_int_equal(o.mtime, 0);
	assert_int_equal(o.links[0].n, 1);
	assert_true(o.hash != 0);
	tg_object_release(&o);
}

static void test_service_account_embeds_its_keys(void **state)
{
	static const char j[] =
		"{\"id\":\"U0E6MQ==\",\"name\":\"ci\",\"createdAt\":\"2024-01-01T00:00:00Z\","
		"\"updatedAt\":\"2024-01-01T00:00:00Z\",\"keys\":{\"totalCount\":2,"
		"\"pageInfo\":{\"hasNextPage\":false},\"edges\":["
		"{\"node\":{\"id\":\"K1\",\"name\":\"k1\",\"status\":\"ACTIVE\","
		"\"expiresAt\":null,\"createdAt\":\"2024-01-01T00:00:00Z\","
		"\"updatedAt\":\"2024-02-01T00:00:00Z\"}},"
		"{\"node\":{\"id\":\"K2\",\"name\":\"k2\",\"status\":\"REVOKED\"}}]}}";
	struct tg_object o;

	(void)state;
	assert_int_equal(tg_object_from_json(kind("service-accounts"), j,
					     strlen(j), &o),
			 TG_OK);
	assert_int_equal(o.children.n, 2);
	assert_string_equal(o.children.items[0].parent_id, "U0E6MQ==");
	assert_string_equal(o.children.items[1].name, "k2");
	assert_int_equal(o.children.items[0].mtime,
			 1706745600 * INT64_C(1000000000));
	tg_object_release(&o);
}

static void test_set_link_rewrites_link_and_json(void **state)
{
	static const char j[] =
		"{\"id\":\"R3JvdXA6MQ==\",\"name\":\"Ops\",\"type\":\"MANUAL\","
		"\"isActive\":true,\"securityPolicy\":{\"id\":\"old\","
		"\"name\":\"Default Policy\"},\"createdAt\":null,"
		"\"updatedAt\":null,\"users\":{\"edges\":[{\"node\":"
		"{\"id\":\"u1\",\"email\":\"a@b\"}}]}}";
	const struct tg_kind *g = kind("groups");
	int rel = tg_rel_index(g, "security-policy");
	struct tg_object o, c;

	(void)state;
	assert_true(rel >= 0);
	assert_int_equal(tg_object_from_json(g, j, strlen(j), &o), TG_OK);
	assert_int_equal(tg_object_set_link(&o, (size_t)rel, "new",
					    "Require \"MFA\"", &c),
			 TG_OK);
	assert_int_equal(c.links[rel].n, 1);
	assert_string_equal(c.links[rel].ids[0], "new");
	{
		char *buf = NULL;
		const char *cj = tg_object_json(&c, &buf);

		assert_int_equal(strlen(cj), c.json_len);
		assert_non_null(strstr(cj, "\"id\": \"new\""));
		assert_non_null(strstr(cj, "\"name\": \"Require \\\"MFA\\\"\""));
		assert_null(strstr(cj, "Default Policy"));
		/* Key order and the rest of the object are kept. */
		assert_true(strstr(cj, "\"isActive\"") <
			    strstr(cj, "\"securityPolicy\""));
		assert_true(strstr(cj, "\"securityPolicy\"") <
			    strstr(cj, "\"createdAt\""));
		assert_non_null(strstr(cj, "a@b"));
		free(buf);
	}
	assert_true(c.hash != o.hash);
	/* The other links are untouched; the source is unchanged. */
	assert_int_equal(c.links[tg_rel_index(g, "users")].n, 1);
	assert_string_equal(o.links[rel].ids[0], "old");
	tg_object_release(&c);
	/* A many-relation has no one link to set. */
	assert_int_equal(tg_object_set_link(&o, (size_t)tg_rel_index(g, "users"),
					    "x", "y", &c),
			 TG_EINVAL);
	tg_object_release(&o);
}

/* A node of a made-up device kind: the same keys, other values. */
static char *device_node(int i)
{
	char *s;

	assert_true(asprintf(&s,
		"{\"id\":\"RGV2aWNlOjE%06d\",\"name\":\"laptop-%d\","
		"\"isTrusted\":%s,\"osName\":\"MAC_OS\","
		"\"serialNumber\":\"C02X%07dJGH5\",\"activeState\":"
		"\"ACTIVE\",\"lastSuccessfulLoginAt\":"
		"\"2024-03-%02dT10:%02d:00.000000+00:00\",\"user\":{\"id\":"
		"\"VXNlcjo%05d\",\"email\":\"user%d@example.com\"}}",
		i, i, i % 3 ? "true" : "false", i * 7919, 1 + i % 28, i % 60,
		i * 13, i) > 0);
	return s;
}

/* Kept object.json texts: the first few of a kind make its dictionary
 * and are kept as they are; the next ones are deflated against it to
 * under half their size; every one unpacks to its text. */
static void test_pack_deflates_against_the_kinds_first_nodes(void **state)
{
	static const struct tg_kind k = { .dir = "pack-test" };
	enum { N = PACK_DICT_NODES + 8 };
	unsigned char *packed[N];
	uint32_t size[N];
	char *text[N];

	(void)state;
	for (int i = 0; i < N; i++) {
		text[i] = device_node(i);
		packed[i] = json_pack(&k, text[i], strlen(text[i]), &size[i]);
		assert_non_null(packed[i]);
		if (i < PACK_DICT_NODES) {
			assert_int_equal(packed[i][0], 0);
			assert_int_equal(size[i], 5 + strlen(text[i]));
		} else {
			assert_int_equal(packed[i][0], 1);
			assert_true(size[i] < strlen(text[i]) / 2);
		}
	}
	for (int i = 0; i < N; i++) {
		char *back = json_unpack(&k, packed[i], size[i]);

		assert_non_null(back);
		assert_string_equal(back, text[i]);
		free(back);
		free(packed[i]);
		free(text[i]);
	}
}

/* What is not a packed text unpacks to nothing: cut short, an unknown
 * method, a deflated text of a kind with no dictionary. */
static void test_pack_refuses_what_it_did_not_make(void **state)
{
	static const struct tg_kind k = { .dir = "pack-test-2" };
	static const struct tg_kind none = { .dir = "pack-test-none" };
	unsigned char *p = NULL, *bad;
	uint32_t size = 0;
	char *t, *back;

	(void)state;
	for (int i = 0; i < PACK_DICT_NODES + 2; i++) {
		free(p);
		t = device_node(100 + i);
		p = json_pack(&k, t, strlen(t), &size);
		free(t);
		assert_non_null(p);
	}
	assert_int_equal(p[0], 1);
	back = json_unpack(&k, p, size);
	assert_non_null(back);
	free(back);
	assert_null(json_unpack(&k, p, size - 1));
	assert_null(json_unpack(&k, p, 4));
	assert_null(json_unpack(&none, p, size));
	bad = malloc(size);
	assert_non_null(bad);
	memcpy(bad, p, size);
	bad[0] = 7;
	assert_null(json_unpack(&k, bad, size));
	free(bad);
	free(p);
	/* an empty text goes and comes back */
	p = json_pack(&none, "", 0, &size);
	assert_non_null(p);
	back = json_unpack(&none, p, size);
	assert_non_null(back);
	assert_string_equal(back, "");
	free(back);
	free(p);
}

/* The node last read on a thread is known by its packed bytes' address,
 * size and the object's hash: other bytes at the same address (a freed
 * object's memory taken by the next) are read anew. */
static void test_last_node_is_not_taken_for_another(void **state)
{
	static struct tg_kind k; /* networks' rows, and no dictionary */
	const char *a = "{\"id\":\"TjE=\",\"name\":\"AAAA\"}";
	const char *b = "{\"id\":\"TjE=\",\"name\":\"BBBB\"}";
	int f;
	uint32_t sa, sb;
	unsigned char *pa, *pb;
	struct tg_object o = { .kind = &k, .hash = 1 };
	char *buf = NULL;

	(void)state;
	k = *kind("networks");
	f = tg_field_index(&k, "name");
	pa = json_pack(&k, a, strlen(a), &sa);
	pb = json_pack(&k, b, strlen(b), &sb);
	o.packed = pa;
	o.packed_size = sa;
	assert_non_null(pa);
	assert_non_null(pb);
	assert_int_equal(sa, sb);
	assert_string_equal(tg_object_value(&o, (size_t)f, &buf), "AAAA\n");
	memcpy(pa, pb, sb);
	o.hash = 2;
	assert_string_equal(tg_object_value(&o, (size_t)f, &buf), "BBBB\n");
	free(buf);
	free(pa);
	free(pb);
}

/* A value too long for the length an object keeps is measured when
 * asked for: stat tells its size all the same. */
static void test_long_value_is_measured_when_asked(void **state)
{
	char name[301], *j;
	struct tg_object o;
	int f = tg_field_index(kind("networks"), "name");

	(void)state;
	memset(name, 'n', 300);
	name[300] = '\0';
	assert_true(asprintf(&j, "{\"id\":\"TjE=\",\"name\":\"%s\"}", name) >
		    0);
	assert_int_equal(tg_object_from_json(kind("networks"), j, strlen(j),
					     &o),
			 TG_OK);
	assert_int_equal(o.lens[f], TG_LEN_LONG);
	assert_int_equal(tg_object_value_len(&o, (size_t)f), 301);
	assert_int_equal(strlen(value(&o, "name")), 301);
	tg_object_release(&o);
	free(j);
}

/* A number that prints as null (1e999 is infinite) would not come back
 * from the node kept: the object is refused, not shown otherwise. */
static void test_infinite_number_is_refused(void **state)
{
	static const char j[] =
		"{\"id\":\"UmVzb3VyY2U6MQ==\",\"name\":\"r\",\"protocols\":"
		"{\"allowIcmp\":true,\"tcp\":{\"policy\":\"RESTRICTED\","
		"\"ports\":[{\"start\":1,\"end\":-1e999}]},\"udp\":"
		"{\"policy\":\"ALLOW_ALL\",\"ports\":[]}}}";
	struct tg_object o;

	(void)state;
	assert_int_equal(tg_object_from_json(kind("resources"), j, strlen(j),
					     &o),
			 TG_EPROTO);
	assert_null(o.id);
}

/* A resource of another type than network: the fields its type lacks
 * (no key in its node) are not its files; type says which it is. */
static void test_a_typed_resource_lacks_the_network_fields(void **state)
{
	const char *j =
		"{\"__typename\":\"KubernetesResource\",\"id\":\"UmVzb3VyY2U6OQ==\","
		"\"name\":\"k8s\",\"address\":{\"type\":\"DNS\",\"value\":\"k\"},"
		"\"alias\":null,\"isActive\":true,\"isVisible\":true,"
		"\"approvalMode\":\"MANUAL\",\"accessPolicy\":{\"mode\":"
		"\"ACCESS_REQUEST\",\"durationSeconds\":28800},"
		"\"usageBasedAutolockDurationDays\":null}";
	const struct tg_kind *k = kind("resources");
	struct tg_object o;
	char *buf = NULL;

	(void)state;
	assert_int_equal(tg_object_from_json(k, j, strlen(j), &o), TG_OK);
	for (size_t i = 0; i < k->nfields; i++) {
		const char *f = k->fields[i].file;
		bool absent = !strcmp(f, "routing-mode") ||
			      !strcmp(f, "browser-shortcut") ||
			      !strcmp(f, "protocols") || !strcmp(f, "tags") ||
			      !strcmp(f, "created-at") ||
			      !strcmp(f, "updated-at");

		assert_int_equal(tg_object_has_field(&o, i), !absent);
		if (absent)
			assert_int_equal(tg_object_value_len(&o, i), 0);
	}
	assert_string_equal(tg_object_value(&o, (size_t)tg_field_index(k,
								       "type"),
					    &buf),
			    "kubernetes\n");
	assert_string_equal(
		tg_object_value(&o, (size_t)tg_field_index(k, "access-policy"),
				&buf),
		"mode: access_request\nduration: 28800\n");
	/* null is a key: an empty file, there. */
	assert_true(tg_object_has_field(&o, (size_t)tg_field_index(k,
								   "alias")));
	assert_true(tg_object_has_field(
		&o, (size_t)tg_field_index(k, "autolock-days")));
	free(buf);
	tg_object_release(&o);
	assert_non_null(tg_variant_named("SSHResource"));
	assert_string_equal(tg_variant_named("SSHResource")->update,
			    "sshResourceUpdate");
	assert_null(tg_variant_named("NetworkResource")->update);
	assert_null(tg_variant_named("Group"));
}

/* A relation read from a plain list of objects (a serial number's
 * matchedDevices), not a connection. */
static void test_links_from_a_plain_list(void **state)
{
	const char *j = "{\"id\":\"U2VyaWFsTnVtYmVyOjE=\",\"serialNumber\":"
			"\"C02\",\"createdAt\":\"2024-04-05T22:44:58Z\","
			"\"matchedDevices\":[{\"id\":\"RGV2aWNlOjE=\"},"
			"{\"id\":\"RGV2aWNlOjI=\"}]}";
	const struct tg_kind *k = kind("serial-numbers");
	int r = tg_rel_index(k, "devices");
	struct tg_object o;

	(void)state;
	assert_true(r >= 0);
	assert_int_equal(tg_object_from_json(k, j, strlen(j), &o), TG_OK);
	assert_string_equal(o.name, "C02");
	assert_int_equal(o.links[r].n, 2);
	assert_string_equal(o.links[r].ids[0], "RGV2aWNlOjE=");
	assert_string_equal(o.links[r].ids[1], "RGV2aWNlOjI=");
	tg_object_release(&o);
}

/* An access edge's settings come on the edge, beside its node: object.json
 * shows them in the node's item, and each renders as its file. */
static void test_access_edge_settings(void **state)
{
	const char *j =
		"{\"__typename\":\"NetworkResource\",\"id\":\"UmVzb3VyY2U6MQ==\","
		"\"name\":\"db\",\"access\":{\"totalCount\":2,\"pageInfo\":"
		"{\"hasNextPage\":false,\"endCursor\":null},\"edges\":["
		"{\"expiresAt\":\"2032-01-25T00:00:00.000000+00:00\","
		"\"securityPolicy\":{\"id\":\"U2VjdXJpdHlQb2xpY3k6MQ==\","
		"\"name\":\"MFA\"},\"usageBasedAutolockDurationDays\":30,"
		"\"approvalMode\":\"AUTOMATIC\",\"accessPolicy\":{\"mode\":"
		"\"AUTO_LOCK\",\"durationSeconds\":604800},\"node\":{"
		"\"__typename\":\"Group\",\"id\":\"R3JvdXA6MQ==\",\"name\":"
		"\"Ops\"}},{\"expiresAt\":null,\"securityPolicy\":null,"
		"\"usageBasedAutolockDurationDays\":null,\"approvalMode\":null,"
		"\"accessPolicy\":null,\"node\":{\"__typename\":\"Group\","
		"\"id\":\"R3JvdXA6Mg==\",\"name\":\"Eng\"}}]}}";
	const struct tg_kind *k = kind("resources");
	int r = tg_rel_index(k, "access/groups");
	const char *want[] = { "2032-01-25T00:00:00.000000Z\n", "30\n",
			       "automatic\n",
			       "mode: auto_lock\nduration: 604800\n" };
	struct tg_object o;
	char *buf = NULL, id[64];

	(void)state;
	assert_true(r >= 0);
	assert_int_equal(k->rels[r].nedge_fields, 4);
	assert_int_equal(tg_object_from_json(k, j, strlen(j), &o), TG_OK);
	assert_int_equal(o.links[r].n, 2);
	for (size_t f = 0; f < 4; f++) {
		assert_string_equal(tg_edge_value(&o, (size_t)r, "R3JvdXA6MQ==",
						  f, &buf),
				    want[f]);
		assert_string_equal(tg_edge_value(&o, (size_t)r, "R3JvdXA6Mg==",
						  f, &buf),
				    "");
	}
	assert_null(tg_edge_value(&o, (size_t)r, "R3JvdXA6Mw==", 0, &buf));
	assert_true(tg_edge_link(&o, (size_t)r, "R3JvdXA6MQ==", id,
				 sizeof(id)));
	assert_string_equal(id, "U2VjdXJpdHlQb2xpY3k6MQ==");
	assert_false(tg_edge_link(&o, (size_t)r, "R3JvdXA6Mg==", id,
				  sizeof(id)));
	/* object.json: the node's keys, then the edge's. */
	assert_non_null(tg_object_json(&o, &buf));
	assert_non_null(strstr(buf, "\"name\": \"Ops\",\n      \"expiresAt\": "
				    "\"2032-01-25T00:00:00.000000+00:00\""));
	free(buf);
	tg_object_release(&o);
}

static void test_every_kind_row_is_consistent(void **state)
{
	(void)state;
	assert_true(tg_nkinds >= 2);
	for (size_t i = 0; i < tg_nkinds; i++) {
		const struct tg_kind *k = tg_kinds[i];

		assert_non_null(k->dir);
		assert_non_null(k->type_name);
		/* Listed from a root connection, or embedded in the parent's
		 * nodes through one of its connections. */
		if (k->parent_conn) {
			bool found = false;

			assert_non_null(k->parent);
			assert_null(k->list_field);
			for (size_t c = 0; c < k->parent->nconns; c++)
				found |= !strcmp(k->parent->conns[c].field,
						 k->parent_conn);
			assert_true(found);
		} else {
			assert_non_null(k->list_field);
		}
		/* The single-object query, where nested pages or lookups by
		 * id need it (serial numbers have none). */
		if (k->nconns || k->lookup == TG_LOOKUP_ID)
			assert_non_null(k->one_field);
		assert_non_null(k->selection);
		/* Relations point at top folders, and inverse ones at a
		 * forward relation of their target. */
		for (size_t r = 0; r < k->nrels; r++) {
			const struct tg_rel *rel = &k->rels[r];
			const struct tg_kind *t = tg_kind_by_dir(NULL,
								 rel->target);
			int inv;

			assert_non_null(t);
			if (rel->path)
				continue;
			assert_true(rel->many);
			inv = tg_rel_index(t, rel->inverse);
			assert_true(inv >= 0);
			assert_non_null(t->rels[inv].path);
			assert_string_equal(tg_kinds[i]->dir,
					    t->rels[inv].target);
		}
		assert_non_null(k->name_path);
		assert_true(k->nfields > 0);
		assert_ptr_equal(tg_kind_by_dir(k->parent, k->dir), k);
		/* A nested kind comes after its parent and says where the
		 * parent's id is. */
		if (k->parent) {
			assert_true(k->parent_path || k->parent_conn);
			for (size_t j = i; j < tg_nkinds; j++)
				assert_ptr_not_equal(tg_kinds[j], k->parent);
		}
		for (size_t f = 0; f < k->nfields; f++) {
			const struct tg_field *fd = &k->fields[f];
			char first[64];

			assert_non_null(fd->file);
			assert_null(strchr(fd->file, '/'));
			assert_string_not_equal(fd->file, "object.json");
			for (size_t g = f + 1; g < k->nfields; g++)
				assert_string_not_equal(fd->file,
							k->fields[g].file);
			for (size_t c = 0; c < tg_nkinds; c++)
				if (tg_kinds[c]->parent == k)
					assert_string_not_equal(
						fd->file, tg_kinds[c]->dir);
			if (fd->type == TG_FT_SECRET) {
				assert_null(fd->path);
				continue;
			}
			/* A file only written, through its transitions (an
			 * access request's decision), is in no node. */
			if (!fd->path && fd->ntrans)
				continue;
			/* Every field's JSON is asked for. */
			assert_non_null(fd->path);
			snprintf(first, sizeof(first), "%.*s",
				 (int)strcspn(fd->path, "."), fd->path);
			assert_non_null(strstr(k->selection, first));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_parse_offsets_and_fractions),
		cmocka_unit_test(test_time_parse_ns_keeps_the_fraction),
		cmocka_unit_test(test_time_parse_rejects_malformed),
		cmocka_unit_test(test_time_render_is_utc_rfc3339),
		cmocka_unit_test(test_global_id_decode),
		cmocka_unit_test(test_network_fields_render),
		cmocka_unit_test(test_object_json_shown_from_compact_is_the_nodes),
		cmocka_unit_test(test_connector_lists_nulls_and_parent),
		cmocka_unit_test(test_empty_list_renders_empty),
		cmocka_unit_test(test_name_falls_back_to_id),
		cmocka_unit_test(test_malformed_and_hostile_json_is_refused),
		cmocka_unit_test(test_deeply_nested_json_does_not_crash),
		cmocka_unit_test(test_resource_protocols_tags_and_links),
		cmocka_unit_test(test_protocols_allow_all_and_bad_shapes),
		cmocka_unit_test(test_device_trust_and_no_mtime),
		cmocka_unit_test(test_service_account_embeds_its_keys),
		cmocka_unit_test(test_set_link_rewrites_link_and_json),
		cmocka_unit_test(test_pack_deflates_against_the_kinds_first_nodes),
		cmocka_unit_test(test_pack_refuses_what_it_did_not_make),
		cmocka_unit_test(test_last_node_is_not_taken_for_another),
		cmocka_unit_test(test_long_value_is_measured_when_asked),
		cmocka_unit_test(test_infinite_number_is_refused),
		cmocka_unit_test(test_every_kind_row_is_consistent),
		cmocka_unit_test(test_a_typed_resource_lacks_the_network_fields),
		cmocka_unit_test(test_links_from_a_plain_list),
		cmocka_unit_test(test_access_edge_settings),
	};

	tg_log_set_level(TG_LOG_ERR);
	return cmocka_run_group_tests_name("api", tests, NULL, NULL);
}
