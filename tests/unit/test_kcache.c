/*
 * test_kcache.c - when an open may read through the kernel's page cache:
 * only when the size the kernel was told is the content's, and keeping
 * the pages only when they were filled from the same content.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kcache.h"
#include "mount.h"

#define F "/networks/AWS prod/location"

static enum kcache_use open_text(struct kcache *kc, const char *path,
				 const char *text)
{
	return kcache_open(kc, path, fnv_add(FNV_INIT, text, strlen(text)),
			   strlen(text));
}

static void test_unknown_files_read_direct(void **state)
{
	struct kcache *kc = kcache_new(4, 4);

	(void)state;
	/* a getattr of a file never opened is not followed */
	assert_false(kcache_sized(kc, F, 4));
	assert_int_equal(open_text(kc, F, "aws\n"), KC_DIRECT);
	/* opened, but the kernel's size is not known yet */
	assert_int_equal(open_text(kc, F, "aws\n"), KC_DIRECT);
	kcache_free(kc);
}

/* @path opened once (direct), then told @size by a getattr. */
static void known(struct kcache *kc, const char *path, size_t size)
{
	assert_int_equal(kcache_open(kc, path, FNV_INIT, 0), KC_DIRECT);
	assert_false(kcache_sized(kc, path, size));
}

static void test_known_size_fills_then_keeps(void **state)
{
	struct kcache *kc = kcache_new(4, 4);

	(void)state;
	known(kc, F, 4);
	assert_int_equal(open_text(kc, F, "aws\n"), KC_FILL);
	assert_int_equal(open_text(kc, F, "aws\n"), KC_KEEP);
	assert_int_equal(open_text(kc, F, "aws\n"), KC_KEEP);
	/* same length, other bytes: the pages are dropped */
	assert_int_equal(open_text(kc, F, "gcp\n"), KC_FILL);
	assert_int_equal(open_text(kc, F, "gcp\n"), KC_KEEP);
	kcache_free(kc);
}

static void test_a_size_the_kernel_does_not_hold_reads_direct(void **state)
{
	struct kcache *kc = kcache_new(4, 4);

	(void)state;
	known(kc, F, 4);
	assert_int_equal(open_text(kc, F, "aws\n"), KC_FILL);
	/* grew: the kernel would cut reads at 4 bytes */
	assert_int_equal(open_text(kc, F, "on_premise\n"), KC_DIRECT);
	/* the kernel learns the new size, then the value comes back: the
	 * pages may hold "aws\n" but the kernel's size is 11 */
	assert_true(kcache_sized(kc, F, 11));
	assert_int_equal(open_text(kc, F, "aws\n"), KC_DIRECT);
	/* a direct open leaves pages unknown: the next cached one drops them */
	assert_true(kcache_sized(kc, F, 4));
	assert_int_equal(open_text(kc, F, "aws\n"), KC_FILL);
	assert_int_equal(open_text(kc, F, "aws\n"), KC_KEEP);
	kcache_free(kc);
}

static void test_a_write_forgets(void **state)
{
	struct kcache *kc = kcache_new(4, 4);

	(void)state;
	known(kc, F, 4);
	assert_int_equal(open_text(kc, F, "aws\n"), KC_FILL);
	kcache_forget(kc, F);
	assert_int_equal(open_text(kc, F, "aws\n"), KC_DIRECT);
	assert_false(kcache_sized(kc, F, 4)); /* unknown before: no change */
	assert_int_equal(open_text(kc, F, "aws\n"), KC_FILL);
	kcache_free(kc);
}

static void test_a_file_that_loses_its_slot_reads_direct(void **state)
{
	/* one set of four slots: every path shares it */
	struct kcache *kc = kcache_new(0, 0);
	const char *p[] = { "/a", "/b", "/c", "/d", "/e" };

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		known(kc, p[i], 2);
		assert_int_equal(open_text(kc, p[i], "x\n"), KC_FILL);
	}
	/* "/a" used again: "/b" is now the one used longest ago */
	assert_int_equal(open_text(kc, "/a", "x\n"), KC_KEEP);
	known(kc, "/e", 2);
	assert_int_equal(open_text(kc, "/b", "x\n"), KC_DIRECT);
	assert_int_equal(open_text(kc, "/a", "x\n"), KC_KEEP);
	assert_int_equal(open_text(kc, "/e", "x\n"), KC_FILL);
	/* "/b" took "/c"'s slot back at its direct open, pages unknown */
	assert_int_equal(open_text(kc, "/c", "x\n"), KC_DIRECT);
	kcache_sized(kc, "/b", 2);
	assert_int_equal(open_text(kc, "/b", "x\n"), KC_FILL);
	kcache_free(kc);
}

static void test_a_folder_keeps_its_listing_while_it_holds(void **state)
{
	struct kcache *kc = kcache_new(4, 4);

	(void)state;
	/* first open: nothing to compare, the kernel lists it */
	assert_false(kcache_dir_known(kc, "/networks"));
	kcache_dir_listed(kc, "/networks", 100);
	assert_true(kcache_dir_known(kc, "/networks"));
	assert_true(kcache_dir_open(kc, "/networks", 100));
	/* changed: the kernel lists it again */
	assert_false(kcache_dir_open(kc, "/networks", 200));
	/* it changed again between the open and the listing: the kernel
	 * holds 300, not 200, so 200 coming back must not be kept */
	kcache_dir_listed(kc, "/networks", 300);
	assert_false(kcache_dir_open(kc, "/networks", 200));
	kcache_dir_listed(kc, "/networks", 200);
	assert_true(kcache_dir_open(kc, "/networks", 200));
	/* another folder's listing is not this one's */
	assert_false(kcache_dir_known(kc, "/other"));
	assert_false(kcache_dir_open(kc, "/other", 200));
	kcache_free(kc);
}

