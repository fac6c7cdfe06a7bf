/*
 * coll.c - the store of collections (coll.h): each kind's objects, fetched
 * and indexed for the tree.
 *
 * A collection is fetched whole (all pages) and cached as one value with
 * the indexes the tree needs built once, at fill time: the file name of
 * every object (encoded, with "~<short id>" for duplicates within one
 * folder), hashes from (parent id, file name) and from id to the object,
 * each parent's children in the API's order, and for every forward
 * relation the objects that link to each target (so the inverse side,
 * such as a user's devices, is a hash probe too).  Objects of an embedded
 * kind (a service account's keys) live in a sub-collection of their
 * parent's.
 *
 * When a name is looked up in a folder whose collection is not cached,
 * only that object is asked for (coll_for_name: one request, by name, or
 * by id for devices), kept as a "find:" entry of one object.  Changes
 * made here are applied to both by coll_apply.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "coll.h"
#include "state.h"

static __thread bool hash_oom;
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) (hash_oom = true)
#include <uthash.h>

/* Separates the parent id from the file name in index keys; neither an id
 * (base64) nor a file name (we make them) contains it. */
#define SEP '\x01'

struct group {
	char *key;
	size_t *items, n;
	UT_hash_handle hh;
};

struct coll {
	const struct tg_kind *kind;
	struct tg_list list;
	char **names;            /* file name of each item (its name when
				  * that needs no change: not a copy) */
	/* Items ordered by parent id then file name, and by id: 4 bytes an
	 * object where a hash entry and its key took ~150. */
	uint32_t *by_name, *by_id;
	struct group *by_parent; /* parent id ("" at the top) -> items */
	struct group **by_link;  /* per rel: target id -> linking items */
	struct coll *sub;        /* the embedded kind's objects */
	size_t bytes;
	/*
	 * A partial collection: some objects have their first nested page
	 * only (a big group's first members).  It serves listings of names
	 * as it is; anything else completes it first (coll_finish), in
	 * place, under done_lock.  partial is read without the lock
	 * (atomically) and cleared once the objects are complete.
	 */
	bool partial;
	struct tg_pending *pending;
	/* One object was completed alone: the first object entered gets
	 * its own pages only; a second means a walk, and completes all. */
	bool one_done;
	int failed; /* -errno: its completion failed, it never will be */
	pthread_mutex_t done_lock;
};

static void group_free(struct group **h)
{
	struct group *g, *tmp;

	HASH_ITER(hh, *h, g, tmp) {
		HASH_DEL(*h, g);
		free(g->key);
		free(g->items);
		free(g);
	}
}

void coll_free(void *p)
{
	struct coll *c = p;

	if (!c)
		return;
	free(c->by_name);
	free(c->by_id);
	group_free(&c->by_parent);
	if (c->by_link)
		for (size_t r = 0; r < c->kind->nrels; r++)
			group_free(&c->by_link[r]);
	free(c->by_link);
	if (c->names)
		for (size_t k = 0; k < c->list.n; k++)
			if (c->names[k] != c->list.items[k].name)
				free(c->names[k]);
	free(c->names);
	tg_list_release(&c->list);
	coll_free(c->sub);
	tg_pending_free(c->pending);
	pthread_mutex_destroy(&c->done_lock);
	free(c);
}

static const char *parent_of(const struct tg_object *o)
{
	return o->parent_id ? o->parent_id : "";
}

static char *index_key(const char *parent_id, const char *name)
{
	size_t a = strlen(parent_id), b = strlen(name);
	char *k = malloc(a + b + 2);

	if (!k)
		return NULL;
	memcpy(k, parent_id, a);
	k[a] = SEP;
	memcpy(k + a + 1, name, b + 1);
	return k;
}

/* Item @k's key against @parent and file name @name, or (@by_id) its id
 * against @name. */
static int key_cmp(const struct coll *c, bool by_id, uint32_t k,
		   const char *parent, const char *name)
{
	const struct tg_object *o = &c->list.items[k];
	int r;

	if (by_id)
		return strcmp(o->id, name);
	r = strcmp(parent_of(o), parent);
	return r ? r : strcmp(c->names[k], name);
}

