/*
 * first.c - the first pages of several collections in one request
 * (tg_api_list_with, api_first_batch).
 *
 * A collection that fits in one page costs a request of its own when
 * listed alone.  So when a list is fetched, the first pages of other
 * collections not yet held (the caller picks them) go in the same
 * request as aliases p1, p2... beside the list's own first page p0, as
 * many as the window of first pages holds (window.c, one window for all
 * such requests: it shrinks when the API refuses one for its size, down
 * to the first page alone).  Each part is taken by a lister of its own,
 * as api_first_page takes a page: a part whose page is its whole list
 * comes back whole, one that needs more pages is dropped (and its kind
 * remembered as big, not asked as an extra again until it is listed in
 * one page), and a part an error nulled spoils only itself.
 *
 * Only fields the live schema confirms go as extras: an unknown field
 * fails a whole request.  Should the API still refuse a request before
 * running it (not for its size), the first page is asked again alone,
 * and if that one is answered, this client sends no extras again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "schema_int.h"
#include "window.h"

/* The key of the window of first pages (window_of). */
static const char first_key;

static int kind_index(const struct tg_kind *kind)
{
	for (size_t i = 0; i < tg_nkinds && i < TG_MAX_KINDS; i++)
		if (tg_kinds[i] == kind)
			return (int)i;
	return -1;
}

void api_note_size(struct tg_api *api, const struct tg_kind *kind, bool big)
{
	int i = kind_index(kind);

	if (i >= 0)
		__atomic_store_n(&api->big[i], big, __ATOMIC_RELAXED);
}

bool tg_api_extra_ok(struct tg_api *api, const struct tg_kind *kind)
{
	const struct tg_schema *s = tg_schema_live();
	int i = kind_index(kind);

	return i >= 0 && kind->list_field && !kind->parent_conn && s &&
	       schema_field(schema_type(s, s->query), kind->list_field) &&
	       !__atomic_load_n(&api->big[i], __ATOMIC_RELAXED) &&
	       !__atomic_load_n(&api->no_extras, __ATOMIC_RELAXED);
}

void tg_extras_release(struct tg_extra *extras, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		tg_list_release(&extras[i].list);
		tg_pending_free(extras[i].pending);
		extras[i].pending = NULL;
		extras[i].whole = false;
	}
}

bool api_first_doc(struct buf *doc, const struct tg_kind *const *kinds,
		   size_t n, unsigned first)
{
	if (!n || !buf_addf(doc, "query tgfsList_%s {", kinds[0]->list_field))
		return false;
	for (size_t k = 0; k < n; k++)
		if (!api_add_page(doc, kinds[k], (unsigned)k, first, NULL, NULL))
			return false;
	return buf_add(doc, " }", 2);
}

/* True when error @e's path starts at root field @name. */
static bool error_at(const cJSON *e, const char *name)
{
	const cJSON *path = cJSON_GetObjectItemCaseSensitive(e, "path");
	const cJSON *head = cJSON_IsArray(path) ? path->child : NULL;

	return cJSON_IsString(head) && strcmp(head->valuestring, name) == 0;
}

bool api_part_of(const cJSON *data, const cJSON *errors, unsigned alias,
		 const char **msg)
{
	const cJSON *e, *m;
	const char *pathless = NULL;
	char name[16];

	snprintf(name, sizeof(name), "p%u", alias);
	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(data, name)))
		return true;
	cJSON_ArrayForEach(e, errors) {
		const cJSON *path = cJSON_GetObjectItemCaseSensitive(e, "path");

		m = cJSON_GetObjectItemCaseSensitive(e, "message");
		if (!cJSON_IsString(m))
			continue;
		if (error_at(e, name)) {
			*msg = m->valuestring;
			return false;
		}
		if (!pathless && (!cJSON_IsArray(path) || !path->child))
			pathless = m->valuestring;
	}
	*msg = pathless ? pathless : "no data for this list in the answer";
	return false;
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Takes part p<alias> of @data as extra @x's list, when it is whole. */
static enum tg_err take_extra(struct tg_api *api, unsigned first,
			      struct tg_extra *x, cJSON *data, unsigned alias)
{
	struct lister l = { .api = api, .kind = x->kind, .first = first,
			    .out = &x->list, .partial = x->partial };
	char name[16], cursor[256];
	bool has_next = false;
	long total = 0;
	cJSON *page;
	enum tg_err err;

	snprintf(name, sizeof(name), "p%u", alias);
	page = cJSON_GetObjectItemCaseSensitive(data, name);
	/* More pages: not taken (fetched when listed, as before). */
	if (cJSON_IsTrue(json_at(page, "pageInfo.hasNextPage"))) {
		api_note_size(api, x->kind, true);
		return TG_OK;
	}
	err = api_take_page(&l, data, alias, &has_next, cursor,
			    sizeof(cursor), &total);
	if (err == TG_OK)
		api_note_size(api, x->kind, has_next || total > (long)first);
	if (err == TG_OK && !has_next && total <= (long)first &&
	    (!l.npending || l.partial)) {
		if (l.npending && !(x->pending = lister_take_pending(&l)))
			err = TG_ENOMEM;
		else
			x->whole = true;
	}
	lister_release(&l);
	if (!x->whole)
		tg_list_release(&x->list);
	return err;
}

