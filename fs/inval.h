/*
 * inval.h - telling the kernel to forget what it cached of paths, soon,
 * from a thread of ours: never inside the operation that caused it, where
 * the kernel would wait on the very request being answered.
 */
#ifndef TGFS_INVAL_H
#define TGFS_INVAL_H

#include "mount.h"

/*
 * Starts the thread that calls @inval(@arg, path) for each path queued,
 * in order (with all signals blocked).  Returns the queue, which the
 * caller stops with inval_stop(), or NULL when out of memory or threads.
 * Call before any inval_path.
 */
struct inval_queue *inval_start(void (*inval)(void *arg, const char *path),
				void *arg);

/* Stops the thread (what it is doing is finished, what is still queued
 * is dropped) and frees @q.  NULL: nothing.  Not from the thread. */
void inval_stop(struct inval_queue *q);

/*
 * Queues @path (copied) for the kernel to forget.  Any thread; never
 * waits on the kernel.  Out of memory, or no queue (fs->inval NULL, as in
 * tests): nothing is queued, and the kernel keeps what it has until its
 * timeouts.
 */
void inval_path(struct tgfs *fs, const char *path);

/*
 * Waits until the kernel was told all that is queued, @max_s seconds at
 * most (the kernel may wait on a call in the folder it is told of): true
 * when it was.  For a request that must not be answered before (a
 * refresh), so not from the queue's thread.
 */
bool inval_wait(struct tgfs *fs, double max_s);

#endif /* TGFS_INVAL_H */
