/*
 * cache.c - the TTL cache (see tg_cache.h for the contract).
 *
 * The table is a uthash hash behind a pthread_rwlock_t: hits take the read
 * lock only.  A miss takes the write lock, and either joins the fill
 * already in flight for the key or starts one.  A flight is a small
 * refcounted struct with its own mutex and condition variable, so waiters
 * sleep without holding the table lock.
 *
 * Walks are walk.c's.  An entry's age is the time since it was filled
 * less the time its walk held it (from walk_taken to the walk's end, or
 * now while it goes on; nothing, once a pass came back to a node).  A walk takes
 * an entry at its first read of it, at the age it had when the walk
 * began (its age now less the walk's time so far: a little younger, if
 * another walk held it meanwhile).  Taking an entry writes it: a hit
 * that would take one under the read lock is done again under the
 * write lock.  Lock order: table, then walk_lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache_int.h"

/* uthash must not exit() on allocation failure: it reports here. */
static __thread bool hash_oom;
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) (hash_oom = true)
#include <uthash.h>

struct tg_cache_ref {
	void *val;
	size_t bytes;
	void (*free_val)(void *val);
	int refs; /* atomic */
	double filled; /* monotonic seconds: when its content was had */
	struct entry *entry; /* whose value it is now, or NULL (table lock) */
};

struct flight {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	int err;
	bool stale;
	struct tg_cache_ref *ref; /* the result; one reference held here */
	int refs;                 /* guarded by the table lock */
};

struct entry {
	char *key;
	struct tg_cache_ref *ref; /* NULL until first filled */
	double filled, used;      /* monotonic seconds */
	struct flight *flight;    /* non-NULL while a fill runs */
	struct walk *walk;        /* the walk holding it, or NULL */
	double walk_taken;        /* since when */
	UT_hash_handle hh;
};

/* join_flight's word for "the filler gave up: fill again". */
#define FILL_AGAIN (-100000)

/* The age of @e at @now: since it was filled, less the time a walk held
 * it (walk_max at most). */
static double entry_age(const struct tg_cache *c, const struct entry *e,
			double now)
{
	double age = now - e->filled, end = now, held;

	/* A pass that came back to a node held nothing. */
	if (!e->walk || __atomic_load_n(&e->walk->passed, __ATOMIC_ACQUIRE))
		return age;
	walk_going(e->walk, now, &end, true);
	held = end - e->walk_taken;
	if (held > c->walk_max)
		held = c->walk_max;
	return held > 0 ? age - held : age;
}

/* @e is held by @w from @now (NULL: by none) at @age.  Table write lock
 * held. */
static void entry_hold(struct entry *e, struct walk *w, double now,
		       double age)
{
	e->filled = now - age;
	walk_put(e->walk);
	e->walk = walk_dup(w);
	e->walk_taken = now;
}

/* Ends the hold of @e and expires it.  Table write lock held. */
static void entry_expire(struct entry *e)
{
	walk_put(e->walk);
	e->walk = NULL;
	e->filled = -1e9;
}

void *tg_cache_val(const struct tg_cache_ref *ref)
{
	return ref->val;
}

struct tg_cache_ref *tg_cache_ref_dup(struct tg_cache_ref *ref)
{
	__atomic_add_fetch(&ref->refs, 1, __ATOMIC_ACQ_REL);
	return ref;
}

void tg_cache_put(struct tg_cache_ref *ref)
{
	if (!ref)
		return;
	if (__atomic_sub_fetch(&ref->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		if (ref->free_val)
			ref->free_val(ref->val);
		free(ref);
	}
}

struct tg_cache *tg_cache_new(unsigned ttl_s, size_t max_bytes)
{
	struct tg_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (pthread_rwlock_init(&c->lock, NULL) != 0) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->walk_lock, NULL);
	c->ttl = ttl_s;
	c->max_bytes = max_bytes;
	c->walk_idle = ttl_s < TG_CACHE_WALK_IDLE_S ? ttl_s
						    : TG_CACHE_WALK_IDLE_S;
	c->walk_max = (double)ttl_s * TG_CACHE_WALK_MAX_TTLS;
	if (c->walk_max < TG_CACHE_WALK_MAX_S)
		c->walk_max = TG_CACHE_WALK_MAX_S;
	return c;
}

