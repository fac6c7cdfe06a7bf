/*
 * walk.c - walks (tg_cache.h "Walks"): which reader's calls are one walk,
 * whether a walk goes on, and the end of a pass when a reader comes back
 * to a node.  The table (cache.c) asks walk_going for an entry's age.
 *
 * A walk is a refcounted struct, held by its reader's place, by each
 * thread working for it and by the entries it holds.  Places, and a
 * walk's nodes, are guarded by walk_lock; a walk's times and flags are
 * atomics, read without it.
 */
#include <stdlib.h>
#include <string.h>

#include "cache_int.h"

/* The walk this thread works for (tg_cache_walk_begin). */
static __thread struct walk *cur_walk;

void walk_put(struct walk *w)
{
	if (w && __atomic_sub_fetch(&w->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		free(w->nodes);
		free(w);
	}
}

/* Whether @w's reader is there at @now: asked of c->alive at most every
 * TG_CACHE_WALK_ASK_S (one that was found gone stays gone). */
static bool reader_there(struct walk *w, double now)
{
	struct tg_cache *c = w->c;
	double asked;

	if (__atomic_load_n(&w->gone, __ATOMIC_ACQUIRE))
		return false;
	asked = load_time(&w->asked);
	if (asked > 0 && now - asked >= 0 && now - asked < TG_CACHE_WALK_ASK_S)
		return true;
	STAT_ADD(c, reader_asks);
	if (!c->alive(w->reader)) {
		__atomic_store_n(&w->gone, 1, __ATOMIC_RELEASE);
		return false;
	}
	__atomic_store(&w->asked, &now, __ATOMIC_RELEASE);
	return true;
}

struct walk *walk_dup(struct walk *w)
{
	if (w)
		__atomic_add_fetch(&w->refs, 1, __ATOMIC_ACQ_REL);
	return w;
}

/* Whether @w goes on at @now: a call of it runs, or one ended less than
 * walk_idle ago and (@ask) its reader is still there.  Its end
 * otherwise, in *@end. */
bool walk_going(struct walk *w, double now, double *end, bool ask)
{
	const struct tg_cache *c = w->c;
	double last;

	/* A pass that ended stores last before passed; walk_end stores
	 * last before it lowers busy. */
	if (__atomic_load_n(&w->passed, __ATOMIC_ACQUIRE)) {
		if (end)
			*end = load_time(&w->last);
		return false;
	}
	if (__atomic_load_n(&w->busy, __ATOMIC_ACQUIRE) > 0)
		return true;
	last = load_time(&w->last);
	if (now - last < c->walk_idle &&
	    (!ask || !c->alive || reader_there(w, now)))
		return true;
	if (end)
		*end = last;
	return false;
}

void tg_cache_set_alive(struct tg_cache *c, bool (*alive)(uint64_t reader))
{
	c->alive = alive;
}

/* A place for a new reader: a free one, else that of the reader that
 * paused first (asking whether readers are there only when none has
 * paused long enough).  NULL when all read now. */
static struct reader *reader_place(struct tg_cache *c, double now)
{
	struct reader *best = NULL;
	double oldest = 0;

	for (int ask = 0; ask < 2 && !best; ask++)
		for (size_t i = 0; i < READERS; i++) {
			struct reader *s = &c->readers[i];
			double end = 0;

			if (!s->walk)
				return s;
			if (!walk_going(s->walk, now, &end, ask) &&
			    (!best || end < oldest)) {
				best = s;
				oldest = end;
			}
		}
	return best;
}

/* The place of reader @id, or NULL.  walk_lock held. */
static struct reader *reader_of(struct tg_cache *c, uint64_t id)
{
	for (size_t i = 0; i < READERS; i++)
		if (c->readers[i].id == id && c->readers[i].walk)
			return &c->readers[i];
	return NULL;
}

/* A new walk of @id from @now in place @r (NULL, the place left empty,
 * when out of memory); the walk that was there leaves it, with its
 * nodes.  walk_lock held. */
static struct walk *walk_start(struct tg_cache *c, struct reader *r,
			       uint64_t id, double now)
{
	struct walk *w = calloc(1, sizeof(*w));

	if (r->walk) {
		free(r->walk->nodes); /* asked for only while in its place */
		r->walk->nodes = NULL;
		r->walk->nodes_n = r->walk->nodes_cap = 0;
		walk_put(r->walk);
	}
	r->walk = w;
	r->id = w ? id : 0;
	if (w) {
		w->c = c;
		w->reader = id;
		w->refs = 1; /* the reader's */
		w->start = w->last = now;
	}
	return w;
}

/* This thread's calls are @w's from now on (NULL: no walk's), not the
 * walk's it worked for. */
static void walk_switch(struct walk *w)
{
	struct walk *old = cur_walk;

	if (w) {
		__atomic_add_fetch(&w->busy, 1, __ATOMIC_ACQ_REL);
		cur_walk = walk_dup(w);
	} else {
		cur_walk = NULL;
	}
	if (old) {
		__atomic_sub_fetch(&old->busy, 1, __ATOMIC_ACQ_REL);
		walk_put(old);
	}
}

void tg_cache_walk_begin(struct tg_cache *c, uint64_t id)
{
	struct reader *r;
	struct walk *w = NULL;
	double now = now_mono();

	cur_walk = NULL;
	if (!id)
		return;
	pthread_mutex_lock(&c->walk_lock);
	r = reader_of(c, id);
	/* Its reader calls: the walk goes on unless it paused (or its
	 * reader was found gone: this is another process by that id). */
	if (r && walk_going(r->walk, now, NULL, false) &&
	    !__atomic_load_n(&r->walk->gone, __ATOMIC_ACQUIRE))
		w = r->walk;
	else if ((r = r ? r : reader_place(c, now)))
		w = walk_start(c, r, id, now);
	walk_switch(w);
	pthread_mutex_unlock(&c->walk_lock);
}

/* The walk this thread's call is part of, in @c. */
struct walk *walk_here(const struct tg_cache *c)
{
	return cur_walk && cur_walk->c == c ? cur_walk : NULL;
}

/* Adds @node to @w's nodes: true when it was there already.  An
 * allocation failure forgets nothing and adds nothing.  walk_lock held. */
static bool node_seen(struct walk *w, uint64_t node)
{
	size_t i, mask;

	if (w->nodes_n >= TG_CACHE_WALK_VISITS) {
		/* Full: it starts again empty.  A poller of fewer files than
		 * that is still found at its next round; an rsync of a
		 * million files keeps 1 MiB, not 16. */
		memset(w->nodes, 0, w->nodes_cap * sizeof(*w->nodes));
		w->nodes_n = 0;
	}
	if (w->nodes_n + 1 > w->nodes_cap / 4 * 3) {
		size_t cap = w->nodes_cap ? w->nodes_cap * 2 : 64;
		uint64_t *nodes = calloc(cap, sizeof(*nodes));

		if (!nodes)
			return false;
		for (size_t j = 0; j < w->nodes_cap; j++) {
			uint64_t n = w->nodes[j];

			if (!n)
				continue;
			for (i = (n * 0x9E3779B97F4A7C15ull) >> 7 & (cap - 1);
			     nodes[i]; i = (i + 1) & (cap - 1))
				;
			nodes[i] = n;
		}
		free(w->nodes);
		w->nodes = nodes;
		w->nodes_cap = cap;
	}
	mask = w->nodes_cap - 1;
	for (i = (node * 0x9E3779B97F4A7C15ull) >> 7 & mask; w->nodes[i];
	     i = (i + 1) & mask)
		if (w->nodes[i] == node)
			return true;
	w->nodes[i] = node;
	w->nodes_n++;
	return false;
}

bool tg_cache_walk_visit(struct tg_cache *c, uint64_t node)
{
	struct walk *w = walk_here(c);
	struct reader *r;
	double now = now_mono();
	bool back = false;

	if (!w || !node)
		return false;
	pthread_mutex_lock(&c->walk_lock);
	r = reader_of(c, w->reader);
	/* Another of its calls came back first: go on in the new pass. */
	if (r && r->walk != w &&
	    __atomic_load_n(&w->passed, __ATOMIC_ACQUIRE) &&
	    !__atomic_load_n(&r->walk->passed, __ATOMIC_ACQUIRE)) {
		w = r->walk;
		walk_switch(w);
	}
	if (r && r->walk == w && node_seen(w, node)) {
		/* Back at a node: this pass is over, and what it held ages
		 * as if it had held nothing.  A new pass begins here. */
		__atomic_store(&w->last, &now, __ATOMIC_RELEASE);
		__atomic_store_n(&w->passed, 1, __ATOMIC_RELEASE);
		w = walk_start(c, r, w->reader, now);
		if (w)
			node_seen(w, node);
		walk_switch(w);
		back = true;
	}
	pthread_mutex_unlock(&c->walk_lock);
	if (back)
		STAT_ADD(c, walk_passes);
	return back;
}

void tg_cache_walk_end(struct tg_cache *c)
{
	struct walk *w = cur_walk;
	double now = now_mono();

	(void)c;
	cur_walk = NULL;
	if (!w)
		return;
	__atomic_store(&w->last, &now, __ATOMIC_RELEASE);
	__atomic_sub_fetch(&w->busy, 1, __ATOMIC_ACQ_REL);
	walk_put(w);
}

void walks_free(struct tg_cache *c)
{
	for (size_t i = 0; i < READERS; i++)
		walk_put(c->readers[i].walk);
}
