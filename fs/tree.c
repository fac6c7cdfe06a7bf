/*
 * tree.c - the tree: collections as folders, relations as symlinks, and
 * path resolution.
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
 * only that object is asked for (one request: by name, or by id for
 * devices), so `cat devices/<id>/trust` costs one request, not the
 * whole listing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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

static void coll_free(void *p)
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

/* Counts objects per (parent, encoded name), to find duplicates. */
static int count_names(struct coll *c, struct group **counts)
{
	char enc[TGFS_NAME_MAX + 1];

	for (size_t k = 0; k < c->list.n; k++) {
		const struct tg_object *o = &c->list.items[k];
		char *key;
		bool ok;

		tgfs_entry_name(o->name, o->id, false, enc);
		key = index_key(parent_of(o), enc);
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

/* Makes the collection of @kind from @list (taken over). */
static int coll_build(const struct tg_kind *kind, struct tg_list *list,
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

		tgfs_entry_name(o->name, o->id, false, enc);
		key = index_key(parent_of(o), enc);
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

		tgfs_entry_name(o->name, o->id, false, enc);
		key = index_key(parent_of(o), enc);
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
	} else if (!tg_kind_embedded(fa->kind)) {
		/* Nested pages past the first wait until something needs
		 * them: an ls of the folder does not. */
		err = tg_api_list_partial(fa->fs->api, fa->kind, &list,
					  &pending);
	} else {
		err = tg_api_list(fa->fs->api, fa->kind, &list);
	}
	if (err != TG_OK) {
		rc = -tgfs_errno(err);
		tgfs_record_error(fa->fs, key, rc, tg_api_last_message());
		return rc;
	}
	if (!fa->kind->mtime_path)
		seen_stamp(fa->fs->seen, &list);
	rc = coll_build(fa->kind, &list, &c);
	if (rc) {
		tg_pending_free(pending);
		return rc;
	}
	c->pending = pending;
	c->partial = pending != NULL;
	out->val = c;
	out->bytes = c->bytes + tg_list_bytes(&c->list);
	out->free_val = coll_free;
	return 0;
}

static bool coll_partial(const struct coll *c)
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
	pthread_mutex_lock(&c->done_lock);
	rc = c->failed;
	if (rc || !c->partial || (id && !tg_pending_has(c->pending, id)))
		goto out;
	if (id && !c->one_done) {
		c->one_done = true;
		err = tg_api_complete_one(fs->api, &c->list, c->pending, id);
	} else {
		err = tg_api_complete(fs->api, &c->list, c->pending);
		c->pending = NULL;
	}
	if (err != TG_OK) {
		rc = -tgfs_errno(err);
		tgfs_record_error(fs, key, rc, tg_api_last_message());
	} else {
		/* The members past the first page are links too. */
		for (size_t r = 0; r < c->kind->nrels; r++)
			group_free(&c->by_link[r]);
		rc = index_links(c) ? 0 : -ENOMEM;
	}
	if (rc) {
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

/* The kind whose list holds @kind's objects: a kind read through its
 * parent's connection is listed with the parent. */
static const struct tg_kind *list_holder(const struct tg_kind *kind)
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

	kind = list_holder(kind);
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

/* The collection holding @name for a lookup: the whole list when it is
 * (or was) cached, else just that object. */
static int coll_for_name(struct tgfs *fs, const struct tg_kind *kind,
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

/* ---- relations ---- */

/* "../" depth times, then "<dir>/<name>". */
static void link_target(unsigned depth, const char *dir, const char *name,
			char *out, size_t outsz)
{
	size_t o = 0;

	for (unsigned i = 0; i < depth && o + 3 < outsz; i++, o += 3)
		memcpy(out + o, "../", 3);
	snprintf(out + o, outsz - o, "%s/%s", dir, name);
}

struct rel_walk {
	int (*fn)(void *arg, const char *name, const char *target);
	void *arg;
	const char *dir;
	unsigned depth;
	const char *want_id; /* inverse: the linking object's rel holds it */
	size_t inv_rel;
};

static int rel_visit(void *arg, const struct tg_object *obj, const char *name)
{
	struct rel_walk *w = arg;
	char target[1024];

	(void)obj;
	link_target(w->depth, w->dir, name, target, sizeof(target));
	return w->fn(w->arg, name, target);
}

int rel_each(struct tgfs *fs, const struct tg_object *obj, size_t rel,
	     unsigned depth,
	     int (*fn)(void *arg, const char *name, const char *target),
	     void *arg)
{
	const struct tg_rel *r = &obj->kind->rels[rel];
	const struct tg_kind *tk = tg_kind_by_dir(NULL, r->target);
	struct rel_walk w = { fn, arg, r->target, depth, NULL, 0 };
	struct tg_cache_ref *ref;
	const struct coll *c;
	int rc;

	if (!tk)
		return -ENOENT;
	/* Forward links need the targets' names only; inverse ones the
	 * linking objects' links, nested pages included. */
	rc = r->path ? coll_get_names(fs, tk, &ref) : coll_get(fs, tk, &ref);
	if (rc)
		return rc;
	c = coll_of(ref, tk);
	if (r->path) {
		/* Forward: the ids are ours; names come from the target. */
		for (size_t i = 0; !rc && i < obj->links[rel].n; i++) {
			const char *name;

			if (coll_by_id(c, obj->links[rel].ids[i], &name))
				rc = rel_visit(&w, NULL, name);
		}
	} else {
		int inv = tg_rel_index(tk, r->inverse);

		rc = inv < 0 ? -ENOENT
			     : coll_each_linked(c, (size_t)inv, obj->id,
						rel_visit, &w);
	}
	tg_cache_put(ref);
	return rc;
}

struct rel_find {
	const char *name;
	char *target;
	size_t targetsz;
	bool found;
};

static int rel_match(void *arg, const char *name, const char *target)
{
	struct rel_find *f = arg;

	if (strcmp(name, f->name) != 0)
		return 0;
	snprintf(f->target, f->targetsz, "%s", target);
	f->found = true;
	return 1;
}

/* ---- nodes ---- */

void node_release(struct node *n)
{
	free(n->shown);
	n->shown = NULL;
	tg_cache_put(n->ref);
	n->ref = NULL;
	n->obj = NULL;
	if (n->draft && n->own.kind)
		tg_object_release(&n->own);
	n->draft = false;
}

/* Makes @n the draft @name of @k (with @rel >= 0: only the one whose
 * one-link @rel is @target_id).  False when there is no such draft. */
static bool step_draft(struct tgfs *fs, struct node *n,
		       const struct tg_kind *k, const char *name, int rel,
		       const char *target_id)
{
	struct tg_object copy;

	if (!k->draft ||
	    !draft_get(fs->drafts, k, name, rel, target_id, &copy))
		return false;
	node_release(n);
	n->own = copy;
	n->draft = true;
	n->obj = &n->own;
	n->kind = k;
	n->type = NODE_OBJECT;
	n->rel_index = -1;
	n->rel[0] = '\0';
	snprintf(n->draft_file, sizeof(n->draft_file), "%s", name);
	return true;
}

const char *node_content(struct node *n)
{
	const char *v = NULL;

	if (n->type == NODE_JSON)
		v = tg_object_json(n->obj, &n->shown);
	else if (n->type == NODE_DRAFTINFO)
		v = n->obj->json;
	else if (n->type == NODE_FIELD)
		v = tg_object_value(n->obj, n->field, &n->shown);
	return v ? v : "";
}

size_t node_content_len(const struct node *n)
{
	const char *v = NULL;

	if (n->type == NODE_JSON && n->obj->packed)
		return n->obj->json_len;
	if (n->type == NODE_FIELD)
		return tg_object_value_len(n->obj, n->field);
	if (n->type == NODE_JSON || n->type == NODE_DRAFTINFO)
		v = n->obj->json;
	return v ? strlen(v) : 0;
}

/* True when some rel dir of @k is @prefix or starts with "@prefix/". */
static bool rel_prefix(const struct tg_kind *k, const char *prefix)
{
	size_t n = strlen(prefix);

	for (size_t i = 0; i < k->nrels; i++)
		if (strncmp(k->rels[i].dir, prefix, n) == 0 &&
		    (k->rels[i].dir[n] == '\0' || k->rels[i].dir[n] == '/'))
			return true;
	return false;
}

bool link_known(struct tgfs *fs, const struct tg_object *obj, size_t rel)
{
	const struct tg_kind *tk =
		tg_kind_by_dir(NULL, obj->kind->rels[rel].target);
	struct tg_cache_ref *ref;
	char key[128];

	if (!obj->links[rel].n || !tk)
		return true;
	snprintf(key, sizeof(key), "list:%s", list_holder(tk)->dir);
	if (!tg_cache_peek(fs->cache, key, &ref, NULL))
		return false;
	tg_cache_put(ref);
	return true;
}

/* Steps into the link or rel folder @rel of n->obj. */
int node_step_rel(struct tgfs *fs, struct node *n, const char *rel)
{
	int i = tg_rel_index(n->kind, rel);

	if (i >= 0 && !n->kind->rels[i].many) {
		/* One link: there only when set and its target is known. */
		struct rel_find f = { NULL, n->target, sizeof(n->target),
				      false };
		struct tg_cache_ref *ref;
		const struct tg_kind *tk =
			tg_kind_by_dir(NULL, n->kind->rels[i].target);
		const char *name;
		int rc;

		if (!n->obj->links[i].n || !tk)
			return -ENOENT;
		rc = coll_get_names(fs, tk, &ref); /* its name is enough */
		if (rc)
			return rc;
		if (coll_by_id(coll_of(ref, tk), n->obj->links[i].ids[0],
			       &name)) {
			link_target(n->depth - 1, tk->dir, name, n->target,
				    sizeof(n->target));
			f.found = true;
		}
		tg_cache_put(ref);
		if (!f.found)
			return -ENOENT;
		n->type = NODE_LINK;
		n->rel_index = i;
		return 0;
	}
	if (!rel_prefix(n->kind, rel) || strlen(rel) >= sizeof(n->rel))
		return -ENOENT;
	n->type = NODE_RELDIR;
	n->rel_index = i;
	strcpy(n->rel, rel);
	return 0;
}

/* Steps from an object folder @n to its entry @name. */
int node_complete(struct tgfs *fs, const struct node *n)
{
	char key[128];

	if (n->draft || !n->ref || !coll_partial(tg_cache_val(n->ref)))
		return 0;
	snprintf(key, sizeof(key), "list:%s",
		 ((const struct coll *)tg_cache_val(n->ref))->kind->dir);
	return coll_finish(fs, key, n->ref, n->obj->id);
}

static int step_object(struct tgfs *fs, struct node *n, const char *name)
{
	const struct tg_kind *k = n->kind, *child;
	int rc = node_complete(fs, n);

	if (rc)
		return rc;

	if (n->draft) {
		/* A draft holds the files its create takes, and .draft. */
		if (strcmp(name, TGFS_DRAFT_FILE) == 0) {
			n->type = NODE_DRAFTINFO;
			return 0;
		}
		if (!draft_takes(k, name))
			return -ENOENT;
	}
	for (size_t i = 0; i < k->nfields; i++)
		if (strcmp(k->fields[i].file, name) == 0) {
			n->type = NODE_FIELD;
			n->field = i;
			return 0;
		}
	if (strcmp(name, "object.json") == 0) {
		n->type = NODE_JSON;
		return 0;
	}
	child = tg_kind_by_dir(k, name);
	if (!child)
		return node_step_rel(fs, n, name);
	if (strlen(n->obj->id) >= sizeof(n->parent_id))
		return -ENOENT;
	strcpy(n->parent_id, n->obj->id);
	n->parent_mtime = n->obj->mtime;
	/* An embedded kind's objects are in the collection we hold. */
	if (!child->parent_conn)
		node_release(n);
	n->obj = NULL;
	n->type = NODE_KINDDIR;
	n->kind = child;
	return 0;
}

/* Steps from a rel folder (or a prefix of one) to @name. */
static int step_reldir(struct tgfs *fs, struct node *n, const char *name)
{
	char rel[sizeof(n->rel)];
	struct rel_find f = { name, n->target, sizeof(n->target), false };
	int rc;

	if (n->rel_index < 0) {
		/* A prefix such as "access": go one level down. */
		if (snprintf(rel, sizeof(rel), "%s/%s", n->rel, name) >=
		    (int)sizeof(rel))
			return -ENOENT;
		return node_step_rel(fs, n, rel);
	}
	{
		/* A draft tied to this object (networks/N/resources/R). */
		const struct tg_rel *r = &n->kind->rels[n->rel_index];
		const struct tg_kind *tk = tg_kind_by_dir(NULL, r->target);
		int inv = tk && !r->path ? tg_rel_index(tk, r->inverse) : -1;
		char id[256];

		snprintf(id, sizeof(id), "%s", n->obj->id);
		if (inv >= 0 && step_draft(fs, n, tk, name, inv, id))
			return 0;
	}
	rc = rel_each(fs, n->obj, (size_t)n->rel_index, n->depth - 1,
		      rel_match, &f);
	if (rc < 0)
		return rc;
	if (!f.found)
		return -ENOENT;
	n->type = NODE_LINK;
	return 0;
}

/* True when @name is an id of @k's type, and @k's lookup is by name. */
static bool named_by_id(const struct tg_kind *k, const char *name)
{
	char type[64], pk[64];

	return k->lookup == TG_LOOKUP_NAME &&
	       tg_global_id_decode(name, type, sizeof(type), pk, sizeof(pk)) &&
	       strcmp(type, k->type_name) == 0;
}

/* Steps from a kind folder to the object @name. */
static int step_kinddir(struct tgfs *fs, struct node *n, const char *name)
{
	const struct tg_kind *k = n->kind;
	const char *parent = k->parent ? n->parent_id : NULL;
	int rc;

	if (!k->parent && step_draft(fs, n, k, name, -1, NULL))
		return 0;
	if (!k->parent_conn) {
		rc = coll_for_name(fs, k, name, &n->ref);
		if (rc)
			return rc;
	}
	n->obj = coll_find(coll_of(n->ref, k), parent, name);
	if (!n->obj && !k->parent_conn && named_by_id(k, name)) {
		/* An object without a name is named by its id, which a lookup
		 * by name cannot find (a user without an email): the list
		 * can. */
		tg_cache_put(n->ref);
		n->ref = NULL;
		rc = coll_get_names(fs, k, &n->ref);
		if (rc)
			return rc;
		n->obj = coll_find(coll_of(n->ref, k), parent, name);
	}
	if (!n->obj)
		return -ENOENT;
	n->type = NODE_OBJECT;
	return 0;
}

int node_resolve(struct tgfs *fs, const char *path, struct node *n)
{
	char comp[TGFS_NAME_MAX + 1];
	const char *p = path;
	int rc = 0;

	memset(n, 0, sizeof(*n));
	n->type = NODE_ROOT;
	n->rel_index = -1;
	while (*p) {
		size_t len;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		len = strcspn(p, "/");
		if (len > TGFS_NAME_MAX) {
			rc = -ENAMETOOLONG;
			goto fail;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		p += len;
		n->depth++;

		switch (n->type) {
		case NODE_ROOT:
			if (strcmp(comp, TGFS_STATUS_DIR) == 0) {
				n->type = NODE_STATDIR;
				break;
			}
			n->kind = tg_kind_by_dir(NULL, comp);
			if (!n->kind) {
				rc = -ENOENT;
				goto fail;
			}
			n->type = NODE_KINDDIR;
			break;
		case NODE_KINDDIR:
			rc = step_kinddir(fs, n, comp);
			break;
		case NODE_OBJECT:
			rc = step_object(fs, n, comp);
			break;
		case NODE_RELDIR:
			rc = step_reldir(fs, n, comp);
			break;
		case NODE_STATDIR:
			rc = -ENOENT;
			for (size_t i = 0; i < tgfs_nstatus_files; i++)
				if (!strcmp(comp, tgfs_status_files[i].name)) {
					n->type = NODE_STATFILE;
					n->field = i;
					rc = 0;
				}
			break;
		case NODE_FIELD:
		case NODE_JSON:
		case NODE_LINK:
		case NODE_STATFILE:
		case NODE_DRAFTINFO:
			rc = -ENOTDIR;
			break;
		}
		if (rc)
			goto fail;
	}
	return 0;
fail:
	node_release(n);
	return rc;
}

/* ---- changes from mutations ---- */

/* A deep copy of collection @c as a list, the embedded kind's objects
 * back inside their parents. */
static int coll_unbuild(const struct coll *c, struct tg_list *out)
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

/* Replaces (or adds) @obj in @list by id, or removes @remove_id. */
static int list_apply(struct tg_list *list, struct tg_object *obj,
		      const char *remove_id)
{
	const char *id = remove_id ? remove_id : obj->id;
	struct tg_object *items;

	for (size_t i = 0; i < list->n; i++) {
		if (strcmp(list->items[i].id, id) != 0)
			continue;
		tg_object_release(&list->items[i]);
		if (remove_id) {
			memmove(&list->items[i], &list->items[i + 1],
				(list->n - i - 1) * sizeof(*list->items));
			list->n--;
		} else {
			list->items[i] = *obj;
			memset(obj, 0, sizeof(*obj));
		}
		return 0;
	}
	if (remove_id)
		return 0;
	items = realloc(list->items, (list->n + 1) * sizeof(*items));
	if (!items)
		return -ENOMEM;
	list->items = items;
	list->items[list->n++] = *obj;
	memset(obj, 0, sizeof(*obj));
	return 0;
}

/* Makes in *out the collection @c with a copy of @obj put in (by id) or
 * @remove_id taken out.  -ENOENT: @c does not hold the parent of an
 * embedded object. */
static int coll_change(struct tgfs *fs, const struct coll *c,
		       const struct tg_kind *kind, const struct tg_object *obj,
		       const char *remove_id, struct coll **out)
{
	const struct tg_kind *holder = c->kind;
	struct tg_object copy = { 0 };
	struct tg_list list;
	int rc;

	*out = NULL;
	/* A copy would lose what a partial collection still lacks. */
	if (coll_partial(c))
		return -EAGAIN;
	rc = coll_unbuild(c, &list);
	if (rc)
		return rc;
	rc = -ENOMEM;
	if (obj && tg_object_copy(obj, &copy) != TG_OK)
		goto out;
	if (kind == holder) {
		rc = list_apply(&list, &copy, remove_id);
	} else {
		/* An embedded object: change it inside its parent. */
		const char *pid = copy.parent_id;
		const char *id = remove_id ? remove_id : copy.id;

		rc = -ENOENT;
		for (size_t i = 0; id && i < list.n; i++) {
			struct tg_list *ch = &list.items[i].children;
			bool here = false;

			for (size_t j = 0; !pid && j < ch->n; j++)
				here |= !strcmp(ch->items[j].id, id);
			/* An update's entity does not say its parent. */
			if (here && obj && !copy.parent_id &&
			    !(copy.parent_id = strdup(list.items[i].id))) {
				rc = -ENOMEM;
				break;
			}
			if ((pid && !strcmp(list.items[i].id, pid)) || here) {
				rc = list_apply(ch, &copy, remove_id);
				break;
			}
		}
	}
	if (rc)
		goto out;
	if (!holder->mtime_path)
		seen_stamp(fs->seen, &list);
	rc = coll_build(holder, &list, out);
out:
	tg_list_release(&list);
	if (copy.kind)
		tg_object_release(&copy);
	return rc;
}

static void fill_from(struct coll *nc, struct tg_cache_fill *out)
{
	out->val = nc;
	out->bytes = nc->bytes + tg_list_bytes(&nc->list);
	out->free_val = coll_free;
}

struct apply {
	struct tgfs *fs;
	const struct tg_kind *kind;
	const struct tg_object *obj;
	const char *remove_id;
	size_t prefix_len;
	char name[TGFS_NAME_MAX + 1]; /* obj's file name ("" if none) */
};

/* A "find:<dir>:<name>" entry (a lookup of one name while the collection
 * was not cached) takes the change when it holds the object, or when the
 * object now has the name it was looked up by. */
static int find_apply(void *arg, const char *key, void *val,
		      struct tg_cache_fill *out)
{
	struct apply *a = arg;
	const struct coll *c = val;
	const char *want = key + a->prefix_len;
	size_t n = strlen(a->name);
	struct coll *nc;
	int rc;

	if (a->kind == c->kind) {
		const char *id = a->remove_id ? a->remove_id : a->obj->id;
		bool named = n && !strncmp(want, a->name, n) &&
			     (want[n] == '\0' || want[n] == '~');

		if (!coll_by_id(c, id, NULL) && !named)
			return 0;
	}
	rc = coll_change(a->fs, c, a->kind, a->obj, a->remove_id, &nc);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return -1;
	fill_from(nc, out);
	return 1;
}

/* Fills a "find:" entry with the one object a mutation returned. */
static int seed_fill(void *arg, const char *key, struct tg_cache_fill *out)
{
	struct apply *a = arg;
	struct tg_list list = { calloc(1, sizeof(*list.items)), 0 };
	struct coll *nc;
	int rc;

	(void)key;
	if (!list.items)
		return -ENOMEM;
	if (tg_object_copy(a->obj, &list.items[0]) != TG_OK) {
		free(list.items);
		return -ENOMEM;
	}
	list.n = 1;
	if (!a->kind->mtime_path)
		seen_stamp(a->fs->seen, &list);
	rc = coll_build(a->kind, &list, &nc);
	if (rc)
		return rc;
	fill_from(nc, out);
	return 0;
}

static void apply_locked(struct tgfs *fs, const struct tg_kind *kind,
			 struct tg_object *obj, const char *remove_id)
{
	const struct tg_kind *holder = kind->parent_conn ? kind->parent : kind;
	struct apply a = { fs, kind, obj, remove_id, 0, "" };
	struct tg_cache_fill fill = { 0 };
	struct tg_cache_ref *ref = NULL;
	struct coll *nc = NULL;
	char key[128];

	snprintf(key, sizeof(key), "find:%s:", holder->dir);
	a.prefix_len = strlen(key);
	if (!obj && !remove_id) {
		/* Nothing to apply: read it all again. */
		tg_cache_invalidate_prefix(fs->cache, key);
		snprintf(key, sizeof(key), "list:%s", holder->dir);
		tg_cache_invalidate(fs->cache, key);
		goto out;
	}
	if (obj && obj->name && kind == holder)
		tgfs_entry_name(obj->name, obj->id, false, a.name);
	tg_cache_update_prefix(fs->cache, key, find_apply, &a);
	snprintf(key, sizeof(key), "list:%s", holder->dir);
	if (!tg_cache_peek(fs->cache, key, &ref, NULL) && a.name[0] &&
	    !remove_id) {
		/* The object is known by its name now (a create, a rename)
		 * at no request; if that name was looked up before, the
		 * entry took it above and this is a hit. */
		char fkey[TGFS_NAME_MAX + 128];
		struct tg_cache_ref *fref;

		snprintf(fkey, sizeof(fkey), "find:%s:%s", holder->dir,
			 a.name);
		if (!tg_cache_get(fs->cache, fkey, seed_fill, &a, &fref, NULL))
			tg_cache_put(fref);
	}
	if (!ref ||
	    coll_change(fs, tg_cache_val(ref), kind, obj, remove_id, &nc)) {
		/* Not cached, or could not apply it here: the next read
		 * fetches it, change included. */
		tg_cache_invalidate(fs->cache, key);
		goto out;
	}
	fill_from(nc, &fill);
	if (!tg_cache_replace(fs->cache, key, &fill))
		coll_free(nc);
out:
	tg_cache_put(ref);
	if (obj && obj->kind)
		tg_object_release(obj);
}

void cache_apply(struct tgfs *fs, const struct tg_kind *kind,
		 struct tg_object *obj, const char *remove_id)
{
	/* Two writers in one folder would each copy the same collection
	 * and the second copy would drop the first one's change. */
	pthread_mutex_lock(&fs->apply_lock);
	apply_locked(fs, kind, obj, remove_id);
	pthread_mutex_unlock(&fs->apply_lock);
	tgfs_folders_changed(fs);
}

void cache_expire(struct tgfs *fs, const struct tg_kind *kind)
{
	const struct tg_kind *holder = kind->parent_conn ? kind->parent : kind;
	char key[128];

	snprintf(key, sizeof(key), "find:%s:", holder->dir);
	tg_cache_expire_prefix(fs->cache, key);
	snprintf(key, sizeof(key), "list:%s", holder->dir);
	tg_cache_expire_prefix(fs->cache, key);
	tgfs_folders_changed(fs);
}

void cache_set_link(struct tgfs *fs, const struct tg_kind *kind,
		    const char *obj_id, size_t rel, const char *id,
		    const char *name)
{
	struct tg_object changed = { 0 };
	struct tg_cache_ref *ref;
	const struct tg_object *o = NULL;
	char key[128];

	snprintf(key, sizeof(key), "list:%s", kind->dir);
	pthread_mutex_lock(&fs->apply_lock);
	if (tg_cache_peek(fs->cache, key, &ref, NULL)) {
		const struct coll *c = coll_of(ref, kind);

		o = c && !coll_partial(c) ? coll_by_id(c, obj_id, NULL)
					  : NULL;
		if (o && tg_object_set_link(o, rel, id, name, &changed) !=
				 TG_OK)
			o = NULL;
		tg_cache_put(ref);
	}
	apply_locked(fs, kind, o ? &changed : NULL, NULL);
	pthread_mutex_unlock(&fs->apply_lock);
	tgfs_folders_changed(fs);
}
