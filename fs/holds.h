/*
 * holds.h - removals of relation links held for a moment (holds.c), so
 * that taking an object apart (rsync --delete, rm -r, find -delete)
 * never sends half a change (issue 20: "--delete removes each object
 * made since as one clean delete").
 *
 * rsync --delete empties an object's folders of links before anything
 * shows the object itself is going (it removes groups/G/users/ first, in
 * reverse name order).  So a removal of a link in an object folder G
 * (groups/G/users/U, groups/G/resources/R...) by a process P that has
 * listed G or a folder in it (a READDIR: a recursive remover; a plain
 * `rm groups/G/users/U` lists nothing) is held: answered 0, the link
 * gone from listings and lookups (rel_each skips it), nothing sent.
 *  - If P then removes G (rmdir), its held removals are dropped: the
 *    delete alone is sent (holds_drop).
 *  - Otherwise they are sent together, one mutation per API call needed
 *    (one groupUpdate with every removed member), at the first of: P's
 *    next request outside G (G's ancestors are on the way, not outside),
 *    any request of another process in G, P's end, or HOLDS_BOUND_S
 *    (holds_request at each request; a thread of the store's for the
 *    last two).
 *  - A send that fails puts the links back (nothing held any more), with
 *    a line in /.twingatefs/errors carrying the API's message, and if P
 *    still runs its next request fails with EIO (holds_request): rsync
 *    then exits non-zero, never 0.
 * Removals the API would refuse (the membership of a synced or system
 * group) and removals with no mutation are never held: they go at once,
 * as before, and fail at unlink.
 *
 * A store belongs to one mount (struct tgfs) and owns what it holds; any
 * thread may call these (one lock, sends one at a time under a second).
 * Nothing here fails but holds_new (NULL) and holds_take (-errno, when
 * nothing is held and the caller sends as before).
 */
#ifndef TGFS_HOLDS_H
#define TGFS_HOLDS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define HOLDS_BOUND_S 2.0   /* a held removal is sent by then at most */
#define HOLDS_LISTED_S 60.0 /* a listing says "taking apart" this long */
#define HOLDS_MAX 4096      /* more at once: sent at once, as before */

struct tgfs;
struct node;
struct holds;

/* A store for @fs, or NULL; its thread starts with the first hold.
 * holds_free stops the thread, then sends what is still held (before
 * the API and the queue go: first in tgfs_free). */
struct holds *holds_new(struct tgfs *fs);
void holds_free(struct holds *h);

/* @pid listed the folder at @path (a READDIR). */
void holds_listed(struct holds *h, const char *path, pid_t pid);

/* @pid removes link @n at @path (a link in a folder of links, target id
 * @tid): 0 when held (the caller answers 0 and sends nothing), -ENOTSUP
 * when it is not to be held (the caller sends it as before). */
int holds_take(struct tgfs *fs, const char *path, const struct node *n,
	       const char *tid, pid_t pid);

/* Whether link @name of relation @rel of object @oid is held (gone from
 * listings and lookups).  Takes no lock while nothing is held. */
bool holds_hidden(struct holds *h, const char *oid, size_t rel,
		  const char *name);

/* Whether anything is held (cheap: no lock). */
bool holds_any(struct holds *h);

/* A request of @pid on @path: sends what it ends (see above); -EIO when
 * @pid is told a send of its removals failed, else 0.  No lock taken
 * while nothing is held or owed. */
int holds_request(struct tgfs *fs, const char *path, pid_t pid);

/* Object folder @dir is being deleted: what is held in it is dropped,
 * never sent. */
void holds_drop(struct tgfs *fs, const char *dir);

/* Link @name of relation @rel of object @oid is made again: no longer
 * removed.  True when it was held (it is in the tenant: nothing to add). */
bool holds_cancel(struct tgfs *fs, const char *oid, size_t rel,
		  const char *name);

#endif /* TGFS_HOLDS_H */
