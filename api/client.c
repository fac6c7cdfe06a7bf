/*
 * client.c - the transport of the Admin API client: one GraphQL document
 * sent, paced and retried, and the client's state (struct tg_api, its
 * counters and health).  Reading a whole collection is paging.c's job and
 * the later pages of nested connections nested.c's; both send through
 * api_gql and api_gql_body here.
 *
 * Pacing: the API allows rate_read queries and rate_write mutations in any
 * minute.  Each class keeps the send times of its last N requests; a new
 * request waits until the oldest of them is a minute old, so we never
 * exceed the limit ourselves and a 429 stays rare.  A 429 that comes anyway
 * blocks the whole class for Retry-After seconds.
 *
 * Retries: reads are retried on transport failures, 5xx and unreadable
 * bodies, with exponential backoff and a bound, and only while the
 * thread's operation has time left (deadline.c): a user waits timeout
 * seconds in all, not timeout a try.  Every wait here ends early when
 * the operation is cancelled (an interrupt): TG_EINTR.  A mutation is retried
 * only when it sets a value (GQL_MUTATION_IDEMPOTENT): another may have
 * taken effect when its answer was lost, and the API is not idempotent.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static __thread char last_message[512];

const char *tg_api_last_message(void)
{
	return last_message;
}

static void set_message(const char *fmt, const char *arg)
{
	snprintf(last_message, sizeof(last_message), fmt, arg);
}

void api_set_message(const char *msg)
{
	set_message("%s", msg);
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

/* Reserves the next send slot of the class and sleeps until it: false
 * when the thread's operation was cancelled meanwhile.  The time it
 * took moves the operation's deadline on (pacing is ours, not a wait
 * for the API); a wait for a 429 (blocked_until) does not. */
static bool pacer_wait(struct pacer *p)
{
	double now, slot, paced = 0;

	pthread_mutex_lock(&p->lock);
	now = api_now();
	slot = now > p->blocked_until ? now : p->blocked_until;
	if (p->limit) {
		if (p->count == p->limit && p->ring[p->head] + 60.0 > slot)
			slot = p->ring[p->head] + 60.0;
		paced = slot - (now > p->blocked_until ? now
							   : p->blocked_until);
		p->ring[p->head] = slot;
		p->head = (p->head + 1) % p->limit;
		if (p->count < p->limit)
			p->count++;
	}
	pthread_mutex_unlock(&p->lock);
	tg_call_paced(tg_call_current(), paced);
	return api_sleep_until(slot);
}

static void pacer_block(struct pacer *p, double until)
{
	pthread_mutex_lock(&p->lock);
	if (until > p->blocked_until)
		p->blocked_until = until;
	pthread_mutex_unlock(&p->lock);
}

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
	if (!api->cfg.concurrency)
		api->cfg.concurrency = 1;
	if (!api->cfg.timeout_s)
		api->cfg.timeout_s = 30;
	if (!api->cfg.connect_timeout_s)
		api->cfg.connect_timeout_s = 10;
	pthread_mutex_init(&api->ops_lock, NULL);
	if (!pacer_init(&api->read, cfg->rate_read) ||
	    !pacer_init(&api->write, cfg->rate_write))
		goto fail;
	api->url = strdup(cfg->url);
	api->http = http_new(cfg->url, cfg->token, api->cfg.timeout_s,
			     api->cfg.connect_timeout_s);
	if (!api->http || !api->url)
		goto fail;
	if (api->cfg.concurrency > 1 &&
	    !(api->ahead = ahead_new(api, api->cfg.concurrency - 1)))
		goto fail;
	return api;
fail:
	http_free(api->http);
	free(api->url);
	pacer_destroy(&api->read);
	pacer_destroy(&api->write);
	free(api);
	return NULL;
}

const char *tg_api_url(struct tg_api *api)
{
	return api->url;
}

void tg_api_get_health(struct tg_api *api, struct tg_api_health *out)
{
	out->reachable = __atomic_load_n(&api->reachable, __ATOMIC_RELAXED);
	out->last_ok = __atomic_load_n(&api->last_ok, __ATOMIC_RELAXED);
	out->limited_until =
		__atomic_load_n(&api->limited_until, __ATOMIC_RELAXED);
}

void tg_api_set_health(struct tg_api *api, const struct tg_api_health *h)
{
	__atomic_store_n(&api->reachable, h->reachable, __ATOMIC_RELAXED);
	__atomic_store_n(&api->last_ok, h->last_ok, __ATOMIC_RELAXED);
	__atomic_store_n(&api->limited_until, h->limited_until,
			 __ATOMIC_RELAXED);
}

