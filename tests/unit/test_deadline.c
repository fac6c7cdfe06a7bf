/*
 * test_deadline.c - one user call's bound on the API (api/deadline.c):
 * the time a try may take, whether a retry still fits, which 429 waits
 * a call may make with and without max_wait, pacing moving the deadline,
 * and a cancelled call's sleeps ending at once.  Times are given, never
 * slept, except for the one sleep that must end early.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../api/internal.h"

/* A call started at monotonic time 100 with @timeout, max_wait @mw
 * (0: not set). */
static struct tg_call call_at(double timeout, double mw)
{
	return (struct tg_call){
		.start = 100, .timeout = timeout, .deadline = 100 + timeout,
		.rate_deadline = 100 + (mw ? mw : timeout),
		.rate_extends = mw > timeout,
	};
}

static void test_a_try_takes_the_time_left_at_most(void **state)
{
	struct tg_call c = call_at(30, 0);

	(void)state;
	assert_true(tg_call_attempt(&c, 100, 30) == 30);
	assert_true(tg_call_attempt(&c, 120, 30) == 10);
	/* Less than TG_CALL_MIN_TRY_S left: no try. */
	assert_true(tg_call_attempt(&c, 129.99, 30) == 0);
	assert_true(tg_call_attempt(&c, 131, 30) == 0);
	/* Without a call: the client's timeout. */
	assert_true(tg_call_attempt(NULL, 1e9, 30) == 30);
}

static void test_retries_only_while_the_deadline_allows(void **state)
{
	struct tg_call c = call_at(2, 0);

	(void)state;
	assert_true(tg_call_may_retry(&c, 100.5, 0.2));
	assert_true(tg_call_may_retry(&c, 101.5, 0.4));
	assert_false(tg_call_may_retry(&c, 101.8, 0.4));
	/* A value set that timed out waits one more timeout: never
	 * within a call whose try used its time. */
	assert_false(tg_call_may_retry(&c, 102, 2));
	assert_true(tg_call_may_retry(NULL, 1e9, 1e9));
}

static void test_429_waits_within_the_timeout_without_max_wait(void **state)
{
	struct tg_call c = call_at(3, 0);

	(void)state;
	assert_true(tg_call_rate_wait(&c, 102, 0));
	assert_true(c.deadline == 103); /* not moved */
	assert_false(tg_call_rate_wait(&c, 104, 0));
	assert_false(tg_call_rate_wait(&c, 103, 0)); /* no time for a try */
}

static void test_max_wait_shorter_than_the_timeout_bounds_429s(void **state)
{
	struct tg_call c = call_at(5, 1);

	(void)state;
	assert_false(tg_call_rate_wait(&c, 102, 0));
	assert_true(tg_call_rate_wait(&c, 101, 0));
	assert_true(c.deadline == 105);
}

static void test_max_wait_longer_than_the_timeout_extends_it(void **state)
{
	struct tg_call c = call_at(3, 10);

	(void)state;
	assert_true(tg_call_rate_wait(&c, 102, 0));
	assert_true(c.deadline == 105); /* the next try has a timeout */
	assert_true(tg_call_rate_wait(&c, 106, 0));
	assert_true(c.deadline == 109);
	assert_true(tg_call_rate_wait(&c, 110, 0));
	assert_false(tg_call_rate_wait(&c, 110.5, 0));
	/* Without a call: the bound given. */
	assert_true(tg_call_rate_wait(NULL, 50, 60));
	assert_false(tg_call_rate_wait(NULL, 70, 60));
}

static void test_pacing_moves_the_deadline_on(void **state)
{
	struct tg_call c = call_at(30, 0);

	(void)state;
	tg_call_paced(&c, 12);
	assert_true(c.deadline == 142);
	assert_true(c.rate_deadline == 142);
	tg_call_paced(&c, 0);
	tg_call_paced(NULL, 5);
	assert_true(c.deadline == 142);
}

static void test_a_cancelled_call_stops_sleeping(void **state)
{
	struct tg_api_config cfg = { .timeout_s = 30 };
	struct tg_call c;
	double t0;

	(void)state;
	tg_call_start(&c, &cfg);
	assert_ptr_equal(tg_call_current(), &c);
	assert_true(c.deadline - c.start == 30);
	assert_false(c.rate_extends);
	t0 = api_now();
	assert_true(api_sleep_until(t0 + 0.05));
	tg_call_cancel(&c);
	assert_true(tg_call_cancelled(&c));
	t0 = api_now();
	assert_false(api_sleep_until(t0 + 10));
	assert_true(api_now() - t0 < 0.5);
	tg_call_finish();
	assert_null(tg_call_current());
	assert_false(tg_call_cancelled(NULL));
}

static void test_start_takes_max_wait_when_set(void **state)
{
	struct tg_api_config cfg = { .timeout_s = 3, .max_wait_s = 10,
				     .max_wait_set = true };
	struct tg_call c;

	(void)state;
	tg_call_start(&c, &cfg);
	assert_true(c.rate_deadline - c.start == 10);
	assert_true(c.rate_extends);
	cfg.timeout_s = 0; /* the default */
	cfg.max_wait_set = false;
	tg_call_start(&c, &cfg);
	assert_true(c.deadline - c.start == 30);
	assert_true(c.rate_deadline == c.deadline);
	tg_call_finish();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_try_takes_the_time_left_at_most),
		cmocka_unit_test(test_retries_only_while_the_deadline_allows),
		cmocka_unit_test(test_429_waits_within_the_timeout_without_max_wait),
		cmocka_unit_test(test_max_wait_shorter_than_the_timeout_bounds_429s),
		cmocka_unit_test(test_max_wait_longer_than_the_timeout_extends_it),
		cmocka_unit_test(test_pacing_moves_the_deadline_on),
		cmocka_unit_test(test_a_cancelled_call_stops_sleeping),
		cmocka_unit_test(test_start_takes_max_wait_when_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
