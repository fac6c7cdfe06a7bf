/*
 * status.h - the hidden /.twingatefs/ folder (DESIGN.md §8): files that
 * say how the mount is doing, as rows of a table.  They are made from
 * the mount's state and counters (mount.h, kcache.h, inodes.h) only.
 */
#ifndef TGFS_STATUS_H
#define TGFS_STATUS_H

#include <stdbool.h>
#include <stddef.h>

#include "mount.h"

#define TGFS_STATUS_DIR ".twingatefs"

/* One status file. */
struct status_file {
	const char *name;
	/* Its content in a new string the caller frees, or NULL when out of
	 * memory.  NULL render: it shows empty. */
	char *(*render)(struct tgfs *fs);
	/* What a write to it does: 0 or -errno.  NULL: read-only. */
	int (*write)(struct tgfs *fs);
};

/* The files, in the order they are listed; a node's field is an index
 * into it.  Constant. */
extern const struct status_file tgfs_status_files[];
extern const size_t tgfs_nstatus_files;

/* The content of status file @i in a new string the caller frees (NULL:
 * out of memory).  Any thread. */
char *status_render(struct tgfs *fs, size_t i);
/* True for a file that takes writes (refresh).  Pure. */
bool status_writable(size_t i);
/* A write to status file @i (refresh: drops the cache, and the kernel's
 * listings).  0, or -EACCES for a read-only file.  Any thread. */
int status_write(struct tgfs *fs, size_t i);

#endif /* TGFS_STATUS_H */
