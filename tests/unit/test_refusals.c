/*
 * test_refusals.c - how an answer of the API becomes an enum tg_err
 * (api/refusals.c): the structure first (HTTP status, errors[] with or
 * without data, ok:false), then the one table of wordings, each row
 * against several phrasings: the simulator's, the real API's as the
 * public clients show it (REFERENCE.md §3, §5), and others the API's
 * stack (graphene-django, Postgres) would say.  A phrasing no row knows
 * is TG_EINVAL (TG_EQUERY in errors[]), never success, and its message
 * is kept.  The transport is replaced (-Wl,--wrap=http_post) for the
 * tests that go through tg_api_mutate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "canned.h"

struct phrasing {
	const char *msg;
	enum tg_err err;
};

/* Every row, at least three ways.  (sim): tests/sim's wording; (real):
 * seen from the live API or in a Twingate client's samples of it. */
static const struct phrasing known[] = {
	/* not found */
	{ "Resource with id 'UmVzb3VyY2U6OTk5' does not exist", TG_ENOTFOUND },
	/* (sim) */
	{ "Serial number 'C02XK1' does not exist", TG_ENOTFOUND }, /* (sim) */
	{ "Connector with id 'some-id' does not exist", TG_ENOTFOUND },
	/* (real: the operator's samples, REFERENCE §5) */
	{ "Gateway does not exist.", TG_ENOTFOUND }, /* (real: operator) */
	{ "Resource not found", TG_ENOTFOUND },      /* (real: Labs' CLI) */
	{ "RemoteNetwork matching query does not exist.", TG_ENOTFOUND },
	{ "GROUP NOT FOUND", TG_ENOTFOUND },
	{ "No such device", TG_ENOTFOUND },
	{ "These users don't exist", TG_ENOTFOUND },
	{ "The resource doesn't exist", TG_ENOTFOUND },

	/* the name is taken */
	{ "A user with email 'Ada@Example.com' already exists.", TG_EEXIST },
	/* (sim) */
	{ "Serial number 'C02XK1' already exists.", TG_EEXIST }, /* (sim) */
	{ "A Remote Network with this name already exists", TG_EEXIST },
	/* (real: the Terraform provider, ef181c84) */
	{ "User with this Email already exists.", TG_EEXIST },
	{ "duplicate key value violates unique constraint \"email_key\"",
	  TG_EEXIST },
	{ "That name is taken", TG_EEXIST },
	{ "Email address already in use", TG_EEXIST },
	{ "Duplicated serial numbers", TG_EEXIST },

	/* still has things in it / in use */
	{ "Remote Network 'AWS prod' still has 2 connector(s) and 1 "
	  "resource(s); delete them first.", TG_ENOTEMPTY }, /* (sim) */
	{ "Cannot delete. This Gateway is being used by Resource.",
	  TG_ENOTEMPTY }, /* (real: operator, REFERENCE §5) */
	{ "This CA is currently in use and cannot be deleted.",
	  TG_ENOTEMPTY }, /* (real: operator); in use beats cannot be deleted */
	{ "Cannot delete some instances of model 'RemoteNetwork' because "
	  "they are referenced through protected foreign keys: "
	  "'Resource.remote_network'.", TG_ENOTEMPTY },
	{ "Group is not empty", TG_ENOTEMPTY },
	{ "Security policy IS STILL IN USE by 3 resources", TG_ENOTEMPTY },

	/* the token may not */
	{ "Permission denied: this API key does not have the 'read write' "
	  "permission", TG_EPERM }, /* (sim) */
	{ "Permission denied: this API key does not have the 'provision' "
	  "permission", TG_EPERM }, /* (sim) */
	{ "You do not have permission to perform this action", TG_EPERM },
	/* graphene-django's PermissionDenied */
	{ "PermissionDenied", TG_EPERM },
	{ "insufficient_permissions", TG_EPERM },
	{ "Not authorized to call serviceAccountKeyCreate", TG_EPERM },

	/* not allowed for this object (the real wording is not known:
	 * REFERENCE §7 "presumably refused") */
	{ "Group 'Everyone' is a system group and cannot be modified.",
	  TG_EDENIED }, /* (sim) */
	{ "Group 'Everyone' is a system group and cannot be deleted.",
	  TG_EDENIED }, /* (sim) */
	{ "Group 'Eng' is synced from an identity provider; its name, state "
	  "and members cannot be changed here.", TG_EDENIED }, /* (sim) */
	{ "Group 'Eng' is synced from an identity provider and cannot be "
	  "deleted here.", TG_EDENIED }, /* (sim) */
	{ "Deleting a SYSTEM group is not allowed", TG_EDENIED },
	{ "This group CANNOT BE MODIFIED", TG_EDENIED },

	/* an id the API cannot parse: a value */
	{ "{'id': ['Unable to parse global ID']}", TG_EINVAL },
	/* (real: Terraform's acceptance tests, the operator) */
	{ "Unable to parse global ID", TG_EINVAL },
	{ "unable to parse global id 'abc'", TG_EINVAL },
};

