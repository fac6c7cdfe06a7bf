/*
 * test_first.c - the first pages of several collections in one request
 * (api/first.c), with the transport replaced (-Wl,--wrap=http_post): how
 * the document is made, how an answer is split by alias (an error nulls
 * its own part only), which extras come back whole, how a request too
 * big is asked again with fewer parts, and how a request the API refuses
 * for another reason makes the client send lists alone from then on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "canned.h"

static struct tg_api *client(void)
{
	struct tg_api_config cfg = canned_config(100, 10);
	struct tg_api *api;

	cfg.concurrency = 1;
	cfg.retries = 0;
	api = tg_api_new(&cfg);
	assert_non_null(api);
	return api;
}

/* Part @alias: a page of @n objects of @total, more pages or not. */
static char *page(const char *alias, int n, int total, bool next)
{
	static char bufs[16][4096];
	static int which;
	char *b = bufs[which++ % 16];
	size_t o = 0;

	o += (size_t)sprintf(b + o, "\"%s\":{\"totalCount\":%d,\"pageInfo\":"
			     "{\"hasNextPage\":%s,\"endCursor\":\"YXJyYXljb25uZWN0aW9uOjk5\"},"
			     "\"edges\":[", alias, total, next ? "true" : "false");
	for (int i = 0; i < n; i++)
		o += (size_t)sprintf(b + o, "%s{\"node\":{\"id\":\"SUQ6%s%d\","
				     "\"name\":\"%s-%d\",\"serialNumber\":"
				     "\"S%d\",\"createdAt\":"
				     "\"2024-01-01T00:00:00Z\","
				     "\"updatedAt\":\"2024-01-01T00:00:00Z\"}}",
				     i ? "," : "", alias, i, alias, i, i);
	sprintf(b + o, "]}");
	return b;
}

static const char *answer(const char *parts, const char *errors)
{
	static char bufs[4][16384];
	static int which;
	char *b = bufs[which++ % 4];

	snprintf(b, 16384, "{\"data\":{%s}%s%s%s}", parts,
		 errors ? ",\"errors\":" : "", errors ? errors : "", "");
	return b;
}

static void the_document_asks_each_first_page_by_alias(void **state)
{
	const struct tg_kind *kinds[] = { canned_kind("networks"),
					  canned_kind("security-policies"),
					  canned_kind("serial-numbers") };
	struct buf doc = { 0 };
	int depth = 0;

	(void)state;
	assert_true(api_first_doc(&doc, kinds, 3, 50));
	/* Named as the first list's page alone is: its stats line. */
	assert_int_equal(strncmp(doc.s, "query tgfsList_remoteNetworks {", 31),
			 0);
	assert_non_null(strstr(doc.s, " p0: remoteNetworks(first: 50)"));
	assert_non_null(strstr(doc.s, " p1: securityPolicies(first: 50)"));
	assert_non_null(strstr(doc.s, " p2: serialNumbers(first: 50)"));
	assert_null(strstr(doc.s, " p3:"));
	assert_null(strstr(doc.s, "after:"));
	for (const char *p = doc.s; *p; p++) {
		depth += *p == '{' ? 1 : *p == '}' ? -1 : 0;
		assert_true(depth >= 0);
	}
	assert_int_equal(depth, 0);
	buf_release(&doc);
	assert_false(api_first_doc(&doc, kinds, 0, 50));
	buf_release(&doc);
}

static void an_error_belongs_to_its_alias(void **state)
{
	cJSON *data = cJSON_Parse("{\"p0\":{\"edges\":[]},\"p1\":null,"
				  "\"p2\":null}");
	cJSON *errors = cJSON_Parse(
		"[{\"message\":\"deep\",\"path\":[\"p0\",\"edges\",0]},"
		"{\"message\":\"not allowed\",\"path\":[\"p1\"]},"
		"{\"message\":\"general\"}]");
	const char *msg = NULL;

	(void)state;
	assert_true(api_part_of(data, errors, 0, &msg));
	assert_false(api_part_of(data, errors, 1, &msg));
	assert_string_equal(msg, "not allowed");
	/* No error names p2: the one without a path says why. */
	assert_false(api_part_of(data, errors, 2, &msg));
	assert_string_equal(msg, "general");
	assert_false(api_part_of(data, NULL, 3, &msg));
	assert_non_null(msg);
	cJSON_Delete(data);
	cJSON_Delete(errors);
}

