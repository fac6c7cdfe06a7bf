/*
 * kcache.c - what the kernel holds of each value file and folder, so that
 * warm reads and listings come from its caches instead of round trips.
 *
 * A read through the page cache is cut at the size the kernel last had
 * from a getattr, and the pages it holds stay over an open that keeps
 * them.  So a file's record holds the size last told to the kernel and a
 * hash of the content its pages were last filled from.  An open reads
 * through the page cache only when the kernel's size is the content's,
 * and keeps the pages only when they hold that content; anything unknown
 * reads direct (the kernel then asks us for every byte, whatever size it
 * believes).  A file gets its record at its first open, which reads
 * direct: a walk that reads each file once costs what it did before.
 *
 * A folder's record holds a hash of the entries the kernel was given; an
 * open that lists the same keeps them.  Its first open lists once, at the
 * readdir, with nothing to compare.
 *
 * The records are a cache themselves, in sets of four slots where the one
 * used longest ago gives way: a file or folder without its record is read
 * or listed anew.  Forgetting is always safe; remembering wrongly is not,
 * so every doubt forgets.  Paths and contents are told apart by 64-bit
 * FNV-1a hashes.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kcache.h"
#include "mount.h"

/* 16 bytes: the large tenant's walks touch every page of the tables. */
struct kslot {
	uint32_t tag;   /* high half of the path's hash, never 0; 0: free */
	int32_t size;   /* last size told to the kernel; -1: not known */
	uint64_t pages; /* hash of what the pages hold; 0: not known */
};

/* Slots come in sets of four: a path may take any of its set's, and the
 * one used longest ago goes (a set is kept in order of use, the last used
 * first).  With one slot a path, ~1% of the small tenant's files shared
 * theirs with another and were read again each time. */
#define WAYS 4

struct ktable {
	size_t mask;
	struct kslot *slot;
};

/* Names the kernel was told are not there (negative entries), kept until
 * a refresh makes it forget them: a table by hash, where a name takes
 * the place of one that had its slot (which then lasts the kernel's
 * negative_timeout, as before refreshes dropped them). */
#define NEG_SLOTS 1024

struct kcache {
	pthread_mutex_t lock;
	char *neg[NEG_SLOTS]; /* paths, or NULL */
	uint64_t opens[3]; /* by enum kcache_use */
	uint64_t dir_opens[2]; /* listings refilled, kept */
	uint32_t next_gen;     /* the last folder generation given */
	/* Apart, so that the files a walk reads once do not push out the
	 * folders it lists again. */
	struct ktable files, dirs;
};

static bool table_init(struct ktable *t, unsigned slots_log2)
{
	size_t n = (size_t)1 << (slots_log2 < 2 ? 2 : slots_log2);

	/* calloc: pages no record ever used cost nothing */
	t->slot = calloc(n, sizeof(t->slot[0]));
	t->mask = n - 1;
	return t->slot != NULL;
}

struct kcache *kcache_new(unsigned files_log2, unsigned dirs_log2)
{
	struct kcache *kc = calloc(1, sizeof(*kc));

	if (!kc)
		return NULL;
	if (!table_init(&kc->files, files_log2) ||
	    !table_init(&kc->dirs, dirs_log2)) {
		free(kc->files.slot);
		free(kc);
		return NULL;
	}
	pthread_mutex_init(&kc->lock, NULL);
	return kc;
}

void kcache_free(struct kcache *kc)
{
	if (!kc)
		return;
	pthread_mutex_destroy(&kc->lock);
	for (size_t i = 0; i < NEG_SLOTS; i++)
		free(kc->neg[i]);
	free(kc->files.slot);
	free(kc->dirs.slot);
	free(kc);
}

static uint64_t hash(const char *text, size_t len)
{
	return fnv_add(FNV_INIT, text, len) | 1; /* never 0: "none" */
}

void kcache_negative(struct kcache *kc, const char *path)
{
	size_t i = hash(path, strlen(path)) % NEG_SLOTS;
	char *old = NULL, *copy;

	if (!kc)
		return;
	pthread_mutex_lock(&kc->lock);
	if (kc->neg[i] && !strcmp(kc->neg[i], path)) {
		pthread_mutex_unlock(&kc->lock);
		return;
	}
	pthread_mutex_unlock(&kc->lock);
	copy = strdup(path); /* out of memory: forgotten, as a clash is */
	pthread_mutex_lock(&kc->lock);
	old = kc->neg[i];
	kc->neg[i] = copy;
	pthread_mutex_unlock(&kc->lock);
	free(old);
}

