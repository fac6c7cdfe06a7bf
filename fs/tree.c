/*
 * tree.c - the tree: kinds' collections as folders, and path resolution.
 *
 * A collection is fetched whole (all pages) and cached as one value with
 * the indexes the tree needs built once, at fill time: the file name of
 * every object (encoded, with "~<short id>" for duplicates within one
 * folder), a hash from (parent id, file name) to the object, and each
 * parent's children in the API's order.  A lookup is then a hash probe, so
 * `find` over 20,000 devices costs no more than the pages it needs.
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
#define SEP "\x01"

struct idx {
	char *key; /* parent id SEP file name */
	size_t item;
	UT_hash_handle hh;
};

struct children {
	char *parent_id; /* "" for top folders */
	size_t *items, n;
	UT_hash_handle hh;
};

struct coll {
	struct tg_list list;
	char **names; /* file name of each item */
	struct idx *by_name;
	struct children *by_parent;
	size_t bytes;
};

static void coll_free(void *p)
{
	struct coll *c = p;
	struct idx *i, *itmp;
	struct children *ch, *ctmp;

	if (!c)
		return;
	HASH_ITER(hh, c->by_name, i, itmp) {
		HASH_DEL(c->by_name, i);
		free(i->key);
		free(i);
	}
	HASH_ITER(hh, c->by_parent, ch, ctmp) {
		HASH_DEL(c->by_parent, ch);
		free(ch->parent_id);
		free(ch->items);
		free(ch);
	}
	if (c->names)
		for (size_t k = 0; k < c->list.n; k++)
			free(c->names[k]);
	free(c->names);
	tg_list_release(&c->list);
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
	k[a] = SEP[0];
	memcpy(k + a + 1, name, b + 1);
	return k;
}

/* Counts how many objects under one parent encode to the same name. */
struct dupcount {
	char *key;
	unsigned n;
	UT_hash_handle hh;
};

static int build_indexes(struct coll *c)
{
	struct dupcount *dups = NULL, *d, *dtmp;
	char enc[TGFS_NAME_MAX + 1];
	int err = -ENOMEM;

	c->names = calloc(c->list.n + 1, sizeof(*c->names));
	if (!c->names)
		return -ENOMEM;
	hash_oom = false;

	/* Pass 1: plain encoded names, counted per parent. */
	for (size_t k = 0; k < c->list.n; k++) {
		const struct tg_object *o = &c->list.items[k];
		char *key;

		tgfs_entry_name(o->name, o->id, false, enc);
		key = index_key(parent_of(o), enc);
		if (!key)
			goto out;
		HASH_FIND_STR(dups, key, d);
		if (d) {
			d->n++;
			free(key);
			continue;
		}
		d = calloc(1, sizeof(*d));
		if (!d) {
			free(key);
			goto out;
		}
		d->key = key;
		d->n = 1;
		HASH_ADD_KEYPTR(hh, dups, d->key, strlen(d->key), d);
		if (hash_oom) {
			free(d->key);
			free(d);
			goto out;
		}
	}

	/* Pass 2: final names, the index by name and the children lists. */
	for (size_t k = 0; k < c->list.n; k++) {
		const struct tg_object *o = &c->list.items[k];
		struct children *ch;
		struct idx *ix, *old;
		char *key;
		size_t *items;

		tgfs_entry_name(o->name, o->id, false, enc);
		key = index_key(parent_of(o), enc);
		if (!key)
			goto out;
		HASH_FIND_STR(dups, key, d);
		free(key);
		if (d && d->n > 1)
			tgfs_entry_name(o->name, o->id, true, enc);
		c->names[k] = strdup(enc);
		ix = calloc(1, sizeof(*ix));
		if (!c->names[k] || !ix ||
		    !(ix->key = index_key(parent_of(o), enc))) {
			free(ix);
			goto out;
		}
		ix->item = k;
		HASH_FIND_STR(c->by_name, ix->key, old);
		if (old) {
			/* Same name and same short id: only with a repeated
			 * id in the answer; the first one wins. */
			free(ix->key);
			free(ix);
		} else {
			HASH_ADD_KEYPTR(hh, c->by_name, ix->key,
					strlen(ix->key), ix);
			if (hash_oom) {
				free(ix->key);
				free(ix);
				goto out;
			}
		}
		HASH_FIND_STR(c->by_parent, parent_of(o), ch);
		if (!ch) {
			ch = calloc(1, sizeof(*ch));
			if (!ch || !(ch->parent_id = strdup(parent_of(o)))) {
				free(ch);
				goto out;
			}
			HASH_ADD_KEYPTR(hh, c->by_parent, ch->parent_id,
					strlen(ch->parent_id), ch);
			if (hash_oom) {
				free(ch->parent_id);
				free(ch);
				goto out;
			}
		}
		items = realloc(ch->items, (ch->n + 1) * sizeof(*items));
		if (!items)
			goto out;
		ch->items = items;
		ch->items[ch->n++] = k;
		c->bytes += 2 * strlen(enc) + sizeof(*ix) + sizeof(size_t) + 64;
	}
	err = 0;
out:
	HASH_ITER(hh, dups, d, dtmp) {
		HASH_DEL(dups, d);
		free(d->key);
		free(d);
	}
	return err;
}

