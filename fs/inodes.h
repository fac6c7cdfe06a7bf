/*
 * inodes.h - the node ids the kernel holds (inodes.c): for each, its
 * name in its parent folder, its generation and its lookup count, as
 * the kernel counts them, whether it was listed to the kernel, and its
 * key (what it is: node type, kind, field), to be found again without a
 * walk from the root (node.h node_resolve_chain).
 *
 * Node id 1 is the root.  Every function takes the table's lock, so any
 * thread may call it; ids the table does not have are ignored (or
 * -ENOENT where a result is asked).  Uses nothing of fs/ (the hash of
 * mount.h only).
 */
#ifndef TGFS_INODES_H
#define TGFS_INODES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct inodes;

/* A table holding the root (id 1) alone, or NULL when out of memory.
 * Free with inodes_free() (NULL: nothing). */
struct inodes *inodes_new(void);
void inodes_free(struct inodes *t);
/* The id and generation of @name in folder @parent, made when new, with
 * one more lookup to forget.  @id: the object id when @name is an
 * object's folder (NULL otherwise); a node of that name for another
 * object (or none) is left to its own.  -ENOENT (no such @parent),
 * -ENOMEM. */
int inodes_lookup(struct inodes *t, uint64_t parent, const char *name,
		  const char *id, uint64_t *ino, uint64_t *gen);
/* Takes @nlookup lookups back; the id goes with its last (once nothing
 * under it is left). */
void inodes_forget(struct inodes *t, uint64_t ino, uint64_t nlookup);
/* The id the kernel holds for @path, 0 when none. */
uint64_t inodes_find(struct inodes *t, const char *path);
/* @name in @parent is gone (its id stays until forgotten). */
void inodes_unlink(struct inodes *t, uint64_t parent, const char *name);
/* @name in @parent is now @newname in @newparent, in place of what was
 * there.  -ENOMEM: it is gone instead. */
int inodes_rename(struct inodes *t, uint64_t parent, const char *name,
		  uint64_t newparent, const char *newname);
/* The object folder @ino is now called @newname in the same folder (its
 * object was renamed): its node id, and those under it, stay valid.  0,
 * or -ENOMEM (nothing changed). */
int inodes_rehash(struct inodes *t, uint64_t ino, const char *newname);
/* The ids of the object folders from the root down to @ino (itself
 * included), at most @max, in @ids: how many (0: none, or more than
 * @max). */
size_t inodes_objects(struct inodes *t, uint64_t ino, uint64_t *ids,
		      size_t max);
/* The path of object folder @ino's folder, its name and its object's id,
 * each a new string the caller frees.  -ENOENT (no such node, or not an
 * object's folder), -ENOMEM. */
int inodes_object(struct inodes *t, uint64_t ino, char **dir, char **name,
		  char **id);
/* Node @ino's folder and name (an object's without its id) into
 * *@parent and @name (@size bytes, cut to fit; NULL: not wanted), and
 * whether the kernel finds it by that name (not unlinked, nor taken by
 * another).  0, or -ENOENT (no such node, or the root). */
int inodes_entry(struct inodes *t, uint64_t ino, uint64_t *parent,
		 char *name, size_t size, bool *hashed);
/* Puts in @ids up to @max ids, from id *@from on, of the object folders
 * of object @id (NULL: of any object), and moves *@from past them (start
 * at 0; 0 ids: no more).  A scan of the table: for a change, not for
 * every request. */
size_t inodes_with_id(struct inodes *t, const char *id, uint64_t *from,
		      uint64_t *ids, size_t max);
/* The same for the nodes in folder @parent. */
size_t inodes_children(struct inodes *t, uint64_t parent, uint64_t *from,
		       uint64_t *ids, size_t max);
/* The same for the nodes in folder @top or in folders under it, down to
 * INODES_DEPTH levels (an object's access edges' files are 4 down). */
#define INODES_DEPTH 4
size_t inodes_descendants(struct inodes *t, uint64_t top, uint64_t *from,
			  uint64_t *ids, size_t max);
/* The folder @ino was listed to the kernel.  inodes_take_listed puts in
 * @ids up to @max ids of those marked since their last take, from id
 * *@from on, clears their marks and moves *@from past them (start at 0;
 * 0 ids: no more). */
void inodes_mark_listed(struct inodes *t, uint64_t ino);
size_t inodes_take_listed(struct inodes *t, uint64_t *from, uint64_t *ids,
			  size_t max);
/*
 * What node @ino is, so that it can be found again without a walk from
 * the root (node.h node_key): a node type, a kind's index and a field's
 * (each as node.h numbers them; out of range: not kept).  Set when the
 * kernel learns the node (LOOKUP, READDIRPLUS, mkdir...), kept across
 * renames.  Unknown ids are ignored.
 */
void inodes_set_key(struct inodes *t, uint64_t ino, unsigned type,
		    unsigned kind, unsigned index);

struct inodes_key {
	bool set;
	uint8_t type, kind;
	uint16_t index;
};

/* As inodes_descendants, for the nodes of key @key (inodes_set_key) in
 * object folder
 * @top or below it, down to INODES_DEPTH levels, with no other
 * object's folder between (a network's connector's files are the connector's).
 * A key not set: none. */
size_t inodes_keyed(struct inodes *t, uint64_t top, struct inodes_key key,
		    uint64_t *from, uint64_t *ids, size_t max);
/* The id of @name in folder @parent as the kernel finds it (not an
 * unlinked one), 0 when none. */
uint64_t inodes_child(struct inodes *t, uint64_t parent, const char *name);

/* One component of a chain: its name, its key (unset: not known), and
 * its object's id when it is an object's folder (else NULL). */
struct inodes_hop {
	const char *name;
	const char *id;
	struct inodes_key key;
};

/* Node @ino from the root down: hop[0] is the root, hop[n] the node
 * (its entry @child, keyless, when asked for); path is its path. */
struct inodes_chain {
	char *path;
	char *buf; /* the names and ids */
	size_t n;
	struct inodes_hop hop[];
};

/*
 * The chain of @ino (of its entry @child when not NULL), a copy taken
 * under the lock, into *@out: the caller owns it and frees it with
 * inodes_chain_free.  -ENOENT (no such node), -ENOMEM (*@out NULL).
 */
int inodes_chain(struct inodes *t, uint64_t ino, const char *child,
		 struct inodes_chain **out);
/* A copy of @c the caller owns, NULL when out of memory. */
struct inodes_chain *inodes_chain_dup(const struct inodes_chain *c);
/* Frees @c (NULL: nothing). */
void inodes_chain_free(struct inodes_chain *c);

/* Node ids the kernel holds now (the root too), and the most it held at
 * once. */
void inodes_count(struct inodes *t, size_t *held, size_t *most);

/* A number naming the node @ino for as long as any use of it lasts: its
 * id and the generation of its slot (a forgotten id given out again
 * names another node); 0 when the kernel holds no such node. */
uint64_t inodes_stamp(struct inodes *t, uint64_t ino);

#endif /* TGFS_INODES_H */
