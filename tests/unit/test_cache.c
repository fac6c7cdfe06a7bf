/*
 * test_cache.c - the TTL cache: hits, expiry, single flight, generations,
 * stale serving, the memory bound and walks.  Time is ours: clock_gettime is
 * wrapped (-Wl,--wrap) so expiry is tested without sleeping.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tg_cache.h"

static double fake_now = 1000.0;

int __real_clock_gettime(clockid_t id, struct timespec *ts);
int __wrap_clock_gettime(clockid_t id, struct timespec *ts);

int __wrap_clock_gettime(clockid_t id, struct timespec *ts)
{
	if (id != CLOCK_MONOTONIC)
		return __real_clock_gettime(id, ts);
	ts->tv_sec = (time_t)fake_now;
	ts->tv_nsec = (long)((fake_now - (double)ts->tv_sec) * 1e9);
	return 0;
}

struct filler {
	int calls;
	int fail; /* -errno to return, 0 to succeed */
	size_t bytes;
	struct tg_cache *invalidate_during; /* simulate a racing write */
	struct tg_cache *wait_for_waiter;   /* hold until another waits */
	int value;
};

static int freed;

static void free_int(void *p)
{
	freed++;
	free(p);
}

static int fill(void *arg, const char *key, struct tg_cache_fill *out)
{
	struct filler *f = arg;
	int *v;

	__atomic_add_fetch(&f->calls, 1, __ATOMIC_SEQ_CST);
	if (f->wait_for_waiter) {
		struct tg_cache_stats st;
		struct timespec pause = { 0, 1000000 };

		/* Bounded wait for the second caller to join this flight. */
		for (int i = 0; i < 5000; i++) {
			tg_cache_get_stats(f->wait_for_waiter, &st);
			if (st.waits >= 1)
				break;
			nanosleep(&pause, NULL);
		}
	}
	if (f->invalidate_during)
		tg_cache_invalidate(f->invalidate_during, key);
	if (f->fail)
		return f->fail;
	v = malloc(sizeof(*v));
	assert_non_null(v);
	*v = ++f->value;
	out->val = v;
	out->bytes = f->bytes ? f->bytes : sizeof(*v);
	out->free_val = free_int;
	return 0;
}

static int get_int(struct tg_cache *c, const char *key, struct filler *f,
		   bool *stale)
{
	struct tg_cache_ref *ref;
	int rc = tg_cache_get(c, key, fill, f, &ref, stale);
	int v;

	if (rc)
		return rc;
	v = *(int *)tg_cache_val(ref);
	tg_cache_put(ref);
	return v;
}

static void test_hit_within_ttl_miss_after(void **state)
{
	struct tg_cache *c = tg_cache_new(60, 0);
	struct filler f = { 0 };

	(void)state;
	assert_int_equal(get_int(c, "k", &f, NULL), 1);
	fake_now += 59;
	assert_int_equal(get_int(c, "k", &f, NULL), 1);
	assert_int_equal(f.calls, 1);
	fake_now += 2;
	assert_int_equal(get_int(c, "k", &f, NULL), 2);
	assert_int_equal(f.calls, 2);
	tg_cache_free(c);
}

static void test_keys_are_separate(void **state)
{
	struct tg_cache *c = tg_cache_new(60, 0);
	struct filler f = { 0 };

	(void)state;
	assert_int_equal(get_int(c, "a", &f, NULL), 1);
	assert_int_equal(get_int(c, "b", &f, NULL), 2);
	assert_int_equal(get_int(c, "a", &f, NULL), 1);
	tg_cache_free(c);
}

static void test_fill_error_is_returned_and_not_cached(void **state)
{
	struct tg_cache *c = tg_cache_new(60, 0);
	struct filler f = { .fail = -ENOENT };
	struct tg_cache_stats st;

	(void)state;
	assert_int_equal(get_int(c, "k", &f, NULL), -ENOENT);
	tg_cache_get_stats(c, &st);
	assert_int_equal(st.entries, 0);
	f.fail = 0;
	assert_int_equal(get_int(c, "k", &f, NULL), 1);
	tg_cache_free(c);
}

