/*
 * test_names.c - object names as file names: the encoding, its inverse,
 * short ids and the duplicate and length rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tgfs.h"

static void roundtrip(const char *name, const char *want)
{
	char enc[1024], dec[1024];

	assert_true(tgfs_name_encode(name, enc, sizeof(enc)) >= 0);
	if (want)
		assert_string_equal(enc, want);
	assert_null(strchr(enc, '/'));
	assert_string_not_equal(enc, ".");
	assert_string_not_equal(enc, "..");
	assert_true(enc[0] != '\0');
	assert_true(tgfs_name_decode(enc, dec, sizeof(dec)) >= 0);
	assert_string_equal(dec, name);
}

static void test_plain_names_are_unchanged(void **state)
{
	(void)state;
	roundtrip("AWS prod", "AWS prod");
	roundtrip("Zürich Büro", "Zürich Büro");
	roundtrip("東京", "東京");
	roundtrip(".hidden-net", ".hidden-net");
	roundtrip("...", "...");
}

static void test_slash_and_dots_become_full_width(void **state)
{
	(void)state;
	roundtrip("Office / HQ", "Office \xef\xbc\x8f HQ");
	roundtrip("/", "\xef\xbc\x8f");
	roundtrip(".", "\xef\xbc\x8e");
	roundtrip("..", "\xef\xbc\x8e\xef\xbc\x8e");
	roundtrip("", "\xe2\x80\x9b");
}

static void test_literal_full_width_chars_are_quoted(void **state)
{
	(void)state;
	roundtrip("a\xef\xbc\x8f" "b", "a\xe2\x80\x9b\xef\xbc\x8f" "b");
	roundtrip("\xef\xbc\x8e", "\xe2\x80\x9b\xef\xbc\x8e");
	roundtrip("\xe2\x80\x9b", "\xe2\x80\x9b\xe2\x80\x9b");
	roundtrip("x/\xef\xbc\x8f/y", NULL);
}

static void test_encode_reports_small_buffer(void **state)
{
	char out[4];

	(void)state;
	assert_int_equal(tgfs_name_encode("abcd", out, sizeof(out)), -1);
	assert_int_equal(tgfs_name_encode("/", out, 3), -1);
	assert_int_equal(tgfs_name_encode("abc", out, sizeof(out)), 3);
}

static void test_short_id_is_the_primary_key(void **state)
{
	char sid[16];

	(void)state;
	tgfs_short_id("UmVtb3RlTmV0d29yazo0MDA2NA==", sid, sizeof(sid));
	assert_string_equal(sid, "40064");
	tgfs_short_id("U2VydmljZUFjY291bnQ6MmRkOTFmMDctYTcyNi00ZWU1LTllMDgtNzEwZmM0ZGE4MzQ0",
		      sid, sizeof(sid));
	assert_string_equal(sid, "2dd91f07");
	tgfs_short_id("opaque-thing", sid, sizeof(sid));
	assert_int_equal(strlen(sid), 8);
}

static void test_duplicates_get_the_short_id(void **state)
{
	char a[TGFS_NAME_MAX + 1], b[TGFS_NAME_MAX + 1];

	(void)state;
	tgfs_entry_name("Duplicate", "UmVtb3RlTmV0d29yazox", true, a);
	tgfs_entry_name("Duplicate", "UmVtb3RlTmV0d29yazoy", true, b);
	assert_string_equal(a, "Duplicate~1");
	assert_string_equal(b, "Duplicate~2");
	tgfs_entry_name("Duplicate", "UmVtb3RlTmV0d29yazox", false, a);
	assert_string_equal(a, "Duplicate");
	tgfs_entry_name("a/b", "UmVtb3RlTmV0d29yazox", true, a);
	assert_string_equal(a, "a\xef\xbc\x8f" "b~1");
}

static void test_long_names_are_cut_on_a_character(void **state)
{
	char name[1200], out[TGFS_NAME_MAX + 1];
	size_t n = 0;

	(void)state;
	while (n + 2 < 600) { /* "ü" is two bytes */
		memcpy(name + n, "\xc3\xbc", 2);
		n += 2;
	}
	name[n] = '\0';
	tgfs_entry_name(name, "UmVtb3RlTmV0d29yazo0MDA2NA==", false, out);
	assert_true(strlen(out) <= TGFS_NAME_MAX);
	assert_non_null(strstr(out, "~40064"));
	/* No half character before the suffix. */
	assert_int_equal((strstr(out, "~40064") - out) % 2, 0);
	/* Exactly 255 bytes fits as it is. */
	memset(name, 'x', 255);
	name[255] = '\0';
	tgfs_entry_name(name, "UmVtb3RlTmV0d29yazo0MDA2NA==", false, out);
	assert_string_equal(out, name);
	name[255] = 'x';
	name[256] = '\0';
	tgfs_entry_name(name, "UmVtb3RlTmV0d29yazo0MDA2NA==", false, out);
	assert_int_equal(strlen(out), TGFS_NAME_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_names_are_unchanged),
		cmocka_unit_test(test_slash_and_dots_become_full_width),
		cmocka_unit_test(test_literal_full_width_chars_are_quoted),
		cmocka_unit_test(test_encode_reports_small_buffer),
		cmocka_unit_test(test_short_id_is_the_primary_key),
		cmocka_unit_test(test_duplicates_get_the_short_id),
		cmocka_unit_test(test_long_names_are_cut_on_a_character),
	};

	return cmocka_run_group_tests_name("names", tests, NULL, NULL);
}
