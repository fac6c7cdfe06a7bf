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
	struct ahead *ahead; /* NULL with concurrency 1 */
	struct tg_api_config cfg;
	unsigned page_size; /* current; halved once if the API refuses it */
	struct pacer read, write;
	struct tg_api_stats stats;
	/* requests per operation name ("tgfsList_devices"), for stats */
	pthread_mutex_t ops_lock;
	struct {
		char name[56];
		uint64_t n;
	} ops[TG_MAX_OPS];
	size_t nops;
	char *url;
	/* health, updated atomically */
	int reachable;
	int64_t last_ok, limited_until;
};

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
	       status, bytes, fields, tries, (now_mono() - t0) * 1000);
	cJSON_free(v);
}

/* The data of an answer @root, or the error it carries (its message in
 * *@msg, if not NULL, and as this thread's last message). */
static enum tg_err take_answer(cJSON *root, cJSON **data, char **msg)
{
	const char *m = first_error(root);
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
		return classify_message(m);
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
	double t0 = now_mono();
	long last_status = 0;
	size_t bytes = 0;
	double deadline = now_mono() + api->cfg.max_wait_s;
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

		pacer_wait(pacer);
		STAT_ADD(api, requests, 1);
		count_op(api, doc);
		STAT_ADD(api, queries, mutation ? 0 : 1);
		STAT_ADD(api, mutations, mutation ? 1 : 0);
		err = http_post(api->http, printed, mutation, &r, why,
				sizeof(why));
		STAT_ADD(api, bytes, r.body.len);
		bytes += r.body.len;
		last_status = r.status;
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
			double until = now_mono() + (wait < 1 ? 1 : wait);

			STAT_ADD(api, rate_limited, 1);
			buf_release(&r.body);
			__atomic_store_n(&api->limited_until,
					 (int64_t)(time(NULL) + wait),
					 __ATOMIC_RELAXED);
			set_message("%s", "rate limited (HTTP 429)");
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
		attempt++;
		STAT_ADD(api, retries, 1);
		if (kind == GQL_MUTATION_IDEMPOTENT && r.timed_out) {
			/* The first send may still be running at the API:
			 * give it one more timeout to finish, so that it
			 * cannot land after a later write of the same
			 * value (ln, rm, ln again). */
			sleep_until(now_mono() + api->cfg.timeout_s);
		} else {
			sleep_until(now_mono() + 0.2 * pow(2, attempt - 1));
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
	if (err != TG_OK)
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

/* Ids and cursors go into documents as literals: only base64 and the
 * like, so a hostile answer cannot inject GraphQL. */
static bool safe_literal(const char *s)
{
	return *s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
			       "tuvwxyz0123456789+/=_-:.") == strlen(s);
}

/* Appends the selection of one node of @kind, nested connections
 * included, pages of @first. */
bool api_selection(struct buf *doc, const struct tg_kind *kind,
			  unsigned first)
{
	if (!buf_add(doc, kind->selection, strlen(kind->selection)))
		return false;
	for (size_t i = 0; i < kind->nconns; i++) {
		const struct tg_conn *c = &kind->conns[i];
		const struct tg_kind *child = tg_kind_embedded(kind);

		if (!buf_addf(doc, " %s(first: %u) { totalCount pageInfo { "
			      "hasNextPage endCursor } edges { node { ",
			      c->field, first))
			return false;
		if (c->node_sel ? !buf_add(doc, c->node_sel, strlen(c->node_sel))
				: !api_selection(doc, child, first))
			return false;
		if (!buf_add(doc, " } } }", 6))
			return false;
	}
	return true;
}

/* Appends one aliased page of @kind's root list to @doc. */
static bool add_page(struct buf *doc, const struct tg_kind *kind,
		     unsigned alias, unsigned first, const char *after,
		     const char *filter)
{
	return buf_addf(doc, " p%u: %s(first: %u%s%s%s%s%s) { totalCount "
			"pageInfo { hasNextPage endCursor } edges { node { ",
			alias, kind->list_field, first,
			after ? ", after: \"" : "", after ? after : "",
			after ? "\"" : "", filter ? ", filter: " : "",
			filter ? filter : "") &&
	       api_selection(doc, kind, first) && buf_add(doc, " } } }", 6);
}

/* A node waiting for the later pages of its nested connections. */
struct pending {
	cJSON *node;
	size_t slot; /* its place in the list */
};

/* A list being fetched. */
struct lister {
	struct tg_api *api;
	const struct tg_kind *kind;
	unsigned first;
	struct tg_list *out;
	struct pending *pending;
	size_t npending;
	/* Objects with nested pages left go in the list with their first
	 * nested page (else their slot stays empty until completed). */
	bool partial;
};

/* What a partial listing left to fetch (tg_api_list_partial). */
struct tg_pending {
	const struct tg_kind *kind;
	unsigned first;
	struct pending *pending;
	size_t npending;
};

/* True when a nested connection of @node has pages left. */
static bool incomplete(const struct tg_kind *kind, const cJSON *node)
{
	for (size_t i = 0; i < kind->nconns; i++)
		if (cJSON_IsTrue(json_at(json_at(node, kind->conns[i].field),
					 "pageInfo.hasNextPage")))
			return true;
	return false;
}

/* Takes the nodes of @page into the list.  Nodes whose nested connections
 * have more pages are kept as JSON (detached from @page) until those
 * pages are in. */
static enum tg_err take_nodes(struct lister *l, cJSON *page)
{
	cJSON *edges = json_at(page, "edges"), *edge;
	struct tg_object *items;
	size_t n;

