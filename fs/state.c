/*
 * state.c - first-seen times for objects the API gives no updatedAt
 * (devices), so their files keep the same mtime across mounts and
 * `rsync -a` copies nothing twice (DESIGN.md §6).
 *
 * The state file, $XDG_STATE_HOME/twingatefs/seen-<hash of the endpoint>
 * (default ~/.local/state), holds one line per object: its id, a hash of
 * its rendered content and the time that content was first seen.  Never a
 * value or a secret.  It is rewritten (to a temporary file, then renamed)
 * when something new was seen; mode 0600.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mount.h"
#include "state.h"

/* 24 bytes an entry: devices are most of a tenant, 20,000 in the large
 * one, and a uthash entry with its own copy of the id took ~130. */
struct seen_entry {
	uint32_t id;    /* offset of the id in seen->ids; 0: a free slot */
	uint64_t hash;
	int64_t first;
};

struct seen {
	pthread_mutex_t lock;
	char *path; /* NULL: times are not kept (no home, say) */
	struct seen_entry *slot; /* open addressing, a power of two */
	size_t nslots, n;
	char *ids; /* every id once, each after a NUL (offset 0: none) */
	size_t ids_len, ids_cap;
};

static uint64_t fnv64(const char *s)
{
	return fnv_add(FNV_INIT, s, strlen(s));
}

/* The slot of @id, or the free slot where it would go. */
static struct seen_entry *slot_of(const struct seen *s, const char *id)
{
	size_t i = fnv64(id) & (s->nslots - 1);

	while (s->slot[i].id && strcmp(s->ids + s->slot[i].id, id) != 0)
		i = (i + 1) & (s->nslots - 1);
	return &s->slot[i];
}

/* Room for one more entry (at most three quarters full). */
static bool grow(struct seen *s)
{
	struct seen_entry *old = s->slot;
	size_t nold = s->nslots, n = nold ? nold * 2 : 1024;

	if (s->n + 1 <= nold / 4 * 3)
		return true;
	s->slot = calloc(n, sizeof(*s->slot));
	if (!s->slot) {
		s->slot = old;
		return false;
	}
	s->nslots = n;
	for (size_t i = 0; i < nold; i++)
		if (old[i].id)
			*slot_of(s, s->ids + old[i].id) = old[i];
	free(old);
	return true;
}

/* @id kept in s->ids: its offset, 0 when out of memory. */
static uint32_t keep_id(struct seen *s, const char *id)
{
	size_t len = strlen(id) + 1, at = s->ids_len ? s->ids_len : 1;

	if (at + len > UINT32_MAX)
		return 0;
	if (at + len > s->ids_cap) {
		size_t cap = s->ids_cap ? s->ids_cap : 16384;
		char *ids;

		while (cap < at + len)
			cap *= 2;
		ids = realloc(s->ids, cap);
		if (!ids)
			return 0;
		ids[0] = '\0';
		s->ids = ids;
		s->ids_cap = cap;
	}
	memcpy(s->ids + at, id, len);
	s->ids_len = at + len;
	return (uint32_t)at;
}

/* Makes each missing folder of @path (up to its last '/'), mode 0700. */
static void make_parents(const char *path)
{
	char tmp[4096];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0700);
			*p = '/';
		}
}

static bool put(struct seen *s, const char *id, uint64_t hash, int64_t first)
{
	struct seen_entry *e;

	if (!grow(s))
		return false;
	e = slot_of(s, id);
	if (!e->id) {
		uint32_t at = keep_id(s, id);

		if (!at)
			return false;
		e->id = at;
		s->n++;
	}
	e->hash = hash;
	e->first = first;
	return true;
}

struct seen *seen_open(const char *url)
{
	struct seen *s = calloc(1, sizeof(*s));
	const char *base = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char line[512];
	FILE *f;

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	if (base && *base)
		(void)!asprintf(&s->path, "%s/twingatefs/seen-%016" PRIx64,
				base, fnv64(url));
	else if (home && *home)
		(void)!asprintf(&s->path,
				"%s/.local/state/twingatefs/seen-%016" PRIx64,
				home, fnv64(url));
	if (!s->path)
		return s;
	f = fopen(s->path, "re");
	if (!f)
		return s;
	while (fgets(line, sizeof(line), f)) {
		char id[400];
		uint64_t hash;
		int64_t first;

		if (sscanf(line, "%399s %" SCNx64 " %" SCNd64, id, &hash,
			   &first) == 3)
			put(s, id, hash, first);
	}
	fclose(f);
	return s;
}

void seen_close(struct seen *s)
{
	if (!s)
		return;
	free(s->slot);
	free(s->ids);
	pthread_mutex_destroy(&s->lock);
	free(s->path);
	free(s);
}

/* Writes the table out: temporary file, then rename.  Lock held. */
static void save(struct seen *s)
{
	char *tmpname = NULL;
	FILE *f;
	int fd;

	if (asprintf(&tmpname, "%s.XXXXXX", s->path) < 0)
		return;
	make_parents(s->path);
	fd = mkstemp(tmpname);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		tg_log(TG_LOG_WARN, "cannot keep first-seen times in %s: %s",
		       s->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(tmpname);
		return;
	}
	for (size_t i = 0; i < s->nslots; i++) {
		const struct seen_entry *e = &s->slot[i];

		if (e->id)
			fprintf(f, "%s %016" PRIx64 " %" PRId64 "\n",
				s->ids + e->id, e->hash, e->first);
	}
	if (fclose(f) != 0 || rename(tmpname, s->path) != 0) {
		tg_log(TG_LOG_WARN, "cannot keep first-seen times in %s",
		       s->path);
		unlink(tmpname);
	}
	free(tmpname);
}

void seen_stamp(struct seen *s, struct tg_list *list)
{
	int64_t now = (int64_t)time(NULL);
	bool changed = false;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < list->n; i++) {
		struct tg_object *o = &list->items[i];
		const struct seen_entry *e = s->nslots ? slot_of(s, o->id)
						       : NULL;

		if (e && e->id && e->hash == o->hash) {
			o->mtime = e->first;
			continue;
		}
		o->mtime = now;
		changed |= put(s, o->id, o->hash, now);
	}
	if (changed && s->path)
		save(s);
	pthread_mutex_unlock(&s->lock);
}
