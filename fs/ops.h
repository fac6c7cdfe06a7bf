/*
 * ops.h - the operations ll.c calls, by the path of the node id the
 * kernel gave (ops.c: attributes, listings, links, the mount's state
 * made and freed; fileops.c: files and changes).  The top of fs/ under
 * ll.c: these use every other module and none uses them.  They run on
 * FUSE worker threads and return 0 (or a count) or -errno.
 */
#ifndef TGFS_OPS_H
#define TGFS_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <sys/stat.h>

#include "mount.h"

struct fuse_file_info;

/* Largest write the kernel sends in one request (conn->max_write). */
#define TGFS_MAX_WRITE (128u * 1024)

/*
 * The operations, on a path ll.c built from the node id the kernel gave
 * (inodes.c), each returning 0 or -errno (read and write: a byte count).
 * Any thread may call them.  Those with a file handle work from it: the
 * handle an open or create put in @fi->fh is freed by tgfs_release.
 * A write, flush or fsync that finds its file's path gone sends nothing
 * and says -ESTALE: ll.c follows the renames of the folders on the way
 * (tgfs_object_file) and calls it again, or reports ENOENT.
 */

/* Adds an entry to a listing; non-zero: it is full. */
typedef int (*tgfs_fill_fn)(void *buf, const char *name,
			    const struct stat *st);

/* Attributes of @path; when @id is not NULL and @path is an object's
 * folder, the object's id in @id (@idsz bytes; "" otherwise). */
int tgfs_getattr(struct tgfs *fs, const char *path, struct stat *st,
		 char *id, size_t idsz);
/* Calls @filler for each entry of the folder at @path, "." and ".."
 * first. */
int tgfs_readdir(struct tgfs *fs, const char *path, void *buf,
		 tgfs_fill_fn filler);
/* -o dir_open only: whether the kernel may keep the entries it holds. */
int tgfs_opendir(struct tgfs *fs, const char *path,
		 struct fuse_file_info *fi);
int tgfs_readlink(struct tgfs *fs, const char *path, char *buf,
		  size_t size);
/*
 * The file name now of the object @id, whose folder the kernel knows as
 * @name in the kind folder @dir: @name when it still is, its new name
 * after a rename (by the kernel's path, a name file, object.json or
 * someone else), in @out (TGFS_NAME_MAX + 1 bytes).  A look by id needs
 * the whole listing of @dir, so it is made only when @name no longer
 * names the object.  0, -ENOENT (no such object now) or -errno.
 */
int tgfs_object_file(struct tgfs *fs, const char *dir, const char *name,
		     const char *id, char *out);

int tgfs_open(struct tgfs *fs, const char *path, struct fuse_file_info *fi);

struct node;
/* The opens of the table of node types (node.h tgfs_node_types) (fileops.c): a field or object.json, .draft, a link (ELOOP),
 * a status file. */
int tgfs_open_value(struct tgfs *fs, struct node *n, const char *path,
		    struct fuse_file_info *fi);
int tgfs_open_draftinfo(struct tgfs *fs, struct node *n, const char *path,
			struct fuse_file_info *fi);
int tgfs_open_link(struct tgfs *fs, struct node *n, const char *path,
		   struct fuse_file_info *fi);
int tgfs_open_statfile(struct tgfs *fs, struct node *n, const char *path,
		       struct fuse_file_info *fi);
int tgfs_create(struct tgfs *fs, const char *path, mode_t mode,
		struct fuse_file_info *fi);
int tgfs_read(struct tgfs *fs, char *buf, size_t size, off_t off,
	      struct fuse_file_info *fi);
int tgfs_write(struct tgfs *fs, const char *path, const char *buf,
	       size_t size, off_t off, struct fuse_file_info *fi);
int tgfs_flush(struct tgfs *fs, const char *path, struct fuse_file_info *fi);
int tgfs_release(struct tgfs *fs, struct fuse_file_info *fi);
int tgfs_truncate(struct tgfs *fs, const char *path, off_t size,
		  struct fuse_file_info *fi);
/* 0 when @path is directly in an object folder (where scratch files may
 * be made), -EPERM elsewhere, or the error resolving its folder. */
int tgfs_in_object_folder(struct tgfs *fs, const char *path);
int tgfs_mkdir(struct tgfs *fs, const char *path, mode_t mode, pid_t pid);
int tgfs_rmdir(struct tgfs *fs, const char *path, pid_t pid);
/* unlink: a relation link is removed; a field or object.json is
 * "replaced next": nothing is sent, and until @pid (the caller) creates it
 * again, or for a few seconds, it is gone to @pid alone (removals.h). */
int tgfs_unlink(struct tgfs *fs, const char *path, pid_t pid);
int tgfs_rename(struct tgfs *fs, const char *from, const char *to,
		unsigned int flags);
int tgfs_symlink(struct tgfs *fs, const char *target, const char *path,
		 pid_t pid);
int tgfs_chmod(struct tgfs *fs, const char *path, mode_t mode);
int tgfs_chown(struct tgfs *fs, const char *path);
int tgfs_utimens(struct tgfs *fs, const char *path,
		 const struct timespec tv[2]);

#endif /* TGFS_OPS_H */
