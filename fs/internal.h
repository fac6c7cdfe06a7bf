/*
 * internal.h - what the files of fs/ share: the mount's state, the cached
 * collections with their indexes, path resolution, the status files and
 * the first-seen times of objects without an updatedAt.
 */
#ifndef TGFS_INTERNAL_H
#define TGFS_INTERNAL_H

#include <pthread.h>
#include <time.h>

#include "tg_cache.h"
#include "tgfs.h"

/* The last API errors, for /.twingatefs/errors. */
#define TGFS_ERRORS_KEPT 32

struct tgfs_error {
	time_t when;
	char path[256];
	char message[256];
};

struct seen; /* first-seen times (state.c) */

/* The mount's state, made in .init, reached through private_data. */
struct tgfs {
	const struct tgfs_config *cfg;
	struct tg_api *api;
	struct tg_cache *cache;
	time_t mount_time;
	struct seen *seen;
	pthread_mutex_t lock; /* guards errors and stale */
	struct tgfs_error errors[TGFS_ERRORS_KEPT];
	unsigned nerrors;    /* total ever recorded */
	bool serving_stale; /* the last read was answered from stale data */
};

struct tgfs *tgfs_get(void);

/* Records a failed API call for the errors file and the log. */
void tgfs_record_error(struct tgfs *fs, const char *path, int err,
		       const char *message);

/* ---- collections (tree.c) ---- */

/* One kind's objects as cached, with the indexes the tree needs. */
struct coll;

/*
 * Gets the whole collection of @kind (from the cache, or all its pages
 * from the API).  For an embedded kind, that of its parent.  Returns 0 and
 * a reference to put back with tg_cache_put(), or -errno.
 */
int coll_get(struct tgfs *fs, const struct tg_kind *kind,
	     struct tg_cache_ref **ref);

/* The collection of @kind inside a cached value (itself, or its embedded
 * child kind's objects). */
const struct coll *coll_of(const struct tg_cache_ref *ref,
			   const struct tg_kind *kind);

/* The object called @name among those with parent @parent_id (NULL for top
 * folders), or NULL. */
const struct tg_object *coll_find(const struct coll *c, const char *parent_id,
				  const char *name);

/* The object with @id, and its file name, or NULL. */
const struct tg_object *coll_by_id(const struct coll *c, const char *id,
				   const char **name);

/* Calls @fn for each object under @parent_id, in the API's order, with its
 * file name.  Stops early when @fn returns non-zero and returns that. */
int coll_each(const struct coll *c, const char *parent_id,
	      int (*fn)(void *arg, const struct tg_object *obj,
			const char *name),
	      void *arg);

/* Calls @fn for each object whose forward rel @rel holds @target_id. */
int coll_each_linked(const struct coll *c, size_t rel, const char *target_id,
		     int (*fn)(void *arg, const struct tg_object *obj,
			       const char *name),
		     void *arg);

/* ---- nodes (tree.c) ---- */

/* What a path names. */
enum node_type {
	NODE_ROOT,     /* "/" */
	NODE_KINDDIR,  /* a folder of objects of one kind: "/networks" */
	NODE_OBJECT,   /* an object's folder */
	NODE_FIELD,    /* a field file */
	NODE_JSON,     /* object.json */
	NODE_RELDIR,   /* a folder of links, or one on the way ("access") */
	NODE_LINK,     /* a symlink to a related object */
	NODE_STATDIR,  /* /.twingatefs */
	NODE_STATFILE, /* a file in it */
};

struct node {
	enum node_type type;
	const struct tg_kind *kind; /* KINDDIR: listed kind; else obj's kind */
	char parent_id[256];        /* KINDDIR of a nested kind: its parent */
	int64_t parent_mtime;       /* KINDDIR of a nested kind */
	struct tg_cache_ref *ref;   /* holds obj's collection */
	const struct tg_object *obj;
	size_t field;               /* FIELD: index in kind->fields;
				     * STATFILE: index of the file */
	char rel[64];               /* RELDIR: the rel dir or a prefix */
	int rel_index;              /* RELDIR of a whole rel, LINK: the rel */
	char target[1024];          /* LINK: where it points */
	unsigned depth;             /* components in the path */
};

/* Resolves @path.  Returns 0 (release the node with node_release()) or
 * -errno (ENOENT for a name that is not there). */
int node_resolve(struct tgfs *fs, const char *path, struct node *n);
void node_release(struct node *n);

/* Steps from object folder @n (depth counting @rel's last component) to
 * its rel entry @rel ("network", "access", "access/groups"). */
int node_step_rel(struct tgfs *fs, struct node *n, const char *rel);

/* The content of a file node (FIELD, JSON): never NULL. */
const char *node_content(const struct node *n);

/*
 * Calls @fn for each link in the rel folder of @obj's rel @rel (folder
 * depth @depth), with the link's name and target.  Returns 0, the first
 * non-zero @fn result, or -errno when a collection cannot be had.
 */
int rel_each(struct tgfs *fs, const struct tg_object *obj, size_t rel,
	     unsigned depth,
	     int (*fn)(void *arg, const char *name, const char *target),
	     void *arg);

/* ---- status files (status.c) ---- */

extern const char *const tgfs_status_files[];
extern const size_t tgfs_nstatus_files;
#define TGFS_STATUS_DIR ".twingatefs"

/* The content of status file @i in a new string (caller frees). */
char *status_render(struct tgfs *fs, size_t i);
/* True for the file that takes writes (refresh). */
bool status_writable(size_t i);
/* A write to status file @i: drops the cache for "refresh". */
int status_write(struct tgfs *fs, size_t i);

/* ---- first-seen times (state.c) ---- */

/* Loads the state file for the endpoint @url (missing file: empty). */
struct seen *seen_open(const char *url);
void seen_close(struct seen *s);
/* Sets the mtime of each object of @list (kinds without an updatedAt):
 * the time its content was first seen, kept across mounts. */
void seen_stamp(struct seen *s, struct tg_list *list);

#endif
