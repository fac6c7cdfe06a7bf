/*
 * holds.c - removals of relation links held for a moment (holds.h): the
 * held removals and the objects each process listed lately, under one
 * lock, keyed by object (kind and id); sends one object's held removals
 * at a time (send_lock) through the sender it was given, from the
 * request that ends them or from the store's thread (P's end, the
 * bound), which looks every HOLDS_TICK_S while anything is held.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "holds.h"

#define HOLDS_TICK_S 0.1
#define LISTED_MAX 64
#define OWED_MAX 16

struct hold {
	const struct tg_kind *kind; /* the object's: its folder */
	char *oid;                  /* the object's id */
	size_t rel;
	char *name; /* the link's name, "U" */
	char *tid;  /* the target's id */
	pid_t pid;  /* its remover */
	double at;
	bool sending;
};

struct listed {
	const struct tg_kind *kind;
	char *oid; /* NULL: a free slot */
	pid_t pid;
	double at;
};

struct holds {
	const struct holds_ops *ops;
	void *ctx;
	const struct tg_api_config *api;
	pthread_mutex_t lock;
	pthread_mutex_t send_lock; /* one send at a time */
	pthread_cond_t wake;
	pthread_t thread;
	bool started, stop;
	unsigned used; /* holds (n) + owed: read without the lock */
	struct hold *v;
	size_t n, cap;
	struct listed l[LISTED_MAX];
	pid_t owed[OWED_MAX]; /* told EIO at their next request; 0: free */
};

static void *holds_main(void *arg);

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Whether @pid has ended (as edges.c asks of a held edge's maker). */
static bool ended(pid_t pid)
{
	return pid <= 0 || (kill(pid, 0) == -1 && errno == ESRCH);
}

/* Whether hold @x is of object @id of @kind. */
static bool of(const struct hold *x, const struct tg_kind *kind,
	       const char *id)
{
	return x->kind == kind && id && !strcmp(x->oid, id);
}

/* Whether a request at @w is in @x's object folder (or below it). */
static bool within(const struct holds_place *w, const struct hold *x)
{
	return w->at == HOLDS_AT_OBJECT && of(x, w->kind, w->id);
}

/* Whether it is there, or on the way to it (the root, its kind's
 * folder). */
static bool on_way(const struct holds_place *w, const struct hold *x)
{
	return within(w, x) || w->at == HOLDS_AT_ROOT ||
	       (w->at == HOLDS_AT_KIND && w->kind == x->kind);
}

static void hold_free(struct hold *x)
{
	free(x->oid);
	free(x->name);
	free(x->tid);
}

/* Counts what the store holds or owes (the lock held). */
static void recount(struct holds *h)
{
	unsigned owed = 0;

	for (size_t i = 0; i < OWED_MAX; i++)
		owed += h->owed[i] != 0;
	__atomic_store_n(&h->used, (unsigned)h->n + owed, __ATOMIC_RELEASE);
}

static void changed(struct holds *h)
{
	if (h->ops->changed)
		h->ops->changed(h->ctx);
}

bool holds_any(struct holds *h)
{
	return h && __atomic_load_n(&h->used, __ATOMIC_ACQUIRE) != 0;
}

void holds_listed(struct holds *h, const struct tg_kind *kind,
		  const char *id, pid_t pid)
{
	struct listed *slot = NULL;
	double now;

	if (!h || !kind || !id || !pid)
		return;
	now = now_s();
	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < LISTED_MAX; i++) {
		struct listed *l = &h->l[i];

		if (l->oid && l->pid == pid && l->kind == kind &&
		    !strcmp(l->oid, id)) {
			slot = l;
			break;
		}
		if (!slot || (slot->oid && (!l->oid || l->at < slot->at)))
			slot = l;
	}
	if (slot->oid && slot->pid == pid && slot->kind == kind &&
	    !strcmp(slot->oid, id)) {
		slot->at = now;
	} else {
		char *oid = strdup(id);

		if (oid) {
			free(slot->oid);
			*slot = (struct listed){ kind, oid, pid, now };
		}
	}
	pthread_mutex_unlock(&h->lock);
}

bool holds_listed_by(struct holds *h, const struct tg_kind *kind,
		     const char *id, pid_t pid)
{
	double now = now_s();
	bool yes = false;

	if (!h || !id)
		return false;
	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < LISTED_MAX && !yes; i++)
		yes = h->l[i].oid && h->l[i].pid == pid &&
		      h->l[i].kind == kind &&
		      now - h->l[i].at <= HOLDS_LISTED_S &&
		      !strcmp(h->l[i].oid, id);
	pthread_mutex_unlock(&h->lock);
	return yes && !ended(pid);
}

