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
 *    next request outside G (the root and G's kind folder are on the
 *    way, not outside), any request of another process in G, P's end,
 *    or HOLDS_BOUND_S (holds_request at each request; a thread of the
 *    store's for the last two).
 *  - A send that fails puts the links back (nothing held any more), with
 *    a line in /.twingatefs/errors carrying the API's message, and if P
 *    still runs its next request fails with EIO (holds_request): rsync
 *    then exits non-zero, never 0.
 * Removals the API would refuse (a rel a kind's `frozen` entry names:
 * the members of a synced or system group) and removals with no mutation
 * are never held (the caller's choice, linkholds.c): they go at once, as
 * before, and fail at unlink.
 *
 * Identity is the object, not its path: a hold is keyed by its object
 * folder's kind and object id, its relation's index and the link's name;
 * a listing by the listed folder's object (kind and id).  A rename of G
 * while its removals are held (its name file, mv, someone else) changes
 * nothing here: they go to G, once, whatever it is called.
 *
 * This module is the store alone: it knows no path, node or mutation,
 * and includes nothing of fs/.  What it sends goes through the sender it
 * is given (struct holds_ops, from the write layer: linkholds.c).
 *
 * A store belongs to one mount and owns copies of every string it is
 * given.  Any thread may call these: one lock guards the store, and a
 * second (the send lock) makes the sends one at a time; the callbacks
 * are called with neither lock held but the send lock.  Nothing here
 * fails but holds_new (NULL) and holds_take (-ENOTSUP: not held, the
 * caller sends as before).
 */
#ifndef TGFS_HOLDS_H
#define TGFS_HOLDS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "tg_api.h"

#define HOLDS_BOUND_S 2.0   /* a held removal is sent by then at most */
#define HOLDS_LISTED_S 60.0 /* a listing says "taking apart" this long */
#define HOLDS_MAX 4096      /* more at once: sent at once, as before */

struct holds;

/* One held removal as the sender gets it: link @name (target id @tid) of
 * relation @rel; the sender sets @rc, 0 when it went out, -errno when it
 * did not (the sender then recorded the line in errors). */
struct holds_link {
	size_t rel;
	const char *name, *tid;
	int rc;
};

/* What the store calls (the write layer's), with the @ctx of holds_new. */
struct holds_ops {
	/* Sends the @n held removals @links of object @oid of @kind, one
	 * mutation per API call needed, and sets each one's rc.  Called
	 * under the send lock only, from a request's thread (in its user
	 * call) or the store's thread (in a call of its own). */
	void (*send)(void *ctx, const struct tg_kind *kind, const char *oid,
		     struct holds_link *links, size_t n);
	/* Folders' entries changed (a hold came, went or was sent): the
	 * kernel lists them again.  Any thread, without the store's lock
	 * (after a send, with its send lock: it must not wait on a send). */
	void (*changed)(void *ctx);
};

/* A store sending through @ops (kept: static storage) with @ctx, its
 * thread's sends each a user call of @api (NULL: none); or NULL when out
 * of memory.  Its thread starts with the first hold.  holds_free stops
 * the thread, then sends what is still held (call it while what @ctx
 * needs to send still runs: first in tgfs_free); NULL: nothing. */
struct holds *holds_new(const struct holds_ops *ops, void *ctx,
			const struct tg_api_config *api);
void holds_free(struct holds *h);

/* Where a request is, as holds_request tells "in G" and "on the way to
 * G" (the caller makes it from the request's node: linkholds.c). */
struct holds_place {
	enum { HOLDS_AT_ROOT, HOLDS_AT_KIND, HOLDS_AT_OBJECT, HOLDS_AT_OTHER }
		at;
	const struct tg_kind *kind; /* AT_KIND: whose folder; AT_OBJECT */
	const char *id; /* AT_OBJECT: the object folder's object (or below
			 * it); NULL: one no hold is of (a draft, a name
			 * that is not there) */
};

/* @pid listed the folder of object @id of @kind, or a folder in it (a
 * READDIR).  Out of memory: not noted. */
void holds_listed(struct holds *h, const struct tg_kind *kind,
		  const char *id, pid_t pid);
/* Whether @pid did, within HOLDS_LISTED_S, and still runs. */
bool holds_listed_by(struct holds *h, const struct tg_kind *kind,
		     const char *id, pid_t pid);

/* @pid removes link @name (target @tid) of rel @rel of object @id of
 * @kind: 0 when held (the caller answers 0 and sends nothing; the store
 * says folders changed), -ENOTSUP when not (@pid did not list the object
 * lately, HOLDS_MAX reached, out of memory: the caller sends as before). */
int holds_take(struct holds *h, const struct tg_kind *kind, const char *id,
	       size_t rel, const char *name, const char *tid, pid_t pid);

/* Whether link @name of rel @rel of object @id of @kind is held (gone
 * from listings and lookups).  Takes no lock while nothing is held. */
bool holds_hidden(struct holds *h, const struct tg_kind *kind,
		  const char *id, size_t rel, const char *name);

/* Whether anything is held or owed (cheap: no lock). */
bool holds_any(struct holds *h);

/* A request of @pid at @where: sends what it ends (see above), before
 * it goes on; -EIO when @pid is told a send of its removals failed,
 * else 0.  No lock taken while nothing is held or owed. */
int holds_request(struct holds *h, const struct holds_place *where,
		  pid_t pid);

/* Object @id of @kind is being deleted: what is held of it is dropped,
 * never sent (a send under way ends first). */
void holds_drop(struct holds *h, const struct tg_kind *kind, const char *id);

/* Link @name of rel @rel of object @id of @kind is made again: no longer
 * removed.  True when it was held (it is in the tenant: nothing to add). */
bool holds_cancel(struct holds *h, const struct tg_kind *kind,
		  const char *id, size_t rel, const char *name);

#endif /* TGFS_HOLDS_H */
