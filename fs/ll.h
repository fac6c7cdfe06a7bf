/*
 * ll.h - what the files of the FUSE face (ll.c, llfile.c, lldir.c,
 * llinval.c)
 * share: the session's state, taken from each request (ll_of), the way
 * a handler gets the node of a node id (ll_on_node), and when to try
 * once more after following a rename (ll_gone).
 * Nothing outside the ll*.c files includes it.
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

/* A process that lists folders, and whether it looks at what it lists
 * (lldir.c): READDIRPLUS gives attributes only to one that does. */
struct looker {
	pid_t pid;
	uint64_t listed; /* the folder it listed last */
	bool looks;      /* it looked up a file of a folder it listed */
	uint64_t used;
};
#define LOOKERS 16

/* A user call running, found by its number when INTERRUPT comes
 * (llcall.c). */
struct ll_running {
	uint64_t id;
	struct tg_call *call;
	struct ll_running *next;
};

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
	pthread_mutex_t lookers_lock; /* guards lookers, lookers_clock */
	struct looker lookers[LOOKERS];
	uint64_t lookers_clock;
	pthread_mutex_t calls_lock; /* guards calls and last_call */
	struct ll_running *calls;
	uint64_t last_call;
	/* ll.c's operations, and the same made user calls (ll_calls) */
	const struct fuse_lowlevel_ops *inner;
	struct fuse_lowlevel_ops outer;
	/* libfuse < 3.16 (ll.c, io_writev): .init asked for parallel
	 * lookups in a folder; the INIT reply went out (atomic). */
	bool want_parallel_dirops;
	bool init_reply_seen;
};

/*
 * @ops with each operation that may wait on the API made one user call
 * with a deadline and interruptible (llcall.c).  The table returned is
 * @ll's (ll->outer); @ops must outlive the session, and @ll's calls_lock
 * be initialised.  Cannot fail.
 */
const struct fuse_lowlevel_ops *ll_calls(struct ll *ll,
					 const struct fuse_lowlevel_ops *ops);

/* Whether the process @pid, a caller's, is still there: the cache's
 * tg_cache_set_alive (its walk ends with it).  Any thread. */
bool ll_reader_alive(uint64_t pid);

/* The process whose request this thread runs (llcall.c); 0 outside one. */
pid_t ll_caller(void);

static inline struct ll *ll_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* Replies @rc (0 or -errno) as the request's error. */
static inline void ll_reply_rc(fuse_req_t req, int rc)
{
	/* -ESTALE: a path that a rename took, and no rename to follow, or a
	 * handle whose file is gone. */
	if (rc == -ESTALE)
		rc = -ENOENT;
	fuse_reply_err(req, rc < 0 ? -rc : 0);
}

/*
 * Resolve once: calls @fn(@ll, at, @arg) with the node of @ino (its
 * entry @child, when not NULL), found from what the kernel's node table
 * keeps of it (inodes_chain, node_resolve_chain: by its object's id, a
 * step for each name below the nearest node its key makes at once), and
 * its path now.  @fn gets what resolving said in at->rc (its node only
 * when 0, released after it returns).  Its result; *@path is the path
 * the caller frees (NULL when the node id is unknown: -ENOENT).
 */
struct tgfs_at;
int ll_on_node(struct ll *ll, fuse_ino_t ino, const char *child,
	       char **path,
	       int (*fn)(struct ll *ll, const struct tgfs_at *at, void *arg),
	       void *arg);

/*
 * The attributes and node id of entry @name of @parent, resolved in @at,
 * into @e, with one more lookup for the kernel to forget, as LOOKUP and
 * READDIRPLUS give them: an object's folder known by its object's id
 * (@by_id), the node's key kept (inodes_set_key).  0, or -errno with
 * nothing taken.  Any thread.
 */
struct fuse_entry_param;
int ll_entry(struct ll *ll, fuse_ino_t parent, const char *name,
	     const struct tgfs_at *at, bool by_id, struct fuse_entry_param *e);

/* True when @rc says the name is gone and try @tries was the first: try
 * once more, after following the renames of the object folders on the
 * way (ll.c follow), when there was one. */
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

/* Files (llfile.c): OPEN and CREATE by node, the rest by handle. */
void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void ll_create(fuse_req_t req, fuse_ino_t parent, const char *name,
	       mode_t mode, struct fuse_file_info *fi);
void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	     struct fuse_file_info *fi);
void ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
	      off_t off, struct fuse_file_info *fi);
void ll_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
	      struct fuse_file_info *fi);
void ll_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
/* Waits (bounded) until what the kernel was told to forget reached it:
 * after a change through a file, before it is answered. */
void ll_settle(struct ll *ll);

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
