/*
 * window.c - pages per request, learnt from the answers (window.h).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "window.h"

static pthread_mutex_t window_lock = PTHREAD_MUTEX_INITIALIZER;

bool window_too_big(const char *msg)
{
	if (!msg)
		return false;
	/* "... requests up to 10100 nodes, which exceeds the maximum",
	 * "query complexity 1200 exceeds 1000", "Request body too large" */
	if ((strcasestr(msg, "node") || strcasestr(msg, "cost") ||
	     strcasestr(msg, "complexity")) &&
	    (strcasestr(msg, "exceed") || strcasestr(msg, "limit") ||
	     strcasestr(msg, "maximum")))
		return true;
	return strcasestr(msg, "too large") || strcasestr(msg, "too big") ||
	       strcasestr(msg, "too complex");
}

enum window_signal window_signal_of(enum tg_err err, const char *msg,
				    double secs, unsigned timeout_s)
{
	switch (err) {
	case TG_OK:
		return secs * 4 < (double)timeout_s ? WIN_FAST : WIN_SLOW;
	case TG_EPROTO:
		return WIN_TOO_BIG; /* cut short, or unreadable */
	case TG_EQUERY:
	case TG_EINVAL:
		return window_too_big(msg) ? WIN_REFUSED : WIN_OTHER;
	case TG_ENET:
	case TG_ESERVER:
		return WIN_LOST;
	default:
		return WIN_OTHER;
	}
}

static unsigned clamp(unsigned v)
{
	return v < 1 ? 1 : v > TG_WINDOW_MOST ? TG_WINDOW_MOST : v;
}

struct tg_window *window_of(struct tg_windows *ws, const void *key,
			    unsigned most)
{
	struct tg_window *w = &ws->w[TG_WINDOWS - 1];

	pthread_mutex_lock(&window_lock);
	for (size_t i = 0; i < TG_WINDOWS; i++) {
		if (!ws->key[i]) {
			ws->key[i] = key;
			ws->w[i].most = clamp(most);
		}
		if (ws->key[i] == key) {
			w = &ws->w[i];
			break;
		}
	}
	pthread_mutex_unlock(&window_lock);
	return w;
}

/* Starts @w, when not yet, at @pages (within its most).  window_lock
 * held. */
static void window_start(struct tg_window *w, unsigned pages)
{
	if (w->pages)
		return;
	if (!w->most)
		w->most = TG_WINDOW_MOST;
	w->pages = clamp(pages) < w->most ? clamp(pages) : w->most;
	w->thresh = w->most;
}

unsigned window_pages(struct tg_window *w, unsigned start)
{
	unsigned n;

	pthread_mutex_lock(&window_lock);
	window_start(w, start);
	n = w->pages;
	pthread_mutex_unlock(&window_lock);
	return n;
}

void window_answered(struct tg_window *w, unsigned asked,
		     enum window_signal sig)
{
	pthread_mutex_lock(&window_lock);
	window_start(w, asked);
	switch (sig) {
	case WIN_FAST:
		if (asked < w->pages)
			break; /* a short request (a list's end) says little */
		if (w->pages < w->thresh)
			w->pages = w->pages * 2 > w->thresh ? w->thresh
							    : w->pages * 2;
		else if (w->pages < w->most)
			w->pages++;
		if (w->pages > w->most)
			w->pages = w->most;
		break;
	case WIN_REFUSED:
		pthread_mutex_unlock(&window_lock);
		window_refused(w, asked, 0);
		return;
	case WIN_TOO_BIG:
	case WIN_LOST:
		/* Halved from what was asked, once: a request sent before
		 * an earlier halving (it asked more than the window now)
		 * was already answered for. */
		if (asked <= w->pages) {
			w->pages = clamp(asked / 2);
			w->thresh = w->pages;
		}
		break;
	case WIN_SLOW:
	case WIN_OTHER:
		break;
	}
	pthread_mutex_unlock(&window_lock);
}

unsigned window_fit(const char *msg, unsigned asked)
{
	double big = 0, below = 0;

	if (!msg)
		return 0;
	for (const char *p = msg; *p;) {
		char *end;
		double v;

		if (*p < '0' || *p > '9') {
			p++;
			continue;
		}
		v = strtod(p, &end);
		p = end;
		if (v > big) {
			below = big;
			big = v;
		} else if (v > below && v < big) {
			below = v;
		}
	}
	if (!(below >= 1) || !(big > below))
		return 0;
	below = (double)asked * below / big;
	return below < 1 ? 1 : (unsigned)below;
}

void window_refused(struct tg_window *w, unsigned asked, unsigned fit)
{
	unsigned to = fit ? fit : asked / 2;

	pthread_mutex_lock(&window_lock);
	if (!w->pages) {
		if (!w->most)
			w->most = TG_WINDOW_MOST;
		w->pages = clamp(asked);
	}
	/* As big is refused again, every time (a cost limit). */
	if (asked > 1 && asked - 1 < w->most)
		w->most = asked - 1;
	if (fit && fit < w->most)
		w->most = clamp(fit);
	if (to < w->pages || w->pages > w->most)
		w->pages = clamp(to < w->most ? to : w->most);
	w->thresh = w->pages;
	pthread_mutex_unlock(&window_lock);
}
