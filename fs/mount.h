/*
 * mount.h - the mount's state and its errors: what every file of fs/ may
 * use.  This module uses no other module of fs/ (tgfs.h, the public face,
 * only for struct tgfs_config and TGFS_NAME_MAX).
 *
 * Everything here may be called from any thread; what takes fs->lock
 * says so.
 */
#ifndef TGFS_MOUNT_H
#define TGFS_MOUNT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "tg_api.h"
#include "tg_cache.h"
#include "tgfs.h"

/* The last API errors, for /.twingatefs/errors. */
#define TGFS_ERRORS_KEPT 32

struct tgfs_error {
	time_t when;
	char path[256];
	char message[256];
};

struct seen;          /* the mtimes shown (state.h) */
struct scratch_store; /* scratch files (scratch.h) */
struct draft_store;   /* drafts (draft.h) */
struct secret;        /* secrets made by this mount (secret.h) */
struct inval_queue;   /* kernel cache invalidations (inval.h) */
struct kcache;        /* what the kernel caches (kcache.h) */
struct inodes;        /* the kernel's node ids (inodes.h) */
struct node_ops;      /* what each node type does (node.h) */
struct removals;      /* files removed lately (removals.h) */
struct holds;         /* link removals held (holds.h) */

/*
 * The mount's state, made by tgfs_new (ops.c) and freed by tgfs_free.
 * Its members are set once at mount and read without a lock, except
 * those said to be guarded.
 */
struct tgfs {
	const struct tgfs_config *cfg;
	/* by enum node_type: how each type of node steps, stats, lists and
	 * opens (attrs.c tgfs_node_types) */
	const struct node_ops *node_types;
	struct tg_api *api;
	struct tg_cache *cache;
	time_t mount_time;
	struct seen *seen;
	pthread_mutex_t lock; /* guards errors, nerrors, serving_stale and
			       * secrets */
	/* One change to the cached collections at a time: each copies a
	 * collection, changes the copy and puts it back (coll_apply.c). */
	pthread_mutex_t apply_lock;
	struct tgfs_error errors[TGFS_ERRORS_KEPT];
	unsigned nerrors;    /* total ever recorded */
	bool serving_stale; /* the last read was answered from stale data */
	struct scratch_store *scratch;
	struct draft_store *drafts;
	struct versions *versions; /* versions of objects seen (versions.h) */
	struct secret *secrets; /* newest first; freed at unmount */
	struct inval_queue *inval;
	struct removals *removals; /* files removed lately, not sent */
	struct holds *holds; /* link removals held a moment (holds.h) */
	struct kcache *kcache;
	struct inodes *nodes; /* the kernel's node ids (ll.c sets it) */
	/* Set by ll.c: the kernel lists folders from its cache, without
	 * OPENDIR; folders_changed(folders_arg) makes it drop them all. */
	bool no_opendir;
	void (*folders_changed)(void *arg);
	void *folders_arg;
	uint64_t reads;    /* READs answered (atomic) */
	uint64_t readdirs; /* folders listed to the kernel (atomic) */
	/* paths resolved from the root, and the names stepped through on
	 * the way (node.c; atomic) */
	uint64_t resolves, resolve_steps;
	/* of those, found from the kernel's node table (nodekey.c) */
	uint64_t resolve_keyed;
};

/* Monotonic seconds.  Cannot fail. */
static inline double mono_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* 64-bit FNV-1a, the one hash of fs/ (inode numbers, first-seen contents,
 * kernel cache records): fnv_add(FNV_INIT, ...) and on.  Pure. */
#define FNV_INIT 1469598103934665603ull
static inline uint64_t fnv_add(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

/* The errno for an API error (EIO for transport and server failures),
 * positive; 0 for TG_OK.  Pure. */
int tgfs_errno(enum tg_err err);

/* True for an error that leaves a mutation's outcome unknown: the request
 * may have taken effect (see tg_api_find_lost_create); an interrupted one
 * is accounted for as one that timed out. */
static inline bool tgfs_outcome_unknown(enum tg_err err)
{
	return err == TG_ENET || err == TG_EPROTO || err == TG_ESERVER ||
	       err == TG_EINTR;
}

/*
 * Records a failed call at @path (@err a negative errno, @message the
 * API's words or NULL) in the errors log (the last TGFS_ERRORS_KEPT) and
 * the program's log.  Takes fs->lock; cannot fail (long texts are cut).
 */
void tgfs_record_error(struct tgfs *fs, const char *path, int err,
		       const char *message);

/*
 * Copies the errors kept, oldest first, into @out (room for
 * TGFS_ERRORS_KEPT) and returns how many.  Takes fs->lock.
 */
unsigned tgfs_errors(struct tgfs *fs, struct tgfs_error *out);

/* Whether the last read of a collection was answered from stale data
 * (the API failing): set by the collections, shown by status.  Take
 * fs->lock. */
void tgfs_mark_stale(struct tgfs *fs, bool stale);
bool tgfs_serving_stale(struct tgfs *fs);

/*
 * Something folders' entries are made of changed (not by a folder
 * operation the kernel saw): the kernel lists folders again.  Calls the
 * hook ll.c set (none: nothing to do); any thread, no lock of ours held
 * but what the hook takes.
 */
void tgfs_folders_changed(struct tgfs *fs);

#endif /* TGFS_MOUNT_H */
