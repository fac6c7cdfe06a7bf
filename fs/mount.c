/*
 * mount.c - the mount's state and errors (mount.h): errno mapping, the
 * errors log, whether stale data is served, and "folders changed".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mount.h"

int tgfs_errno(enum tg_err err)
{
	switch (err) {
	case TG_OK:
		return 0;
	case TG_ENOMEM:
		return ENOMEM;
	case TG_EAUTH:
	case TG_EPERM:
		return EACCES;
	case TG_ERATE:
		return EAGAIN;
	case TG_ENOTFOUND:
		return ENOENT;
	case TG_EINVAL:
	case TG_EQUERY:
		return EINVAL;
	case TG_EEXIST:
		return EEXIST;
	case TG_ENOTEMPTY:
		return ENOTEMPTY;
	case TG_EDENIED:
		return EPERM;
	case TG_E2BIG:
		return EFBIG;
	case TG_ENOTSUP:
		return EOPNOTSUPP;
	case TG_EINTR:
		return EINTR;
	case TG_ENET:
	case TG_ESERVER:
	case TG_EPROTO:
		return EIO;
	}
	return EIO;
}

void tgfs_record_error(struct tgfs *fs, const char *path, int err,
		       const char *message)
{
	const char *what = strerror(-err);
	struct tgfs_error *e;

	/* A message that says its errno already ("Permission denied: this
	 * API key...") is not prefixed with it a second time. */
	if (message && strncasecmp(message, what, strlen(what)) == 0)
		what = "";
	tg_log(TG_LOG_WARN, "%s: %s%s%s", path, what,
	       *what && message && *message ? ": " : "",
	       message ? message : "");
	pthread_mutex_lock(&fs->lock);
	e = &fs->errors[fs->nerrors++ % TGFS_ERRORS_KEPT];
	e->when = time(NULL);
	snprintf(e->path, sizeof(e->path), "%s", path);
	snprintf(e->message, sizeof(e->message), "%s%s%s", what,
		 *what && message && *message ? ": " : "",
		 message ? message : "");
	pthread_mutex_unlock(&fs->lock);
}

unsigned tgfs_errors(struct tgfs *fs, struct tgfs_error *out)
{
	unsigned first, n;

	pthread_mutex_lock(&fs->lock);
	n = fs->nerrors < TGFS_ERRORS_KEPT ? fs->nerrors : TGFS_ERRORS_KEPT;
	first = fs->nerrors - n;
	for (unsigned i = 0; i < n; i++)
		out[i] = fs->errors[(first + i) % TGFS_ERRORS_KEPT];
	pthread_mutex_unlock(&fs->lock);
	return n;
}

void tgfs_mark_stale(struct tgfs *fs, bool stale)
{
	pthread_mutex_lock(&fs->lock);
	fs->serving_stale = stale;
	pthread_mutex_unlock(&fs->lock);
}

bool tgfs_serving_stale(struct tgfs *fs)
{
	bool stale;

	pthread_mutex_lock(&fs->lock);
	stale = fs->serving_stale;
	pthread_mutex_unlock(&fs->lock);
	return stale;
}

void tgfs_folders_changed(struct tgfs *fs)
{
	if (fs->folders_changed)
		fs->folders_changed(fs->folders_arg);
}
