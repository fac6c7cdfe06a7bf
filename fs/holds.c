/*
 * holds.c - removals of relation links held for a moment (holds.h): the
 * held removals and the folders each process listed lately, under one
 * lock; sends one object's held removals at a time (send_lock), from the
 * request that ends them or from the store's thread (P's end, the
 * bound), which looks every HOLDS_TICK_S while anything is held.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coll.h"
#include "holds.h"
#include "inval.h"
#include "node.h"
#include "write.h"

#define HOLDS_TICK_S 0.1
#define LISTED_MAX 64
#define OWED_MAX 16

struct hold {
	char *dir;  /* the object folder, "/groups/G" */
	char *path; /* the link, "/groups/G/users/U" */
	char *name; /* its name, "U" */
	char *oid;  /* the object's id */
	char *tid;  /* the target's id */
	const struct tg_kind *kind;
	size_t rel;
	pid_t pid; /* its remover */
	double at;
	bool sending;
};

struct listed {
	char *dir; /* an object folder, NULL: a free slot */
	pid_t pid;
	double at;
};

struct holds {
	struct tgfs *fs;
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

/* Whether @pid has ended (as edges.c asks of a held edge's maker). */
static bool ended(pid_t pid)
{
	return pid <= 0 || (kill(pid, 0) == -1 && errno == ESRCH);
}

/* The length of the object folder at the top of @path ("/groups/G" of
 * "/groups/G/users/x"), 0 when @path is not at or below one. */
static size_t top_len(const char *path)
{
	const char *a = path[0] == '/' ? strchr(path + 1, '/') : NULL;
	const char *b = a ? strchr(a + 1, '/') : NULL;

	return a && a[1] ? (b ? (size_t)(b - path) : strlen(path)) : 0;
}

/* Whether @path is @dir or below it. */
static bool within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (!path[n] || path[n] == '/');
}

/* Whether @path is @dir, below it or on the way to it (an ancestor). */
static bool on_way(const char *path, const char *dir)
{
	size_t n = strlen(path);

	return within(path, dir) || !strcmp(path, "/") ||
	       (strncmp(dir, path, n) == 0 && dir[n] == '/');
}

static void hold_free(struct hold *x)
{
	free(x->dir);
	free(x->path);
	free(x->name);
	free(x->oid);
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

bool holds_any(struct holds *h)
{
	return h && __atomic_load_n(&h->used, __ATOMIC_ACQUIRE) != 0;
}

void holds_listed(struct holds *h, const char *path, pid_t pid)
{
	size_t n = top_len(path);
	struct listed *slot = NULL;
	double now;

	if (!h || !n || !pid)
		return;
	now = mono_now();
	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < LISTED_MAX; i++) {
		struct listed *l = &h->l[i];

		if (l->dir && l->pid == pid && strlen(l->dir) == n &&
		    !strncmp(l->dir, path, n)) {
			slot = l;
			break;
		}
		if (!slot || (slot->dir && (!l->dir || l->at < slot->at)))
			slot = l;
	}
	if (slot->dir && slot->pid == pid && strlen(slot->dir) == n &&
	    !strncmp(slot->dir, path, n)) {
		slot->at = now;
	} else {
		char *dir = strndup(path, n);

		if (dir) {
			free(slot->dir);
			*slot = (struct listed){ dir, pid, now };
		}
	}
	pthread_mutex_unlock(&h->lock);
}

/* Whether @pid listed object folder @dir (or in it) lately. */
static bool has_listed(struct holds *h, const char *dir, pid_t pid)
{
	double now = mono_now();
	bool yes = false;

	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < LISTED_MAX && !yes; i++)
		yes = h->l[i].dir && h->l[i].pid == pid &&
		      now - h->l[i].at <= HOLDS_LISTED_S &&
		      !strcmp(h->l[i].dir, dir);
	pthread_mutex_unlock(&h->lock);
	return yes && !ended(pid);
}

/* Whether removing this link is a groupUpdate of a group whose members
 * the API will not change (synced from an identity provider, or the
 * system group): never held, sent at once to be refused there. */