struct fill_arg {
	struct tgfs *fs;
	const struct tg_kind *kind;
};

static int coll_fill(void *arg, const char *key, struct tg_cache_fill *out)
{
	struct fill_arg *fa = arg;
	struct coll *c = calloc(1, sizeof(*c));
	enum tg_err err;
	int rc;

	(void)key;
	if (!c)
		return -ENOMEM;
	err = tg_api_list(fa->fs->api, fa->kind, &c->list);
	if (err != TG_OK) {
		tg_log(TG_LOG_WARN, "listing %s: %s", fa->kind->dir,
		       tg_err_str(err));
		free(c);
		return -tgfs_errno(err);
	}
	rc = build_indexes(c);
	if (rc) {
		coll_free(c);
		return rc;
	}
	out->val = c;
	out->bytes = c->bytes + tg_list_bytes(&c->list);
	out->free_val = coll_free;
	return 0;
}

int coll_get(struct tgfs *fs, const struct tg_kind *kind,
	     struct tg_cache_ref **ref)
{
	struct fill_arg fa = { fs, kind };
	char key[128];
	bool stale;

	snprintf(key, sizeof(key), "list:%s", kind->type_name);
	return tg_cache_get(fs->cache, key, coll_fill, &fa, ref, &stale);
}

const struct tg_object *coll_find(const struct coll *c, const char *parent_id,
				  const char *name)
{
	struct idx *ix;
	char *key = index_key(parent_id ? parent_id : "", name);

	if (!key)
		return NULL;
	HASH_FIND_STR(c->by_name, key, ix);
	free(key);
	return ix ? &c->list.items[ix->item] : NULL;
}

int coll_each(const struct coll *c, const char *parent_id,
	      int (*fn)(void *arg, const struct tg_object *obj,
			const char *name),
	      void *arg)
{
	struct children *ch;

	HASH_FIND_STR(c->by_parent, parent_id ? parent_id : "", ch);
	if (!ch)
		return 0;
	for (size_t k = 0; k < ch->n; k++) {
		int rc = fn(arg, &c->list.items[ch->items[k]],
			    c->names[ch->items[k]]);

		if (rc)
			return rc;
	}
	return 0;
}

void node_release(struct node *n)
{
	tg_cache_put(n->ref);
	n->ref = NULL;
	n->obj = NULL;
}

const char *node_content(const struct node *n)
{
	const char *v = NULL;

	if (n->type == NODE_JSON)
		v = n->obj->json;
	else if (n->type == NODE_FIELD)
		v = n->obj->values[n->field];
	return v ? v : "";
}

/* Steps from an object folder @n to its entry @name. */
static int step_object(struct node *n, const char *name)
{
	const struct tg_kind *k = n->kind, *child;

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
		return -ENOENT;
	if (strlen(n->obj->id) >= sizeof(n->parent_id))
		return -ENOENT;
	strcpy(n->parent_id, n->obj->id);
	n->parent_mtime = n->obj->mtime;
	node_release(n);
	n->type = NODE_KINDDIR;
	n->kind = child;
	return 0;
}

int node_resolve(struct tgfs *fs, const char *path, struct node *n)
{
	char comp[TGFS_NAME_MAX + 1];
	const char *p = path;
	int rc = 0;

	memset(n, 0, sizeof(*n));
	n->type = NODE_ROOT;
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

		switch (n->type) {
		case NODE_ROOT:
			n->kind = tg_kind_by_dir(NULL, comp);
			if (!n->kind) {
				rc = -ENOENT;
				goto fail;
			}
			n->type = NODE_KINDDIR;
			break;
		case NODE_KINDDIR: {
			const struct tg_kind *k = n->kind;

			rc = coll_get(fs, k, &n->ref);
			if (rc)
				goto fail;
			n->obj = coll_find(tg_cache_val(n->ref),
					   k->parent ? n->parent_id : NULL,
					   comp);
			if (!n->obj) {
				rc = -ENOENT;
				goto fail;
			}
			n->type = NODE_OBJECT;
			break;
		}
		case NODE_OBJECT:
			rc = step_object(n, comp);
			if (rc)
				goto fail;
			break;
		case NODE_FIELD:
		case NODE_JSON:
			rc = -ENOTDIR;
			goto fail;
		}
	}
	return 0;
fail:
	node_release(n);
	return rc;
}
