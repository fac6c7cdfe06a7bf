/*
 * ops.h - the FUSE operations by path (ops.c: attributes, listings,
 * links, the mount's start and end; fileops.c: files and changes), as
 * libfuse's high-level API has them; ll.c serves them over the low-level
 * API.  The top of fs/: these use every other module and none uses them.
 * They run on FUSE worker threads and return 0 (or a count) or -errno.
 */
#ifndef TGFS_OPS_H
#define TGFS_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "mount.h"

/* Largest write the kernel sends in one request (conn->max_write). */
#define TGFS_MAX_WRITE (128u * 1024)

/* The mount's state: one a process, made by tgfs_init (ops.c), NULL
 * after tgfs_destroy. */
struct tgfs *tgfs_get(void);

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

#endif /* TGFS_OPS_H */