	if (!cJSON_IsArray(edges))
		return TG_EPROTO;
	n = (size_t)cJSON_GetArraySize(edges);
	items = realloc(l->out->items, (l->out->n + n + 1) * sizeof(*items));
	if (!items)
		return TG_ENOMEM;
	l->out->items = items;
	cJSON_ArrayForEach(edge, edges) {
		cJSON *node = json_at(edge, "node");
		struct tg_object *slot = &l->out->items[l->out->n];
		enum tg_err err;

		/* A node the server could not resolve comes back null. */
		if (!cJSON_IsObject(node))
			continue;
		if (incomplete(l->kind, node) &&
		    cJSON_IsString(json_at(node, "id"))) {
			struct pending *p = realloc(l->pending,
				(l->npending + 1) * sizeof(*p));

			if (!p)
				return TG_ENOMEM;
			l->pending = p;
			memset(slot, 0, sizeof(*slot));
			if (l->partial) {
				/* Building flattens the node: build from a
				 * copy, keep the node for its later pages. */
				cJSON *copy = cJSON_Duplicate(node, true);

				err = copy ? object_from_node(l->kind, copy,
							      slot)
					   : TG_ENOMEM;
				cJSON_Delete(copy);
				if (err != TG_OK)
					return err;
			}
			p[l->npending].node =
				cJSON_DetachItemViaPointer(edge, node);
			p[l->npending++].slot = l->out->n;
			l->out->n++;
			continue;
		}
		err = object_from_node(l->kind, node, slot);
		if (err != TG_OK)
			return err;
		l->out->n++;
	}
	return TG_OK;
}

/* One later page of a nested connection, as planned. */
struct nested_page {
	size_t pending;
	size_t conn;
};

/* Fetches the remaining pages of every pending node's nested connections
 * (offset cursors: all addressable at once, batch_pages to a request),
 * then turns the nodes into objects. */
/* Counts in answers are bounded: no connection here holds more objects,
 * and a bigger count (or one that is not a count) is a broken or hostile
 * answer, refused rather than planned for. */
#define TG_MAX_COUNT 1000000

static bool count_of(const cJSON *v, long *out)
{
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) ||
	    v->valuedouble > TG_MAX_COUNT)
		return false;
	*out = (long)v->valuedouble;
	return true;
}

