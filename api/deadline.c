/*
 * deadline.c - one user operation's bound on the API (struct tg_call,
 * tg_api.h), and the arithmetic the client does with it.
 *
 * An operation (a lookup, a listing, a read, a write) starts its clock
 * when the FUSE request comes in: everything it asks of the API, tries,
 * pauses between tries and waits on 429s, must end by op->deadline
 * (timeout seconds later).  A 429 may be waited out past that only when
 * the user set a max_wait longer than the timeout: up to max_wait seconds
 * after the start, and the request after the wait has a timeout of its
 * own.  A shorter max_wait bounds the 429 waits within the timeout.  Pacing under our own
 * rate limits is not waiting for the API: the time it takes moves the
 * deadline on.
 *
 * The operation is this thread's (a __thread pointer): the client and
 * the transport under it read it without being told, and ahead.c's
 * helpers take on the one of the listing they work for.  An interrupt
 * (another thread) sets op->cancelled; whatever waits on the API looks
 * at it at least every TG_CALL_POLL_S and gives up with TG_EINTR.
 */
#include <errno.h>
#include <time.h>

#include "internal.h"

static __thread struct tg_call *current;

double api_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void tg_call_start(struct tg_call *op, const struct tg_api_config *cfg)
{
	double now = api_now();
	unsigned timeout = cfg->timeout_s ? cfg->timeout_s : 30;

	op->start = now;
	op->timeout = timeout;
	op->deadline = now + timeout;
	op->rate_deadline = cfg->max_wait_set ? now + cfg->max_wait_s
					      : op->deadline;
	op->rate_extends = cfg->max_wait_set && cfg->max_wait_s > timeout;
	__atomic_store_n(&op->cancelled, 0, __ATOMIC_RELEASE);
	current = op;
}

void tg_call_finish(void)
{
	current = NULL;
}

struct tg_call *tg_call_current(void)
{
	return current;
}

void tg_call_adopt(struct tg_call *op)
{
	current = op;
}

void tg_call_cancel(struct tg_call *op)
{
	__atomic_store_n(&op->cancelled, 1, __ATOMIC_RELEASE);
}

bool tg_call_cancelled(const struct tg_call *op)
{
	return op && __atomic_load_n(&op->cancelled, __ATOMIC_ACQUIRE);
}

/* The call's deadlines are moved by the threads working for it (ahead.c's
 * helpers pace and meet 429s too): read and moved atomically. */
static double load(const double *d)
{
	double v;

	__atomic_load(d, &v, __ATOMIC_ACQUIRE);
	return v;
}

/* *@d = max(*@d, @v), or *@d += @v with @add. */
static void move(double *d, double v, bool add)
{
	double old = load(d), want;

	do {
		want = add ? old + v : (v > old ? v : old);
		if (want == old)
			return;
	} while (!__atomic_compare_exchange(d, &old, &want, false,
					    __ATOMIC_ACQ_REL,
					    __ATOMIC_ACQUIRE));
}

double tg_call_attempt(const struct tg_call *op, double now, double timeout)
{
	double left;

	if (!op)
		return timeout;
	left = load(&op->deadline) - now;
	if (left < TG_CALL_MIN_TRY_S)
		return 0;
	return left < timeout ? left : timeout;
}

bool tg_call_may_retry(const struct tg_call *op, double now, double pause)
{
	return !op || now + pause + TG_CALL_MIN_TRY_S <= load(&op->deadline);
}

bool tg_call_rate_wait(struct tg_call *op, double until, double no_op_bound)
{
	if (!op)
		return until <= no_op_bound;
	if (until > load(&op->rate_deadline))
		return false;
	/* Only a max_wait the user set longer than the timeout may take
	 * the call past it: the request after the wait then gets a timeout
	 * of its own. */
	if (op->rate_extends) {
		move(&op->deadline, until + op->timeout, false);
		return true;
	}
	return until + TG_CALL_MIN_TRY_S <= load(&op->deadline);
}

void tg_call_paced(struct tg_call *op, double waited)
{
	if (op && waited > 0) {
		move(&op->deadline, waited, true);
		move(&op->rate_deadline, waited, true);
	}
}

bool api_sleep_until(double t)
{
	const struct tg_call *op = current;

	for (;;) {
		double now = api_now(), step;
		struct timespec ts;
		bool last;
		int rc;

		if (tg_call_cancelled(op))
			return false;
		if (t <= now)
			return true;
		step = t - now;
		last = !op || step <= TG_CALL_POLL_S;
		if (!last)
			step = TG_CALL_POLL_S;
		ts.tv_sec = (time_t)step;
		ts.tv_nsec = (long)((step - (double)ts.tv_sec) * 1e9);
		while ((rc = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts)) ==
		       EINTR)
			;
		/* The whole wait slept (tests/fuzz wraps clock_nanosleep to
		 * return at once: no waiting there, and no spinning). */
		if (last && rc == 0)
			return !tg_call_cancelled(op);
	}
}