size_t kcache_take_negatives(struct kcache *kc,
			     void (*fn)(void *arg, const char *path),
			     void *arg)
{
	char **taken;
	size_t n = 0;

	if (!kc || !(taken = calloc(NEG_SLOTS, sizeof(*taken))))
		return 0;
	pthread_mutex_lock(&kc->lock);
	for (size_t i = 0; i < NEG_SLOTS; i++)
		if (kc->neg[i]) {
			taken[n++] = kc->neg[i];
			kc->neg[i] = NULL;
		}
	pthread_mutex_unlock(&kc->lock);
	for (size_t i = 0; i < n; i++) {
		fn(arg, taken[i]);
		free(taken[i]);
	}
	free(taken);
	return n;
}

/*
 * The record of @key (a path's hash), or NULL; with @take, a new one in
 * place of the least recently used of its set.  Records are by path: the
 * kernel keeps a size per path it looked up.  The set's index and the
 * tag tell paths apart by 46 bits of their hash or more.
 */
static struct kslot *find(struct ktable *t, uint64_t key, bool take)
{
	struct kslot *set =
		&t->slot[(key ^ key >> 29) & t->mask & ~(size_t)(WAYS - 1)];
	uint32_t tag = (uint32_t)(key >> 32) | 1;
	struct kslot found;
	size_t i = 0;

	while (i < WAYS && set[i].tag != tag)
		i++;
	if (i < WAYS) {
		found = set[i];
	} else if (take) {
		/* The file that had the last slot reads direct from now
		 * on. */
		i = WAYS - 1;
		found = (struct kslot){ .tag = tag, .size = -1 };
	} else {
		return NULL;
	}
	memmove(&set[1], &set[0], i * sizeof(*set));
	set[0] = found;
	return &set[0];
}

bool kcache_sized(struct kcache *kc, const char *path, size_t size)
{
	uint64_t key = hash(path, strlen(path));
	struct kslot *s;
	bool changed = false;

	if (!kc)
		return false;
	pthread_mutex_lock(&kc->lock);
	/* Only files opened before have a record: a walk that stats every
	 * file (rsync) does not push out those read again and again. */
	s = find(&kc->files, key, false);
	if (s) {
		changed = s->size >= 0 && (size_t)s->size != size;
		/* A size past what a record holds is not known. */
		s->size = size <= INT32_MAX ? (int32_t)size : -1;
	}
	pthread_mutex_unlock(&kc->lock);
	return changed;
}

enum kcache_use kcache_open(struct kcache *kc, const char *path,
			    uint64_t content, size_t len)
{
	uint64_t key = hash(path, strlen(path));
	uint64_t h = content | 1; /* never 0: "not known" */
	enum kcache_use use = KC_DIRECT;
	struct kslot *s;

	if (!kc)
		return KC_DIRECT;
	pthread_mutex_lock(&kc->lock);
	s = find(&kc->files, key, false);
	if (s && s->size >= 0 && (size_t)s->size == len) {
		use = s->pages == h ? KC_KEEP : KC_FILL;
		s->pages = h;
	} else if (s) {
		/* A direct open leaves the pages as they were, and what
		 * they hold may no longer be what we remembered. */
		s->pages = 0;
	} else {
		/* A first open reads direct and leaves no pages behind; the
		 * record learns the size from the next getattr.  Measured
		 * with records made at lookup instead (2026-11-29): rsync of
		 * the large tenant made the same 450,618 READs (it reads the
		 * size it stat'ed), took 124.8 s against 113.6 and left ~2 GB
		 * of pages; only readers to end of file (cat, grep) saved
		 * one READ a file. */
		find(&kc->files, key, true);
	}
	kc->opens[use]++;
	pthread_mutex_unlock(&kc->lock);
	return use;
}

