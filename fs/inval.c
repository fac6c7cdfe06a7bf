/*
 * inval.c - telling the kernel to forget what it holds (inval.h), from a
 * thread of ours, never inside the operation that caused it (the kernel
 * would wait on that operation's locks).  Notes are numbered as queued;
 * inval_wait waits for the number it saw to be done.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inval.h"

struct inval_item {
	enum inval_kind kind;
	uint64_t parent;
	struct inodes_key key; /* INVAL_KEYED */
	unsigned what;
	char *s;    /* the path, the id, or the entry's name */
	char *name; /* an object's name now, or NULL */
	struct inval_item *next;
};

struct inval_queue {
	void (*inval)(void *arg, const struct inval_note *n);
	void *arg;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cv, done_cv;
	struct inval_item *head, *tail;
	uint64_t queued, done; /* notes queued, and done, since the start */
	bool stop;
};

static void item_free(struct inval_item *it)
{
	free(it->s);
	free(it->name);
	free(it);
}

static void *inval_main(void *arg)
{
	struct inval_queue *q = arg;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		struct inval_item *it;
		struct inval_note n;

		while (!q->head && !q->stop)
			pthread_cond_wait(&q->cv, &q->lock);
		if (!q->head)
			break;
		it = q->head;
		q->head = it->next;
		if (!q->head)
			q->tail = NULL;
		pthread_mutex_unlock(&q->lock);
		n = (struct inval_note){
			.kind = it->kind,
			.path = it->kind == INVAL_PATH || it->kind == INVAL_NAME
					? it->s
					: NULL,
			.id = it->kind == INVAL_OBJECT ||
					      it->kind == INVAL_KEYED
				      ? it->s
				      : NULL,
			.name = it->kind == INVAL_ENTRY ? it->s : it->name,
			.parent = it->parent,
			.key = it->key,
			.what = it->what,
		};
		q->inval(q->arg, &n);
		item_free(it);
		pthread_mutex_lock(&q->lock);
		q->done++;
		pthread_cond_broadcast(&q->done_cv);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

struct inval_queue *inval_start(void (*inval)(void *arg,
					      const struct inval_note *n),
				void *arg)
{
	struct inval_queue *q = calloc(1, sizeof(*q));
	pthread_condattr_t ca;
	sigset_t all, old;

	if (!q)
		return NULL;
	q->inval = inval;
	q->arg = arg;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cv, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->done_cv, &ca);
	pthread_condattr_destroy(&ca);
	/* Signals stay with the threads FUSE made for them. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&q->thread, NULL, inval_main, q) != 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		pthread_cond_destroy(&q->done_cv);
		pthread_cond_destroy(&q->cv);
		pthread_mutex_destroy(&q->lock);
		free(q);
		return NULL;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return q;
}

void inval_stop(struct inval_queue *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->stop = true;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL);
	while (q->head) {
		struct inval_item *it = q->head;

		q->head = it->next;
		item_free(it);
	}
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cv);
	pthread_cond_destroy(&q->done_cv);
	free(q);
}

/* Queues a note with copies of @s and @name (either may be NULL). */
static void push_keyed(struct tgfs *fs, enum inval_kind kind,
		       uint64_t parent, const char *s, const char *name,
		       struct inodes_key key, unsigned what)
{
	struct inval_queue *q = fs->inval;
	struct inval_item *it;

	if (!q)
		return;
	it = calloc(1, sizeof(*it));
	if (!it)
		return;
	it->kind = kind;
	it->parent = parent;
	it->key = key;
	it->what = what;
	if ((s && !(it->s = strdup(s))) || (name && !(it->name = strdup(name)))) {
		item_free(it);
		return;
	}
	pthread_mutex_lock(&q->lock);
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->queued++;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->lock);
}

static void push(struct tgfs *fs, enum inval_kind kind, uint64_t parent,
		 const char *s, const char *name)
{
	push_keyed(fs, kind, parent, s, name, (struct inodes_key){ 0 }, 0);
}

void inval_path(struct tgfs *fs, const char *path)
{
	push(fs, INVAL_PATH, 0, path, NULL);
}

void inval_object(struct tgfs *fs, const char *id, const char *name)
{
	if (id && *id)
		push(fs, INVAL_OBJECT, 0, id, name);
}

void inval_entry(struct tgfs *fs, uint64_t parent, const char *name)
{
	push(fs, INVAL_ENTRY, parent, name, NULL);
}

void inval_name(struct tgfs *fs, const char *path)
{
	push(fs, INVAL_NAME, 0, path, NULL);
}

void inval_keyed(struct tgfs *fs, const char *id, struct inodes_key key,
		 unsigned what, const char *name)
{
	if (id && *id && key.set)
		push_keyed(fs, INVAL_KEYED, 0, id, name, key, what);
}

void inval_names(struct tgfs *fs)
{
	push(fs, INVAL_NAMES, 0, NULL, NULL);
}

bool inval_wait(struct tgfs *fs, unsigned ms)
{
	struct inval_queue *q = fs->inval;
	struct timespec until;
	uint64_t want;
	int rc = 0;

	if (!q)
		return true;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&q->lock);
	want = q->queued;
	while (q->done < want && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&q->done_cv, &q->lock, &until);
	rc = q->done >= want;
	pthread_mutex_unlock(&q->lock);
	return rc;
}