/* @e's value, if any, no longer its (its readers may keep it) nor
 * counted.  Table write lock held. */
static void entry_unref(struct tg_cache *c, struct entry *e)
{
	if (e->ref) {
		c->bytes -= e->ref->bytes;
		e->ref->entry = NULL;
		tg_cache_put(e->ref);
		e->ref = NULL;
	}
}

/* Removes @e from the table and frees it.  Table write lock held; no
 * flight may be running on it. */
static void entry_drop(struct tg_cache *c, struct entry *e)
{
	HASH_DEL(c->table, e);
	entry_unref(c, e);
	walk_put(e->walk);
	free(e->key);
	free(e);
}

void tg_cache_free(struct tg_cache *c)
{
	struct entry *e, *tmp;

	if (!c)
		return;
	HASH_ITER(hh, c->table, e, tmp)
		entry_drop(c, e);
	walks_free(c);
	pthread_mutex_destroy(&c->walk_lock);
	pthread_rwlock_destroy(&c->lock);
	free(c);
}

static bool fresh(const struct tg_cache *c, const struct entry *e, double now)
{
	return e->ref && entry_age(c, e, now) < (double)c->ttl;
}

/* Drops least recently used idle entries until under the bound. */
static void evict(struct tg_cache *c)
{
	while (c->max_bytes && c->bytes > c->max_bytes) {
		struct entry *e, *tmp, *victim = NULL;

		HASH_ITER(hh, c->table, e, tmp)
			if (!e->flight && e->ref &&
			    (!victim || e->used < victim->used))
				victim = e;
		if (!victim)
			return;
		entry_drop(c, victim);
		STAT_ADD(c, evictions);
	}
}

static void flight_put(struct tg_cache *c, struct flight *fl)
{
	bool last;

	pthread_rwlock_wrlock(&c->lock);
	last = --fl->refs == 0;
	pthread_rwlock_unlock(&c->lock);
	if (!last)
		return;
	tg_cache_put(fl->ref);
	pthread_mutex_destroy(&fl->mu);
	pthread_cond_destroy(&fl->cv);
	free(fl);
}

void tg_cache_set_gone(struct tg_cache *c, bool (*gone)(void))
{
	c->gone = gone;
}

/* Waits for a flight another thread runs and takes its result: -EINTR
 * when our caller gives up first, -EAGAIN (for tg_cache_get to try
 * again) when the flight's own caller did. */
static int join_flight(struct tg_cache *c, struct flight *fl,
		       struct tg_cache_ref **ref, bool *stale)
{
	int err;

	STAT_ADD(c, waits);
	pthread_mutex_lock(&fl->mu);
	while (!fl->done) {
		struct timespec ts;

		if (!c->gone) {
			pthread_cond_wait(&fl->cv, &fl->mu);
			continue;
		}
		if (c->gone())
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&fl->cv, &fl->mu, &ts);
	}
	if (!fl->done) {
		pthread_mutex_unlock(&fl->mu);
		flight_put(c, fl);
		return -EINTR;
	}
	err = fl->err;
	if (err == -EINTR) {
		/* The filler's caller gave up, not ours: fill again. */
		pthread_mutex_unlock(&fl->mu);
		flight_put(c, fl);
		return FILL_AGAIN;
	}
	if (stale)
		*stale = fl->stale;
	*ref = err ? NULL : tg_cache_ref_dup(fl->ref);
	pthread_mutex_unlock(&fl->mu);
	flight_put(c, fl);
	return err;
}

/* A hit, taking a reference.  A walk takes the entry, at the age it had
 * when the walk began, when no other walk going on holds it: only under
 * the write lock (@write); under the read lock that is a miss, to be
 * tried again under the write lock. */
static bool try_hit(struct tg_cache *c, const char *key,
		    struct tg_cache_ref **ref, bool write)
{
	struct walk *w = walk_here(c);
	struct entry *e;
	double now = now_mono(), age;

	HASH_FIND_STR(c->table, key, e);
	if (!e || !e->ref)
		return false;
	age = entry_age(c, e, now);
	if (w && e->walk != w &&
	    (!e->walk || !walk_going(e->walk, now, NULL, true))) {
		double then = age - (now - w->start);

		if (then < 0)
			then = 0; /* had since the walk began */
		if (then >= (double)c->ttl)
			return false;
		if (!write)
			return false;
		entry_hold(e, w, now, then);
	} else if (age >= (double)c->ttl) {
		return false;
	}
	*ref = tg_cache_ref_dup(e->ref);
	/* Several readers may store here at once: atomically. */
	__atomic_store(&e->used, &now, __ATOMIC_RELAXED);
	return true;
}