/*
 * Puts the completed object @full into @slot: all of it into an empty
 * slot; into a partial object, only what the nested pages change, so that
 * its id, name, parent and mtime (which readers of a partial list use
 * without a lock) stay where they are.  @full is spent.
 */
static void take_nested(struct tg_object *slot, struct tg_object *full)
{
	struct tg_object old;

	if (!slot->id) {
		*slot = *full;
		return;
	}
	old = *slot;
	slot->values = full->values;
	slot->lens = full->lens;
	slot->json = full->json;
	slot->packed = full->packed;
	slot->packed_size = full->packed_size;
	slot->json_len = full->json_len;
	slot->hash = full->hash;
	slot->links = full->links;
	slot->children = full->children;
	full->values = old.values;
	full->lens = old.lens;
	full->json = old.json;
	full->packed = old.packed;
	full->links = old.links;
	full->children = old.children;
	tg_object_release(full);
}

/* The later nested pages of a listing's objects, being fetched. */
struct nested_run {
	struct lister *l;
	const struct nested_page *plan;
	const long *offsets;
	size_t nplan;
};

/* Planned pages that request @b asks for: from *@done on. */
static size_t nested_of(const struct nested_run *r, size_t b, size_t *done)
{
	size_t bp = r->l->api->cfg.batch_pages;

	*done = b * bp;
	return r->nplan - *done < bp ? r->nplan - *done : bp;
}

/* Makes request @b: batch_pages of the planned nested pages, aliased. */
static bool make_nested(void *ctx, size_t b, struct buf *doc)
{
	const struct nested_run *r = ctx;
	const struct lister *l = r->l;
	const struct tg_kind *kind = l->kind;
	size_t done, batch = nested_of(r, b, &done);

	if (!buf_addf(doc, "query tgfsNested_%s {", kind->list_field))
		return false;
	for (size_t k = 0; k < batch; k++) {
		const struct nested_page *np = &r->plan[done + k];
		const struct tg_conn *c = &kind->conns[np->conn];
		char after[64];

		offset_cursor(r->offsets[done + k] - 1, after, sizeof(after));
		if (!buf_addf(doc, " n%zu: %s(id: \"%s\") { %s(first: %u, "
			      "after: \"%s\") { edges { node { ", k,
			      kind->one_field,
			      json_at(l->pending[np->pending].node,
				      "id")->valuestring,
			      c->field, l->first, after) ||
		    !(c->node_sel ? buf_add(doc, c->node_sel,
					    strlen(c->node_sel))
				  : api_selection(doc, tg_kind_embedded(kind),
						  l->first)) ||
		    !buf_add(doc, " } } } }", 8))
			return false;
	}
	return buf_add(doc, " }", 2);
}

/* Takes the answer to request @b: each page's edges go to the end of its
 * object's connection. */
static enum tg_err take_nested_pages(void *ctx, size_t b, cJSON *data)
{
	const struct nested_run *r = ctx;
	const struct lister *l = r->l;
	size_t done, batch = nested_of(r, b, &done);

	STAT_ADD(l->api, pages, batch);
	for (size_t k = 0; k < batch; k++) {
		const struct nested_page *np = &r->plan[done + k];
		const char *field = l->kind->conns[np->conn].field;
		char alias[32];
		cJSON *edges, *dst, *e;

		snprintf(alias, sizeof(alias), "n%zu", k);
		edges = json_at(json_at(json_at(data, alias), field), "edges");
		dst = json_at(json_at(l->pending[np->pending].node, field),
			      "edges");
		if (!cJSON_IsArray(edges) || !cJSON_IsArray(dst))
			return TG_EPROTO;
		while ((e = edges->child))
			cJSON_AddItemToArray(dst,
					     cJSON_DetachItemViaPointer(edges,
									e));
	}
	return TG_OK;
}

