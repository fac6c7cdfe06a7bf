/*
 * paging.c - reading a whole collection of the Admin API (tg_api_list,
 * tg_api_list_partial) and looking one object up (tg_api_lookup).
 *
 * The first page tells the total, and halves the page size once if the
 * API refuses it (or until one page fits the API's cost limit); it may
 * carry other lists' first pages (tg_api_list_with, first.c).  Since
 * cursors are offsets (base64 "arrayconnection:N"), the remaining pages
 * are addressable at once and go out as aliases, as many to a request as
 * the window says (window.c: it grows from batch_pages while answers
 * come fast and whole, halves on one too big), up to `concurrency`
 * requests at once (ahead.c).  After them (objects added meanwhile), or when the cursors
 * are not offsets, endCursor is followed one page at a time.  Nodes whose
 * nested connections have pages left wait in the lister for nested.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "schema_int.h"

/* base64 of "arrayconnection:<offset>", the API's offset cursor. */
void api_offset_cursor(long offset, char *out, size_t outsz)
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
bool api_safe_literal(const char *s)
{
	return *s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
			       "tuvwxyz0123456789+/=_-:.") == strlen(s);
}

/* Appends the selection of one node of @kind, nested connections
 * included, pages of @first. */
bool api_selection(struct buf *doc, const struct tg_kind *kind,
		   unsigned first)
{
	const char *sel = schema_kind_selection(kind);

	if (!buf_add(doc, sel, strlen(sel)))
		return false;
	for (size_t i = 0; i < kind->nconns; i++) {
		const struct tg_conn *c = &kind->conns[i];
		const struct tg_kind *child = tg_kind_embedded(kind);
		const char *node_sel = schema_conn_selection(kind, i);

		if (!schema_conn_present(kind, i))
			continue; /* the live schema lacks it */
		if (!buf_addf(doc, " %s(first: %u) { totalCount pageInfo { "
			      "hasNextPage endCursor } edges { %s%snode { ",
			      c->field, first, c->edge_sel ? c->edge_sel : "",
			      c->edge_sel ? " " : ""))
			return false;
		if (node_sel ? !buf_add(doc, node_sel, strlen(node_sel))
				: !api_selection(doc, child, first))
			return false;
		if (!buf_add(doc, " } } }", 6))
			return false;
	}
	return true;
}

bool api_add_page(struct buf *doc, const struct tg_kind *kind,
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

/* Counts in answers are bounded (TG_MAX_COUNT, internal.h). */
bool api_count_of(const cJSON *v, long *out)
{
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) ||
	    v->valuedouble > TG_MAX_COUNT)
		return false;
	*out = (long)v->valuedouble;
	return true;
}

enum tg_err api_take_page(struct lister *l, cJSON *data, unsigned alias,
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
	    api_safe_literal(v->valuestring))
		strcpy(end_cursor, v->valuestring);
	v = json_at(page, "totalCount");
	if (total && cJSON_IsNumber(v) && !api_count_of(v, total))
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
 * size once if the API refuses it, and as often as needed while the API
 * finds one page too big (a query cost limit: nested pages multiply).
 */
enum tg_err api_first_page(struct lister *l, const char *filter,
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
	    !api_add_page(&doc, l->kind, 0, l->first, NULL, filter) ||
	    !buf_add(&doc, " }", 2)) {
		err = TG_ENOMEM;
		goto out;
	}
	err = api_gql(l->api, GQL_QUERY, doc.s, vars, &data, &msg);
	if (err == TG_EQUERY && l->first > 1 &&
	    ((!halved && page_size_refused(msg)) || window_too_big(msg))) {
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
	err = api_take_page(l, data, 0, has_next, cursor, csz, total);
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
		    !api_add_page(&doc, l->kind, 0, l->first, after, filter) ||
		    !buf_add(&doc, " }", 2)) {
			err = TG_ENOMEM;
			break;
		}
		err = api_gql(l->api, GQL_QUERY, doc.s, vars, &data, NULL);
		if (err != TG_OK)
			break;
		STAT_ADD(l->api, pages, 1);
		err = api_take_page(l, data, 0, &has_next, cursor, csz, NULL);
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

