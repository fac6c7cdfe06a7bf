/*
 * test_client.c - the GraphQL client's logic, with the transport replaced
 * (-Wl,--wrap=http_post): paging and batching with offset cursors, nested
 * connections completed past their first page, page-size halving, 429
 * waits, retries of 5xx, dropped connections and broken bodies, and the
 * refusal of malformed answers.  Every request the client would send is
 * kept so the tests can check what it asked for.  Requests sent ahead
 * (concurrency > 1) come from helper threads too: those tests answer by
 * what a request asks (responder), not in order, and assert nothing off
 * the main thread.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "canned.h"

/* Answers by content, for requests sent from several threads at once. */
static pthread_mutex_t wrap_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wrap_cond = PTHREAD_COND_INITIALIZER;
static const char *(*responder)(const char *body, long *status);
static unsigned inflight, max_inflight, want_inflight;
static bool released;
/* Set once the call under test has returned: a request that ends after
 * that was left running by it. */
static bool call_returned;
static unsigned ended_after_return;
static bool last_page_sent; /* nine_networks' last page has come */

static enum tg_err respond(const char *body, struct http_resp *out)
{
	struct timespec until;
	const char *r;
	bool ok;

	pthread_mutex_lock(&wrap_lock);
	(void)canned_keep(body); /* nothing asserted off the main thread */
	inflight++;
	if (inflight > max_inflight)
		max_inflight = inflight;
	/* A later page waits (bounded) until want_inflight requests are on
	 * the wire at once: then they surely were. */
	if (strstr(body, "after:") && want_inflight) {
		if (inflight >= want_inflight)
			released = true;
		pthread_cond_broadcast(&wrap_cond);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 5;
		while (!released &&
		       pthread_cond_timedwait(&wrap_cond, &wrap_lock,
					      &until) != ETIMEDOUT)
			;
	}
	r = responder(body, &out->status);
	ok = !r || buf_add(&out->body, r, strlen(r));
	if (call_returned)
		ended_after_return++;
	inflight--;
	pthread_mutex_unlock(&wrap_lock);
	return ok ? TG_OK : TG_ENOMEM;
}

static int setup(void **state)
{
	canned_setup(state);
	inflight = max_inflight = want_inflight = 0;
	released = false;
	call_returned = false;
	ended_after_return = 0;
	last_page_sent = false;
	return 0;
}

/* Answers each request by @fn, from any thread (respond). */
static void answer_by(const char *(*fn)(const char *body, long *status))
{
	responder = fn;
	canned.responder = respond;
}

static struct tg_api *client_at(unsigned page, unsigned batch,
				unsigned concurrency)
{
	struct tg_api_config cfg = canned_config(page, batch);
	struct tg_api *api;

	cfg.concurrency = concurrency;
	api = tg_api_new(&cfg);

	assert_non_null(api);
	return api;
}

static struct tg_api *client(unsigned page, unsigned batch)
{
	return client_at(page, batch, 1);
}

/* A page of networks named n<from>..n<to-1>, as alias @alias. */
static char *net_page(const char *alias, int from, int to, int total,
		      bool next, const char *end)
{
	static char bufs[8][8192];
	static int which;
	char *b = bufs[which++ % 8];
	size_t o = 0;

	o += (size_t)sprintf(b + o, "\"%s\":{\"totalCount\":%d,\"pageInfo\":"
			     "{\"hasNextPage\":%s,\"endCursor\":\"%s\"},"
			     "\"edges\":[", alias, total, next ? "true" : "false",
			     end);
	for (int i = from; i < to; i++)
		o += (size_t)sprintf(b + o, "%s{\"node\":{\"id\":\"UmVtb3RlTmV0d29yazo%d\","
				     "\"name\":\"n%d\",\"location\":\"AWS\","
				     "\"networkType\":\"REGULAR\",\"isActive\":true,"
				     "\"createdAt\":\"2024-01-01T00:00:00Z\","
				     "\"updatedAt\":\"2024-01-01T00:00:00Z\"}}",
				     i > from ? "," : "", i, i);
	sprintf(b + o, "]}");
	return b;
}

/* Queues a 200 whose data is one page of one network, n0 (its body is
 * the same every time: one buffer serves every call). */
static void reply_one_network(void)
{
	static char b[9000];

	snprintf(b, sizeof(b), "{\"data\":{%s}}",
		 net_page("p0", 0, 1, 1, false, "x"));
	canned_reply(200, b);
}

/* base64("arrayconnection:1") and friends, as the API makes them. */
#define CUR1 "YXJyYXljb25uZWN0aW9uOjE="
#define CUR3 "YXJyYXljb25uZWN0aW9uOjM="
#define CUR5 "YXJyYXljb25uZWN0aW9uOjU="

