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

#include "internal.h"

static __thread bool hash_oom;
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) (hash_oom = true)
#include <uthash.h>

struct seen_entry {
	char *id;
	uint64_t hash;
	int64_t first;
	UT_hash_handle hh;
};

struct seen {
	pthread_mutex_t lock;
	char *path; /* NULL: times are not kept (no home, say) */
	struct seen_entry *table;
};

static uint64_t fnv64(const char *s)
{
	return fnv_add(FNV_INIT, s, strlen(s));
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

	HASH_FIND_STR(s->table, id, e);
	if (e) {
		e->hash = hash;
		e->first = first;
		return true;
	}
	e = calloc(1, sizeof(*e));
	if (!e || !(e->id = strdup(id))) {
		free(e);
		return false;
	}
	e->hash = hash;
	e->first = first;
	hash_oom = false;
	HASH_ADD_KEYPTR(hh, s->table, e->id, strlen(e->id), e);
	if (hash_oom) {
		free(e->id);
		free(e);
		return false;
	}
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
	struct seen_entry *e, *tmp;

	if (!s)
		return;
	HASH_ITER(hh, s->table, e, tmp) {
		HASH_DEL(s->table, e);
		free(e->id);
		free(e);
	}
	pthread_mutex_destroy(&s->lock);
	free(s->path);
	free(s);
}

/* Writes the table out: temporary file, then rename.  Lock held. */
static void save(struct seen *s)
{
	struct seen_entry *e, *tmp;
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
	HASH_ITER(hh, s->table, e, tmp)
		fprintf(f, "%s %016" PRIx64 " %" PRId64 "\n", e->id, e->hash,
			e->first);
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
		struct seen_entry *e;

		HASH_FIND_STR(s->table, o->id, e);
		if (e && e->hash == o->hash) {
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
