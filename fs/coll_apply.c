/*
 * coll_apply.c - keeping the store of collections coherent after each
 * change made here (coll.h): the object a mutation returns replaces the
 * cached one, with no read before or after.  A cached collection is
 * copied, changed and put back in one piece (under fs->apply_lock), so a
 * reader holds the collection it had; single-name lookups ("find:"
 * entries) take the change too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coll.h"
#include "inval.h"
#include "state.h"

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
	const struct tg_kind *holder = coll_kind(c);
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
	seen_stamp(fs->seen, &list, NULL);
	rc = coll_build(holder, &list, out);
out:
	tg_list_release(&list);
	if (copy.kind)
		tg_object_release(&copy);
	return rc;
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

	if (a->kind == coll_kind(c)) {
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
	coll_cache_fill(nc, out);
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
	seen_stamp(a->fs->seen, &list, NULL);
	rc = coll_build(a->kind, &list, &nc);
	if (rc)
		return rc;
	coll_cache_fill(nc, out);
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
	coll_cache_fill(nc, &fill);
	if (!tg_cache_replace(fs->cache, key, &fill))
		coll_free(nc);
out:
	tg_cache_put(ref);
	/* The kernel forgets what it holds of the object, under whatever
	 * name it knows it (renamed, or shown as name~id). */
	if (remove_id)
		inval_object(fs, remove_id, "");
	else if (obj && obj->kind)
		inval_object(fs, obj->id, kind == holder && a.name[0] ? a.name
								     : NULL);
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