static void test_stale_value_served_when_fill_fails_with_eio(void **state)
{
	struct tg_cache *c = tg_cache_new(10, 0);
	struct filler f = { 0 };
	bool stale = true;

	(void)state;
	assert_int_equal(get_int(c, "k", &f, &stale), 1);
	assert_false(stale);
	fake_now += 11;
	f.fail = -EIO;
	assert_int_equal(get_int(c, "k", &f, &stale), 1);
	assert_true(stale);
	/* Not for errors that say the thing is gone. */
	f.fail = -ENOENT;
	assert_int_equal(get_int(c, "k", &f, &stale), -ENOENT);
	tg_cache_free(c);
}

/* A reference tells how old its content is: from its fill, kept when a
 * change replaces it, and the old one's own age when served stale. */
static void test_a_reference_tells_its_age(void **state)
{
	struct tg_cache *c = tg_cache_new(10, 0);
	struct filler f = { 0 };
	struct tg_cache_ref *ref;
	struct tg_cache_fill v = { .bytes = sizeof(int), .free_val = free_int };

	(void)state;
	assert_int_equal(get_int(c, "k", &f, NULL), 1);
	fake_now += 4;
	assert_true(tg_cache_peek(c, "k", &ref, NULL));
	assert_true(tg_cache_ref_age(ref) > 3.99 && tg_cache_ref_age(ref) < 4.01);
	tg_cache_put(ref);
	v.val = calloc(1, sizeof(int));
	assert_non_null(v.val);
	assert_true(tg_cache_replace(c, "k", &v));
	fake_now += 3;
	assert_true(tg_cache_peek(c, "k", &ref, NULL));
	assert_true(tg_cache_ref_age(ref) > 6.99 && tg_cache_ref_age(ref) < 7.01);
	tg_cache_put(ref);
	fake_now += 5; /* expired, and the fill fails: 12 s old, stale */
	f.fail = -EIO;
	assert_int_equal(tg_cache_get(c, "k", fill, &f, &ref, NULL), 0);
	assert_true(tg_cache_ref_age(ref) > 11.99 && tg_cache_ref_age(ref) < 12.01);
	tg_cache_put(ref);
	f.fail = 0;
	assert_int_equal(tg_cache_get(c, "k", fill, &f, &ref, NULL), 0);
	assert_true(tg_cache_ref_age(ref) < 0.01);
	tg_cache_put(ref);
	tg_cache_free(c);
}

static void test_invalidation_during_fill_is_not_stored(void **state)
{
	struct tg_cache *c = tg_cache_new(60, 0);
	struct filler f = { .invalidate_during = c };
	struct tg_cache_stats st;

	(void)state;
	assert_int_equal(get_int(c, "k", &f, NULL), 1); /* caller gets it */
	tg_cache_get_stats(c, &st);
	assert_int_equal(st.fills_discarded, 1);
	f.invalidate_during = NULL;
	assert_int_equal(get_int(c, "k", &f, NULL), 2); /* filled again */
	assert_int_equal(get_int(c, "k", &f, NULL), 2); /* now cached */
	tg_cache_free(c);
}

static void test_invalidate_and_clear_drop_entries(void **state)
{
	struct tg_cache *c = tg_cache_new(60, 0);
	struct filler f = { 0 };

	(void)state;
	assert_int_equal(get_int(c, "a", &f, NULL), 1);
	assert_int_equal(get_int(c, "b", &f, NULL), 2);
	tg_cache_invalidate(c, "a");
	assert_int_equal(get_int(c, "a", &f, NULL), 3);
	assert_int_equal(get_int(c, "b", &f, NULL), 2);
	tg_cache_clear(c);
	assert_int_equal(get_int(c, "b", &f, NULL), 4);
	tg_cache_free(c);
}

static void test_reference_outlives_eviction(void **state)
{
	struct tg_cache *c = tg_cache_new(60, 100);
	struct filler f = { .bytes = 60 };
	struct tg_cache_ref *ref;
	struct tg_cache_stats st;

	(void)state;
	freed = 0;
	assert_int_equal(tg_cache_get(c, "a", fill, &f, &ref, NULL), 0);
	fake_now += 1;
	assert_int_equal(get_int(c, "b", &f, NULL), 2); /* evicts "a" */
	tg_cache_get_stats(c, &st);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(st.entries, 1);
	assert_true(st.bytes <= 100);
	assert_int_equal(freed, 0); /* still held by us */
	assert_int_equal(*(int *)tg_cache_val(ref), 1);
	tg_cache_put(ref);
	assert_int_equal(freed, 1);
	tg_cache_free(c);
	assert_int_equal(freed, 2);
}

