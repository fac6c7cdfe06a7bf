/*
 * inval.c - telling the kernel to forget what it cached of paths
 * (inval.h), from a thread of ours, never inside the operation that
 * caused it (the kernel would wait on that operation's locks).
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inval.h"

struct inval_item {
	char *path;
	struct inval_item *next;
};

struct inval_queue {
	void (*inval)(void *arg, const char *path);
	void *arg;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cv;
	struct inval_item *head, *tail;
	bool stop, busy; /* busy: the thread is telling the kernel */
	pthread_cond_t idle; /* signalled when the queue empties */
};

static void *inval_main(void *arg)
{
	struct inval_queue *q = arg;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		struct inval_item *it;

		while (!q->head && !q->stop) {
			q->busy = false;
			pthread_cond_broadcast(&q->idle);
			pthread_cond_wait(&q->cv, &q->lock);
		}
		if (!q->head)
			break;
		it = q->head;
		q->head = it->next;
		if (!q->head)
			q->tail = NULL;
		q->busy = true;
		pthread_mutex_unlock(&q->lock);
		q->inval(q->arg, it->path);
		free(it->path);
		free(it);
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

struct inval_queue *inval_start(void (*inval)(void *arg, const char *path),
				void *arg)
{
	struct inval_queue *q = calloc(1, sizeof(*q));
	sigset_t all, old;

	if (!q)
		return NULL;
	q->inval = inval;
	q->arg = arg;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cv, NULL);
	pthread_cond_init(&q->idle, NULL);
	/* Signals stay with the threads FUSE made for them. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&q->thread, NULL, inval_main, q) != 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
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
		free(it->path);
		free(it);
	}
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cv);
	pthread_cond_destroy(&q->idle);
	free(q);
}

void inval_path(struct tgfs *fs, const char *path)
{
	struct inval_queue *q = fs->inval;
	struct inval_item *it;

	if (!q)
		return;
	it = calloc(1, sizeof(*it));
	if (!it || !(it->path = strdup(path))) {
		free(it);
		return;
	}
	pthread_mutex_lock(&q->lock);
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->lock);
}

bool inval_wait(struct tgfs *fs, double max_s)
{
	struct inval_queue *q = fs->inval;
	struct timespec ts;
	bool done;

	if (!q)
		return true;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)max_s;
	ts.tv_nsec += (long)((max_s - (double)(time_t)max_s) * 1e9);
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&q->lock);
	while ((q->head || q->busy) && !q->stop)
		if (pthread_cond_timedwait(&q->idle, &q->lock, &ts) != 0)
			break;
	done = !q->head && !q->busy;
	pthread_mutex_unlock(&q->lock);
	return done;
}
