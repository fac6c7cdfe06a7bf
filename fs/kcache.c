/*
 * kcache.c - what the kernel holds of each value file, so that warm reads
 * come from its page cache instead of a READ round trip each.
 *
 * A read through the page cache is cut at the size the kernel last had
 * from a getattr, and the pages it holds stay over an open that keeps
 * them.  So a file's record holds the size last told to the kernel and a
 * hash of the content its pages were last filled from.  An open reads
 * through the page cache only when the kernel's size is the content's,
 * and keeps the pages only when they hold that content; anything unknown
 * reads direct (the kernel then asks us for every byte, whatever size it
 * believes).  The records are a cache themselves: a fixed table where a
 * file takes the slot of another, which then reads direct until its next
 * getattr.  Forgetting is always safe; remembering wrongly is not, so
 * every doubt forgets.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct kslot {
	uint64_t key;   /* the path's hash; 0: free */
	uint64_t pages; /* hash of what the pages hold; 0: not known */
	int64_t size;   /* last size told to the kernel; -1: not known */
};

struct kcache {
	pthread_mutex_t lock;
	uint64_t opens[3]; /* by enum kcache_use */
	size_t mask;
	struct kslot slot[];
};

struct kcache *kcache_new(unsigned slots_log2)
{
	size_t n = (size_t)1 << slots_log2;
	struct kcache *kc = calloc(1, sizeof(*kc) + n * sizeof(kc->slot[0]));

	if (!kc)
		return NULL;
	pthread_mutex_init(&kc->lock, NULL);
	kc->mask = n - 1;
	return kc;
}

void kcache_free(struct kcache *kc)
{
	if (!kc)
		return;
	pthread_mutex_destroy(&kc->lock);
	free(kc);
}

static uint64_t hash(const char *text, size_t len)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)text[i]) * 1099511628211ull;
	return h | 1; /* never 0, which means "none" */
}

/* Records are by path: the kernel keeps a size per path it looked up. */
static struct kslot *slot_of(struct kcache *kc, uint64_t key)
{
	return &kc->slot[(key ^ key >> 29) & kc->mask];
}

bool kcache_sized(struct kcache *kc, const char *path, size_t size)
{
	uint64_t key = hash(path, strlen(path));
	struct kslot *s;
	bool changed;

	if (!kc)
		return false;
	pthread_mutex_lock(&kc->lock);
	s = slot_of(kc, key);
	if (s->key != key) {
		/* The file that had the slot reads direct from now on. */
		*s = (struct kslot){ .key = key, .pages = 0, .size = -1 };
	}
	changed = s->size >= 0 && (uint64_t)s->size != size;
	s->size = (int64_t)size;
	pthread_mutex_unlock(&kc->lock);
	return changed;
}

enum kcache_use kcache_open(struct kcache *kc, const char *path,
			    const char *text, size_t len)
{
	uint64_t key = hash(path, strlen(path));
	enum kcache_use use = KC_DIRECT;
	struct kslot *s;
	uint64_t h;

	if (!kc)
		return KC_DIRECT;
	h = hash(text, len);
	pthread_mutex_lock(&kc->lock);
	s = slot_of(kc, key);
	if (s->key == key && s->size >= 0 && (uint64_t)s->size == len) {
		use = s->pages == h ? KC_KEEP : KC_FILL;
		s->pages = h;
	} else if (s->key == key) {
		/* A direct open leaves the pages as they were, and what
		 * they hold may no longer be what we remembered. */
		s->pages = 0;
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
	s = slot_of(kc, key);
	if (s->key == key) {
		s->pages = 0;
		s->size = -1;
	}
	pthread_mutex_unlock(&kc->lock);
}

void kcache_counts(struct kcache *kc, uint64_t opens[3])
{
	pthread_mutex_lock(&kc->lock);
	memcpy(opens, kc->opens, sizeof(kc->opens));
	pthread_mutex_unlock(&kc->lock);
}