static void test_list_batches_remaining_pages_as_aliases(void **state)
{
	struct tg_api *api = client(2, 10);
	struct tg_list l;
	char b1[9000], b2[20000];

	(void)state;
	snprintf(b1, sizeof(b1), "{\"data\":{%s}}",
		 net_page("p0", 0, 2, 5, true, CUR1));
	snprintf(b2, sizeof(b2), "{\"data\":{%s,%s}}",
		 net_page("p0", 2, 4, 5, true, CUR3),
		 net_page("p1", 4, 5, 5, false, "YXJyYXljb25uZWN0aW9uOjQ="));
	canned_reply(200, b1);
	canned_reply(200, b2);
	assert_int_equal(tg_api_list(api, canned_kind("networks"), &l), TG_OK);
	assert_int_equal(l.n, 5);
	for (size_t i = 0; i < 5; i++) {
		char want[8];

		snprintf(want, sizeof(want), "n%zu", i);
		assert_string_equal(l.items[i].name, want);
	}
	assert_int_equal(canned.nsent, 2);
	assert_non_null(strstr(canned.sent[0], "first: 2"));
	assert_null(strstr(canned.sent[0], "after"));
	/* Pages 2 and 3 in one request, addressed by offset cursors. */
	assert_non_null(strstr(canned.sent[1], "p0: remoteNetworks(first: 2, after: \\\"" CUR1));
	assert_non_null(strstr(canned.sent[1], "p1: remoteNetworks(first: 2, after: \\\"" CUR3));
	tg_list_release(&l);
	tg_api_free(api);
}

static void test_list_batch_size_is_bounded(void **state)
{
	struct tg_api *api = client(2, 1);
	struct tg_list l;
	char b[3][9000];

	(void)state;
	snprintf(b[0], sizeof(b[0]), "{\"data\":{%s}}",
		 net_page("p0", 0, 2, 6, true, CUR1));
	snprintf(b[1], sizeof(b[1]), "{\"data\":{%s}}",
		 net_page("p0", 2, 4, 6, true, CUR3));
	snprintf(b[2], sizeof(b[2]), "{\"data\":{%s}}",
		 net_page("p0", 4, 6, 6, false, CUR5));
	canned_reply(200, b[0]);
	canned_reply(200, b[1]);
	canned_reply(200, b[2]);
	assert_int_equal(tg_api_list(api, canned_kind("networks"), &l), TG_OK);
	assert_int_equal(l.n, 6);
	assert_int_equal(canned.nsent, 3);
	tg_list_release(&l);
	tg_api_free(api);
}

static void test_list_follows_opaque_cursors_one_by_one(void **state)
{
	struct tg_api *api = client(2, 10);
	struct tg_list l;
	char b1[9000], b2[9000];

	(void)state;
	snprintf(b1, sizeof(b1), "{\"data\":{%s}}",
		 net_page("p0", 0, 2, 3, true, "opaque1"));
	snprintf(b2, sizeof(b2), "{\"data\":{%s}}",
		 net_page("p0", 2, 3, 3, false, "opaque2"));
	canned_reply(200, b1);
	canned_reply(200, b2);
	assert_int_equal(tg_api_list(api, canned_kind("networks"), &l), TG_OK);
	assert_int_equal(l.n, 3);
	assert_non_null(strstr(canned.sent[1], "after: \\\"opaque1"));
	tg_list_release(&l);
	tg_api_free(api);
}

static void test_refused_page_size_is_halved_once_and_kept(void **state)
{
	struct tg_api *api = client(100, 10);
	struct tg_list l;
	char b[9000];

	(void)state;
	canned_reply(
	    200, "{\"errors\":[{\"message\":\"Requesting 100 records on the "
		 "`remoteNetworks` connection exceeds the `first` limit of "
		 "50 records.\",\"path\":[\"p0\"]}],\"data\":null}");
	snprintf(b, sizeof(b), "{\"data\":{%s}}",
		 net_page("p0", 0, 2, 2, false, CUR1));
	canned_reply(200, b);
	assert_int_equal(tg_api_list(api, canned_kind("networks"), &l), TG_OK);
	assert_int_equal(l.n, 2);
	assert_non_null(strstr(canned.sent[1], "first: 50"));
	assert_int_equal(tg_api_page_size(api), 50);
	tg_list_release(&l);
	tg_api_free(api);
}

static void test_rate_limit_is_waited_out(void **state)
{
	struct tg_api *api = client(2, 10);
	struct tg_api_stats st;
	struct tg_list l;

	(void)state;
	canned_reply_after(
	    429, 1, "{\"errors\":[{\"message\":\"429 Too Many Requests\"}]}");
	reply_one_network();
	assert_int_equal(tg_api_list(api, canned_kind("networks"), &l), TG_OK);
	assert_int_equal(l.n, 1);
	tg_api_get_stats(api, &st);
	assert_int_equal(st.rate_limited, 1);
	assert_int_equal(st.requests, 2);
	tg_list_release(&l);
	tg_api_free(api);
}

static void test_rate_limit_past_max_wait_fails(void **state)
{
	struct tg_api *api = client(2, 10);
	struct tg_list l;

	(void)state;
	canned_reply_after(429, 3600, "{}");
	assert_int_equal(tg_api_list(api, canned_kind("networks"), &l),
			 TG_ERATE);
	assert_int_equal(l.n, 0);
	tg_api_free(api);
}