/* One request of a root list's later pages: the nodes from @from on,
 * @n pages of the lister's page size, made at @t0. */
struct pages_req {
	long from;
	unsigned n;
	double t0;
};

/* The later pages of a root list, being fetched. */
struct pages_run {
	struct lister *l;
	long total;
	bool *has_next; /* the last page's page info */
	char *cursor;
	size_t csz;
	long next;      /* the node the next request starts at */
	size_t taken;   /* requests answered and taken */
	bool spoilt;    /* an answer failed half taken: no asking again */
	struct tg_window *win; /* the kind's list's */
	unsigned depth; /* of ahead_run: how many requests are out at once */
	struct pages_req *reqs; /* request i in reqs[i % depth] */
};

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Makes request @b: as many pages as the window holds, from the next
 * node on, aliased p0, p1...; nothing when the list is all asked for. */
static bool make_pages(void *ctx, size_t b, struct buf *doc)
{
	struct pages_run *r = ctx;
	struct tg_api *api = r->l->api;
	const struct tg_kind *kind = r->l->kind;
	struct pages_req *q = &r->reqs[b % r->depth];
	long first = (long)r->l->first, left = r->total - r->next;
	unsigned n = 0, w;

	if (left <= 0)
		return true;
	w = window_pages(r->win, api->cfg.batch_pages);
	while (n < w && (long)n * first < left)
		n++;
	*q = (struct pages_req){ r->next, n, mono_now() };
	r->next += (long)n * first;
	if (!buf_addf(doc, "query tgfsListPages_%s {", kind->list_field))
		return false;
	for (unsigned k = 0; k < n; k++) {
		char after[64];

		api_offset_cursor(q->from + (long)k * first - 1, after,
				  sizeof(after));
		if (!api_add_page(doc, kind, k, r->l->first, after, NULL))
			return false;
	}
	return buf_add(doc, " }", 2);
}

static enum tg_err take_pages(void *ctx, size_t b, cJSON *data)
{
	struct pages_run *r = ctx;
	struct tg_api *api = r->l->api;
	const struct pages_req *q = &r->reqs[b % r->depth];
	enum tg_err err = TG_OK;

	window_answered(r->win, q->n,
			window_signal_of(TG_OK, NULL, mono_now() - q->t0,
					 api->cfg.timeout_s));
	STAT_ADD(api, pages, q->n);
	for (unsigned k = 0; k < q->n && err == TG_OK; k++)
		err = api_take_page(r->l, data, k, r->has_next, r->cursor,
				    r->csz, NULL);
	if (err == TG_OK)
		r->taken++;
	else
		r->spoilt = true;
	return err;
}

/*
 * Fetches the pages after the first of a list of @total (offset cursors:
 * all addressable at once), the window's worth to a request, up to
 * `concurrency` requests at once.  A request the API refuses for its size
 * or cuts short is asked again smaller: with fewer pages, or, refused at
 * one page, with half the page size; any other failure ends the listing.
 */