int holds_take(struct holds *h, const struct tg_kind *kind, const char *id,
	       size_t rel, const char *name, const char *tid, pid_t pid)
{
	struct hold x;

	if (!h || !kind || !id || !name || !tid || !*tid ||
	    !holds_listed_by(h, kind, id, pid))
		return -ENOTSUP;
	x = (struct hold){ kind, strdup(id), rel, strdup(name), strdup(tid),
			   pid, now_s(), false };
	pthread_mutex_lock(&h->lock);
	if (x.oid && x.name && x.tid && h->n < HOLDS_MAX && h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 16;
		struct hold *v = realloc(h->v, cap * sizeof(*v));

		if (v) {
			h->v = v;
			h->cap = cap;
		}
	}
	if (!x.oid || !x.name || !x.tid || h->n >= HOLDS_MAX ||
	    h->n == h->cap) {
		/* Not held: sent at once, as before. */
		pthread_mutex_unlock(&h->lock);
		hold_free(&x);
		return -ENOTSUP;
	}
	h->v[h->n++] = x;
	recount(h);
	/* The thread starts with the first hold (none for most mounts). */
	if (!h->started)
		h->started = pthread_create(&h->thread, NULL, holds_main,
					    h) == 0;
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->lock);
	changed(h); /* gone from listings now */
	return 0;
}

bool holds_hidden(struct holds *h, const struct tg_kind *kind,
		  const char *id, size_t rel, const char *name)
{
	bool yes = false;

	if (!holds_any(h))
		return false;
	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < h->n && !yes; i++)
		yes = h->v[i].rel == rel && !strcmp(h->v[i].name, name) &&
		      of(&h->v[i], kind, id);
	pthread_mutex_unlock(&h->lock);
	return yes;
}

/* Takes out the holds of object @id of @kind marked sending (the lock
 * held). */
static void take_out(struct holds *h, const struct tg_kind *kind,
		     const char *id)
{
	size_t j = 0;

	for (size_t i = 0; i < h->n; i++) {
		if (h->v[i].sending && of(&h->v[i], kind, id))
			hold_free(&h->v[i]);
		else
			h->v[j++] = h->v[i];
	}
	h->n = j;
	recount(h);
}

/* @pid is told EIO at its next request (the lock held). */
static void owe(struct holds *h, pid_t pid)
{
	if (ended(pid))
		return;
	for (size_t i = 0; i < OWED_MAX; i++)
		if (!h->owed[i] || h->owed[i] == pid) {
			h->owed[i] = pid;
			break;
		}
	recount(h);
}

/*
 * Sends the holds of object @id of @kind through the sender, then they
 * go (sent: the cache has the change; failed: the links show again).
 * -EIO when one that failed was @requester's (0: none); the remover of
 * any other that failed is owed an EIO, before any request of its can
 * pass (send_lock).
 */
static int send_object(struct holds *h, const struct tg_kind *kind,
		       const char *id, pid_t requester)
{
	struct holds_link *links = NULL;
	pid_t *who = NULL;
	size_t m = 0;
	int rc = 0;

	pthread_mutex_lock(&h->send_lock);
	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < h->n; i++)
		m += !h->v[i].sending && of(&h->v[i], kind, id);
	links = m ? calloc(m, sizeof(*links)) : NULL;
	who = m ? calloc(m, sizeof(*who)) : NULL;
	m = 0;
	for (size_t i = 0; links && who && i < h->n; i++) {
		struct hold *x = &h->v[i];

		if (x->sending || !of(x, kind, id))
			continue;
		x->sending = true;
		/* borrowed: the store frees them, after the send */
		links[m] = (struct holds_link){ x->rel, x->name, x->tid, 0 };
		who[m++] = x->pid;
	}
	pthread_mutex_unlock(&h->lock);
	if (!m)
		goto out;
	h->ops->send(h->ctx, kind, id, links, m);
	pthread_mutex_lock(&h->lock);
	take_out(h, kind, id);
	for (size_t i = 0; i < m; i++) {
		if (!links[i].rc)
			continue;
		if (requester && who[i] == requester)
			rc = -EIO;
		else
			owe(h, who[i]);
	}
	pthread_mutex_unlock(&h->lock);
	changed(h);
out:
	free(links);
	free(who);
	pthread_mutex_unlock(&h->send_lock);
	return rc;
}

/*
 * Sends the holds that are due: every one when @all; those whose remover
 * ended or that are HOLDS_BOUND_S old; and for a request of @pid at @w
 * (not NULL), @pid's own not on its way, and anyone's it is in.  0, or
 * -EIO when a send of @pid's own failed.
 */
static int sweep(struct holds *h, const struct holds_place *w, pid_t pid,
		 bool all)
{
	struct hold *objs = NULL; /* kind and a copy of the id */
	size_t no = 0;
	double now = now_s();
	int rc = 0;

	pthread_mutex_lock(&h->lock);
	objs = h->n ? calloc(h->n, sizeof(*objs)) : NULL;
	for (size_t i = 0; objs && i < h->n; i++) {
		const struct hold *x = &h->v[i];
		bool due = all || now - x->at >= HOLDS_BOUND_S ||
			   ended(x->pid) ||
			   (w && (x->pid == pid ? !on_way(w, x)
						: within(w, x)));
		bool seen = false;

		for (size_t j = 0; j < no && !seen; j++)
			seen = of(x, objs[j].kind, objs[j].oid);
		if (due && !x->sending && !seen &&
		    (objs[no].oid = strdup(x->oid)))
			objs[no++].kind = x->kind;
	}
	pthread_mutex_unlock(&h->lock);
	for (size_t i = 0; i < no; i++) {
		if (send_object(h, objs[i].kind, objs[i].oid, w ? pid : 0))
			rc = -EIO;
		free(objs[i].oid);
	}
	free(objs);
	return rc;
}

