/*
 * npool.c - the names of the kernel's nodes (inodes.c), each kept once
 * for all the nodes of that name: an object folder's files are named
 * alike (name, id, object.json...), and so are most of a walk's nodes.
 * A chained hash of counted strings, its buckets doubled as it grows.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mount.h"
#include "npool.h"

/* A name, shared by every node of that name.  An object's folder has its
 * object's id after its name's NUL ("name\0id\0"): its node follows the
 * object's renames (inodes_rehash), and the pool tells the two apart. */
struct pname {
	struct pname *next; /* in its pool bucket */
	uint32_t ref;
	uint32_t size; /* bytes of s, every NUL included */
	char s[];
};

static struct pname **pool_bucket(struct npool *t, const char *s,
				  size_t size)
{
	return &t->bucket[fnv_add(FNV_INIT, s, size) & (t->nbuckets - 1)];
}

static struct pname *pname_of(const char *s)
{
	return (struct pname *)(uintptr_t)(s - offsetof(struct pname, s));
}

const char *npool_id(const char *s)
{
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	return pname_of(s)->size > n ? s + n : NULL;
}

bool npool_same_id(const char *s, const char *id)
{
	const char *have = npool_id(s);

	return have && id ? strcmp(have, id) == 0 : !have && !id;
}

/* Twice the buckets when there are more names than buckets; when out of
 * memory the chains only get longer. */
static void pool_grow(struct npool *t)
{
	uint32_t n = t->nbuckets * 2;
	struct pname **b = calloc(n, sizeof(*b)), **old = t->bucket;
	uint32_t oldn = t->nbuckets;

	if (!b)
		return;
	t->bucket = b;
	t->nbuckets = n;
	for (uint32_t i = 0; i < oldn; i++)
		while (old[i]) {
			struct pname *p = old[i],
				     **head = pool_bucket(t, p->s, p->size);

			old[i] = p->next;
			p->next = *head;
			*head = p;
		}
	free(old);
}

char *npool_get(struct npool *t, const char *s, const char *id)
{
	size_t len = strlen(s) + 1, size = len + (id ? strlen(id) + 1 : 0);
	char key[size];
	struct pname **head, *p;

	memcpy(key, s, len);
	if (id)
		memcpy(key + len, id, size - len);
	head = pool_bucket(t, key, size);
	p = *head;
	while (p && (p->size != size || memcmp(p->s, key, size) != 0))
		p = p->next;
	if (p) {
		p->ref++;
		return p->s;
	}
	if (size > UINT32_MAX || !(p = malloc(sizeof(*p) + size)))
		return NULL;
	memcpy(p->s, key, size);
	p->size = (uint32_t)size;
	p->ref = 1;
	p->next = *head;
	*head = p;
	if (++t->pooled > t->nbuckets)
		pool_grow(t);
	return p->s;
}

void npool_put(struct npool *t, char *s)
{
	struct pname *p, **at;

	if (!s)
		return;
	p = pname_of(s);
	if (--p->ref)
		return;
	for (at = pool_bucket(t, s, p->size); *at && *at != p;
	     at = &(*at)->next)
		;
	if (*at)
		*at = p->next;
	t->pooled--;
	free(p);
}


int npool_init(struct npool *t)
{
	t->nbuckets = 64;
	t->pooled = 0;
	t->bucket = calloc(t->nbuckets, sizeof(*t->bucket));
	return t->bucket ? 0 : -1;
}

void npool_free(struct npool *t)
{
	free(t->bucket);
	t->bucket = NULL;
}