/* networks listed, with security policies (whole), serial numbers (an
 * error of their own) and devices (more pages) asked along. */
static void extras_come_whole_or_not_at_all(void **state)
{
	struct tg_api *api = client();
	struct tg_extra ex[3] = {
		{ .kind = canned_kind("security-policies"), .partial = true },
		{ .kind = canned_kind("serial-numbers"), .partial = true },
		{ .kind = canned_kind("devices"), .partial = true },
	};
	struct tg_pending *pending = NULL;
	struct tg_list out;
	char parts[12288];

	(void)state;
	snprintf(parts, sizeof(parts), "%s,%s,\"p2\":null,%s",
		 page("p0", 3, 3, false), page("p1", 2, 2, false),
		 page("p3", 4, 250, true));
	canned_reply(200,
		     answer(parts,
			    "[{\"message\":\"serial numbers are not enabled\","
			    "\"path\":[\"p2\"]}]"));
	assert_int_equal(tg_api_list_with(api, canned_kind("networks"), &out,
					  &pending, ex, 3),
			 TG_OK);
	assert_int_equal(canned.nsent, 1);
	assert_non_null(strstr(canned.sent[0], "p3: devices(first: 100)"));
	assert_int_equal(out.n, 3);
	assert_true(ex[0].whole);
	assert_int_equal(ex[0].list.n, 2);
	assert_false(ex[1].whole); /* its error spoils it alone */
	assert_int_equal(ex[1].list.n, 0);
	assert_false(ex[2].whole); /* more pages: listed when needed */
	assert_int_equal(ex[2].list.n, 0);
	/* Devices are known big now, networks small. */
	for (size_t i = 0; i < tg_nkinds; i++)
		if (tg_kinds[i] == canned_kind("devices"))
			assert_true(api->big[i]);
		else if (tg_kinds[i] == canned_kind("networks"))
			assert_false(api->big[i]);
	tg_extras_release(ex, 3);
	assert_int_equal(ex[0].list.n, 0);
	tg_list_release(&out);
	tg_pending_free(pending);
	tg_api_free(api);
}

/* The list's own part nulled: its error, as alone; the extras still
 * come. */
static void the_lists_own_error_spoils_no_extra(void **state)
{
	struct tg_api *api = client();
	struct tg_extra ex[1] = {
		{ .kind = canned_kind("security-policies"), .partial = true },
	};
	struct tg_list out;
	char parts[8192];

	(void)state;
	snprintf(parts, sizeof(parts), "\"p0\":null,%s",
		 page("p1", 2, 2, false));
	canned_reply(200, answer(parts, "[{\"message\":\"Permission denied\","
					"\"path\":[\"p0\"]}]"));
	assert_int_equal(
	    tg_api_list_with(api, canned_kind("networks"), &out, NULL, ex, 1),
	    TG_EPERM);
	assert_string_equal(tg_api_last_message(), "Permission denied");
	assert_int_equal(out.n, 0);
	assert_true(ex[0].whole);
	assert_int_equal(ex[0].list.n, 2);
	assert_int_equal(canned.nsent, 1);
	tg_extras_release(ex, 1);
	tg_api_free(api);
}