/* Refusals no row knows (the simulator's included, which must stay
 * EINVAL as they were): TG_EINVAL, never success. */
static const char *const unknown[] = {
	"User in PENDING state", /* (real: Terraform's acceptance tests) */
	"Bypass Resources cannot have a security policy", /* (real) */
	"Resources with a CIDR range or wildcard can't have the browser "
	"shortcut enabled.", /* (real: the provider's mirror of the rule) */
	"Something unknown happened...", /* (operator's samples) */
	"Cannot delete an active key: revoke the key before deleting it.",
	"This key is already revoked.",
	"Groups cannot be removed from the Default Policy; assign them to "
	"another policy instead.",
	"Tag keys cannot be empty.",
	"Serial numbers cannot be empty.",
	"'x y' is not a valid address.",
	"Use either userIds or addedUserIds/removedUserIds to change "
	"members, not both.",
	"Resource with id 'UmVzb3VyY2U6MQ==' is a KubernetesResource, not a "
	"NetworkResource; update it with kubernetesResourceUpdate.",
	"This access request can no longer be approved: the access it asks "
	"for is gone.",
	"Device is ARCHIVED; only ACTIVE or BLOCKED devices can be archived.",
	"Security policy, expiry and approval settings apply to Groups only, "
	"not to Service Accounts.",
	"usageBasedAutolockDurationDays must be between 1 and 365.",
	"'db 1' is not a valid alias: use a DNS name.",
	"expiresAt '2020-01-01T00:00:00Z' is in the past.",
	"Invalid port range 0-70000: ports must be within 1-65535 and start "
	"must not exceed end.",
	"AUTO_LOCK access policies need a duration of at least 1 day.",
	"MANUAL access policies take no duration or approvalMode.",
	"expirationTime must be between 0 and 365 days (0 = never expires).",
	"'ada@' is not a valid email address.",
	"'C02 XK1' is not a valid serial number.",
	/* whole words only */
	"Role is not valid in user context",
	"The field is not foundational",
	"Tags of nonpermissioned groups",
	"success",
	"",
};

/* {"ok":false,"error":@msg} as a payload. */
static cJSON *refusal(const char *msg)
{
	cJSON *p = cJSON_CreateObject();

	assert_non_null(p);
	assert_non_null(cJSON_AddFalseToObject(p, "ok"));
	assert_non_null(msg ? cJSON_AddStringToObject(p, "error", msg)
			    : cJSON_AddNullToObject(p, "error"));
	return p;
}

static void test_every_row_reads_several_phrasings(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		cJSON *p = refusal(known[i].msg);
		const char *m;
		enum tg_err err = api_payload_err(p, &m);

		if (err != known[i].err)
			fail_msg("\"%s\": %s, want %s", known[i].msg,
				 tg_err_str(err), tg_err_str(known[i].err));
		assert_string_equal(m, known[i].msg);
		cJSON_Delete(p);
	}
}

static void test_every_row_has_three_phrasings(void **state)
{
	static const enum tg_err rows[] = { TG_ENOTFOUND, TG_EEXIST,
					    TG_ENOTEMPTY, TG_EPERM,
					    TG_EDENIED };

	(void)state;
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		size_t n = 0;

		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			n += known[i].err == rows[r];
		if (n < 3)
			fail_msg("%s: %zu phrasings", tg_err_str(rows[r]), n);
	}
}

static void test_unknown_phrasings_are_einval_with_the_message(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		cJSON *p = refusal(unknown[i]);
		const char *m;
		enum tg_err err = api_payload_err(p, &m);

		if (err != TG_EINVAL)
			fail_msg("\"%s\": %s, want %s", unknown[i],
				 tg_err_str(err), tg_err_str(TG_EINVAL));
		assert_non_null(m);
		if (*unknown[i])
			assert_string_equal(m, unknown[i]);
		cJSON_Delete(p);
	}
	/* No message at all: still a refusal, with words for the log. */
	{
		cJSON *p = refusal(NULL);
		const char *m;

		assert_int_equal(api_payload_err(p, &m), TG_EINVAL);
		assert_string_equal(m, "refused");
		cJSON_Delete(p);
	}
	/* The table alone. */
	assert_int_equal(api_refusal_words("whatever", TG_EQUERY), TG_EQUERY);
	assert_int_equal(api_refusal_words(NULL, TG_EINVAL), TG_EINVAL);
}

