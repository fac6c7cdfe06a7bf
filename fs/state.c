/*
 * state.c - the mtimes shown for objects, so that a change of content is
 * always a new mtime, and an unchanged one keeps its mtime, across mounts
 * too (DESIGN.md §6): `rsync -a` copies every change and nothing twice.
 *
 * rsync's quick check compares sizes and whole seconds of mtimes, so an
 * object's mtime (in nanoseconds) follows these rules, per object, by the
 * hash of its rendered content:
 *   - content never seen before: its updatedAt as the API gives it, to
 *     the digit; for kinds without one (devices), the time it was seen;
 *   - the content last seen: the mtime it was shown with then;
 *   - new content: its updatedAt if that is past the last mtime shown,
 *     else (a change the API made without moving updatedAt, or one within
 *     the same second) the time it is seen; and at least the next whole
 *     second after the last mtime shown, so that each content of an object
 *     has a second of its own.  Two changes within one second therefore
 *     show one second apart, the later one up to a second ahead of its
 *     updatedAt.
 * An object still lacking nested pages (a partial listing) shows what it
 * would if nothing changed there, and is judged once complete.
 *
 * The state file, $XDG_STATE_HOME/twingatefs/seen-<hash of the endpoint>
 * (default ~/.local/state), holds one line per object: its id, a hash of
 * its rendered content and the mtime shown for it, "<secs>.<9 digits>"
 * (files of older versions have whole seconds, read as such).  Never a
 * value or a secret.  It is rewritten (to a temporary file, then renamed)
 * when something new was seen, at most once a second and at the close;
 * mode 0600.
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
	int64_t first; /* the mtime shown for that content, nanoseconds */
};

#define GIGA INT64_C(1000000000)

struct seen {
	pthread_mutex_t lock;
	char *path; /* NULL: times are not kept (no home, say) */
	struct seen_entry *slot; /* open addressing, a power of two */
	size_t nslots, n;
	char *ids; /* every id once, each after a NUL (offset 0: none) */
	size_t ids_len, ids_cap;
	/* Something new not written yet: written at most once a second
	 * (a walk fills many collections), and at the close. */
	bool dirty;
	int64_t saved_at; /* CLOCK_MONOTONIC, nanoseconds */
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

/* One line of the state file into its parts: false when it is none. */
static bool parse_line(const char *line, char *id, size_t idsz,
		       uint64_t *hash, int64_t *ns)
{
	char idbuf[400];
	int64_t secs, sub = 0;
	int end = 0, digits = 0;
	const char *p;

	if (idsz < sizeof(idbuf) ||
	    sscanf(line, "%399s %" SCNx64 " %" SCNd64 "%n", idbuf, hash,
		   &secs, &end) != 3 ||
	    secs < 0 || secs >= INT64_MAX / GIGA)
		return false;
	p = line + end;
	if (*p == '.') /* this version's; older ones wrote whole seconds */
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (digits++ < 9)
				sub = sub * 10 + (*p - '0');
	while (digits++ < 9)
		sub *= 10;
	if (*p && *p != '\n')
		return false;
	strcpy(id, idbuf);
	*ns = secs * GIGA + sub;
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

		if (parse_line(line, id, sizeof(id), &hash, &first))
			put(s, id, hash, first);
	}
	fclose(f);
	return s;
}

static void save(struct seen *s);

void seen_close(struct seen *s)
{
	if (!s)
		return;
	if (s->dirty && s->path)
		save(s);
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
			fprintf(f, "%s %016" PRIx64 " %" PRId64 ".%09" PRId64
				   "\n",
				s->ids + e->id, e->hash, e->first / GIGA,
				e->first % GIGA);
	}
	s->dirty = false;
	if (fclose(f) != 0 || rename(tmpname, s->path) != 0) {
		tg_log(TG_LOG_WARN, "cannot keep first-seen times in %s",
		       s->path);
		unlink(tmpname);
	}
	free(tmpname);
}

/* The mtime for new content of the object of entry @e, whose API time is
 * @api (0: none), seen at @now: a second past the last one shown. */
static int64_t changed_mtime(const struct seen_entry *e, int64_t api,
			     int64_t now)
{
	int64_t t = api > e->first ? api : now;
	int64_t next = (e->first / GIGA + 1) * GIGA;

	return t < next ? next : t;
}

/* Sets @o's mtime (its API time on entry); true when its entry changed. */
static bool stamp_one(struct seen *s, struct tg_object *o,
		      const struct tg_pending *pending, int64_t now)
{
	const struct seen_entry *e = s->nslots ? slot_of(s, o->id) : NULL;
	int64_t api = o->mtime, t;
	bool whole = !tg_pending_has(pending, o->id);

	if (e && !e->id)
		e = NULL;
	if (!e)
		t = api ? api : now;
	else if (whole ? e->hash == o->hash : api <= e->first)
		t = e->first; /* an incomplete object: judged once whole */
	else
		t = changed_mtime(e, api, now);
	/* A partial list's objects are read without its lock. */
	__atomic_store_n(&o->mtime, t, __ATOMIC_RELAXED);
	return whole && !(e && e->hash == o->hash) &&
	       put(s, o->id, o->hash, t);
}

void seen_stamp(struct seen *s, struct tg_list *list,
		const struct tg_pending *pending)
{
	struct timespec ts, mono;
	int64_t now;

	if (!s)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	now = (int64_t)ts.tv_sec * GIGA + ts.tv_nsec;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < list->n; i++) {
		struct tg_object *o = &list->items[i];

		s->dirty |= stamp_one(s, o, pending, now);
		for (size_t j = 0; j < o->children.n; j++)
			s->dirty |= stamp_one(s, &o->children.items[j], NULL,
					      now);
	}
	if (s->dirty && s->path &&
	    (!s->saved_at || mono.tv_sec * GIGA + mono.tv_nsec - s->saved_at >=
				     GIGA)) {
		save(s);
		s->saved_at = mono.tv_sec * GIGA + mono.tv_nsec;
	}
	pthread_mutex_unlock(&s->lock);
}