/* The orders of by_name and by_id; equal keys by item, so that a search
 * finds the first. */
static int order_by_name(const void *a, const void *b, void *arg)
{
	const struct coll *c = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int r = key_cmp(c, false, x, parent_of(&c->list.items[y]),
			c->names[y]);

	return r ? r : (x > y) - (x < y);
}

static int order_by_id(const void *a, const void *b, void *arg)
{
	const struct coll *c = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int r = key_cmp(c, true, x, NULL, c->list.items[y].id);

	return r ? r : (x > y) - (x < y);
}

/* Makes by_name and by_id, once names[] is filled. */
static bool index_items(struct coll *c)
{
	size_t n = c->list.n;

	if (n > UINT32_MAX)
		return false;
	c->by_name = malloc((n + 1) * sizeof(*c->by_name));
	c->by_id = malloc((n + 1) * sizeof(*c->by_id));
	if (!c->by_name || !c->by_id)
		return false;
	for (size_t k = 0; k < n; k++)
		c->by_name[k] = c->by_id[k] = (uint32_t)k;
	qsort_r(c->by_name, n, sizeof(*c->by_name), order_by_name, c);
	qsort_r(c->by_id, n, sizeof(*c->by_id), order_by_id, c);
	c->bytes += 2 * n * sizeof(*c->by_name);
	return true;
}

/* The first item of @c whose parent is @parent and file name @name (by
 * id: whose id is @name), or -1. */