/* A new entry of @key, without a value, in the table; NULL when out of
 * memory.  Table write lock held. */
static struct entry *entry_new(struct tg_cache *c, const char *key)
{
	struct entry *e = calloc(1, sizeof(*e));

	if (e)
		e->key = strdup(key);
	hash_oom = false;
	if (e && e->key)
		HASH_ADD_KEYPTR(hh, c->table, e->key, strlen(e->key), e);
	if (!e || !e->key || hash_oom) {
		if (e)
			free(e->key);
		free(e);
		return NULL;
	}
	return e;
}

/* Makes @ref (its reference taken over) @e's value, had now: whoever
 * filled it holds it, its walk's snapshot.  Table write lock held. */
static void entry_store(struct tg_cache *c, struct entry *e,
			struct tg_cache_ref *ref)
{
	entry_unref(c, e);
	e->ref = ref;
	ref->entry = e;
	e->filled = e->used = now_mono();
	entry_hold(e, walk_here(c), e->filled, 0);
	c->bytes += ref->bytes;
	evict(c);
}

int tg_cache_get(struct tg_cache *c, const char *key, tg_cache_fill_fn fill,
		 void *arg, struct tg_cache_ref **ref, bool *stale)
{
	struct tg_cache_fill got = { 0 };
	struct tg_cache_ref *nref = NULL;
	struct flight *fl;
	struct entry *e;
	uint64_t gen;
	int err;

again:
	*ref = NULL;
	if (stale)
		*stale = false;
	pthread_rwlock_rdlock(&c->lock);
	if (try_hit(c, key, ref, false)) {
		pthread_rwlock_unlock(&c->lock);
		STAT_ADD(c, hits);
		return 0;
	}
	pthread_rwlock_unlock(&c->lock);

	pthread_rwlock_wrlock(&c->lock);
	if (try_hit(c, key, ref, true)) {
		pthread_rwlock_unlock(&c->lock);
		STAT_ADD(c, hits);
		return 0;
	}
	HASH_FIND_STR(c->table, key, e);
	if (e && e->flight) {
		fl = e->flight;
		fl->refs++;
		pthread_rwlock_unlock(&c->lock);
		err = join_flight(c, fl, ref, stale);
		if (err == FILL_AGAIN)
			goto again;
		return err;
	}
	fl = calloc(1, sizeof(*fl));
	if (!e && fl)
		e = entry_new(c, key);
	if (!e || !fl) {
		pthread_rwlock_unlock(&c->lock);
		free(fl);
		return -ENOMEM;
	}
	pthread_mutex_init(&fl->mu, NULL);
	pthread_cond_init(&fl->cv, NULL);
	fl->refs = 1; /* ours */
	e->flight = fl;
	gen = c->gen;
	pthread_rwlock_unlock(&c->lock);
	STAT_ADD(c, misses);

	err = fill(arg, key, &got);
	if (!err) {
		nref = calloc(1, sizeof(*nref));
		if (!nref) {
			if (got.free_val)
				got.free_val(got.val);
			err = -ENOMEM;
		} else {
			nref->val = got.val;
			nref->bytes = got.bytes;
			nref->free_val = got.free_val;
			nref->refs = 1; /* the flight's */
			nref->filled = now_mono();
		}
	}

	pthread_rwlock_wrlock(&c->lock);
	HASH_FIND_STR(c->table, key, e); /* the entry stays while in flight */
	e->flight = NULL;
	if (!err && gen == c->gen) {
		entry_store(c, e, tg_cache_ref_dup(nref));
	} else if (!err) {
		STAT_ADD(c, fills_discarded);
	} else if ((err == -EIO || err == -EAGAIN) && e->ref) {
		nref = tg_cache_ref_dup(e->ref);
		fl->stale = true;
		err = 0;
		STAT_ADD(c, stale);
	} else if (!e->ref) {
		entry_drop(c, e);
	}
	pthread_rwlock_unlock(&c->lock);

	pthread_mutex_lock(&fl->mu);
	fl->done = true;
	fl->err = err;
	fl->ref = nref;
	if (!err)
		*ref = tg_cache_ref_dup(nref);
	if (stale)
		*stale = fl->stale;
	pthread_cond_broadcast(&fl->cv);
	pthread_mutex_unlock(&fl->mu);
	flight_put(c, fl);
	return err;
}

