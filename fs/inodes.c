/*
 * inodes.c - the node ids the kernel holds, and the path of each.
 *
 * The kernel names files by node id after a LOOKUP (or a mkdir, create,
 * symlink) gave one, and keeps it until a FORGET takes its lookups back.
 * Each id keeps its parent's id, its name and its key, so that its chain
 * (the way down from the root, inodes_chain) and its path can be built by
 * walking up.
 *
 * libfuse's high-level table took ~240 bytes a node (a 152-byte node in a
 * page-sized slab, two hash tables, libfuse's copies of listings): after a
 * find of the large tenant, 72,000 folders held 17.5 MB, and after an
 * rsync, which stats every file, most of its 169 MiB.  A node here is 32
 * bytes in one array indexed by id, four in the name hash, and its name,
 * kept once for all the nodes of that name (npool.c).  What a node is
 * (its key: node type, kind, field) fits in the bits left of its flags'
 * word, so that a request can find its node again
 * from the nearest object folder up (by that object's id) instead of
 * walking from the root (inodes_chain, node_resolve_chain).
 *
 * Ids are slot numbers (1, FUSE_ROOT_ID, is the root) and come back after
 * a forget; the generation of the slot tells the uses apart.  A node with
 * nodes under it stays until they are gone, so a path can always be
 * built; an open file keeps its node (the kernel forgets it only after
 * its last release).  One lock covers the table.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inodes.h"
#include "mount.h"
#include "npool.h"

#define NONE UINT32_MAX /* a free slot's parent */

struct inode {
	uint32_t parent;   /* its folder's id; NONE: a free slot */
	uint32_t next;     /* next in its hash chain, or in the free list */
	uint32_t children; /* nodes whose parent this is */
	uint32_t gen;      /* bumped at each reuse of the slot */
	uint32_t nlookup;  /* the kernel's lookups not yet forgotten */
	uint32_t hashed : 1; /* found by its name (not unlinked) */
	uint32_t listed : 1; /* a folder the kernel was given entries of */
	/* What it is (inodes_set_key): in the 32 bits two flags took,
	 * so a node stays 32 bytes. */
	uint32_t keyed : 1;
	uint32_t type : 5;
	uint32_t kind : 8;
	uint32_t index : 16;
	char *name;        /* pooled (struct pname); NULL for the root */
};
_Static_assert(sizeof(struct inode) <= 32, "a node stays 32 bytes");

struct inodes {
	pthread_mutex_t lock;
	struct inode *node; /* [0] unused, [1] the root */
	uint32_t cap, used; /* slots made, slots in use (the root too) */
	uint32_t free;      /* first free slot, 0: none */
	uint32_t *bucket;   /* heads of the name hash, a power of two */
	uint32_t nbuckets;
	struct npool names; /* the nodes' names, each once */
};

static uint32_t name_hash(uint32_t parent, const char *name)
{
	uint64_t h = fnv_add(FNV_INIT, &parent, sizeof(parent));

	h = fnv_add(h, name, strlen(name));
	return (uint32_t)(h ^ h >> 32);
}

