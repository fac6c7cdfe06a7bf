/*
 * window.h - how many pages go in one request (window.c), learnt from the
 * API's answers as TCP learns its window: it starts at batch_pages and
 * doubles while answers come back fast and whole (up to a threshold,
 * then one page more per answer), and halves on a request the API found
 * too big (a cost or size limit, a truncated answer), on a timeout or a
 * 5xx; the threshold then stays at the halved size, so growth after a
 * loss is slow.  The real API's limits are unknown (REFERENCE.md §10).
 *
 * One window per client (struct tg_api.window), shared by every listing:
 * window_pages and window_answered take one process-wide
 * lock, any thread.  A zeroed window is one not yet used; the first call
 * starts it.  Nothing here fails or allocates.
 */
#ifndef TG_WINDOW_H
#define TG_WINDOW_H

#include <stdbool.h>

#include "tg_api.h"

struct tg_window {
	unsigned pages;  /* pages per request now (0: not started) */
	unsigned thresh; /* above it, growth is one page an answer */
	unsigned most;   /* never more */
};

/* What an answer tells the window. */
enum window_signal {
	WIN_FAST,    /* whole, and in under a quarter of the timeout */
	WIN_SLOW,    /* whole, slowly: stays */
	WIN_TOO_BIG, /* refused for its size, or cut short: halve, ask again */
	WIN_LOST,    /* timed out, 5xx: halve; the request failed */
	WIN_OTHER,   /* any other failure: nothing learnt */
};

/* Most pages in one request whatever the answers (bounds the bodies in
 * memory at once: concurrency x this x a page). */
#define TG_WINDOW_MOST 64

/* The signal of a request that ended with @err (its message @msg, NULL
 * when none) after @secs seconds, @timeout_s being the client's timeout. */
enum window_signal window_signal_of(enum tg_err err, const char *msg,
				    double secs, unsigned timeout_s);

/* True when @msg says the request asked for too much at once: a query
 * cost or node limit, a body too large. */
bool window_too_big(const char *msg);

/* Pages for the next request, starting @w at @start (at least 1, at
 * most TG_WINDOW_MOST) if it was not. */
unsigned window_pages(struct tg_window *w, unsigned start);

/* A request of @asked pages was answered with @sig: grows or halves @w.
 * Only a full request (asked the window's size or more) grows it. */
void window_answered(struct tg_window *w, unsigned asked,
		     enum window_signal sig);

#endif
