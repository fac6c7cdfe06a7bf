/*
 * test_state.c - first-seen times (fs/state.c): an object keeps the time
 * its content was first seen while the content stays, gets a new one
 * when it changes, and keeps it across mounts (the state file).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "state.h"

#define URL "https://acme.twingate.com/api/graphql/"
#define N 3000 /* more than a first table holds: it grows */

static const struct tg_kind device = { .dir = "devices" };

/* A list of @n devices "RGV2aWNl<i>" whose content hash is @hash + i. */
static void make_list(struct tg_list *l, size_t n, uint64_t hash)
{
	l->items = calloc(n, sizeof(*l->items));
	assert_non_null(l->items);
	l->n = n;
	for (size_t i = 0; i < n; i++) {
		char id[32];

		snprintf(id, sizeof(id), "RGV2aWNl%zu", i);
		l->items[i].kind = &device;
		l->items[i].id = strdup(id);
		assert_non_null(l->items[i].id);
		l->items[i].hash = hash + i;
	}
}

static void set_mtimes(struct tg_list *l, int64_t t)
{
	for (size_t i = 0; i < l->n; i++)
		l->items[i].mtime = t;
}

static int setup(void **state)
{
	char dir[] = "/tmp/tgfs-state-XXXXXX";

	assert_non_null(mkdtemp(dir));
	*state = strdup(dir);
	setenv("XDG_STATE_HOME", dir, 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", (char *)*state);
	assert_int_equal(system(cmd), 0);
	free(*state);
	return 0;
}

static void test_times_stay_with_the_content_and_across_mounts(void **st)
{
	struct seen *s = seen_open(URL);
	struct tg_list l, again;
	int64_t before = (int64_t)time(NULL);

	(void)st;
	assert_non_null(s);
	make_list(&l, N, 1000);
	seen_stamp(s, &l);
	for (size_t i = 0; i < N; i++)
		assert_true(l.items[i].mtime >= before);
	/* The state file holds them: make them old, so that a mount that
	 * took "now" again would show. */
	seen_close(s);
	{
		char cmd[512];

		snprintf(cmd, sizeof(cmd),
			 "sed -i 's/ [0-9]*$/ 1000000/' '%s'/twingatefs/seen-*",
			 getenv("XDG_STATE_HOME"));
		assert_int_equal(system(cmd), 0);
	}
	s = seen_open(URL);
	assert_non_null(s);
	make_list(&again, N, 1000);
	set_mtimes(&again, 0);
	seen_stamp(s, &again);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(again.items[i].mtime, 1000000);
	tg_list_release(&again);
	/* Changed content: a new time, the others kept. */
	make_list(&again, N, 1000);
	again.items[7].hash = 42;
	set_mtimes(&again, 0);
	seen_stamp(s, &again);
	for (size_t i = 0; i < N; i++)
		if (i != 7)
			assert_int_equal(again.items[i].mtime, 1000000);
	assert_true(again.items[7].mtime >= before);
	tg_list_release(&again);
	tg_list_release(&l);
	seen_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_times_stay_with_the_content_and_across_mounts,
			setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
