/*
 * nested.c - the later pages of nested connections (a group's members past
 * the first page): planned from the totals of the first nested pages,
 * fetched by offset cursors as aliases, the window's worth to a request
 * (window.c), and
 * appended to their nodes, which then become objects.  Either at once
 * (lister_complete, for tg_api_list and tg_api_lookup) or later, from
 * what tg_api_list_partial left (struct tg_pending, tg_api_complete,
 * tg_api_complete_one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "schema_int.h"

/* One later page of a nested connection, as planned. */
struct nested_page {
	size_t pending;
	size_t conn;
};

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

/* One request of nested pages: planned pages from @done on, @n of them,
 * made at @t0. */
struct nested_req {
	size_t done, n;
	double t0;
};

/* The later nested pages of a listing's objects, being fetched. */
struct nested_run {
	struct lister *l;
	const struct nested_page *plan;
	const long *offsets;
	size_t nplan;
	size_t next;    /* the planned page the next request starts at */
	size_t taken;   /* requests answered and taken */
	bool spoilt;    /* an answer failed half taken: no asking again */
	struct tg_window *win; /* the kind's nested pages' */
	unsigned depth; /* of ahead_run */
	struct nested_req *reqs; /* request i in reqs[i % depth] */
};

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Planned pages that request @b asks for: from *@done on. */
static size_t nested_of(const struct nested_run *r, size_t b, size_t *done)
{
	const struct nested_req *q = &r->reqs[b % r->depth];

	*done = q->done;
	return q->n;
}

/* Makes request @b: the window's worth of the planned nested pages,
 * aliased; nothing once all are asked for. */
static bool make_nested(void *ctx, size_t b, struct buf *doc)
{
	struct nested_run *r = ctx;
	const struct lister *l = r->l;
	const struct tg_kind *kind = l->kind;
	struct nested_req *q = &r->reqs[b % r->depth];
	size_t done, batch, w;

	if (r->next >= r->nplan)
		return true;
	w = window_pages(r->win, l->api->cfg.batch_pages);
	*q = (struct nested_req){ r->next,
				  r->nplan - r->next < w ? r->nplan - r->next
							 : w,
				  mono_now() };
	r->next += q->n;
	batch = nested_of(r, b, &done);
	if (!buf_addf(doc, "query tgfsNested_%s {", kind->list_field))
		return false;
	for (size_t k = 0; k < batch; k++) {
		const struct nested_page *np = &r->plan[done + k];
		const struct tg_conn *c = &kind->conns[np->conn];
		const char *sel = schema_conn_selection(kind, np->conn);
		char after[64];

		api_offset_cursor(r->offsets[done + k] - 1, after, sizeof(after));
		if (!buf_addf(doc, " n%zu: %s(id: \"%s\") { %s(first: %u, "
			      "after: \"%s\") { edges { %s%snode { ", k,
			      kind->one_field,
			      json_at(l->pending[np->pending].node,
				      "id")->valuestring,
			      c->field, l->first, after,
			      c->edge_sel ? c->edge_sel : "",
			      c->edge_sel ? " " : "") ||
		    !(sel ? buf_add(doc, sel, strlen(sel))
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
	struct nested_run *r = ctx;
	const struct lister *l = r->l;
	size_t done, batch = nested_of(r, b, &done);

	window_answered(r->win, (unsigned)batch,
			window_signal_of(TG_OK, NULL,
					 mono_now() - r->reqs[b % r->depth].t0,
					 l->api->cfg.timeout_s));
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
		if (!cJSON_IsArray(edges) || !cJSON_IsArray(dst)) {
			r->spoilt = true;
			return TG_EPROTO;
		}
		while ((e = edges->child))
			cJSON_AddItemToArray(dst,
					     cJSON_DetachItemViaPointer(edges,
									e));
	}
	r->taken++;
	return TG_OK;
}

/* Fetches the planned pages, the window's worth to a request; one the
 * API finds too big is asked again with fewer pages. */
static enum tg_err fetch_nested(struct nested_run *r)
{
	struct tg_api *api = r->l->api;
	enum tg_err err;

	r->depth = api->cfg.concurrency ? api->cfg.concurrency : 1;
	r->reqs = calloc(r->depth, sizeof(*r->reqs));
	if (!r->reqs)
		return TG_ENOMEM;
	for (;;) {
		const struct nested_req *q;
		enum window_signal sig;

		r->taken = 0;
		err = ahead_run(api, api->ahead, r->nplan - r->next, r->depth,
				make_nested, take_nested_pages, r);
		if (err == TG_OK)
			break;
		q = &r->reqs[r->taken % r->depth];
		sig = window_signal_of(err, tg_api_last_message(),
				       mono_now() - q->t0, api->cfg.timeout_s);
		if (sig == WIN_REFUSED)
			window_refused(r->win, (unsigned)q->n,
				       window_fit(tg_api_last_message(),
						  (unsigned)q->n));
		else
			window_answered(r->win, (unsigned)q->n, sig);
		if (!window_again(sig) || q->n <= 1 || r->spoilt)
			break;
		r->next = q->done;
	}
	free(r->reqs);
	r->reqs = NULL;
	return err;
}

enum tg_err lister_complete(struct lister *l)
{
	const struct tg_kind *kind = l->kind;
	struct nested_page *plan = NULL;
	size_t nplan = 0;
	enum tg_err err = TG_OK;
	long *offsets = NULL;

	/* Plan: one entry per missing page. */
	for (size_t i = 0; i < l->npending; i++) {
		const char *id = json_at(l->pending[i].node, "id")->valuestring;

		if (!api_safe_literal(id)) {
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
			if (!api_count_of(total, &n)) {
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
		struct nested_run r = { l, plan, offsets, nplan, 0, 0, false,
					window_of(&l->api->windows,
						  kind->conns,
						  TG_WINDOW_MOST),
					1, NULL };

		err = fetch_nested(&r);
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

void lister_release(struct lister *l)
{
	for (size_t i = 0; i < l->npending; i++)
		cJSON_Delete(l->pending[i].node);
	free(l->pending);
	l->pending = NULL;
	l->npending = 0;
}

struct tg_pending *lister_take_pending(struct lister *l)
{
	struct tg_pending *p = malloc(sizeof(*p));

	if (!p)
		return NULL;
	*p = (struct tg_pending){ l->kind, l->first, l->pending, l->npending };
	l->pending = NULL;
	l->npending = 0;
	return p;
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
	err = lister_complete(&l);
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
	err = lister_complete(&l);
	lister_release(&l);
	return err;
}