struct inodes *inodes_new(void)
{
	struct inodes *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cap = 64;
	t->nbuckets = 64;
	t->node = calloc(t->cap, sizeof(*t->node));
	t->bucket = calloc(t->nbuckets, sizeof(*t->bucket));
	if (!t->node || !t->bucket || npool_init(&t->names)) {
		free(t->node);
		free(t->bucket);
		npool_free(&t->names);
		free(t);
		return NULL;
	}
	t->node[0].parent = NONE;
	t->node[1] = (struct inode){ .parent = 0, .nlookup = 1 };
	t->used = 2;
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

void inodes_free(struct inodes *t)
{
	if (!t)
		return;
	for (uint32_t i = 2; i < t->used; i++)
		if (t->node[i].parent != NONE)
			npool_put(&t->names, t->node[i].name);
	free(t->node);
	free(t->bucket);
	npool_free(&t->names);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static struct inode *node_of(struct inodes *t, uint64_t ino)
{
	if (ino < 1 || ino >= t->used || t->node[ino].parent == NONE)
		return NULL;
	return &t->node[ino];
}

/* The id of @name in folder @parent, 0 when the kernel has none. */
static uint32_t find_child(struct inodes *t, uint32_t parent,
			   const char *name)
{
	uint32_t i = t->bucket[name_hash(parent, name) & (t->nbuckets - 1)];

	while (i && (t->node[i].parent != parent ||
		     strcmp(t->node[i].name, name) != 0))
		i = t->node[i].next;
	return i;
}

static void hash_in(struct inodes *t, uint32_t i)
{
	uint32_t *head = &t->bucket[name_hash(t->node[i].parent,
					      t->node[i].name) &
				    (t->nbuckets - 1)];

	t->node[i].next = *head;
	*head = i;
	t->node[i].hashed = 1;
}

static void hash_out(struct inodes *t, uint32_t i)
{
	uint32_t *p = &t->bucket[name_hash(t->node[i].parent,
					   t->node[i].name) &
				 (t->nbuckets - 1)];

	while (*p && *p != i)
		p = &t->node[*p].next;
	if (*p)
		*p = t->node[i].next;
	t->node[i].hashed = 0;
	t->node[i].next = 0;
}

/* Twice the buckets when there are more nodes than buckets; false when
 * out of memory (the table works on, with longer chains). */
static bool grow_buckets(struct inodes *t)
{
	uint32_t n = t->nbuckets * 2;
	uint32_t *b = calloc(n, sizeof(*b));

	if (!b)
		return false;
	free(t->bucket);
	t->bucket = b;
	t->nbuckets = n;
	for (uint32_t i = 2; i < t->used; i++)
		if (t->node[i].parent != NONE && t->node[i].hashed)
			hash_in(t, i);
	return true;
}

/* A free slot, 0 when out of memory or ids. */
static uint32_t take_slot(struct inodes *t)
{
	uint32_t i = t->free;

	if (i) {
		t->free = t->node[i].next;
		t->node[i].listed = 0;
		return i;
	}
	if (t->used == t->cap) {
		uint32_t cap = t->cap * 2;
		struct inode *n;

		if (cap <= t->cap || cap >= NONE)
			return 0;
		n = realloc(t->node, (size_t)cap * sizeof(*n));
		if (!n)
			return 0;
		t->node = n;
		t->cap = cap;
	}
	t->node[t->used].gen = 0;
	t->node[t->used].listed = 0;
	return t->used++;
}

/* Frees @i's slot, and its folder's when that was all that kept it. */
static void drop(struct inodes *t, uint32_t i)
{
	while (i > 1) {
		struct inode *n = &t->node[i];
		uint32_t parent = n->parent;

		if (n->nlookup || n->children)
			return;
		if (n->hashed)
			hash_out(t, i);
		npool_put(&t->names, n->name);
		n->name = NULL;
		n->parent = NONE;
		n->next = t->free;
		t->free = i;
		t->node[parent].children--;
		i = parent;
	}
}

int inodes_lookup(struct inodes *t, uint64_t parent, const char *name,
		  const char *id, uint64_t *ino, uint64_t *gen)
{
	uint32_t i;
	int rc = 0;

	pthread_mutex_lock(&t->lock);
	if (!node_of(t, parent)) {
		rc = -ENOENT;
		goto out;
	}
	i = find_child(t, (uint32_t)parent, name);
	if (i && !npool_same_id(t->node[i].name, id)) {
		/* Another object has the name now (or none): the old node
		 * stays its object's, by its id. */
		hash_out(t, i);
		i = 0;
	}
	if (!i) {
		char *copy = npool_get(&t->names, name, id);

		i = copy ? take_slot(t) : 0;
		if (!i) {
			npool_put(&t->names, copy);
			rc = -ENOMEM;
			goto out;
		}
		t->node[i] = (struct inode){ .parent = (uint32_t)parent,
					     .gen = t->node[i].gen + 1,
					     .name = copy };
		t->node[parent].children++;
		hash_in(t, i);
		if (t->used - 1 > t->nbuckets)
			grow_buckets(t);
	}
	if (t->node[i].nlookup < UINT32_MAX) /* beyond: never forgotten */
		t->node[i].nlookup++;
	*ino = i;
	*gen = t->node[i].gen;
out:
	pthread_mutex_unlock(&t->lock);
	return rc;
}

void inodes_forget(struct inodes *t, uint64_t ino, uint64_t nlookup)
{
	struct inode *n;

	pthread_mutex_lock(&t->lock);
	n = ino > 1 ? node_of(t, ino) : NULL;
	if (n && n->nlookup < UINT32_MAX) {
		n->nlookup = nlookup < n->nlookup ? n->nlookup - (uint32_t)nlookup
						  : 0;
		drop(t, (uint32_t)ino);
	}
	pthread_mutex_unlock(&t->lock);
}

/* @i's path into a new string (the root's is "/"), NULL when out of
 * memory.  Called with the lock held. */
static char *path_of(struct inodes *t, uint32_t i, const char *child)
{
	size_t len = child ? strlen(child) + 1 : 0, at;
	char *p;

	for (uint32_t j = i; j > 1; j = t->node[j].parent)
		len += strlen(t->node[j].name) + 1;
	p = malloc(len + 2);
	if (!p)
		return NULL;
	at = len;
	p[at] = '\0';
	if (child) {
		at -= strlen(child);
		memcpy(p + at, child, strlen(child));
		p[--at] = '/';
	}
	for (uint32_t j = i; j > 1; j = t->node[j].parent) {
		size_t n = strlen(t->node[j].name);

		at -= n;
		memcpy(p + at, t->node[j].name, n);
		p[--at] = '/';
	}
	if (len == 0)
		strcpy(p, "/");
	return p;
}

uint64_t inodes_find(struct inodes *t, const char *path)
{
	uint32_t i = 1;
	char *copy = strdup(path), *save = NULL;

	if (!copy)
		return 0;
	pthread_mutex_lock(&t->lock);
	for (char *c = strtok_r(copy, "/", &save); c && i;
	     c = strtok_r(NULL, "/", &save))
		i = find_child(t, i, c);
	pthread_mutex_unlock(&t->lock);
	free(copy);
	return i;
}

void inodes_unlink(struct inodes *t, uint64_t parent, const char *name)
{
	uint32_t i;

	pthread_mutex_lock(&t->lock);
	if (node_of(t, parent) && (i = find_child(t, (uint32_t)parent, name)))
		hash_out(t, i);
	pthread_mutex_unlock(&t->lock);
}

int inodes_rename(struct inodes *t, uint64_t parent, const char *name,
		  uint64_t newparent, const char *newname)
{
	uint32_t i, target;
	char *copy;
	int rc = 0;

	pthread_mutex_lock(&t->lock);
	if (!node_of(t, parent) || !node_of(t, newparent) ||
	    !(i = find_child(t, (uint32_t)parent, name)))
		goto out; /* the kernel never looked it up: nothing to move */
	if (!(copy = npool_get(&t->names, newname, npool_id(t->node[i].name)))) {
		/* the kernel drops its entry; later ops say ENOENT */
		hash_out(t, i);
		rc = -ENOMEM;
		goto out;
	}
	target = find_child(t, (uint32_t)newparent, newname);
	if (target && target != i)
		hash_out(t, target);
	hash_out(t, i);
	npool_put(&t->names, t->node[i].name);
	t->node[i].name = copy;
	t->node[parent].children--;
	t->node[newparent].children++;
	t->node[i].parent = (uint32_t)newparent;
	hash_in(t, i);
	drop(t, (uint32_t)parent);
out:
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int inodes_rehash(struct inodes *t, uint64_t ino, const char *newname)
{
	struct inode *n;
	uint32_t other;
	char *copy;
	int rc = 0;

	pthread_mutex_lock(&t->lock);
	n = ino > 1 ? node_of(t, ino) : NULL;
	if (!n || strcmp(n->name, newname) == 0)
		goto out;
	if (!(copy = npool_get(&t->names, newname, npool_id(n->name)))) {
		rc = -ENOMEM;
		goto out;
	}
	/* Whatever the kernel knew by the new name is another node now. */
	other = find_child(t, n->parent, newname);
	if (other && other != (uint32_t)ino)
		hash_out(t, other);
	if (n->hashed)
		hash_out(t, (uint32_t)ino);
	npool_put(&t->names, n->name);
	n->name = copy;
	hash_in(t, (uint32_t)ino);
out:
	pthread_mutex_unlock(&t->lock);
	return rc;
}

size_t inodes_objects(struct inodes *t, uint64_t ino, uint64_t *ids,
		      size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&t->lock);
	if (node_of(t, ino)) {
		for (uint32_t j = (uint32_t)ino; j > 1; j = t->node[j].parent)
			if (npool_id(t->node[j].name))
				n++;
		if (n > max)
			n = 0;
		else
			for (uint32_t j = (uint32_t)ino, k = (uint32_t)n; j > 1;
			     j = t->node[j].parent)
				if (npool_id(t->node[j].name))
					ids[--k] = j;
	}
	pthread_mutex_unlock(&t->lock);
	return n;
}

int inodes_object(struct inodes *t, uint64_t ino, char **dir, char **name,
		  char **id)
{
	struct inode *n;
	int rc = 0;

	*dir = *name = *id = NULL;
	pthread_mutex_lock(&t->lock);
	n = ino > 1 ? node_of(t, ino) : NULL;
	if (!n || !npool_id(n->name)) {
		rc = -ENOENT;
	} else if (!(*dir = path_of(t, n->parent, NULL)) ||
		   !(*name = strdup(n->name)) ||
		   !(*id = strdup(npool_id(n->name)))) {
		free(*dir);
		free(*name);
		*dir = *name = NULL;
		rc = -ENOMEM;
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int inodes_entry(struct inodes *t, uint64_t ino, uint64_t *parent,
		 char *name, size_t size, bool *hashed)
{
	struct inode *n;
	int rc = 0;

	pthread_mutex_lock(&t->lock);
	n = ino > 1 ? node_of(t, ino) : NULL;
	if (n) {
		*parent = n->parent;
		if (name)
			snprintf(name, size, "%s", n->name);
		*hashed = n->hashed;
	} else {
		rc = -ENOENT;
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

/* Up to @max ids of nodes from *@from on for which @want(node, @arg)
 * says so; *@from moves past the last one looked at. */
static size_t scan(struct inodes *t, uint64_t *from, uint64_t *ids,
		   size_t max, bool (*want)(struct inodes *t, uint32_t i,
					    const void *arg),
		   const void *arg)
{
	size_t n = 0;
	uint64_t i = *from < 2 ? 2 : *from;

	pthread_mutex_lock(&t->lock);
	for (; i < t->used && n < max; i++)
		if (t->node[i].parent != NONE && want(t, (uint32_t)i, arg))
			ids[n++] = i;
	pthread_mutex_unlock(&t->lock);
	*from = i;
	return n;
}

static bool carries(struct inodes *t, uint32_t i, const void *id)
{
	const char *have = npool_id(t->node[i].name);

	return have && (!id || strcmp(have, id) == 0);
}

static bool child_of(struct inodes *t, uint32_t i, const void *parent)
{
	return t->node[i].parent == *(const uint32_t *)parent;
}

/* In folder *@top or below it, at most INODES_DEPTH levels down. */
static bool under(struct inodes *t, uint32_t i, const void *top)
{
	uint32_t p = t->node[i].parent;

	for (int d = 0; d < INODES_DEPTH && p != NONE && p < t->used; d++) {
		if (p == *(const uint32_t *)top)
			return true;
		p = t->node[p].parent;
	}
	return false;
}

size_t inodes_with_id(struct inodes *t, const char *id, uint64_t *from,
		      uint64_t *ids, size_t max)
{
	return scan(t, from, ids, max, carries, id);
}

size_t inodes_children(struct inodes *t, uint64_t parent, uint64_t *from,
		       uint64_t *ids, size_t max)
{
	uint32_t p = (uint32_t)parent;

	return parent < NONE ? scan(t, from, ids, max, child_of, &p) : 0;
}

size_t inodes_descendants(struct inodes *t, uint64_t top, uint64_t *from,
			  uint64_t *ids, size_t max)
{
	uint32_t p = (uint32_t)top;

	return top < NONE ? scan(t, from, ids, max, under, &p) : 0;
}

/* A node of key *@arg's, its object's folder itself or below it, with no other
 * object's folder between (a nested object's files are its own). */
struct keyed {
	uint32_t top;
	struct inodes_key key;
};

static bool keyed_under(struct inodes *t, uint32_t i, const void *arg)
{
	const struct keyed *k = arg;
	const struct inode *n = &t->node[i];
	uint32_t p = n->parent;

	if (!n->keyed || n->type != k->key.type || n->kind != k->key.kind ||
	    n->index != k->key.index)
		return false;
	if (i == k->top)
		return true; /* the object's folder itself */
	for (int d = 0; d < INODES_DEPTH && p != NONE && p < t->used; d++) {
		if (p == k->top)
			return true;
		if (npool_id(t->node[p].name))
			return false;
		p = t->node[p].parent;
	}
	return false;
}

size_t inodes_keyed(struct inodes *t, uint64_t top, struct inodes_key key,
		    uint64_t *from, uint64_t *ids, size_t max)
{
	struct keyed k = { (uint32_t)top, key };

	return top < NONE && key.set
		       ? scan(t, from, ids, max, keyed_under, &k)
		       : 0;
}

uint64_t inodes_child(struct inodes *t, uint64_t parent, const char *name)
{
	uint32_t i = 0;

	pthread_mutex_lock(&t->lock);
	if (node_of(t, parent))
		i = find_child(t, (uint32_t)parent, name);
	pthread_mutex_unlock(&t->lock);
	return i;
}

void inodes_mark_listed(struct inodes *t, uint64_t ino)
{
	struct inode *n;

	pthread_mutex_lock(&t->lock);
	n = node_of(t, ino);
	if (n)
		n->listed = 1;
	pthread_mutex_unlock(&t->lock);
}

size_t inodes_take_listed(struct inodes *t, uint64_t *from, uint64_t *ids,
			  size_t max)
{
	size_t n = 0;
	uint64_t i = *from < 1 ? 1 : *from;

	pthread_mutex_lock(&t->lock);
	for (; i < t->used && n < max; i++) {
		if (!t->node[i].listed || t->node[i].parent == NONE)
			continue;
		t->node[i].listed = 0;
		ids[n++] = i;
	}
	pthread_mutex_unlock(&t->lock);
	*from = i;
	return n;
}

void inodes_count(struct inodes *t, size_t *held, size_t *most)
{
	size_t n;

	pthread_mutex_lock(&t->lock);
	n = t->used;
	for (uint32_t i = t->free; i; i = t->node[i].next)
		n--;
	*held = n - 1; /* slot 0 */
	/* Slots are only made when none is free: the most held at once. */
	*most = t->used - 1;
	pthread_mutex_unlock(&t->lock);
}

void inodes_set_key(struct inodes *t, uint64_t ino, unsigned type,
		    unsigned kind, unsigned index)
{
	struct inode *n;

	pthread_mutex_lock(&t->lock);
	n = node_of(t, ino);
	if (n && type < 32 && kind < 256 && index < 65536) {
		n->type = type & 31;
		n->kind = kind & 255;
		n->index = index & 65535;
		n->keyed = 1;
	}
	pthread_mutex_unlock(&t->lock);
}

int inodes_chain(struct inodes *t, uint64_t ino, const char *child,
		 struct inodes_chain **out)
{
	struct inodes_chain *c = NULL;
	size_t depth = 0, ids = 0, len, at;
	char *path;
	int rc = 0;

	*out = NULL;
	pthread_mutex_lock(&t->lock);
	if (!node_of(t, ino)) {
		rc = -ENOENT;
		goto out;
	}
	for (uint32_t j = (uint32_t)ino; j > 1; j = t->node[j].parent) {
		const char *id = npool_id(t->node[j].name);

		depth++;
		ids += id ? strlen(id) + 1 : 0;
	}
	depth += child ? 1 : 0;
	if (!(path = path_of(t, (uint32_t)ino, child))) {
		rc = -ENOMEM;
		goto out;
	}
	len = strlen(path) + 1;
	c = malloc(sizeof(*c) + (depth + 1) * sizeof(c->hop[0]) + len + ids);
	if (!c) {
		free(path);
		rc = -ENOMEM;
		goto out;
	}
	c->path = path;
	c->n = depth;
	c->buf = (char *)&c->hop[depth + 1];
	/* the names: the path's components, each ended by a NUL */
	memcpy(c->buf, path, len);
	at = len;
	c->hop[0] = (struct inodes_hop){ .name = "" };
	for (size_t k = depth, p = len - 1; k > 0; k--) {
		while (p > 0 && c->buf[p - 1] != '/')
			p--;
		c->hop[k] = (struct inodes_hop){ .name = c->buf + p };
		if (p > 0)
			c->buf[--p] = '\0';
	}
	/* the keys and ids, from @ino up (the child has none) */
	for (uint32_t j = (uint32_t)ino, k = (uint32_t)(depth - (child != NULL));
	     j > 1; j = t->node[j].parent, k--) {
		const struct inode *n = &t->node[j];
		const char *id = npool_id(n->name);

		if (n->keyed)
			c->hop[k].key = (struct inodes_key){
				true, (uint8_t)n->type, (uint8_t)n->kind,
				(uint16_t)n->index };
		if (id) {
			memcpy(c->buf + at, id, strlen(id) + 1);
			c->hop[k].id = c->buf + at;
			at += strlen(id) + 1;
		}
	}
	*out = c;
out:
	pthread_mutex_unlock(&t->lock);
	return rc;
}

struct inodes_chain *inodes_chain_dup(const struct inodes_chain *c)
{
	size_t head = sizeof(*c) + (c->n + 1) * sizeof(c->hop[0]);
	size_t len = strlen(c->path) + 1, size = head + len;
	struct inodes_chain *d;

	for (size_t k = 1; k <= c->n; k++)
		size += c->hop[k].id ? strlen(c->hop[k].id) + 1 : 0;
	d = malloc(size);
	if (!d)
		return NULL;
	if (!(d->path = strdup(c->path))) {
		free(d);
		return NULL;
	}
	d->n = c->n;
	d->buf = (char *)&d->hop[d->n + 1];
	memcpy(d->hop, c->hop, (c->n + 1) * sizeof(c->hop[0]));
	/* names and ids again, pointing into the copy */
	{
		char *at = d->buf;

		for (size_t k = 0; k <= c->n; k++) {
			size_t nl = strlen(c->hop[k].name) + 1;

			memcpy(at, c->hop[k].name, nl);
			d->hop[k].name = at;
			at += nl;
			if (c->hop[k].id) {
				size_t il = strlen(c->hop[k].id) + 1;

				memcpy(at, c->hop[k].id, il);
				d->hop[k].id = at;
				at += il;
			}
		}
	}
	return d;
}

void inodes_chain_free(struct inodes_chain *c)
{
	if (!c)
		return;
	free(c->path);
	free(c);
}

uint64_t inodes_stamp(struct inodes *t, uint64_t ino)
{
	struct inode *n;
	uint64_t stamp = 0;

	pthread_mutex_lock(&t->lock);
	n = node_of(t, ino);
	if (n)
		stamp = (uint64_t)n->gen << 32 | ino;
	pthread_mutex_unlock(&t->lock);
	return stamp;
}
