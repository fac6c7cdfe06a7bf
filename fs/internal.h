/*
 * internal.h - what the files of fs/ share: the mount's state, the cached
 * collections with their indexes, path resolution, the status files and
 * the first-seen times of objects without an updatedAt.
 */
#ifndef TGFS_INTERNAL_H
#define TGFS_INTERNAL_H

#include <pthread.h>
#include <time.h>

#include "draft.h"
#include "inval.h"
#include "mount.h"
#include "secret.h"
#include "status.h"

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

/* As coll_get, for a listing of the objects' names (and ids, parents
 * and mtimes) only: the nested pages of big objects are not fetched. */
int coll_get_names(struct tgfs *fs, const struct tg_kind *kind,
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
	NODE_DRAFTINFO, /* ".draft" in a draft's folder */
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
	bool draft;                 /* obj is a draft: own, a copy */
	struct tg_object own;
	char draft_file[TGFS_NAME_MAX + 1]; /* the draft's name */
	char *shown; /* JSON: object.json as shown, once asked for */
};

/* Resolves @path.  Returns 0 (release the node with node_release()) or
 * -errno (ENOENT for a name that is not there). */
int node_resolve(struct tgfs *fs, const char *path, struct node *n);
void node_release(struct node *n);

/* Makes sure the object of folder @n has all its nested content (links
 * past the first page), which a node resolved from a listing of names
 * may lack: before reading its files, links or entries.  0 or -errno. */
int node_complete(struct tgfs *fs, const struct node *n);

/* Steps from object folder @n (depth counting @rel's last component) to
 * its rel entry @rel ("network", "access", "access/groups"). */
int node_step_rel(struct tgfs *fs, struct node *n, const char *rel);

/* Whether node_step_rel() can tell single link @rel of object @obj
 * without a request: unset, or its target's collection is cached. */
bool link_known(struct tgfs *fs, const struct tg_object *obj, size_t rel);

/* The mount's state: one a process, made by tgfs_init (ops.c). */
struct tgfs *tgfs_get(void);

/* What a file node shows, secrets included (ops.c): never NULL. */
const char *node_text(struct tgfs *fs, struct node *n);

/* Whether reads of @n may come from the kernel's page cache (kcache.c):
 * values of the tenant, not secrets, drafts or status files. */
bool page_cacheable(const struct node *n);

/* The operations that open, write and change (fileops.c). */
int tgfs_open(const char *path, struct fuse_file_info *fi);
int tgfs_create(const char *path, mode_t mode, struct fuse_file_info *fi);
int tgfs_read(const char *path, char *buf, size_t size, off_t off,
	      struct fuse_file_info *fi);
int tgfs_write(const char *path, const char *buf, size_t size, off_t off,
	       struct fuse_file_info *fi);
int tgfs_flush(const char *path, struct fuse_file_info *fi);
int tgfs_fsync(const char *path, int datasync, struct fuse_file_info *fi);
int tgfs_release(const char *path, struct fuse_file_info *fi);
int tgfs_truncate(const char *path, off_t size, struct fuse_file_info *fi);
int tgfs_mkdir(const char *path, mode_t mode);
int tgfs_rmdir(const char *path);
int tgfs_unlink(const char *path);
int tgfs_rename(const char *from, const char *to, unsigned int flags);
int tgfs_symlink(const char *target, const char *path);
int tgfs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi);
int tgfs_chown(const char *path, uid_t uid, gid_t gid,
	       struct fuse_file_info *fi);
int tgfs_utimens(const char *path, const struct timespec tv[2],
		 struct fuse_file_info *fi);

/* The content of a file node (FIELD, JSON): never NULL. */
const char *node_content(struct node *n);
/* Its length, without showing a compact object.json. */
size_t node_content_len(const struct node *n);

/*
 * Calls @fn for each link in the rel folder of @obj's rel @rel (folder
 * depth @depth), with the link's name and target.  Returns 0, the first
 * non-zero @fn result, or -errno when a collection cannot be had.
 */
int rel_each(struct tgfs *fs, const struct tg_object *obj, size_t rel,
	     unsigned depth,
	     int (*fn)(void *arg, const char *name, const char *target),
	     void *arg);

/* ---- scratch files (scratch.c) ---- */

#define TGFS_SCRATCH_MAX (1u << 20)   /* one file */
#define TGFS_SCRATCH_TOTAL (64u << 20) /* all of them */