void tg_api_free(struct tg_api *api)
{
	if (!api)
		return;
	ahead_free(api->ahead); /* its helpers' curl handles go first */
	http_free(api->http);
	pthread_mutex_destroy(&api->ops_lock);
	pacer_destroy(&api->read);
	pacer_destroy(&api->write);
	free(api->url);
	free(api);
}

/* Counts one request of the operation that @doc declares. */
static void count_op(struct tg_api *api, const char *doc)
{
	const char *p = doc + strspn(doc, " ");
	size_t len, i;

	p += strcspn(p, " ");
	p += strspn(p, " ");
	len = strcspn(p, " ({");
	if (len >= sizeof(api->ops[0].name))
		len = sizeof(api->ops[0].name) - 1;
	pthread_mutex_lock(&api->ops_lock);
	for (i = 0; i < api->nops; i++)
		if (!strncmp(api->ops[i].name, p, len) &&
		    !api->ops[i].name[len])
			break;
	if (i == api->nops && i < TG_MAX_OPS) {
		memcpy(api->ops[i].name, p, len);
		api->ops[i].name[len] = '\0';
		api->nops++;
	}
	if (i < api->nops)
		api->ops[i].n++;
	pthread_mutex_unlock(&api->ops_lock);
}

size_t tg_api_get_ops(struct tg_api *api, char (*names)[56], uint64_t *counts,
		      size_t max)
{
	size_t n;

	pthread_mutex_lock(&api->ops_lock);
	n = api->nops < max ? api->nops : max;
	for (size_t i = 0; i < n; i++) {
		memcpy(names[i], api->ops[i].name, sizeof(names[i]));
		counts[i] = api->ops[i].n;
	}
	pthread_mutex_unlock(&api->ops_lock);
	return n;
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

/* True when every root field of @data is set (none nulled by an error). */
static bool all_set(const cJSON *data)
{
	const cJSON *f;

	cJSON_ArrayForEach(f, data)
		if (cJSON_IsNull(f))
			return false;
	return true;
}

/* Replaces string values under keys that name a secret, recursively. */
static void mask_secrets(cJSON *j)
{
	for (; j; j = j->next) {
		const char *k = j->string;

		if (cJSON_IsString(j) && k &&
		    (strcasestr(k, "token") || strcasestr(k, "secret") ||
		     strcasestr(k, "key")))
			cJSON_SetValuestring(j, "***");
		mask_secrets(j->child);
	}
}

/* With -d: one line per GraphQL operation, to see what a command cost. */
static void log_operation(const char *doc, const cJSON *vars, enum tg_err err,
			  long status, size_t bytes, unsigned tries,
			  const cJSON *data, double t0)
{
	const char *p = doc + strspn(doc, " ");
	char *v = NULL;
	cJSON *copy;
	int fields = data ? cJSON_GetArraySize(data) : 0;

	if (!tg_log_enabled(TG_LOG_DEBUG))
		return;
	p += strcspn(p, " ");
	p += strspn(p, " ");
	copy = vars ? cJSON_Duplicate(vars, true) : NULL;
	if (copy) {
		mask_secrets(copy->child);
		v = cJSON_PrintUnformatted(copy);
		cJSON_Delete(copy);
	}
	tg_log(TG_LOG_DEBUG, "graphql %.*s %s: %s, HTTP %ld, %zu bytes, "
	       "%d root fields (pages), %u tries, %.0f ms",
	       (int)strcspn(p, " ({"), p, v ? v : "{}", tg_err_str(err),
	       status, bytes, fields, tries, (api_now() - t0) * 1000);
	cJSON_free(v);
}

/* The data of an answer @root, or the error it carries (its message in
 * *@msg, if not NULL, and as this thread's last message). */
static enum tg_err take_answer(cJSON *root, cJSON **data, char **msg)
{
	const char *m;
	enum tg_err err = api_answer_err(root, &m);
	cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "data");

	/* errors[] next to complete data (a null node inside a list, say)
	 * is logged and the data used. */
	if (m && cJSON_IsObject(d) && all_set(d)) {
		tg_log(TG_LOG_WARN, "the API says (data kept): %s", m);
		m = NULL;
	}
	if (m) {
		tg_log(TG_LOG_WARN, "the API says: %s", m);
		set_message("%s", m);
		if (msg)
			*msg = strdup(m);
		return err;
	}
	if (!cJSON_IsObject(d))
		return TG_EPROTO;
	*data = cJSON_DetachItemViaPointer(root, d);
	return TG_OK;
}

/*
 * api_gql, and with @raw not NULL (a query) its first half: the body of
 * an answer is left unparsed in *@raw, for api_gql_take.
 */
