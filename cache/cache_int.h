/*
 * cache_int.h - what cache.c (the table) and walk.c (walks) share inside
 * cache/: the cache's struct, a walk's, and the walk functions the table
 * uses.  Not for use outside cache/ (tg_cache.h is the interface).
 */
#ifndef TG_CACHE_INT_H
#define TG_CACHE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "tg_cache.h"

struct entry;

struct walk {
	struct tg_cache *c;
	uint64_t reader;
	double start; /* its first call's */
	int refs;     /* atomic */
	int busy;     /* atomic: its calls running now */
	double last;  /* atomic: when its last call ended */
	int passed;   /* atomic: ended by coming back to a node */
	int gone;     /* atomic: its reader was found gone */
	double asked; /* atomic: when its reader was last found there */
	/* The nodes it visited (tg_cache_walk_visit), an open-addressed
	 * set (0: a free slot); walk_lock, while it is its reader's. */
	uint64_t *nodes;
	size_t nodes_n, nodes_cap;
};

/* A reader and its walk, the last one when it has paused. */
struct reader {
	uint64_t id;
	struct walk *walk;
};
#define READERS 64

/* The counters of struct tg_cache_stats, each added to and read
 * atomically (relaxed: counts, ordering nothing). */
struct counters {
	_Atomic uint64_t hits, misses, waits, stale, evictions,
		fills_discarded, walk_passes, reader_asks;
};

struct tg_cache {
	pthread_rwlock_t lock;
	struct entry *table;
	unsigned ttl;
	size_t max_bytes, bytes;
	uint64_t gen;
	struct counters stats;
	bool (*gone)(void); /* tg_cache_set_gone: the caller gave up */
	bool (*alive)(uint64_t reader); /* tg_cache_set_alive */
	double walk_idle, walk_max; /* seconds */
	pthread_mutex_t walk_lock; /* guards readers */
	struct reader readers[READERS];
};

#define STAT_ADD(c, f) \
	atomic_fetch_add_explicit(&(c)->stats.f, 1, memory_order_relaxed)
#define STAT_GET(c, f) atomic_load_explicit(&(c)->stats.f, memory_order_relaxed)

static inline double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline double load_time(const double *t)
{
	double v;

	__atomic_load(t, &v, __ATOMIC_ACQUIRE);
	return v;
}

/* Walks (walk.c).  walk_going: whether @w goes on at @now (a call of it
 * runs, or one ended less than walk_idle ago and, with @ask, its reader
 * is still there); its end otherwise in *@end.  walk_here: the walk this
 * thread's call is part of in @c, or NULL. */
void walk_put(struct walk *w);
struct walk *walk_dup(struct walk *w);
bool walk_going(struct walk *w, double now, double *end, bool ask);
struct walk *walk_here(const struct tg_cache *c);
/* Lets go of every reader's walk (tg_cache_free). */
void walks_free(struct tg_cache *c);

#endif /* TG_CACHE_INT_H */