struct scratch_store *scratch_new(void);
void scratch_free(struct scratch_store *s);
/* A new empty file (or a link to @link_target) at @path; -EEXIST. */
int scratch_create(struct scratch_store *s, const char *path, mode_t mode,
		   const char *link_target);
int scratch_stat(struct scratch_store *s, const char *path, struct stat *st);
/* A copy of the content (or link target), NUL-terminated; NULL: none. */
char *scratch_get(struct scratch_store *s, const char *path, size_t *len,
		  bool *is_link);
int scratch_write(struct scratch_store *s, const char *path, const char *buf,
		  size_t size, off_t off);
int scratch_truncate(struct scratch_store *s, const char *path, off_t size);
int scratch_set_mode(struct scratch_store *s, const char *path, mode_t mode,
		     const struct timespec *mtime);
int scratch_remove(struct scratch_store *s, const char *path);
int scratch_rename(struct scratch_store *s, const char *from, const char *to);
/* Calls @fn for each scratch entry directly in folder @dir. */
int scratch_each(struct scratch_store *s, const char *dir,
		 int (*fn)(void *arg, const char *name, const struct stat *st),
		 void *arg);

/* ---- writes (write.c) ---- */

/* Largest write the kernel sends in one request (conn->max_write). */
#define TGFS_MAX_WRITE (128u * 1024)

/* ---- the node ids the kernel holds (inodes.c) ---- */

/*
 * Node id 1 is the root.  Every function takes the table's lock; ids the
 * table does not have are ignored (or -ENOENT where a result is asked).
 */
struct inodes;
struct inodes *inodes_new(void);
void inodes_free(struct inodes *t);
/* The id and generation of @name in folder @parent, made when new, with
 * one more lookup to forget.  -ENOENT (no such @parent), -ENOMEM. */
int inodes_lookup(struct inodes *t, uint64_t parent, const char *name,
		  uint64_t *ino, uint64_t *gen);
/* Takes @nlookup lookups back; the id goes with its last (once nothing
 * under it is left). */
void inodes_forget(struct inodes *t, uint64_t ino, uint64_t nlookup);
/* The path of @ino (the root's is "/"), or of its entry @child when not
 * NULL, into *@path, which the caller frees.  -ENOENT, -ENOMEM. */
int inodes_path(struct inodes *t, uint64_t ino, const char *child,
		char **path);
/* The id the kernel holds for @path, 0 when none. */
uint64_t inodes_find(struct inodes *t, const char *path);
/* @name in @parent is gone (its id stays until forgotten). */
void inodes_unlink(struct inodes *t, uint64_t parent, const char *name);
/* @name in @parent is now @newname in @newparent, in place of what was
 * there.  -ENOMEM: it is gone instead. */
int inodes_rename(struct inodes *t, uint64_t parent, const char *name,
		  uint64_t newparent, const char *newname);
/* Ids held (the root too). */
/* The folder @ino was listed to the kernel.  inodes_take_listed puts in
 * @ids up to @max ids of those marked since their last take, from id
 * *@from on, clears their marks and moves *@from past them (start at 0;
 * 0 ids: no more). */
void inodes_mark_listed(struct inodes *t, uint64_t ino);
size_t inodes_take_listed(struct inodes *t, uint64_t *from, uint64_t *ids,
			  size_t max);
/* Node ids the kernel holds now, and the most it held at once. */
void inodes_count(struct inodes *t, size_t *held, size_t *most);

/* ---- what the kernel caches of value files (kcache.c) ---- */

/* Records of 16 bytes: 65,536 for files (grep -r over 20,000 devices'
 * trust keeps them all) and 131,072 for folders (a walk of the large
 * tenant lists ~120,000): 3 MiB at most, touched as used. */
#define TGFS_KCACHE_FILES_LOG2 16
#define TGFS_KCACHE_DIRS_LOG2 17

struct kcache;
struct kcache *kcache_new(unsigned files_log2, unsigned dirs_log2);
void kcache_free(struct kcache *kc);

/* A getattr told the kernel @size for the file at @path.  True when it
 * had been told another size before (the content changed under it).
 * Only files opened before are followed. */
bool kcache_sized(struct kcache *kc, const char *path, size_t size);

/* How an open for reading of the file at @path, whose content is now
 * @len bytes known by @content (a hash that changes whenever the content
 * does: its object's, for an object's files), may use the kernel's page
 * cache: direct at a first open, then through it once a getattr has told
 * the kernel the size. */
