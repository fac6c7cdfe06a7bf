/*
 * test_fieldtypes.c - every row of the field-type table (api/fieldtypes.c):
 * each type renders a sample value of the API to the text its file shows,
 * byte for byte, and parses that text back to the same value (or refuses
 * it, for the types only the API sets); a value of the wrong JSON type is
 * not rendered; and the flags are what the switches they replaced decided
 * (several lines for protocols and tags alone, a secret for tokens alone).
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

struct sample {
	const char *json;  /* a value as the API sends it */
	const char *text;  /* its file's content: NULL, an empty file */
	const char *back;  /* the text parsed back, as JSON text; NULL: not
			    * parsed (EINVAL, or TG_OK without a value for a
			    * secret) */
	const char *wrong; /* a value of another JSON type: not rendered;
			    * NULL: every value renders */
	bool multiline, secret;
};

#define PROTOCOLS_JSON                                                       \
	"{\"allowIcmp\":true,\"tcp\":{\"policy\":\"RESTRICTED\",\"ports\":" \
	"[{\"start\":22,\"end\":22},{\"start\":8000,\"end\":8080}]},"        \
	"\"udp\":{\"policy\":\"ALLOW_ALL\",\"ports\":[]}}"
#define TAGS_JSON                                                            \
	"[{\"key\":\"env\",\"value\":\"prod\"},"                             \
	"{\"key\":\"team\",\"value\":\"db\"}]"

#define POLICY_JSON "{\"mode\":\"AUTO_LOCK\",\"durationSeconds\":604800}"

/* One sample a row: a type added to the table without one fails. */
static const struct sample samples[TG_FT_COUNT] = {
	[TG_FT_STRING] = { "\"db.internal\"", "db.internal\n",
			   "\"db.internal\"", "42" },
	[TG_FT_BOOL] = { "true", "true\n", "true", "\"true\"" },
	[TG_FT_ENUM] = { "\"ACTIVE\"", "active\n", "\"ACTIVE\"", "true" },
	[TG_FT_TIME] = { "\"2024-02-15T01:13:51.059028+02:00\"",
			 "2024-02-14T23:13:51.059028Z\n", NULL, "\"soon\"" },
	[TG_FT_INT] = { "42", "42\n", "42", "\"42\"" },
	[TG_FT_LIST] = { "[\"10.0.0.1\",\"10.0.0.2\"]",
			 "10.0.0.1\n10.0.0.2\n", NULL, "[\"10.0.0.1\",1]" },
	[TG_FT_PROTOCOLS] = { PROTOCOLS_JSON,
			      "icmp: allow\ntcp: 22,8000-8080\n"
			      "udp: allow-all\n",
			      PROTOCOLS_JSON, "{\"allowIcmp\":1}", true },
	[TG_FT_TAGS] = { TAGS_JSON, "env=prod\nteam=db\n", TAGS_JSON,
			 "[{\"key\":\"env\"}]", true },
	[TG_FT_TRUST] = { "false", "untrusted\n", "false", "\"untrusted\"" },
	[TG_FT_SECRET] = { "\"s3cret\"", NULL, NULL, NULL, false, true },
	[TG_FT_DEADLINE] = { "\"2024-02-15T01:13:51.059028+02:00\"",
			     "2024-02-14T23:13:51.059028Z\n",
			     "\"2024-02-14T23:13:51.059028Z\"", "\"soon\"" },
	[TG_FT_VARIANT] = { "\"KubernetesResource\"", "kubernetes\n", NULL,
			    "1" },
	[TG_FT_ACCESS_POLICY] = { POLICY_JSON,
				  "mode: auto_lock\nduration: 604800\n",
				  POLICY_JSON, "{\"mode\":1}", true },
};

static const char *const enum_values[] = { "ACTIVE", "INACTIVE", NULL };

static struct tg_field field_of(enum tg_ftype type)
{
	struct tg_field f = { .file = "f", .path = "f", .type = type,
			      .writable = true, .values = enum_values };

	return f;
}

