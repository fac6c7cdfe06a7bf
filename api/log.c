/*
 * log.c - the one logging function of twingatefs.
 *
 * Lines go to stderr until the daemon detaches, then to syslog.  Callers
 * must never hand a secret to tg_log(): the token and connector or key
 * tokens are kept out of every format string and argument by design.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

#include "tg_api.h"

static enum tg_log_level max_level = TG_LOG_INFO;
static bool use_syslog;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void tg_log_set_level(enum tg_log_level level)
{
	max_level = level;
}

bool tg_log_enabled(enum tg_log_level level)
{
	return level <= max_level;
}

void tg_log_use_syslog(void)
{
	openlog("twingatefs", LOG_PID, LOG_DAEMON);
	use_syslog = true;
}

void tg_log(enum tg_log_level level, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *const tag[] = { "error", "warning", "info",
					   "debug" };
	va_list ap;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	if (use_syslog) {
		vsyslog(prio[level], fmt, ap);
	} else {
		/* One lock so lines from several threads do not interleave. */
		pthread_mutex_lock(&log_lock);
		fprintf(stderr, "twingatefs: %s: ", tag[level]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		pthread_mutex_unlock(&log_lock);
	}
	va_end(ap);
}

const char *tg_err_str(enum tg_err err)
{
	switch (err) {
	case TG_OK:
		return "success";
	case TG_ENOMEM:
		return "out of memory";
	case TG_ENET:
		return "the API could not be reached";
	case TG_EAUTH:
		return "the API token was refused";
	case TG_EPERM:
		return "the API token lacks the permission";
	case TG_ERATE:
		return "rate limit still exceeded";
	case TG_ESERVER:
		return "server error";
	case TG_EPROTO:
		return "malformed response";
	case TG_EQUERY:
		return "the API rejected the request";
	case TG_ENOTFOUND:
		return "no such object";
	case TG_EINVAL:
		return "invalid value";
	case TG_EEXIST:
		return "the name is taken";
	case TG_ENOTEMPTY:
		return "it still has things in it";
	case TG_EDENIED:
		return "not allowed for this object";
	case TG_ENOTSUP:
		return "the API's schema has no such mutation or argument";
	case TG_EINTR:
		return "interrupted";
	case TG_E2BIG:
		return "value too large";
	}
	return "unknown error";
}
