/*
 * window.h - how many pages go in one request (window.c), learnt from the
 * API's answers as TCP learns its window: it starts at batch_pages and
 * doubles while answers come back fast and whole (up to a threshold,
 * then one page more per answer), and halves on a request the API found
 * too big (a cost or size limit, a truncated answer), on a timeout or a
 * 5xx; the threshold then stays at the halved size, so growth after a
 * loss is slow, and a request the API refused for its size (a cost
 * limit: the same request is refused every time) is never made again.  The real API's limits are unknown (REFERENCE.md §10).
 *
 * One window per client and kind of request (struct tg_api.windows),
 * shared by the listings of that kind: window_of, window_pages and
 * window_answered take one process-wide lock, any thread.  A zeroed window is one not yet used; the first call
 * starts it.  Nothing here fails or allocates.
 */
#ifndef TG_WINDOW_H
#define TG_WINDOW_H

#include <stdbool.h>

#include "tg_api.h"

struct tg_window {
	unsigned pages;  /* pages per request now (0: not started) */
	unsigned thresh; /* above it, growth is one page an answer */
	unsigned most;   /* never more: below what the API refused */
};

/* A client's windows, one for each kind of request (a kind's list, its
 * nested pages): a page of groups with their members costs the API more
 * than a page of devices.  Keys are the callers' (a kind's address). */
#define TG_WINDOWS 32
struct tg_windows {
	const void *key[TG_WINDOWS];
	struct tg_window w[TG_WINDOWS];
};

/* What an answer tells the window. */
enum window_signal {
	WIN_FAST,    /* whole, and in under a quarter of the timeout */
	WIN_SLOW,    /* whole, slowly: stays */
	WIN_REFUSED, /* refused for its size (a cost limit): halve, never
			as big again, ask again */
	WIN_TOO_BIG, /* cut short: halve, ask again */
	WIN_LOST,    /* timed out, 5xx: halve; the request failed */
	WIN_OTHER,   /* any other failure: nothing learnt */
};

/* Most pages in one request whatever the answers: they bound the bodies
 * in memory at once, concurrency x this x a page.  A page of a list holds
 * whole objects (a page of devices ~100 KB); a nested page only ids. */
#define TG_WINDOW_MOST 64
#define TG_WINDOW_MOST_LIST 24

/* The signal of a request that ended with @err (its message @msg, NULL
 * when none) after @secs seconds, @timeout_s being the client's timeout. */
enum window_signal window_signal_of(enum tg_err err, const char *msg,
				    double secs, unsigned timeout_s);

/* True when @msg says the request asked for too much at once: a query
 * cost or node limit, a body too large. */
bool window_too_big(const char *msg);

/* The window of @key in @ws (the one of the last slot, shared, once
 * all are taken), of at most @most pages (at most TG_WINDOW_MOST) when
 * new.  Never NULL. */
struct tg_window *window_of(struct tg_windows *ws, const void *key,
			    unsigned most);

/* True for the signals that call for the request again, smaller. */
static inline bool window_again(enum window_signal sig)
{
	return sig == WIN_REFUSED || sig == WIN_TOO_BIG;
}

/* The pages of a request of @asked pages that would have fitted, when
 * the API's refusal @msg names what was asked and the most allowed (the
 * biggest number in it and the biggest below that: "requests up to 1560
 * nodes, which exceeds the maximum of 300"): @asked scaled down by their
 * ratio, at least 1.  0 when it names no such pair. */
unsigned window_fit(const char *msg, unsigned asked);

/* A request of @asked pages was refused for its size, @fit pages would
 * have fitted (0: not known): the window goes to @fit, or half, and
 * never again to @asked or more. */
void window_refused(struct tg_window *w, unsigned asked, unsigned fit);

/* Pages for the next request, starting @w at @start (at least 1, at
 * most TG_WINDOW_MOST) if it was not. */
unsigned window_pages(struct tg_window *w, unsigned start);

/* A request of @asked pages was answered with @sig: grows or halves @w.
 * Only a full request (asked the window's size or more) grows it. */
void window_answered(struct tg_window *w, unsigned asked,
		     enum window_signal sig);

#endif