/* Takes the answer of a request of @n parts: p0 into @l, the others
 * into @extras.  An extra's failure is its own. */
static enum tg_err take_batch(struct lister *l, struct tg_extra *extras,
			      size_t n, cJSON *data, const cJSON *errors,
			      bool *has_next, char *cursor, size_t csz,
			      long *total)
{
	const char *msg;
	enum tg_err err;

	for (size_t k = 1; k < n; k++) {
		struct tg_extra *x = &extras[k - 1];

		if (!api_part_of(data, errors, (unsigned)k, &msg)) {
			tg_log(TG_LOG_INFO, "%s/ asked along: %s (listed "
			       "alone when needed)", x->kind->dir, msg);
			continue;
		}
		STAT_ADD(l->api, pages, 1);
		if (take_extra(l->api, l->first, x, data, (unsigned)k) ==
		    TG_ENOMEM)
			return TG_ENOMEM;
	}
	if (!api_part_of(data, errors, 0, &msg)) {
		/* Its error, as alone: the words say which (refusals.c). */
		tg_log(TG_LOG_WARN, "the API says: %s", msg);
		api_set_message(msg);
		return api_refusal_words(msg, TG_EQUERY);
	}
	/* Its errors next to its data (a null node in it) are logged and
	 * the data used, as alone; the extras' are theirs. */
	for (const cJSON *e = errors ? errors->child : NULL; e; e = e->next) {
		const char *m = cJSON_GetStringValue(json_at(e, "message"));

		if (m && (error_at(e, "p0") || !json_at(e, "path"))) {
			tg_log(TG_LOG_WARN, "the API says (data kept): %s", m);
			break;
		}
	}
	STAT_ADD(l->api, pages, 1);
	err = api_take_page(l, data, 0, has_next, cursor, csz, total);
	return err;
}

enum tg_err api_first_batch(struct lister *l, struct tg_extra *extras,
			    size_t nextras, bool *has_next, char *cursor,
			    size_t csz, long *total)
{
	struct tg_api *api = l->api;
	struct tg_window *win = window_of(&api->windows, &first_key,
					  TG_WINDOW_MOST_LIST);
	const struct tg_kind *kinds[TG_WINDOW_MOST_LIST];
	struct buf doc = { 0 };
	bool alone_check = false, halved = false;
	enum tg_err err;

	for (;;) {
		cJSON *data = NULL, *errors = NULL;
		enum window_signal sig;
		size_t n = 1;
		char *msg = NULL;
		double t0;
		unsigned w = window_pages(win, api->cfg.batch_pages);

		kinds[0] = l->kind;
		if (w > TG_WINDOW_MOST_LIST)
			w = TG_WINDOW_MOST_LIST;
		for (size_t i = 0; i < nextras && n < w; i++)
			if (!__atomic_load_n(&api->no_extras,
					     __ATOMIC_RELAXED))
				kinds[n++] = extras[i].kind;
		if (n == 1)
			break;
		l->first = tg_api_page_size(api);
		doc.len = 0;
		if (!api_first_doc(&doc, kinds, n, l->first)) {
			buf_release(&doc);
			return TG_ENOMEM;
		}
		t0 = mono_now();
		err = api_gql_parts(api, doc.s, &data, &errors, &msg);
		sig = window_signal_of(err, err == TG_OK ? NULL
							 : tg_api_last_message(),
				       mono_now() - t0, api->cfg.timeout_s);
		if (sig == WIN_REFUSED)
			window_refused(win, (unsigned)n,
				       window_fit(tg_api_last_message(),
						  (unsigned)n));
		else
			window_answered(win, (unsigned)n, sig);
		if (err == TG_OK)
			err = take_batch(l, extras, n, data, errors, has_next,
					 cursor, csz, total);
		cJSON_Delete(data);
		cJSON_Delete(errors);
		if (err == TG_EQUERY && msg && !window_again(sig) &&
		    !(strstr(msg, "first") && strstr(msg, "limit"))) {
			/* Refused before it ran, not for its size: maybe
			 * an extra's field.  Asked alone; answered, no
			 * extras again. */
			alone_check = true;
			free(msg);
			break;
		}
		if (err == TG_EQUERY && msg && !window_again(sig)) {
			/* The page size refused (api_first_page's rule):
			 * halved once, for every later request too. */
			free(msg);
			if (halved || l->first < 2)
				break;
			__atomic_store_n(&api->page_size, l->first / 2,
					 __ATOMIC_RELAXED);
			tg_log(TG_LOG_WARN, "page size %u refused: using %u",
			       l->first, l->first / 2);
			halved = true;
			continue;
		}
		free(msg);
		if (err != TG_OK && window_again(sig))
			continue; /* fewer extras, or alone */
		buf_release(&doc);
		return err;
	}
	buf_release(&doc);
	err = api_first_page(l, NULL, NULL, NULL, has_next, cursor, csz,
			     total);
	if (alone_check && err == TG_OK) {
		tg_log(TG_LOG_WARN, "the API refused a request of several "
		       "lists that it answers alone: lists go alone from now");
		__atomic_store_n(&api->no_extras, 1, __ATOMIC_RELAXED);
	}
	return err;
}