static void test_lru_entry_is_evicted_first(void **state)
{
	struct tg_cache *c = tg_cache_new(60, 130);
	struct filler f = { .bytes = 60 };

	(void)state;
	assert_int_equal(get_int(c, "a", &f, NULL), 1);
	fake_now += 1;
	assert_int_equal(get_int(c, "b", &f, NULL), 2);
	fake_now += 1;
	assert_int_equal(get_int(c, "a", &f, NULL), 1); /* a used last */
	fake_now += 1;
	assert_int_equal(get_int(c, "c", &f, NULL), 3); /* evicts b */
	assert_int_equal(get_int(c, "a", &f, NULL), 1);
	assert_int_equal(get_int(c, "b", &f, NULL), 4);
	tg_cache_free(c);
}

struct racer {
	struct tg_cache *c;
	struct filler *f;
	int got;
};

static void *race(void *arg)
{
	struct racer *r = arg;

	r->got = get_int(r->c, "k", r->f, NULL);
	return NULL;
}

static void test_concurrent_misses_fill_once(void **state)
{
	struct tg_cache *c = tg_cache_new(60, 0);
	struct filler f = { .wait_for_waiter = c };
	struct racer a = { c, &f, 0 }, b = { c, &f, 0 };
	pthread_t ta, tb;
	struct tg_cache_stats st;

	(void)state;
	assert_int_equal(pthread_create(&ta, NULL, race, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, race, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(f.calls, 1);
	assert_int_equal(a.got, 1);
	assert_int_equal(b.got, 1);
	tg_cache_get_stats(c, &st);
	assert_int_equal(st.waits, 1);
	assert_int_equal(st.misses, 1);
	tg_cache_free(c);
}

static void test_zero_ttl_always_fills(void **state)
{
	struct tg_cache *c = tg_cache_new(0, 0);
	struct filler f = { 0 };

	(void)state;
	assert_int_equal(get_int(c, "k", &f, NULL), 1);
	assert_int_equal(get_int(c, "k", &f, NULL), 2);
	tg_cache_free(c);
}

/* Values had along with another: stored as a fill would (fresh from
 * then, aged by the TTL, held by the offerer's walk), never over a fresh
 * value nor after a change made since the request. */
static struct tg_cache_fill offered(int v)
{
	int *p = malloc(sizeof(*p));

	assert_non_null(p);
	*p = v;
	return (struct tg_cache_fill){ p, sizeof(*p), free_int };
}

static void test_an_offer_is_kept_as_a_fill(void **state)
{
	struct tg_cache *c = tg_cache_new(10, 0);
	struct filler f = { .value = 100 };
	struct tg_cache_fill v;
	uint64_t gen;

	(void)state;
	gen = tg_cache_gen(c);
	assert_false(tg_cache_has(c, "k"));
	v = offered(7);
	assert_true(tg_cache_offer(c, "k", gen, &v));
	assert_true(tg_cache_has(c, "k"));
	fake_now += 9;
	assert_int_equal(get_int(c, "k", &f, NULL), 7);
	assert_int_equal(f.calls, 0);
	/* Fresh: a second offer is not taken. */
	v = offered(8);
	assert_false(tg_cache_offer(c, "k", tg_cache_gen(c), &v));
	free_int(v.val);
	fake_now += 2; /* expired: filled again, as any value */
	assert_int_equal(get_int(c, "k", &f, NULL), 101);
	/* A change since the request: what was had may be older. */
	gen = tg_cache_gen(c);
	tg_cache_invalidate(c, "other");
	v = offered(9);
	assert_false(tg_cache_offer(c, "j", gen, &v));
	free_int(v.val);
	assert_false(tg_cache_has(c, "j"));
	/* Expired values are replaced, as a fill replaces them. */
	fake_now += 11;
	v = offered(10);
	assert_true(tg_cache_offer(c, "k", tg_cache_gen(c), &v));
	assert_int_equal(get_int(c, "k", &f, NULL), 10);
	tg_cache_free(c);
}

/* ---- walks ---- */

/* One call of reader @reader at fake time now: a get of "k", its value. */
static int walk_get(struct tg_cache *c, uint64_t reader, struct filler *f)
{
	int v;

	tg_cache_walk_begin(c, reader);
	v = get_int(c, "k", f, NULL);
	tg_cache_walk_end(c);
	return v;
}

/* Steps of @step seconds, each a call of @reader, for @secs seconds: the
 * value of the last. */
static int walk_for(struct tg_cache *c, uint64_t reader, struct filler *f,
		    double step, double secs)
{
	int v = 0;

	for (double t = 0; t < secs; t += step) {
		fake_now += step;
		v = walk_get(c, reader, f);
	}
	return v;
}

/* A walk four times longer than the TTL reads what it filled throughout,
 * and a read within the TTL of its end costs nothing; after that, one
 * fill. */
static void test_a_walk_holds_its_snapshot(void **state)
{
	struct tg_cache *c = tg_cache_new(10, 0);
	struct filler f = { 0 };

	(void)state;
	assert_int_equal(walk_get(c, 7, &f), 1);
	assert_int_equal(walk_for(c, 7, &f, 0.5, 40), 1);
	assert_int_equal(f.calls, 1);
	fake_now += 9.5; /* no walk: 9.5 s old */
	assert_int_equal(get_int(c, "k", &f, NULL), 1);
	assert_int_equal(f.calls, 1);
	fake_now += 1;
	assert_int_equal(get_int(c, "k", &f, NULL), 2);
	assert_int_equal(f.calls, 2);
	tg_cache_free(c);
}

/* An offer made during a walk is that walk's snapshot, as its fills are. */
static void test_a_walk_holds_what_it_was_offered(void **state)
{
	struct tg_cache *c = tg_cache_new(10, 0);
	struct filler f = { .value = 100 };
	struct tg_cache_fill v = offered(7);

	(void)state;
	tg_cache_walk_begin(c, 9);
	assert_true(tg_cache_offer(c, "k", tg_cache_gen(c), &v));
	tg_cache_walk_end(c);
	assert_int_equal(walk_for(c, 9, &f, 0.5, 30), 7);
	assert_int_equal(f.calls, 0);
	tg_cache_free(c);
}

/* A walk that starts on a value 4 s old keeps that age while it goes on;
 * a second walk after the first goes on from there, and the value ages
 * again from the second's last read. */
static void test_a_walk_keeps_the_age_it_found(void **state)
{
	struct tg_cache *c = tg_cache_new(10, 0);
	struct filler f = { 0 };

	(void)state;
	assert_int_equal(get_int(c, "k", &f, NULL), 1);
	fake_now += 3;
	/* Its first read at 4 s old, the last 30 s later. */
	assert_int_equal(walk_for(c, 7, &f, 1, 30), 1);
	fake_now += 2.5; /* paused: the walk is over, 6.5 s old */
	assert_int_equal(walk_for(c, 8, &f, 1, 30), 1); /* from 7.5 s */
	assert_int_equal(f.calls, 1);
	fake_now += 2.4; /* over: 9.9 s old */
	assert_int_equal(get_int(c, "k", &f, NULL), 1);
	fake_now += 0.2;
	assert_int_equal(get_int(c, "k", &f, NULL), 2);
	tg_cache_free(c);
}

/* A process that reads every 3 s (longer than a walk's pause) makes a
 * new walk each time: the value ages, and is filled again after the TTL. */
static void test_a_poller_sees_the_value_age(void **state)
{
	struct tg_cache *c = tg_cache_new(10, 0);
	struct filler f = { 0 };

	(void)state;
	assert_int_equal(walk_get(c, 7, &f), 1);
	for (int i = 0; i < 3; i++) {
		fake_now += 3;
		assert_int_equal(walk_get(c, 7, &f), 1);
	}
	fake_now += 3; /* 12 s, with 4 pauses of 3 s */
	assert_int_equal(walk_get(c, 7, &f), 2);
	assert_int_equal(f.calls, 2);
	tg_cache_free(c);
}

/* Another reader's read while a walk holds the value takes nothing from
 * it: the walk keeps it, and both see it fresh. */
static void test_readers_share_a_walk_s_snapshot(void **state)
{
	struct tg_cache *c = tg_cache_new(10, 0);
	struct filler f = { 0 };

	(void)state;
	assert_int_equal(walk_get(c, 7, &f), 1);
	for (int i = 0; i < 60; i++) {
		fake_now += 0.5;
		assert_int_equal(walk_get(c, 7, &f), 1);
		if (i % 10 == 0)
			assert_int_equal(walk_get(c, 8, &f), 1);
	}
	assert_int_equal(f.calls, 1);
	/* Reader 8 read last 9.5 s ago, reader 7 0 s ago: still held. */
	fake_now += 2.5;
	assert_int_equal(walk_get(c, 8, &f), 1);
	assert_int_equal(f.calls, 1);
	tg_cache_free(c);
}

/* A walk holds a value TG_CACHE_WALK_MAX_S at most (or 10 TTLs). */
static void test_a_walk_holds_a_value_for_a_bounded_time(void **state)
{
	struct tg_cache *c = tg_cache_new(2, 0);
	struct tg_cache *d = tg_cache_new(100, 0);
	struct filler f = { 0 }, g = { 0 };
	double t = 0;

	(void)state;
	assert_int_equal(walk_get(c, 7, &f), 1);
	while (f.calls == 1 && t < 1000) {
		fake_now += 1;
		t += 1;
		walk_get(c, 7, &f);
	}
	assert_int_equal(f.calls, 2);
	assert_true(t > TG_CACHE_WALK_MAX_S);
	assert_true(t <= TG_CACHE_WALK_MAX_S + 2.0);
	assert_int_equal(walk_get(d, 7, &g), 1);
	for (t = 0; g.calls == 1 && t < 2000; t += 1) {
		fake_now += 1;
		walk_get(d, 7, &g);
	}
	assert_true(t > 100.0 * TG_CACHE_WALK_MAX_TTLS);
	assert_true(t <= 100.0 * TG_CACHE_WALK_MAX_TTLS + 100.0);
	tg_cache_free(c);
	tg_cache_free(d);
}

/* A walk reads "b" for @secs seconds (a step a second), then "a": the
 * value of "a". */
static int walk_b_then_a(struct tg_cache *c, uint64_t reader,
			 struct filler *fa, struct filler *fb, double secs)
{
	int v;

	for (double t = 0; t < secs; t += 1) {
		tg_cache_walk_begin(c, reader);
		assert_true(get_int(c, "b", fb, NULL) > 0);
		tg_cache_walk_end(c);
		fake_now += 1;
	}
	tg_cache_walk_begin(c, reader);
	v = get_int(c, "a", fa, NULL);
	tg_cache_walk_end(c);
	return v;
}

/* A walk is served what was fresh when it began, even what it reads
 * first once that has expired: a second walk right after a first one
 * fetches nothing, wherever it goes first. */
static void test_a_walk_reads_what_was_fresh_when_it_began(void **state)
{
	struct tg_cache *c = tg_cache_new(10, 0);
	struct filler fa = { 0 }, fb = { 0 };

	(void)state;
	/* The first walk reads both at its start, then "b" for 30 s. */
	tg_cache_walk_begin(c, 7);
	assert_int_equal(get_int(c, "a", &fa, NULL), 1);
	tg_cache_walk_end(c);
	assert_int_equal(walk_b_then_a(c, 7, &fa, &fb, 30), 1);
	fake_now += 3; /* over */
	/* The second reads "b" for 20 s, then "a": 3 s old when it began. */
	assert_int_equal(walk_b_then_a(c, 8, &fa, &fb, 20), 1);
	assert_int_equal(fa.calls, 1);
	assert_int_equal(fb.calls, 1);
	/* 9 s after it: "a" is 3 + 9 = 12 s old, and a third walk that
	 * reads it first, 1 s after it began, fetches it again. */
	fake_now += 9;
	assert_int_equal(walk_b_then_a(c, 9, &fa, &fb, 1), 2);
	tg_cache_free(c);
}

/* The cache's age of a value leaves out the time a walk held it; once
 * expired it is past the TTL; a value no longer its key's tells its
 * content's age. */
static void test_the_cache_s_age_of_a_value(void **state)
{
	struct tg_cache *c = tg_cache_new(10, 0);
	struct filler f = { 0 };
	struct tg_cache_ref *ref;

	(void)state;
	fake_now += 1;
	tg_cache_walk_begin(c, 7);
	assert_int_equal(tg_cache_get(c, "k", fill, &f, &ref, NULL), 0);
	tg_cache_walk_end(c);
	walk_for(c, 7, &f, 1, 20);
	assert_true(tg_cache_age(c, ref) < 0.01);
	assert_true(tg_cache_ref_age(ref) > 19.99);
	fake_now += 5; /* over: 5 s old since its end */
	assert_true(tg_cache_age(c, ref) > 4.99 && tg_cache_age(c, ref) < 5.01);
	tg_cache_expire_prefix(c, "k");
	assert_true(tg_cache_age(c, ref) > 10);
	tg_cache_invalidate(c, "k");
	assert_true(tg_cache_age(c, ref) > 24.99 && tg_cache_age(c, ref) < 25.01);
	tg_cache_put(ref);
	tg_cache_free(c);
}

static uint64_t gone_reader;

static bool reader_alive(uint64_t reader)
{
	return reader != gone_reader;
}

/* A reader that is no more ends its walk at its last call: what it held
 * ages from then, without waiting out a pause. */
static void test_a_walk_ends_with_its_reader(void **state)
{
	struct tg_cache *c = tg_cache_new(1, 0);
	struct filler f = { 0 };

	(void)state;
	tg_cache_set_alive(c, reader_alive);
	assert_int_equal(walk_get(c, 7, &f), 1);
	assert_int_equal(walk_for(c, 7, &f, 0.5, 10), 1);
	fake_now += 0.9; /* within a pause (1 s here) */
	assert_int_equal(get_int(c, "k", &f, NULL), 1);
	gone_reader = 7; /* it exited */
	assert_int_equal(get_int(c, "k", &f, NULL), 1);
	fake_now += 0.2; /* 1.1 s after its last call */
	assert_int_equal(get_int(c, "k", &f, NULL), 2);
	gone_reader = 0;
	tg_cache_free(c);
}

/* A change replaces the value the walk holds: the walk sees it, and goes
 * on holding it; expiry (a refresh) ends the hold at once. */
static void test_a_walk_sees_changes_and_refreshes(void **state)
{
	struct tg_cache *c = tg_cache_new(10, 0);
	struct filler f = { 0 };
	struct tg_cache_fill v = { .bytes = sizeof(int), .free_val = free_int };

	(void)state;
	assert_int_equal(walk_get(c, 7, &f), 1);
	assert_int_equal(walk_for(c, 7, &f, 1, 20), 1);
	v.val = malloc(sizeof(int));
	assert_non_null(v.val);
	*(int *)v.val = 42;
	assert_true(tg_cache_replace(c, "k", &v));
	assert_int_equal(walk_for(c, 7, &f, 1, 20), 42);
	assert_int_equal(f.calls, 1);
	tg_cache_expire_prefix(c, "");
	assert_int_equal(walk_for(c, 7, &f, 1, 1), 2);
	assert_int_equal(f.calls, 2);
	tg_cache_invalidate(c, "k");
	assert_int_equal(walk_for(c, 7, &f, 1, 1), 3);
	tg_cache_free(c);
}

/* One call of @reader visiting @node: a get of "k", its value. */
static int visit_get(struct tg_cache *c, uint64_t reader, uint64_t node,
		     struct filler *f)
{
	int v;

	tg_cache_walk_begin(c, reader);
	tg_cache_walk_visit(c, node);
	v = get_int(c, "k", f, NULL);
	tg_cache_walk_end(c);
	return v;
}

/* A poller (one reader, one node, a call every 0.5 s: one walk by its
 * pauses) comes back to its node at each call: each is a new pass, and
 * the value ages as if no walk held it: filled again once past the TTL,
 * not after TG_CACHE_WALK_MAX_S. */
static void test_a_walk_that_comes_back_to_a_node_is_over(void **state)
{
	struct tg_cache *c = tg_cache_new(10, 0);
	struct filler f = { 0 };
	struct tg_cache_stats st;
	double t = 0;

	(void)state;
	assert_int_equal(visit_get(c, 7, 5, &f), 1);
	tg_cache_get_stats(c, &st);
	assert_int_equal(st.walk_passes, 0);
	while (f.calls == 1 && t < 100) {
		fake_now += 0.5;
		t += 0.5;
		visit_get(c, 7, 5, &f);
	}
	assert_int_equal(f.calls, 2);
	assert_true(t >= 10 && t <= 10.5);
	tg_cache_get_stats(c, &st);
	assert_int_equal(st.walk_passes, (uint64_t)(t / 0.5));
	/* Still one pass a call, and the next fill one TTL later. */
	for (t = 0; f.calls == 2 && t < 100; t += 0.5) {
		fake_now += 0.5;
		visit_get(c, 7, 5, &f);
	}
	assert_true(t >= 10 && t <= 10.5);
	tg_cache_free(c);
}

/* A walk through new nodes (find, rsync: each file opened once) is one
 * walk however long, as without visits; another reader's visits, and a
 * node this reader visited in an earlier walk (after a pause), end
 * nothing. */
static void test_a_walk_through_new_nodes_holds_its_snapshot(void **state)
{
	struct tg_cache *c = tg_cache_new(10, 0);
	struct filler f = { 0 };
	struct tg_cache_stats st;

	(void)state;
	for (uint64_t n = 1; n <= 2000; n++) {
		fake_now += 0.05; /* 100 s */
		assert_int_equal(visit_get(c, 7, n, &f), 1);
		if (n % 100 == 0)
			assert_int_equal(visit_get(c, 8, 1, &f), 1);
	}
	fake_now += 3; /* a pause: reader 7's walk is over */
	assert_int_equal(visit_get(c, 7, 1, &f), 1); /* 3 s old */
	tg_cache_get_stats(c, &st);
	assert_int_equal(f.calls, 1);
	/* Reader 8 visits node 1 every 5 s: a new walk each time (by the
	 * pause), so it comes back to nothing. */
	assert_int_equal(st.walk_passes, 0);
	tg_cache_free(c);
}

/* A walk keeps TG_CACHE_WALK_VISITS nodes at most: past that it starts
 * its set again, and a poller of a few files is still found at its next
 * round (here after a walk through twice that many new files). */
static void test_a_walk_keeps_a_bounded_set_of_visits(void **state)
{
	struct tg_cache *c = tg_cache_new(1000, 0);
	struct filler f = { 0 };
	struct tg_cache_stats st;
	uint64_t n = 1;

	(void)state;
	tg_cache_walk_begin(c, 7);
	for (; n <= 2 * TG_CACHE_WALK_VISITS + 5; n++) {
		fake_now += 0.00001;
		assert_false(tg_cache_walk_visit(c, n));
	}
	/* The first ones are forgotten (kept, it would be back at one). */
	assert_false(tg_cache_walk_visit(c, 1));
	tg_cache_walk_end(c);
	tg_cache_get_stats(c, &st);
	assert_int_equal(st.walk_passes, 0);
	/* Three files, round and round: back at the first at round two. */
	for (int round = 0; round < 2; round++)
		for (uint64_t k = 0; k < 3; k++) {
			fake_now += 0.01;
			visit_get(c, 7, n + k, &f);
		}
	tg_cache_get_stats(c, &st);
	assert_true(st.walk_passes >= 1);
	tg_cache_free(c);
}

static int asks;

static bool count_alive(uint64_t reader)
{
	(void)reader;
	__atomic_add_fetch(&asks, 1, __ATOMIC_RELAXED);
	return true;
}

/* Whether a walk's reader is there is asked at most once every
 * TG_CACHE_WALK_ASK_S, however many reads look at what it holds. */
static void test_a_reader_is_asked_about_at_most_every_0_1_s(void **state)
{
	struct tg_cache *c = tg_cache_new(10, 0);
	struct filler f = { 0 };
	struct tg_cache_stats st;

	(void)state;
	tg_cache_set_alive(c, count_alive);
	assert_int_equal(walk_get(c, 7, &f), 1);
	asks = 0;
	fake_now += 0.01;
	for (int i = 0; i < 1000; i++) /* others' reads, in 1 s */
		for (int j = 0; j < 10; j++) {
			fake_now += 0.0001;
			assert_int_equal(get_int(c, "k", &f, NULL), 1);
		}
	tg_cache_get_stats(c, &st);
	assert_true(asks >= 9 && asks <= 11);
	assert_int_equal(st.reader_asks, (uint64_t)asks);
	tg_cache_free(c);
}

/* A peek within a walk sees what the walk holds; reader 0 is no walk; a
 * TTL of 0 still fills every time. */
static void test_walk_peek_no_reader_and_no_ttl(void **state)
{
	struct tg_cache *c = tg_cache_new(10, 0);
	struct tg_cache *z = tg_cache_new(0, 0);
	struct filler f = { 0 }, g = { 0 };
	struct tg_cache_ref *ref;

	(void)state;
	assert_int_equal(walk_get(c, 7, &f), 1);
	walk_for(c, 7, &f, 1, 20);
	tg_cache_walk_begin(c, 7);
	assert_true(tg_cache_peek(c, "k", &ref, NULL));
	tg_cache_put(ref);
	tg_cache_walk_end(c);
	fake_now += 11;
	assert_false(tg_cache_peek(c, "k", &ref, NULL));
	/* Reader 0 reads as no walk: the value ages. */
	assert_int_equal(walk_get(c, 0, &f), 2);
	assert_int_equal(walk_for(c, 0, &f, 1, 11), 3);
	assert_int_equal(walk_get(z, 7, &g), 1);
	assert_int_equal(walk_get(z, 7, &g), 2);
	tg_cache_free(c);
	tg_cache_free(z);
}

/* More readers than places: the ones without read as no walk, and a
 * place is taken from a reader that paused. */
static void test_many_readers(void **state)
{
	struct tg_cache *c = tg_cache_new(10, 0);
	struct filler f = { 0 };

	(void)state;
	for (uint64_t r = 1; r <= 200; r++)
		assert_int_equal(walk_get(c, r, &f), 1);
	fake_now += 3;
	for (uint64_t r = 201; r <= 400; r++)
		assert_int_equal(walk_get(c, r, &f), 1);
	assert_int_equal(f.calls, 1);
	tg_cache_free(c);
}

/* Walks from many threads at once (for the sanitizers): every reader
 * gets a value, and a held value is filled once. */
static void *walker(void *arg)
{
	struct tg_cache *c = arg;
	struct filler *f = calloc(1, sizeof(*f));
	uint64_t me = (uint64_t)(uintptr_t)pthread_self();

	for (int i = 0; i < 2000; i++) {
		struct tg_cache_stats st;

		tg_cache_walk_begin(c, me % 5 + 1);
		/* Back at a node now and then: passes end under the others. */
		tg_cache_walk_visit(c, (uint64_t)(i % 300) + 1);
		assert_true(get_int(c, i % 2 ? "a" : "b", f, NULL) >= 1);
		tg_cache_walk_end(c);
		tg_cache_get_stats(c, &st); /* read while others count */
		assert_true(st.hits + st.misses + st.waits >= 1);
	}
	free(f);
	return NULL;
}

static void test_walks_from_threads(void **state)
{
	struct tg_cache *c = tg_cache_new(10, 0);
	pthread_t t[8];

	(void)state;
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], NULL, walker, c), 0);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	tg_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_within_ttl_miss_after),
		cmocka_unit_test(test_a_reference_tells_its_age),
		cmocka_unit_test(test_keys_are_separate),
		cmocka_unit_test(test_fill_error_is_returned_and_not_cached),
		cmocka_unit_test(test_stale_value_served_when_fill_fails_with_eio),
		cmocka_unit_test(test_invalidation_during_fill_is_not_stored),
		cmocka_unit_test(test_invalidate_and_clear_drop_entries),
		cmocka_unit_test(test_reference_outlives_eviction),
		cmocka_unit_test(test_lru_entry_is_evicted_first),
		cmocka_unit_test(test_concurrent_misses_fill_once),
		cmocka_unit_test(test_zero_ttl_always_fills),
		cmocka_unit_test(test_an_offer_is_kept_as_a_fill),
		cmocka_unit_test(test_a_walk_holds_what_it_was_offered),
		cmocka_unit_test(test_a_walk_holds_its_snapshot),
		cmocka_unit_test(test_a_walk_keeps_the_age_it_found),
		cmocka_unit_test(test_a_poller_sees_the_value_age),
		cmocka_unit_test(test_readers_share_a_walk_s_snapshot),
		cmocka_unit_test(test_a_walk_holds_a_value_for_a_bounded_time),
		cmocka_unit_test(test_a_walk_reads_what_was_fresh_when_it_began),
		cmocka_unit_test(test_a_walk_ends_with_its_reader),
		cmocka_unit_test(test_the_cache_s_age_of_a_value),
		cmocka_unit_test(test_a_walk_sees_changes_and_refreshes),
		cmocka_unit_test(test_a_walk_that_comes_back_to_a_node_is_over),
		cmocka_unit_test(test_a_walk_through_new_nodes_holds_its_snapshot),
		cmocka_unit_test(test_a_walk_keeps_a_bounded_set_of_visits),
		cmocka_unit_test(test_a_reader_is_asked_about_at_most_every_0_1_s),
		cmocka_unit_test(test_walk_peek_no_reader_and_no_ttl),
		cmocka_unit_test(test_many_readers),
		cmocka_unit_test(test_walks_from_threads),
	};

	return cmocka_run_group_tests_name("cache", tests, NULL, NULL);
}