static enum tg_err complete_pending(struct lister *l)
{
	const struct tg_kind *kind = l->kind;
	struct nested_page *plan = NULL;
	size_t nplan = 0;
	enum tg_err err = TG_OK;
	long *offsets = NULL;

	/* Plan: one entry per missing page. */
	for (size_t i = 0; i < l->npending; i++) {
		const char *id = json_at(l->pending[i].node, "id")->valuestring;

		if (!safe_literal(id)) {
			err = TG_EPROTO;
			goto out;
		}
		for (size_t c = 0; c < kind->nconns; c++) {
			cJSON *conn = json_at(l->pending[i].node,
					      kind->conns[c].field);
			cJSON *total = json_at(conn, "totalCount");
			long have = cJSON_GetArraySize(json_at(conn, "edges"));
			long n;

			if (!cJSON_IsTrue(json_at(conn, "pageInfo.hasNextPage")) ||
			    !cJSON_IsNumber(total))
				continue;
			if (!count_of(total, &n)) {
				tg_log(TG_LOG_WARN, "a %s with an implausible "
				       "count of %s", kind->type_name,
				       kind->conns[c].field);
				err = TG_EPROTO;
				goto out;
			}
			for (long off = have; off < n; off += l->first) {
				struct nested_page *np = realloc(plan,
					(nplan + 1) * sizeof(*np));
				long *no = realloc(offsets,
					(nplan + 1) * sizeof(*no));

				if (np)
					plan = np;
				if (no)
					offsets = no;
				if (!np || !no) {
					err = TG_ENOMEM;
					goto out;
				}
				plan[nplan].pending = i;
				plan[nplan].conn = c;
				offsets[nplan++] = off;
			}
		}
	}
	{
		struct nested_run r = { l, plan, offsets, nplan };
		unsigned bp = l->api->cfg.batch_pages;

		err = ahead_run(l->api, l->api->ahead, (nplan + bp - 1) / bp,
				l->api->cfg.concurrency, make_nested,
				take_nested_pages, &r);
		if (err != TG_OK)
			goto out;
	}
	for (size_t i = 0; i < l->npending; i++) {
		struct tg_object *slot = &l->out->items[l->pending[i].slot];
		struct tg_object full;

		err = object_from_node(kind, l->pending[i].node, &full);
		if (err != TG_OK)
			goto out;
		take_nested(slot, &full);
	}
out:
	free(plan);
	free(offsets);
	return err;
}

static void lister_release(struct lister *l)
{
	for (size_t i = 0; i < l->npending; i++)
		cJSON_Delete(l->pending[i].node);
	free(l->pending);
	l->pending = NULL;
	l->npending = 0;
}

/* Takes page p<alias> of @data; reports its page info. */
static enum tg_err take_page(struct lister *l, cJSON *data, unsigned alias,
			     bool *has_next, char *end_cursor, size_t ecsz,
			     long *total)
{
	char name[16];
	cJSON *page, *v;

	snprintf(name, sizeof(name), "p%u", alias);
	page = cJSON_GetObjectItemCaseSensitive(data, name);
	if (!cJSON_IsObject(page))
		return TG_EPROTO;
	v = json_at(page, "pageInfo.hasNextPage");
	*has_next = cJSON_IsTrue(v);
	v = json_at(page, "pageInfo.endCursor");
	end_cursor[0] = '\0';
	if (cJSON_IsString(v) && strlen(v->valuestring) < ecsz &&
	    safe_literal(v->valuestring))
		strcpy(end_cursor, v->valuestring);
	v = json_at(page, "totalCount");
	if (total && cJSON_IsNumber(v) && !count_of(v, total))
		return TG_EPROTO;
	return take_nodes(l, page);
}

/* True when the API's message says our page size is over its limit. */
static bool page_size_refused(const char *msg)
{
	return msg && strstr(msg, "first") && strstr(msg, "limit");
}

/*
 * Sends the first page (with @filter and @vars, if any), halving the page
 * size once if the API refuses it.
 */
