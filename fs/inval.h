/*
 * inval.h - telling the kernel to forget what it holds, soon, from a
 * thread of ours: never inside the operation that caused it, where the
 * kernel would wait on the very request being answered (a LOOKUP or a
 * RENAME holds its folder's lock, which an entry's invalidation takes).
 *
 * What is forgotten is named by what changed: an object by its id (the
 * store says it, coll_apply.c, after each change), an entry by its
 * folder's node id and name (ll.c, after following a rename), every
 * object folder's entry (a refresh), or, for what has no id (a draft's
 * folder, a file whose size the kernel holds wrongly), a path.  The
 * FUSE face (ll.c) turns each into the node ids the kernel holds.
 */
#ifndef TGFS_INVAL_H
#define TGFS_INVAL_H

#include <stdint.h>

#include "mount.h"

enum inval_kind {
	INVAL_PATH,   /* path: the file or folder there */
	INVAL_OBJECT, /* id: every folder of that object, and its files */
	INVAL_ENTRY,  /* parent, name: that entry */
	INVAL_NAMES,  /* every object folder's entry (expired) */
	INVAL_NAME,   /* path: the entry there, even one the kernel holds
		       * as absent (a negative entry) */
};

/* One thing to forget, as the queue's thread hands it over (the strings
 * are the queue's, valid during the call only). */
struct inval_note {
	enum inval_kind kind;
	const char *path;  /* INVAL_PATH, INVAL_NAME */
	const char *id;    /* INVAL_OBJECT */
	/* INVAL_OBJECT: the object's file name now ("" when it is gone,
	 * NULL when unknown); its folders under another name lose that
	 * entry.  INVAL_ENTRY: the entry's name. */
	const char *name;
	uint64_t parent; /* INVAL_ENTRY: the folder's node id */
};

/*
 * Starts the thread that calls @inval(@arg, note) for each note queued,
 * in order (with all signals blocked).  Returns the queue, which the
 * caller stops with inval_stop(), or NULL when out of memory or threads.
 */
struct inval_queue *inval_start(void (*inval)(void *arg,
					      const struct inval_note *n),
				void *arg);

/* Stops the thread (what it is doing is finished, what is still queued
 * is dropped) and frees @q.  NULL: nothing.  Not from the thread. */
void inval_stop(struct inval_queue *q);

/*
 * Queue a note (strings copied).  Any thread; never waits on the kernel.
 * Out of memory, or no queue (fs->inval NULL): nothing is queued, and the
 * kernel keeps what it has until its timeouts.
 */
void inval_path(struct tgfs *fs, const char *path);
void inval_object(struct tgfs *fs, const char *id, const char *name);
void inval_entry(struct tgfs *fs, uint64_t parent, const char *name);
void inval_names(struct tgfs *fs);
void inval_name(struct tgfs *fs, const char *path);

/*
 * Waits until what was queued before the call has reached the kernel, at
 * most @ms milliseconds: a change made through the mount is then seen by
 * the caller's next command.  True when it has.  Only from a request that
 * holds no folder's lock in the kernel (WRITE, FLUSH, FSYNC, RELEASE):
 * the thread may be waiting on that lock.  Any other thread; holds no
 * lock of ours while waiting.
 */
bool inval_wait(struct tgfs *fs, unsigned ms);

#endif /* TGFS_INVAL_H */