static bool refused_membership(struct tgfs *fs, const struct node *n,
			       const struct tg_op *op)
{
	const struct tg_rel *r = &n->kind->rels[n->rel_index];
	char path[TGFS_NAME_MAX * 2 + 16];
	const struct tg_object *g = NULL;
	struct node t;
	bool resolved = false, refused = false;
	int ti;

	if (strncmp(op->call, "groupUpdate(", 12) != 0)
		return false;
	if (strstr(op->call, "id: $id")) {
		g = n->obj;
	} else if (snprintf(path, sizeof(path), "/%s/%s", r->target,
			    n->target[0] ? strrchr(n->target, '/') + 1 : "") <
			   (int)sizeof(path) &&
		   node_resolve(fs, path, &t) == 0) {
		resolved = true;
		if (t.type == NODE_OBJECT && !t.draft)
			g = t.obj;
	}
	ti = g ? tg_field_index(g->kind, "type") : -1;
	if (ti >= 0) {
		char *buf = NULL;
		const char *v = tg_object_value(g, (size_t)ti, &buf);

		refused = v && (!strncasecmp(v, "synced", 6) ||
				!strncasecmp(v, "system", 6));
		free(buf);
	}
	if (resolved)
		node_release(&t);
	return refused;
}

int holds_take(struct tgfs *fs, const char *path, const struct node *n,
	       const char *tid, pid_t pid)
{
	struct holds *h = fs->holds;
	const struct tg_rel *r;
	const char *base = strrchr(path, '/');
	size_t len = top_len(path);
	struct hold x = { 0 };
	char dir[4096];

	if (!h || n->draft || n->type != NODE_LINK || n->rel_index < 0 ||
	    !tid || !*tid || !len || len >= sizeof(dir) || fs->cfg->read_only)
		return -ENOTSUP;
	r = &n->kind->rels[n->rel_index];
	if (!r->many || !r->remove)
		return -ENOTSUP;
	memcpy(dir, path, len);
	dir[len] = '\0';
	if (!has_listed(h, dir, pid) || refused_membership(fs, n, r->remove))
		return -ENOTSUP;
	x = (struct hold){ strdup(dir), strdup(path), strdup(base + 1),
			   strdup(n->obj->id), strdup(tid), n->kind,
			   (size_t)n->rel_index, pid, mono_now(), false };
	pthread_mutex_lock(&h->lock);
	if (x.dir && x.path && x.name && x.oid && x.tid &&
	    h->n < HOLDS_MAX && h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 16;
		struct hold *v = realloc(h->v, cap * sizeof(*v));

		if (v) {
			h->v = v;
			h->cap = cap;
		}
	}
	if (!x.dir || !x.path || !x.name || !x.oid || !x.tid ||
	    h->n >= HOLDS_MAX || h->n == h->cap) {
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
	/* Gone from listings now: the kernel drops what it holds of it. */
	wr_dirname_of(path, dir, sizeof(dir));
	inval_path(fs, dir);
	inval_path(fs, path);
	tgfs_folders_changed(fs);
	return 0;
}

bool holds_hidden(struct holds *h, const char *oid, size_t rel,
		  const char *name)
{
	bool yes = false;

	if (!holds_any(h))
		return false;
	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < h->n && !yes; i++)
		yes = h->v[i].rel == rel && !strcmp(h->v[i].name, name) &&
		      !strcmp(h->v[i].oid, oid);
	pthread_mutex_unlock(&h->lock);
	return yes;
}

/* Takes out the holds of @dir marked sending (the lock held), and tells
 * the kernel their folders changed (after). */
static void take_out(struct holds *h, const char *dir)
{
	size_t j = 0;

	for (size_t i = 0; i < h->n; i++) {
		if (h->v[i].sending && !strcmp(h->v[i].dir, dir))
			hold_free(&h->v[i]);
		else
			h->v[j++] = h->v[i];
	}
	h->n = j;
	recount(h);
}

/* @pid is told EIO at its next request. */
static void owe(struct holds *h, pid_t pid)
{
	if (ended(pid))
		return;
	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < OWED_MAX; i++)
		if (!h->owed[i] || h->owed[i] == pid) {
			h->owed[i] = pid;
			break;
		}
	recount(h);
	pthread_mutex_unlock(&h->lock);
}

/* Sends one call of @op for the targets @tids (@nt of them) of object
 * @oid; the result taken as rel_change takes it (links.c). */