static void test_structure_beats_words(void **state)
{
	static const char *const bodies[] = {
		"{\"ok\":false,\"error\":\"Success\"}",
		"{\"ok\":false,\"error\":\"ok: true\"}",
		"{\"ok\":false,\"error\":\"done, no error\"}",
	};
	const char *m;
	cJSON *p;

	(void)state;
	/* ok:false is a refusal whatever it says. */
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		p = cJSON_Parse(bodies[i]);
		assert_int_equal(api_payload_err(p, &m), TG_EINVAL);
		assert_non_null(m);
		cJSON_Delete(p);
	}
	/* ok:true is success whatever error says. */
	p = cJSON_Parse("{\"ok\":true,\"error\":\"Resource with id 'x' does "
			"not exist\"}");
	assert_int_equal(api_payload_err(p, &m), TG_OK);
	assert_null(m);
	cJSON_Delete(p);
	/* Without a boolean ok nothing is known. */
	p = cJSON_Parse("{\"ok\":\"false\",\"error\":\"already exists\"}");
	assert_int_equal(api_payload_err(p, &m), TG_EPROTO);
	cJSON_Delete(p);
	assert_int_equal(api_payload_err(NULL, &m), TG_EPROTO);

	/* errors[] without data: the request was refused before it ran,
	 * whatever the message says. */
	p = cJSON_Parse("{\"errors\":[{\"message\":\"Permission denied: "
			"Variable '$id' does not exist\"}]}");
	assert_int_equal(api_answer_err(p, &m), TG_EQUERY);
	assert_string_equal(m, "Permission denied: Variable '$id' does not "
			    "exist");
	cJSON_Delete(p);
	/* errors[] next to data: the words tell. */
	p = cJSON_Parse("{\"errors\":[{\"message\":\"Permission denied: this "
			"API key does not have the 'read write' permission\","
			"\"path\":[\"r\"]}],\"data\":{\"r\":null}}");
	assert_int_equal(api_answer_err(p, &m), TG_EPERM);
	cJSON_Delete(p);
	p = cJSON_Parse("{\"errors\":[{\"message\":\"{'id': ['Unable to parse "
			"global ID']}\",\"locations\":[{\"line\":2,\"column\":"
			"3}],\"path\":[\"connector\"]}],\"data\":{\"connector\":"
			"null}}");
	assert_int_equal(api_answer_err(p, &m), TG_EINVAL);
	cJSON_Delete(p);
	p = cJSON_Parse("{\"data\":null,\"errors\":[{\"message\":\"Resource "
			"not found\"}]}");
	assert_int_equal(api_answer_err(p, &m), TG_ENOTFOUND);
	cJSON_Delete(p);
	/* ... and unknown words are an error, never success. */
	p = cJSON_Parse("{\"errors\":[{\"message\":\"Success\"}],\"data\":"
			"{\"r\":null}}");
	assert_int_equal(api_answer_err(p, &m), TG_EQUERY);
	assert_string_equal(m, "Success");
	cJSON_Delete(p);
	/* An error without a message. */
	p = cJSON_Parse("{\"errors\":[{}],\"data\":{\"r\":null}}");
	assert_int_equal(api_answer_err(p, &m), TG_EQUERY);
	assert_string_equal(m, "unknown error");
	cJSON_Delete(p);
	/* No errors[]. */
	p = cJSON_Parse("{\"data\":{\"r\":{\"ok\":false}}}");
	assert_int_equal(api_answer_err(p, &m), TG_OK);
	assert_null(m);
	cJSON_Delete(p);
}

/* ---- through tg_api_mutate, the transport canned ---- */

/* Sends the location of a network once, after the replies set up;
 * returns its error and leaves the last message in *msg. */
static enum tg_err send_one(const char **msg)
{
	struct tg_api_config cfg = canned_config(0, 0);
	const struct tg_kind *k = canned_kind("networks");
	const struct tg_field *f;
	struct tg_vars vars = { .id = "UmVtb3RlTmV0d29yazox",
				.v_json = "\"AWS\"" };
	struct tg_result res;
	struct tg_api *api;
	enum tg_err err;

	cfg.max_wait_s = 1;
	api = tg_api_new(&cfg);
	assert_non_null(api);
	f = &k->fields[tg_field_index(k, "location")];
	err = tg_api_mutate(api, f->set, &vars, &res);
	if (err == TG_OK)
		tg_result_release(&res);
	*msg = tg_api_last_message();
	tg_api_free(api);
	canned_reset();
	return err;
}

