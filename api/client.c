/*
 * client.c - GraphQL requests to the Admin API, paced and retried.
 *
 * Pacing: the API allows rate_read queries and rate_write mutations in any
 * minute.  Each class keeps the send times of its last N requests; a new
 * request waits until the oldest of them is a minute old, so we never
 * exceed the limit ourselves and a 429 stays rare.  A 429 that comes anyway
 * blocks the whole class for Retry-After seconds.
 *
 * Retries: reads are retried on transport failures, 5xx and unreadable
 * bodies, with exponential backoff and a bound.  Mutations are never
 * retried here: the API is not idempotent.
 *
 * Listing: the first page tells the total; since cursors are offsets
 * (base64 "arrayconnection:N"), the remaining pages are addressable at
 * once and go out as aliases, batch_pages to a request.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

struct pacer {
	pthread_mutex_t lock;
	unsigned limit;
	double *ring; /* send times of the last `limit` requests */
	size_t head, count;
	double blocked_until; /* after a 429 */
};

struct tg_api {
	struct http *http;
	struct tg_api_config cfg;
	unsigned page_size; /* current; halved once if the API refuses it */
	struct pacer read, write;
	struct tg_api_stats stats;
};

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	struct timespec ts;

	if (t <= now_mono())
		return;
	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

static bool pacer_init(struct pacer *p, unsigned limit)
{
	pthread_mutex_init(&p->lock, NULL);
	p->limit = limit;
	if (!limit)
		return true;
	p->ring = calloc(limit, sizeof(*p->ring));
	return p->ring != NULL;
}

static void pacer_destroy(struct pacer *p)
{
	free(p->ring);
	pthread_mutex_destroy(&p->lock);
}

/* Reserves the next send slot of the class and sleeps until it. */
static void pacer_wait(struct pacer *p)
{
	double now, slot;

	pthread_mutex_lock(&p->lock);
	now = now_mono();
	slot = now > p->blocked_until ? now : p->blocked_until;
	if (p->limit) {
		if (p->count == p->limit && p->ring[p->head] + 60.0 > slot)
			slot = p->ring[p->head] + 60.0;
		p->ring[p->head] = slot;
		p->head = (p->head + 1) % p->limit;
		if (p->count < p->limit)
			p->count++;
	}
	pthread_mutex_unlock(&p->lock);
	sleep_until(slot);
}

static void pacer_block(struct pacer *p, double until)
{
	pthread_mutex_lock(&p->lock);
	if (until > p->blocked_until)
		p->blocked_until = until;
	pthread_mutex_unlock(&p->lock);
}

#define STAT_ADD(api, field, n) \
	__atomic_add_fetch(&(api)->stats.field, (n), __ATOMIC_RELAXED)

struct tg_api *tg_api_new(const struct tg_api_config *cfg)
{
	struct tg_api *api = calloc(1, sizeof(*api));

	if (!api)
		return NULL;
	api->cfg = *cfg;
	api->cfg.url = NULL;
	api->cfg.token = NULL;
	api->page_size = cfg->page_size ? cfg->page_size : 100;
	if (!api->cfg.batch_pages)
		api->cfg.batch_pages = 1;
	if (!api->cfg.timeout_s)
		api->cfg.timeout_s = 30;
	if (!api->cfg.connect_timeout_s)
		api->cfg.connect_timeout_s = 10;
	if (!pacer_init(&api->read, cfg->rate_read) ||
	    !pacer_init(&api->write, cfg->rate_write))
		goto fail;
	api->http = http_new(cfg->url, cfg->token, api->cfg.timeout_s,
			     api->cfg.connect_timeout_s);
	if (!api->http)
		goto fail;
	return api;
fail:
	pacer_destroy(&api->read);
	pacer_destroy(&api->write);
	free(api);
	return NULL;
}

void tg_api_free(struct tg_api *api)
{
	if (!api)
		return;
	http_free(api->http);
	pacer_destroy(&api->read);
	pacer_destroy(&api->write);
	free(api);
}

void tg_api_get_stats(struct tg_api *api, struct tg_api_stats *out)
{
#define LOAD(f) out->f = __atomic_load_n(&api->stats.f, __ATOMIC_RELAXED)
	LOAD(requests);
	LOAD(queries);
	LOAD(mutations);
	LOAD(pages);
	LOAD(retries);
	LOAD(rate_limited);
	LOAD(failures);
	LOAD(bytes);
#undef LOAD
}

