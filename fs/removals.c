/*
 * removals.c - files of the tenant a process removed lately (removals.h):
 * a few slots of {path, pid, when}, with the time each was removed, so
 * that one record answers both the remover's "is it gone" (for a few
 * seconds) and "is it taking its object apart" (for longer).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mount.h"
#include "removals.h"

struct removal {
	char *path; /* NULL: a free slot */
	pid_t pid;
	double at;  /* mono_now() of the removal */
	bool made;  /* made again since: hidden from no one */
};

struct removals {
	pthread_mutex_t lock;
	unsigned used; /* slots in use: read without the lock */
	struct removal r[REMOVALS_MAX];
};

struct removals *removals_new(void)
{
	struct removals *s = calloc(1, sizeof(*s));

	if (s)
		pthread_mutex_init(&s->lock, NULL);
	return s;
}

/* Frees slot @r (the lock held). */
static void slot_free(struct removals *s, struct removal *r)
{
	free(r->path);
	r->path = NULL;
	__atomic_fetch_sub(&s->used, 1, __ATOMIC_RELEASE);
}

void removals_free(struct removals *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < REMOVALS_MAX; i++)
		free(s->r[i].path);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int removals_add(struct removals *s, const char *path, pid_t pid)
{
	double now = mono_now();
	struct removal *slot = NULL;
	char *copy = strdup(path);

	if (!copy)
		return -ENOMEM;
	pthread_mutex_lock(&s->lock);
	/* The same path again, a free or expired slot, else the oldest. */
	for (size_t i = 0; i < REMOVALS_MAX; i++) {
		struct removal *r = &s->r[i];

		if (r->path && (now - r->at > REMOVALS_APART_S ||
				strcmp(r->path, path) == 0))
			slot_free(s, r);
		if (!slot || (slot->path && (!r->path || r->at < slot->at)))
			slot = r;
	}
	if (slot->path)
		slot_free(s, slot);
	*slot = (struct removal){ copy, pid, now, false };
	__atomic_fetch_add(&s->used, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

void removals_clear(struct removals *s, const char *path)
{
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < REMOVALS_MAX; i++)
		if (s->r[i].path && strcmp(s->r[i].path, path) == 0)
			s->r[i].made = true;
	pthread_mutex_unlock(&s->lock);
}

/* The first record @match takes, within the last @secs (the lock taken
 * here); false at once while the store is empty. */
static bool any(struct removals *s, double secs,
		bool (*match)(const struct removal *r, const char *path,
			      pid_t pid),
		const char *path, pid_t pid)
{
	double now;
	bool hit = false;

	if (!__atomic_load_n(&s->used, __ATOMIC_ACQUIRE))
		return false;
	now = mono_now();
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < REMOVALS_MAX && !hit; i++) {
		struct removal *r = &s->r[i];

		if (r->path && now - r->at > REMOVALS_APART_S)
			slot_free(s, r); /* so that lookups take no lock */
		hit = r->path && now - r->at <= secs && match(r, path, pid);
	}
	pthread_mutex_unlock(&s->lock);
	return hit;
}

static bool same(const struct removal *r, const char *path, pid_t pid)
{
	return !r->made && r->pid == pid && strcmp(r->path, path) == 0;
}

/* The length of the object folder at the top of @path ("/groups/G" of
 * "/groups/G/users/x"), 0 when @path is not below one. */
static size_t top_len(const char *path)
{
	const char *p = path + strspn(path, "/");
	const char *a = strchr(p, '/');
	const char *b = a ? strchr(a + 1, '/') : NULL;

	return a ? (b ? (size_t)(b - path) : strlen(path)) : 0;
}

static bool same_top(const struct removal *r, const char *path, pid_t pid)
{
	size_t n = top_len(path);

	return r->pid == pid && n && top_len(r->path) == n && strncmp(r->path, path, n) == 0;
}

bool removals_hidden(struct removals *s, const char *path, pid_t pid)
{
	return any(s, REMOVALS_HIDDEN_S, same, path, pid);
}

bool removals_apart(struct removals *s, const char *path, pid_t pid)
{
	size_t n = top_len(path);

	/* the object folder itself is not below it */
	if (!n || path[n] == '\0')
		return false;
	return any(s, REMOVALS_APART_S, same_top, path, pid);
}

void removals_forget(struct removals *s, const char *dir)
{
	size_t n = strlen(dir);

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < REMOVALS_MAX; i++)
		if (s->r[i].path && strncmp(s->r[i].path, dir, n) == 0 &&
		    s->r[i].path[n] == '/')
			slot_free(s, &s->r[i]);
	pthread_mutex_unlock(&s->lock);
}