static long item_search(const struct coll *c, bool by_id, const char *parent,
			const char *name)
{
	const uint32_t *sorted = by_id ? c->by_id : c->by_name;
	size_t lo = 0, hi = c->list.n;

	if (!sorted)
		return -1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key_cmp(c, by_id, sorted[mid], parent, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->list.n &&
			       !key_cmp(c, by_id, sorted[lo], parent, name)
		       ? (long)sorted[lo]
		       : -1;
}

/* Appends @item to the group @key (copied). */
static bool group_add(struct group **h, const char *key, size_t item,
		      size_t *bytes)
{
	struct group *g;
	size_t *items;

	HASH_FIND_STR(*h, key, g);
	if (!g) {
		g = calloc(1, sizeof(*g));
		if (!g || !(g->key = strdup(key))) {
			free(g);
			return false;
		}
		hash_oom = false;
		HASH_ADD_KEYPTR(hh, *h, g->key, strlen(g->key), g);
		if (hash_oom) {
			free(g->key);
			free(g);
			return false;
		}
		*bytes += sizeof(*g) + strlen(key) + 32;
	}
	items = realloc(g->items, (g->n + 1) * sizeof(*items));
	if (!items)
		return false;
	g->items = items;
	g->items[g->n++] = item;
	*bytes += sizeof(*items);
	return true;
}

/* The index key of @o under its name as a file name (without a short
 * id), which goes to @enc (TGFS_NAME_MAX + 1 bytes); NULL: no memory. */
static char *name_key(const struct tg_object *o, char *enc)
{
	tgfs_entry_name(o->name, o->id, false, enc);
	return index_key(parent_of(o), enc);
}

/* Counts objects per (parent, encoded name), to find duplicates. */
static int count_names(struct coll *c, struct group **counts)
{
	char enc[TGFS_NAME_MAX + 1];

	for (size_t k = 0; k < c->list.n; k++) {
		const struct tg_object *o = &c->list.items[k];
		char *key;
		bool ok;

		key = name_key(o, enc);
		ok = key && group_add(counts, key, k, &(size_t){ 0 });
		free(key);
		if (!ok)
			return -ENOMEM;
	}
	return 0;
}

/* Indexes the objects of @c by the targets of their forward rels. */
static bool index_links(struct coll *c)
{
	for (size_t k = 0; k < c->list.n; k++) {
		const struct tg_object *o = &c->list.items[k];

		for (size_t r = 0; r < c->kind->nrels; r++)
			for (size_t j = 0; o->links && j < o->links[r].n; j++)
				if (!group_add(&c->by_link[r],
					       o->links[r].ids[j], k,
					       &c->bytes))
					return false;
	}
	return true;
}

int coll_build(const struct tg_kind *kind, struct tg_list *list,
		      struct coll **out)
{
	const struct tg_kind *child = tg_kind_embedded(kind);
	struct coll *c = calloc(1, sizeof(*c));
	struct group *counts = NULL, *generated = NULL, *g;
	char enc[TGFS_NAME_MAX + 1];
	int rc = -ENOMEM;

	*out = NULL;
	if (!c) {
		tg_list_release(list);
		return -ENOMEM;
	}
	pthread_mutex_init(&c->done_lock, NULL);
	c->kind = kind;
	c->list = *list;
	memset(list, 0, sizeof(*list));
	c->names = calloc(c->list.n + 1, sizeof(*c->names));
	c->by_link = calloc(kind->nrels + 1, sizeof(*c->by_link));
	if (!c->names || !c->by_link)
		goto out;
	rc = count_names(c, &counts);
	if (rc)
		goto out;
	rc = -ENOMEM;
	/* The names duplicates get ("name~<short id>"): a name that is
	 * literally one of them is suffixed too, so no two entries of a
	 * folder ever share a name. */
	for (size_t k = 0; k < c->list.n; k++) {
		const struct tg_object *o = &c->list.items[k];
		char *key;

		key = name_key(o, enc);
		if (!key)
			goto out;
		HASH_FIND_STR(counts, key, g);
		free(key);
		if (!g || g->n < 2)
			continue;
		tgfs_entry_name(o->name, o->id, true, enc);
		key = index_key(parent_of(o), enc);
		if (!key || !group_add(&generated, key, k, &(size_t){ 0 })) {
			free(key);
			goto out;
		}
		free(key);
	}
	for (size_t k = 0; k < c->list.n; k++) {
		const struct tg_object *o = &c->list.items[k];
		struct group *gen;
		char *key;

		key = name_key(o, enc);
		if (!key)
			goto out;
		HASH_FIND_STR(counts, key, g);
		HASH_FIND_STR(generated, key, gen);
		free(key);
		if ((g && g->n > 1) || gen)
			tgfs_entry_name(o->name, o->id, true, enc);
		/* Most names are file names as they are. */
		c->names[k] = strcmp(enc, o->name) == 0 ? o->name
							 : strdup(enc);
		if (!c->names[k] ||
		    !group_add(&c->by_parent, parent_of(o), k, &c->bytes))
			goto out;
		if (c->names[k] != o->name)
			c->bytes += strlen(enc) + 1;
	}
	if (!index_items(c) || !index_links(c))
		goto out;
	if (child) {
		/* The parents hand their embedded objects over. */
		struct tg_list kids = { 0 };
		size_t total = 0;

		for (size_t k = 0; k < c->list.n; k++)
			total += c->list.items[k].children.n;
		kids.items = calloc(total + 1, sizeof(*kids.items));
		if (!kids.items)
			goto out;
		for (size_t k = 0; k < c->list.n; k++) {
			struct tg_list *ch = &c->list.items[k].children;

			if (ch->n)
				memcpy(kids.items + kids.n, ch->items,
				       ch->n * sizeof(*ch->items));
			kids.n += ch->n;
			free(ch->items);
			ch->items = NULL;
			ch->n = 0;
		}
		rc = coll_build(child, &kids, &c->sub);
		if (rc)
			goto out;
		c->bytes += c->sub->bytes + tg_list_bytes(&c->sub->list);
	}
	rc = 0;
	*out = c;
	c = NULL;
out:
	group_free(&counts);
	group_free(&generated);
	coll_free(c);
	return rc;
}

/* ---- filling the cache ---- */

struct fill_arg {
	struct tgfs *fs;
	const struct tg_kind *kind;
	const char *name; /* a lookup of one name; NULL: the whole list */
};

/* Most collections asked along with one listed (tg_api_list_with). */
#define TGFS_EXTRAS 16

/*
 * The other collections worth asking along with @kind's list: those with
 * a root list of their own the API client allows (confirmed by the live
 * schema, not known to need more than one page) and no value or fill in
 * the cache.  Returns how many went into @ex.
 */
static size_t pick_extras(struct tgfs *fs, const struct tg_kind *kind,
			  struct tg_extra *ex)
{
	size_t n = 0;

	for (size_t i = 0; i < tg_nkinds && n < TGFS_EXTRAS; i++) {
		const struct tg_kind *k = tg_kinds[i];
		char key[128];

		if (k == kind || coll_holder(k) != k ||
		    !tg_api_extra_ok(fs->api, k))
			continue;
		snprintf(key, sizeof(key), "list:%s", k->dir);
		if (tg_cache_has(fs->cache, key))
			continue;
		ex[n++] = (struct tg_extra){ .kind = k,
					     .partial = !tg_kind_embedded(k) };
	}
	return n;
}

/*
 * Puts the extras that came whole into the cache, each as its own fill
 * would have (nothing when the cache changed since @gen, or the key was
 * filled meanwhile), and frees the rest.
 */
static void offer_extras(struct tgfs *fs, struct tg_extra *ex, size_t n,
			 uint64_t gen)
{
	for (size_t i = 0; i < n; i++) {
		struct tg_cache_fill fill;
		struct coll *c;
		char key[128];

		if (!ex[i].whole)
			continue;
		seen_stamp(fs->seen, &ex[i].list, ex[i].pending);
		if (coll_build(ex[i].kind, &ex[i].list, &c))
			continue; /* listed alone when needed */
		c->pending = ex[i].pending;
		c->partial = ex[i].pending != NULL;
		ex[i].pending = NULL;
		ex[i].whole = false;
		coll_cache_fill(c, &fill);
		snprintf(key, sizeof(key), "list:%s", ex[i].kind->dir);
		if (!tg_cache_offer(fs->cache, key, gen, &fill))
			fill.free_val(fill.val);
	}
	tg_extras_release(ex, n);
}

static int coll_fill(void *arg, const char *key, struct tg_cache_fill *out)
{
	struct fill_arg *fa = arg;
	struct tg_list list = { 0 };
	struct tg_pending *pending = NULL;
	struct coll *c;
	enum tg_err err;
	int rc;

	if (fa->name) {
		char raw[4 * TGFS_NAME_MAX];
		const char *tilde;

		if (tgfs_name_decode(fa->name, raw, sizeof(raw)) < 0)
			return -ENOENT;
		err = tg_api_lookup(fa->fs->api, fa->kind, raw, &list);
		/* "name~<short id>": a duplicate; ask for the bare name. */
		tilde = strrchr(fa->name, '~');
		if (err == TG_OK && !list.n && tilde) {
			char base[TGFS_NAME_MAX + 1];

			snprintf(base, sizeof(base), "%.*s",
				 (int)(tilde - fa->name), fa->name);
			tg_list_release(&list);
			if (tgfs_name_decode(base, raw, sizeof(raw)) >= 0)
				err = tg_api_lookup(fa->fs->api, fa->kind, raw,
						    &list);
		}
	} else {
		struct tg_extra ex[TGFS_EXTRAS];
		size_t nex = pick_extras(fa->fs, fa->kind, ex);
		uint64_t gen = tg_cache_gen(fa->fs->cache);

		/* Nested pages past the first wait until something needs
		 * them: an ls of the folder does not. */
		err = tg_api_list_with(fa->fs->api, fa->kind, &list,
				       tg_kind_embedded(fa->kind) ? NULL
								  : &pending,
				       ex, nex);
		offer_extras(fa->fs, ex, nex, gen);
	}
	if (err != TG_OK) {
		rc = -tgfs_errno(err);
		tgfs_record_error(fa->fs, key, rc, tg_api_last_message());
		return rc;
	}
	seen_stamp(fa->fs->seen, &list, pending);
	rc = coll_build(fa->kind, &list, &c);
	if (rc) {
		tg_pending_free(pending);
		return rc;
	}
	c->pending = pending;
	c->partial = pending != NULL;
	coll_cache_fill(c, out);
	return 0;
}

bool coll_partial(const struct coll *c)
{
	return __atomic_load_n(&c->partial, __ATOMIC_ACQUIRE);
}

/*
 * Completes the partial collection @ref holds (key @key): fetches the
 * nested pages it left out, once for all its holders; with @id, those of
 * that object only, unless one was done alone before (a walk: all the
 * rest at once, batched).  When that fails, the collection is dropped
 * from the cache, to be listed again.
 */
static int coll_finish(struct tgfs *fs, const char *key,
		       struct tg_cache_ref *ref, const char *id)
{
	struct coll *c = tg_cache_val(ref);
	enum tg_err err;
	int rc;

	if (!coll_partial(c))
		return 0;
	/* Another caller may be completing it: waited for, unless ours
	 * gives up (an interrupt). */
	for (;;) {
		struct timespec ts;

		if (tg_call_cancelled(tg_call_current()))
			return -EINTR;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (pthread_mutex_timedlock(&c->done_lock, &ts) == 0)
			break;
	}
	rc = c->failed;
	if (rc || !c->partial || (id && !tg_pending_has(c->pending, id)))
		goto out;
	if (id && !c->one_done) {
		c->one_done = true;
		err = tg_api_complete_one(fs->api, &c->list, c->pending, id);
	} else {
		err = tg_api_complete(fs->api, &c->list, c->pending);
		c->pending = NULL;
		/* Interrupted with its pending pages gone: it cannot be
		 * completed now, and is listed again (EAGAIN to those that
		 * hold it meanwhile). */
		if (err == TG_EINTR) {
			c->failed = -EAGAIN;
			tg_cache_invalidate(fs->cache, key);
		}
	}
	if (err != TG_OK) {
		rc = -tgfs_errno(err);
		tgfs_record_error(fs, key, rc, tg_api_last_message());
	} else {
		/* The members past the first page are links too. */
		for (size_t r = 0; r < c->kind->nrels; r++)
			group_free(&c->by_link[r]);
		rc = index_links(c) ? 0 : -ENOMEM;
		/* Judged now that they are whole. */
		seen_stamp(fs->seen, &c->list, c->pending);
	}
	if (rc == -EINTR) {
		/* Our caller gave up: the next one tries again. */
	} else if (rc) {
		c->failed = rc;
		tg_cache_invalidate(fs->cache, key);
	} else if (tg_pending_empty(c->pending)) {
		tg_pending_free(c->pending);
		c->pending = NULL;
		__atomic_store_n(&c->partial, false, __ATOMIC_RELEASE);
	}
out:
	pthread_mutex_unlock(&c->done_lock);
	return rc;
}

const struct tg_kind *coll_holder(const struct tg_kind *kind)
{
	while (kind->parent_conn)
		kind = kind->parent;
	return kind;
}

static int coll_get_as(struct tgfs *fs, const struct tg_kind *kind,
		       bool names_only, struct tg_cache_ref **ref)
{
	struct fill_arg fa;
	char key[128];
	bool stale = false;
	int rc;

	kind = coll_holder(kind);
	fa = (struct fill_arg){ fs, kind, NULL };
	snprintf(key, sizeof(key), "list:%s", kind->dir);
	rc = tg_cache_get(fs->cache, key, coll_fill, &fa, ref, &stale);
	if (rc)
		return rc;
	tgfs_mark_stale(fs, stale);
	if (!names_only && (rc = coll_finish(fs, key, *ref, NULL))) {
		tg_cache_put(*ref);
		*ref = NULL;
	}
	return rc;
}

int coll_get(struct tgfs *fs, const struct tg_kind *kind,
	     struct tg_cache_ref **ref)
{
	return coll_get_as(fs, kind, false, ref);
}

int coll_get_names(struct tgfs *fs, const struct tg_kind *kind,
		   struct tg_cache_ref **ref)
{
	return coll_get_as(fs, kind, true, ref);
}

int coll_for_name(struct tgfs *fs, const struct tg_kind *kind,
			 const char *name, struct tg_cache_ref **ref)
{
	struct fill_arg fa = { fs, kind, name };
	char key[TGFS_NAME_MAX + 128];
	bool stale = false, held = false;
	int rc;

	snprintf(key, sizeof(key), "list:%s", kind->dir);
	/* An object's folder needs its name only: a partial list will do
	 * (node_complete, when stepping inside). */
	if (tg_cache_peek(fs->cache, key, ref, &held))
		return 0;
	/* The list was had and has expired (a long walk, say): one refill
	 * costs a page per P objects, a lookup per name would cost one per
	 * object. */
	if (held)
		return coll_get_names(fs, kind, ref);
	snprintf(key, sizeof(key), "find:%s:%s", kind->dir, name);
	rc = tg_cache_get(fs->cache, key, coll_fill, &fa, ref, &stale);
	if (!rc)
		tgfs_mark_stale(fs, stale);
	return rc;
}

const struct coll *coll_of(const struct tg_cache_ref *ref,
			   const struct tg_kind *kind)
{
	const struct coll *c = tg_cache_val(ref);

	if (c->kind == kind)
		return c;
	return c->sub && c->sub->kind == kind ? c->sub : NULL;
}

const struct tg_object *coll_find(const struct coll *c, const char *parent_id,
				  const char *name)
{
	long k = item_search(c, false, parent_id ? parent_id : "", name);

	return k < 0 ? NULL : &c->list.items[k];
}

const struct tg_object *coll_by_id(const struct coll *c, const char *id,
				   const char **name)
{
	long k = item_search(c, true, NULL, id);

	if (k < 0)
		return NULL;
	if (name)
		*name = c->names[k];
	return &c->list.items[k];
}

static int each_in(const struct coll *c, struct group *h, const char *key,
		   int (*fn)(void *, const struct tg_object *, const char *),
		   void *arg)
{
	struct group *g;

	HASH_FIND_STR(h, key, g);
	for (size_t k = 0; g && k < g->n; k++) {
		int rc = fn(arg, &c->list.items[g->items[k]],
			    c->names[g->items[k]]);

		if (rc)
			return rc;
	}
	return 0;
}

int coll_each(const struct coll *c, const char *parent_id,
	      int (*fn)(void *arg, const struct tg_object *obj,
			const char *name),
	      void *arg)
{
	return each_in(c, c->by_parent, parent_id ? parent_id : "", fn, arg);
}

int coll_each_linked(const struct coll *c, size_t rel, const char *target_id,
		     int (*fn)(void *arg, const struct tg_object *obj,
			       const char *name),
		     void *arg)
{
	return each_in(c, c->by_link[rel], target_id, fn, arg);
}

const struct tg_kind *coll_kind(const struct coll *c)
{
	return c->kind;
}

void coll_cache_fill(struct coll *c, struct tg_cache_fill *out)
{
	out->val = c;
	out->bytes = c->bytes + tg_list_bytes(&c->list);
	out->free_val = coll_free;
}

int coll_complete(struct tgfs *fs, struct tg_cache_ref *ref, const char *id)
{
	const struct coll *c = tg_cache_val(ref);
	char key[128];

	if (!coll_partial(c))
		return 0;
	snprintf(key, sizeof(key), "list:%s", c->kind->dir);
	return coll_finish(fs, key, ref, id);
}

bool coll_cached(struct tgfs *fs, const struct tg_kind *kind)
{
	struct tg_cache_ref *ref;
	char key[128];

	snprintf(key, sizeof(key), "list:%s", coll_holder(kind)->dir);
	if (!tg_cache_peek(fs->cache, key, &ref, NULL))
		return false;
	tg_cache_put(ref);
	return true;
}

int coll_unbuild(const struct coll *c, struct tg_list *out)
{
	memset(out, 0, sizeof(*out));
	out->items = calloc(c->list.n + 1, sizeof(*out->items));
	if (!out->items)
		return -ENOMEM;
	for (size_t i = 0; i < c->list.n; i++) {
		if (tg_object_copy(&c->list.items[i], &out->items[i]) != TG_OK)
			goto fail;
		out->n++;
	}
	for (size_t i = 0; c->sub && i < c->sub->list.n; i++) {
		const struct tg_object *kid = &c->sub->list.items[i];
		const struct tg_object *p = coll_by_id(c, kid->parent_id, NULL);
		struct tg_list *ch;
		struct tg_object *items;

		if (!p)
			continue;
		ch = &out->items[p - c->list.items].children;
		items = realloc(ch->items, (ch->n + 1) * sizeof(*items));
		if (!items)
			goto fail;
		ch->items = items;
		if (tg_object_copy(kid, &ch->items[ch->n]) != TG_OK)
			goto fail;
		ch->n++;
	}
	return 0;
fail:
	tg_list_release(out);
	return -ENOMEM;
}