static enum tg_err gql(struct tg_api *api, enum gql_kind kind,
		       const char *doc, cJSON *vars, cJSON **data, char **msg,
		       struct buf *raw)
{
	bool mutation = kind != GQL_QUERY;
	double t0 = api_now();
	long last_status = 0;
	size_t bytes = 0;
	/* Without an operation (a thread no user waits on), 429s are
	 * waited out up to max_wait as before operations had deadlines. */
	double no_op_bound = api_now() + (api->cfg.max_wait_set
					       ? api->cfg.max_wait_s : 120);
	struct tg_call *op = tg_call_current();
	struct pacer *pacer = mutation ? &api->write : &api->read;
	unsigned attempt = 0;
	enum tg_err err = TG_OK;
	char why[256];
	cJSON *body = NULL, *root = NULL;
	struct buf body_kept = { 0 };
	char *printed = NULL;

	*data = NULL;
	if (msg)
		*msg = NULL;
	last_message[0] = '\0';
	body = cJSON_CreateObject();
	if (!body || !cJSON_AddStringToObject(body, "query", doc))
		goto nomem;
	if (vars) {
		cJSON *copy = cJSON_Duplicate(vars, true);

		if (!copy || !cJSON_AddItemToObject(body, "variables", copy)) {
			cJSON_Delete(copy);
			goto nomem;
		}
	}
	printed = cJSON_PrintUnformatted(body);
	if (!printed)
		goto nomem;

	for (;;) {
		struct http_resp r;
		bool retry = false;
		double pause;

		if (!pacer_wait(pacer)) {
			err = TG_EINTR;
			goto out;
		}
		/* Nothing is sent that could not end within the call (a
		 * lost create looked up after its send used the time). */
		if (!tg_call_attempt(op, api_now(), api->cfg.timeout_s)) {
			set_message("%s", "no answer within the call's timeout");
			err = TG_ENET;
			goto out;
		}
		STAT_ADD(api, requests, 1);
		count_op(api, doc);
		STAT_ADD(api, queries, mutation ? 0 : 1);
		STAT_ADD(api, mutations, mutation ? 1 : 0);
		err = http_post(api->http, printed, mutation, &r, why,
				sizeof(why));
		STAT_ADD(api, bytes, r.body.len);
		bytes += r.body.len;
		last_status = r.status;
		if (err == TG_EINTR) {
			/* The caller is gone; what the API is like is not
			 * known from that. */
			set_message("%s", "interrupted");
			goto out;
		}
		__atomic_store_n(&api->reachable, err != TG_ENET,
				 __ATOMIC_RELAXED);
		if (err == TG_OK && r.status > 0 && r.status < 500 &&
		    r.status != 429)
			__atomic_store_n(&api->last_ok, (int64_t)time(NULL),
					 __ATOMIC_RELAXED);
		if (err == TG_ENET) {
			tg_log(TG_LOG_WARN, "request failed: %s", why);
			set_message("request failed: %s", why);
			retry = true;
		} else if (err != TG_OK) {
			tg_log(TG_LOG_WARN, "bad response: %s", why);
			retry = true;
		} else if (r.status == 429) {
			double wait = r.retry_after >= 0 ? r.retry_after : 60;
			double until = api_now() + (wait < 1 ? 1 : wait);

			STAT_ADD(api, rate_limited, 1);
			buf_release(&r.body);
			__atomic_store_n(&api->limited_until,
					 (int64_t)(time(NULL) + wait),
					 __ATOMIC_RELAXED);
			set_message("%s", "rate limited (HTTP 429)");
			if (!tg_call_rate_wait(op, until,
					     no_op_bound)) {
				tg_log(TG_LOG_WARN, "rate limited for %.0f s, "
				       "more than this call may wait", wait);
				err = TG_ERATE;
				goto out;
			}
			tg_log(TG_LOG_INFO, "rate limited: waiting %.0f s",
			       wait);
			pacer_block(pacer, until);
			continue; /* not a failure: no attempt counted */
		} else if (r.status == 401 || r.status == 403) {
			buf_release(&r.body);
			set_message("%s", "the API refused the token");
			err = TG_EAUTH;
			goto out;
		} else if (r.status >= 500) {
			tg_log(TG_LOG_WARN, "server error: HTTP %ld", r.status);
			snprintf(last_message, sizeof(last_message),
				 "server error: HTTP %ld", r.status);
			err = TG_ESERVER;
			retry = true;
		} else if (raw) {
			body_kept = r.body; /* parsed by api_gql_take */
			r.body = (struct buf){ 0 };
		} else {
			root = cJSON_ParseWithLength(r.body.s ? r.body.s : "",
						     r.body.len);
			if (!root) {
				tg_log(TG_LOG_WARN, "unreadable response "
				       "(HTTP %ld, %zu bytes)", r.status,
				       r.body.len);
				set_message("%s", "unreadable response");
				err = TG_EPROTO;
				retry = true;
			}
		}
		buf_release(&r.body);
		if (!retry)
			break;
		/* A mutation whose answer was lost may have taken effect:
		 * only one that sets a value may go again. */
		if (kind == GQL_MUTATION || attempt >= api->cfg.retries)
			goto out;
		/* The first send of a value that timed out may still be
		 * running at the API: it gets one more timeout to finish,
		 * so that it cannot land after a later write of the same
		 * value (ln, rm, ln again). */
		pause = kind == GQL_MUTATION_IDEMPOTENT && r.timed_out
				? api->cfg.timeout_s
				: 0.2 * pow(2, attempt);
		/* The operation's time is up: no try is made that could
		 * not end within it. */
		if (!tg_call_may_retry(op, api_now(), pause)) {
			tg_log(TG_LOG_WARN, "no more tries: this call has waited "
			       "%.1f s for the API", api_now() - t0);
			goto out;
		}
		attempt++;
		STAT_ADD(api, retries, 1);
		if (!api_sleep_until(api_now() + pause)) {
			err = TG_EINTR;
			goto out;
		}
	}