/* Whether @pid is owed an EIO (then no longer), and, in @sending,
 * whether a send of its holds is under way.  Forgets the ended. */
static bool take_owed(struct holds *h, pid_t pid, bool *sending)
{
	bool owed = false;

	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < OWED_MAX; i++) {
		if (h->owed[i] && h->owed[i] == pid) {
			h->owed[i] = 0;
			owed = true;
		} else if (h->owed[i] && ended(h->owed[i])) {
			h->owed[i] = 0;
		}
	}
	for (size_t i = 0; sending && i < h->n && !*sending; i++)
		*sending = h->v[i].pid == pid && h->v[i].sending;
	recount(h);
	pthread_mutex_unlock(&h->lock);
	return owed;
}

int holds_request(struct holds *h, const struct holds_place *where,
		  pid_t pid)
{
	bool sending = false;
	int rc;

	if (!holds_any(h) || !where)
		return 0;
	if (take_owed(h, pid, &sending))
		return -EIO;
	rc = sweep(h, where, pid, false);
	if (rc || !sending)
		return rc;
	/* Its removals are being sent (the store's thread): it hears how
	 * that went before it goes on. */
	pthread_mutex_lock(&h->send_lock);
	pthread_mutex_unlock(&h->send_lock);
	return take_owed(h, pid, NULL) ? -EIO : 0;
}

void holds_drop(struct holds *h, const struct tg_kind *kind, const char *id)
{
	if (!holds_any(h) || !id)
		return;
	/* A send under way ends first: what it sent stands. */
	pthread_mutex_lock(&h->send_lock);
	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < h->n; i++)
		if (of(&h->v[i], kind, id))
			h->v[i].sending = true;
	take_out(h, kind, id);
	pthread_mutex_unlock(&h->lock);
	pthread_mutex_unlock(&h->send_lock);
}

bool holds_cancel(struct holds *h, const struct tg_kind *kind,
		  const char *id, size_t rel, const char *name)
{
	bool was = false;
	size_t j = 0;

	if (!holds_any(h) || !id)
		return false;
	pthread_mutex_lock(&h->send_lock);
	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < h->n; i++) {
		struct hold *x = &h->v[i];

		if (x->rel == rel && !strcmp(x->name, name) &&
		    of(x, kind, id)) {
			hold_free(x);
			was = true;
		} else {
			h->v[j++] = *x;
		}
	}
	h->n = j;
	recount(h);
	pthread_mutex_unlock(&h->lock);
	pthread_mutex_unlock(&h->send_lock);
	if (was)
		changed(h);
	return was;
}

/* A sweep of the store's own (not a request's): a user call of its own
 * when it has an API, so that its sends end within `timeout`. */
static void own_sweep(struct holds *h, bool all)
{
	struct tg_call call;

	if (h->api)
		tg_call_start(&call, h->api);
	sweep(h, NULL, 0, all);
	if (h->api)
		tg_call_finish();
}

/* The store's thread: sends what its removers' ends or the bound make
 * due, looking every HOLDS_TICK_S while anything is held. */
static void *holds_main(void *arg)
{
	struct holds *h = arg;

	pthread_mutex_lock(&h->lock);
	while (!h->stop) {
		struct timespec ts;

		if (!h->n) {
			pthread_cond_wait(&h->wake, &h->lock);
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)(HOLDS_TICK_S * 1e9);
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&h->wake, &h->lock, &ts);
		if (h->stop)
			break;
		pthread_mutex_unlock(&h->lock);
		own_sweep(h, false);
		pthread_mutex_lock(&h->lock);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

struct holds *holds_new(const struct holds_ops *ops, void *ctx,
			const struct tg_api_config *api)
{
	struct holds *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->ops = ops;
	h->ctx = ctx;
	h->api = api;
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->send_lock, NULL);
	pthread_cond_init(&h->wake, NULL);
	return h;
}

void holds_free(struct holds *h)
{
	if (!h)
		return;
	if (h->started) {
		pthread_mutex_lock(&h->lock);
		h->stop = true;
		pthread_cond_signal(&h->wake);
		pthread_mutex_unlock(&h->lock);
		pthread_join(h->thread, NULL);
	}
	/* At unmount, what is still held goes: its remover answered 0. */
	if (h->n)
		own_sweep(h, true);
	for (size_t i = 0; i < h->n; i++)
		hold_free(&h->v[i]);
	free(h->v);
	for (size_t i = 0; i < LISTED_MAX; i++)
		free(h->l[i].oid);
	pthread_mutex_destroy(&h->lock);
	pthread_mutex_destroy(&h->send_lock);
	pthread_cond_destroy(&h->wake);
	free(h);
}
