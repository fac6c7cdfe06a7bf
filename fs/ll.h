/*
 * ll.h - what the files of the FUSE face (ll.c, lldir.c, llinval.c)
 * share: the session's state, taken from each request (ll_of), and the
 * way a handler gets the path of a node id, following renames
 * (ll_path_for).
 * Nothing outside ll.c, lldir.c and llinval.c includes it.
 */
#ifndef TGFS_LL_H
#define TGFS_LL_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "ops.h"

#include <fuse_lowlevel.h>

/* A listing made for the kernel without an OPENDIR, while it reads it in
 * pieces (lldir.c, readdir_unopened). */
struct snap {
	uint64_t ino;
	uint32_t tag; /* 0: a free slot */
	uint64_t used;
	char *buf;
	size_t len;
};
#define SNAPS 16

/* The session: one a mount, the userdata of every request. */
struct ll {
	struct tgfs_config *conf;
	struct inodes *nodes;
	struct fuse_session *se;
	struct {
		double entry_timeout, attr_timeout, negative_timeout;
	} cfg; /* the kernel's timeouts, seconds (set at .init) */
	struct tgfs *fs; /* fs->no_opendir: folders are never opened */
	pthread_mutex_t snap_lock; /* guards snaps and snap_clock */
	struct snap snaps[SNAPS];
	uint64_t snap_clock;
};

/*
 * @ops with each operation that may wait on the API made one user call
 * with a deadline and interruptible (llcall.c).  One table a process:
 * the result is static, @ops must outlive the session.  Cannot fail.
 */
const struct fuse_lowlevel_ops *ll_calls(const struct fuse_lowlevel_ops *ops);

/* Whether the process @pid, a caller's, is still there: the cache's
 * tg_cache_set_alive (its walk ends with it).  Any thread. */
bool ll_reader_alive(uint64_t pid);

static inline struct ll *ll_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* Replies @rc (0 or -errno) as the request's error. */
static inline void ll_reply_rc(fuse_req_t req, int rc)
{
	/* -ESTALE: a path that a rename took, and no rename to follow. */
	if (rc == -ESTALE)
		rc = -ENOENT;
	fuse_reply_err(req, rc < 0 ? -rc : 0);
}

/*
 * The path of @ino (of its entry @child, when not NULL) into *@path (the
 * one there freed first; the caller frees the last).  A second try
 * (@again) is made only once the first said ENOENT, and after following
 * the renames of the object folders on the way: -ENOENT when there was
 * none.  -ENOMEM.  Any thread.
 */
int ll_path_for(struct ll *ll, fuse_ino_t ino, const char *child, bool again,
		char **path);

/*
 * Calls @fn(@ll, path, @arg) with the path of @ino (its entry @child,
 * when not NULL), and once more on the new path when it said the path is
 * gone and a rename of a folder on the way was followed.  Its result;
 * *@path is the last path made (the caller frees it, NULL or not).
 */
int ll_on_path(struct ll *ll, fuse_ino_t ino, const char *child, char **path,
	       int (*fn)(struct ll *ll, const char *path, void *arg),
	       void *arg);

/* True when @rc says the path is gone and try @tries was the first: try
 * once more with ll_path_for(..., true, ...). */
static inline bool ll_gone(int rc, int tries)
{
	return tries == 0 && (rc == -ENOENT || rc == -ESTALE);
}

/* The kernel told to forget (llinval.c): the queue's notes, on its
 * thread (tgfs_new's @inval), and every folder's entries it was given,
 * from any thread (fs->folders_changed). */
struct inval_note;
void ll_invalidate(void *arg, const struct inval_note *note);
void ll_folders_changed(void *arg);

/* Folders (lldir.c): opened only with -o dir_open, listed whole at
 * offset 0 and handed out in pieces, with attributes to READDIRPLUS. */
void ll_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi);
void ll_releasedir(fuse_req_t req, fuse_ino_t ino,
		   struct fuse_file_info *fi);
/* READDIRPLUS: the same pieces, each entry with its attributes and a node
 * id, as a LOOKUP would give it (the kernel counts a lookup for each). */
void ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi);
/* A LOOKUP gave the kernel @name of @parent, of attributes @st: tells
 * READDIRPLUS whether its caller looks at what it lists (lldir.c). */
void ll_looked_up(fuse_req_t req, fuse_ino_t parent, const struct stat *st);
/* The attribute timeout of @st, the attributes of @path (ll.c): a
 * folder's mtime gets its generation.  Cannot fail. */
double ll_attrs_for(struct ll *ll, const char *path, struct stat *st);

#endif /* TGFS_LL_H */