static void test_reads_retry_5xx_drops_and_broken_bodies(void **state)
{
	struct tg_api *api = client(2, 10);
	struct tg_api_stats st;
	struct tg_list l;

	(void)state;
	canned_reply(503, "oops");
	canned_fail(TG_ENET);
	reply_one_network();
	assert_int_equal(tg_api_list(api, canned_kind("networks"), &l), TG_OK);
	assert_int_equal(l.n, 1);
	tg_api_get_stats(api, &st);
	assert_int_equal(st.retries, 2);
	tg_list_release(&l);
	tg_api_free(api);
}

static void test_retries_are_bounded(void **state)
{
	struct tg_api *api = client(2, 10);
	struct tg_list l;

	(void)state;
	canned_reply(
	    200, "{\"data\":{\"p0\":{\"edges\":[{\"node\":{\"id\":"); /* cut */
	canned_reply(500, "");
	canned_reply(200, "<!doctype html><html>sign in</html>");
	assert_int_equal(tg_api_list(api, canned_kind("networks"), &l),
			 TG_EPROTO);
	assert_int_equal(canned.nsent, 3); /* one try and two retries */
	assert_int_equal(l.n, 0);
	tg_api_free(api);
}

static void test_retries_stop_at_the_calls_deadline(void **state)
{
	struct tg_api *api = client(2, 10);
	struct tg_api_config cfg = { .timeout_s = 30 };
	struct tg_call c;
	struct tg_list l;

	(void)state;
	canned_reply(503, "");
	canned_reply(503, "");
	canned_reply(503, "");
	/* Tries at 0 and 0.2 s; the next, after 0.4 more, would pass the
	 * call's 0.3 s: two tries where retries=2 would make three. */
	tg_call_start(&c, &cfg);
	c.deadline = c.start + 0.3;
	assert_int_equal(tg_api_list(api, canned_kind("networks"), &l),
			 TG_ESERVER);
	tg_call_finish();
	assert_int_equal(canned.nsent, 2);
	tg_api_free(api);
}

static void test_a_cancelled_call_sends_nothing(void **state)
{
	struct tg_api *api = client(2, 10);
	struct tg_api_config cfg = { .timeout_s = 30 };
	struct tg_api_stats st;
	struct tg_call c;
	struct tg_list l;

	(void)state;
	tg_call_start(&c, &cfg);
	tg_call_cancel(&c);
	assert_int_equal(tg_api_list(api, canned_kind("networks"), &l),
			 TG_EINTR);
	tg_call_finish();
	assert_int_equal(canned.nsent, 0);
	tg_api_get_stats(api, &st);
	assert_int_equal(st.failures, 0); /* the API did nothing wrong */
	tg_api_free(api);
}

static void test_bad_token_is_not_retried(void **state)
{
	struct tg_api *api = client(2, 10);
	struct tg_list l;

	(void)state;
	canned_reply(401, "{\"errors\":[{\"message\":\"Invalid or missing API key\"}]}");
	assert_int_equal(tg_api_list(api, canned_kind("networks"), &l),
			 TG_EAUTH);
	assert_int_equal(canned.nsent, 1);
	tg_api_free(api);
}

static void test_malformed_pages_are_refused(void **state)
{
	static const char *const bad[] = {
		"{\"data\":{\"p0\":null}}",
		"{\"data\":{\"p0\":{\"edges\":7}}}",
		"{\"data\":{\"p0\":{\"edges\":[{\"node\":{\"name\":\"no id\"}}]}}}",
		"{\"data\":{\"p0\":{\"edges\":[{\"node\":{\"id\":\"x\",\"isActive\":\"yes\"}}]}}}",
		"{\"data\":[]}",
		"{}",
	};
	struct tg_list l;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tg_api *api = client(2, 10);

		canned_reset();
		canned_reply(200, bad[i]);
		assert_int_not_equal(
		    tg_api_list(api, canned_kind("networks"), &l), TG_OK);
		assert_int_equal(l.n, 0);
		tg_api_free(api);
	}
}

static void test_null_nodes_are_skipped(void **state)
{
	struct tg_api *api = client(2, 10);
	struct tg_list l;
	char b[9000];

	(void)state;
	/* A device without a user comes back as a null node and an error. */
	snprintf(b, sizeof(b),
		 "{\"errors\":[{\"message\":\"Cannot return null\"}],"
		 "\"data\":{\"p0\":{\"totalCount\":2,\"pageInfo\":{\"hasNextPage\":"
		 "false,\"endCursor\":\"x\"},\"edges\":[{\"node\":null},"
		 "{\"node\":{\"id\":\"UmVtb3RlTmV0d29yazox\",\"name\":\"a\"}}]}}}");
	canned_reply(200, b);
	assert_int_equal(tg_api_list(api, canned_kind("networks"), &l), TG_OK);
	assert_int_equal(l.n, 1);
	tg_list_release(&l);
	tg_api_free(api);
}