unsigned tg_api_page_size(struct tg_api *api)
{
	return __atomic_load_n(&api->page_size, __ATOMIC_RELAXED);
}

/* The first message of an errors[] array, or NULL. */
static const char *first_error(const cJSON *root)
{
	const cJSON *errs = cJSON_GetObjectItemCaseSensitive(root, "errors");
	const cJSON *msg;

	if (!cJSON_IsArray(errs) || !cJSON_GetArraySize(errs))
		return NULL;
	msg = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(errs, 0),
					       "message");
	return cJSON_IsString(msg) ? msg->valuestring : "unknown error";
}

/* True when every root field of @data is set (none nulled by an error). */
static bool all_set(const cJSON *data)
{
	const cJSON *f;

	cJSON_ArrayForEach(f, data)
		if (cJSON_IsNull(f))
			return false;
	return true;
}

static enum tg_err classify_message(const char *msg)
{
	if (strstr(msg, "ermission"))
		return TG_EPERM;
	if (strstr(msg, "Unable to parse global ID"))
		return TG_EINVAL;
	return TG_EQUERY;
}

/*
 * Sends one GraphQL document.  On TG_OK, *data is the "data" object (the
 * caller cJSON_Delete()s it).  When the answer carries errors[] next to
 * data (a field failed), the first message is logged and TG_EQUERY (or a
 * finer code) returned without data.  *msg, when not NULL, gets the API's
 * message of a failure (caller frees).
 */
static enum tg_err gql(struct tg_api *api, bool mutation, const char *doc,
		       cJSON **data, char **msg)
{
	double deadline = now_mono() + api->cfg.max_wait_s;
	struct pacer *pacer = mutation ? &api->write : &api->read;
	unsigned attempt = 0;
	enum tg_err err = TG_OK;
	char why[256];
	cJSON *body = NULL, *root = NULL;
	char *printed = NULL;

	*data = NULL;
	if (msg)
		*msg = NULL;
	body = cJSON_CreateObject();
	if (!body || !cJSON_AddStringToObject(body, "query", doc))
		goto nomem;
	printed = cJSON_PrintUnformatted(body);
	if (!printed)
		goto nomem;

	for (;;) {
		struct http_resp r;
		bool retry = false;

		pacer_wait(pacer);
		STAT_ADD(api, requests, 1);
		STAT_ADD(api, queries, mutation ? 0 : 1);
		STAT_ADD(api, mutations, mutation ? 1 : 0);
		err = http_post(api->http, printed, &r, why, sizeof(why));
		STAT_ADD(api, bytes, r.body.len);
		if (err == TG_ENET) {
			tg_log(TG_LOG_WARN, "request failed: %s", why);
			retry = true;
		} else if (err != TG_OK) {
			tg_log(TG_LOG_WARN, "bad response: %s", why);
			retry = true;
		} else if (r.status == 429) {
			double wait = r.retry_after >= 0 ? r.retry_after : 60;
			double until = now_mono() + (wait < 1 ? 1 : wait);

			STAT_ADD(api, rate_limited, 1);
			buf_release(&r.body);
			if (until > deadline) {
				tg_log(TG_LOG_WARN, "rate limited for %.0f s, "
				       "more than the %u s we may wait", wait,
				       api->cfg.max_wait_s);
				err = TG_ERATE;
				goto out;
			}
			tg_log(TG_LOG_INFO, "rate limited: waiting %.0f s",
			       wait);
			pacer_block(pacer, until);
			continue; /* not a failure: no attempt counted */
		} else if (r.status == 401 || r.status == 403) {
			buf_release(&r.body);
			err = TG_EAUTH;
			goto out;
		} else if (r.status >= 500) {
			tg_log(TG_LOG_WARN, "server error: HTTP %ld", r.status);
			err = TG_ESERVER;
			retry = true;
		} else {
			root = cJSON_ParseWithLength(r.body.s ? r.body.s : "",
						     r.body.len);
			if (!root) {
				tg_log(TG_LOG_WARN, "unreadable response "
				       "(HTTP %ld, %zu bytes)", r.status,
				       r.body.len);
				err = TG_EPROTO;
				retry = true;
			}
		}
		buf_release(&r.body);
		if (!retry)
			break;
		if (mutation || attempt >= api->cfg.retries)
			goto out;
		attempt++;
		STAT_ADD(api, retries, 1);
		sleep_until(now_mono() + 0.2 * pow(2, attempt - 1));
	}

	{
		const char *m = first_error(root);
		cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "data");

		/* errors[] next to complete data (a null node inside a
		 * list, say) is logged and the data used. */
		if (m && cJSON_IsObject(d) && all_set(d)) {
			tg_log(TG_LOG_WARN, "the API says (data kept): %s", m);
			m = NULL;
		}
		if (m) {
			tg_log(TG_LOG_WARN, "the API says: %s", m);
			err = classify_message(m);
			if (msg)
				*msg = strdup(m);
			goto out;
		}
		if (!cJSON_IsObject(d)) {
			err = TG_EPROTO;
			goto out;
		}
		*data = cJSON_DetachItemViaPointer(root, d);
		err = TG_OK;
	}
