/*
 * fuzz_json_diff.c - edits of object.json (tg_json_diff, api/values.c).
 *
 * Each kind has one fixed object, rendered at start-up from a node as the
 * API returns it (from the simulator's "small" tenant).  Input:
 * "<kind dir>\n" then the edited object.json (or: a first byte picking the
 * kind, then the text), handed over in an exact-size buffer without a NUL
 * as a write gives it.  Checked:
 *   - the object's own object.json, unedited, changes nothing (at start);
 *   - on failure nothing is returned; on success the changed fields are
 *     distinct, in table order, writable with a way to set them, and each
 *     value is JSON; tg_field_op() then picks (or refuses) the mutation
 *     for each, as tg_api_update() would.
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../api/internal.h"
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
	const char *dir;
	const char *json;
} fixtures[] = {
	{ "networks",
	  "{\"id\":\"UmVtb3RlTmV0d29yazo0OTAxNTE=\",\"name\":\"Office / HQ\","
	  "\"location\":\"ON_PREMISE\",\"networkType\":\"REGULAR\",\"isActive"
	  "\":true,\"createdAt\":\"2022-05-06T04:58:17.232067+00:00\",\"updat"
	  "edAt\":\"2024-10-04T23:44:59.714285+00:00\"}"
	},
	{ "connectors",
	  "{\"id\":\"Q29ubmVjdG9yOjI4NjE1OA==\",\"name\":\"hq/rack-1\",\"remo"
	  "teNetwork\":{\"id\":\"UmVtb3RlTmV0d29yazo0OTAxNTE=\",\"name\":\"Of"
	  "fice / HQ\"},\"state\":\"ALIVE\",\"hasStatusNotificationsEnabled\""
	  ":false,\"hostname\":\"connector-87\",\"version\":\"1.60.0\",\"publ"
	  "icIP\":\"9.251.84.184\",\"privateIPs\":[\"10.202.64.252\"],\"lastH"
	  "eartbeatAt\":\"2025-06-29T23:59:48.000250+00:00\",\"createdAt\":\""
	  "2022-08-23T18:08:53.133523+00:00\",\"updatedAt\":\"2022-08-23T18:0"
	  "8:53.133523+00:00\"}"
	},
	{ "resources",
	  "{\"id\":\"UmVzb3VyY2U6NzY4MTcw\",\"name\":\"prod-db\",\"address\":"
	  "{\"type\":\"DNS\",\"value\":\"db.prod.internal\"},\"alias\":\"db.i"
	  "nternal\",\"remoteNetwork\":{\"id\":\"UmVtb3RlTmV0d29yazo0OTAxNTA="
	  "\",\"name\":\"AWS prod\"},\"protocols\":{\"allowIcmp\":true,\"tcp\""
	  ":{\"policy\":\"RESTRICTED\",\"ports\":[{\"start\":5432,\"end\":543"
	  "2}]},\"udp\":{\"policy\":\"ALLOW_ALL\",\"ports\":[]}},\"isActive\""
	  ":true,\"isVisible\":true,\"isBrowserShortcutEnabled\":false,\"rout"
	  "ingMode\":\"THROUGH_TWINGATE\",\"securityPolicy\":null,\"tags\":[{"
	  "\"key\":\"env\",\"value\":\"prod\"},{\"key\":\"team\",\"value\":\""
	  "db\"}],\"createdAt\":\"2022-10-06T08:04:26.864641+00:00\",\"update"
	  "dAt\":\"2022-10-06T08:04:26.864641+00:00\",\"access\":{\"totalCoun"
	  "t\":4,\"pageInfo\":{\"hasNextPage\":false,\"endCursor\":\"YXJyYXlj"
	  "b25uZWN0aW9uOjM=\"},\"edges\":[{\"node\":{\"__typename\":\"Group\""
	  ",\"id\":\"R3JvdXA6Mzk2NzQx\",\"name\":\"Engineering\"}},{\"node\":"
	  "{\"__typename\":\"Group\",\"id\":\"R3JvdXA6Mzk2NzQ0\",\"name\":\"O"
	  "ps / SRE\"}},{\"node\":{\"__typename\":\"ServiceAccount\",\"id\":\""
	  "U2VydmljZUFjY291bnQ6NDQ4NjkyMDAtMTU5NC00N2JjLWFmNDMtNGRhMjNmZjVkYT"
	  "Bl\",\"name\":\"ci-runner\"}},{\"node\":{\"__typename\":\"ServiceA"
	  "ccount\",\"id\":\"U2VydmljZUFjY291bnQ6ZmI4MWEwYTktYTkwMS00MDQ2LThl"
	  "NGEtZDQ5ODUxMjJiNTM1\",\"name\":\"Backup Bot\"}}]}}"
	},
	{ "groups",
	  "{\"id\":\"R3JvdXA6Mzk2NzQ0\",\"name\":\"Ops / SRE\",\"type\":\"MAN"
	  "UAL\",\"isActive\":true,\"originId\":null,\"securityPolicy\":{\"id"
	  "\":\"U2VjdXJpdHlQb2xpY3k6MTc2NjA=\",\"name\":\"Default Policy\"},\""
	  "createdAt\":\"2023-06-04T09:26:39.424913+00:00\",\"updatedAt\":\"2"
	  "023-06-04T09:26:39.424913+00:00\",\"users\":{\"totalCount\":2,\"pa"
	  "geInfo\":{\"hasNextPage\":false,\"endCursor\":\"YXJyYXljb25uZWN0aW"
	  "9uOjI=\"},\"edges\":[{\"node\":{\"id\":\"VXNlcjoyMTczNzI=\",\"emai"
	  "l\":\"grace.hopper@example.com\"}},{\"node\":{\"id\":\"VXNlcjoyMTc"
	  "zNzk=\",\"email\":\"linus.torvalds@example.com\"}}]}}"
	},
	{ "users",
	  "{\"id\":\"VXNlcjoyMTczNzY=\",\"email\":\"jurgen.muller@example.com"
	  "\",\"firstName\":\"Jürgen\",\"lastName\":\"Müller\",\"role\":\"MEM"
	  "BER\",\"state\":\"ACTIVE\",\"type\":\"SYNCED\",\"createdAt\":\"202"
	  "3-02-26T01:08:27.314436+00:00\",\"updatedAt\":\"2023-02-26T01:08:2"
	  "7.314436+00:00\"}"
	},
	{ "devices",
	  "{\"id\":\"RGV2aWNlOjYyMDIzMA==\",\"name\":\"Ada's MacBook Pro\",\""
	  "user\":{\"id\":\"VXNlcjoyMTczNzA=\",\"email\":\"ada.lovelace@examp"
	  "le.com\"},\"activeState\":\"ACTIVE\",\"isTrusted\":true,\"deviceTy"
	  "pe\":\"LAPTOP\",\"osName\":\"MAC_OS\",\"osVersion\":\"14.5\",\"cli"
	  "entVersion\":\"2023.51.135447\",\"hardwareModel\":\"Mac14,2\",\"ma"
	  "nufacturerName\":\"Apple\",\"hostname\":\"ada-mbp\",\"username\":\""
	  "ada\",\"serialNumber\":\"C02KXVCPF2UG\",\"internetSecurityConfigur"
	  "ation\":\"DISABLED\",\"lastSuccessfulLoginAt\":\"2023-10-11T16:04:"
	  "47.431979+00:00\",\"lastFailedLoginAt\":null}"
	},
	{ "service-accounts",
	  "{\"id\":\"U2VydmljZUFjY291bnQ6NDQ4NjkyMDAtMTU5NC00N2JjLWFmNDMtNGRh"
	  "MjNmZjVkYTBl\",\"name\":\"ci-runner\",\"createdAt\":\"2023-08-30T1"
	  "9:07:23.150234+00:00\",\"updatedAt\":\"2024-04-26T18:45:24.590049+"
	  "00:00\",\"keys\":{\"totalCount\":2,\"pageInfo\":{\"hasNextPage\":f"
	  "alse,\"endCursor\":\"YXJyYXljb25uZWN0aW9uOjI=\"},\"edges\":[{\"nod"
	  "e\":{\"id\":\"U2VydmljZUFjY291bnRLZXk6OTQ3ZTAyNmYtNDM5MS00Yzk2LTgw"
	  "YzMtM2UzYWRjZjVmZWMz\",\"name\":\"github actions\",\"status\":\"AC"
	  "TIVE\",\"expiresAt\":\"2033-05-11T00:00:00.000758+00:00\",\"revoke"
	  "dAt\":null,\"createdAt\":\"2023-10-25T03:43:38.070584+00:00\",\"up"
	  "datedAt\":\"2024-03-10T00:40:23.134681+00:00\"}},{\"node\":{\"id\""
	  ":\"U2VydmljZUFjY291bnRLZXk6OGYwYTk4MzctNGU4OS00MThkLWIwNmEtZjRhNzA"
	  "wNTQxODE4\",\"name\":\"old jenkins key\",\"status\":\"REVOKED\",\""
	  "expiresAt\":\"2027-08-24T00:00:00.000995+00:00\",\"revokedAt\":\"2"
	  "024-03-23T14:10:14.122663+00:00\",\"createdAt\":\"2023-10-02T18:00"
	  ":46.608257+00:00\",\"updatedAt\":\"2024-03-23T14:10:14.122663+00:0"
	  "0\"}}]}}"
	},
	{ "keys",
	  "{\"id\":\"U2VydmljZUFjY291bnRLZXk6OTQ3ZTAyNmYtNDM5MS00Yzk2LTgwYzMt"
	  "M2UzYWRjZjVmZWMz\",\"name\":\"github actions\",\"status\":\"ACTIVE"
	  "\",\"expiresAt\":\"2033-05-11T00:00:00.000758+00:00\",\"revokedAt\""
	  ":null,\"createdAt\":\"2023-10-25T03:43:38.070584+00:00\",\"updated"
	  "At\":\"2024-03-10T00:40:23.134681+00:00\"}"
	},
	{ "security-policies",
	  "{\"id\":\"U2VjdXJpdHlQb2xpY3k6MTc2NjM=\",\"name\":\"Require MFA\","
	  "\"policyType\":\"RESOURCE\",\"createdAt\":\"2022-03-23T04:29:25.74"
	  "2612+00:00\",\"updatedAt\":\"2023-08-13T22:26:06.128994+00:00\"}"
	},
};

#define NFIX (sizeof(fixtures) / sizeof(fixtures[0]))

static struct tg_object objects[NFIX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tg_log_set_level(TG_LOG_ERR);
	for (size_t i = 0; i < NFIX; i++) {
		const struct tg_kind *k = tg_kind_named(fixtures[i].dir);
		size_t *changed, n;
		char **values, *compact;
		enum tg_err err;

		FZ_CHECK(k, "no kind %s", fixtures[i].dir);
		err = tg_object_from_json(k, fixtures[i].json,
					  strlen(fixtures[i].json),
					  &objects[i]);
		FZ_CHECK(err == TG_OK, "fixture %s: %d", k->dir, err);
		/* the node as kept, compact: not the text shown, so it is
		 * parsed and compared key by key */
		compact = json_unpack(k, objects[i].packed,
				      objects[i].packed_size);
		FZ_CHECK(compact, "%s: not unpacked", k->dir);
		err = tg_json_diff(&objects[i], compact, strlen(compact),
				   &changed, &values, &n);
		free(compact);
		FZ_CHECK(err == TG_OK && n == 0,
			 "%s: unedited object.json: err %d, %zu changes",
			 k->dir, err, n);
		free(changed);
		free(values);
	}
	return 0;
}

