/*
 * tg_cache.h - a TTL cache of immutable, reference-counted values.
 *
 * Keys are strings; values are whatever the caller fills in, with their
 * size and a destructor.  A lookup hands out a counted reference, never a
 * pointer into the table, so a value stays valid for its holder after it
 * expires, is replaced or is evicted.
 *
 *  - TTL: an entry is fresh for ttl seconds after it was filled.
 *  - Single flight: concurrent misses of one key make one fill call; the
 *    others wait for its result.
 *  - Generations: invalidation bumps a counter; a fill that started before
 *    an invalidation returns its value to its callers but does not store
 *    it, so a slow reply never overwrites newer knowledge.
 *  - Stale serving: when a fill fails with -EIO or -EAGAIN and an expired
 *    value is still held, that value is returned and marked stale.
 *  - Memory bound: past max_bytes, the least recently used entries that no
 *    fill is working on are dropped.
 *  - Walks: a value does not age while a walk that read it goes on, so a
 *    walk longer than the TTL sees one snapshot, fetched once (below).
 *
 * All functions are thread-safe.
 */
#ifndef TG_CACHE_H
#define TG_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tg_cache;
struct tg_cache_ref;

/* What a fill function hands over: ownership of val passes to the cache. */
struct tg_cache_fill {
	void *val;
	size_t bytes;
	void (*free_val)(void *val);
};

/* Makes the value of a key.  Returns 0, or -errno with *out untouched. */
typedef int (*tg_cache_fill_fn)(void *arg, const char *key,
				struct tg_cache_fill *out);

struct tg_cache_stats {
	uint64_t hits, misses, waits, stale, evictions, fills_discarded;
	uint64_t walk_passes; /* walks ended by coming back to a node */
	uint64_t reader_asks; /* questions to tg_cache_set_alive's function */
	size_t bytes, entries;
};

/* ttl_s 0 means every lookup fills; max_bytes 0 means no bound.
 * Returns NULL on allocation failure. */
struct tg_cache *tg_cache_new(unsigned ttl_s, size_t max_bytes);
/* Frees the cache (NULL: nothing).  No call may be running; references
 * handed out must all have been put back. */
void tg_cache_free(struct tg_cache *c);

/*
 * Gets the value of @key into *ref: fresh from the table, else from @fill
 * (one call for all concurrent callers).  Returns 0, or the fill's -errno
 * with *ref NULL.  *stale (may be NULL) tells whether an expired value was
 * served because the fill failed.  Put the reference back with
 * tg_cache_put().
 */
int tg_cache_get(struct tg_cache *c, const char *key, tg_cache_fill_fn fill,
		 void *arg, struct tg_cache_ref **ref, bool *stale)
	__attribute__((warn_unused_result));

/*
 * Lets callers give up waiting: a tg_cache_get that waits on another
 * caller's fill asks @gone every 0.1 s and, when it says true, returns
 * -EINTR at once (the fill goes on for the others).  A fill that fails
 * with -EINTR (its own caller gave up) is neither stored nor served
 * stale: that caller gets -EINTR, and one of those waiting fills again.
 * Set once, before any get.
 */
void tg_cache_set_gone(struct tg_cache *c, bool (*gone)(void));

/*
 * Walks.  The reads one reader (a process: any non-zero number naming
 * it) makes with no pause longer than TG_CACHE_WALK_IDLE_S (the TTL when
 * shorter) between them are one walk (find, rsync, tar, grep -r); a
 * reader that is no more (tg_cache_set_alive) ends its walk at its last
 * call.  A walk is served the values as they were when it began: a
 * value it reads that was fresh then is held by it, as is one it fills,
 * and a value held by a walk does not age while that walk goes on
 * (TG_CACHE_WALK_MAX_S, or TG_CACHE_WALK_MAX_TTLS x ttl when longer, at
 * most); it ages again from the walk's last call.  So a walk longer
 * than the TTL fetches each value once, and one right after it fetches
 * nothing.  A value another walk going on holds is read as it is, not
 * taken.  Changes the caller knows (tg_cache_replace,
 * tg_cache_update_prefix) go into the held value; expiry and
 * invalidation end the hold.
 *
 * A walk is one pass: a reader that comes back to a node it visited
 * (tg_cache_walk_visit: a file it opened before) is polling, not
 * walking.  That walk ends there and what it held ages as if no walk
 * had held it (its age is the time since it was had); a new walk
 * begins at that call.  So a poller is served values at most the TTL
 * (plus its own period) old, where one endless walk would be served
 * them up to TG_CACHE_WALK_MAX_S old.
 *
 * tg_cache_walk_begin says this thread's calls until tg_cache_walk_end
 * are @reader's (0: no reader's); one begin, one end, around each of the
 * reader's requests.  Neither fails: a reader without a place (more
 * than 64 reading at once) reads as no walk.
 */