bool tg_cache_peek(struct tg_cache *c, const char *key,
		   struct tg_cache_ref **ref, bool *held)
{
	struct entry *e;
	bool hit;

	*ref = NULL;
	pthread_rwlock_rdlock(&c->lock);
	hit = try_hit(c, key, ref, false);
	if (!hit && walk_here(c)) {
		/* Maybe a walk's to take: under the write lock. */
		pthread_rwlock_unlock(&c->lock);
		pthread_rwlock_wrlock(&c->lock);
		hit = try_hit(c, key, ref, true);
	}
	if (held) {
		HASH_FIND_STR(c->table, key, e);
		*held = e && (e->ref || e->flight);
	}
	pthread_rwlock_unlock(&c->lock);
	if (hit)
		STAT_ADD(c, hits);
	return hit;
}

/* Makes @val @e's value, in @nref (zeroed, not yet shared), with the
 * age of the value it replaces, which @e must have.  Table write lock
 * held. */
static void entry_swap(struct tg_cache *c, struct entry *e,
		       struct tg_cache_ref *nref,
		       const struct tg_cache_fill *val)
{
	nref->val = val->val;
	nref->bytes = val->bytes;
	nref->free_val = val->free_val;
	nref->refs = 1;
	nref->filled = e->ref->filled; /* its age is kept */
	entry_unref(c, e);
	e->ref = nref;
	nref->entry = e;
	c->bytes += nref->bytes;
}

bool tg_cache_replace(struct tg_cache *c, const char *key,
		      struct tg_cache_fill *val)
{
	struct tg_cache_ref *nref = calloc(1, sizeof(*nref));
	struct entry *e;
	bool done = false;

	if (!nref)
		return false;
	pthread_rwlock_wrlock(&c->lock);
	c->gen++;
	HASH_FIND_STR(c->table, key, e);
	if (e && e->ref) {
		entry_swap(c, e, nref, val);
		done = true;
	}
	pthread_rwlock_unlock(&c->lock);
	if (!done)
		free(nref);
	return done;
}

/* Drops (or, with @keep, marks expired but keeps for stale serving)
 * every entry whose key starts with @prefix.  An entry in flight is
 * marked expired either way: its fill will not be stored. */
static void forget_prefix(struct tg_cache *c, const char *prefix, bool keep)
{
	struct entry *e, *tmp;
	size_t n = strlen(prefix);

	pthread_rwlock_wrlock(&c->lock);
	c->gen++;
	HASH_ITER(hh, c->table, e, tmp) {
		if (strncmp(e->key, prefix, n) != 0)
			continue;
		if (e->ref && (keep || e->flight))
			entry_expire(e);
		else if (!e->flight)
			entry_drop(c, e);
	}
	pthread_rwlock_unlock(&c->lock);
}

void tg_cache_invalidate_prefix(struct tg_cache *c, const char *prefix)
{
	forget_prefix(c, prefix, false);
}

void tg_cache_expire_prefix(struct tg_cache *c, const char *prefix)
{
	forget_prefix(c, prefix, true);
}

void tg_cache_update_prefix(struct tg_cache *c, const char *prefix,
			    int (*fn)(void *arg, const char *key, void *val,
				      struct tg_cache_fill *out),
			    void *arg)
{
	struct entry *e, *tmp;
	size_t n = strlen(prefix);
	double now = now_mono();

	pthread_rwlock_wrlock(&c->lock);
	c->gen++;
	HASH_ITER(hh, c->table, e, tmp) {
		struct tg_cache_fill out = { 0 };
		struct tg_cache_ref *nref;
		int r = -1;

		if (strncmp(e->key, prefix, n) != 0)
			continue;
		if (e->flight) {
			if (e->ref)
				entry_expire(e);
			continue;
		}
		if (fresh(c, e, now))
			r = fn(arg, e->key, e->ref->val, &out);
		if (r == 0)
			continue;
		nref = r > 0 ? calloc(1, sizeof(*nref)) : NULL;
		if (!nref) {
			if (r > 0 && out.free_val)
				out.free_val(out.val);
			entry_drop(c, e);
			continue;
		}
		entry_swap(c, e, nref, &out);
	}
	pthread_rwlock_unlock(&c->lock);
}