/* The fixed object of @k: its own, else the first (a kind added to the
 * table later still gets fuzzed, against another kind's object). */
static const struct tg_object *object_of(const struct tg_kind *k)
{
	for (size_t i = 0; i < NFIX; i++)
		if (objects[i].kind == k)
			return &objects[i];
	return &objects[0];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct tg_kind *k = fz_kind(&data, &size);
	const struct tg_object *o;
	size_t *changed = NULL, n = 0;
	char **values = NULL, *text;
	enum tg_err err;

	if (!k)
		return 0;
	o = object_of(k);
	k = o->kind;
	text = fz_memdup(data, size);
	err = tg_json_diff(o, text, size, &changed, &values, &n);
	free(text);
	if (err != TG_OK) {
		FZ_CHECK(!changed && !values && !n, "error %d with results",
			 err);
		return 0;
	}
	FZ_CHECK(changed && values, "no arrays");
	for (size_t i = 0; i < n; i++) {
		const struct tg_field *f;
		cJSON *v;

		FZ_CHECK(changed[i] < k->nfields, "field %zu", changed[i]);
		FZ_CHECK(!i || changed[i] > changed[i - 1], "fields repeat");
		f = &k->fields[changed[i]];
		FZ_CHECK(f->writable && (f->set || f->ntrans),
			 "read-only %s changed", f->file);
		FZ_CHECK(values[i], "no value for %s", f->file);
		v = cJSON_Parse(values[i]);
		FZ_CHECK(v, "%s: value is not JSON: %s", f->file, values[i]);
		cJSON_Delete(v);
		{
			char *buf = NULL;

			(void)tg_field_op(f, tg_object_value(o, changed[i],
							     &buf),
					  values[i]);
			free(buf);
		}
		free(values[i]);
	}
	free(values);
	free(changed);
	return 0;
}