static enum tg_err first_page(struct lister *l, const char *filter,
			      cJSON *vars, const char *vdecl, bool *has_next,
			      char *cursor, size_t csz, long *total)
{
	struct buf doc = { 0 };
	cJSON *data = NULL;
	bool halved = false;
	enum tg_err err;
	char *msg = NULL;

again:
	l->first = tg_api_page_size(l->api);
	doc.len = 0;
	if (!buf_addf(&doc, "query tgfs%s_%s%s {", filter ? "Find" : "List",
		      l->kind->list_field, vdecl ? vdecl : "") ||
	    !add_page(&doc, l->kind, 0, l->first, NULL, filter) ||
	    !buf_add(&doc, " }", 2)) {
		err = TG_ENOMEM;
		goto out;
	}
	err = api_gql(l->api, GQL_QUERY, doc.s, vars, &data, &msg);
	if (err == TG_EQUERY && !halved && l->first > 1 &&
	    page_size_refused(msg)) {
		/* Keep the smaller size for every later request. */
		__atomic_store_n(&l->api->page_size, l->first / 2,
				 __ATOMIC_RELAXED);
		tg_log(TG_LOG_WARN, "page size %u refused: using %u", l->first,
		       l->first / 2);
		halved = true;
		free(msg);
		msg = NULL;
		goto again;
	}
	if (err != TG_OK)
		goto out;
	STAT_ADD(l->api, pages, 1);
	err = take_page(l, data, 0, has_next, cursor, csz, total);
out:
	cJSON_Delete(data);
	buf_release(&doc);
	free(msg);
	return err;
}

/* Follows endCursor one page at a time (objects added during a listing,
 * or a server whose cursors are not offsets). */
static enum tg_err follow_cursor(struct lister *l, const char *filter,
				 cJSON *vars, const char *vdecl, bool has_next,
				 char *cursor, size_t csz)
{
	struct buf doc = { 0 };
	enum tg_err err = TG_OK;
	cJSON *data = NULL;

	while (has_next && cursor[0]) {
		char after[256];

		snprintf(after, sizeof(after), "%s", cursor);
		doc.len = 0;
		if (!buf_addf(&doc, "query tgfsListMore_%s%s {",
			      l->kind->list_field, vdecl ? vdecl : "") ||
		    !add_page(&doc, l->kind, 0, l->first, after, filter) ||
		    !buf_add(&doc, " }", 2)) {
			err = TG_ENOMEM;
			break;
		}
		err = api_gql(l->api, GQL_QUERY, doc.s, vars, &data, NULL);
		if (err != TG_OK)
			break;
		STAT_ADD(l->api, pages, 1);
		err = take_page(l, data, 0, &has_next, cursor, csz, NULL);
		cJSON_Delete(data);
		data = NULL;
		if (err != TG_OK)
			break;
	}
	buf_release(&doc);
	return err;
}

enum tg_err tg_api_list(struct tg_api *api, const struct tg_kind *kind,
			struct tg_list *out)
{
	return tg_api_list_partial(api, kind, out, NULL);
}

void tg_pending_free(struct tg_pending *p)
{
	struct lister l;

	if (!p)
		return;
	l = (struct lister){ .pending = p->pending, .npending = p->npending };
	lister_release(&l);
	free(p);
}

enum tg_err tg_api_complete(struct tg_api *api, struct tg_list *list,
			    struct tg_pending *p)
{
	struct lister l;
	enum tg_err err;

	if (!p)
		return TG_OK;
	l = (struct lister){ .api = api, .kind = p->kind, .first = p->first,
			     .out = list, .pending = p->pending,
			     .npending = p->npending };
	free(p);
	err = complete_pending(&l);
	lister_release(&l);
	return err;
}

static const char *pending_id(const struct pending *p)
{
	const cJSON *id = json_at(p->node, "id");

	return cJSON_IsString(id) ? id->valuestring : "";
}

