/*
 * test_removals.c - files removed lately (fs/removals.c): hidden from
 * their remover alone until made again, and an object being taken apart
 * by its remover, each for its own time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "inodes.h"
#include "node.h"
#include "removals.h"

static void test_hidden_from_the_remover_alone(void **state)
{
	struct removals *s = removals_new();

	(void)state;
	assert_false(removals_hidden(s, "/groups/G/name", 10));
	assert_int_equal(removals_add(s, "/groups/G/name", 10), 0);
	assert_true(removals_hidden(s, "/groups/G/name", 10));
	assert_false(removals_hidden(s, "/groups/G/name", 11));
	assert_false(removals_hidden(s, "/groups/G/id", 10));
	/* made again: hidden from no one, the object still taken apart */
	removals_clear(s, "/groups/G/name");
	assert_false(removals_hidden(s, "/groups/G/name", 10));
	assert_true(removals_apart(s, "/groups/G/users/a@example.com", 10));
	removals_free(s);
}

static void test_rm_r_and_taken_apart(void **state)
{
	struct removals *s = removals_new();

	(void)state;
	assert_int_equal(removals_add(s, "/networks/N/location", 7), 0);
	/* below the object, by its remover alone; not the object itself,
	 * nor another */
	assert_true(removals_apart(s, "/networks/N/resources/R", 7));
	assert_false(removals_apart(s, "/networks/N/resources/R", 8));
	assert_false(removals_apart(s, "/networks/N", 7));
	assert_false(removals_apart(s, "/networks/NN/resources/R", 7));
	assert_false(removals_apart(s, "/networks/M/resources/R", 7));
	assert_false(removals_apart(s, "/networks", 7));
	/* the object deleted: forgotten */
	removals_forget(s, "/networks/N");
	assert_false(removals_apart(s, "/networks/N/resources/R", 7));
	removals_free(s);
}

/* An object folder a process made (cp -r's mkdir): what is in it is
 * hidden from that process alone until it makes it anew, and what it
 * made so is the copy's. */
static void test_a_copy_into_a_new_folder(void **state)
{
	struct removals *s = removals_new();

	(void)state;
	assert_int_equal(removals_fresh_add(s, "/groups/B", 5), 0);
	assert_true(removals_hidden(s, "/groups/B/name", 5));
	assert_true(removals_hidden(s, "/groups/B/users/x", 5));
	assert_false(removals_hidden(s, "/groups/B/name", 6));
	assert_false(removals_hidden(s, "/groups/B", 5));
	assert_false(removals_hidden(s, "/groups/BB/name", 5));
	assert_true(removals_in_fresh(s, "/groups/B/name", 5));
	assert_true(removals_in_fresh(s, "/groups/B/name", 0));
	assert_false(removals_in_fresh(s, "/groups/B/name", 6));
	/* not taken apart by its maker: links there are added */
	assert_false(removals_apart(s, "/groups/B/users/x", 5));
	/* written by the copy: shown again, and the copy's */
	assert_false(removals_is_copy(s, "/groups/B/name"));
	assert_true(removals_copied(s, "/groups/B/name", "/groups/B/name"));
	assert_false(removals_hidden(s, "/groups/B/name", 5));
	assert_true(removals_is_copy(s, "/groups/B/name"));
	assert_false(removals_copied(s, "/groups/B/name", "/groups/B/name")); /* once */
	/* outside a new folder: nothing */
	assert_false(removals_copied(s, "/groups/A/name", "/groups/A/name"));
	assert_false(removals_is_copy(s, "/groups/A/name"));
	removals_free(s);
}

/* A folder its maker made in a new folder (cp -r of a network: a
 * connector, created): shown to its maker, and fresh in turn, what it
 * holds hidden until the copy makes it. */
static void test_a_new_object_in_a_copy(void **state)
{
	struct removals *s = removals_new();

	(void)state;
	assert_int_equal(removals_fresh_add(s, "/networks/N2", 5), 0);
	assert_true(removals_hidden(s, "/networks/N2/connectors/c", 5));
	/* made (mkdir: a create), then fresh itself */
	assert_true(removals_copied(s, "/networks/N2/connectors/c", "/networks/N2/connectors/c"));
	assert_int_equal(removals_fresh_add(s, "/networks/N2/connectors/c", 5),
			 0);
	assert_false(removals_hidden(s, "/networks/N2/connectors/c", 5));
	assert_true(removals_hidden(s, "/networks/N2/connectors/c/name", 5));
	assert_true(removals_copied(s, "/networks/N2/connectors/c/name", "/networks/N2/connectors/c/name"));
	assert_false(removals_hidden(s, "/networks/N2/connectors/c/name", 5));
	removals_free(s);
}

/* More removals than slots: the oldest goes, the newest stay. */
static void test_the_oldest_goes(void **state)
{
	struct removals *s = removals_new();
	char path[64];

	(void)state;
	for (int i = 0; i < REMOVALS_MAX + 4; i++) {
		snprintf(path, sizeof(path), "/groups/G/f%d", i);
		assert_int_equal(removals_add(s, path, 1), 0);
	}
	assert_false(removals_hidden(s, "/groups/G/f0", 1));
	snprintf(path, sizeof(path), "/groups/G/f%d", REMOVALS_MAX + 3);
	assert_true(removals_hidden(s, path, 1));
	removals_free(s);
}

/* Keys by the top object's id (node_removals_key): a record holds when
 * the object is renamed, a nested object's files are in its top object,
 * and a key's object folder is its first name. */
static void test_keys_by_id(void **state)
{
	struct inodes_chain *c =
		calloc(1, sizeof(*c) + 6 * sizeof(struct inodes_hop));
	const char *names[] = { "", "networks", "N", "connectors", "C",
				"name" };
	const char *ids[] = { NULL, NULL, "RN/1", NULL, "CN1", NULL };
	struct removals *s = removals_new();
	char key[REMOVALS_KEY_MAX], small[8];

	(void)state;
	assert_non_null(c);
	for (size_t i = 0; i < 6; i++) {
		c->hop[i].name = names[i];
		c->hop[i].id = ids[i];
	}
	c->n = 5;
	c->path = "/networks/N/connectors/C/name";
	node_removals_key(c, c->path, key, sizeof(key));
	assert_string_equal(key, "/networks#RN%1/connectors/C/name");
	node_removals_key(c, c->path, small, sizeof(small)); /* no room */
	assert_string_equal(small, "/networ");
	node_removals_key(NULL, "/groups/G/name", key, sizeof(key));
	assert_string_equal(key, "/groups/G/name");
	c->n = 1; /* no object on the way */
	node_removals_key(c, "/networks", key, sizeof(key));
	assert_string_equal(key, "/networks");

	assert_int_equal(removals_add(s, "/networks#RN%1/name", 3), 0);
	assert_true(removals_hidden(s, "/networks#RN%1/name", 3));
	assert_true(removals_apart(s, "/networks#RN%1/connectors/C", 3));
	assert_false(removals_apart(s, "/networks#RN%1", 3));
	assert_false(removals_apart(s, "/networks#RN%2/connectors/C", 3));
	removals_forget(s, "/networks#RN%1");
	assert_false(removals_hidden(s, "/networks#RN%1/name", 3));
	removals_free(s);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hidden_from_the_remover_alone),
		cmocka_unit_test(test_rm_r_and_taken_apart),
		cmocka_unit_test(test_a_copy_into_a_new_folder),
		cmocka_unit_test(test_a_new_object_in_a_copy),
		cmocka_unit_test(test_the_oldest_goes),
		cmocka_unit_test(test_keys_by_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