/* Without OPENDIR: a folder's generation holds while the entries the
 * kernel was given are fresh, and changes once they go stale, or when its
 * record is gone. */
static void test_a_folder_generation_changes_when_its_entries_go_stale(
	void **state)
{
	struct kcache *kc = kcache_new(4, 4);
	double left;
	uint32_t g0, g1, g2;
	char p[16];

	(void)state;
	g0 = kcache_dir_gen(kc, "/networks", 100.0, &left);
	assert_true(g0 > 0 && g0 < 1000000000u); /* a tv_nsec */
	assert_true(left < 0); /* no entries given: attributes as usual */
	assert_int_equal(kcache_dir_gen(kc, "/networks", 150.0, &left), g0);
	/* listed at 160 from content 20 s old, TTL 60: stale at 200 */
	kcache_dir_filled(kc, "/networks", 200.0);
	assert_int_equal(kcache_dir_gen(kc, "/networks", 170.0, &left), g0);
	assert_true(left > 29.99 && left < 30.01);
	assert_int_equal(kcache_dir_gen(kc, "/networks", 199.9, &left), g0);
	g1 = kcache_dir_gen(kc, "/networks", 200.0, &left);
	assert_int_not_equal(g1, g0);
	assert_true(left < 0);
	/* it stays g1 until listed again and stale again */
	assert_int_equal(kcache_dir_gen(kc, "/networks", 300.0, &left), g1);
	kcache_dir_filled(kc, "/networks", 400.0);
	assert_int_equal(kcache_dir_gen(kc, "/networks", 399.0, &left), g1);
	/* other folders have generations of their own */
	assert_int_not_equal(kcache_dir_gen(kc, "/other", 399.0, &left), g1);
	/* the record pushed out by others (16 slots): a new generation */
	for (int i = 0; i < 64; i++) {
		snprintf(p, sizeof(p), "/d%d", i);
		kcache_dir_gen(kc, p, 399.0, &left);
	}
	g2 = kcache_dir_gen(kc, "/networks", 399.0, &left);
	assert_int_not_equal(g2, g1);
	assert_int_not_equal(g2, g0);
	kcache_free(kc);
}

static void test_a_folder_listed_without_a_record_gets_a_new_generation(
	void **state)
{
	struct kcache *kc = kcache_new(4, 4);
	double left;
	uint32_t g0;
	char p[16];

	(void)state;
	/* the kernel got g0 for /a; then /a's record is pushed out */
	g0 = kcache_dir_gen(kc, "/a", 10.0, &left);
	for (int i = 0; i < 64; i++) {
		snprintf(p, sizeof(p), "/d%d", i);
		kcache_dir_gen(kc, p, 10.0, &left);
	}
	/* listed with no record: its next getattr must not say g0, or the
	 * kernel would keep entries it had before as if they were these */
	kcache_dir_filled(kc, "/a", 100.0);
	assert_int_not_equal(kcache_dir_gen(kc, "/a", 20.0, &left), g0);
	assert_true(left > 79.99 && left < 80.01);
	kcache_free(kc);
}

static void test_files_read_once_leave_folders_known(void **state)
{
	struct kcache *kc = kcache_new(0, 0);
	char p[16];

	(void)state;
	assert_false(kcache_dir_known(kc, "/devices"));
	kcache_dir_listed(kc, "/devices", 100);
	for (int i = 0; i < 100; i++) {
		snprintf(p, sizeof(p), "/f%d", i);
		assert_int_equal(open_text(kc, p, "x\n"), KC_DIRECT);
	}
	assert_true(kcache_dir_known(kc, "/devices"));
	assert_true(kcache_dir_open(kc, "/devices", 100));
	kcache_free(kc);
}

static void test_counts_by_way(void **state)
{
	struct kcache *kc = kcache_new(4, 4);
	uint64_t n[3], d[2];

	(void)state;
	open_text(kc, F, "x\n");
	kcache_sized(kc, F, 2);
	open_text(kc, F, "x\n");
	open_text(kc, F, "x\n");
	open_text(kc, F, "x\n");
	kcache_dir_known(kc, "/");
	kcache_dir_listed(kc, "/", 100);
	kcache_dir_open(kc, "/", 100);
	kcache_counts(kc, n, d);
	assert_int_equal(n[KC_DIRECT], 1);
	assert_int_equal(n[KC_FILL], 1);
	assert_int_equal(n[KC_KEEP], 2);
	assert_int_equal(d[0], 1);
	assert_int_equal(d[1], 1);
	kcache_free(kc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_files_read_direct),
		cmocka_unit_test(test_known_size_fills_then_keeps),
		cmocka_unit_test(test_a_size_the_kernel_does_not_hold_reads_direct),
		cmocka_unit_test(test_a_write_forgets),
		cmocka_unit_test(test_a_file_that_loses_its_slot_reads_direct),
		cmocka_unit_test(test_a_folder_keeps_its_listing_while_it_holds),
		cmocka_unit_test(test_a_folder_generation_changes_when_its_entries_go_stale),
		cmocka_unit_test(test_a_folder_listed_without_a_record_gets_a_new_generation),
		cmocka_unit_test(test_files_read_once_leave_folders_known),
		cmocka_unit_test(test_counts_by_way),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
