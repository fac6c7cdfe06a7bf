/*
 * test_state.c - the mtimes fs/state.c gives objects: an object keeps the
 * mtime its content was first shown with while the content stays, and
 * keeps it across mounts (the state file, whose older whole-second lines
 * are still read); new content gets a new second: its updatedAt when that
 * moved on past the last mtime shown, else the time it is seen, and never
 * the second of the content before (rsync compares whole seconds).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "state.h"

#define URL "https://acme.twingate.com/api/graphql/"
#define N 3000 /* more than a first table holds: it grows */
#define G INT64_C(1000000000)

static const struct tg_kind device = { .dir = "devices" };
static const struct tg_kind network = { .dir = "networks",
					.mtime_path = "updatedAt" };

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * G + ts.tv_nsec;
}

/* The state file's text (one file under $XDG_STATE_HOME/twingatefs/). */
static char *state_text(void)
{
	char cmd[512], *buf = calloc(1, 1 << 20);
	FILE *p;
	size_t n;

	assert_non_null(buf);
	snprintf(cmd, sizeof(cmd), "cat '%s'/twingatefs/seen-*",
		 getenv("XDG_STATE_HOME"));
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(buf, 1, (1 << 20) - 1, p);
	buf[n] = '\0';
	pclose(p);
	return buf;
}

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
	int64_t before = now_ns(), after;
	char *text;

	(void)st;
	assert_non_null(s);
	make_list(&l, N, 1000);
	seen_stamp(s, &l, NULL);
	after = now_ns();
	/* first seen: now, to the nanosecond */
	for (size_t i = 0; i < N; i++) {
		assert_true(l.items[i].mtime >= before);
		assert_true(l.items[i].mtime <= after);
	}
	seen_close(s);
	/* This version writes "<secs>.<9 digits>", the mtime shown. */
	text = state_text();
	{
		char want[64];

		snprintf(want, sizeof(want), " %" PRId64 ".%09" PRId64 "\n",
			 l.items[0].mtime / G, l.items[0].mtime % G);
		assert_non_null(strstr(text, want));
	}
	free(text);
	/* Read back to the nanosecond by the next mount. */
	s = seen_open(URL);
	assert_non_null(s);
	make_list(&again, N, 1000);
	set_mtimes(&again, 0);
	seen_stamp(s, &again, NULL);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(again.items[i].mtime, l.items[i].mtime);
	tg_list_release(&again);
	seen_close(s);
	/* A state file of an older version (whole seconds) is read: make
	 * the times old that way, so that a mount that took "now" again
	 * would show. */
	{
		char cmd[512];

		snprintf(cmd, sizeof(cmd),
			 "sed -i 's/ [0-9.]*$/ 1000000/' '%s'/twingatefs/seen-*",
			 getenv("XDG_STATE_HOME"));
		assert_int_equal(system(cmd), 0);
	}
	s = seen_open(URL);
	assert_non_null(s);
	make_list(&again, N, 1000);
	set_mtimes(&again, 0);
	seen_stamp(s, &again, NULL);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(again.items[i].mtime, 1000000 * G);
	tg_list_release(&again);
	/* Changed content: a new time, the others kept. */
	make_list(&again, N, 1000);
	again.items[7].hash = 42;
	set_mtimes(&again, 0);
	seen_stamp(s, &again, NULL);
	for (size_t i = 0; i < N; i++)
		if (i != 7)
			assert_int_equal(again.items[i].mtime, 1000000 * G);
	assert_true(again.items[7].mtime >= before);
	tg_list_release(&again);
	tg_list_release(&l);
	seen_close(s);
}

/* The state file's lines: this version's, an older one's (whole seconds),
 * and lines that are neither, which are skipped. */