void tg_cache_invalidate(struct tg_cache *c, const char *key)
{
	struct entry *e;

	pthread_rwlock_wrlock(&c->lock);
	c->gen++;
	HASH_FIND_STR(c->table, key, e);
	if (e && !e->flight)
		entry_drop(c, e);
	else if (e && e->ref)
		entry_expire(e); /* the flight will not store */
	pthread_rwlock_unlock(&c->lock);
}

void tg_cache_clear(struct tg_cache *c)
{
	struct entry *e, *tmp;

	pthread_rwlock_wrlock(&c->lock);
	c->gen++;
	HASH_ITER(hh, c->table, e, tmp) {
		if (!e->flight)
			entry_drop(c, e);
		else if (e->ref)
			entry_expire(e);
	}
	pthread_rwlock_unlock(&c->lock);
}

double tg_cache_ref_age(const struct tg_cache_ref *ref)
{
	return now_mono() - ref->filled;
}

double tg_cache_age(struct tg_cache *c, const struct tg_cache_ref *ref)
{
	double now = now_mono(), age;

	pthread_rwlock_rdlock(&c->lock);
	age = ref->entry ? entry_age(c, ref->entry, now) : now - ref->filled;
	pthread_rwlock_unlock(&c->lock);
	return age;
}

double tg_cache_oldest_age(struct tg_cache *c)
{
	struct entry *e, *tmp;
	double oldest = -1, now = now_mono();

	pthread_rwlock_rdlock(&c->lock);
	HASH_ITER(hh, c->table, e, tmp)
		if (e->ref && (oldest < 0 || entry_age(c, e, now) > oldest))
			oldest = entry_age(c, e, now);
	pthread_rwlock_unlock(&c->lock);
	return oldest;
}

void tg_cache_get_stats(struct tg_cache *c, struct tg_cache_stats *out)
{
	out->hits = STAT_GET(c, hits);
	out->misses = STAT_GET(c, misses);
	out->waits = STAT_GET(c, waits);
	out->stale = STAT_GET(c, stale);
	out->evictions = STAT_GET(c, evictions);
	out->fills_discarded = STAT_GET(c, fills_discarded);
	out->walk_passes = STAT_GET(c, walk_passes);
	out->reader_asks = STAT_GET(c, reader_asks);
	pthread_rwlock_rdlock(&c->lock);
	out->bytes = c->bytes;
	out->entries = HASH_COUNT(c->table);
	pthread_rwlock_unlock(&c->lock);
}

uint64_t tg_cache_gen(struct tg_cache *c)
{
	uint64_t gen;

	pthread_rwlock_rdlock(&c->lock);
	gen = c->gen;
	pthread_rwlock_unlock(&c->lock);
	return gen;
}

bool tg_cache_has(struct tg_cache *c, const char *key)
{
	struct entry *e;
	bool has;

	pthread_rwlock_rdlock(&c->lock);
	HASH_FIND_STR(c->table, key, e);
	has = e && (e->ref || e->flight);
	pthread_rwlock_unlock(&c->lock);
	return has;
}

bool tg_cache_offer(struct tg_cache *c, const char *key, uint64_t gen,
		    struct tg_cache_fill *val)
{
	struct tg_cache_ref *nref = calloc(1, sizeof(*nref));
	struct entry *e;

	if (!nref)
		return false;
	pthread_rwlock_wrlock(&c->lock);
	HASH_FIND_STR(c->table, key, e);
	if (gen != c->gen || (e && (e->flight || fresh(c, e, now_mono()))) ||
	    (!e && !(e = entry_new(c, key)))) {
		pthread_rwlock_unlock(&c->lock);
		free(nref);
		STAT_ADD(c, fills_discarded);
		return false;
	}
	*nref = (struct tg_cache_ref){ .val = val->val, .bytes = val->bytes,
				       .free_val = val->free_val,
				       .refs = 1, /* the entry's */
				       .filled = now_mono() };
	entry_store(c, e, nref);
	pthread_rwlock_unlock(&c->lock);
	return true;
}