enum kcache_use {
	KC_DIRECT, /* every read asks us (direct_io) */
	KC_FILL,   /* through the page cache, dropping what it held */
	KC_KEEP,   /* through the page cache, which holds this content */
};
enum kcache_use kcache_open(struct kcache *kc, const char *path,
			    uint64_t content, size_t len);

/* The kernel's size or pages for @path may change by other means (a write
 * or a truncate through it): read it direct until the next getattr. */
void kcache_forget(struct kcache *kc, const char *path);

/* False at the first open of the folder at @path (or once its record is
 * gone): the kernel lists it afresh, and nothing need be compared. */
bool kcache_dir_known(struct kcache *kc, const char *path);
/* An open of the folder at @path, whose entries now hash to @listing
 * (fnv_add from FNV_INIT): true when the kernel's cached entries are these
 * and may be kept. */
bool kcache_dir_open(struct kcache *kc, const char *path, uint64_t listing);
/* The kernel was given the entries hashing to @listing for @path: the
 * folder's first listing, or one that changed since its open. */
void kcache_dir_listed(struct kcache *kc, const char *path, uint64_t listing);

/*
 * Without OPENDIR (ll.c), the kernel lists a folder from the entries it
 * holds until the folder's mtime, as a getattr tells it, changes.  So a
 * folder's mtime carries a generation in its nanoseconds, which changes
 * once the entries the kernel was given may be out of date: when the
 * content they were made from is older than the cache's TTL, and when the
 * record is gone (forgetting is safe).  kcache_dir_gen gives the
 * generation of the folder at @path at monotonic time @now (seconds), and
 * in *@left how long the kernel may keep attributes with it (-1: as long
 * as it likes).  kcache_dir_filled: the kernel was given its entries,
 * made from content that goes stale at @stale_at.
 */
uint32_t kcache_dir_gen(struct kcache *kc, const char *path, double now,
			double *left);
void kcache_dir_filled(struct kcache *kc, const char *path,
		       double stale_at);

/* How many read opens went each way, by enum kcache_use; how many folder
 * opens refilled the kernel's entries and how many kept them. */
void kcache_counts(struct kcache *kc, uint64_t opens[3],
		   uint64_t dir_opens[2]);

/*
 * Puts @obj (a mutation's entity, taken over) into its cached collection
 * in place of the object with its id, or adds it; with @remove_id set,
 * removes that object instead; with neither, drops what is cached of
 * the kind.  Single-name lookups ("find:" entries) that hold the object,
 * or were made by its new name, take the change too.  A collection not
 * cached is left to be fetched again.
 */
void cache_apply(struct tgfs *fs, const struct tg_kind *kind,
		 struct tg_object *obj, const char *remove_id);

/* After a mutation whose outcome is unknown: the next read of @kind asks
 * the API again, and shows what is cached if that fails. */
void cache_expire(struct tgfs *fs, const struct tg_kind *kind);
/* Points the one-link @rel of the cached object @obj_id of @kind at @id
 * (named @name), as a mutation of the other side did; when the object is
 * not cached, drops what is cached of @kind. */
void cache_set_link(struct tgfs *fs, const struct tg_kind *kind,
		    const char *obj_id, size_t rel, const char *id,
		    const char *name);

/* Sends what was written to the field or object.json at @path (one
 * mutation; none when it equals what the tenant holds).  0 or -errno. */
int commit_field(struct tgfs *fs, const char *path, const char *text,
		 size_t len);
/* mkdir of an object: its create mutation. */
int tgfs_make_object(struct tgfs *fs, const char *path);

/* rmdir of an object: its delete (after a revoke, for active keys). */
int tgfs_remove_object(struct tgfs *fs, const char *path);
/* mv of an object within its folder: a rename. */
int tgfs_rename_object(struct tgfs *fs, const char *from, const char *to);
/* ln -s / rm of a relation link.  -ENOTSUP: @path is no relation. */
int tgfs_link_add(struct tgfs *fs, const char *target, const char *path);
int tgfs_link_remove(struct tgfs *fs, const char *path);

/* ---- first-seen times (state.c) ---- */

/* Loads the state file for the endpoint @url (missing file: empty). */
struct seen *seen_open(const char *url);
void seen_close(struct seen *s);
/* Sets the mtime of each object of @list (kinds without an updatedAt):
 * the time its content was first seen, kept across mounts. */
void seen_stamp(struct seen *s, struct tg_list *list);

#endif