static void test_nested_connections_are_completed(void **state)
{
	struct tg_api *api = client(2, 10);
	struct tg_list l;
	const struct tg_kind *groups = canned_kind("groups");
	int users = tg_rel_index(groups, "users");

	(void)state;
	canned_reply(
	    200,
	    "{\"data\":{\"p0\":{\"totalCount\":1,\"pageInfo\":{\"hasNextPage\":"
	    "false,\"endCursor\":\"x\"},\"edges\":[{\"node\":{\"id\":\"R3JvdXA6MQ==\","
	    "\"name\":\"g\",\"type\":\"MANUAL\",\"isActive\":true,"
	    "\"securityPolicy\":{\"id\":\"p\",\"name\":\"P\"},"
	    "\"users\":{\"totalCount\":5,\"pageInfo\":{\"hasNextPage\":true,"
	    "\"endCursor\":\"" CUR1 "\"},\"edges\":[{\"node\":{\"id\":\"u0\"}},"
	    "{\"node\":{\"id\":\"u1\"}}]}}}]}}}");
	canned_reply(
	    200,
	    "{\"data\":{\"n0\":{\"users\":{\"edges\":[{\"node\":{\"id\":\"u2\"}},"
	    "{\"node\":{\"id\":\"u3\"}}]}},\"n1\":{\"users\":{\"edges\":"
	    "[{\"node\":{\"id\":\"u4\"}}]}}}}");
	assert_int_equal(tg_api_list(api, groups, &l), TG_OK);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.items[0].links[users].n, 5);
	assert_string_equal(l.items[0].links[users].ids[4], "u4");
	assert_non_null(strstr(canned.sent[1], "n0: group(id: \\\"R3JvdXA6MQ==\\\") { users(first: 2, after: \\\"" CUR1));
	assert_non_null(strstr(canned.sent[1], "n1: group(id: \\\"R3JvdXA6MQ==\\\") { users(first: 2, after: \\\"" CUR3));
	/* object.json shows the members as a list, all five. */
	{
		char *buf = NULL;
		const char *j = tg_object_json(&l.items[0], &buf);

		assert_non_null(j);
		assert_non_null(strstr(j, "\"u4\""));
		assert_null(strstr(j, "pageInfo"));
		free(buf);
	}
	tg_list_release(&l);
	tg_api_free(api);
}

/* A partial list leaves the members past the first page for later; the
 * object it completes keeps its name where it was (readers of names take
 * no lock). */
static void test_partial_list_is_completed_later(void **state)
{
	struct tg_api *api = client(2, 10);
	struct tg_list l;
	struct tg_pending *p;
	const struct tg_kind *groups = canned_kind("groups");
	int users = tg_rel_index(groups, "users");
	const char *name;

	(void)state;
	canned_reply(
	    200,
	    "{\"data\":{\"p0\":{\"totalCount\":1,\"pageInfo\":{\"hasNextPage\":"
	    "false,\"endCursor\":\"x\"},\"edges\":[{\"node\":{\"id\":\"R3JvdXA6MQ==\","
	    "\"name\":\"g\",\"type\":\"MANUAL\",\"isActive\":true,"
	    "\"securityPolicy\":{\"id\":\"p\",\"name\":\"P\"},"
	    "\"users\":{\"totalCount\":3,\"pageInfo\":{\"hasNextPage\":true,"
	    "\"endCursor\":\"" CUR1 "\"},\"edges\":[{\"node\":{\"id\":\"u0\"}},"
	    "{\"node\":{\"id\":\"u1\"}}]}}}]}}}");
	assert_int_equal(tg_api_list_partial(api, groups, &l, &p), TG_OK);
	assert_int_equal(canned.nsent, 1);
	assert_non_null(p);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.items[0].name, "g");
	assert_int_equal(l.items[0].links[users].n, 2);
	name = l.items[0].name;

	canned_reply(200, "{\"data\":{\"n0\":{\"users\":{\"edges\":"
			  "[{\"node\":{\"id\":\"u2\"}}]}}}}");
	assert_int_equal(tg_api_complete(api, &l, p), TG_OK);
	assert_int_equal(canned.nsent, 2);
	assert_ptr_equal(l.items[0].name, name);
	assert_int_equal(l.items[0].links[users].n, 3);
	assert_string_equal(l.items[0].links[users].ids[2], "u2");
	{
		char *buf = NULL;
		const char *j = tg_object_json(&l.items[0], &buf);

		assert_non_null(j);
		assert_non_null(strstr(j, "\"u2\""));
		free(buf);
	}
	tg_list_release(&l);

	/* A failed completion spends the pending pages all the same. */
	canned_reply(
	    200,
	    "{\"data\":{\"p0\":{\"totalCount\":1,\"pageInfo\":{\"hasNextPage\":"
	    "false,\"endCursor\":\"x\"},\"edges\":[{\"node\":{\"id\":\"R3JvdXA6MQ==\","
	    "\"name\":\"g\",\"type\":\"MANUAL\",\"isActive\":true,"
	    "\"securityPolicy\":null,"
	    "\"users\":{\"totalCount\":3,\"pageInfo\":{\"hasNextPage\":true,"
	    "\"endCursor\":\"" CUR1 "\"},\"edges\":[{\"node\":{\"id\":\"u0\"}},"
	    "{\"node\":{\"id\":\"u1\"}}]}}}]}}}");
	assert_int_equal(tg_api_list_partial(api, groups, &l, &p), TG_OK);
	canned_reply(200, "{\"data\":{\"n0\":{\"users\":{\"nodes\":[]}}}}");
	assert_int_equal(tg_api_complete(api, &l, p), TG_EPROTO);
	assert_int_equal(l.items[0].links[users].n, 2);
	tg_list_release(&l);
	tg_api_free(api);
}