void kcache_forget(struct kcache *kc, const char *path)
{
	uint64_t key = hash(path, strlen(path));
	struct kslot *s;

	if (!kc)
		return;
	pthread_mutex_lock(&kc->lock);
	s = find(&kc->files, key, false);
	if (s) {
		s->pages = 0;
		s->size = -1;
	}
	pthread_mutex_unlock(&kc->lock);
}

bool kcache_dir_known(struct kcache *kc, const char *path)
{
	uint64_t key = hash(path, strlen(path));
	bool known;

	if (!kc)
		return false;
	pthread_mutex_lock(&kc->lock);
	known = find(&kc->dirs, key, false) != NULL;
	if (!known) {
		/* Its first open: the kernel lists it (and the listing is
		 * recorded), with nothing to compare. */
		find(&kc->dirs, key, true);
		kc->dir_opens[0]++;
	}
	pthread_mutex_unlock(&kc->lock);
	return known;
}

bool kcache_dir_open(struct kcache *kc, const char *path, uint64_t listing)
{
	uint64_t key = hash(path, strlen(path));
	struct kslot *s;
	bool keep;

	if (!kc)
		return false;
	listing |= 1;
	pthread_mutex_lock(&kc->lock);
	s = find(&kc->dirs, key, true);
	keep = s->pages == listing;
	/* Either way the kernel's entries are this listing once it has
	 * read them (a change before then: kcache_dir_listed). */
	s->pages = listing;
	kc->dir_opens[keep]++;
	pthread_mutex_unlock(&kc->lock);
	return keep;
}

void kcache_dir_listed(struct kcache *kc, const char *path, uint64_t listing)
{
	uint64_t key = hash(path, strlen(path));
	struct kslot *s;

	if (!kc)
		return;
	listing |= 1;
	pthread_mutex_lock(&kc->lock);
	s = find(&kc->dirs, key, false);
	if (s && !s->pages)
		s->pages = listing; /* the first listing of a known folder */
	else if (s && s->pages != listing)
		s->pages = 0;
	pthread_mutex_unlock(&kc->lock);
}

/* Folders' generations: a slot's size is the generation (-1: none yet)
 * and its pages the time, in ms, at which the entries the kernel holds go
 * stale (0: it holds none from us). */
static void new_gen(struct kcache *kc, struct kslot *s)
{
	kc->next_gen = kc->next_gen % 999999999u + 1;
	s->size = (int32_t)kc->next_gen;
	s->pages = 0;
}

uint32_t kcache_dir_gen(struct kcache *kc, const char *path, double now,
			double *left)
{
	uint64_t key = hash(path, strlen(path));
	uint64_t ms = (uint64_t)(now * 1000);
	struct kslot *s;
	uint32_t gen;

	*left = -1;
	if (!kc)
		return 0;
	pthread_mutex_lock(&kc->lock);
	s = find(&kc->dirs, key, true);
	if (s->size < 0 || (s->pages && ms >= s->pages))
		new_gen(kc, s);
	else if (s->pages)
		*left = (double)(s->pages - ms) / 1000;
	gen = (uint32_t)s->size;
	pthread_mutex_unlock(&kc->lock);
	return gen;
}

void kcache_dir_filled(struct kcache *kc, const char *path,
		       double stale_at)
{
	uint64_t key = hash(path, strlen(path));
	struct kslot *s;

	if (!kc)
		return;
	pthread_mutex_lock(&kc->lock);
	s = find(&kc->dirs, key, true);
	/* A new record: whatever generation the kernel holds, this one
	 * differs, and its next getattr makes it list again. */
	if (s->size < 0)
		new_gen(kc, s);
	s->pages = stale_at > 0 ? (uint64_t)(stale_at * 1000) : 1;
	pthread_mutex_unlock(&kc->lock);
}

void kcache_counts(struct kcache *kc, uint64_t opens[3],
		   uint64_t dir_opens[2])
{
	if (!kc) {
		memset(opens, 0, 3 * sizeof(*opens));
		memset(dir_opens, 0, 2 * sizeof(*dir_opens));
		return;
	}
	pthread_mutex_lock(&kc->lock);
	memcpy(opens, kc->opens, sizeof(kc->opens));
	memcpy(dir_opens, kc->dir_opens, sizeof(kc->dir_opens));
	pthread_mutex_unlock(&kc->lock);
}
