/*
 * coll.h - the store of collections: each kind's objects as cached, with
 * the indexes the tree needs (coll.c), kept coherent after each change
 * made through the mount (coll_apply.c), as the layer that fills a cache
 * is the one that keeps it right.
 *
 * A collection lives in the cache (tg_cache.h) under "list:<dir>" (the
 * whole kind) or "find:<dir>:<name>" (one looked-up name).  A reader
 * holds a reference (struct tg_cache_ref) and reads the collection
 * through it without a lock: a collection is never changed in place,
 * but replaced whole, except for the completion of a partial one
 * (coll_complete), which only adds.  Any thread may call these
 * functions; those that fetch block on the API, and fail with the
 * -errno of tgfs_errno(), recorded in the errors log.
 */
#ifndef TGFS_COLL_H
#define TGFS_COLL_H

#include <stdbool.h>
#include <stddef.h>

#include "mount.h"

/* One kind's objects as cached, with their indexes (opaque). */
struct coll;

/*
 * Gets the whole collection of @kind (from the cache, or all its pages
 * from the API), nested pages included.  For a kind listed with its
 * parent, that of the parent (see coll_of).  Returns 0 with in *@ref a
 * reference the caller puts back with tg_cache_put(), or -errno (*@ref
 * then NULL).
 */
int coll_get(struct tgfs *fs, const struct tg_kind *kind,
	     struct tg_cache_ref **ref);

/* As coll_get, for a listing of the objects' names (and ids, parents
 * and mtimes) only: the nested pages of big objects are not fetched. */
int coll_get_names(struct tgfs *fs, const struct tg_kind *kind,
		   struct tg_cache_ref **ref);

/*
 * The collection holding @name (a file name) of top-level or nested
 * @kind, for a lookup: the list of names when it is (or was) cached,
 * else that object alone (one request).  As coll_get for the rest.
 */
int coll_for_name(struct tgfs *fs, const struct tg_kind *kind,
		  const char *name, struct tg_cache_ref **ref);

/* Whether the list of @kind is cached and fresh: reading it costs no
 * request.  Never fetches. */
bool coll_cached(struct tgfs *fs, const struct tg_kind *kind);

/*
 * Makes sure the collection @ref holds has the nested content (links past
 * the first page) of object @id, or of all its objects when one was
 * completed alone before (a walk).  0 at once when it has; else fetches,
 * once for all holders.  -errno: the collection is dropped from the
 * cache, to be listed again.
 */
int coll_complete(struct tgfs *fs, struct tg_cache_ref *ref, const char *id);

/* The collection of @kind inside a cached value (itself, or its embedded
 * child kind's objects), or NULL.  Valid while @ref is held. */
const struct coll *coll_of(const struct tg_cache_ref *ref,
			   const struct tg_kind *kind);

/* The object called @name (a file name) among those with parent
 * @parent_id (NULL for top folders), or NULL.  Valid while the
 * collection is held. */
const struct tg_object *coll_find(const struct coll *c, const char *parent_id,
				  const char *name);

/* The object with @id, and in *@name (when not NULL) its file name, or
 * NULL.  Both valid while the collection is held. */
const struct tg_object *coll_by_id(const struct coll *c, const char *id,
				   const char **name);

/* Calls @fn for each object under @parent_id (NULL: the top), in the
 * API's order, with its file name.  Stops early when @fn returns
 * non-zero and returns that; else 0. */
int coll_each(const struct coll *c, const char *parent_id,
	      int (*fn)(void *arg, const struct tg_object *obj,
			const char *name),
	      void *arg);

/* As coll_each, for each object whose forward rel @rel holds
 * @target_id (the inverse side: a user's devices). */
int coll_each_linked(const struct coll *c, size_t rel, const char *target_id,
		     int (*fn)(void *arg, const struct tg_object *obj,
			       const char *name),
		     void *arg);

/* ---- after a change made here (coll_apply.c) ---- */

/*
 * Puts @obj (a mutation's entity, taken over and released in every case)
 * into its cached collection in place of the object with its id, or adds
 * it; with @remove_id set, removes that object instead; with neither,
 * drops what is cached of the kind.  Single-name lookups ("find:"
 * entries) that hold the object, or were made by its new name, take the
 * change too.  A collection not cached, or that cannot be changed (out of
 * memory, partial), is dropped, to be fetched again: never wrong, at
 * worst a request.  The kernel is told to forget the object, by its id
 * and with its name now ("" when removed; inval_object), wherever it
 * holds it; a drop with neither tells it nothing (the caller names what
 * changed).  Then says folders changed.  Takes fs->apply_lock.
 */
void cache_apply(struct tgfs *fs, const struct tg_kind *kind,
		 struct tg_object *obj, const char *remove_id);

/* After a mutation whose outcome is unknown: the next read of @kind asks
 * the API again, and shows what is cached if that fails.  Then says
 * folders changed.  Cannot fail. */
void cache_expire(struct tgfs *fs, const struct tg_kind *kind);

/* Points the one-link @rel of the cached object @obj_id of @kind at @id
 * (named @name), as a mutation of the other side did; when the object is
 * not cached, drops what is cached of @kind.  As cache_apply otherwise. */
void cache_set_link(struct tgfs *fs, const struct tg_kind *kind,
		    const char *obj_id, size_t rel, const char *id,
		    const char *name);

/* ---- the module's own: for coll.c and coll_apply.c only ---- */

/* Makes in *@out the collection of @kind from @list (taken over in every
 * case).  0, or -ENOMEM with *@out NULL. */
int coll_build(const struct tg_kind *kind, struct tg_list *list,
	       struct coll **out);
/* Frees a collection made by coll_build (the cache's free_val). */
void coll_free(void *c);
/* A deep copy of @c as a list (the caller releases it), the embedded
 * kind's objects back inside their parents.  0 or -ENOMEM. */
int coll_unbuild(const struct coll *c, struct tg_list *out);
/* Fills @out to hand @c (taken over) to the cache. */
void coll_cache_fill(struct coll *c, struct tg_cache_fill *out);
/* The kind of @c's objects. */
const struct tg_kind *coll_kind(const struct coll *c);
/* True while some objects of @c have their first nested page only. */
bool coll_partial(const struct coll *c);
/* The kind whose list holds @kind's objects: a kind read through its
 * parent's connection is listed with the parent. */
const struct tg_kind *coll_holder(const struct tg_kind *kind);

#endif /* TGFS_COLL_H */