static int send_call(struct tgfs *fs, const struct tg_kind *k,
		     const struct tg_rel *r, const struct tg_object *obj,
		     const char *oid, char **tids, size_t nt,
		     const char *where)
{
	const struct tg_kind *holder =
		r->path ? k : tg_kind_by_dir(NULL, r->target);
	struct tg_vars vars = { .id = oid, .t = tids[0], .obj = obj,
				.idempotent = true };
	struct tg_op list = *r->remove;
	struct tg_result res = { 0 };
	char call[512], *json = NULL;
	const char *at;
	enum tg_err err;

	if (nt > 1) {
		/* "removedUserIds: [$t]" takes them all: "... $v" */
		size_t need = 3, len;

		at = strstr(r->remove->call, "[$t]");
		for (size_t i = 0; i < nt; i++)
			need += strlen(tids[i]) + 3;
		if (!at || strlen(r->remove->call) >= sizeof(call) ||
		    !(json = malloc(need)))
			return -ENOMEM;
		len = (size_t)sprintf(json, "[");
		for (size_t i = 0; i < nt; i++)
			len += (size_t)sprintf(json + len, "%s\"%s\"",
					       i ? "," : "", tids[i]);
		strcpy(json + len, "]");
		snprintf(call, sizeof(call), "%.*s$v%s",
			 (int)(at - r->remove->call), r->remove->call,
			 at + strlen("[$t]"));
		list.call = call;
		list.vtype = "[ID!]!";
		vars.t = NULL;
		vars.v_json = json;
	}
	err = tg_api_mutate(fs->api, &list, &vars, &res);
	free(json);
	if (err != TG_OK)
		return wr_failed(fs, where, err);
	if (res.entity.kind == holder)
		wr_take_result(fs, &res, holder);
	else
		cache_apply(fs, holder, NULL, NULL);
	tg_result_release(&res);
	return 0;
}

/*
 * Sends the holds of object folder @dir: for each relation, one call
 * with every target where the call takes a list, else one a target.
 * Then the holds go (sent: the cache has the change; failed: the links
 * show again).  On a failure, -EIO when the holds were @requester's
 * (0: none); else their remover is owed an EIO, before any request of
 * its can pass (send_lock); 0 otherwise.
 */
static int send_dir(struct tgfs *fs, const char *dir, pid_t requester)
{
	pid_t who = 0;

	struct holds *h = fs->holds;
	struct hold *mine = NULL;
	size_t m = 0;
	struct node n;
	bool have = false;
	int rc = 0;

	pthread_mutex_lock(&h->send_lock);
	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < h->n; i++)
		if (!h->v[i].sending && !strcmp(h->v[i].dir, dir))
			m++;
	mine = m ? calloc(m, sizeof(*mine)) : NULL;
	m = 0;
	for (size_t i = 0; mine && i < h->n; i++)
		if (!h->v[i].sending && !strcmp(h->v[i].dir, dir)) {
			h->v[i].sending = true;
			mine[m++] = h->v[i]; /* borrowed: the store frees */
		}
	pthread_mutex_unlock(&h->lock);
	if (!m)
		goto out;
	/* The object, for a call its concrete type picks. */
	if (node_resolve(fs, dir, &n) == 0) {
		have = true;
		if (n.type != NODE_OBJECT || n.draft || !n.obj->id ||
		    strcmp(n.obj->id, mine[0].oid))
			have = false, node_release(&n);
	}
	for (size_t i = 0; i < m; i++) {
		const struct tg_rel *r;
		char **tids, where[4096];
		size_t nt = 0;
		bool list;
		int one;

		if (!mine[i].tid)
			continue; /* done with an earlier one */
		r = &mine[i].kind->rels[mine[i].rel];
		list = strstr(r->remove->call, "[$t]") != NULL;
		tids = calloc(m, sizeof(*tids));
		if (!tids) {
			rc = rc ? rc : -ENOMEM;
			who = mine[i].pid;
			break;
		}
		for (size_t j = i; j < m; j++)
			if (mine[j].tid && mine[j].rel == mine[i].rel &&
			    (list || j == i)) {
				tids[nt++] = mine[j].tid;
				if (j != i)
					mine[j].tid = NULL;
			}
		wr_dirname_of(mine[i].path, where, sizeof(where));
		one = send_call(fs, mine[i].kind, r,
				have && r->path ? n.obj : NULL, mine[i].oid,
				tids, nt, where);
		mine[i].tid = NULL;
		free(tids);
		if (one && !rc) {
			rc = one;
			who = mine[i].pid;
		}
	}
	if (have)
		node_release(&n);
	pthread_mutex_lock(&h->lock);
	take_out(h, dir);
	pthread_mutex_unlock(&h->lock);
	tgfs_folders_changed(fs);
	if (rc && requester && who == requester)
		rc = -EIO;
	else if (rc)
		owe(h, who), rc = 0;
out:
	free(mine);
	pthread_mutex_unlock(&h->send_lock);
	return rc;
}