static void test_every_row_renders_and_parses_back(void **state)
{
	(void)state;
	for (int t = 0; t < TG_FT_COUNT; t++) {
		const struct sample *s = &samples[t];
		struct tg_field f = field_of((enum tg_ftype)t);
		cJSON *v = cJSON_Parse(s->json);
		char *out = NULL, *json = NULL;
		const char *written;
		enum tg_err err;

		if (!s->json)
			fail_msg("type %d: no sample", t);
		assert_non_null(v);
		assert_true(render_value(&f, v, &out));
		if (s->text)
			assert_string_equal(out, s->text);
		else
			assert_null(out);
		/* A secret's file takes what it is given, and gives nothing. */
		written = s->text ? s->text : "anything\n";
		err = tg_value_parse(&f, written, strlen(written), &json);
		if (s->back) {
			assert_int_equal(err, TG_OK);
			assert_string_equal(json, s->back);
		} else {
			assert_int_equal(err, s->secret ? TG_OK : TG_EINVAL);
			assert_null(json);
		}
		free(json);
		free(out);
		cJSON_Delete(v);
	}
}

static void test_wrong_and_null_values(void **state)
{
	(void)state;
	for (int t = 0; t < TG_FT_COUNT; t++) {
		const struct sample *s = &samples[t];
		struct tg_field f = field_of((enum tg_ftype)t);
		cJSON *null = cJSON_CreateNull();
		char *out = (char *)"unset";

		/* Null or missing: an empty file, for every type. */
		assert_true(render_value(&f, null, &out));
		assert_null(out);
		out = (char *)"unset";
		assert_true(render_value(&f, NULL, &out));
		assert_null(out);
		cJSON_Delete(null);
		if (s->wrong) {
			cJSON *v = cJSON_Parse(s->wrong);

			assert_non_null(v);
			assert_false(render_value(&f, v, &out));
			free(out);
			cJSON_Delete(v);
		}
	}
}

static void test_flags_are_what_the_switches_decided(void **state)
{
	(void)state;
	for (int t = 0; t < TG_FT_COUNT; t++) {
		const struct sample *s = &samples[t];
		struct tg_field f = field_of((enum tg_ftype)t);
		char *json = NULL;
		enum tg_err err;

		assert_int_equal(tg_field_multiline(&f),
				 t == TG_FT_PROTOCOLS || t == TG_FT_TAGS ||
					 t == TG_FT_ACCESS_POLICY);
		assert_int_equal(tg_field_multiline(&f), s->multiline);
		assert_int_equal(tg_field_secret(&f), t == TG_FT_SECRET);
		assert_int_equal(tg_field_secret(&f), s->secret);
		assert_int_equal(field_type((enum tg_ftype)t)->multiline,
				 s->multiline);
		assert_int_equal(field_type((enum tg_ftype)t)->secret,
				 s->secret);
		/* Every row renders; the API's own types and secrets are
		 * never parsed. */
		assert_non_null(field_type((enum tg_ftype)t)->render);
		assert_int_equal(field_type((enum tg_ftype)t)->parse == NULL,
				 t == TG_FT_TIME || t == TG_FT_LIST ||
					 t == TG_FT_SECRET ||
					 t == TG_FT_VARIANT);
		/* A second line is refused but where the type has lines. */
		err = tg_value_parse(&f, "a\nb\n", 4, &json);
		if (!s->multiline)
			assert_int_equal(err, TG_EINVAL);
		free(json);
		/* The idempotence of a mutation follows the secret flag. */
		assert_int_equal(tg_field_idempotent(&f), !s->secret);
	}
}

/* Parses @text as field @f and compares the JSON (NULL: EINVAL). */
static void parses_as(const struct tg_field *f, const char *text,
		      const char *want)
{
	char *json = NULL;
	enum tg_err err = tg_value_parse(f, text, strlen(text), &json);

	if (!want) {
		assert_int_equal(err, TG_EINVAL);
		assert_null(json);
		return;
	}
	assert_int_equal(err, TG_OK);
	assert_string_equal(json, want);
	free(json);
}

