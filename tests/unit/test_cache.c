/*
 * test_cache.c - the TTL cache: hits, expiry, single flight, generations,
 * stale serving and the memory bound.  Time is ours: clock_gettime is
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
	};

	return cmocka_run_group_tests_name("cache", tests, NULL, NULL);
}
