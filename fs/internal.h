/*
 * internal.h - what the files of fs/ share: the mount's state, the cached
 * collections with their indexes, path resolution, the status files and
 * the first-seen times of objects without an updatedAt.
 */
#ifndef TGFS_INTERNAL_H
#define TGFS_INTERNAL_H

#include <pthread.h>
#include <time.h>

#include "coll.h"
#include "draft.h"
#include "inval.h"
#include "mount.h"
#include "node.h"
#include "secret.h"
#include "state.h"
#include "status.h"

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

#endif