/* Two groups, each with a member past its first page of two. */
#define TWO_PARTIAL_GROUPS                                                   \
	"{\"data\":{\"p0\":{\"totalCount\":2,\"pageInfo\":{\"hasNextPage\":" \
	"false,\"endCursor\":\"x\"},\"edges\":["                             \
	"{\"node\":{\"id\":\"R3JvdXA6MQ==\",\"name\":\"g1\",\"type\":"       \
	"\"MANUAL\",\"isActive\":true,\"securityPolicy\":null,"              \
	"\"users\":{\"totalCount\":3,\"pageInfo\":{\"hasNextPage\":true,"    \
	"\"endCursor\":\"" CUR1 "\"},\"edges\":[{\"node\":{\"id\":\"a0\"}}," \
	"{\"node\":{\"id\":\"a1\"}}]}}},"                                    \
	"{\"node\":{\"id\":\"R3JvdXA6Mg==\",\"name\":\"g2\",\"type\":"       \
	"\"MANUAL\",\"isActive\":true,\"securityPolicy\":null,"              \
	"\"users\":{\"totalCount\":3,\"pageInfo\":{\"hasNextPage\":true,"    \
	"\"endCursor\":\"" CUR1 "\"},\"edges\":[{\"node\":{\"id\":\"b0\"}}," \
	"{\"node\":{\"id\":\"b1\"}}]}}}]}}}"

static void test_one_object_of_a_partial_list_is_completed_alone(void **state)
{
	struct tg_api *api = client(2, 10);
	struct tg_list l;
	struct tg_pending *p;
	const struct tg_kind *groups = canned_kind("groups");
	int users = tg_rel_index(groups, "users");

	(void)state;
	canned_reply(200, TWO_PARTIAL_GROUPS);
	assert_int_equal(tg_api_list_partial(api, groups, &l, &p), TG_OK);
	assert_true(tg_pending_has(p, "R3JvdXA6Mg=="));
	assert_true(tg_pending_has(p, "R3JvdXA6MQ=="));

	/* g2 alone: one request naming g2 only. */
	canned_reply(200, "{\"data\":{\"n0\":{\"users\":{\"edges\":"
			  "[{\"node\":{\"id\":\"b2\"}}]}}}}");
	assert_int_equal(tg_api_complete_one(api, &l, p, "R3JvdXA6Mg=="),
			 TG_OK);
	assert_int_equal(canned.nsent, 2);
	assert_non_null(strstr(canned.sent[1], "R3JvdXA6Mg=="));
	assert_null(strstr(canned.sent[1], "R3JvdXA6MQ=="));
	assert_int_equal(l.items[1].links[users].n, 3);
	assert_string_equal(l.items[1].links[users].ids[2], "b2");
	assert_int_equal(l.items[0].links[users].n, 2);
	assert_false(tg_pending_has(p, "R3JvdXA6Mg=="));
	assert_false(tg_pending_empty(p));

	/* Again, or an object that lacks nothing: no request. */
	assert_int_equal(tg_api_complete_one(api, &l, p, "R3JvdXA6Mg=="),
			 TG_OK);
	assert_int_equal(tg_api_complete_one(api, &l, p, "nope"), TG_OK);
	assert_int_equal(canned.nsent, 2);

	/* g1, the last: pending is then empty. */
	canned_reply(200, "{\"data\":{\"n0\":{\"users\":{\"edges\":"
			  "[{\"node\":{\"id\":\"a2\"}}]}}}}");
	assert_int_equal(tg_api_complete_one(api, &l, p, "R3JvdXA6MQ=="),
			 TG_OK);
	assert_int_equal(canned.nsent, 3);
	assert_int_equal(l.items[0].links[users].n, 3);
	assert_true(tg_pending_empty(p));
	tg_pending_free(p);
	tg_list_release(&l);
	tg_api_free(api);
}

static void test_lookup_by_id_and_unknown_id(void **state)
{
	struct tg_api *api = client(100, 10);
	struct tg_list l;

	(void)state;
	canned_reply(
	    200, "{\"data\":{\"o\":{\"id\":\"RGV2aWNlOjE=\",\"name\":\"mac\","
		 "\"user\":{\"id\":\"VXNlcjox\",\"email\":\"a@b\"},"
		 "\"activeState\":\"ACTIVE\",\"isTrusted\":true,"
		 "\"deviceType\":\"LAPTOP\"}}}");
	canned_reply(200, "{\"data\":{\"o\":null}}");
	assert_int_equal(
	    tg_api_lookup(api, canned_kind("devices"), "RGV2aWNlOjE=", &l),
	    TG_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.items[0].id, "RGV2aWNlOjE=");
	tg_list_release(&l);
	assert_int_equal(
	    tg_api_lookup(api, canned_kind("devices"), "RGV2aWNlOjk=", &l),
	    TG_OK);
	assert_int_equal(l.n, 0);
	/* The id travels as a variable, never spliced into the query. */
	assert_non_null(strstr(canned.sent[0], "\"variables\":{\"v\":\"RGV2aWNlOjE=\"}"));
	tg_api_free(api);
}

