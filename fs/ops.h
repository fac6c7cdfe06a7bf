/*
 * ops.h - the operations ll.c calls, on the node of the node id the
 * kernel gave, or on a name (attrs.c: attributes, links; listing.c:
 * folders; fileops.c: files and changes; nameops.c: names; ops.c: the
 * mount's state made and freed).  The top of fs/ under
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
 * The operations ll.c calls.  Those on a node id the kernel holds take
 * it resolved (struct tgfs_at: ll.c made it from the node's chain,
 * node_resolve_chain, once per request); those on a name (mkdir,
 * unlink, rename...) take that name with its folder's chain (struct
 * tgfs_name), resolved from the folder's key.  Each returns 0 or
 * -errno (read and write: a byte count).  Any thread may call them.
 * Those with a file handle work from it alone: the handle an open or
 * create put in @fi->fh keeps what its file is (its chain: the object's
 * id, the field) and is freed by tgfs_release.
 */

struct node;
struct inodes_chain;
struct inodes_key;

/* What an operation on a node id works on: @n, resolved (when @rc is 0;
 * the caller releases it after the operation, which may release it
 * early), or @rc, what resolving said (-ENOENT: a scratch file may be
 * there); @path, the node's path now, names it to the stores kept by
 * path (the kernel's page cache, removals, the errors log); @key, its
 * key in the scratch store (node.h node_scratch_key: by its object's
 * id); @chain (NULL: resolved by path) is how it was found. */
struct tgfs_at {
	const char *path;
	const char *key;
	struct node *n;
	int rc;
	const struct inodes_chain *chain;
};

/* Adds an entry to a listing; non-zero: it is full. */
typedef int (*tgfs_fill_fn)(void *buf, const char *name,
			    const struct stat *st);

/* Attributes of the node; when @id is not NULL and it is an object's
 * folder, the object's id in @id (@idsz bytes; "" otherwise); when @key
 * is not NULL, what the kernel's node table keeps of it (node_key_of). */
int tgfs_getattr(struct tgfs *fs, const struct tgfs_at *at, struct stat *st,
		 char *id, size_t idsz, struct inodes_key *key);
/* Calls @filler for each entry of the folder, "." and ".." first. */
int tgfs_readdir(struct tgfs *fs, const struct tgfs_at *at, void *buf,
		 tgfs_fill_fn filler);
/* -o dir_open only: whether the kernel may keep the entries it holds. */
int tgfs_opendir(struct tgfs *fs, const struct tgfs_at *at,
		 struct fuse_file_info *fi);
int tgfs_readlink(struct tgfs *fs, const struct tgfs_at *at, char *buf,
		  size_t size);
/* ---- shared by attrs.c and listing.c ---- */

/* The attributes of node @n into @st (zeroed first).  Cannot fail. */
void tgfs_fill_stat(struct tgfs *fs, const struct node *n, struct stat *st);
/* The inode number of single link @rel of @obj, whatever it points at. */
ino_t tgfs_link_ino(const struct tg_object *obj, size_t rel);
/* The listings of the table of node types, a row each (listing.c): the
 * entries of folder @n (@key: its scratch key, for the scratch files in
 * it) given to @df, past "." and "..". */
struct dir_fill;
int tgfs_list_root(struct tgfs *fs, struct dir_fill *df, struct node *n,
		   const char *key);
int tgfs_list_kinddir(struct tgfs *fs, struct dir_fill *df, struct node *n,
		      const char *key);
int tgfs_list_object(struct tgfs *fs, struct dir_fill *df, struct node *n,
		     const char *key);
int tgfs_list_reldir(struct tgfs *fs, struct dir_fill *df, struct node *n,
		     const char *key);
int tgfs_list_edge(struct tgfs *fs, struct dir_fill *df, struct node *n,
		   const char *key);
int tgfs_list_statdir(struct tgfs *fs, struct dir_fill *df, struct node *n,
		      const char *key);

/* Opens the node as @fi asks; a writer's handle keeps a copy of
 * at->chain (or the path's) to send its content to. */
int tgfs_open(struct tgfs *fs, const struct tgfs_at *at,
	      struct fuse_file_info *fi);

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
/* O_CREAT of the entry at->path (at->rc -ENOENT when it is not there):
 * a field the kernel believed gone opens to be written, any other new
 * file is a scratch file. */
int tgfs_create(struct tgfs *fs, const struct tgfs_at *at, mode_t mode,
		struct fuse_file_info *fi);
/* READ, WRITE, FLUSH (and FSYNC) and RELEASE: the handle alone.  A
 * write, flush or release that finds its file gone (its object deleted)
 * sends nothing and says -ESTALE. */
int tgfs_read(struct tgfs *fs, char *buf, size_t size, off_t off,
	      struct fuse_file_info *fi);
int tgfs_write(struct tgfs *fs, const char *buf, size_t size, off_t off,
	       struct fuse_file_info *fi);
int tgfs_flush(struct tgfs *fs, struct fuse_file_info *fi);
int tgfs_release(struct tgfs *fs, struct fuse_file_info *fi);
/* The parts of a SETATTR, in this order: chmod, chown, truncate (by the
 * handle @fi when given), utimens.  Only truncate and a touch of a
 * secret change anything. */
int tgfs_chmod(struct tgfs *fs, const struct tgfs_at *at, mode_t mode);
int tgfs_chown(struct tgfs *fs, const struct tgfs_at *at);
int tgfs_truncate(struct tgfs *fs, const struct tgfs_at *at, off_t size,
		  struct fuse_file_info *fi);
int tgfs_utimens(struct tgfs *fs, const struct tgfs_at *at,
		 const struct timespec tv[2]);
/* 0 when @nm is directly in an object folder (where scratch files may
 * be made), -EPERM elsewhere, or the error resolving its folder. */
struct tgfs_name;
int tgfs_in_object_folder(struct tgfs *fs, const struct tgfs_name *nm);
/* The operations on a name: @nm (node.h struct tgfs_name) is the name in
 * its folder, with the chain the kernel's node table gives, resolved
 * from the folder's key (no walk from the root). */
int tgfs_mkdir(struct tgfs *fs, const struct tgfs_name *nm, mode_t mode,
	       pid_t pid);
int tgfs_rmdir(struct tgfs *fs, const struct tgfs_name *nm, pid_t pid);
/* unlink: a relation link is removed; a field or object.json is
 * "replaced next": nothing is sent, and until @pid (the caller) creates it
 * again, or for a few seconds, it is gone to @pid alone (removals.h). */
int tgfs_unlink(struct tgfs *fs, const struct tgfs_name *nm, pid_t pid);
int tgfs_rename(struct tgfs *fs, const struct tgfs_name *from,
		const struct tgfs_name *to, unsigned int flags);
int tgfs_symlink(struct tgfs *fs, const char *target,
		 const struct tgfs_name *nm, pid_t pid);

#endif /* TGFS_OPS_H */