/* Where object @id is in @p; p->npending when it lacks nothing. */
static size_t pending_index(const struct tg_pending *p, const char *id)
{
	size_t i = 0;

	while (i < p->npending && strcmp(pending_id(&p->pending[i]), id))
		i++;
	return i;
}

bool tg_pending_has(const struct tg_pending *p, const char *id)
{
	return p && pending_index(p, id) < p->npending;
}

bool tg_pending_empty(const struct tg_pending *p)
{
	return !p || p->npending == 0;
}

enum tg_err tg_api_complete_one(struct tg_api *api, struct tg_list *list,
				struct tg_pending *p, const char *id)
{
	struct lister l;
	struct pending *one;
	enum tg_err err;
	size_t i;

	if (!p || (i = pending_index(p, id)) == p->npending)
		return TG_OK;
	one = malloc(sizeof(*one));
	if (!one)
		return TG_ENOMEM;
	*one = p->pending[i];
	p->pending[i] = p->pending[--p->npending];
	l = (struct lister){ .api = api, .kind = p->kind, .first = p->first,
			     .out = list, .pending = one, .npending = 1 };
	err = complete_pending(&l);
	lister_release(&l);
	return err;
}

/* The later pages of a root list, being fetched. */
struct pages_run {
	struct lister *l;
	long total;
	bool *has_next; /* the last page's page info */
	char *cursor;
	size_t csz;
};

/* Pages (after the first) that request @b asks for: from *@from. */
static unsigned pages_of(const struct pages_run *r, size_t b, long *from)
{
	unsigned bp = r->l->api->cfg.batch_pages, n = 0;
	long first = (long)r->l->first;

	*from = first + (long)(b * bp) * first;
	while (n < bp && *from + (long)n * first < r->total)
		n++;
	return n;
}

/* Makes request @b: batch_pages pages of the list, aliased p0, p1... */
static bool make_pages(void *ctx, size_t b, struct buf *doc)
{
	const struct pages_run *r = ctx;
	const struct tg_kind *kind = r->l->kind;
	long from;
	unsigned n = pages_of(r, b, &from);

	if (!buf_addf(doc, "query tgfsListPages_%s {", kind->list_field))
		return false;
	for (unsigned k = 0; k < n; k++) {
		char after[64];

		offset_cursor(from + (long)k * r->l->first - 1, after,
			      sizeof(after));
		if (!add_page(doc, kind, k, r->l->first, after, NULL))
			return false;
	}
	return buf_add(doc, " }", 2);
}

static enum tg_err take_pages(void *ctx, size_t b, cJSON *data)
{
	const struct pages_run *r = ctx;
	long from;
	unsigned n = pages_of(r, b, &from);
	enum tg_err err = TG_OK;

	STAT_ADD(r->l->api, pages, n);
	for (unsigned k = 0; k < n && err == TG_OK; k++)
		err = take_page(r->l, data, k, r->has_next, r->cursor, r->csz,
				NULL);
	return err;
}

enum tg_err tg_api_list_partial(struct tg_api *api, const struct tg_kind *kind,
				struct tg_list *out, struct tg_pending **pending)
{
	struct lister l = { .api = api, .kind = kind, .out = out,
			    .partial = pending != NULL };
	enum tg_err err;
	char cursor[256], expect[64];
	bool has_next = false;
	long total = 0;

	memset(out, 0, sizeof(*out));
	if (pending)
		*pending = NULL;
	if (!kind->list_field)
		return TG_EINVAL;
	err = first_page(&l, NULL, NULL, NULL, &has_next, cursor,
			 sizeof(cursor), &total);
	if (err != TG_OK)
		goto out;

