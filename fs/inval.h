/*
 * inval.h - telling the kernel to forget what it holds, soon, from a
 * thread of ours: never inside the operation that caused it, where the
 * kernel would wait on the very request being answered (a LOOKUP or a
 * RENAME holds its folder's lock, which an entry's invalidation takes).
 *
 * What is forgotten is named by what changed, never by a path where the
 * thing has an identity: an object by its id (the store says it,
 * coll_apply.c, after each change); a node at or below an object's
 * folder by that object's id and the node's key (inodes.h: node type,
 * kind, field or relation), and maybe an entry of it by name (a
 * relation's folder after a link change, a field file); an entry by its
 * folder's node id and name (ll.c, after following a rename); every
 * object folder's entry (a refresh).  The FUSE face (llinval.c) turns
 * each into the node ids the kernel holds now, whatever the object has
 * been renamed to meanwhile.
 *
 * Paths remain only for what has no object id (inval_path, inval_name):
 * a draft's or a restore folder's files and the folder it is listed in
 * (draft.h: known by kind and name until it is created, and the kernel's
 * nodes made for it have no id even once it is: objects.c, write.c
 * wr_draft_changed, links.c and edges.c in a draft), the scratch files
 * and folders a restore or a held access edge leaves (scratch.h, keyed
 * by path: edges.c's held edges, objects.c apply_held), the name an
 * object was about to take when its create's answer was lost or a new
 * object's name the kernel may hold as absent (no node yet: objects.c
 * create_named), a top kind's folder (its path is its identity:
 * write.c consumed), a status file's size (attrs.c), and the negative
 * entries kcache.c drops at a refresh (names nothing has: status.c).
 */
#ifndef TGFS_INVAL_H
#define TGFS_INVAL_H

#include <stdint.h>

#include "inodes.h"
#include "mount.h"

enum inval_kind {
	INVAL_PATH,   /* path: the file or folder there */
	INVAL_OBJECT, /* id: every folder of that object, and its files */
	INVAL_ENTRY,  /* parent, name: that entry */
	INVAL_NAMES,  /* every object folder's entry (expired) */
	INVAL_NAME,   /* path: the entry there, even one the kernel holds
		       * as absent (a negative entry) */
	INVAL_KEYED,  /* id, key, what: a node in that object's folders */
};

/* INVAL_KEYED: what is forgotten of each node of the key (in every
 * folder of the object the kernel holds, by whatever name). */
enum {
	INVAL_SELF = 1, /* the node: its attributes, pages, listing */
	/* @name: its entry of that name, not the node the kernel holds
	 * there (a name it holds as absent, or that just took an object) */
	INVAL_NAME_ONLY = 2,
};

/* One thing to forget, as the queue's thread hands it over (the strings
 * are the queue's, valid during the call only). */
struct inval_note {
	enum inval_kind kind;
	const char *path;  /* INVAL_PATH, INVAL_NAME */
	const char *id;    /* INVAL_OBJECT, INVAL_KEYED */
	/* INVAL_OBJECT: the object's file name now ("" when it is gone,
	 * NULL when unknown); its folders under another name lose that
	 * entry.  INVAL_ENTRY: the entry's name.  INVAL_KEYED: an entry
	 * of the node, forgotten too (its node the kernel holds, else the
	 * entry, negative or not), or NULL. */
	const char *name;
	uint64_t parent; /* INVAL_ENTRY: the folder's node id */
	/* INVAL_KEYED: the node's key (node.h node_key_of; an object's
	 * folder itself: NODE_OBJECT) and what of it (INVAL_SELF...) */
	struct inodes_key key;
	unsigned what;
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
/* INVAL_KEYED: node @key of object @id's folders (@what: INVAL_SELF...),
 * and its entry @name (NULL: none).  An unset key or no id: nothing. */
void inval_keyed(struct tgfs *fs, const char *id, struct inodes_key key,
		 unsigned what, const char *name);

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