static void test_resource_types_and_access_policies(void **state)
{
	struct tg_field pol = field_of(TG_FT_ACCESS_POLICY);
	struct tg_field var = field_of(TG_FT_VARIANT);
	const struct tg_op nullable = { .call = "u(id: $id, v: $v)",
					.vtype = "Int" };
	const struct tg_op required = { .call = "u(id: $id, v: $v)",
					.vtype = "Int!" };
	struct tg_field n = field_of(TG_FT_INT);
	struct tg_field e = field_of(TG_FT_ENUM);
	const char *shown[][2] = {
		{ "\"NetworkResource\"", "network\n" },
		{ "\"SSHResource\"", "ssh\n" },
		{ "\"WebAppResource\"", "webapp\n" },
		{ "\"GatewayResource\"", "gatewayresource\n" },
		{ "{\"mode\":\"MANUAL\",\"durationSeconds\":null}",
		  "mode: manual\nduration:\n" },
		{ "{\"mode\":\"ACCESS_REQUEST\"}",
		  "mode: access_request\nduration:\n" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
		cJSON *v = cJSON_Parse(shown[i][0]);
		char *out = NULL;

		assert_true(render_value(i < 4 ? &var : &pol, v, &out));
		assert_string_equal(out, shown[i][1]);
		free(out);
		cJSON_Delete(v);
	}
	/* Either order, either case, a later line replacing an earlier;
	 * empty is null; no mode or a bad one is refused. */
	parses_as(&pol, "duration: 28800\nmode: ACCESS_REQUEST\n",
		  "{\"durationSeconds\":28800,\"mode\":\"ACCESS_REQUEST\"}");
	parses_as(&pol, "mode: manual\n", "{\"mode\":\"MANUAL\"}");
	parses_as(&pol, "mode: manual\nduration:\n",
		  "{\"mode\":\"MANUAL\",\"durationSeconds\":null}");
	parses_as(&pol, "mode: manual\nmode: auto_lock\n",
		  "{\"mode\":\"AUTO_LOCK\"}");
	parses_as(&pol, "\n", "null");
	parses_as(&pol, "duration: 5\n", NULL);
	parses_as(&pol, "mode: sometimes\n", NULL);
	parses_as(&pol, "mode: manual\nduration: -1\n", NULL);
	parses_as(&pol, "mode: manual\nduration: 1h\n", NULL);
	parses_as(&pol, "mode manual\n", NULL);
	/* Empty is null where the mutation takes it, else refused. */
	n.set = &nullable;
	e.set = &nullable;
	parses_as(&n, "\n", "null");
	parses_as(&e, "\n", "null");
	parses_as(&n, "30\n", "30");
	/* An expiry: any RFC 3339 time, sent in UTC; empty clears it. */
	{
		struct tg_field d = field_of(TG_FT_DEADLINE);
		const struct tg_op dt = { .call = "u(id: $id, v: $v)",
					  .vtype = "DateTime" };

		d.set = &dt;
		parses_as(&d, "2026-12-31T01:00:00+01:00\n",
			  "\"2026-12-31T00:00:00Z\"");
		parses_as(&d, "\n", "null");
		parses_as(&d, "next week\n", NULL);
		parses_as(&d, "2026-13-01T00:00:00Z\n", NULL);
	}
	n.set = &required;
	e.set = &required;
	parses_as(&n, "\n", NULL);
	parses_as(&e, "\n", NULL);
}

static void test_type_out_of_range_does_nothing(void **state)
{
	struct tg_field f = field_of(TG_FT_COUNT);
	cJSON *v = cJSON_CreateString("x");
	char *out = NULL, *json = NULL;

	(void)state;
	assert_false(render_value(&f, v, &out));
	assert_null(out);
	assert_int_equal(tg_value_parse(&f, "x\n", 2, &json), TG_EINVAL);
	assert_null(json);
	assert_false(tg_field_multiline(&f));
	assert_false(tg_field_secret(&f));
	cJSON_Delete(v);
}

/* The JSON tg_value_parse makes of @text for field @f, or NULL (the
 * caller frees it). */
static char *parsed(const struct tg_field *f, const char *text)
{
	char *json = NULL;

	if (tg_value_parse(f, text, strlen(text), &json) != TG_OK)
		return NULL;
	return json;
}

#define SAMPLE_PROTOCOLS "icmp: allow\ntcp: 22,8000-8080\nudp: allow-all\n"

/* A second tcp: or udp: line adds to the first (what `>>` to protocols
 * leaves): the union of the two, allow-all being every port and
 * deny-all none; icmp is one value and comes once. */
static void test_protocol_lines_add_up(void **state)
{
	struct tg_field f = field_of(TG_FT_PROTOCOLS);
	char *json;

	(void)state;
	json = parsed(&f, SAMPLE_PROTOCOLS "tcp: 5432,8080\n");
	assert_non_null(json);
	assert_string_equal(
		json, "{\"allowIcmp\":true,\"tcp\":{\"policy\":\"RESTRICTED\","
		      "\"ports\":[{\"start\":22,\"end\":22},{\"start\":8000,"
		      "\"end\":8080},{\"start\":5432,\"end\":5432},"
		      "{\"start\":8080,\"end\":8080}]},\"udp\":{\"policy\":"
		      "\"ALLOW_ALL\",\"ports\":[]}}");
	free(json);
	/* A port there already changes nothing; allow-all takes all. */
	json = parsed(&f, SAMPLE_PROTOCOLS "tcp: 22\nudp: 53\n");
	assert_non_null(json);
	assert_string_equal(json, PROTOCOLS_JSON);
	free(json);
	json = parsed(&f, SAMPLE_PROTOCOLS "tcp: allow-all\n");
	assert_non_null(json);
	assert_non_null(strstr(json, "\"tcp\":{\"policy\":\"ALLOW_ALL\","
				     "\"ports\":[]}"));
	free(json);
	/* deny-all is no port: ports added to it are those ports. */
	json = parsed(&f, "icmp: deny\ntcp: deny-all\nudp: deny-all\n"
			  "udp: 53\n");
	assert_non_null(json);
	assert_non_null(strstr(json, "\"udp\":{\"policy\":\"RESTRICTED\","
				     "\"ports\":[{\"start\":53,\"end\":53}]}"));
	free(json);
	/* icmp twice, a bad port in the added line: refused whole. */
	assert_null(parsed(&f, SAMPLE_PROTOCOLS "icmp: deny\n"));
	assert_null(parsed(&f, SAMPLE_PROTOCOLS "tcp: 70000\n"));
	assert_non_null(strstr(tg_api_last_message(), "icmp once"));
}

/* A refusal of ours says why in plain words (what the errors file
 * shows), never an older request's message; a value leaves it empty. */
static void test_refusals_say_why(void **state)
{
	struct tg_field name = field_of(TG_FT_STRING);
	struct tg_op nullable = { .call = "x(v: $v)", .vtype = "String" };
	struct tg_field alias = field_of(TG_FT_STRING);
	struct {
		struct tg_field f;
		const char *text, *why;
	} cases[] = {
		{ name, "a.example.com\nb.example.com\n",
		  "two lines in a one-line field" },
		{ name, "a\n\n", "two lines in a one-line field" },
		{ name, "\n", "empty, and this field cannot be null" },
		{ name, "a\tb\n", "a tab in the value" },
		{ name, "a\001b\n", "not UTF-8 text, or a control character in it" },
		{ field_of(TG_FT_BOOL), "yes\n", "not true or false" },
		{ field_of(TG_FT_TRUST), "yes\n", "not trusted or untrusted" },
		{ field_of(TG_FT_ENUM), "paused\n", "not one of: active inactive" },
		{ field_of(TG_FT_INT), "4x\n", "not a whole number" },
		{ field_of(TG_FT_TAGS), "novalue\n", "not key=value lines" },
		{ field_of(TG_FT_TIME), "2024-01-01T00:00:00Z\n",
		  "the API sets this field: it cannot be written" },
	};
	char *json;

	(void)state;
	name.required = true;
	cases[0].f = cases[1].f = cases[2].f = cases[3].f = cases[4].f = name;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		api_set_message("Permission denied: an older request");
		assert_null(parsed(&cases[i].f, cases[i].text));
		assert_string_equal(tg_api_last_message(), cases[i].why);
	}
	/* Empty is null where the mutation takes null: a value. */
	alias.set = &nullable;
	api_set_message("an older request");
	json = parsed(&alias, "\n");
	assert_non_null(json);
	assert_string_equal(json, "null");
	assert_string_equal(tg_api_last_message(), "");
	free(json);
	json = parsed(&alias, "");
	assert_non_null(json);
	assert_string_equal(json, "null");
	free(json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_row_renders_and_parses_back),
		cmocka_unit_test(test_wrong_and_null_values),
		cmocka_unit_test(test_flags_are_what_the_switches_decided),
		cmocka_unit_test(test_type_out_of_range_does_nothing),
		cmocka_unit_test(test_resource_types_and_access_policies),
		cmocka_unit_test(test_protocol_lines_add_up),
		cmocka_unit_test(test_refusals_say_why),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