	if (raw) {
		*raw = body_kept;
		body_kept = (struct buf){ 0 };
		err = TG_OK;
		goto out;
	}
	err = take_answer(root, data, msg);
out:
	if (err != TG_OK && err != TG_EINTR)
		STAT_ADD(api, failures, 1);
	log_operation(doc, vars, err, last_status, bytes, attempt + 1, *data,
		      t0);
	cJSON_Delete(root);
	cJSON_Delete(body);
	cJSON_free(printed);
	buf_release(&body_kept);
	return err;
nomem:
	err = TG_ENOMEM;
	goto out;
}

enum tg_err api_gql(struct tg_api *api, enum gql_kind kind, const char *doc,
		    cJSON *vars, cJSON **data, char **msg)
{
	return gql(api, kind, doc, vars, data, msg, NULL);
}

enum tg_err api_gql_body(struct tg_api *api, const char *doc,
			 struct buf *body)
{
	cJSON *none;

	*body = (struct buf){ 0 };
	return gql(api, GQL_QUERY, doc, NULL, &none, NULL, body);
}

enum tg_err api_gql_take(struct tg_api *api, const char *doc,
			 struct buf *body, cJSON **data)
{
	cJSON *root = cJSON_ParseWithLength(body->s ? body->s : "", body->len);
	enum tg_err err;

	*data = NULL;
	buf_release(body);
	if (!root) {
		/* As api_gql does with an unreadable body: once more. */
		tg_log(TG_LOG_WARN, "unreadable response to a request sent "
		       "ahead: sending it again");
		STAT_ADD(api, retries, 1);
		return api_gql(api, GQL_QUERY, doc, NULL, data, NULL);
	}
	err = take_answer(root, data, NULL);
	if (err != TG_OK)
		STAT_ADD(api, failures, 1);
	cJSON_Delete(root);
	return err;
}

enum tg_err tg_api_check(struct tg_api *api, char **msg)
{
	cJSON *data = NULL;
	enum tg_err err;
	char *m = NULL;

	if (msg)
		*msg = NULL;
	err = api_gql(api, GQL_QUERY,
		  "query tgfsCheck { remoteNetworks(first: 1) { totalCount } }",
		  NULL, &data, &m);
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

enum tg_err api_gql_parts(struct tg_api *api, const char *doc, cJSON **data,
			  cJSON **errors, char **msg)
{
	cJSON *root = NULL, *d;
	enum tg_err err;

	*data = NULL;
	*errors = NULL;
	if (msg)
		*msg = NULL;
	for (int i = 0; i < 2 && !root; i++) {
		struct buf body;

		if (i) {
			/* As api_gql does with an unreadable body. */
			tg_log(TG_LOG_WARN, "unreadable response: sending "
			       "it again");
			STAT_ADD(api, retries, 1);
		}
		err = api_gql_body(api, doc, &body);
		if (err != TG_OK)
			return err;
		root = cJSON_ParseWithLength(body.s ? body.s : "", body.len);
		buf_release(&body);
	}
	if (!root) {
		set_message("%s", "unreadable response");
		STAT_ADD(api, failures, 1);
		return TG_EPROTO;
	}
	d = cJSON_GetObjectItemCaseSensitive(root, "data");
	if (cJSON_IsObject(d)) {
		cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "errors");

		*data = cJSON_DetachItemViaPointer(root, d);
		if (cJSON_IsArray(e))
			*errors = cJSON_DetachItemViaPointer(root, e);
		cJSON_Delete(root);
		return TG_OK;
	}
	/* No data: the request's error (take_answer sets no data). */
	err = take_answer(root, data, msg);
	if (err == TG_OK)
		err = TG_EPROTO;
	STAT_ADD(api, failures, 1);
	cJSON_Delete(root);
	return err;
}