#define TG_CACHE_WALK_IDLE_S 2.0
#define TG_CACHE_WALK_MAX_S 600.0
#define TG_CACHE_WALK_MAX_TTLS 10
void tg_cache_walk_begin(struct tg_cache *c, uint64_t reader);
void tg_cache_walk_end(struct tg_cache *c);
/* Says this thread's call (between begin and end) visits @node (any
 * non-zero number naming it); true when its walk had visited it: that
 * walk is over and this call begins the reader's next one.  Each walk
 * keeps the nodes it visited (8 to 16 bytes each) while it is its
 * reader's last, TG_CACHE_WALK_VISITS at most: past that it forgets them
 * all and starts again (a poller of fewer files is still found). */
#define TG_CACHE_WALK_VISITS 65536
bool tg_cache_walk_visit(struct tg_cache *c, uint64_t node);
/* Tells whether @reader is still there (a process that has not exited);
 * asked when it has not called for a moment, at most once every
 * TG_CACHE_WALK_ASK_S a walk (a reader found gone stays so).  Set once,
 * before any walk.  Without it, a reader is there until it pauses. */
#define TG_CACHE_WALK_ASK_S 0.1
void tg_cache_set_alive(struct tg_cache *c, bool (*alive)(uint64_t reader));

/* Takes a fresh value of @key without ever filling: true and a reference
 * in *ref, or false when there is none or it expired (*held, when not
 * NULL, then tells whether an expired value is still held). */
bool tg_cache_peek(struct tg_cache *c, const char *key,
		   struct tg_cache_ref **ref, bool *held);

/*
 * Values had along with another (a request that brought several keys'
 * values): tg_cache_gen says the cache's state before the request is
 * sent; tg_cache_offer then stores @val as @key's value as a fill of it
 * would have (fresh from now, held by this thread's walk), unless @key
 * has a fresh value or a fill in flight, or anything was replaced or
 * invalidated since @gen (what was had may be older than that change).
 * True when stored (ownership passes); false leaves @val to the caller.
 * tg_cache_has tells whether @key holds a value (fresh or not) or a fill
 * is in flight for it: a key worth offering to is one it says false of.
 */
uint64_t tg_cache_gen(struct tg_cache *c);
bool tg_cache_offer(struct tg_cache *c, const char *key, uint64_t gen,
		    struct tg_cache_fill *val);
bool tg_cache_has(struct tg_cache *c, const char *key);

/* The value a reference holds. */
void *tg_cache_val(const struct tg_cache_ref *ref);
/* Takes one more reference to the same value. */
struct tg_cache_ref *tg_cache_ref_dup(struct tg_cache_ref *ref);
/* Gives a reference back; the value is freed with its last reference. */
void tg_cache_put(struct tg_cache_ref *ref);

/*
 * Replaces the value of @key, if it holds one, by @val (ownership passes
 * on success) keeping its age: a change the caller made and knows the
 * result of (a mutation's payload).  Fills in flight will not be stored.
 * Returns false, leaving @val to the caller, when @key holds no value.
 */
bool tg_cache_replace(struct tg_cache *c, const char *key,
		      struct tg_cache_fill *val);

/*
 * Offers the value of every fresh key that starts with @prefix to @fn,
 * under the table's write lock (so @fn must not call the cache).  @fn
 * returns 0 to keep the value, 1 to replace it by *out (ownership passes,
 * the age is kept), or a negative number to drop the key.  Keys with a
 * fill in flight, and expired ones, are dropped.
 */
void tg_cache_update_prefix(struct tg_cache *c, const char *prefix,
			    int (*fn)(void *arg, const char *key, void *val,
				      struct tg_cache_fill *out),
			    void *arg);

/* Drops every key that starts with @prefix. */
void tg_cache_invalidate_prefix(struct tg_cache *c, const char *prefix);

/* Marks every key that starts with @prefix expired: the next get fills it
 * again, and serves the old value as stale if that fill fails. */
void tg_cache_expire_prefix(struct tg_cache *c, const char *prefix);

/* Drops @key (a fill in flight for it will not be stored). */
void tg_cache_invalidate(struct tg_cache *c, const char *key);
/* Drops every entry. */
void tg_cache_clear(struct tg_cache *c);

/* Seconds since the content @ref holds was had (from the API, or as a
 * change to what was): what it holds is that old at most.  (The time a
 * walk held it counts: its age in the cache may be less.) */
double tg_cache_ref_age(const struct tg_cache_ref *ref);

/* The age of what @ref holds in the cache's reckoning, as freshness is
 * judged (the time walks held it left out; expired by invalidation:
 * more than the TTL), while it is its key's value; else as
 * tg_cache_ref_age. */
double tg_cache_age(struct tg_cache *c, const struct tg_cache_ref *ref);

/* The age of the oldest entry still held, in the cache's reckoning (the
 * time walks held it left out); -1 when empty. */
double tg_cache_oldest_age(struct tg_cache *c);

void tg_cache_get_stats(struct tg_cache *c, struct tg_cache_stats *out);

#endif /* TG_CACHE_H */