out:
	if (err != TG_OK)
		STAT_ADD(api, failures, 1);
	cJSON_Delete(root);
	cJSON_Delete(body);
	cJSON_free(printed);
	return err;
nomem:
	err = TG_ENOMEM;
	goto out;
}

enum tg_err tg_api_check(struct tg_api *api, char **msg)
{
	cJSON *data = NULL;
	enum tg_err err;
	char *m = NULL;

	if (msg)
		*msg = NULL;
	err = gql(api, false,
		  "query tgfsCheck { remoteNetworks(first: 1) { totalCount } }",
		  &data, &m);
	if (err == TG_OK &&
	    !cJSON_IsNumber(json_at(data, "remoteNetworks.totalCount")))
		err = TG_EPROTO;
	cJSON_Delete(data);
	if (msg)
		*msg = m;
	else
		free(m);
	return err;
}

/* base64 of "arrayconnection:<offset>", the API's offset cursor. */
static void offset_cursor(long offset, char *out, size_t outsz)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char raw[64];
	size_t n = (size_t)snprintf(raw, sizeof(raw), "arrayconnection:%ld",
				    offset);
	size_t o = 0;

	for (size_t i = 0; i < n && o + 5 < outsz; i += 3) {
		unsigned v = (unsigned char)raw[i] << 16;

		if (i + 1 < n)
			v |= (unsigned char)raw[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)raw[i + 2];
		out[o++] = tbl[(v >> 18) & 63];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tbl[v & 63] : '=';
	}
	out[o] = '\0';
}

/* Appends one aliased page of @kind to @doc. */
static bool add_page(struct buf *doc, const struct tg_kind *kind,
		     unsigned alias, unsigned first, const char *after)
{
	return buf_addf(doc, " p%u: %s(first: %u%s%s%s) { totalCount "
			"pageInfo { hasNextPage endCursor } "
			"edges { node { %s } } }",
			alias, kind->list_field, first,
			after ? ", after: \"" : "", after ? after : "",
			after ? "\"" : "", kind->selection);
}

/* Appends the nodes of page p<alias> in @data to @out. */
static enum tg_err take_page(const struct tg_kind *kind, const cJSON *data,
			     unsigned alias, struct tg_list *out,
			     bool *has_next, char *end_cursor, size_t ecsz,
			     long *total)
{
	char name[16];
	const cJSON *page, *edges, *edge, *v;
	struct tg_object *items;
	size_t n;

	snprintf(name, sizeof(name), "p%u", alias);
	page = cJSON_GetObjectItemCaseSensitive(data, name);
	edges = json_at(page, "edges");
	if (!cJSON_IsArray(edges))
		return TG_EPROTO;
	n = (size_t)cJSON_GetArraySize(edges);
	items = realloc(out->items, (out->n + n + 1) * sizeof(*items));
	if (!items)
		return TG_ENOMEM;
	out->items = items;
	cJSON_ArrayForEach(edge, edges) {
		const cJSON *node = json_at(edge, "node");
		enum tg_err err;

		/* A node the server could not resolve comes back null. */
		if (!cJSON_IsObject(node))
			continue;
		err = object_from_node(kind, node, &out->items[out->n]);
		if (err != TG_OK)
			return err;
		out->n++;
	}
	v = json_at(page, "pageInfo.hasNextPage");
	*has_next = cJSON_IsTrue(v);
	v = json_at(page, "pageInfo.endCursor");
	end_cursor[0] = '\0';
	if (cJSON_IsString(v) && strlen(v->valuestring) < ecsz)
		strcpy(end_cursor, v->valuestring);
	v = json_at(page, "totalCount");
	if (total && cJSON_IsNumber(v))
		*total = (long)v->valuedouble;
	return TG_OK;
}

