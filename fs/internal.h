/*
 * internal.h - what the files of fs/ share: the mount's state, the
 * cached collections with their name indexes, and path resolution.
 */
#ifndef TGFS_INTERNAL_H
#define TGFS_INTERNAL_H

#include <time.h>

#include "tg_cache.h"
#include "tgfs.h"

/* The mount's state, made in .init, reached through private_data. */
struct tgfs {
	const struct tgfs_config *cfg;
	struct tg_api *api;
	struct tg_cache *cache;
	time_t mount_time;
};

struct tgfs *tgfs_get(void);

/* One kind's whole collection as cached: the objects and their indexes. */
struct coll;

/*
 * Gets the collection of @kind (from the cache, or from the API).
 * Returns 0 and a reference to put back with tg_cache_put(), or -errno.
 */
int coll_get(struct tgfs *fs, const struct tg_kind *kind,
	     struct tg_cache_ref **ref);

/* The object called @name among those with parent @parent_id (NULL for top
 * folders), or NULL. */
const struct tg_object *coll_find(const struct coll *c, const char *parent_id,
				  const char *name);

/* Calls @fn for each object under @parent_id, in the API's order, with its
 * file name.  Stops early when @fn returns non-zero and returns that. */
int coll_each(const struct coll *c, const char *parent_id,
	      int (*fn)(void *arg, const struct tg_object *obj,
			const char *name),
	      void *arg);

/* What a path names. */
enum node_type {
	NODE_ROOT,    /* "/" */
	NODE_KINDDIR, /* a folder of objects of one kind: "/networks" */
	NODE_OBJECT,  /* an object's folder */
	NODE_FIELD,   /* a field file */
	NODE_JSON,    /* object.json */
};

struct node {
	enum node_type type;
	const struct tg_kind *kind; /* KINDDIR: listed kind; else obj's kind */
	char parent_id[256];        /* KINDDIR of a nested kind: its parent */
	int64_t parent_mtime;       /* KINDDIR of a nested kind */
	struct tg_cache_ref *ref;   /* holds obj's collection */
	const struct tg_object *obj;
	size_t field;               /* NODE_FIELD: index in kind->fields */
};

/* Resolves @path.  Returns 0 (release the node with node_release()) or
 * -errno (ENOENT for a name that is not there). */
int node_resolve(struct tgfs *fs, const char *path, struct node *n);
void node_release(struct node *n);

/* The content of a file node (NODE_FIELD, NODE_JSON): never NULL. */
const char *node_content(const struct node *n);

#endif
