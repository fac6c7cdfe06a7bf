/*
 * scratch.h - files that are not the tenant's (editors' swap, backup and
 * temporary files, emacs lock links, `touch notes`, sed -i's and rsync's
 * temporary files, access edges held for a restore), kept in memory for
 * this mount only (DESIGN.md §3).  A store of its own, using nothing of
 * fs/.
 *
 * Keys.  Each file is kept under a key shaped as a path ('/'-separated
 * names: a folder's files are the keys one name below its key), which
 * its callers make (node.h): at or below an object's folder,
 * "/<kind folder>#<object id>" and the names below it
 * (node_scratch_key), so that a rename of the object (its name file,
 * mv, object.json, someone else's seen at a refresh) keeps its scratch
 * files in the renamed folder and leaves none under the old name; a path
 * with no object on the way (a restore folder, still without an id) is
 * its own key.  The store reads nothing of a key but its '/'s; the
 * errors log and the kernel's invalidations take the display path, which
 * callers with the key alone find again (tgfs_key_path).
 *
 * Ownership: the store copies the keys and contents it is given; what
 * it returns (scratch_get) is the caller's.  Threads: every function
 * takes the store's lock, so any thread may call it; the callbacks of
 * scratch_each and scratch_each_dir run under it.  Failures are -errno,
 * with the store as it was.
 */
#ifndef TGFS_SCRATCH_H
#define TGFS_SCRATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#define TGFS_SCRATCH_MAX (1u << 20)   /* one file */
#define TGFS_SCRATCH_TOTAL (64u << 20) /* all of them */

struct scratch_store;

/* A new empty store, or NULL when out of memory.  Free it with
 * scratch_free(), which frees its files too (NULL: nothing). */
struct scratch_store *scratch_new(void);
void scratch_free(struct scratch_store *s);

/* A new empty file (or, with @link_target, a symlink to it) at @key,
 * with the permission bits of @mode.  0, -EEXIST, -ENOMEM. */
int scratch_create(struct scratch_store *s, const char *key, mode_t mode,
		   const char *link_target);
/* A folder at @key (a held access edge's, edges.c) made by process
 * @pid, which holds files made in it as any folder would.  0, -EEXIST,
 * -ENOMEM. */
int scratch_mkdir(struct scratch_store *s, const char *key, mode_t mode,
		  pid_t pid);
/* Calls @fn with the key and maker of each folder, under the store's
 * lock (@fn must not call the store); stops at its first non-zero
 * result, returned.  Costs nothing when there is none. */
int scratch_each_dir(struct scratch_store *s,
		     int (*fn)(void *arg, const char *key, pid_t pid),
		     void *arg);
/* Whether @key is such a folder. */
bool scratch_is_dir(struct scratch_store *s, const char *key);
/* Drops folder @key: -ENOTEMPTY when it holds files (SCRATCH_EMPTY),
 * or with them (SCRATCH_TREE), or alone, its files staying at their
 * keys (SCRATCH_ENTRY: the folder is the tenant's now).  0, -ENOENT,
 * -ENOTDIR. */
enum scratch_rmdir { SCRATCH_EMPTY, SCRATCH_TREE, SCRATCH_ENTRY };
int scratch_rmdir(struct scratch_store *s, const char *key,
		  enum scratch_rmdir how);
/* Sets the type, mode, size, inode number and times of @key into @st
 * (other members untouched).  0 or -ENOENT. */
int scratch_stat(struct scratch_store *s, const char *key, struct stat *st);
/* A copy of the content (or link target) of @key, NUL-terminated, with
 * its length in *@len and whether it is a link in *@is_link; the caller
 * frees it.  NULL: no such file (a folder is none), or no memory. */
char *scratch_get(struct scratch_store *s, const char *key, size_t *len,
		  bool *is_link);
/* Writes @size bytes at @off: the number written, or -ENOENT, -EINVAL (a
 * link, a negative offset), -EFBIG (past TGFS_SCRATCH_MAX), -ENOSPC (past
 * TGFS_SCRATCH_TOTAL), -ENOMEM. */
int scratch_write(struct scratch_store *s, const char *key, const char *buf,
		  size_t size, off_t off);
/* Cuts or extends @key to @size (zeros).  0, or as scratch_write. */
int scratch_truncate(struct scratch_store *s, const char *key, off_t size);
/* Sets the permission bits (@mode (mode_t)-1: kept) and the mtime (NULL
 * or UTIME_OMIT: kept; UTIME_NOW: now).  0 or -ENOENT. */
int scratch_set_mode(struct scratch_store *s, const char *key, mode_t mode,
		     const struct timespec *mtime);
/* Drops @key (a folder: scratch_rmdir).  0 or -ENOENT. */
int scratch_remove(struct scratch_store *s, const char *key);
/* Moves @from to @to, in place of any file there.  0, -ENOENT, -ENOMEM,
 * -EPERM for a folder. */
int scratch_rename(struct scratch_store *s, const char *from, const char *to);
/* Calls @fn for each file directly in folder @dir, with its name and a
 * stat (valid during the call), under the store's lock (@fn must not
 * call the store).  Stops at @fn's first non-zero result, returned. */
int scratch_each(struct scratch_store *s, const char *dir,
		 int (*fn)(void *arg, const char *name, const struct stat *st),
		 void *arg);

#endif /* TGFS_SCRATCH_H */
