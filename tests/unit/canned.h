/*
 * canned.h - the transport of canned answers that the tests of api/
 * share (canned.c; link it with -Wl,--wrap=http_post): answers queued in
 * order (canned_reply), or made from each request by canned.responder,
 * and the body of every request kept (canned.sent) for the tests to
 * check what the client asked.  A request past the queue, or past
 * CANNED_MAX kept, fails the test (cmocka).
 *
 * canned_begin and canned_config are inline and need no cmocka: the
 * fuzzers' own transports (tests/fuzz/fuzz_response.c) use them too.
 * One test at a time, on the test's thread, but for canned.responder
 * (any thread; it keeps bodies itself, under its own lock).
 */
#ifndef TESTS_CANNED_H
#define TESTS_CANNED_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "../../api/internal.h"

/* One answer to one request. */
struct canned_reply {
	enum tg_err err;  /* not TG_OK: the transport fails so, nothing else */
	long status;      /* HTTP status */
	long retry_after; /* seconds; -1: no Retry-After */
	const char *body; /* NULL: empty; not copied (must outlive its use) */
};

#define CANNED_MAX 32

struct canned {
	struct canned_reply replies[CANNED_MAX];
	size_t nreplies, next_reply;
	char *sent[CANNED_MAX]; /* the requests' bodies, in order (owned) */
	size_t nsent;
	/* Set: answers each request instead of the queue (@out as
	 * canned_begin leaves it), and keeps no body (canned_keep). */
	enum tg_err (*responder)(const char *body, struct http_resp *out);
};

/* The one transport of the test binary: zero at start, and after
 * canned_reset. */
extern struct canned canned;

/* Queues an answer of @status with @body (no Retry-After). */
void canned_reply(long status, const char *body);
/* Queues an answer of @status with Retry-After @retry_after seconds. */
void canned_reply_after(long status, long retry_after, const char *body);
/* Queues a transport failure @err (TG_ENET, TG_EPROTO...). */
void canned_fail(enum tg_err err);
/* Keeps a copy of @body in canned.sent: false when CANNED_MAX are kept
 * (nothing kept) or out of memory.  Callers serialise. */
bool canned_keep(const char *body);
/* Frees the bodies kept and empties the queue, the record and the
 * responder. */
void canned_reset(void);
/* canned_reset as cmocka's setup and teardown of a test. */
int canned_setup(void **state);
int canned_teardown(void **state);
/* The kind of folder @dir (fails the test when there is none). */
const struct tg_kind *canned_kind(const char *dir);

/* What a fake http_post does first, as http_post: an empty response, no
 * Retry-After, no message. */
static inline void canned_begin(struct http_resp *out, char *err,
				size_t errsz)
{
	memset(out, 0, sizeof(*out));
	out->retry_after = -1;
	if (err && errsz)
		err[0] = '\0';
}

/* A client of the canned transport: pages of @page, @batch pages to a
 * request, two retries, waits of 5 s at most (the callers change what
 * they test).  The URL is loopback, where nothing is ever sent. */
static inline struct tg_api_config canned_config(unsigned page,
						 unsigned batch)
{
	return (struct tg_api_config){
		.url = "http://127.0.0.1:1/api/graphql/",
		.token = "t",
		.page_size = page,
		.batch_pages = batch,
		.retries = 2,
		.max_wait_s = 5,
		.max_wait_set = true,
	};
}

#endif
