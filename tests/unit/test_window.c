/*
 * test_window.c - pages per request (api/window.c): grows fast while the
 * API answers fast and whole, halves on a request too big or lost, grows
 * one page at a time after a loss, never asks again a size the API
 * refused, keeps one window a key, and reads the API's words.
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
		"maximum of 2000 nodes per request.", 1.0, 30), WIN_REFUSED);
	assert_int_equal(window_signal_of(TG_EQUERY,
		"Query complexity of 1200 exceeds the limit", 1.0, 30),
		WIN_REFUSED);
	assert_int_equal(window_signal_of(TG_EQUERY,
		"Request body too large (limit 1 MiB).", 1.0, 30),
		WIN_REFUSED);
	assert_true(window_again(WIN_REFUSED));
	assert_true(window_again(WIN_TOO_BIG));
	assert_false(window_again(WIN_LOST));
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

static void a_refused_size_is_never_asked_again(void **state)
{
	struct tg_window w = { 0 };

	(void)state;
	window_pages(&w, 10);
	window_answered(&w, 10, WIN_FAST);
	window_answered(&w, 20, WIN_FAST);
	assert_int_equal(window_pages(&w, 10), 40);
	window_answered(&w, 40, WIN_REFUSED);
	assert_int_equal(window_pages(&w, 10), 20);
	for (int i = 0; i < 40; i++)
		window_answered(&w, window_pages(&w, 10), WIN_FAST);
	assert_int_equal(window_pages(&w, 10), 39); /* grew back, below 40 */
	window_answered(&w, 2, WIN_REFUSED); /* even two pages are too many */
	window_answered(&w, 1, WIN_FAST);
	window_answered(&w, 1, WIN_FAST);
	assert_int_equal(window_pages(&w, 10), 1);
	window_answered(&w, 1, WIN_REFUSED); /* one page: nothing to halve */
	assert_int_equal(window_pages(&w, 10), 1);
}

static void a_refusal_naming_the_limit_says_what_fits(void **state)
{
	struct tg_window w = { 0 };
	const char *msg = "This query requests up to 1560 nodes, which "
			  "exceeds the maximum of 300 nodes per request.";

	(void)state;
	assert_int_equal(window_fit(msg, 10), 1);
	assert_int_equal(window_fit("requests up to 1000 nodes, over the "
				    "maximum of 300", 10), 3);
	assert_int_equal(window_fit("max 300, asked 6000", 64), 3);
	assert_int_equal(window_fit("Request body too large (limit 1 MiB).",
				    10), 0);
	assert_int_equal(window_fit("too complex", 10), 0);
	assert_int_equal(window_fit(NULL, 10), 0);
	window_pages(&w, 10);
	window_refused(&w, 10, window_fit("requests up to 1000 nodes, "
					  "maximum 300", 10));
	assert_int_equal(window_pages(&w, 10), 3);
	for (int i = 0; i < 10; i++)
		window_answered(&w, window_pages(&w, 10), WIN_FAST);
	assert_int_equal(window_pages(&w, 10), 3); /* never over what fits */
	window_refused(&w, 3, 0); /* no numbers: half, and below 3 */
	assert_int_equal(window_pages(&w, 10), 1);
	window_answered(&w, 1, WIN_FAST);
	window_answered(&w, 2, WIN_FAST);
	assert_int_equal(window_pages(&w, 10), 2);
}

static void one_window_a_key(void **state)
{
	static struct tg_windows ws;
	static int keys[TG_WINDOWS + 2];
	struct tg_window *a, *b;

	(void)state;
	a = window_of(&ws, &keys[0], TG_WINDOW_MOST);
	b = window_of(&ws, &keys[1], 12);
	assert_ptr_not_equal(a, b);
	assert_ptr_equal(window_of(&ws, &keys[0], TG_WINDOW_MOST), a);
	window_pages(a, 10);
	window_answered(a, 10, WIN_FAST);
	assert_int_equal(window_pages(b, 10), 10);
	assert_int_equal(window_pages(a, 10), 20);
	window_answered(b, 10, WIN_FAST);
	assert_int_equal(window_pages(b, 10), 12); /* its own most */
	window_answered(b, 12, WIN_FAST);
	assert_int_equal(window_pages(b, 10), 12);
	/* All slots taken: the last is shared. */
	for (int i = 0; i < TG_WINDOWS + 2; i++)
		assert_non_null(window_of(&ws, &keys[i], 5));
	assert_ptr_equal(window_of(&ws, &keys[TG_WINDOWS + 1], 5),
			 window_of(&ws, &keys[TG_WINDOWS], 5));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(starts_at_batch_pages_within_bounds),
		cmocka_unit_test(doubles_while_fast_then_stops_at_the_most),
		cmocka_unit_test(slow_or_short_answers_do_not_grow),
		cmocka_unit_test(halves_once_then_grows_by_one),
		cmocka_unit_test(signals_from_errors_and_words),
		cmocka_unit_test(a_refused_size_is_never_asked_again),
		cmocka_unit_test(a_refusal_naming_the_limit_says_what_fits),
		cmocka_unit_test(one_window_a_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