static void test_lookup_by_name_uses_a_filter_variable(void **state)
{
	struct tg_api *api = client(100, 10);
	struct tg_list l;

	(void)state;
	reply_one_network();
	assert_int_equal(tg_api_lookup(api, canned_kind("networks"), "a\"b } x",
				       &l), TG_OK);
	assert_int_equal(l.n, 1);
	assert_non_null(strstr(canned.sent[0], "filter: {name: {eq: $v}}"));
	assert_non_null(strstr(canned.sent[0], "\"v\":\"a\\\"b } x\""));
	tg_list_release(&l);
	tg_api_free(api);
}

static void test_draft_create_is_one_mutation_never_retried(void **state)
{
	struct tg_api *api = client(100, 10);
	const struct tg_kind *k = canned_kind("resources");
	size_t fields[2] = { (size_t)tg_field_index(k, "name"),
			     (size_t)tg_field_index(k, "address") };
	char *values[2] = { "\"db\"", "\"10.0.0.5\"" };
	size_t rels[1] = { (size_t)tg_rel_index(k, "network") };
	char *ids[1] = { "UmVtb3RlTmV0d29yazox" };
	struct tg_result res;

	(void)state;
	canned_reply(200,
		     "{\"data\":{\"r\":{\"ok\":true,\"error\":null,"
		     "\"entity\":{\"id\":\"UmVzb3VyY2U6OQ==\",\"name\":\"db\","
		     "\"address\":{\"type\":\"IP\",\"value\":\"10.0.0.5\"},"
		     "\"remoteNetwork\":{\"id\":\"UmVtb3RlTmV0d29yazox\","
		     "\"name\":\"n\"},\"isActive\":true,\"isVisible\":true,"
		     "\"isBrowserShortcutEnabled\":false,\"tags\":[]}}}}");
	assert_int_equal(tg_api_create(api, k, fields, values, 2, rels, ids, 1,
				       &res),
			 TG_OK);
	assert_int_equal(canned.nsent, 1);
	/* Arguments named as each field's update names them, all as
	 * variables of the update's types. */
	assert_non_null(strstr(canned.sent[0], "resourceCreate(name: $v0, "
					"address: $v1, remoteNetworkId: $v2)"));
	assert_non_null(strstr(canned.sent[0], "$v0: String!"));
	assert_non_null(strstr(canned.sent[0], "$v2: ID!"));
	assert_non_null(
	    strstr(canned.sent[0], "\"v2\":\"UmVtb3RlTmV0d29yazox\""));
	assert_string_equal(res.entity.name, "db");
	assert_string_equal(res.entity.links[rels[0]].ids[0],
			    "UmVtb3RlTmV0d29yazox");
	tg_result_release(&res);
	/* A server error is not retried: creates are not idempotent. */
	canned_reply(502, "bad gateway");
	assert_int_not_equal(tg_api_create(api, k, fields, values, 2, rels,
					   ids, 1, &res),
			     TG_OK);
	assert_int_equal(canned.nsent, 2);
	/* A kind without drafts has no create of this shape. */
	assert_int_equal(tg_api_create(api, canned_kind("networks"), fields,
				       values, 0, NULL, NULL, 0, &res),
			 TG_EINVAL);
	tg_api_free(api);
}

/* A resource's __typename picks its update (the kinds table's variants);
 * an argument that update lacks fails before anything is sent. */
