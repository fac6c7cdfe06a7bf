/*
 * removals.c - files of the tenant a process removed lately (removals.h):
 * a few slots of {key, pid, when}, with the time each was removed, so
 * that one record answers both the remover's "is it gone" (for a few
 * seconds) and "is it taking its object apart" (for longer).  Keys are
 * node_removals_key's (node.h): by the top object's id, so a record
 * still holds when that object is renamed meanwhile.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mount.h"
#include "removals.h"

struct removal {
	char *path; /* its key; NULL: a free slot */
	char *file; /* a copy's (removals_copied): its path; else NULL */
	pid_t pid;
	double at;  /* mono_now() of the removal */
	bool made;  /* made again since: hidden from no one */
	bool fresh; /* an object folder @pid made (removals_fresh_add) */
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
	free(r->file);
	r->path = NULL;
	r->file = NULL;
	__atomic_fetch_sub(&s->used, 1, __ATOMIC_RELEASE);
}

void removals_free(struct removals *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < REMOVALS_MAX; i++) {
		free(s->r[i].path);
		free(s->r[i].file);
	}
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static int add(struct removals *s, const char *path, const char *file,
	       pid_t pid, bool made, bool fresh)
{
	double now = mono_now();
	struct removal *slot = NULL;
	char *copy = strdup(path), *fcopy = file ? strdup(file) : NULL;

	if (!copy || (file && !fcopy)) {
		free(copy);
		free(fcopy);
		return -ENOMEM;
	}
	pthread_mutex_lock(&s->lock);
	/* The same path again (but a folder made in a clone is two: fresh
	 * for what is in it, made for itself), a free or expired slot,
	 * else the oldest. */
	for (size_t i = 0; i < REMOVALS_MAX; i++) {
		struct removal *r = &s->r[i];

		if (r->path && (now - r->at > REMOVALS_APART_S ||
				(strcmp(r->path, path) == 0 &&
				 !(r->fresh && fresh && r->made != made))))
			slot_free(s, r);
		if (!slot || (slot->path && (!r->path || r->at < slot->at)))
			slot = r;
	}
	if (slot->path)
		slot_free(s, slot);
	*slot = (struct removal){ copy, fcopy, pid, now, made, fresh };
	__atomic_fetch_add(&s->used, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int removals_add(struct removals *s, const char *key, pid_t pid)
{
	return add(s, key, NULL, pid, false, false);
}

int removals_fresh_add(struct removals *s, const char *dir, pid_t pid)
{
	return add(s, dir, NULL, pid, false, true);
}

/* Whether @path is strictly below folder @dir. */
static bool below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* The fresh record @path is below (made by @pid, or by anyone with @pid
 * 0), within REMOVALS_HIDDEN_S; NULL when none.  The lock held. */
static const struct removal *fresh_of(struct removals *s, const char *path,
				      pid_t pid, double now)
{
	for (size_t i = 0; i < REMOVALS_MAX; i++) {
		const struct removal *r = &s->r[i];

		if (r->path && r->fresh && !r->made &&
		    now - r->at <= REMOVALS_HIDDEN_S &&
		    (!pid || r->pid == pid) && below(path, r->path))
			return r;
	}
	return NULL;
}

/* Whether @path was made again lately (a made record).  The lock held. */
static bool made_again(struct removals *s, const char *path)
{
	for (size_t i = 0; i < REMOVALS_MAX; i++)
		if (s->r[i].path && s->r[i].made &&
		    strcmp(s->r[i].path, path) == 0)
			return true;
	return false;
}

bool removals_in_fresh(struct removals *s, const char *path, pid_t pid)
{
	bool yes;

	if (!__atomic_load_n(&s->used, __ATOMIC_ACQUIRE))
		return false;
	pthread_mutex_lock(&s->lock);
	yes = fresh_of(s, path, pid, mono_now()) != NULL;
	pthread_mutex_unlock(&s->lock);
	return yes;
}

void removals_clear(struct removals *s, const char *path)
{
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < REMOVALS_MAX; i++)
		if (s->r[i].path && !s->r[i].fresh &&
		    strcmp(s->r[i].path, path) == 0)
			s->r[i].made = true;
	pthread_mutex_unlock(&s->lock);
}

bool removals_copied(struct removals *s, const char *path, const char *file)
{
	bool copy;

	if (!__atomic_load_n(&s->used, __ATOMIC_ACQUIRE))
		return false;
	pthread_mutex_lock(&s->lock);
	copy = fresh_of(s, path, 0, mono_now()) && !made_again(s, path);
	pthread_mutex_unlock(&s->lock);
	/* made (shown again), by a copy (fresh) */
	return copy && add(s, path, file, 0, true, true) == 0;
}

bool removals_is_copy(struct removals *s, const char *file)
{
	double now;
	bool yes = false;

	if (!__atomic_load_n(&s->used, __ATOMIC_ACQUIRE))
		return false;
	now = mono_now();
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < REMOVALS_MAX && !yes; i++)
		yes = s->r[i].path && s->r[i].fresh && s->r[i].made &&
		      now - s->r[i].at <= REMOVALS_HIDDEN_S &&
		      s->r[i].file && strcmp(s->r[i].file, file) == 0;
	pthread_mutex_unlock(&s->lock);
	return yes;
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
	return !r->made && !r->fresh && r->pid == pid &&
	       strcmp(r->path, path) == 0;
}

/* The length of the object folder at the top of key @path: its first
 * name when that has the object's id ("/groups#G1" of
 * "/groups#G1/users/x"), else its first two names ("/groups/G" of a
 * path "/groups/G/users/x"); 0 when @path is not below one. */
static size_t top_len(const char *path)
{
	const char *p = path + strspn(path, "/");
	const char *a = strchr(p, '/');
	const char *b = a ? strchr(a + 1, '/') : NULL;
	const char *hash = strchr(p, '#');

	if (hash && (!a || hash < a))
		return a ? (size_t)(a - path) : strlen(path);
	return a ? (b ? (size_t)(b - path) : strlen(path)) : 0;
}

static bool same_top(const struct removal *r, const char *path, pid_t pid)
{
	size_t n = top_len(path);

	return !r->fresh && r->pid == pid && n && top_len(r->path) == n && strncmp(r->path, path, n) == 0;
}

bool removals_hidden(struct removals *s, const char *path, pid_t pid)
{
	bool fresh;

	if (any(s, REMOVALS_HIDDEN_S, same, path, pid))
		return true;
	if (!__atomic_load_n(&s->used, __ATOMIC_ACQUIRE))
		return false;
	pthread_mutex_lock(&s->lock);
	fresh = pid && fresh_of(s, path, pid, mono_now()) &&
		!made_again(s, path);
	pthread_mutex_unlock(&s->lock);
	return fresh;
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
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < REMOVALS_MAX; i++)
		if (s->r[i].path && below(s->r[i].path, dir))
			slot_free(s, &s->r[i]);
	pthread_mutex_unlock(&s->lock);
}