/* True when the API's message says our page size is over its limit. */
static bool page_size_refused(const char *msg)
{
	return msg && strstr(msg, "first") && strstr(msg, "limit");
}

enum tg_err tg_api_list(struct tg_api *api, const struct tg_kind *kind,
			struct tg_list *out)
{
	struct buf doc = { 0 };
	cJSON *data = NULL;
	enum tg_err err;
	char cursor[256], expect[64], *msg = NULL;
	unsigned first;
	bool has_next = false, halved = false;
	long total = 0, fetched;

	memset(out, 0, sizeof(*out));
again:
	first = tg_api_page_size(api);
	doc.len = 0;
	if (!buf_addf(&doc, "query tgfsList_%s {", kind->list_field) ||
	    !add_page(&doc, kind, 0, first, NULL) || !buf_add(&doc, " }", 2))
		goto nomem;
	err = gql(api, false, doc.s, &data, &msg);
	if (err == TG_EQUERY && !halved && first > 1 &&
	    page_size_refused(msg)) {
		/* Keep the smaller size for every later request. */
		__atomic_store_n(&api->page_size, first / 2, __ATOMIC_RELAXED);
		tg_log(TG_LOG_WARN, "page size %u refused: using %u", first,
		       first / 2);
		halved = true;
		free(msg);
		msg = NULL;
		goto again;
	}
	if (err != TG_OK)
		goto out;
	STAT_ADD(api, pages, 1);
	err = take_page(kind, data, 0, out, &has_next, cursor, sizeof(cursor),
			&total);
	cJSON_Delete(data);
	data = NULL;
	if (err != TG_OK)
		goto out;

	/* Offset cursors let us ask for every remaining page at once. */
	offset_cursor((long)first - 1, expect, sizeof(expect));
	fetched = (long)first;
	if (has_next && strcmp(cursor, expect) == 0) {
		while (fetched < total) {
			unsigned npages = 0;

			doc.len = 0;
			if (!buf_addf(&doc, "query tgfsListPages_%s {",
				      kind->list_field))
				goto nomem;
			for (; npages < api->cfg.batch_pages && fetched < total;
			     npages++, fetched += first) {
				char after[64];

				offset_cursor(fetched - 1, after,
					      sizeof(after));
				if (!add_page(&doc, kind, npages, first, after))
					goto nomem;
			}
			if (!buf_add(&doc, " }", 2))
				goto nomem;
			err = gql(api, false, doc.s, &data, NULL);
			if (err != TG_OK)
				goto out;
			STAT_ADD(api, pages, npages);
			for (unsigned i = 0; i < npages && err == TG_OK; i++)
				err = take_page(kind, data, i, out, &has_next,
						cursor, sizeof(cursor), NULL);
			cJSON_Delete(data);
			data = NULL;
			if (err != TG_OK)
				goto out;
		}
	}
	/* Objects added meanwhile, or a server without offset cursors:
	 * follow endCursor one page at a time. */
	while (has_next && cursor[0]) {
		char after[256];

		strcpy(after, cursor);
		doc.len = 0;
		if (!buf_addf(&doc, "query tgfsListMore_%s {", kind->list_field) ||
		    !add_page(&doc, kind, 0, first, after) ||
		    !buf_add(&doc, " }", 2))
			goto nomem;
		err = gql(api, false, doc.s, &data, NULL);
		if (err != TG_OK)
			goto out;
		STAT_ADD(api, pages, 1);
		err = take_page(kind, data, 0, out, &has_next, cursor,
				sizeof(cursor), NULL);
		cJSON_Delete(data);
		data = NULL;
		if (err != TG_OK)
			goto out;
	}
	err = TG_OK;
out:
	if (err != TG_OK)
		tg_list_release(out);
	cJSON_Delete(data);
	buf_release(&doc);
	free(msg);
	return err;
nomem:
	err = TG_ENOMEM;
	goto out;
}