static void test_a_typed_resource_is_updated_through_its_own_mutation(
	void **state)
{
	struct tg_api *api = client(100, 10);
	const struct tg_kind *k = canned_kind("resources");
	const char *node =
		"{\"__typename\":\"SSHResource\",\"id\":\"UmVzb3VyY2U6OQ==\","
		"\"name\":\"bastion\",\"address\":{\"type\":\"DNS\","
		"\"value\":\"b\"},\"alias\":null,\"isActive\":true,"
		"\"isVisible\":true}";
	size_t fields[2] = { (size_t)tg_field_index(k, "alias"),
			     (size_t)tg_field_index(k, "is-visible") };
	char *values[2] = { "\"b.corp\"", "false" };
	size_t proto = (size_t)tg_field_index(k, "protocols");
	char *pv[1] = { "{\"allowIcmp\":true}" };
	struct tg_object o;
	struct tg_result res;
	struct tg_vars vars = { .id = "UmVzb3VyY2U6OQ==", .v_json = "\"x\"" };

	(void)state;
	assert_int_equal(tg_object_from_json(k, node, strlen(node), &o),
			 TG_OK);
	canned_reply(200, "{\"data\":{\"r\":{\"ok\":true,\"error\":null,"
			  "\"entity\":{\"__typename\":\"SSHResource\",\"id\":"
			  "\"UmVzb3VyY2U6OQ==\",\"name\":\"bastion\"}}}}");
	assert_int_equal(tg_api_update(api, &o, fields, values, 2, &res),
			 TG_OK);
	assert_int_equal(canned.nsent, 1);
	assert_non_null(strstr(canned.sent[0], "r: sshResourceUpdate(id: $id, "
					"alias: $v0, isVisible: $v1)"));
	assert_null(strstr(canned.sent[0], "resourceUpdate("));
	/* The payload's selection is valid on SSHResource: the network
	 * resource's fields sit in a fragment inside one on Resource. */
	assert_non_null(strstr(canned.sent[0], "... on Resource { ... on "
					"NetworkResource {"));
	tg_result_release(&res);
	assert_int_equal(tg_api_update(api, &o, &proto, pv, 1, &res),
			 TG_ENOTSUP);
	assert_int_equal(canned.nsent, 1);
	assert_non_null(strstr(tg_api_last_message(),
			       "sshResourceUpdate takes no protocols"));
	/* A one-link of the resource (ln -sfn security-policy) too. */
	vars.obj = &o;
	vars.t = "U2VjdXJpdHlQb2xpY3k6MQ==";
	canned_reply(200, "{\"data\":{\"r\":{\"ok\":true,\"error\":null}}}");
	assert_int_equal(
		tg_api_mutate(api,
			      k->rels[tg_rel_index(k, "security-policy")].add,
			      &vars, &res),
		TG_OK);
	assert_non_null(strstr(canned.sent[1], "r: sshResourceUpdate(id: $id, "
					"securityPolicyId: $t)"));
	tg_result_release(&res);
	/* Without the object, the call is sent as the table states it. */
	vars.obj = NULL;
	canned_reply(200, "{\"data\":{\"r\":{\"ok\":true,\"error\":null}}}");
	assert_int_equal(
		tg_api_mutate(api,
			      k->rels[tg_rel_index(k, "security-policy")].add,
			      &vars, &res),
		TG_OK);
	assert_non_null(strstr(canned.sent[2], "r: resourceUpdate(id: $id, "));
	tg_result_release(&res);
	tg_object_release(&o);
	tg_api_free(api);
}

static void test_only_idempotent_mutations_are_retried(void **state)
{
	struct tg_api *api = client(100, 10);
	const struct tg_kind *k = canned_kind("networks");
	const struct tg_field *f = &k->fields[tg_field_index(k, "location")];
	struct tg_vars vars = { .id = "UmVtb3RlTmV0d29yazox",
				.v_json = "\"AWS\"" };
	struct tg_result res;

	(void)state;
	/* A value set, its answer lost twice: sent again, and it is the
	 * same change (the third answer is the one that counts). */
	vars.idempotent = true;
	canned_reply(502, "bad gateway");
	canned_reply(200, "{\"data\":{\"r\":{\"ok\":true,\"error\":null,");
	canned_reply(200, "{\"data\":{\"r\":{\"ok\":true,\"error\":null}}}");
	assert_int_equal(tg_api_mutate(api, f->set, &vars, &res), TG_OK);
	assert_int_equal(canned.nsent, 3);
	assert_string_equal(canned.sent[0], canned.sent[2]);
	tg_result_release(&res);
	/* The same mutation not marked idempotent goes once. */
	vars.idempotent = false;
	canned_reply(502, "bad gateway");
	assert_int_equal(tg_api_mutate(api, f->set, &vars, &res), TG_ESERVER);
	assert_int_equal(canned.nsent, 4);
	tg_api_free(api);
}

/* Nine networks in pages of two, each page by its cursor; the page after
 * CUR5 answered the first time as fault_at_cur5 says ("401": HTTP 401;
 * else that body), when it is set. */
static const char *cursors[] = { NULL, CUR1, CUR3, CUR5,
				 "YXJyYXljb25uZWN0aW9uOjc=" };
static const char *fault_at_cur5;
static bool fault_given;
/* How long the last page's answer takes, in ms (called under wrap_lock,
 * which the wait gives up meanwhile). */
static unsigned last_page_ms;
static pthread_cond_t nap_cond = PTHREAD_COND_INITIALIZER;

/* Waits under wrap_lock, which it gives up meanwhile, @ms or until *@until
 * (may be NULL) holds. */
static void nap_locked(unsigned ms, const bool *until_set)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	until.tv_sec += ms / 1000 + until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	while (!(until_set && *until_set) &&
	       pthread_cond_timedwait(&nap_cond, &wrap_lock, &until) !=
		       ETIMEDOUT)
		;
}

