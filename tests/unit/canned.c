/*
 * canned.c - the transport of canned answers (canned.h): http_post
 * replaced (-Wl,--wrap=http_post) by the queue or the responder.
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

struct canned canned;

enum tg_err __wrap_http_post(struct http *h, const char *body, bool fresh,
			     struct http_resp *out, char *err, size_t errsz);

enum tg_err __wrap_http_post(struct http *h, const char *body, bool fresh,
			     struct http_resp *out, char *err, size_t errsz)
{
	const struct canned_reply *c;

	(void)h;
	(void)fresh;
	canned_begin(out, err, errsz);
	if (canned.responder)
		return canned.responder(body, out);
	assert_true(canned_keep(body));
	assert_true(canned.next_reply < canned.nreplies);
	c = &canned.replies[canned.next_reply++];
	if (c->err != TG_OK) {
		snprintf(err, errsz, "canned failure");
		return c->err;
	}
	out->status = c->status;
	out->retry_after = c->retry_after;
	if (c->body)
		assert_true(buf_add(&out->body, c->body, strlen(c->body)));
	return TG_OK;
}

static void queue(struct canned_reply r)
{
	assert_true(canned.nreplies < CANNED_MAX);
	canned.replies[canned.nreplies++] = r;
}

void canned_reply(long status, const char *body)
{
	queue((struct canned_reply){ TG_OK, status, -1, body });
}

void canned_reply_after(long status, long retry_after, const char *body)
{
	queue((struct canned_reply){ TG_OK, status, retry_after, body });
}

void canned_fail(enum tg_err err)
{
	queue((struct canned_reply){ err, 0, -1, NULL });
}

bool canned_keep(const char *body)
{
	char *copy;

	if (canned.nsent >= CANNED_MAX || !(copy = strdup(body)))
		return false;
	canned.sent[canned.nsent++] = copy;
	return true;
}

void canned_reset(void)
{
	for (size_t i = 0; i < canned.nsent; i++)
		free(canned.sent[i]);
	memset(&canned, 0, sizeof(canned));
}

int canned_setup(void **state)
{
	(void)state;
	canned_reset();
	return 0;
}

int canned_teardown(void **state)
{
	(void)state;
	canned_reset();
	return 0;
}

const struct tg_kind *canned_kind(const char *dir)
{
	const struct tg_kind *k = tg_kind_by_dir(NULL, dir);

	assert_non_null(k);
	return k;
}