/* Too big for the API: asked again with what its words say fits. */
static void a_request_too_big_goes_again_smaller(void **state)
{
	struct tg_api *api = client();
	struct tg_extra ex[3] = {
		{ .kind = canned_kind("security-policies"), .partial = true },
		{ .kind = canned_kind("serial-numbers"), .partial = true },
		{ .kind = canned_kind("access-requests"), .partial = true },
	};
	struct tg_list out;
	char parts[8192];

	(void)state;
	canned_reply(200, "{\"errors\":[{\"message\":\"Query requests up "
			  "to 4000 nodes, which exceeds the maximum of "
			  "2000\"}]}");
	snprintf(parts, sizeof(parts), "%s,%s", page("p0", 1, 1, false),
		 page("p1", 1, 1, false));
	canned_reply(200, answer(parts, NULL));
	assert_int_equal(
	    tg_api_list_with(api, canned_kind("networks"), &out, NULL, ex, 3),
	    TG_OK);
	assert_int_equal(canned.nsent, 2);
	assert_non_null(strstr(canned.sent[0], " p3: accessRequests("));
	assert_non_null(strstr(canned.sent[1], " p1: securityPolicies("));
	assert_null(strstr(canned.sent[1], " p2:"));
	assert_int_equal(out.n, 1);
	assert_true(ex[0].whole);
	assert_false(ex[1].whole);
	assert_false(ex[2].whole);
	/* The page size stays: the extras were too many, not the pages. */
	assert_int_equal(tg_api_page_size(api), 100);
	tg_extras_release(ex, 3);
	tg_list_release(&out);
	tg_api_free(api);
}

/* The page size refused: halved once, and the request asked again with
 * its extras, as api_first_page does alone. */
static void a_page_size_refused_is_halved_with_the_extras(void **state)
{
	struct tg_api *api = client();
	struct tg_extra ex[1] = {
		{ .kind = canned_kind("security-policies"), .partial = true },
	};
	struct tg_list out;
	char parts[8192];

	(void)state;
	canned_reply(200, "{\"errors\":[{\"message\":\"first: 100 is "
			  "over the limit of 50\"}]}");
	snprintf(parts, sizeof(parts), "%s,%s", page("p0", 1, 1, false),
		 page("p1", 1, 1, false));
	canned_reply(200, answer(parts, NULL));
	assert_int_equal(
	    tg_api_list_with(api, canned_kind("networks"), &out, NULL, ex, 1),
	    TG_OK);
	assert_int_equal(canned.nsent, 2);
	assert_non_null(
	    strstr(canned.sent[1], " p1: securityPolicies(first: 50)"));
	assert_int_equal(tg_api_page_size(api), 50);
	assert_true(ex[0].whole);
	assert_int_equal(api->no_extras, 0);
	tg_extras_release(ex, 1);
	tg_list_release(&out);
	tg_api_free(api);
}

/* Refused before it ran, not for its size (an extra's field the API
 * lacks): the list alone, and no extras from then on. */
static void a_refused_request_goes_alone_from_then_on(void **state)
{
	struct tg_api *api = client();
	struct tg_extra ex[1] = {
		{ .kind = canned_kind("serial-numbers"), .partial = true },
	};
	struct tg_list out;
	char parts[8192];

	(void)state;
	canned_reply(200, "{\"errors\":[{\"message\":\"Cannot query field "
			  "'serialNumbers' on type 'Query'.\"}]}");
	snprintf(parts, sizeof(parts), "%s", page("p0", 1, 1, false));
	canned_reply(200, answer(parts, NULL));
	canned_reply(200, answer(parts, NULL));
	assert_int_equal(
	    tg_api_list_with(api, canned_kind("networks"), &out, NULL, ex, 1),
	    TG_OK);
	assert_int_equal(canned.nsent, 2);
	assert_null(strstr(canned.sent[1], "serialNumbers"));
	assert_int_equal(out.n, 1);
	assert_false(ex[0].whole);
	assert_int_equal(api->no_extras, 1);
	tg_list_release(&out);
	/* The next list goes alone at once. */
	assert_int_equal(
	    tg_api_list_with(api, canned_kind("networks"), &out, NULL, ex, 1),
	    TG_OK);
	assert_int_equal(canned.nsent, 3);
	assert_null(strstr(canned.sent[2], "serialNumbers"));
	tg_extras_release(ex, 1);
	tg_list_release(&out);
	tg_api_free(api);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, canned_setup, canned_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_document_asks_each_first_page_by_alias),
		cmocka_unit_test(an_error_belongs_to_its_alias),
		T(extras_come_whole_or_not_at_all),
		T(the_lists_own_error_spoils_no_extra),
		T(a_request_too_big_goes_again_smaller),
		T(a_page_size_refused_is_halved_with_the_extras),
		T(a_refused_request_goes_alone_from_then_on),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