static const char *nine_networks(const char *body, long *status)
{
	static char b[9000];
	size_t page = 0;

	for (size_t i = 1; i < 5; i++)
		if (strstr(body, cursors[i]))
			page = i;
	*status = 200;
	/* With last_page_ms: the second page answers once the last is on
	 * the wire (5 s at most), so that it is when the third fails. */
	if (page == 2 && last_page_ms)
		nap_locked(5000, &last_page_sent);
	if (page == 4 && last_page_ms) {
		last_page_sent = true;
		pthread_cond_broadcast(&nap_cond);
		nap_locked(last_page_ms, NULL);
	}
	if (page == 3 && fault_at_cur5 && !fault_given) {
		fault_given = true;
		if (strcmp(fault_at_cur5, "401") == 0) {
			*status = 401;
			return "{}";
		}
		return fault_at_cur5;
	}
	snprintf(b, sizeof(b), "{\"data\":{%s}}",
		 net_page("p0", (int)page * 2, page == 4 ? 9 : (int)page * 2 + 2,
			  9, page < 4, page < 4 ? cursors[page + 1] : "end"));
	return b;
}

static void test_later_pages_go_ahead_concurrently_and_in_order(void **state)
{
	struct tg_api *api = client_at(2, 1, 3);
	struct tg_api_stats st;
	struct tg_list l;

	(void)state;
	answer_by(nine_networks);
	fault_at_cur5 = NULL;
	want_inflight = 3;
	assert_int_equal(tg_api_list(api, canned_kind("networks"), &l), TG_OK);
	/* Three of the four later requests were on the wire at once. */
	assert_int_equal(max_inflight, 3);
	assert_int_equal(canned.nsent, 5);
	assert_int_equal(l.n, 9);
	for (size_t i = 0; i < 9; i++) {
		char want[8];

		snprintf(want, sizeof(want), "n%zu", i);
		assert_string_equal(l.items[i].name, want);
	}
	tg_api_get_stats(api, &st);
	assert_int_equal(st.requests, 5);
	assert_int_equal(st.pages, 5);
	tg_list_release(&l);
	tg_api_free(api);
}

static void test_a_failure_ahead_fails_the_list_after_all_end(void **state)
{
	struct tg_api *api = client_at(2, 1, 3);
	struct tg_list l;

	(void)state;
	answer_by(nine_networks);
	fault_at_cur5 = "401";
	fault_given = false;
	/* The last page is on the wire when the 401 comes, and answers
	 * 300 ms after it was sent: the list must wait for it. */
	last_page_ms = 300;
	assert_int_equal(tg_api_list(api, canned_kind("networks"), &l),
			 TG_EAUTH);
	pthread_mutex_lock(&wrap_lock);
	call_returned = true;
	pthread_mutex_unlock(&wrap_lock);
	last_page_ms = 0;
	assert_int_equal(l.n, 0);
	assert_null(l.items);
	/* The helper's message is the caller's. */
	assert_non_null(strstr(tg_api_last_message(), "refused the token"));
	/* Nothing was left running: every request sent ended before the
	 * call returned (tg_api_free joins the helpers, so one still
	 * running would have ended by the check).  The last page was sent:
	 * all five requests, none twice. */
	tg_api_free(api);
	assert_int_equal(ended_after_return, 0);
	assert_int_equal(inflight, 0);
	assert_int_equal(canned.nsent, 5);
}

static void test_an_unreadable_answer_ahead_is_sent_again(void **state)
{
	struct tg_api *api = client_at(2, 1, 3);
	struct tg_api_stats st;
	struct tg_list l;

	(void)state;
	answer_by(nine_networks);
	fault_at_cur5 = "{\"data\":{\"p0\":";
	fault_given = false;
	assert_int_equal(tg_api_list(api, canned_kind("networks"), &l), TG_OK);
	assert_int_equal(l.n, 9);
	tg_api_get_stats(api, &st);
	assert_int_equal(st.requests, 6);
	assert_int_equal(st.retries, 1);
	assert_int_equal(st.failures, 0);
	tg_list_release(&l);
	tg_api_free(api);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, canned_teardown)
		T(test_list_batches_remaining_pages_as_aliases),
		T(test_list_batch_size_is_bounded),
		T(test_list_follows_opaque_cursors_one_by_one),
		T(test_refused_page_size_is_halved_once_and_kept),
		T(test_rate_limit_is_waited_out),
		T(test_rate_limit_past_max_wait_fails),
		T(test_retries_stop_at_the_calls_deadline),
		T(test_a_cancelled_call_sends_nothing),
		T(test_reads_retry_5xx_drops_and_broken_bodies),
		T(test_retries_are_bounded),
		T(test_bad_token_is_not_retried),
		T(test_malformed_pages_are_refused),
		T(test_null_nodes_are_skipped),
		T(test_nested_connections_are_completed),
		T(test_partial_list_is_completed_later),
		T(test_one_object_of_a_partial_list_is_completed_alone),
		T(test_lookup_by_id_and_unknown_id),
		T(test_lookup_by_name_uses_a_filter_variable),
		T(test_draft_create_is_one_mutation_never_retried),
		T(test_only_idempotent_mutations_are_retried),
	T(test_a_typed_resource_is_updated_through_its_own_mutation),
		T(test_later_pages_go_ahead_concurrently_and_in_order),
		T(test_a_failure_ahead_fails_the_list_after_all_end),
		T(test_an_unreadable_answer_ahead_is_sent_again),
	};

	tg_log_set_level(TG_LOG_ERR);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests_name("client", tests, NULL, NULL);
}