	/* Offset cursors let us ask for every remaining page at once. */
	offset_cursor((long)l.first - 1, expect, sizeof(expect));
	if (has_next && strcmp(cursor, expect) == 0 && total > (long)l.first) {
		struct pages_run r = { &l, total, &has_next, cursor,
				       sizeof(cursor) };
		long pages = (total - 1) / l.first; /* after the first */
		unsigned bp = api->cfg.batch_pages;

		err = ahead_run(api, api->ahead, (pages + bp - 1) / bp,
				api->cfg.concurrency, make_pages, take_pages,
				&r);
		if (err != TG_OK)
			goto out;
	}
	err = follow_cursor(&l, NULL, NULL, NULL, has_next, cursor,
			    sizeof(cursor));
	if (err == TG_OK && l.npending && l.partial) {
		struct tg_pending *p = malloc(sizeof(*p));

		if (!p) {
			err = TG_ENOMEM;
			goto out;
		}
		*p = (struct tg_pending){ kind, l.first, l.pending,
					  l.npending };
		l.pending = NULL;
		l.npending = 0;
		*pending = p;
	} else if (err == TG_OK && l.npending) {
		err = complete_pending(&l);
	}
out:
	lister_release(&l);
	if (err != TG_OK)
		tg_list_release(out);
	return err;
}

enum tg_err tg_api_lookup(struct tg_api *api, const struct tg_kind *kind,
			  const char *name, struct tg_list *out)
{
	struct lister l = { .api = api, .kind = kind, .out = out };
	struct buf doc = { 0 };
	cJSON *vars = NULL, *data = NULL;
	enum tg_err err = TG_ENOMEM;
	char cursor[256], filter[96];
	bool has_next = false;

	memset(out, 0, sizeof(*out));
	vars = cJSON_CreateObject();
	if (!vars || !cJSON_AddStringToObject(vars, "v", name))
		goto out;
	if (kind->lookup == TG_LOOKUP_ID) {
		cJSON *node;

		l.first = tg_api_page_size(api);
		if (!buf_addf(&doc, "query tgfsGet_%s($v: ID!) { o: %s(id: $v) "
			      "{ ", kind->one_field, kind->one_field) ||
		    !api_selection(&doc, kind, l.first) ||
		    !buf_add(&doc, " } }", 4))
			goto out;
		err = api_gql(api, GQL_QUERY, doc.s, vars, &data, NULL);
		if (err == TG_EINVAL) { /* "Unable to parse global ID" */
			err = TG_OK;
			goto out;
		}
		if (err != TG_OK)
			goto out;
		node = json_at(data, "o");
		if (!cJSON_IsObject(node)) {
			err = TG_OK; /* unknown id: no such object */
			goto out;
		}
		/* Shaped as a page of one, so nested pages work alike. */
		{
			cJSON *page = cJSON_CreateObject();
			cJSON *edges = cJSON_AddArrayToObject(page, "edges");
			cJSON *edge = cJSON_CreateObject();

			if (!page || !edges || !edge) {
				cJSON_Delete(page);
				cJSON_Delete(edge);
				err = TG_ENOMEM;
				goto out;
			}
			cJSON_AddItemToArray(edges, edge);
			cJSON_AddItemToObject(
				edge, "node",
				cJSON_DetachItemViaPointer(data, node));
			err = take_nodes(&l, page);
			cJSON_Delete(page);
		}
	} else {
		if (!kind->list_field) {
			err = TG_EINVAL;
			goto out;
		}
		snprintf(filter, sizeof(filter), "{%s: {eq: $v}}",
			 kind->name_path);
		err = first_page(&l, filter, vars, "($v: String!)", &has_next,
				 cursor, sizeof(cursor), NULL);
		if (err == TG_OK)
			err = follow_cursor(&l, filter, vars, "($v: String!)",
					    has_next, cursor, sizeof(cursor));
	}
	if (err == TG_OK && l.npending)
		err = complete_pending(&l);
out:
	lister_release(&l);
	if (err != TG_OK)
		tg_list_release(out);
	cJSON_Delete(vars);
	cJSON_Delete(data);
	buf_release(&doc);
	return err;
}
