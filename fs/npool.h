/*
 * npool.h - a pool of names (npool.c), each kept once with a count of
 * its users: the names of the kernel's nodes (inodes.c).  An object's
 * folder's name carries its object's id after its NUL ("name\0id\0"),
 * so a node follows its object's renames and the pool tells two objects
 * of one name apart.
 *
 * Not thread-safe: its owner (the node table) holds its lock around
 * every call.  Strings handed out stay valid until their last npool_put.
 */
#ifndef TGFS_NPOOL_H
#define TGFS_NPOOL_H

#include <stdbool.h>
#include <stdint.h>

struct pname;

struct npool {
	struct pname **bucket; /* a power of two of them */
	uint32_t nbuckets, pooled;
};

/* An empty pool: 0, or -1 when out of memory (free it all the same). */
int npool_init(struct npool *t);
/* Frees the pool's buckets; every name must have been put back. */
void npool_free(struct npool *t);
/* @s (with object id @id, or NULL) from the pool, one more user of it:
 * shared, not to be changed or freed but by npool_put.  NULL when out
 * of memory (nothing taken). */
char *npool_get(struct npool *t, const char *s, const char *id);
/* One user of pooled name @s fewer (NULL: nothing); the last frees it. */
void npool_put(struct npool *t, char *s);
/* The object id pooled name @s carries, or NULL (@s NULL too). */
const char *npool_id(const char *s);
/* Whether pooled @s carries @id (NULL: none). */
bool npool_same_id(const char *s, const char *id);

#endif /* TGFS_NPOOL_H */