/*
 * Sends the holds that are due: every one when @all; those whose remover
 * ended or that are HOLDS_BOUND_S old; and for a request of @pid on
 * @path (not NULL), @pid's own outside @path's way, and anyone's in it.
 * 0, or -EIO when a send of @pid's own failed.
 */
static int sweep(struct tgfs *fs, const char *path, pid_t pid, bool all)
{
	struct holds *h = fs->holds;
	char **dirs = NULL;
	size_t nd = 0;
	double now = mono_now();
	int rc = 0;

	pthread_mutex_lock(&h->lock);
	dirs = h->n ? calloc(h->n, sizeof(*dirs)) : NULL;
	for (size_t i = 0; dirs && i < h->n; i++) {
		const struct hold *x = &h->v[i];
		bool due = all || now - x->at >= HOLDS_BOUND_S ||
			   ended(x->pid) ||
			   (path && (x->pid == pid ? !on_way(path, x->dir)
						   : within(path, x->dir)));
		bool seen = false;

		for (size_t j = 0; j < nd && !seen; j++)
			seen = !strcmp(dirs[j], x->dir);
		if (due && !x->sending && !seen &&
		    (dirs[nd] = strdup(x->dir)))
			nd++;
	}
	pthread_mutex_unlock(&h->lock);
	for (size_t i = 0; i < nd; i++) {
		if (send_dir(fs, dirs[i], path ? pid : 0))
			rc = -EIO;
		free(dirs[i]);
	}
	free(dirs);
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

int holds_request(struct tgfs *fs, const char *path, pid_t pid)
{
	struct holds *h = fs->holds;
	bool sending = false;
	int rc;

	if (!holds_any(h) || !path)
		return 0;
	if (take_owed(h, pid, &sending))
		return -EIO;
	rc = sweep(fs, path, pid, false);
	if (rc || !sending)
		return rc;
	/* Its removals are being sent (the store's thread): it hears how
	 * that went before it goes on. */
	pthread_mutex_lock(&h->send_lock);
	pthread_mutex_unlock(&h->send_lock);
	return take_owed(h, pid, NULL) ? -EIO : 0;
}

void holds_drop(struct tgfs *fs, const char *dir)
{
	struct holds *h = fs->holds;

	if (!holds_any(h))
		return;
	/* A send under way ends first: what it sent stands. */
	pthread_mutex_lock(&h->send_lock);
	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < h->n; i++)
		if (!strcmp(h->v[i].dir, dir))
			h->v[i].sending = true;
	take_out(h, dir);
	pthread_mutex_unlock(&h->lock);
	pthread_mutex_unlock(&h->send_lock);
}

bool holds_cancel(struct tgfs *fs, const char *oid, size_t rel,
		  const char *name)
{
	struct holds *h = fs->holds;
	bool was = false;
	size_t j = 0;

	if (!holds_any(h))
		return false;
	pthread_mutex_lock(&h->send_lock);
	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < h->n; i++) {
		struct hold *x = &h->v[i];

		if (x->rel == rel && !strcmp(x->name, name) &&
		    !strcmp(x->oid, oid)) {
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
		tgfs_folders_changed(fs);
	return was;
}

/* The store's thread: sends what its removers' ends or the bound make
 * due, looking every HOLDS_TICK_S while anything is held. */
static void *holds_main(void *arg)
{
	struct holds *h = arg;
	struct tg_call call;

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
		/* A user call of its own: the sends end within `timeout`. */
		tg_call_start(&call, &h->fs->cfg->api);
		sweep(h->fs, NULL, 0, false);
		tg_call_finish();
		pthread_mutex_lock(&h->lock);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

struct holds *holds_new(struct tgfs *fs)
{
	struct holds *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->fs = fs;
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->send_lock, NULL);
	pthread_cond_init(&h->wake, NULL);
	return h;
}

void holds_free(struct holds *h)
{
	struct tg_call call;

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
	if (h->n) {
		tg_call_start(&call, &h->fs->cfg->api);
		sweep(h->fs, NULL, 0, true);
		tg_call_finish();
	}
	for (size_t i = 0; i < h->n; i++)
		hold_free(&h->v[i]);
	free(h->v);
	for (size_t i = 0; i < LISTED_MAX; i++)
		free(h->l[i].dir);
	pthread_mutex_destroy(&h->lock);
	pthread_mutex_destroy(&h->send_lock);
	pthread_cond_destroy(&h->wake);
	free(h);
}