static void test_state_file_lines(void **st)
{
	char cmd[1024];
	struct seen *s;
	struct tg_list l;

	(void)st;
	/* A first mount makes the file; then write it by hand. */
	s = seen_open(URL);
	make_list(&l, 1, 1);
	seen_stamp(s, &l, NULL);
	seen_close(s);
	tg_list_release(&l);
	snprintf(cmd, sizeof(cmd),
		 "f=$(ls '%s'/twingatefs/seen-*) && printf '%%s\\n' "
		 "'RGV2aWNl0 0000000000000001 1700000000.5' "
		 "'RGV2aWNl1 0000000000000002 1700000001' "
		 "'RGV2aWNl2 0000000000000003 1700000002.123456789' "
		 "'RGV2aWNl3 0000000000000004 17000x' "
		 "'RGV2aWNl4 zz 1' "
		 "'RGV2aWNl5 0000000000000006 -5' > \"$f\"",
		 getenv("XDG_STATE_HOME"));
	assert_int_equal(system(cmd), 0);
	s = seen_open(URL);
	assert_non_null(s);
	make_list(&l, 6, 1);
	set_mtimes(&l, 0);
	seen_stamp(s, &l, NULL);
	assert_int_equal(l.items[0].mtime, 1700000000 * G + 500000000);
	assert_int_equal(l.items[1].mtime, 1700000001 * G); /* older file */
	assert_int_equal(l.items[2].mtime, 1700000002 * G + 123456789);
	for (size_t i = 3; i < 6; i++) /* not read: seen now */
		assert_true(l.items[i].mtime > 1700000002 * G + G);
	tg_list_release(&l);
	seen_close(s);
}

/* Objects with an updatedAt show it, to the digit; new content is a new
 * second, whether or not the API moved updatedAt. */
static void test_updated_at_and_new_seconds(void **st)
{
	const int64_t u0 = 1796305720 * G + 100000000; /* 13:48:40.1 */
	struct seen *s = seen_open(URL);
	struct tg_list l;
	int64_t before = now_ns(), shown;

	(void)st;
	make_list(&l, 2, 500);
	l.items[0].kind = l.items[1].kind = &network;
	set_mtimes(&l, u0);
	seen_stamp(s, &l, NULL);
	assert_int_equal(l.items[0].mtime, u0); /* updatedAt, never "now" */
	assert_int_equal(l.items[1].mtime, u0);
	/* The same content again: the same mtime. */
	set_mtimes(&l, u0);
	seen_stamp(s, &l, NULL);
	assert_int_equal(l.items[0].mtime, u0);
	/* Changed within the same second (updatedAt 40.950442): the next
	 * whole second, which rsync's quick check tells from 40. */
	l.items[0].hash = 600;
	set_mtimes(&l, u0 + 850442000);
	seen_stamp(s, &l, NULL);
	assert_int_equal(l.items[0].mtime, 1796305721 * G);
	assert_int_equal(l.items[1].mtime, u0); /* unchanged: kept */
	/* ... and stays while the content does, across mounts too. */
	seen_close(s);
	s = seen_open(URL);
	set_mtimes(&l, u0 + 850442000);
	seen_stamp(s, &l, NULL);
	assert_int_equal(l.items[0].mtime, 1796305721 * G);
	assert_int_equal(l.items[1].mtime, u0);
	/* A later updatedAt in another second: itself. */
	l.items[0].hash = 700;
	set_mtimes(&l, u0 + 5 * G + 42000);
	l.items[1].mtime = u0;
	seen_stamp(s, &l, NULL);
	assert_int_equal(l.items[0].mtime, u0 + 5 * G + 42000);
	/* Content changed with updatedAt left as it was (a connector's
	 * heartbeat, a member gone): the time it is seen. */
	l.items[1].hash = 800;
	set_mtimes(&l, u0);
	l.items[0].mtime = u0 + 5 * G + 42000;
	seen_stamp(s, &l, NULL);
	shown = l.items[1].mtime;
	assert_true(shown >= before);
	assert_true(shown <= now_ns());
	assert_int_equal(l.items[0].mtime, u0 + 5 * G + 42000);
	/* Back to an earlier content: new again, never an old second. */
	l.items[1].hash = 501;
	l.items[1].mtime = u0;
	seen_stamp(s, &l, NULL);
	assert_true(l.items[1].mtime / G > shown / G);
	tg_list_release(&l);
	seen_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_times_stay_with_the_content_and_across_mounts,
			setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_file_lines, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_updated_at_and_new_seconds, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
