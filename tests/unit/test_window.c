/*
 * test_window.c - pages per request (api/window.c): grows fast while the
 * API answers fast and whole, halves on a request too big or lost, grows
 * one page at a time after a loss, and reads the API's words.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "window.h"

static void starts_at_batch_pages_within_bounds(void **state)
{
	struct tg_window w = { 0 }, z = { 0 }, big = { 0 };

	(void)state;
	assert_int_equal(window_pages(&w, 10), 10);
	assert_int_equal(window_pages(&w, 3), 10); /* started already */
	assert_int_equal(window_pages(&z, 0), 1);
	assert_int_equal(window_pages(&big, 1000), TG_WINDOW_MOST);
}

static void doubles_while_fast_then_stops_at_the_most(void **state)
{
	struct tg_window w = { 0 };
	unsigned seen[8];

	(void)state;
	window_pages(&w, 10);
	for (int i = 0; i < 8; i++) {
		window_answered(&w, window_pages(&w, 10), WIN_FAST);
		seen[i] = window_pages(&w, 10);
	}
	assert_int_equal(seen[0], 20);
	assert_int_equal(seen[1], 40);
	assert_int_equal(seen[2], TG_WINDOW_MOST);
	assert_int_equal(seen[7], TG_WINDOW_MOST);
}

static void slow_or_short_answers_do_not_grow(void **state)
{
	struct tg_window w = { 0 };

	(void)state;
	window_pages(&w, 10);
	window_answered(&w, 10, WIN_SLOW);
	assert_int_equal(window_pages(&w, 10), 10);
	window_answered(&w, 4, WIN_FAST); /* the end of a list */
	assert_int_equal(window_pages(&w, 10), 10);
	window_answered(&w, 10, WIN_OTHER);
	assert_int_equal(window_pages(&w, 10), 10);
}

static void halves_once_then_grows_by_one(void **state)
{
	struct tg_window w = { 0 };

	(void)state;
	window_pages(&w, 10);
	window_answered(&w, 10, WIN_FAST);
	assert_int_equal(window_pages(&w, 10), 20);
	window_answered(&w, 20, WIN_TOO_BIG);
	assert_int_equal(window_pages(&w, 10), 10);
	/* Sent before the halving (asked 20): already answered for. */
	window_answered(&w, 20, WIN_LOST);
	assert_int_equal(window_pages(&w, 10), 10);
	/* After a loss: additive increase. */
	window_answered(&w, 10, WIN_FAST);
	assert_int_equal(window_pages(&w, 10), 11);
	window_answered(&w, 11, WIN_FAST);
	assert_int_equal(window_pages(&w, 10), 12);
	window_answered(&w, 12, WIN_LOST);
	assert_int_equal(window_pages(&w, 10), 6);
	for (int i = 0; i < 5; i++)
		window_answered(&w, window_pages(&w, 10), WIN_TOO_BIG);
	assert_int_equal(window_pages(&w, 10), 1); /* never below one */
}

static void signals_from_errors_and_words(void **state)
{
	(void)state;
	assert_int_equal(window_signal_of(TG_OK, NULL, 1.0, 30), WIN_FAST);
	assert_int_equal(window_signal_of(TG_OK, NULL, 8.0, 30), WIN_SLOW);
	assert_int_equal(window_signal_of(TG_EPROTO, NULL, 1.0, 30),
			 WIN_TOO_BIG);
	assert_int_equal(window_signal_of(TG_ENET, "timed out", 30.0, 30),
			 WIN_LOST);
	assert_int_equal(window_signal_of(TG_ESERVER, NULL, 1.0, 30),
			 WIN_LOST);
	assert_int_equal(window_signal_of(TG_EQUERY,
		"This query requests up to 10100 nodes, which exceeds the "
		"maximum of 2000 nodes per request.", 1.0, 30), WIN_TOO_BIG);
	assert_int_equal(window_signal_of(TG_EQUERY,
		"Query complexity of 1200 exceeds the limit", 1.0, 30),
		WIN_TOO_BIG);
	assert_int_equal(window_signal_of(TG_EQUERY,
		"Request body too large (limit 1 MiB).", 1.0, 30),
		WIN_TOO_BIG);
	/* Not about size: nothing learnt. */
	assert_int_equal(window_signal_of(TG_EQUERY,
		"Cannot query field 'foo' on type 'Device'.", 1.0, 30),
		WIN_OTHER);
	assert_int_equal(window_signal_of(TG_EQUERY, NULL, 1.0, 30),
			 WIN_OTHER);
	assert_int_equal(window_signal_of(TG_EAUTH, NULL, 1.0, 30),
			 WIN_OTHER);
	assert_int_equal(window_signal_of(TG_ERATE, NULL, 1.0, 30),
			 WIN_OTHER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(starts_at_batch_pages_within_bounds),
		cmocka_unit_test(doubles_while_fast_then_stops_at_the_most),
		cmocka_unit_test(slow_or_short_answers_do_not_grow),
		cmocka_unit_test(halves_once_then_grows_by_one),
		cmocka_unit_test(signals_from_errors_and_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