static void test_status_decides_before_the_body(void **state)
{
	static const char ok_body[] =
		"{\"data\":{\"r\":{\"ok\":true,\"error\":null}}}";
	const char *m;

	(void)state;
	/* The token: whatever the body says. */
	canned_reply(401, ok_body);
	assert_int_equal(send_one(&m), TG_EAUTH);
	canned_reply(403,
		     "{\"errors\":[{\"message\":\"Resource not found\"}]}");
	assert_int_equal(send_one(&m), TG_EAUTH);
	/* Rate: a Retry-After past the wait allowed. */
	canned_reply_after(429, 3600, ok_body);
	assert_int_equal(send_one(&m), TG_ERATE);
	/* Server trouble (a mutation is not sent again). */
	canned_reply(503, ok_body);
	assert_int_equal(send_one(&m), TG_ESERVER);
	/* HTTP 400: the document refused, whatever the words. */
	canned_reply(400,
		     "{\"errors\":[{\"message\":\"Cannot query field 'x' on "
		     "type 'RemoteNetwork' (does not exist)\"}]}");
	assert_int_equal(send_one(&m), TG_EQUERY);
	assert_string_equal(m, "Cannot query field 'x' on type "
			    "'RemoteNetwork' (does not exist)");
}

static void test_payload_refusals_keep_the_message(void **state)
{
	const char *m;

	(void)state;
	canned_reply(200,
		     "{\"data\":{\"r\":{\"ok\":false,\"error\":\"Success\","
		     "\"entity\":null}}}");
	assert_int_equal(send_one(&m), TG_EINVAL);
	assert_string_equal(m, "Success");
	canned_reply(200,
		     "{\"data\":{\"r\":{\"ok\":false,\"error\":\"The moon is "
		     "in the wrong phase\",\"entity\":null}}}");
	assert_int_equal(send_one(&m), TG_EINVAL);
	assert_string_equal(m, "The moon is in the wrong phase");
	canned_reply(200, "{\"data\":{\"r\":{\"ok\":false,\"error\":\"A Remote "
			  "Network with this name already exists\"}}}");
	assert_int_equal(send_one(&m), TG_EEXIST);
	assert_string_equal(m, "A Remote Network with this name already "
			    "exists");
	canned_reply(200, "{\"data\":{\"r\":{\"ok\":false,\"error\":null}}}");
	assert_int_equal(send_one(&m), TG_EINVAL);
	assert_string_equal(m, "refused");
	/* A resolver's error next to the nulled field. */
	canned_reply(200,
		     "{\"errors\":[{\"message\":\"Permission denied: this API "
		     "key does not have the 'read write' permission\","
		     "\"path\":[\"r\"]}],\"data\":{\"r\":null}}");
	assert_int_equal(send_one(&m), TG_EPERM);
	assert_string_equal(m, "Permission denied: this API key does not "
			    "have the 'read write' permission");
	canned_reply(200, "{\"data\":{\"r\":{\"ok\":true,\"error\":null}}}");
	assert_int_equal(send_one(&m), TG_OK);
	assert_string_equal(m, "");
}

/* A lookup by id: an id the API cannot parse, or says does not exist,
 * is no such object; a permission error stays an error. */
static void test_lookup_reads_no_such_object_from_the_words(void **state)
{
	struct tg_api_config cfg = canned_config(0, 0);
	const struct tg_kind *k = canned_kind("devices");
	struct tg_api *api;
	struct tg_list l;

	(void)state;
	cfg.retries = 0;
	cfg.max_wait_s = 1;
	api = tg_api_new(&cfg);
	assert_non_null(api);
	canned_reply(
	    200, "{\"errors\":[{\"message\":\"{'id': ['Unable to parse "
		 "global ID']}\",\"path\":[\"o\"]}],\"data\":{\"o\":null}}");
	canned_reply(200,
		     "{\"errors\":[{\"message\":\"Device matching query does "
		     "not exist.\",\"path\":[\"o\"]}],\"data\":{\"o\":null}}");
	canned_reply(200, "{\"errors\":[{\"message\":\"Permission denied\","
			  "\"path\":[\"o\"]}],\"data\":{\"o\":null}}");
	assert_int_equal(tg_api_lookup(api, k, "bad", &l), TG_OK);
	assert_int_equal(l.n, 0);
	assert_int_equal(tg_api_lookup(api, k, "RGV2aWNlOjk=", &l), TG_OK);
	assert_int_equal(l.n, 0);
	assert_int_equal(tg_api_lookup(api, k, "RGV2aWNlOjk=", &l), TG_EPERM);
	assert_int_equal(l.n, 0);
	assert_string_equal(tg_api_last_message(), "Permission denied");
	tg_api_free(api);
	canned_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_row_reads_several_phrasings),
		cmocka_unit_test(test_every_row_has_three_phrasings),
		cmocka_unit_test(
			test_unknown_phrasings_are_einval_with_the_message),
		cmocka_unit_test(test_structure_beats_words),
		cmocka_unit_test(test_status_decides_before_the_body),
		cmocka_unit_test(test_payload_refusals_keep_the_message),
		cmocka_unit_test(
			test_lookup_reads_no_such_object_from_the_words),
	};

	tg_log_set_level(TG_LOG_ERR);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests_name("refusals", tests, NULL, NULL);
}