static enum tg_err later_pages(struct lister *l, long total, bool *has_next,
			       char *cursor, size_t csz)
{
	struct tg_api *api = l->api;
	unsigned depth = api->cfg.concurrency ? api->cfg.concurrency : 1;
	struct pages_run r = { l, total, has_next, cursor, csz,
			       (long)l->first, 0, false,
			       window_of(&api->windows, l->kind,
					 TG_WINDOW_MOST_LIST), depth,
			       NULL };
	enum tg_err err;

	r.reqs = calloc(depth, sizeof(*r.reqs));
	if (!r.reqs)
		return TG_ENOMEM;
	for (;;) {
		const struct pages_req *q;
		long left = total - r.next;
		enum window_signal sig;
		size_t most = (size_t)((left + l->first - 1) / l->first);

		r.taken = 0;
		err = ahead_run(api, api->ahead, most, depth, make_pages,
				take_pages, &r);
		if (err == TG_OK)
			break;
		/* The failed request is the first one not taken. */
		q = &r.reqs[r.taken % depth];
		sig = window_signal_of(err, tg_api_last_message(),
				       mono_now() - q->t0, api->cfg.timeout_s);
		if (sig == WIN_REFUSED)
			window_refused(r.win, q->n,
				       window_fit(tg_api_last_message(), q->n));
		else
			window_answered(r.win, q->n, sig);
		/* At one page, only a refusal for its size says smaller
		 * pages would do (a cut answer may be the network's). */
		if (!window_again(sig) || r.spoilt ||
		    (q->n == 1 && (l->first == 1 || sig != WIN_REFUSED)))
			break;
		if (q->n == 1) {
			/* One page is too much: smaller pages, from here on
			 * for every listing. */
			tg_log(TG_LOG_WARN, "a page of %u is too big for the "
			       "API: using %u", l->first, l->first / 2);
			l->first /= 2;
			__atomic_store_n(&api->page_size, l->first,
					 __ATOMIC_RELAXED);
		} else {
			tg_log(TG_LOG_INFO, "%u pages in one request are too "
			       "many for the API: asking again with fewer",
			       q->n);
		}
		r.next = q->from;
	}
	free(r.reqs);
	return err;
}

enum tg_err tg_api_list_partial(struct tg_api *api, const struct tg_kind *kind,
				struct tg_list *out, struct tg_pending **pending)
{
	return tg_api_list_with(api, kind, out, pending, NULL, 0);
}

enum tg_err tg_api_list_with(struct tg_api *api, const struct tg_kind *kind,
			     struct tg_list *out, struct tg_pending **pending,
			     struct tg_extra *extras, size_t nextras)
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
	if (!tg_kind_listed(kind))
		return TG_OK; /* the live schema has no such list: empty */
	err = nextras ? api_first_batch(&l, extras, nextras, &has_next, cursor,
					sizeof(cursor), &total)
		      : api_first_page(&l, NULL, NULL, NULL, &has_next, cursor,
				       sizeof(cursor), &total);
	if (err != TG_OK)
		goto out;
	api_note_size(api, kind, has_next || total > (long)l.first);

	/* Offset cursors let us ask for every remaining page at once. */
	api_offset_cursor((long)l.first - 1, expect, sizeof(expect));
	if (has_next && strcmp(cursor, expect) == 0 && total > (long)l.first) {
		err = later_pages(&l, total, &has_next, cursor,
				  sizeof(cursor));
		if (err != TG_OK)
			goto out;
	}
	err = follow_cursor(&l, NULL, NULL, NULL, has_next, cursor,
			    sizeof(cursor));
	if (err == TG_OK && l.npending && l.partial) {
		if (!(*pending = lister_take_pending(&l)))
			err = TG_ENOMEM;
	} else if (err == TG_OK && l.npending) {
		err = lister_complete(&l);
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
	if (!tg_kind_listed(kind))
		return TG_OK; /* the live schema has no such list: none */
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
		/* "Unable to parse global ID", or an API that says so
		 * rather than answering null: no such object. */
		if (err == TG_EINVAL || err == TG_ENOTFOUND) {
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
		err = api_first_page(&l, filter, vars, "($v: String!)",
				     &has_next, cursor, sizeof(cursor), NULL);
		if (err == TG_OK)
			err = follow_cursor(&l, filter, vars, "($v: String!)",
					    has_next, cursor, sizeof(cursor));
	}
	if (err == TG_OK && l.npending)
		err = lister_complete(&l);
out:
	lister_release(&l);
	if (err != TG_OK)
		tg_list_release(out);
	cJSON_Delete(vars);
	cJSON_Delete(data);
	buf_release(&doc);
	return err;
}
